/// A canonical scope set (RFC 6749 §3.3): deduplicated, sorted, space-joined.
/// Part of a token's key, so two requests naming the same scopes in another
/// order or with repeats share a token.
public struct ScopeSet: Sendable, Hashable, CustomStringConvertible {
    public let scopes: [String]

    /// The scope a request left with no scope is given (docs/token-renewal.md, "Scopes").
    public static let `default` = ScopeSet(validated: ["default"])

    public init(validated scopes: some Sequence<String>) {
        // Sorted, then each kept once: no hashing, on every token request.
        var unique: [String] = []
        for scope in scopes.sorted() where unique.last != scope { unique.append(scope) }
        self.scopes = unique
    }

    /// The longest `scope` parameter accepted, in bytes. It bounds a token's key, its rows and a
    /// JWT's `scope` claim, so that every token stays small enough to send in an `Authorization`
    /// header and to introspect or revoke (docs/token-renewal.md, "Scopes").
    public static let maximumParameterLength = 4096

    /// Parses the `scope` parameter: space-delimited scope-tokens of
    /// `%x21 / %x23-5B / %x5D-7E` (RFC 6749 §3.3), at most `maximumParameterLength` bytes.
    public init(parsing parameter: String?) throws(OAuthError) {
        guard let parameter else {
            self.init(validated: [])
            return
        }
        guard parameter.utf8.count <= Self.maximumParameterLength else {
            throw OAuthError.invalidScope.with(
                description: "The scope is longer than \(Self.maximumParameterLength) bytes.")
        }
        var tokens: [String] = []
        for token in parameter.split(separator: " ", omittingEmptySubsequences: true) {
            guard token.utf8.allSatisfy(Self.isScopeCharacter) else {
                throw OAuthError.invalidScope.with(description: "The scope contains characters RFC 6749 section 3.3 does not allow.")
            }
            tokens.append(String(token))
        }
        self.init(validated: tokens)
    }

    public var isEmpty: Bool { scopes.isEmpty }
    /// The canonical text form stored in the database and returned in `scope`.
    public var description: String { scopes.joined(separator: " ") }

    public func isSubset(of other: ScopeSet) -> Bool { Set(scopes).isSubset(of: other.scopes) }

    private static func isScopeCharacter(_ byte: UInt8) -> Bool {
        byte == 0x21 || (0x23...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
    }
}
