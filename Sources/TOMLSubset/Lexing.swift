/// Whitespace, newlines and comments (TOML 1.0.0 §Spec, §Comment).
extension DocumentParser {
    /// §Spec: whitespace is tab or space.
    mutating func skipWhitespace() {
        while let byte = current, ASCII.isWhitespace(byte) {
            index += 1
        }
    }

    /// The length of the newline starting at `offset`: 1 for LF, 2 for CRLF,
    /// 0 otherwise (a lone CR is not a newline, §Spec).
    func newlineLength(at offset: Int) -> Int {
        switch byte(at: offset) {
        case ASCII.lineFeed: 1
        case ASCII.carriageReturn: byte(at: offset &+ 1) == ASCII.lineFeed ? 2 : 0
        default: 0
        }
    }

    /// Skips a comment if the cursor is at `#`, stopping before the newline.
    ///
    /// §Comment: "Control characters other than tab (U+0000 to U+0008,
    /// U+000A to U+001F, U+007F) are not permitted in comments."
    mutating func skipComment() throws(TOMLError) {
        guard current == ASCII.hash else { return }
        index += 1
        while let byte = current, byte != ASCII.lineFeed {
            if byte == ASCII.carriageReturn {
                if newlineLength(at: index) == 2 { return }
                throw failure("a carriage return must be followed by a line feed")
            }
            if ASCII.isForbiddenControl(byte) {
                throw failure("control characters are not allowed in comments")
            }
            index += 1
        }
    }

    /// Skips whitespace, newlines and comments, as allowed between array
    /// elements (§Array).
    mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLError) {
        while let byte = current {
            if ASCII.isWhitespace(byte) {
                index += 1
            } else if byte == ASCII.hash {
                try skipComment()
            } else if newlineLength(at: index) > 0 {
                index += newlineLength(at: index)
            } else if byte == ASCII.carriageReturn {
                throw failure("a carriage return must be followed by a line feed")
            } else {
                return
            }
        }
    }

    /// After a statement: optional whitespace and comment, then a newline or
    /// the end of the document (§Keys: "put on the same line"; §Table).
    mutating func finishLine(after statement: String) throws(TOMLError) {
        skipWhitespace()
        try skipComment()
        guard let byte = current else { return }
        let length = newlineLength(at: index)
        if length > 0 {
            index += length
        } else if byte == ASCII.carriageReturn {
            throw failure("a carriage return must be followed by a line feed")
        } else {
            throw failure("expected a newline or a comment after \(statement)")
        }
    }
}
