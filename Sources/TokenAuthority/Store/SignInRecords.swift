/// What browser sign-in keeps in the database (docs/browser-sign-in.md): the
/// sessions of the login page and the authorization codes (RFC 6749 §4.1). Both
/// live in the database, so every instance sees every session and a code is
/// redeemed at most once whichever instance is asked.
public protocol SignInStore: Sendable {
    func createSession(_ session: NewSession) async throws
    /// The session whose cookie hashes to `digest`, unless it ended or expired by `now`.
    func liveSession(digest: [UInt8], at now: EpochMilliseconds) async throws -> SessionRecord?
    /// Ends the session (logout); false when there was no live one.
    func endSession(digest: [UInt8], at now: EpochMilliseconds) async throws -> Bool

    func createAuthorizationCode(_ code: NewAuthorizationCode) async throws
    /// Redeems the code in one write transaction, so that of simultaneous exchanges
    /// exactly one wins. A code already redeemed is a replay: it is marked so and the
    /// token family its exchange handed out is revoked, durably (RFC 6749 §4.1.2).
    func redeemAuthorizationCode(digest: [UInt8], clientID: String, at now: EpochMilliseconds) async throws
        -> CodeRedemption
    /// Records the token family the exchange of a redeemed code handed out; when the
    /// code was replayed in the meantime, revokes that family at once.
    func recordAuthorizationCodeFamily(digest: [UInt8], familyID: Int64, at now: EpochMilliseconds) async throws
}

/// A session as the login page opens it.
public struct NewSession: Sendable, Equatable {
    /// SHA-256 of the cookie's value.
    public var digest: [UInt8]
    public var username: String
    /// When the user entered the password (OpenID Connect's `auth_time`).
    public var authTime: EpochMilliseconds
    public var createdAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds

    public init(
        digest: [UInt8], username: String, authTime: EpochMilliseconds, createdAt: EpochMilliseconds,
        expiresAt: EpochMilliseconds
    ) {
        self.digest = digest
        self.username = username
        self.authTime = authTime
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A live session.
public struct SessionRecord: Sendable, Equatable {
    public var username: String
    public var authTime: EpochMilliseconds
    public var expiresAt: EpochMilliseconds

    public init(username: String, authTime: EpochMilliseconds, expiresAt: EpochMilliseconds) {
        self.username = username
        self.authTime = authTime
        self.expiresAt = expiresAt
    }
}

/// An authorization code as the authorization endpoint grants it, bound to
/// everything its exchange must match.
public struct NewAuthorizationCode: Sendable, Equatable {
    /// SHA-256 of the code.
    public var digest: [UInt8]
    public var grant: AuthorizationCodeGrantRecord
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds

    public init(
        digest: [UInt8], grant: AuthorizationCodeGrantRecord, issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds
    ) {
        self.digest = digest
        self.grant = grant
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// What a code stands for: who signed in, for which client, scope and redirect
/// URI, with which PKCE challenge and OpenID Connect nonce.
public struct AuthorizationCodeGrantRecord: Sendable, Equatable {
    public var clientID: String
    public var username: String
    public var redirectURI: String
    /// Whether the authorization request named `redirectURI`, rather than leaving it out as
    /// the client's one registered URI: then the exchange must name it too (RFC 6749 §4.1.3).
    public var redirectURIWasNamed: Bool
    /// The canonical scope string (`ScopeSet.description`).
    public var scope: String
    /// RFC 7636 `S256` challenge; `nil` when a confidential client sent none.
    public var codeChallenge: String?
    public var nonce: String?
    public var authTime: EpochMilliseconds

    public init(
        clientID: String, username: String, redirectURI: String, redirectURIWasNamed: Bool, scope: String,
        codeChallenge: String?, nonce: String?, authTime: EpochMilliseconds
    ) {
        self.clientID = clientID
        self.username = username
        self.redirectURI = redirectURI
        self.redirectURIWasNamed = redirectURIWasNamed
        self.scope = scope
        self.codeChallenge = codeChallenge
        self.nonce = nonce
        self.authTime = authTime
    }
}

/// The outcome of presenting a code at the token endpoint.
public enum CodeRedemption: Sendable, Equatable {
    /// Redeemed now, for the first time: issue the tokens.
    case redeemed(AuthorizationCodeGrantRecord)
    /// Redeemed before: refused, and its tokens revoked.
    case replayed
    /// Past its 60 s: refused, and left as it was.
    case expired
    /// No such code, or another client's: refused, nothing changed.
    case unknown
}
