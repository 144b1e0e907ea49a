/// Values (TOML 1.0.0 §Keys "Values must have one of the following types"),
/// arrays (§Array) and inline tables (§Inline Table).
extension DocumentParser {
    /// Parses the value at the cursor.
    ///
    /// - Parameter depth: The depth the value will have in the result (the
    ///   root table is at 0); arrays and inline tables deeper than
    ///   ``Limits/maximumTreeDepth`` are rejected.
    mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLValue {
        guard let byte = current else {
            throw failure("expected a value, found the end of the document")
        }
        switch byte {
        case ASCII.quote:
            let isMultiline = lookingAt([ASCII.quote, ASCII.quote, ASCII.quote])
            let content = isMultiline ? try parseMultilineBasicString() : try parseBasicString()
            return .string(String(decoding: content, as: UTF8.self))
        case ASCII.apostrophe:
            let isMultiline = lookingAt([ASCII.apostrophe, ASCII.apostrophe, ASCII.apostrophe])
            let content = isMultiline ? try parseMultilineLiteralString() : try parseLiteralString()
            return .string(String(decoding: content, as: UTF8.self))
        case ASCII.leftBracket:
            return try parseArray(depth: depth)
        case ASCII.leftBrace:
            return try parseInlineTable(depth: depth)
        case 0x74 where lookingAt(Array("true".utf8)):  // §Boolean
            return try finishScalar(.boolean(true), length: 4)
        case 0x66 where lookingAt(Array("false".utf8)):
            return try finishScalar(.boolean(false), length: 5)
        case _ where ASCII.isDecimalDigit(byte) || byte == ASCII.plus || byte == ASCII.minus
            || lookingAt(Array("inf".utf8)) || lookingAt(Array("nan".utf8)):  // §Integer, §Float
            return try finishScalar(try parseNumber(), length: 0)
        default:
            if newlineLength(at: index) > 0 || byte == ASCII.carriageReturn {
                throw failure("expected a value, found the end of the line")
            }
            throw failure("expected a value (a string, number, boolean, array or inline table)")
        }
    }

    /// Skips `length` bytes of a scalar and checks that a delimiter follows
    /// (whitespace, newline, `#`, `,`, `]`, `}` or the end), so that `truex`
    /// or `1"` is reported as an invalid value rather than as a later error.
    private mutating func finishScalar(_ value: TOMLValue, length: Int) throws(TOMLError) -> TOMLValue {
        let start = index
        index += length
        switch current {
        case nil, ASCII.space?, ASCII.tab?, ASCII.lineFeed?, ASCII.carriageReturn?,
             ASCII.hash?, ASCII.comma?, ASCII.rightBracket?, ASCII.rightBrace?:
            return value
        default:
            throw failure("invalid value", at: length > 0 ? start : index)
        }
    }

    /// Enters an array or inline table at the cursor, enforcing the limits.
    private mutating func openBracket(depth: Int) throws(TOMLError) {
        guard bracketDepth < Limits.maximumBracketDepth else {
            throw failure("arrays and inline tables are nested more than \(Limits.maximumBracketDepth) deep")
        }
        guard depth <= Limits.maximumTreeDepth else {
            throw failure("values are nested more than \(Limits.maximumTreeDepth) levels deep")
        }
        bracketDepth += 1
        index += 1
    }

    /// §Array: `[` values separated by commas `]`; newlines and comments may
    /// appear between values; a trailing comma is allowed; types may be mixed.
    private mutating func parseArray(depth: Int) throws(TOMLError) -> TOMLValue {
        let start = index
        try openBracket(depth: depth)
        var elements: [TOMLValue] = []
        try skipWhitespaceCommentsAndNewlines()
        while current != ASCII.rightBracket {
            elements.append(try parseValue(depth: depth + 1))
            try skipWhitespaceCommentsAndNewlines()
            switch current {
            case ASCII.comma?:
                index += 1
                try skipWhitespaceCommentsAndNewlines()
            case ASCII.rightBracket?:
                break
            case nil:
                throw failure("unterminated array: missing ']'", at: start)
            default:
                throw failure("expected ',' or ']' after an array element")
            }
        }
        index += 1
        bracketDepth -= 1
        return .array(elements)
    }

    /// §Inline Table: `{` key/value pairs separated by commas `}` on one
    /// line, no trailing comma; dotted keys allowed; immutable once closed.
    private mutating func parseInlineTable(depth: Int) throws(TOMLError) -> TOMLValue {
        let start = index
        try openBracket(depth: depth)
        var builder = TableBuilder(rootDepth: depth)
        let outerContext = keyContext
        skipWhitespace()
        if current == ASCII.rightBrace {
            index += 1
            bracketDepth -= 1
            return .table(builder.build())
        }
        while true {
            try expectInlineKey(start: start)
            let parts = try parseKey()
            keyContext = outerContext + parts.map(\.bytes)
            guard current == ASCII.equals else {
                throw failure("expected '=' after a key")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + parts.count)
            try builder.assign(value, to: parts, in: builder.root, section: 0, contextPath: outerContext)
            keyContext = outerContext
            skipWhitespace()
            switch current {
            case ASCII.rightBrace?:
                index += 1
                bracketDepth -= 1
                return .table(builder.build())
            case ASCII.comma?:
                index += 1
                skipWhitespace()
                if current == ASCII.rightBrace {
                    throw failure("a trailing comma is not allowed in an inline table")
                }
            case nil:
                throw failure("unterminated inline table: missing '}'", at: start)
            default:
                throw inlineTableError(start: start, expected: "expected ',' or '}' after a value in an inline table")
            }
        }
    }

    /// Checks that a key can start at the cursor inside an inline table.
    private mutating func expectInlineKey(start: Int) throws(TOMLError) {
        guard let byte = current else {
            throw failure("unterminated inline table: missing '}'", at: start)
        }
        if !Self.canStartKey(byte) {
            throw inlineTableError(start: start, expected: "expected a key in an inline table")
        }
    }

    private mutating func inlineTableError(start: Int, expected message: String) -> TOMLError {
        if newlineLength(at: index) > 0 || current == ASCII.carriageReturn {
            return failure("an inline table must be on a single line (missing '}')")
        }
        return failure(message)
    }
}
