/// A JWT signing key as stored: the private key only sealed under the server key.
public struct SigningKeyRecord: Sendable, Equatable {
    /// RFC 7638 thumbprint: the JWT header's `kid`.
    public var keyID: String
    /// `ES256`.
    public var algorithm: String
    /// The private key's PEM, AES-GCM-sealed by `TokenCipher`.
    public var privateKeySealed: [UInt8]
    /// The public key as `/oauth2/jwks` publishes it (RFC 7517).
    public var publicJWK: String
    public var createdAt: EpochMilliseconds
    /// `nil` for the current signing key.
    public var retiredAt: EpochMilliseconds?
    /// A retired key is published at least until then.
    public var publishUntil: EpochMilliseconds?

    public init(
        keyID: String, algorithm: String, privateKeySealed: [UInt8], publicJWK: String, createdAt: EpochMilliseconds,
        retiredAt: EpochMilliseconds? = nil, publishUntil: EpochMilliseconds? = nil
    ) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.privateKeySealed = privateKeySealed
        self.publicJWK = publicJWK
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        self.publishUntil = publishUntil
    }
}

/// JWT signing keys (README, "How tokens behave": signing keys). Exactly one key is current; a
/// retired key stays published until every token it signed has expired.
public protocol SigningKeyStore: Sendable {
    /// The `kid` of the current signing key; `nil` before the first one.
    func currentSigningKeyID() async throws -> String?

    /// The current key and every retired key still published at `now`: until
    /// its `publishUntil`, and while any unexpired access token names it.
    func publishedSigningKeys(at now: EpochMilliseconds) async throws -> [SigningKeyRecord]

    /// Every key, newest first, for `keys list`.
    func signingKeys() async throws -> [SigningKeyRecord]

    /// Makes `key` the current signing key when there is none; returns the
    /// current key's id afterwards (another process may have won the race).
    func addFirstSigningKey(_ key: SigningKeyRecord) async throws -> String

    /// In one transaction, durably: the current key retires, published until
    /// `publishUntil`, and `key` becomes current (back from retirement if it was
    /// a key of this store already). Nothing changes when `key` is current.
    func makeCurrentSigningKey(_ key: SigningKeyRecord, retiredPublishedUntil publishUntil: EpochMilliseconds)
        async throws
}
