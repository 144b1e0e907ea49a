/// Reads a subset of TOML 1.0.0 (<https://toml.io/en/v1.0.0>).
///
/// Supported: comments, bare/quoted/dotted keys, `[table]` headers, inline
/// tables, arrays, all four kinds of strings, integers, floats and booleans.
/// Not supported (rejected with an error whose message says "not supported"):
/// arrays of tables (`[[name]]`, §Array of Tables) and the four date/time types
/// (§Offset Date-Time, §Local Date-Time, §Local Date, §Local Time).
///
/// The parser never traps: every malformed input is reported as a
/// ``TOMLError`` with a 1-based line and column.
public enum TOML {
    /// Parses a whole document.
    ///
    /// - Parameter text: The document. A leading UTF-8 byte order mark is
    ///   ignored; lines end with LF or CRLF (TOML 1.0.0 §Spec: "Newline means
    ///   LF (0x0A) or CRLF (0x0D 0x0A)").
    /// - Returns: The root table, keys in document order.
    /// - Throws: ``TOMLError`` for any input TOML 1.0.0 rejects, for the
    ///   unsupported features listed above, and when a limit is exceeded: more
    ///   than 1 MiB of UTF-8, more than 32 nested arrays/inline tables, or more
    ///   than 128 levels of nesting in the resulting value tree.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        guard text.utf8.count <= Limits.maximumDocumentBytes else {
            throw TOMLError(line: 1, column: 1, message: "document is larger than 1 MiB")
        }
        var parser = DocumentParser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }
}

/// Bounds that keep parsing linear in time and shallow in recursion.
enum Limits {
    /// Largest accepted document, in UTF-8 bytes.
    static let maximumDocumentBytes = 1 << 20
    /// Most arrays and inline tables that may be open at once.
    static let maximumBracketDepth = 32
    /// Deepest position of any table or array in the result (the root table
    /// is at depth 0). Bounds recursion when building, comparing and
    /// destroying values.
    static let maximumTreeDepth = 128
}
