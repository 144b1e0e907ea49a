/// `POST /oauth2/token` without HTTP: the checks of docs/token-endpoint.md in their order.
/// The form itself (content type, size, encoding, repeats) is checked by the
/// caller before this runs; then client authentication, then `grant_type`, then
/// the grant's own parameters.
public struct TokenEndpoint: Sendable {
    private let authenticator: ClientAuthenticator
    private let grants: [GrantType: any GrantHandler]
    private let clientLimiter: ClientRateLimiter?

    public init(authenticator: ClientAuthenticator, grants: [any GrantHandler], clientLimiter: ClientRateLimiter? = nil) {
        self.authenticator = authenticator
        self.clientLimiter = clientLimiter
        self.grants = Dictionary(grants.map { ($0.grantType, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func handle(form: FormParameters, authorization: String?) async throws -> TokenResponse {
        try await handle(form: form, credentials: try ClientCredentials.from(authorization: authorization, form: form))
    }

    /// - Parameter credentials: what `ClientCredentials.from` found in the request.
    public func handle(form: FormParameters, credentials: ClientCredentials?) async throws -> TokenResponse {
        let client = try await authenticator.authenticate(credentials)
        try clientLimiter?.admit(client.clientID)
        let grantName = try form.required("grant_type")
        guard let grantType = GrantType(rawValue: grantName), let grant = grants[grantType] else {
            throw OAuthError.unsupportedGrantType.with(
                description: "Unsupported grant type: \(FormParameters.printable(grantName))")
        }
        guard client.grantTypes.contains(grantType) else {
            throw OAuthError.unauthorizedClient.with(
                description: "The client is not authorized to use the \(grantType.rawValue) grant type.")
        }
        do {
            return try await grant.handle(form, client: client)
        } catch StoreError.ownerGone {
            // The client, or the user, was deleted by another process after it was
            // authenticated (ClientCache serves a copy until it next reads the version).
            guard try await authenticator.isStillRegistered(client.clientID) else { throw OAuthError.invalidClient }
            throw OAuthError.invalidGrant.with(description: "The user no longer exists.")
        }
    }
}
