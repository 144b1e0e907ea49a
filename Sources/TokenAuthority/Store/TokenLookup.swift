/// Which table a presented token was found in.
public enum TokenKind: String, Sendable, Equatable {
    case accessToken = "access_token"
    case refreshToken = "refresh_token"
}

/// A presented token's row, without its secret: what introspection and
/// revocation decide on.
public struct FoundToken: Sendable, Equatable {
    public var kind: TokenKind
    public var clientID: String
    public var subject: Subject
    public var scope: String
    public var state: TokenState
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds

    public init(
        kind: TokenKind, clientID: String, subject: Subject, scope: String, state: TokenState,
        issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds
    ) {
        self.kind = kind
        self.clientID = clientID
        self.subject = subject
        self.scope = scope
        self.state = state
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// The stored scope, which was canonical when it was written.
    public var scopeSet: ScopeSet {
        ScopeSet(validated: scope.split(separator: " ").map(String.init))
    }

    /// ACTIVE and not past its expiry, whatever the stored state says otherwise.
    public func isActive(at now: EpochMilliseconds) -> Bool {
        state == .active && expiresAt > now
    }
}

public enum RevocationOutcome: Sendable, Equatable {
    /// The token and the tokens issued with it are REVOKED, durably.
    case revoked
    /// Unknown, or no longer ACTIVE: nothing to do (RFC 7009 §2.2 answers 200 all the same).
    case nothingToRevoke
    /// Issued to another client: refused, nothing changed.
    case otherClient
}

public protocol TokenLookupStore: Sendable {
    /// The token with this SHA-256 digest, looked for first among `preferring`
    /// (the `token_type_hint`), then in the other table.
    func findToken(digest: [UInt8], preferring kind: TokenKind?) async throws -> FoundToken?

    /// Revokes the access or refresh token with this digest and the tokens issued
    /// with it, committed with a full sync before returning (docs/storage.md, "Durability"). When
    /// `clientID` is given, a token of another client is refused unchanged. A refresh token
    /// rotated away (`INACTIVE`) stays so, and revokes every ACTIVE token of its family: the
    /// grant it came from (RFC 7009 §2.1), whatever refreshes went before.
    func revokeToken(digest: [UInt8], ownedBy clientID: String?, at now: EpochMilliseconds) async throws
        -> RevocationOutcome
}
