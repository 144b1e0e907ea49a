/// Why a document could not be read, and where.
///
/// Messages name the problem and never quote string contents (a string may
/// hold a password). ``key`` is rendered as a TOML dotted key, with quoted
/// parts escaped so that it is printable, and shortened to at most 100
/// characters.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the problem (TOML 1.0.0 §Spec: lines end with LF or CRLF).
    public var line: Int
    /// 1-based column, counted in Unicode scalars from the start of the line.
    public var column: Int
    /// The dotted key path being defined when the error happened, when known.
    public var key: String?
    /// A short description of the problem.
    public var message: String

    public init(line: Int, column: Int, key: String? = nil, message: String) {
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    init(at position: TOMLPosition, keyPath: [[UInt8]], message: String) {
        self.init(
            line: position.line,
            column: position.column,
            key: keyPath.isEmpty ? nil : KeyPathFormatter.render(keyPath),
            message: message
        )
    }

    public var description: String {
        var text = "TOML error at line \(line), column \(column)"
        if let key {
            text += " (key \(key))"
        }
        return text + ": " + message
    }
}

/// Renders key paths for error reports (TOML 1.0.0 §Keys).
enum KeyPathFormatter {
    static let maximumLength = 100

    /// Joins the parts with dots; parts that are not valid bare keys are
    /// written as basic strings with control characters escaped. Stops after
    /// ``maximumLength`` characters (ending with "…"), so the work is bounded
    /// however long the key is.
    static func render(_ parts: [[UInt8]]) -> String {
        var output = BoundedText(limit: maximumLength)
        for (index, part) in parts.enumerated() where !output.isFull {
            if index > 0 {
                output.append(".")
            }
            if !part.isEmpty && part.allSatisfy(ASCII.isBareKeyCharacter) {
                output.append(String(decoding: part.prefix(maximumLength + 1), as: UTF8.self))
                continue
            }
            output.append("\"")
            for scalar in String(decoding: part, as: UTF8.self).unicodeScalars {
                if output.isFull { break }
                switch scalar {
                case "\"": output.append("\\\"")
                case "\\": output.append("\\\\")
                case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                    let digits = String(scalar.value, radix: 16, uppercase: true)
                    output.append("\\u" + String(repeating: "0", count: 4 - digits.count) + digits)
                default: output.append(String(scalar))
                }
            }
            output.append("\"")
        }
        return output.text
    }

    /// Text that keeps at most `limit` Unicode scalars and marks a cut with "…".
    private struct BoundedText {
        let limit: Int
        private(set) var text = ""
        private var count = 0
        private(set) var isFull = false

        init(limit: Int) {
            self.limit = limit
        }

        mutating func append(_ piece: String) {
            for scalar in piece.unicodeScalars {
                guard !isFull else { return }
                if count == limit - 1 {
                    text.unicodeScalars.append("…")
                    isFull = true
                    return
                }
                text.unicodeScalars.append(scalar)
                count += 1
            }
        }
    }
}
