/// A place in a TOML document.
public struct TOMLPosition: Sendable, Hashable {
    /// 1-based line number. Lines end with LF or CRLF (TOML 1.0.0 §Spec).
    public var line: Int
    /// 1-based column, counted in Unicode scalars from the start of the line.
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// Converts byte offsets into line/column positions.
///
/// Offsets are usually requested in increasing order while parsing, so the
/// tracker walks forward from the last answer: the total work for a whole
/// parse is linear in the document size. A request for an earlier offset
/// (only when reporting an error) restarts from the beginning once.
struct PositionTracker {
    private let origin: Int
    private var offset: Int
    private var line = 1
    private var column = 1

    /// - Parameter origin: Offset of the first character of line 1 (3 when
    ///   the document starts with a byte order mark, which is not counted).
    init(origin: Int) {
        self.origin = origin
        self.offset = origin
    }

    mutating func position(at target: Int, in bytes: [UInt8]) -> TOMLPosition {
        let target = min(max(target, origin), bytes.count)
        if target < offset {
            offset = origin
            line = 1
            column = 1
        }
        while offset < target {
            let byte = bytes[offset]
            if byte == ASCII.lineFeed {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Every byte that is not a UTF-8 continuation byte starts a scalar.
                column += 1
            }
            offset += 1
        }
        return TOMLPosition(line: line, column: column)
    }
}
