/// The grant types this server knows (RFC 6749 §4.1, §4.3, §4.4, §6).
public enum GrantType: String, Sendable, CaseIterable, Hashable {
    case authorizationCode = "authorization_code"
    case password
    case clientCredentials = "client_credentials"
    case refreshToken = "refresh_token"
    /// RFC 8628 §3.4.
    case deviceCode = "urn:ietf:params:oauth:grant-type:device_code"

    /// Grant types a client gets when `client create` is not told otherwise.
    public static let defaultForNewClients: [GrantType] = [.password, .clientCredentials, .refreshToken]
}

/// What a client's access tokens look like.
public enum AccessTokenFormat: String, Sendable, CaseIterable {
    case opaque
    case jwt
}

/// A registered OAuth client (RFC 6749 §2).
public struct Client: Sendable, Equatable {
    public var clientID: String
    public var name: String
    /// SHA-256 of the client secret; see `ClientSecret` for why a fast hash is right here.
    public var secretDigest: [UInt8]
    public var grantTypes: [GrantType]
    /// The scopes the client may be granted; `nil` allows every scope.
    public var scopes: Set<String>?
    public var tokenFormat: AccessTokenFormat
    /// May call `/oauth2/introspect`.
    public var mayIntrospect: Bool
    public var createdAt: EpochMilliseconds
    /// Where the authorization endpoint may send the browser back to with a code,
    /// compared by exact string match (RFC 9700 §4.1.3).
    public var redirectURIs: [String]
    /// Where `GET /oauth2/logout` may send the browser back to (OpenID Connect RP-Initiated Logout).
    public var postLogoutRedirectURIs: [String]
    /// A public client (`token_endpoint_auth_method = none`, RFC 7591 §2): a single-page or
    /// native app that cannot keep a secret. It names itself with `client_id` alone, must use
    /// PKCE, and its refresh tokens always rotate (RFC 9700 §2.2.2). Its `secretDigest`
    /// is that of a random secret nobody was shown, and no secret ever authenticates it.
    public var isPublic: Bool

    public init(
        clientID: String, name: String, secretDigest: [UInt8], grantTypes: [GrantType], scopes: Set<String>?,
        tokenFormat: AccessTokenFormat, mayIntrospect: Bool, createdAt: EpochMilliseconds,
        redirectURIs: [String] = [], postLogoutRedirectURIs: [String] = [], isPublic: Bool = false
    ) {
        self.clientID = clientID
        self.name = name
        self.secretDigest = secretDigest
        self.grantTypes = grantTypes
        self.scopes = scopes
        self.tokenFormat = tokenFormat
        self.mayIntrospect = mayIntrospect
        self.createdAt = createdAt
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.isPublic = isPublic
    }

    /// `token_endpoint_auth_method` as the schema and the metadata spell it.
    public var authenticationMethod: String { isPublic ? "none" : "client_secret_basic" }
}

/// A resource owner of the password grant.
public struct User: Sendable, Equatable {
    public var username: String
    /// A PHC-style string carrying the KDF, its parameters, the salt and the hash.
    public var passwordHash: String
    public var createdAt: EpochMilliseconds
    /// Failed password logins since the last success or the last lock.
    public var failedLoginAttempts: Int
    /// Set while the account is locked (`[security.account_locking]`).
    public var lockedUntil: EpochMilliseconds?

    public init(
        username: String, passwordHash: String, createdAt: EpochMilliseconds, failedLoginAttempts: Int = 0,
        lockedUntil: EpochMilliseconds? = nil
    ) {
        self.username = username
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.failedLoginAttempts = failedLoginAttempts
        self.lockedUntil = lockedUntil
    }

    public func isLocked(at now: EpochMilliseconds) -> Bool {
        lockedUntil.map { $0 > now } ?? false
    }
}
