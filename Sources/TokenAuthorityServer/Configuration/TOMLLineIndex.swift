/// Where each key of a TOML document stands, for error messages. TOMLKit parses
/// the document but does not expose source positions of values, so this reads
/// table headers and `key =` lines itself; it never decides what a value is.
struct TOMLLineIndex {
    private var lines: [String: Int] = [:]

    init(text: String) {
        var table: [String] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingWhitespace()
            guard let first = line.first, first != "#" else { continue }
            if first == "[" {
                let inner = line.drop { $0 == "[" }.prefix { $0 != "]" }
                table = Self.keyPath(inner)
                record(table, line: lineNumber)
            } else if let equals = line.firstIndex(of: "=") {
                record(table + Self.keyPath(line[..<equals]), line: lineNumber)
            }
        }
    }

    func line(of path: [String]) -> Int? {
        lines[path.joined(separator: ".")]
    }

    private mutating func record(_ path: [String], line: Int) {
        let key = path.joined(separator: ".")
        if lines[key] == nil { lines[key] = line }
    }

    private static func keyPath(_ text: Substring) -> [String] {
        text.split(separator: ".").map { part in
            var trimmed = part.trimmingWhitespace()
            if trimmed.count >= 2, let quote = trimmed.first, quote == "\"" || quote == "'", trimmed.last == quote {
                trimmed = trimmed.dropFirst().dropLast()
            }
            return String(trimmed)
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> SubSequence {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = self[start...].lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
        return self[start..<end]
    }
}
