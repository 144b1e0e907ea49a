import TOMLKit
import TokenAuthority

/// Typed access to a parsed `deployment.toml` that remembers which keys it read,
/// so the rest can be reported as unknown.
struct TOMLReader {
    let root: TOMLTable
    let lines: TOMLLineIndex
    let file: String
    private var known: Set<String> = []

    init(root: TOMLTable, lines: TOMLLineIndex, file: String) {
        self.root = root
        self.lines = lines
        self.file = file
    }

    mutating func read(_ key: String, into value: inout String) throws {
        if let found = try lookup(key) {
            guard let string = found.string else { throw wrongType(key, expected: "a string", found: found) }
            value = string
        }
    }

    mutating func optionalString(_ key: String) throws -> String? {
        var value = ""
        guard try lookup(key) != nil else { return nil }
        try read(key, into: &value)
        return value
    }

    mutating func read(_ key: String, into value: inout Bool) throws {
        if let found = try lookup(key) {
            guard found.type == .bool, let bool = found.bool else {
                throw wrongType(key, expected: "a boolean (true or false)", found: found)
            }
            value = bool
        }
    }

    mutating func read(_ key: String, into value: inout Int, in range: ClosedRange<Int>) throws {
        if let found = try lookup(key) {
            guard found.type == .int, let int = found.int else { throw wrongType(key, expected: "an integer", found: found) }
            guard range.contains(int) else {
                throw error(at: key, "\(int) is out of range (\(range.lowerBound)–\(range.upperBound))")
            }
            value = int
        }
    }

    /// `"90s"`, `"5m"`, `"1h"`, `"1d"`, or an integer of seconds; positive, at most ten years.
    mutating func readDuration(_ key: String, into seconds: inout Int) throws {
        guard let found = try lookup(key) else { return }
        if found.type == .int, let int = found.int {
            guard int > 0, int <= Self.maximumDuration else { throw error(at: key, "a duration must be 1s to 10 years, found \(int)") }
            seconds = int
            return
        }
        guard let text = found.string else {
            throw wrongType(key, expected: "a duration such as \"90s\", \"5m\", \"1h\", \"1d\" or an integer of seconds", found: found)
        }
        let units = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last.flatMap({ units[String($0)] }), let count = Int(text.dropLast()), count > 0,
            count <= Self.maximumDuration / unit
        else {
            throw error(at: key, "\"\(text)\" is not a duration: use \"90s\", \"5m\", \"1h\", \"1d\" or an integer of seconds (positive, at most 10 years)")
        }
        seconds = count * unit
    }

    mutating func read(_ key: String, into strings: inout [String]) throws {
        guard let found = try lookup(key) else { return }
        guard let array = found.array else { throw wrongType(key, expected: "an array of strings", found: found) }
        var read: [String] = []
        for element in array {
            guard let string = element.string else { throw wrongType(key, expected: "an array of strings", found: element) }
            read.append(string)
        }
        strings = read
    }

    /// An array of regexes, each checked to compile.
    mutating func readScopePatterns(_ key: String, into patterns: inout [String]) throws {
        var strings = patterns
        try read(key, into: &strings)
        do {
            _ = try ScopePolicy(allowedScopes: strings)
        } catch {
            throw self.error(at: key, "\(error)")
        }
        patterns = strings
    }

    func error(at key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: lines.line(of: key.split(separator: ".").map(String.init)), key: key, message: message)
    }

    /// One warning for each key nobody read, with its line.
    func unknownKeyWarnings() -> [String] {
        var warnings: [String] = []
        func walk(_ table: TOMLTable, path: [String]) {
            for (name, value) in table {
                let keyPath = path + [name]
                let dotted = keyPath.joined(separator: ".")
                if known.contains(dotted) { continue }
                if let child = value.table, known.contains(where: { $0.hasPrefix(dotted + ".") }) {
                    walk(child, path: keyPath)
                    continue
                }
                let line = lines.line(of: keyPath).map { ":\($0)" } ?? ""
                warnings.append("\(file)\(line): unknown key \(dotted) (ignored)")
            }
        }
        walk(root, path: [])
        return warnings
    }

    // MARK: Private

    private static let maximumDuration = 10 * 366 * 86400

    private mutating func lookup(_ key: String) throws -> (any TOMLValueConvertible)? {
        known.insert(key)
        let parts = key.split(separator: ".").map(String.init)
        var table = root
        for (index, part) in parts.enumerated() {
            guard let value = table[part] else { return nil }
            if index == parts.count - 1 { return value }
            guard let next = value.table else {
                let parent = parts[...index].joined(separator: ".")
                throw wrongType(parent, expected: "a table", found: value)
            }
            table = next
        }
        return nil
    }

    private func wrongType(_ key: String, expected: String, found: any TOMLValueConvertible) -> ConfigurationError {
        error(at: key, "expected \(expected), found \(Self.typeName(found.type))")
    }

    private static func typeName(_ type: TOMLType) -> String {
        switch type {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a floating-point number"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        default: "a date or time"
        }
    }
}
