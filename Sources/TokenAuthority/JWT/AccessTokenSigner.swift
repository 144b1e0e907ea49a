/// The claims of a JWT access token (RFC 9068 §2.2), before signing. The signer
/// adds `iss`; `aud` is the client, as in WSO2 API Manager's JWT access tokens.
public struct AccessTokenClaims: Sendable, Equatable {
    /// `jti`: random, and the only part of the token the database keeps (hashed).
    public var tokenID: String
    /// `client_id`, `sub` (the user, or the client for client_credentials) and `scope`.
    public var key: TokenKey
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds

    public init(tokenID: String, key: TokenKey, issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds) {
        self.tokenID = tokenID
        self.key = key
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// A JWT access token whose signing key is chosen and whose signature is yet to be
/// computed: its row records the key's id, so the row can be written while the
/// signature is computed (`MintedAccessToken.whileWriting`).
public struct UnsignedAccessToken: Sendable {
    /// The `kid` of the key that `sign` signs with.
    public var keyID: String
    /// The token in the compact serialization, signed with that key.
    public var sign: @Sendable () throws -> String

    public init(keyID: String, sign: @escaping @Sendable () throws -> String) {
        self.keyID = keyID
        self.sign = sign
    }
}

/// Signs JWT access tokens with the current signing key, and recognises the
/// tokens it signed. Implemented with jwt-kit by the server.
public protocol AccessTokenSigner: Sendable {
    /// `claims` with the current key chosen, to be signed by that key.
    func prepare(_ claims: AccessTokenClaims) async throws -> UnsignedAccessToken

    /// An OpenID Connect ID token, signed with the same current key.
    func signIDToken(_ claims: IDTokenClaims) async throws -> String

    /// The `jti` of `token` when it is a JWT whose signature verifies with one of
    /// the published keys; `nil` otherwise. Expiry and state are the database's
    /// business, not the signature's.
    func verifiedTokenID(of token: String) async -> String?
}
