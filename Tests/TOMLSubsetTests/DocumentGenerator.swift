/// Generates TOML documents of the supported subset (plus, rarely, dates and
/// arrays of tables), and mutations of them, for the differential and
/// property tests. Documents are mostly valid; a small key pool makes
/// duplicate keys and table redefinitions (valid or not) frequent.
struct DocumentGenerator {
    var random: SeededRandom
    private var newline = "\n"
    private var smallKeyPool = false

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    // MARK: Documents

    mutating func document() -> String {
        newline = random.chance(0.25) ? "\r\n" : "\n"
        smallKeyPool = random.chance(0.4)
        var lines: [String] = []
        for _ in 0..<random.int(0...4) {
            lines.append(contentsOf: filler())
            lines.append(keyValue(depth: 0) + trailingComment())
        }
        for _ in 0..<random.int(0...4) {
            lines.append(contentsOf: filler())
            lines.append(header() + trailingComment())
            for _ in 0..<random.int(0...3) {
                lines.append(keyValue(depth: 0) + trailingComment())
            }
        }
        let bom = random.chance(0.02) ? "\u{FEFF}" : ""
        return bom + lines.joined(separator: newline) + (random.chance(0.7) ? newline : "")
    }

    /// Applies one to three random edits: delete, insert, duplicate, swap or
    /// replace characters, inserting TOML-significant tokens.
    mutating func mutate(_ document: String) -> String {
        var scalars = Array(document.unicodeScalars)
        for _ in 0..<random.int(1...3) {
            let token = Array(random.pick(Self.mutationTokens).unicodeScalars)
            let at = random.int(0...scalars.count)
            switch random.int(0...4) {
            case 0 where !scalars.isEmpty:
                scalars.remove(at: random.int(0...(scalars.count - 1)))
            case 1:
                scalars.insert(contentsOf: token, at: at)
            case 2 where !scalars.isEmpty:
                let start = random.int(0...(scalars.count - 1))
                let end = min(scalars.count, start + random.int(1...12))
                scalars.insert(contentsOf: scalars[start..<end], at: at)
            case 3 where scalars.count >= 2:
                let first = random.int(0...(scalars.count - 2))
                scalars.swapAt(first, first + 1)
            default:
                if at < scalars.count {
                    scalars.replaceSubrange(at...at, with: token)
                } else {
                    scalars.append(contentsOf: token)
                }
            }
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    static let mutationTokens = [
        "\"", "'", "[", "]", "=", ".", ",", "{", "}", "#", "\n", "\r\n", "\r", "\u{0}",
        "0", "1", "7", "9", "-", "+", ":", "T", "Z", "_", "e", "E", "x", " ", "\t", "\\", "u",
        "1979-05-27", "07:32:00", "T07:32:00Z", "[[", "]]", "é", "\u{7F}", "\"\"\"", "'''",
        "inf", "nan", "true", "a", "a.b", "= 1", "{}", "[]",
    ]

    // MARK: Lines

    private mutating func filler() -> [String] {
        var lines: [String] = []
        if random.chance(0.3) { lines.append("") }
        if random.chance(0.3) { lines.append(whitespace() + "# " + commentText()) }
        return lines
    }

    private mutating func trailingComment() -> String {
        random.chance(0.2) ? whitespace() + " #" + commentText() : ""
    }

    private mutating func commentText() -> String {
        String(random.pick(["", "note", "a = 1", "é ünïcode", "[x]", "tab\there", "#", "\"q\""]))
    }

    private mutating func whitespace() -> String {
        random.pick(["", "", " ", "  ", "\t", " \t"])
    }

    private mutating func header() -> String {
        if random.chance(0.03) {
            return "[[" + key() + "]]"
        }
        return whitespace() + "[" + whitespace() + key() + whitespace() + "]"
    }

    private mutating func keyValue(depth: Int) -> String {
        whitespace() + key() + whitespace() + "=" + whitespace() + value(depth: depth)
    }

    // MARK: Keys

    private mutating func key() -> String {
        var parts: [String] = []
        for _ in 0..<random.int(random.chance(0.6) ? 1...1 : 2...3) {
            parts.append(keyPart())
        }
        return parts.joined(separator: random.pick([".", ".", " . ", ".\t"]))
    }

    private mutating func keyPart() -> String {
        if smallKeyPool {
            let name = random.pick(["a", "b", "c"])
            return random.pick([name, name, "\"\(name)\"", "'\(name)'"])
        }
        switch random.int(0...9) {
        case 0...5:
            let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
            return String((0..<random.int(1...6)).map { _ in random.pick(alphabet) })
        case 6...7:
            return "\"" + basicStringContent(allowNewlines: false) + "\""
        default:
            return "'" + literalContent() + "'"
        }
    }

    // MARK: Values

    private mutating func value(depth: Int) -> String {
        let nested = depth < 3
        switch random.int(0...19) {
        case 0...2: return integer()
        case 3...4: return float()
        case 5: return random.pick(["true", "false"])
        case 6...8: return "\"" + basicStringContent(allowNewlines: false) + "\""
        case 9: return "'" + literalContent() + "'"
        case 10: return multilineBasic()
        case 11: return multilineLiteral()
        case 12...14 where nested: return array(depth: depth + 1)
        case 15...17 where nested: return inlineTable(depth: depth + 1)
        case 18 where random.chance(0.2):
            return random.pick(["1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00.999"])
        default: return integer()
        }
    }

    private mutating func integer() -> String {
        switch random.int(0...9) {
        case 0: return random.pick(["0", "+0", "-0", "9223372036854775807", "-9223372036854775808"])
        case 1: return "0x" + withUnderscores(String(UInt64(random.next() >> UInt64(random.int(1...63))), radix: 16, uppercase: random.chance(0.5)))
        case 2: return "0o" + withUnderscores(String(random.int(0...99_999), radix: 8))
        case 3: return "0b" + withUnderscores(String(random.int(0...4096), radix: 2))
        case 4 where random.chance(0.1): return random.pick(["9223372036854775808", "-9223372036854775809", "0xFFFFFFFFFFFFFFFF"])
        default:
            let magnitude = String(UInt64(random.next() >> UInt64(random.int(1...63))))
            return random.pick(["", "", "+", "-"]) + withUnderscores(magnitude)
        }
    }

    private mutating func float() -> String {
        switch random.int(0...7) {
        case 0: return random.pick(["inf", "+inf", "-inf", "nan", "+nan", "-nan", "-0.0", "0.0", "0e0", "1e400", "-1e-400"])
        case 1: return random.pick(["", "-", "+"]) + digits() + random.pick(["e", "E"]) + random.pick(["", "+", "-"]) + digits(maximum: 3)
        default:
            var text = random.pick(["", "-", "+"]) + withUnderscores(String(random.int(0...999_999))) + "." + withUnderscores(digits())
            if random.chance(0.3) {
                text += "e" + random.pick(["", "-", "+"]) + digits(maximum: 2)
            }
            return text
        }
    }

    private mutating func digits(maximum: Int = 17) -> String {
        String((0..<random.int(1...maximum)).map { _ in random.pick(Array("0123456789")) })
    }

    /// Inserts underscores between some digits.
    private mutating func withUnderscores(_ digits: String) -> String {
        guard random.chance(0.3) else { return digits }
        var result = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0 && random.chance(0.3) { result.append("_") }
            result.append(character)
        }
        return result
    }

    private static let plainCharacters = Array("abcXYZ 019 ~!@$%^&*()[]{}=,.#'`é€😀\u{212A}K\t")

    private mutating func basicStringContent(allowNewlines: Bool) -> String {
        var text = ""
        for _ in 0..<random.int(0...8) {
            switch random.int(0...9) {
            case 0...5: text.append(random.pick(Self.plainCharacters))
            case 6: text += random.pick(["\\b", "\\t", "\\n", "\\f", "\\r", "\\\"", "\\\\"])
            case 7: text += "\\u" + hex(random.pick([0, 0x1F, 0x7F, 0xE9, 0x212A, 0xFFFF, random.int(0...0xD7FF)]), width: 4)
            case 8: text += "\\U" + hex(random.pick([0x1F600, 0x10FFFF, 0, random.int(0xE000...0x10FFFF)]), width: 8)
            default: text += allowNewlines ? random.pick(["\n", "\"", "\"\"x", "\\\n  ", "\\  \n\n "]) : "é"
            }
        }
        return text
    }

    private mutating func literalContent() -> String {
        String((0..<random.int(0...8)).map { _ in random.pick(Self.plainCharacters.filter { $0 != "'" } + ["\\", "\""]) })
    }

    private mutating func multilineBasic() -> String {
        let opening = random.chance(0.5) ? "\"\"\"" + newline : "\"\"\""
        let content = basicStringContent(allowNewlines: true).replacingNewlines(with: newline)
        return opening + content + "\"\"\"" + String(repeating: "\"", count: random.int(0...2))
    }

    private mutating func multilineLiteral() -> String {
        let opening = random.chance(0.5) ? "'''" + newline : "'''"
        var content = ""
        for _ in 0..<random.int(0...4) {
            content += literalContent() + random.pick(["", newline, "'", "''x"])
        }
        return opening + content + "'''" + String(repeating: "'", count: random.int(0...2))
    }

    private mutating func array(depth: Int) -> String {
        let multiline = random.chance(0.3)
        var items: [String] = []
        for _ in 0..<random.int(0...4) {
            var item = value(depth: depth)
            if multiline && random.chance(0.3) { item += " # element" }
            items.append(item)
        }
        let separator = multiline ? "," + newline + "  " : random.pick([",", ", ", " , "])
        var body = items.joined(separator: separator)
        if !items.isEmpty && random.chance(0.3) { body += "," }
        return multiline ? "[" + newline + "  " + body + newline + "]" : "[" + body + "]"
    }

    private mutating func inlineTable(depth: Int) -> String {
        var pairs: [String] = []
        for _ in 0..<random.int(0...3) {
            pairs.append(key() + " = " + value(depth: depth))
        }
        return "{" + whitespace() + pairs.joined(separator: ", ") + whitespace() + "}"
    }

    private func hex(_ value: Int, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

private extension String {
    func replacingNewlines(with newline: String) -> String {
        newline == "\n" ? self : split(separator: "\n", omittingEmptySubsequences: false).joined(separator: newline)
    }
}
