/// The document: a sequence of lines holding key/value pairs, `[table]`
/// headers, comments or nothing (TOML 1.0.0 §Spec, §Keys, §Table).
extension DocumentParser {
    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        var builder = TableBuilder(rootDepth: 0)
        var table = builder.root
        var tablePath: [[UInt8]] = []
        var section = 0
        while true {
            skipWhitespace()
            guard let byte = current else { break }
            if newlineLength(at: index) > 0 {
                index += newlineLength(at: index)
                continue
            }
            if Self.canStartKey(byte) {
                try parseKeyValueLine(into: &builder, table: table, path: tablePath, section: section)
            } else if byte == ASCII.leftBracket {
                (table, tablePath) = try parseHeaderLine(into: &builder)
                section += 1
            } else if byte == ASCII.hash {
                try finishLine(after: "a comment")
            } else if byte == ASCII.carriageReturn {
                throw failure("a carriage return must be followed by a line feed")
            } else {
                throw failure("expected a key, a [table] header or a comment")
            }
        }
        return builder.build()
    }

    /// `key = value` (§Keys: "Keys are on the left of the equals sign and
    /// values are on the right"; the pair ends with a newline or EOF).
    private mutating func parseKeyValueLine(into builder: inout TableBuilder, table: Int, path: [[UInt8]], section: Int) throws(TOMLError) {
        keyContext = path
        let parts = try parseKey()
        keyContext = path + parts.map(\.bytes)
        guard current == ASCII.equals else {
            throw failure("expected '=' after a key")
        }
        index += 1
        skipWhitespace()
        let value = try parseValue(depth: builder.depth(of: table) + parts.count)
        try builder.assign(value, to: parts, in: table, section: section, contextPath: path)
        try finishLine(after: "a key/value pair")
        keyContext = []
    }

    /// `[a.b.c]` (§Table). Arrays of tables (`[[a]]`, §Array of Tables) are
    /// not supported.
    private mutating func parseHeaderLine(into builder: inout TableBuilder) throws(TOMLError) -> (Int, [[UInt8]]) {
        let start = index
        let position = position(at: start)
        if peek(1) == ASCII.leftBracket {
            throw failure("arrays of tables ([[name]]) are not supported")
        }
        index += 1
        skipWhitespace()
        keyContext = []
        let parts = try parseKey()
        let path = parts.map(\.bytes)
        keyContext = path
        guard current == ASCII.rightBracket else {
            throw failure("expected ']' at the end of the table header")
        }
        index += 1
        let table = try builder.defineHeader(parts, at: position)
        try finishLine(after: "a table header")
        keyContext = []
        return (table, path)
    }
}
