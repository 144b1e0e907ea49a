/// The resource owner password credentials grant (RFC 6749 §4.3).
public struct PasswordGrant: GrantHandler {
    public let grantType = GrantType.password
    private let users: UserAuthenticator
    private let scopePolicy: ScopePolicy
    private let issuer: TokenIssuer

    public init(users: UserAuthenticator, scopePolicy: ScopePolicy, issuer: TokenIssuer) {
        self.users = users
        self.scopePolicy = scopePolicy
        self.issuer = issuer
    }

    public func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse {
        let username = try form.required("username")
        let password = try form.required("password")
        let requested = try ScopeSet(parsing: form["scope"])
        // A wrong password, an unknown user and a locked account answer alike.
        guard let user = try await users.authenticate(username: username, password: password) else {
            throw OAuthError.authenticationFailed(for: username)
        }
        let scope = scopePolicy.grantedScope(requested: requested, clientScopes: client.scopes)
        let key = TokenKey(clientID: client.clientID, subject: .user(user.username), scope: scope)
        return try await issuer.issue(for: key, grantType: grantType, format: client.tokenFormat)
    }
}
