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
        guard let digest = await minter.lookupDigest(of: token) else { return }  // no token of this server
        // A plain read first, which may be answered from memory (docs/storage.md, "Reads
        // answered from memory"). What it finds unknown, another client's or no longer
        // ACTIVE stays so: a token's client never changes and no state leads back to
        // ACTIVE. Those answers need no write; only an ACTIVE token, or a refresh token
        // rotated away, whose family may have ACTIVE tokens (RFC 7009 §2.1: revoking a
        // refresh token ends its grant), goes to the store's write transaction, which reads
        // the row again and decides on what it finds there.
        // token_type_hint only orders the lookup; both tables are searched (RFC 7009 §2.1).
        let hint = form["token_type_hint"].flatMap(TokenKind.init(rawValue:))
        guard let seen = try await tokens.findToken(digest: digest, preferring: hint) else { return }
        guard seen.clientID.sameBytes(as: client.clientID) else { throw Self.otherClient }
        guard seen.state == .active || (seen.kind == .refreshToken && seen.state == .inactive) else { return }
        let outcome = try await tokens.revokeToken(digest: digest, ownedBy: client.clientID, at: clock.now())
        switch outcome {
        case .revoked: TokenMetrics.revoked()
        case .nothingToRevoke: break
        case .otherClient: throw Self.otherClient
        }
    }

    private static let otherClient = OAuthError.unauthorizedClient.with(description: "The token was issued to another client.")
}
