/// The parser's state: the document's UTF-8 bytes and a cursor into them.
///
/// The grammar is split across extensions: `Lexing` (whitespace, comments,
/// newlines), `Keys`, `Strings`, `Numbers`, `Values` (arrays and inline
/// tables) and `Statements` (the document's lines and `[table]` headers).
/// Every read goes through ``byte(at:)``, which returns nil past either end,
/// so no input can index out of range.
struct DocumentParser {
    let bytes: [UInt8]
    /// Offset of the next unread byte.
    var index: Int
    /// Offset of line 1, column 1 (after a byte order mark).
    let bodyStart: Int
    var tracker: PositionTracker
    /// The key path being defined, reported with errors.
    var keyContext: [[UInt8]] = []
    /// Arrays and inline tables currently open.
    var bracketDepth = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark (EF BB BF) at the very start is skipped.
        let hasByteOrderMark = bytes.starts(with: [0xEF, 0xBB, 0xBF])
        self.bodyStart = hasByteOrderMark ? 3 : 0
        self.index = bodyStart
        self.tracker = PositionTracker(origin: bodyStart)
    }

    // MARK: Reading

    func byte(at offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    /// The next unread byte, or nil at the end of the document.
    var current: UInt8? { byte(at: index) }

    /// The byte `distance` places after the cursor, or nil.
    func peek(_ distance: Int) -> UInt8? { byte(at: index &+ distance) }

    /// Whether the unread bytes start with `pattern`.
    func lookingAt(_ pattern: [UInt8]) -> Bool {
        for (distance, expected) in pattern.enumerated() where peek(distance) != expected {
            return false
        }
        return true
    }

    // MARK: Positions and errors

    mutating func position(at offset: Int) -> TOMLPosition {
        tracker.position(at: offset, in: bytes)
    }

    /// An error at `offset`, carrying the key path being defined.
    mutating func failure(_ message: String, at offset: Int) -> TOMLError {
        TOMLError(at: position(at: offset), keyPath: keyContext, message: message)
    }

    /// An error at the cursor.
    mutating func failure(_ message: String) -> TOMLError {
        failure(message, at: index)
    }
}
