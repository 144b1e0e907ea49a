/// The resource owner password credentials grant (RFC 6749 §4.3).
public struct PasswordGrant: GrantHandler {
    public let grantType = GrantType.password
    private let users: any UserStore
    private let passwordHasher: PasswordHasher
    private let scopePolicy: ScopePolicy
    private let issuer: TokenIssuer

    public init(users: any UserStore, passwordHasher: PasswordHasher, scopePolicy: ScopePolicy, issuer: TokenIssuer) {
        self.users = users
        self.passwordHasher = passwordHasher
        self.scopePolicy = scopePolicy
        self.issuer = issuer
    }

    public func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse {
        let username = try form.required("username")
        let password = try form.required("password")
        let requested = try ScopeSet(parsing: form["scope"])
        let user = try await users.user(named: username)
        // An unknown user costs the same KDF run as a wrong password, so the
        // response time does not tell which usernames exist.
        let verified = await passwordHasher.verify(password, against: user?.passwordHash ?? passwordHasher.decoyHash)
        guard let user, verified else {
            throw OAuthError.authenticationFailed(for: username)
        }
        let scope = scopePolicy.grantedScope(requested: requested, clientScopes: client.scopes)
        let key = TokenKey(clientID: client.clientID, subject: .user(user.username), scope: scope)
        return try await issuer.issue(for: key, grantType: grantType, format: client.tokenFormat)
    }
}
