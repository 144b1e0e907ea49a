/// Whom a token speaks for. The two kinds are told apart in the key (SPEC §5), so a
/// user named like a client never shares that client's tokens.
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
}

/// The key a token belongs to: (client, subject, scope set). The database holds at
/// most one ACTIVE token per key (SPEC §5).
public struct TokenKey: Sendable, Hashable {
    public var clientID: String
    public var subject: Subject
    public var scope: ScopeSet

    public init(clientID: String, subject: Subject, scope: ScopeSet) {
        self.clientID = clientID
        self.subject = subject
        self.scope = scope
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
