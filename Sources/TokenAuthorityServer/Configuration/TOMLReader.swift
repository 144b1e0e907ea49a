import TOMLSubset
import TokenAuthority

/// Typed access to a parsed `deployment.toml` that remembers which keys it read,
/// so the rest can be reported as unknown. Every error names the file, and the
/// line, column and key of the value it is about.
struct TOMLReader {
    let root: TOMLTable
    let file: String
    private var known: Set<String> = []

    init(root: TOMLTable, file: String) {
        self.root = root
        self.file = file
    }

    mutating func read(_ key: String, into value: inout String) throws {
        guard let found = try lookup(key) else { return }
        guard case .string(let string) = found else { throw wrongType(key, expected: "a string", found: found) }
        value = string
    }

    mutating func optionalString(_ key: String) throws -> String? {
        var value = ""
        guard try lookup(key) != nil else { return nil }
        try read(key, into: &value)
        return value
    }

    mutating func read(_ key: String, into value: inout Bool) throws {
        guard let found = try lookup(key) else { return }
        guard case .boolean(let bool) = found else {
            throw wrongType(key, expected: "a boolean (true or false)", found: found)
        }
        value = bool
    }

    mutating func read(_ key: String, into value: inout Int, in range: ClosedRange<Int>) throws {
        guard let found = try lookup(key) else { return }
        guard case .integer(let integer) = found else { throw wrongType(key, expected: "an integer", found: found) }
        guard let int = Int(exactly: integer), range.contains(int) else {
            throw error(at: key, "\(integer) is out of range (\(range.lowerBound)–\(range.upperBound))")
        }
        value = int
    }

    /// `"90s"`, `"5m"`, `"1h"`, `"1d"`, or an integer of seconds; positive, at most ten years.
    mutating func readDuration(_ key: String, into seconds: inout Int) throws {
        guard let found = try lookup(key) else { return }
        if case .integer(let integer) = found {
            guard integer > 0, integer <= Self.maximumDuration else {
                throw error(at: key, "a duration must be 1s to 10 years, found \(integer)")
            }
            seconds = Int(integer)
            return
        }
        guard case .string(let text) = found else {
            throw wrongType(key, expected: "a duration such as \"90s\", \"5m\", \"1h\", \"1d\" or an integer of seconds", found: found)
        }
        let units = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last.flatMap({ units[String($0)] }), let count = Int(text.dropLast()), count > 0,
            count <= Self.maximumDuration / unit
        else {
            throw error(at: key, "\"\(text.prefix(40))\" is not a duration: use \"90s\", \"5m\", \"1h\", \"1d\" or an integer of seconds (positive, at most 10 years)")
        }
        seconds = count * unit
    }

    mutating func read(_ key: String, into strings: inout [String]) throws {
        guard let found = try lookup(key) else { return }
        guard case .array(let elements) = found else { throw wrongType(key, expected: "an array of strings", found: found) }
        var read: [String] = []
        for element in elements {
            guard case .string(let string) = element else { throw wrongType(key, expected: "an array of strings", found: element) }
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

    /// An error about `key`, at the place in the file where it is defined.
    func error(at key: String, _ message: String) -> ConfigurationError {
        let position = position(of: key.split(separator: ".").map(String.init))
        return ConfigurationError(file: file, line: position?.line, column: position?.column, key: key, message: message)
    }

    /// One warning for each key nobody read, with its line.
    func unknownKeyWarnings() -> [String] {
        var warnings: [String] = []
        func walk(_ table: TOMLTable, path: [String]) {
            for name in table.keys {
                let keyPath = path + [name]
                let dotted = keyPath.joined(separator: ".")
                if known.contains(dotted) { continue }
                if case .table(let child) = table[name], known.contains(where: { $0.hasPrefix(dotted + ".") }) {
                    walk(child, path: keyPath)
                    continue
                }
                let line = table.position(of: name).map { ":\($0.line)" } ?? ""
                let suggestion = KeySuggestion.closest(to: dotted, among: known).map { "; did you mean \($0)?" } ?? ""
                warnings.append("\(file)\(line): unknown key \(ConfigurationError.printable(dotted)) (ignored)\(suggestion)")
            }
        }
        walk(root, path: [])
        return warnings
    }

    // MARK: Private

    private static let maximumDuration = 10 * 366 * 86400

    private mutating func lookup(_ key: String) throws -> TOMLValue? {
        known.insert(key)
        let parts = key.split(separator: ".").map(String.init)
        var table = root
        for (index, part) in parts.enumerated() {
            guard let value = table[part] else { return nil }
            if index == parts.count - 1 { return value }
            guard case .table(let next) = value else {
                throw wrongType(parts[...index].joined(separator: "."), expected: "a table", found: value)
            }
            table = next
        }
        return nil
    }

    /// Where the last part of `path` is defined, through the tables of the others.
    private func position(of path: [String]) -> TOMLPosition? {
        var table = root
        for (index, part) in path.enumerated() {
            if index == path.count - 1 { return table.position(of: part) }
            guard case .table(let next) = table[part] else { return nil }
            table = next
        }
        return nil
    }

    private func wrongType(_ key: String, expected: String, found: TOMLValue) -> ConfigurationError {
        error(at: key, "expected \(expected), found \(found.typeName)")
    }
}
