/// The resource owner password credentials grant (RFC 6749 §4.3).
public struct PasswordGrant: GrantHandler {
    public let grantType = GrantType.password
    private let users: UserAuthenticator
    private let scopePolicy: ScopePolicy
    private let issuer: TokenIssuer
    private let idTokens: IDTokenMinter
    private let clock: Clock

    public init(
        users: UserAuthenticator, scopePolicy: ScopePolicy, issuer: TokenIssuer, idTokens: IDTokenMinter, clock: Clock
    ) {
        self.users = users
        self.scopePolicy = scopePolicy
        self.issuer = issuer
        self.idTokens = idTokens
        self.clock = clock
    }

    public func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse {
        let username = try form.required("username")
        let password = try form.required("password")
        let requested = try ScopeSet(parsing: form["scope"])
        // A wrong password, an unknown user and a locked account answer alike.
        guard let user = try await users.authenticate(username: username, password: password) else {
            throw OAuthError.authenticationFailed(for: username)
        }
        // The user authenticated just now, with the password.
        let authTime = clock.now()
        let scope = scopePolicy.grantedScope(requested: requested, clientScopes: client.scopes)
        let key = TokenKey(clientID: client.clientID, subject: .user(user.username), scope: scope)
        let response = try await issuer.issue(
            for: key, grantType: grantType, format: client.tokenFormat, authTime: authTime)
        // As WSO2 Identity Server does, `openid` gets an ID token here too.
        return try await idTokens.adding(
            to: response, username: user.username, clientID: client.clientID, authTime: authTime, nonce: nil)
    }
}
