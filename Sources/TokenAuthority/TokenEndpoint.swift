/// `POST /oauth2/token` without HTTP: the checks of SPEC §4 in their order.
/// The form itself (content type, size, encoding, repeats) is checked by the
/// caller before this runs; then client authentication, then `grant_type`, then
/// the grant's own parameters.
public struct TokenEndpoint: Sendable {
    private let authenticator: ClientAuthenticator
    private let grants: [GrantType: any GrantHandler]

    public init(authenticator: ClientAuthenticator, grants: [any GrantHandler]) {
        self.authenticator = authenticator
        self.grants = Dictionary(grants.map { ($0.grantType, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func handle(form: FormParameters, authorization: String?) async throws -> TokenResponse {
        let credentials = try ClientCredentials.from(authorization: authorization, form: form)
        let client = try await authenticator.authenticate(credentials)
        let grantName = try form.required("grant_type")
        guard let grantType = GrantType(rawValue: grantName), let grant = grants[grantType] else {
            throw OAuthError.unsupportedGrantType.with(
                description: "Unsupported grant type: \(FormParameters.printable(grantName))")
        }
        guard client.grantTypes.contains(grantType) else {
            throw OAuthError.unauthorizedClient.with(
                description: "The client is not authorized to use the \(grantType.rawValue) grant type.")
        }
        return try await grant.handle(form, client: client)
    }
}
