/// One part of a (possibly dotted) key, with where it starts.
struct KeyPart {
    var bytes: [UInt8]
    var position: TOMLPosition
}

/// Keys (TOML 1.0.0 §Keys).
extension DocumentParser {
    /// Whether `byte` can start a key: a bare-key character or a quote.
    static func canStartKey(_ byte: UInt8) -> Bool {
        ASCII.isBareKeyCharacter(byte) || byte == ASCII.quote || byte == ASCII.apostrophe
    }

    /// Parses a key: one or more parts joined by dots, with optional
    /// whitespace around the dots (§Keys, "Dotted keys"), and skips the
    /// whitespace after it.
    mutating func parseKey() throws(TOMLError) -> [KeyPart] {
        var parts = [try parseKeyPart()]
        skipWhitespace()
        while current == ASCII.dot {
            index += 1
            skipWhitespace()
            parts.append(try parseKeyPart())
            skipWhitespace()
        }
        return parts
    }

    /// Parses a bare key, a basic-string key or a literal-string key.
    ///
    /// §Keys: bare keys use `A-Za-z0-9_-`; quoted keys follow the rules of
    /// basic or literal strings; multi-line strings are not allowed.
    private mutating func parseKeyPart() throws(TOMLError) -> KeyPart {
        let start = index
        let position = position(at: start)
        switch current {
        case ASCII.quote?:
            if lookingAt([ASCII.quote, ASCII.quote, ASCII.quote]) {
                throw failure("a multi-line string cannot be used as a key")
            }
            return KeyPart(bytes: try parseBasicString(), position: position)
        case ASCII.apostrophe?:
            if lookingAt([ASCII.apostrophe, ASCII.apostrophe, ASCII.apostrophe]) {
                throw failure("a multi-line string cannot be used as a key")
            }
            return KeyPart(bytes: try parseLiteralString(), position: position)
        case let byte? where ASCII.isBareKeyCharacter(byte):
            while let byte = current, ASCII.isBareKeyCharacter(byte) {
                index += 1
            }
            return KeyPart(bytes: Array(bytes[start..<index]), position: position)
        case nil:
            throw failure("expected a key, found the end of the document")
        case let byte?:
            if newlineLength(at: index) > 0 || byte == ASCII.carriageReturn {
                throw failure("expected a key, found the end of the line")
            }
            throw failure("expected a key (bare keys may only contain A-Z a-z 0-9 _ -)")
        }
    }
}
