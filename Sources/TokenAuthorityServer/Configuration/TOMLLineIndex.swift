/// Where each key of a TOML document stands, for error messages. TOMLKit parses
/// the document but does not expose source positions of values, so this reads
/// table headers and `key =` lines itself; it never decides what a value is.
struct TOMLLineIndex {
    private var lines: [String: Int] = [:]

    init(text: String) {
        var table: [String] = []
        var lineNumber = 0
        // `isNewline` also matches "\r\n", which Swift holds as one Character.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = rawLine.trimmingWhitespace()
            guard let first = line.first, first != "#" else { continue }
            if first == "[" {
                let inner = line.drop { $0 == "[" }.prefix { $0 != "]" }
                table = Self.keyPath(inner)
                record(table, line: lineNumber)
            } else if let equals = line.firstIndex(of: "=") {
                let path = table + Self.keyPath(line[..<equals])
                record(path, line: lineNumber)
                recordInlineTable(line[line.index(after: equals)...], under: path, line: lineNumber)
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

    /// The keys of `{ a = 1, b = { c = 2 } }` on the line of their table.
    private mutating func recordInlineTable(_ value: Substring, under path: [String], line: Int) {
        let trimmed = value.trimmingWhitespace()
        guard trimmed.first == "{", let close = trimmed.lastIndex(of: "}") else { return }
        var depth = 0
        var start = trimmed.index(after: trimmed.startIndex)
        var members: [Substring] = []
        for index in trimmed.indices[start..<close] {
            switch trimmed[index] {
            case "{", "[": depth += 1
            case "}", "]": depth -= 1
            case "," where depth == 0:
                members.append(trimmed[start..<index])
                start = trimmed.index(after: index)
            default: break
            }
        }
        members.append(trimmed[start..<close])
        for member in members {
            guard let equals = member.firstIndex(of: "=") else { continue }
            let memberPath = path + Self.keyPath(member[..<equals])
            record(memberPath, line: line)
            recordInlineTable(member[member.index(after: equals)...], under: memberPath, line: line)
        }
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
