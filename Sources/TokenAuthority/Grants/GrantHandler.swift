/// One grant type of the token endpoint (RFC 6749 §4), one file each.
public protocol GrantHandler: Sendable {
    var grantType: GrantType { get }
    /// Handles a request whose client is already authenticated and allowed this grant.
    func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse
}
