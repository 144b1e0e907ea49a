import Foundation

/// Client ids and usernames are compared as bytes, as the database compares
/// them. Swift's `==` on `String` compares canonical equivalence, so `app-K`
/// (U+212A KELVIN SIGN) would equal `app-K` in Swift while being another row in
/// SQL: every ownership check uses `sameBytes(as:)` instead (README, "Security").
extension StringProtocol {
    /// Equal UTF-8 bytes: what SQL's `=` on text means.
    public func sameBytes(as other: some StringProtocol) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}

/// What an identifier may be when it is created, so that no two can look alike.
public enum IdentifierRules {
    public static let maximumLength = 255

    /// RFC 6749 Appendix A.1: `client-id = *VSCHAR`, printable ASCII (%x20-7E).
    /// Spaces and `:` are refused too: HTTP Basic joins id and secret with `:`,
    /// and an id with spaces is a quoting trap on every command line.
    /// `existing` are the ids already taken, checked for one that differs only in
    /// normalization (an id stored before this rule, such as `app-K` with a KELVIN SIGN).
    public static func clientIDProblem(_ id: String, existing: [String] = []) -> String? {
        guard !id.isEmpty, id.utf8.count <= maximumLength else { return "1 to \(maximumLength) characters" }
        guard id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) else {
            return "printable ASCII only (RFC 6749 VSCHAR), without spaces or colons"
        }
        return normalizationTwin(of: id, in: existing).map { "the existing client '\($0)' has the same id in another Unicode normalization" }
    }

    /// RFC 6749 Appendix A.8: `username = *UNICODECHARNOCRLF`. Held to Unicode
    /// Normalization Form C and free of control characters, so `josé` has one
    /// spelling; `existing` are the names already taken, checked for one that
    /// differs only in normalization (a name stored before this rule).
    public static func usernameProblem(_ name: String, existing: [String] = []) -> String? {
        guard !name.isEmpty, name.utf8.count <= maximumLength else { return "1 to \(maximumLength) bytes of UTF-8" }
        guard !name.unicodeScalars.contains(where: isControl) else { return "no control characters" }
        let normalized = name.precomposedStringWithCanonicalMapping
        guard normalized.sameBytes(as: name) else {
            return "must be in Unicode Normalization Form C (NFC); write it as '\(normalized)'"
        }
        return normalizationTwin(of: name, in: existing).map { "the existing user '\($0)' has the same name in another Unicode normalization" }
    }

    /// A name of `existing` with other bytes than `name` (an NFC name) but the same NFC form.
    private static func normalizationTwin(of name: String, in existing: [String]) -> String? {
        existing.first { !$0.sameBytes(as: name) && $0.precomposedStringWithCanonicalMapping.sameBytes(as: name) }
    }

    /// C0, DEL and C1 controls, and the line and paragraph separators.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
