/// A presented refresh token's row, whatever its state: what the refresh grant decides on.
public struct PresentedRefreshToken: Sendable, Equatable {
    public var id: Int64
    public var clientID: String
    public var subject: Subject
    public var scope: ScopeSet
    public var state: TokenState
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds
    public var familyID: Int64
    /// When the user authenticated for the original grant; `nil` for a token issued before
    /// the store kept it.
    public var authTime: EpochMilliseconds?

    public init(
        id: Int64, clientID: String, subject: Subject, scope: ScopeSet, state: TokenState, issuedAt: EpochMilliseconds,
        expiresAt: EpochMilliseconds, familyID: Int64, authTime: EpochMilliseconds? = nil
    ) {
        self.id = id
        self.clientID = clientID
        self.subject = subject
        self.scope = scope
        self.state = state
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.familyID = familyID
        self.authTime = authTime
    }
}

/// What the refresh grant decides about a presented refresh token.
public enum RefreshDecision: Sendable, Equatable {
    /// Answer with this error; nothing changes.
    case refuse(OAuthError)
    /// The token was already rotated away: revoke its whole family, durably, and refuse.
    case replay(familyID: Int64)
    /// Issue a new access token (and, per the plan, a new refresh token).
    case rotate(RefreshRotation)
}

/// The writes of a successful refresh (RFC 6749 §6, WSO2's renewal keys).
public struct RefreshRotation: Sendable, Equatable {
    /// The key of the new token: the original scope, or the narrowed one.
    public var key: TokenKey
    public var access: SealedToken
    public var issuedAt: EpochMilliseconds
    public var accessExpiresAt: EpochMilliseconds
    public var refresh: RefreshRenewal

    public init(
        key: TokenKey, access: SealedToken, issuedAt: EpochMilliseconds, accessExpiresAt: EpochMilliseconds,
        refresh: RefreshRenewal
    ) {
        self.key = key
        self.access = access
        self.issuedAt = issuedAt
        self.accessExpiresAt = accessExpiresAt
        self.refresh = refresh
    }
}

public enum RefreshRenewal: Sendable, Equatable {
    /// `renew_refresh_token = false`: the presented refresh token stays.
    case keep
    /// Rotation: the presented one becomes INACTIVE and this one takes over.
    case replace(SealedToken, issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds)
}

public enum RefreshOutcome: Sendable, Equatable {
    case refused(OAuthError)
    /// A replay was detected and the family revoked.
    case replayed
    /// The new token; the key it was granted on (the original scope or the narrowed one);
    /// and when the user authenticated for the original grant, if the store knows.
    case rotated(StoredToken, key: TokenKey, authTime: EpochMilliseconds?)
}

public protocol RefreshTokenStore: Sendable {
    /// In one write transaction: reads the refresh token with this SHA-256 digest
    /// (any state), asks `decide`, and applies the decision. A detected replay's
    /// family revocation is committed durably before this returns. `decide` is pure
    /// and may be asked more than once: a store may ask it on a read without a lock,
    /// answer a refusal decided there (it writes nothing), and apply a rotation only if
    /// the token is still ACTIVE when it writes, which decides the same (docs/storage.md,
    /// "PostgreSQL").
    func refresh(
        digest: [UInt8], at now: EpochMilliseconds,
        decide: @escaping @Sendable (PresentedRefreshToken?) -> RefreshDecision
    ) async throws -> RefreshOutcome
}
