/// `POST /oauth2/revoke` without HTTP (RFC 7009). The client authenticates as at
/// the token endpoint; it may revoke only its own tokens.
public struct RevocationEndpoint: Sendable {
    private let authenticator: ClientAuthenticator
    private let tokens: any TokenLookupStore
    private let minter: AccessTokenMinter
    private let clock: Clock

    public init(authenticator: ClientAuthenticator, tokens: any TokenLookupStore, minter: AccessTokenMinter, clock: Clock) {
        self.authenticator = authenticator
        self.minter = minter
        self.tokens = tokens
        self.clock = clock
    }

    /// Returns normally for a revoked, unknown or already revoked token: RFC 7009
    /// §2.2 answers 200 to all three, so a caller learns nothing about other tokens.
    public func handle(form: FormParameters, authorization: String?) async throws {
        try await handle(form: form, credentials: try ClientCredentials.from(authorization: authorization, form: form))
    }

    /// - Parameter credentials: what `ClientCredentials.from` found in the request.
    public func handle(form: FormParameters, credentials: ClientCredentials?) async throws {
        let client = try await authenticator.authenticate(credentials)
        let token = try form.required("token")
        // token_type_hint only orders the lookup; both tables are searched (RFC 7009 §2.1).
        guard let digest = await minter.lookupDigest(of: token) else { return }  // no token of this server
        let outcome = try await tokens.revokeToken(digest: digest, ownedBy: client.clientID, at: clock.now())
        switch outcome {
        case .revoked: TokenMetrics.revoked()
        case .nothingToRevoke: break
        case .otherClient:
            throw OAuthError.unauthorizedClient.with(description: "The token was issued to another client.")
        }
    }
}
