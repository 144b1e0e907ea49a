/// Whom a token speaks for. The two kinds are told apart in the key
/// (docs/token-renewal.md, "The key"), so a user named like a client never shares
/// that client's tokens.
public enum Subject: Sendable, Hashable {
    /// The resource owner of a password grant.
    case user(String)
    /// The client itself, for `client_credentials`.
    case client(String)

    public var kind: String {
        switch self {
        case .user: "user"
        case .client: "client"
        }
    }

    public var name: String {
        switch self {
        case .user(let name), .client(let name): name
        }
    }

    public init?(kind: String, name: String) {
        switch kind {
        case "user": self = .user(name)
        case "client": self = .client(name)
        default: return nil
        }
    }

    /// Byte equality, as the database's: names that differ only in Unicode
    /// normalization are other subjects (see `sameBytes(as:)`).
    public static func == (left: Subject, right: Subject) -> Bool {
        left.kind == right.kind && left.name.sameBytes(as: right.name)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        for byte in name.utf8 { hasher.combine(byte) }
    }
}

/// The key a token belongs to: (client, subject, scope set). The database holds at
/// most one ACTIVE token per key (docs/token-renewal.md, "The key").
public struct TokenKey: Sendable, Hashable {
    public var clientID: String
    public var subject: Subject
    public var scope: ScopeSet

    public init(clientID: String, subject: Subject, scope: ScopeSet) {
        self.clientID = clientID
        self.subject = subject
        self.scope = scope
    }

    /// Byte equality of the client id, as the database's (see `sameBytes(as:)`).
    public static func == (left: TokenKey, right: TokenKey) -> Bool {
        left.clientID.sameBytes(as: right.clientID) && left.subject == right.subject && left.scope == right.scope
    }

    public func hash(into hasher: inout Hasher) {
        for byte in clientID.utf8 { hasher.combine(byte) }
        hasher.combine(subject)
        hasher.combine(scope)
    }

    /// User tokens come with a refresh token; application tokens do not (RFC 6749 §4.4.3).
    public var hasRefreshToken: Bool {
        if case .user = subject { return true }
        return false
    }
}

/// WSO2's `TOKEN_STATE` values.
public enum TokenState: String, Sendable, CaseIterable {
    case active = "ACTIVE"
    case expired = "EXPIRED"
    case revoked = "REVOKED"
    case inactive = "INACTIVE"
}
