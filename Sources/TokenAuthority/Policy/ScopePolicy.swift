/// Which requested scopes are granted (RFC 6749 §3.3; docs/token-renewal.md, "Scopes").
public struct ScopePolicy: Sendable {
    private let allowedPatterns: [AllowedScopePattern]

    /// - Throws: `ScopePatternError` naming the first pattern that is not a valid regex.
    public init(allowedScopes: [String]) throws {
        self.allowedPatterns = try allowedScopes.map(AllowedScopePattern.init)
    }

    /// A scope matching `[oauth] allowed_scopes` (WSO2's `device_` scopes among them)
    /// is granted without validation. Any other scope is granted when the client has
    /// no scope list or lists it, and otherwise dropped (RFC 6749 §3.3 lets the server
    /// grant less and say so in `scope`). Nothing left means the scope `default`.
    public func grantedScope(requested: ScopeSet, clientScopes: Set<String>?) -> ScopeSet {
        let granted = requested.scopes.filter { scope in
            // The set first: the patterns are regexes, the costlier test.
            clientScopes.map { $0.contains(scope) } ?? true || isAllowedWithoutValidation(scope)
        }
        return granted.isEmpty ? .default : ScopeSet(validated: granted)
    }

    public func isAllowedWithoutValidation(_ scope: String) -> Bool {
        allowedPatterns.contains { $0.matches(scope) }
    }
}

public struct ScopePatternError: Error, CustomStringConvertible {
    public let pattern: String
    public let reason: String
    public var description: String { "invalid scope pattern \"\(pattern)\": \(reason)" }
}

/// One `allowed_scopes` regex, matched against the whole scope.
private struct AllowedScopePattern: @unchecked Sendable {
    // @unchecked: `Regex<AnyRegexOutput>` is immutable after construction and only
    // ever read (`wholeMatch`), so sharing it between tasks is safe.
    let regex: Regex<AnyRegexOutput>

    init(_ pattern: String) throws {
        do {
            regex = try Regex(pattern)
        } catch {
            throw ScopePatternError(pattern: pattern, reason: "\(error)")
        }
    }

    func matches(_ scope: String) -> Bool {
        (try? regex.wholeMatch(in: scope)) != nil
    }
}
