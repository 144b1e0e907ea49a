import Foundation
import PropertyBased
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

// MARK: - Generators

enum ConfigGen {
    /// Any Unicode scalar: surrogate code points are not scalars, so they are skipped.
    static let anyScalar = Gen<UInt32>.value(in: 0...0x10F7FF).map { Unicode.Scalar($0 < 0xD800 ? $0 : $0 + 0x800)! }
    static let asciiScalar = Gen<UInt32>.value(in: 0x20...0x7E).map { Unicode.Scalar($0)! }
    /// Characters TOML gives a meaning to, and Unicode troublemakers.
    static let specialScalar = Gen<Unicode.Scalar?>.element(
        of: Array("\"'\\#=[]{}.,: \t\n\r-_+".unicodeScalars)
            + ["\u{0}", "\u{1}", "\u{7F}", "\u{A0}", "\u{E9}", "\u{301}", "\u{200D}", "\u{FEFF}", "\u{FFFD}", "\u{2028}",
               "\u{1F600}", "\u{10FFFF}"]
    ).map { $0! }
    static let scalar = Gen<Unicode.Scalar>.frequency(
        (weight: 2, gen: specialScalar), (weight: 4, gen: asciiScalar), (weight: 2, gen: anyScalar))

    static func text(_ length: ClosedRange<Int>) -> Generator<String, some SendableSequenceType> {
        scalar.array(of: length).map { scalars in
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            return text
        }
    }

    /// A non-empty string value of any Unicode (NUL too), as a basic or a literal string.
    static let stringSetting: Generator<(toml: String, value: String), some SendableSequenceType> = zip(
        text(1...24), Gen.bool
    ).map { text, literal in
        (toml: tomlString(text, literal: literal), value: text)
    }

    static let boolSetting = Gen.bool.map { (toml: "\($0)", value: Loaded.bool($0)) }

    /// Ports in every TOML integer spelling: decimal, +, underscores, hex, octal, binary.
    static let portSetting = zip(Gen.int(in: 0...65535), Gen.int(in: 0...5)).map { port, spelling in
        let toml: String
        switch spelling {
        case 1: toml = "+\(port)"
        case 2: toml = port >= 1000 ? "\(port / 1000)_\(String(port % 1000).leftPadded(3))" : "\(port)"
        case 3: toml = "0x" + String(port, radix: 16, uppercase: port % 2 == 0)
        case 4: toml = "0o" + String(port, radix: 8)
        case 5: toml = "0b" + String(port, radix: 2)
        default: toml = "\(port)"
        }
        return (toml: toml, value: Loaded.int(port))
    }

    /// `"90s"`, `"5m"`, `"1h"`, `"1d"` (up to ten years) or an integer of seconds.
    static let durationSetting = zip(Gen.int(in: 0...4), Gen.int(in: 1...maximumDuration), Gen.int(in: 1...120)).map {
        unit, count, small in
        let units: [(String, Int)] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        // Small counts most of the time, the whole range (up to the limit exactly) otherwise
        let limit = unit == 0 ? maximumDuration : maximumDuration / units[unit - 1].1
        let n = count % 3 == 0 ? min(count, limit) : small
        if unit == 0 { return (toml: "\(n)", value: Loaded.int(n)) }
        let (suffix, seconds) = units[unit - 1]
        return (toml: "\"\(n)\(suffix)\"", value: Loaded.int(n * seconds))
    }

    static let hostLabel = Gen<Character?>.element(of: Array("abcdefghijklmnopqrstuvwxyz0123456789")).map { $0! }
        .string(of: 1...10)
    /// `http(s)://host[:port][/path]`, no query, fragment or trailing slash (RFC 8414 §2).
    static let issuerSetting = zip(Gen.bool, hostLabel.array(of: 1...3), Gen.int(in: 0...65535).optional, hostLabel.array(of: 0...2))
        .map { https, labels, port, path in
            let issuer = (https ? "https://" : "http://") + labels.joined(separator: ".") + (port.map { ":\($0)" } ?? "")
                + path.map { "/" + $0 }.joined()
            return (toml: tomlString(issuer), value: Loaded.optionalString(issuer))
        }

    static let scopePattern = Gen<String?>.element(
        of: ["^device_.*", "openid", "email", "[a-z]+", #"\w+"#, "(read|write)", #"^mobile_\d{2,4}$"#, "a.b", #"x\.y"#, ""]
    ).map { $0! }
    static let scopesSetting = scopePattern.array(of: 0...4).map { patterns in
        (toml: "[" + patterns.map { tomlString($0) }.joined(separator: ", ") + "]", value: Loaded.strings(patterns))
    }

    /// Each key absent (its default) or set to a generated valid value.
    static func setting(for key: ConfigKey) -> Generator<Setting?, AnySequence<Any>> {
        func make<S: Sequence>(_ value: Generator<(toml: String, value: Loaded), S>) -> Generator<Setting?, AnySequence<Any>> {
            value.map { Setting(key: key.name, toml: $0.toml, expected: $0.value) }.optional(valueRate: 0.6).eraseToAny()
        }
        switch key.kind {
        case .text: return make(stringSetting.map { (toml: $0.toml, value: Loaded.string($0.value)) })
        case .username:
            // A username is NFC without control characters (README, "Security"): the generator's others are refused.
            return make(
                stringSetting.filter { IdentifierRules.usernameProblem($0.value) == nil }
                    .map { (toml: $0.toml, value: Loaded.string($0.value)) })
        case .password, .optionalText:
            return make(stringSetting.map { (toml: $0.toml, value: Loaded.optionalString($0.value)) })
        case .bool: return make(boolSetting)
        case .port: return make(portSetting)
        case .duration: return make(durationSetting)
        case .issuer: return make(issuerSetting)
        case .scopes: return make(scopesSetting)
        }
    }

    /// A valid set of keys: every known key, absent or valid. Shrinks by dropping keys.
    static let settings: Generator<[Setting], AnySequence<Any>> = ConfigKey.all.map(setting(for:)).reduce(
        Gen<[Setting]>.always([]).eraseToAny()
    ) { settings, setting in
        zip(settings, setting).map { list, next in next.map { list + [$0] } ?? list }.eraseToAny()
    }

    /// What a comment may hold: anything but control characters other than tab.
    static let commentText: Generator<String, some SendableSequenceType> = text(0...20).map { text in
        String(text.unicodeScalars.filter { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) })
    }

    static let layout: Generator<Layout, some SendableSequenceType> = zip(Gen<Spelling>.case.array(of: 4), Gen.bool, Gen.bool, commentText).map {
        spellings, quoted, comments, commentText in
        Layout(spellings: spellings, quotedKeys: quoted, comments: comments, commentText: commentText)
    }

    static let mistake = zip(Gen.int(in: 0...10_000), Gen.int(in: 0...10_000), Gen.bool(0.2)).map {
        Mistake(pick: $0, wrongValue: $1, wholeTable: $2)
    }

    /// Long enough (8 to 24 characters) that finding it in a message is no coincidence.
    static let password: Generator<String, some SendableSequenceType> = text(8...24)

    static let passwordLine = Gen<PasswordLine>.case

    // MARK: Fragments

    static let keyPart = Gen<String?>.element(
        of: Set(ConfigKey.all.flatMap { $0.name.split(separator: ".").map(String.init) } + ["x", "security", "logging"])
            .sorted()
    ).map { $0! }
    static let knownPath = Gen<String?>.element(of: ConfigKey.all.map(\.name) + ConfigKey.tables).map { $0! }
    static let keyPath = Gen<String>.oneOf(knownPath, knownPath, keyPart.array(of: 1...3).map { $0.joined(separator: ".") })

    static let valuePool: [String] =
        ["1", "-1", "0", "65536", "9443", "1.5", "true", "false", "inf", "nan", "0x1F", "1_000", "1979-05-27",
         "07:32:00", "1979-05-27T07:32:00Z", #""90s""#, #""5m""#, #""0s""#, #""x""#, #""""#, "[]", #"["openid"]"#,
         #"["(unclosed"]"#, #"[1, "a"]"#, "{ a = 1 }", "{ enabled = true }", #""https://a.example""#,
         #""https://a.example/""#, "'literal'", #""""multi""""#, #""unterminated"#, "[1, 2", "{ a = ", "9223372036854775808"]
        + ConfigKey.all.flatMap { Mistake.wrongValues(for: $0.kind) }
    static let value = Gen<String>.oneOf(
        Gen<String?>.element(of: valuePool).map { $0! }, Gen<String?>.element(of: valuePool).map { $0! },
        stringSetting.map(\.toml), text(0...12))

    static let fragment = Gen<String>.frequency(
        (weight: 2, gen: keyPath.map { "[\($0)]" }),
        (weight: 1, gen: keyPath.map { "[[\($0)]]" }),
        (weight: 6, gen: zip(keyPath, value).map { "\($0) = \($1)" }),
        (weight: 1, gen: text(0...30)),
        (weight: 1, gen: Gen<String?>.element(of: ["", "# comment", "[", "]", "=", "\"", "'''", "[server", "a.=1"]).map { $0! }))

    static let fragments = fragment.array(of: 0...12)

    static let garbage = Gen<String>.oneOf(text(0...200), fragment.array(of: 0...6).map { $0.joined() })

    static let garbageBytes = Gen.uint8().array(of: 0...200)

    /// Fragments with the password written somewhere among them, in one of several ways.
    static let fragmentFile: Generator<FragmentFile, some SendableSequenceType> = zip(fragments, password, passwordLine).map { fragments, password, passwordLine in
        var lines = fragments
        lines.insert(passwordLine.render(password), at: lines.count / 2)
        return FragmentFile(text: lines.joined(separator: "\n"), password: password, passwordLine: passwordLine)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
