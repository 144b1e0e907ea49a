/// The client credentials grant (RFC 6749 §4.4): the client is the subject, and
/// no refresh token is issued (§4.4.3).
public struct ClientCredentialsGrant: GrantHandler {
    public let grantType = GrantType.clientCredentials
    private let scopePolicy: ScopePolicy
    private let issuer: TokenIssuer

    public init(scopePolicy: ScopePolicy, issuer: TokenIssuer) {
        self.scopePolicy = scopePolicy
        self.issuer = issuer
    }

    public func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse {
        let requested = try ScopeSet(parsing: form["scope"])
        let scope = scopePolicy.grantedScope(requested: requested, clientScopes: client.scopes)
        let key = TokenKey(clientID: client.clientID, subject: .client(client.clientID), scope: scope)
        return try await issuer.issue(for: key, grantType: grantType, format: client.tokenFormat)
    }
}
