/// A stored token as the store hands it to the core: the secrets only encrypted.
public struct StoredToken: Sendable, Equatable {
    public var accessTokenID: Int64
    public var accessCiphertext: [UInt8]
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds
    public var refreshToken: StoredRefreshToken?

    public init(
        accessTokenID: Int64, accessCiphertext: [UInt8], issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds,
        refreshToken: StoredRefreshToken?
    ) {
        self.accessTokenID = accessTokenID
        self.accessCiphertext = accessCiphertext
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.refreshToken = refreshToken
    }
}

public struct StoredRefreshToken: Sendable, Equatable {
    public var id: Int64
    public var ciphertext: [UInt8]
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds
    /// The original grant every token of this line descends from (RFC 9700 §4.14.2).
    public var familyID: Int64

    public init(
        id: Int64, ciphertext: [UInt8], issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds, familyID: Int64
    ) {
        self.id = id
        self.ciphertext = ciphertext
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.familyID = familyID
    }
}

/// A token's secret as it goes into the database: its SHA-256 for lookup, and the
/// AES-GCM ciphertext so that reuse can hand the same token back. A JWT access
/// token keeps no ciphertext, only the id of the key that signed it.
public struct SealedToken: Sendable, Equatable {
    public var digest: [UInt8]
    public var ciphertext: [UInt8]
    /// The `kid` that signed a JWT access token; `nil` for an opaque token.
    public var signingKeyID: String?

    public init(digest: [UInt8], ciphertext: [UInt8], signingKeyID: String? = nil) {
        self.digest = digest
        self.ciphertext = ciphertext
        self.signingKeyID = signingKeyID
    }
}

/// What an issuance would insert, prepared before the write transaction so the
/// write lock is held only for the SQL.
public struct NewTokenPair: Sendable {
    public var grantType: GrantType
    public var access: SealedToken
    public var issuedAt: EpochMilliseconds
    public var accessExpiresAt: EpochMilliseconds
    public var refresh: SealedToken?
    public var refreshExpiresAt: EpochMilliseconds
    /// The family a new refresh token starts: a new original grant.
    public var familyID: Int64
    /// When the user authenticated for this grant (OpenID Connect's `auth_time`), kept with a
    /// new refresh token and inherited by its rotations, so that the refresh grant's ID token
    /// names the original authentication. `nil` for a client's own tokens.
    public var authTime: EpochMilliseconds?

    public init(
        grantType: GrantType, access: SealedToken, issuedAt: EpochMilliseconds, accessExpiresAt: EpochMilliseconds,
        refresh: SealedToken?, refreshExpiresAt: EpochMilliseconds, familyID: Int64 = NewTokenPair.newFamilyID(),
        authTime: EpochMilliseconds? = nil
    ) {
        self.grantType = grantType
        self.access = access
        self.issuedAt = issuedAt
        self.accessExpiresAt = accessExpiresAt
        self.refresh = refresh
        self.refreshExpiresAt = refreshExpiresAt
        self.familyID = familyID
        self.authTime = authTime
    }

    /// A new family's id: 63 random bits, so that processes sharing a database need no counter.
    public static func newFamilyID() -> Int64 {
        var generator = SecureRandomGenerator()
        return .random(in: 1...Int64.max, using: &generator)
    }
}

/// What the issuance policy decides about the ACTIVE token of a key.
public enum IssuanceDecision: Sendable, Equatable {
    /// Hand the ACTIVE token back unchanged.
    case reuse
    /// Insert the new access token; the ACTIVE one, if any, leaves ACTIVE as `retiring`.
    case issue(retiring: TokenState, refresh: RefreshDisposition)

    /// Renewal: the ACTIVE pair, if any, leaves ACTIVE as `retiring`, and a new pair (with a
    /// new refresh token when the key has them) takes its place.
    public static func renewal(retiring: TokenState, withRefreshToken: Bool) -> IssuanceDecision {
        .issue(retiring: retiring, refresh: withRefreshToken ? .issueNew(retiring: retiring) : .none)
    }
}

public enum RefreshDisposition: Sendable, Equatable {
    /// No refresh token (client_credentials).
    case none
    /// Insert the new refresh token; the old one, if any, leaves ACTIVE as `retiring`.
    case issueNew(retiring: TokenState)
    /// Keep the ACTIVE token's refresh token: same value, issue time and validity.
    case carryOver
}

/// `token list` filters; `nil` matches everything.
public struct TokenFilter: Sendable {
    public var clientID: String?
    public var username: String?
    public var state: TokenState?
    public var limit: Int

    public init(clientID: String? = nil, username: String? = nil, state: TokenState? = nil, limit: Int = 1000) {
        self.clientID = clientID
        self.username = username
        self.state = state
        self.limit = limit
    }
}

/// One access-token row, without any secret.
public struct TokenSummary: Sendable, Equatable {
    public var id: Int64
    public var clientID: String
    public var subject: Subject
    public var scope: String
    public var state: TokenState
    public var grantType: String
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds
    public var refreshTokenID: Int64?

    public init(
        id: Int64, clientID: String, subject: Subject, scope: String, state: TokenState, grantType: String,
        issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds, refreshTokenID: Int64?
    ) {
        self.id = id
        self.clientID = clientID
        self.subject = subject
        self.scope = scope
        self.state = state
        self.grantType = grantType
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.refreshTokenID = refreshTokenID
    }
}
