/// The four string forms (TOML 1.0.0 §String). Each parser starts at the
/// opening delimiter and returns the string's UTF-8 bytes. Messages never
/// include string contents.
extension DocumentParser {
    /// Basic string: `"…"` with escapes, on one line.
    mutating func parseBasicString() throws(TOMLError) -> [UInt8] {
        let start = index
        index += 1
        var result: [UInt8] = []
        while true {
            guard let byte = current else {
                throw failure("unterminated string: missing closing '\"'", at: start)
            }
            switch byte {
            case ASCII.quote:
                index += 1
                return result
            case ASCII.backslash:
                try parseEscape(into: &result)
            case ASCII.lineFeed, ASCII.carriageReturn:
                throw failure("unterminated string: a basic string must end on its line")
            default:
                if ASCII.isForbiddenControl(byte) {
                    throw failure("control characters must be escaped in strings")
                }
                result.append(byte)
                index += 1
            }
        }
    }

    /// Multi-line basic string: `"""…"""` (§String, "Multi-line basic strings").
    ///
    /// A newline right after the opening delimiter is trimmed; CRLF becomes LF
    /// (the spec lets parsers normalize newlines); a backslash at the end of
    /// a line (optionally followed by whitespace) removes all whitespace and
    /// newlines up to the next other character; one or two quotes may come
    /// right before the closing delimiter.
    mutating func parseMultilineBasicString() throws(TOMLError) -> [UInt8] {
        let start = index
        index += 3
        index += newlineLength(at: index)
        var result: [UInt8] = []
        while true {
            guard let byte = current else {
                throw failure("unterminated multi-line string: missing closing '\"\"\"'", at: start)
            }
            switch byte {
            case ASCII.quote:
                if lookingAt([ASCII.quote, ASCII.quote, ASCII.quote]) {
                    index += 3
                    appendExtraDelimiters(ASCII.quote, to: &result)
                    return result
                }
                result.append(byte)
                index += 1
            case ASCII.backslash:
                if !skipLineEndingBackslash() {
                    try parseEscape(into: &result)
                }
            default:
                try appendMultilineByte(byte, to: &result)
            }
        }
    }

    /// Literal string: `'…'`, no escapes, on one line.
    mutating func parseLiteralString() throws(TOMLError) -> [UInt8] {
        let start = index
        index += 1
        let contentStart = index
        while true {
            guard let byte = current else {
                throw failure("unterminated string: missing closing \"'\"", at: start)
            }
            if byte == ASCII.apostrophe {
                let content = Array(bytes[contentStart..<index])
                index += 1
                return content
            }
            if byte == ASCII.lineFeed || byte == ASCII.carriageReturn {
                throw failure("unterminated string: a literal string must end on its line")
            }
            if ASCII.isForbiddenControl(byte) {
                throw failure("control characters are not allowed in literal strings")
            }
            index += 1
        }
    }

    /// Multi-line literal string: `'''…'''` (§String, "Multi-line literal strings").
    mutating func parseMultilineLiteralString() throws(TOMLError) -> [UInt8] {
        let start = index
        index += 3
        index += newlineLength(at: index)
        var result: [UInt8] = []
        while true {
            guard let byte = current else {
                throw failure("unterminated multi-line string: missing closing \"'''\"", at: start)
            }
            if byte == ASCII.apostrophe && lookingAt([ASCII.apostrophe, ASCII.apostrophe, ASCII.apostrophe]) {
                index += 3
                appendExtraDelimiters(ASCII.apostrophe, to: &result)
                return result
            }
            try appendMultilineByte(byte, to: &result)
        }
    }

    // MARK: Pieces

    /// Appends one content byte of a multi-line string: newlines (CRLF as LF)
    /// are kept, other control characters except tab are rejected.
    private mutating func appendMultilineByte(_ byte: UInt8, to result: inout [UInt8]) throws(TOMLError) {
        if byte == ASCII.lineFeed {
            result.append(byte)
            index += 1
        } else if byte == ASCII.carriageReturn {
            guard newlineLength(at: index) == 2 else {
                throw failure("a carriage return must be followed by a line feed")
            }
            result.append(ASCII.lineFeed)
            index += 2
        } else if ASCII.isForbiddenControl(byte) {
            throw failure("control characters must be escaped in strings")
        } else {
            result.append(byte)
            index += 1
        }
    }

    /// "You can write 1 or 2 quotation marks anywhere inside a multi-line
    /// basic string": up to two delimiter characters right after the closing
    /// delimiter belong to the content.
    private mutating func appendExtraDelimiters(_ delimiter: UInt8, to result: inout [UInt8]) {
        for _ in 0..<2 where current == delimiter {
            result.append(delimiter)
            index += 1
        }
    }

    /// If the cursor is at a line-ending backslash (backslash, optional
    /// whitespace, newline), skips it and all following whitespace and
    /// newlines and returns true.
    private mutating func skipLineEndingBackslash() -> Bool {
        var offset = index &+ 1
        while let byte = byte(at: offset), ASCII.isWhitespace(byte) {
            offset += 1
        }
        guard newlineLength(at: offset) > 0 else { return false }
        index = offset
        while true {
            if let byte = current, ASCII.isWhitespace(byte) {
                index += 1
            } else if newlineLength(at: index) > 0 {
                index += newlineLength(at: index)
            } else {
                return true
            }
        }
    }

    /// Parses an escape sequence at the backslash (§String: `\b \t \n \f \r
    /// \" \\ \uXXXX \UXXXXXXXX`; any other is an error).
    private mutating func parseEscape(into result: inout [UInt8]) throws(TOMLError) {
        let start = index
        guard let code = peek(1) else {
            throw failure("unterminated string: incomplete escape sequence", at: start)
        }
        index += 2
        switch code {
        case 0x62: result.append(0x08)  // \b backspace
        case 0x74: result.append(0x09)  // \t tab
        case 0x6E: result.append(0x0A)  // \n line feed
        case 0x66: result.append(0x0C)  // \f form feed
        case 0x72: result.append(0x0D)  // \r carriage return
        case ASCII.quote, ASCII.backslash: result.append(code)
        case 0x75: try parseUnicodeEscape(digits: 4, start: start, into: &result)  // \u
        case 0x55: try parseUnicodeEscape(digits: 8, start: start, into: &result)  // \U
        default:
            throw failure("invalid escape sequence in string", at: start)
        }
    }

    /// §String: "Any Unicode character may be escaped with the \uXXXX or
    /// \UXXXXXXXX forms. The escape codes must be valid Unicode scalar values."
    private mutating func parseUnicodeEscape(digits: Int, start: Int, into result: inout [UInt8]) throws(TOMLError) {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let byte = current, let digit = ASCII.hexValue(byte) else {
                throw failure("a \\u escape needs 4 and a \\U escape 8 hexadecimal digits", at: start)
            }
            value = value &<< 4 | UInt32(digit)
            index += 1
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw failure("escape is not a Unicode scalar value (surrogate or above 10FFFF)", at: start)
        }
        appendUTF8(scalar, to: &result)
    }

    private func appendUTF8(_ scalar: Unicode.Scalar, to result: inout [UInt8]) {
        let value = scalar.value
        switch value {
        case ..<0x80:
            result.append(UInt8(truncatingIfNeeded: value))
        case ..<0x800:
            result.append(0xC0 | UInt8(truncatingIfNeeded: value >> 6))
            result.append(0x80 | UInt8(truncatingIfNeeded: value & 0x3F))
        case ..<0x1_0000:
            result.append(0xE0 | UInt8(truncatingIfNeeded: value >> 12))
            result.append(0x80 | UInt8(truncatingIfNeeded: (value >> 6) & 0x3F))
            result.append(0x80 | UInt8(truncatingIfNeeded: value & 0x3F))
        default:
            result.append(0xF0 | UInt8(truncatingIfNeeded: value >> 18))
            result.append(0x80 | UInt8(truncatingIfNeeded: (value >> 12) & 0x3F))
            result.append(0x80 | UInt8(truncatingIfNeeded: (value >> 6) & 0x3F))
            result.append(0x80 | UInt8(truncatingIfNeeded: value & 0x3F))
        }
    }
}
