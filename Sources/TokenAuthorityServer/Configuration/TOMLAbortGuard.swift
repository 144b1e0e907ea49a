/// Finds the malformed TOML that toml++ 3.4.0 (inside TOMLKit) checks with `assert`
/// rather than reporting: SwiftPM builds it without NDEBUG, so such a file would
/// abort the process instead of giving an error that names the line. The shapes,
/// found by the property tests and by fuzzing toml++ itself:
/// - a table header that does not start with a key (`[=`, `[.a]`, `[` alone, `[[[a]]]`);
/// - `}` or a Unicode space where an array element or a value is expected (`[}]`, `[1, }]`);
/// - a date, then `T` or a space and something that is not a time (`1979-05-27 1`).
///
/// Strings and comments are blanked out first, so their contents never match.
enum TOMLAbortGuard {
    /// The 1-based line of the first such construct, or `nil` when toml++ may parse the text.
    static func lineThatWouldAbort(_ text: String) -> Int? {
        let scalars = blankingStringsAndComments(Array(text.unicodeScalars))
        guard let index = headerWithoutKey(scalars) ?? oddCharacterWhereValueExpected(scalars) ?? dateWithoutTime(scalars)
        else { return nil }
        return scalars[..<index].count { $0 == "\n" } + 1
    }

    // MARK: The shapes

    private static func headerWithoutKey(_ scalars: [Unicode.Scalar]) -> Int? {
        var lineStart = 0
        while lineStart < scalars.count {
            var index = lineStart
            while index < scalars.count, [" ", "\t", "\r", "\u{FEFF}"].contains(scalars[index]) { index += 1 }
            if index < scalars.count, scalars[index] == "[" {
                var next = index + 1
                if next < scalars.count, scalars[next] == "[" { next += 1 }
                while next < scalars.count, scalars[next] == " " || scalars[next] == "\t" { next += 1 }
                if next >= scalars.count || !startsKey(scalars[next]) { return index }
            }
            while index < scalars.count, scalars[index] != "\n" { index += 1 }
            lineStart = index + 1
        }
        return nil
    }

    private static func startsKey(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "]" || scalar == "\"" || scalar == "'" || scalar == "_" || scalar == "-"
            || (scalar.isASCII && scalar.properties.isAlphabetic) || ("0"..."9").contains(scalar)
    }

    private static let oddAfterOpening: Set<Unicode.Scalar> = [
        "}", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{180E}", "\u{202F}", "\u{205F}", "\u{2060}",
        "\u{3000}", "\u{FEFF}", "\u{2028}", "\u{2029}",
    ]

    private static func oddCharacterWhereValueExpected(_ scalars: [Unicode.Scalar]) -> Int? {
        for (index, scalar) in scalars.enumerated() where "[,{=".unicodeScalars.contains(scalar) {
            var next = index + 1
            while next < scalars.count, [" ", "\t", "\r", "\n"].contains(scalars[next]) { next += 1 }
            guard next < scalars.count else { continue }
            // `{}` is an empty inline table.
            if scalar == "{", scalars[next] == "}" { continue }
            if oddAfterOpening.contains(scalars[next]) || (0x2000...0x200B).contains(scalars[next].value) { return next }
        }
        return nil
    }

    private static func dateWithoutTime(_ scalars: [Unicode.Scalar]) -> Int? {
        func isDigit(_ index: Int) -> Bool { index < scalars.count && ("0"..."9").contains(scalars[index]) }
        guard scalars.count >= 6 else { return nil }
        for index in 0...(scalars.count - 6)
        where isDigit(index) && scalars[index + 1] == "-" && isDigit(index + 2) && isDigit(index + 3)
            && ["T", "t", " "].contains(scalars[index + 4])
        {
            let after = index + 5
            let isTime = isDigit(after) && isDigit(after + 1) && after + 2 < scalars.count && scalars[after + 2] == ":"
            if isTime { continue }
            // A space may end the date; toml++ reads on only into a digit or a letter.
            if scalars[index + 4] == " ", !(isDigit(after) || scalars[after].properties.isAlphabetic) { continue }
            return index
        }
        return nil
    }

    // MARK: Blanking

    /// The text with every string's contents and every comment replaced by `x` and
    /// spaces; quotes and newlines stay, so positions and line numbers do too.
    private static func blankingStringsAndComments(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out = scalars
        var index = 0
        func starts(_ text: String, at position: Int) -> Bool {
            let pattern = Array(text.unicodeScalars)
            return position + pattern.count <= scalars.count && Array(scalars[position..<position + pattern.count]) == pattern
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "#" {
                while index < scalars.count, scalars[index] != "\n" { out[index] = " "; index += 1 }
            } else if starts("\"\"\"", at: index) || starts("'''", at: index) {
                let delimiter = starts("\"\"\"", at: index) ? "\"\"\"" : "'''"
                index += 3
                while index < scalars.count, !starts(delimiter, at: index) {
                    if delimiter == "\"\"\"", scalars[index] == "\\", index + 1 < scalars.count { out[index] = "x"; index += 1 }
                    if scalars[index] != "\n" { out[index] = "x" }
                    index += 1
                }
                index += 3
            } else if scalar == "\"" || scalar == "'" {
                index += 1
                while index < scalars.count, scalars[index] != scalar, scalars[index] != "\n" {
                    if scalar == "\"", scalars[index] == "\\", index + 1 < scalars.count, scalars[index + 1] != "\n" {
                        out[index] = "x"
                        index += 1
                    }
                    out[index] = "x"
                    index += 1
                }
                index += 1
            } else {
                index += 1
            }
        }
        return out
    }
}
