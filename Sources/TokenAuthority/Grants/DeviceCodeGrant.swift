/// The device's polls of the token endpoint (RFC 8628 §3.4, §3.5): pending, slow down,
/// denied, expired, and once approved, the tokens, exactly once.
public struct DeviceCodeGrant: GrantHandler {
    public let grantType = GrantType.deviceCode
    private let store: any DeviceAuthorizationStore
    private let issuer: TokenIssuer
    private let idTokens: IDTokenMinter
    private let clock: Clock

    public init(store: any DeviceAuthorizationStore, issuer: TokenIssuer, idTokens: IDTokenMinter, clock: Clock) {
        self.store = store
        self.issuer = issuer
        self.idTokens = idTokens
        self.clock = clock
    }

    public func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse {
        let deviceCode = try form.required("device_code")
        switch try await store.pollDeviceAuthorization(
            deviceCodeDigest: TokenCipher.digest(of: deviceCode), clientID: client.clientID, at: clock.now())
        {
        case .pending:
            throw OAuthError(.authorizationPending, "The user has not yet approved the request.")
        case .slowDown(let interval):
            throw OAuthError(.slowDown, "Polling too fast: wait \(interval) seconds between requests.")
        case .denied:
            throw OAuthError(.accessDenied, "The user denied the request.")
        case .expired:
            throw OAuthError(.expiredToken, "The device code has expired; start again.")
        case .invalid:
            throw OAuthError.invalidGrant.with(description: "The device code is invalid or was already used.")
        case .approved(let username, let scope, let authTime):
            let key = TokenKey(
                clientID: client.clientID, subject: .user(username),
                scope: ScopeSet(validated: scope.split(separator: " ").map(String.init)))
            let response = try await issuer.issue(
                for: key, grantType: grantType, format: client.tokenFormat, authTime: authTime)
            return try await idTokens.adding(
                to: response, username: username, clientID: client.clientID, authTime: authTime, nonce: nil)
        }
    }
}
