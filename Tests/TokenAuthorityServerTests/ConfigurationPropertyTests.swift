import Foundation
import PropertyBased
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// Bounded property tests of `deployment.toml` reading: valid
/// files in every TOML spelling load back to exactly what they say, one mistake is
/// an error naming its key and line, and nothing (broken TOML, garbage, fragments
/// of known keys with values of every type) crashes the loader, throws anything
/// but `ConfigurationError`, or repeats the super admin's password.
///
/// Only the keys listed in `ConfigKey.all` are generated, so keys added to the
/// loader later keep their defaults here and do not break these properties.
///
/// The bodies never throw: an error thrown inside `propertyCheck` is swallowed by
/// PropertyBased rather than reported, so every outcome is checked with `#expect`.
@Suite("Configuration: property tests of deployment.toml reading")
struct ConfigurationPropertyTests {
    @Test("a generated valid file, in any TOML spelling, loads back to exactly its values")
    func validFilesLoadBack() async {
        await propertyCheck(count: 250, input: ConfigGen.settings, ConfigGen.layout) { settings, layout in
            // Given a valid file setting some of the keys, written with headers, dotted keys or inline tables
            let file = render(settings, layout)

            // When it is parsed
            let result = Result { try ConfigurationLoader.parse(file.text, file: "deployment.toml") }

            // Then every key it sets has the generated value, every other key its default, with no warning
            guard case .success(let loaded) = result else {
                Issue.record("a valid file was refused: \(describe(result))")
                return
            }
            #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
            let defaults = DeploymentConfiguration()
            for key in ConfigKey.all {
                let expected = settings.first { $0.key == key.name }?.expected ?? key.read(defaults)
                #expect(key.read(loaded.configuration) == expected, "\(key.name)")
            }
        }
    }

    @Test("one value of a wrong type or out of range: an error naming its key and line, never the password")
    func oneMistakeNamesKeyAndLine() async {
        await propertyCheck(count: 300, input: ConfigGen.settings, ConfigGen.layout, ConfigGen.mistake, ConfigGen.password) {
            settings, layout, mistake, password in
            // Given a valid file with a password, and one key (or a whole table) given a wrong value
            var settings = settings.filter { $0.key != "super_admin.password" }
            settings.append(Setting(key: "super_admin.password", toml: tomlString(password), expected: .optionalString(password)))
            let wrong = mistake.apply(to: &settings)
            let file = render(settings, layout)

            // When it is parsed
            let result = Result { try ConfigurationLoader.parse(file.text, file: "deployment.toml") }

            // Then it is a ConfigurationError naming the file, that key and its line
            guard case .failure(let failure) = result, let error = failure as? ConfigurationError else {
                Issue.record("\(wrong.key) = \(wrong.toml) gave \(describe(result))")
                return
            }
            #expect(error.file == "deployment.toml")
            #expect(error.key == wrong.key, "\(error)")
            // And its line exactly, and a column, as FILE:LINE:COLUMN: KEY:
            let expectedLine = file.lines[wrong.key] ?? 0
            #expect(error.line == expectedLine, "\(error)")
            #expect(error.column.map { $0 >= 1 } == true, "\(error)")
            let prefix = "deployment.toml:\(expectedLine):\(error.column ?? 0): \(wrong.key): "
            #expect(error.description.hasPrefix(prefix), "\(error)")
            // And it does not repeat the password
            #expect(!leaks(password, in: error), "the password appears in the error for \(wrong.key)")
        }
    }

    @Test("TOML-ish fragments of known keys and values of any type: loaded or a ConfigurationError, never the password")
    func fragmentsNeverCrashOrLeak() async {
        await propertyCheck(count: 400, input: ConfigGen.fragmentFile) { file in
            // Given lines of known keys, tables and values of every type (some broken), and the password somewhere
            // When it is parsed
            let result = Result { try ConfigurationLoader.parse(file.text, file: "deployment.toml") }

            // Then it loads, or fails with a ConfigurationError that names the key it is about
            checkOutcome(result, text: file.text)
            // And no error repeats the password
            if case .failure(let error as ConfigurationError) = result {
                #expect(!leaks(file.password, in: error), "the password appears in an error (\(file.passwordLine))")
            }
        }
    }

    @Test("arbitrary text: loaded or a ConfigurationError, never a crash")
    func arbitraryTextNeverCrashes() async {
        await propertyCheck(count: 400, input: ConfigGen.garbage) { text in
            // Given any text: Unicode, control characters, brackets, quotes, NUL
            // When it is parsed
            let result = Result { try ConfigurationLoader.parse(text, file: "deployment.toml") }

            // Then it loads, or fails with a ConfigurationError naming the file
            checkOutcome(result, text: text)
        }
    }

    /// Malformed files that made the earlier C++ TOML parser abort the process (an
    /// assertion, SIGABRT) or trap: headers without a key, a `}` or a Unicode space where
    /// a value belongs, dates run into other characters, a NUL key. Each must be an error
    /// naming the file, its line and column.
    @Test(
        "malformed TOML that once crashed the process is an error naming its line and column",
        arguments: [
            "[=", "[.oauth]\nissuer = \"https://a.example\"", "[server]\nport = 1\n[\n", "[[[a]]]", "[ #", "[[[x]]", "[&",
            "[oauth]\nallowed_scopes = [}]", "[oauth]\nallowed_scopes = [\"a\", }]", "[oauth]\nallowed_scopes = [\u{2028}]",
            "x = [1979-05-27 1]", "x = { a = 1979-05-27 1 }", "x = 1979-05-27Tf:", "a = 1--------- 1\n",
            "[server]\nport = 1979-05-2- 1\n",
        ])
    func onceFatalInputsAreErrors(_ text: String) throws {
        // Given a malformed file of a kind that crashed the earlier parser
        // When it is parsed
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(text, file: "deployment.toml")
        }

        // Then it is an error naming the file, a line and a column, not a crash
        #expect(error?.file == "deployment.toml")
        #expect(error?.line != nil && error?.column != nil, "\(error.map(String.init(describing:)) ?? "no error")")
    }

    /// Valid TOML the earlier parser's crash guard refused by its shape: arrays whose
    /// first element is an array or an inline table.
    @Test("arrays that open with an array or an inline table are valid, and load (as unknown keys)")
    func nestedArraysLoad() throws {
        let loaded = try ConfigurationLoader.parse("x = [ [1, 2], [3] ]\ny = [{ a = 1 }, { a = 2 }]\nz = [[1], [\"a\"]]\n", file: "deployment.toml")
        #expect(loaded.warnings.count == 3, "\(loaded.warnings)")
    }

    /// A quoted key may hold any character, NUL included (TOML 1.0.0, "Keys"); the earlier
    /// parser trapped on one while listing unknown keys.
    @Test("a key holding a NUL is an unknown key, warned about with the NUL escaped")
    func nulKeyIsWarnedAbout() throws {
        let loaded = try ConfigurationLoader.parse("\"\\u0000\" = 1\n\"a\\u001Bb\" = 2\n", file: "deployment.toml")
        #expect(loaded.warnings == [
            "deployment.toml:1: unknown key \\u{0} (ignored)", "deployment.toml:2: unknown key a\\u{1b}b (ignored)",
        ])
    }

    /// An escaped NUL (`\u0000`) is valid TOML in a string; the earlier parser read strings
    /// back as C strings and cut them there, so `"ab\u0000cd"` loaded as a shorter password.
    @Test("a string holding an escaped NUL loads whole")
    func nulInStringIsKept() throws {
        // Given a password with an escaped NUL in the middle (a username may hold no control character)
        let text = "[super_admin]\npassword = \"ab\\u0000cd\"\n"

        // When the file is parsed
        let loaded = try ConfigurationLoader.parse(text, file: "deployment.toml")

        // Then it is read whole (counts only: a test never prints a password)
        #expect(loaded.configuration.superAdmin.password?.unicodeScalars.count == 5)
    }

    /// A bracket, brace or comma inside a string is no part of the inline table around it
    /// (the earlier parser's line index lost the key's line here).
    @Test(
        "a key in an inline table after a string holding a bracket has its line",
        arguments: [
            (#"oauth = { jwt = { signing_key = "]" }, token_renewal = { renew_access_token_per_request = "true" } }"#,
             "oauth.token_renewal.renew_access_token_per_request"),
            (#"server = { hostname = "[", port = "x" }"#, "server.port"),
        ])
    func inlineTableKeyAfterBracketInStringHasItsLine(_ line: String, _ key: String) throws {
        // Given an inline table on line 2 with a wrong value after a string holding a bracket
        let text = "# deployment.toml\n" + line + "\n"

        // When it is parsed
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(text, file: "deployment.toml")
        }

        // Then the error names the key, and its line
        #expect(error?.key == key)
        #expect(error?.line == 2)
    }

    /// TOML ends a line with LF or CRLF only (TOML 1.0.0, "Spec"): U+2028, U+2029 and U+0085
    /// inside a string end none (the earlier parser's line index counted them).
    @Test(
        "a Unicode line separator inside a string does not shift later lines",
        arguments: ["\u{2028}", "\u{2029}", "\u{85}"])
    func unicodeLineSeparatorsDoNotCountAsLines(_ separator: String) throws {
        // Given a string holding the separator on line 1, and a wrong value on line 2
        let text = "database.key_file = \"a\(separator)b\"\ndatabase.path = 42\n"

        // When it is parsed
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(text, file: "deployment.toml")
        }

        // Then the error names line 2
        #expect(error?.key == "database.path")
        #expect(error?.line == 2)
    }

    @Test("arbitrary bytes in the file: loaded or a ConfigurationError naming the file")
    func arbitraryFileBytes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("deployment.toml")
        await propertyCheck(count: 40, input: ConfigGen.garbageBytes) { bytes in
            // Given a file of any bytes (invalid UTF-8 among them)
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                Issue.record("cannot write \(path)")
                return
            }

            // When it is loaded
            let result = Result { try ConfigurationLoader.load(path: path, required: true) }

            // Then it loads, or fails with a ConfigurationError naming the file
            if case .failure(let error) = result {
                #expect((error as? ConfigurationError)?.file == path, "\(error)")
            }
        }
    }
}

// MARK: - Checks

/// Loaded, or a `ConfigurationError` naming the file, a line of the text, and a key
/// whose every part is written in the text.
private func checkOutcome(_ result: Result<ConfigurationLoader.Loaded, any Error>, text: String) {
    guard case .failure(let failure) = result else { return }
    guard let error = failure as? ConfigurationError else {
        Issue.record("not a ConfigurationError: \(String(reflecting: failure))")
        return
    }
    #expect(error.file == "deployment.toml")
    #expect(!error.message.isEmpty)
    let lineCount = text.unicodeScalars.filter { $0 == "\n" }.count + 1
    if let line = error.line {
        #expect((1...lineCount + 1).contains(line), "\(error)")
    }
    if let key = error.key, !error.message.hasPrefix("invalid TOML") {
        #expect(error.description.contains(key), "\(error)")
        for part in key.split(separator: ".") {
            #expect(text.contains(part), "\(error)")
        }
    }
}

/// Whether the error shows the password, whole or any eight characters of it.
private func leaks(_ password: String, in error: ConfigurationError) -> Bool {
    let shown = "\(error.description) \(error.message) \(error.key ?? "")"
    let characters = Array(password)
    let window = min(8, characters.count)
    guard window > 0 else { return false }
    return (0...(characters.count - window)).contains { shown.contains(String(characters[$0..<$0 + window])) }
}

private func describe(_ result: Result<ConfigurationLoader.Loaded, any Error>) -> String {
    switch result {
    case .success: "success"
    case .failure(let error): String(reflecting: error)
    }
}

// MARK: - The model: known keys, their kinds and their values

/// What a key holds once loaded.
private enum Loaded: Equatable, Sendable {
    case string(String)
    case optionalString(String?)
    case int(Int)
    case bool(Bool)
    case strings([String])
}

/// A key as the loader knows it when these tests were written.
private struct ConfigKey: Sendable {
    enum Kind: Sendable { case text, username, password, optionalText, bool, port, duration, issuer, scopes }

    let name: String
    let kind: Kind
    let read: @Sendable (DeploymentConfiguration) -> Loaded

    static let all: [ConfigKey] = [
        ConfigKey(name: "server.hostname", kind: .text) { .string($0.server.hostname) },
        ConfigKey(name: "server.port", kind: .port) { .int($0.server.port) },
        ConfigKey(name: "server.tls.enabled", kind: .bool) { .bool($0.server.tls.enabled) },
        ConfigKey(name: "server.tls.certificate", kind: .text) { .string($0.server.tls.certificate) },
        ConfigKey(name: "server.tls.private_key", kind: .text) { .string($0.server.tls.privateKey) },
        ConfigKey(name: "database.path", kind: .text) { .string($0.database.path) },
        ConfigKey(name: "database.key_file", kind: .text) { .string($0.database.keyFile) },
        ConfigKey(name: "super_admin.username", kind: .username) { .string($0.superAdmin.username) },
        ConfigKey(name: "super_admin.password", kind: .password) { .optionalString($0.superAdmin.password) },
        ConfigKey(name: "super_admin.create_admin_account", kind: .bool) { .bool($0.superAdmin.createAdminAccount) },
        ConfigKey(name: "oauth.issuer", kind: .issuer) { .optionalString($0.configuredIssuer) },
        ConfigKey(name: "oauth.allowed_scopes", kind: .scopes) { .strings($0.oauth.allowedScopes) },
        ConfigKey(name: "oauth.jwt.signing_key", kind: .optionalText) { .optionalString($0.jwt.signingKey) },
        ConfigKey(name: "oauth.token_renewal.renew_access_token_per_request", kind: .bool) {
            .bool($0.oauth.renewAccessTokenPerRequest)
        },
        ConfigKey(name: "oauth.token_renewal.renew_refresh_token", kind: .bool) { .bool($0.oauth.renewRefreshToken) },
        ConfigKey(name: "oauth.token_renewal.extend_refresh_token_expiry_time_on_renewal", kind: .bool) {
            .bool($0.oauth.extendRefreshTokenExpiryTimeOnRenewal)
        },
        ConfigKey(name: "oauth.token_validation.app_access_token_validity", kind: .duration) {
            .int($0.oauth.appAccessTokenValidity)
        },
        ConfigKey(name: "oauth.token_validation.user_access_token_validity", kind: .duration) {
            .int($0.oauth.userAccessTokenValidity)
        },
        ConfigKey(name: "oauth.token_validation.refresh_token_validity", kind: .duration) {
            .int($0.oauth.refreshTokenValidity)
        },
        ConfigKey(name: "oauth.token_cleanup.enable", kind: .bool) { .bool($0.tokenCleanup.enable) },
        ConfigKey(name: "oauth.token_cleanup.retain_inactive_tokens_for", kind: .duration) {
            .int($0.tokenCleanup.retainInactiveTokensFor)
        },
    ]

    /// The tables the keys live in.
    static let tables = [
        "server", "server.tls", "database", "super_admin", "oauth", "oauth.jwt", "oauth.token_renewal",
        "oauth.token_validation", "oauth.token_cleanup",
    ]
}

/// One key of a generated file: its TOML value as written, and what it should load as.
private struct Setting: Sendable, CustomStringConvertible {
    var key: String
    var toml: String
    var expected: Loaded?
    var description: String { "\(key) = \(toml)" }

    /// The strings the value holds (a valid one; a wrong value's are not tracked).
    var stringValues: [String] {
        switch expected {
        case .string(let text), .optionalString(let text?): [text]
        case .strings(let texts): texts
        default: []
        }
    }
}

/// The longest duration the loader takes: ten years of 366 days.
private let maximumDuration = 10 * 366 * 86400

/// A TOML basic string: quotes, backslashes and control characters escaped.
private func tomlString(_ text: String) -> String {
    var quoted = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        case "\t": quoted += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            quoted += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                + String(scalar.value, radix: 16, uppercase: true)
        default: quoted.unicodeScalars.append(scalar)
        }
    }
    return quoted + "\""
}

/// A TOML literal string when the text can be one, else a basic string.
private func tomlString(_ text: String, literal: Bool) -> String {
    let literalAllowed = !text.unicodeScalars.contains { $0 == "'" || ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }
    return literal && literalAllowed ? "'\(text)'" : tomlString(text)
}

// MARK: - Rendering a file

/// How each top-level table is written.
private enum Spelling: CaseIterable, Sendable {
    /// `[server]` then `[server.tls]`.
    case headers
    /// `[server]` holding `tls.enabled = …`.
    case dottedInHeader
    /// `server.tls.enabled = …` before any header.
    case dottedAtRoot
    /// `server = { port = 1, tls = { enabled = true } }`.
    case inlineTable
}

private struct Layout: Sendable, CustomStringConvertible {
    /// One spelling for each of server, database, super_admin, oauth.
    var spellings: [Spelling]
    var quotedKeys: Bool
    var comments: Bool
    var commentText: String
    var description: String { "\(spellings) quoted: \(quotedKeys) comments: \(comments) \(commentText.debugDescription)" }

    static let groups = ["server", "database", "super_admin", "oauth"]

    func spelling(of group: String) -> Spelling {
        spellings[(Self.groups.firstIndex(of: group) ?? 0) % spellings.count]
    }
}

private struct RenderedFile {
    var text: String
    /// The line of each key (and of a table given a value), as the loader should name it.
    var lines: [String: Int]
}

private func render(_ settings: [Setting], _ layout: Layout) -> RenderedFile {
    var root: [(text: String, keys: [String])] = []
    var blocks: [(text: String, keys: [String])] = []
    let comment = layout.comments ? " # " + layout.commentText : ""

    func key(_ part: String) -> String { layout.quotedKeys ? "\"\(part)\"" : part }
    func path(_ parts: some Sequence<Substring>) -> String { parts.map { key(String($0)) }.joined(separator: ".") }

    for group in Layout.groups {
        let members = settings.filter { $0.key == group || $0.key.hasPrefix(group + ".") }
        guard !members.isEmpty else { continue }
        // A table given a value is written in place of the table
        if let whole = members.first(where: { $0.key == group }) {
            root.append(("\(key(group)) = \(whole.toml)\(comment)", [group]))
            continue
        }
        let relative = members.map { (parts: $0.key.split(separator: ".").dropFirst(), setting: $0) }
        switch layout.spelling(of: group) {
        case .headers:
            let direct = relative.filter { $0.parts.count == 1 }
            blocks.append(("[\(key(group))]\(comment)", []))
            for member in direct { blocks.append(("\(path(member.parts)) = \(member.setting.toml)\(comment)", [member.setting.key])) }
            var subtables: [Substring] = []
            for member in relative where member.parts.count > 1 && !subtables.contains(member.parts.first!) {
                subtables.append(member.parts.first!)
            }
            for subtable in subtables {
                blocks.append(("[\(key(group)).\(key(String(subtable)))]", []))
                for member in relative where member.parts.count > 1 && member.parts.first == subtable {
                    blocks.append(("\(path(member.parts.dropFirst())) = \(member.setting.toml)\(comment)", [member.setting.key]))
                }
            }
        case .dottedInHeader:
            blocks.append(("[\(key(group))]", []))
            for member in relative { blocks.append(("\(path(member.parts)) = \(member.setting.toml)", [member.setting.key])) }
        case .dottedAtRoot:
            for member in relative {
                root.append(("\(key(group)).\(path(member.parts)) = \(member.setting.toml)\(comment)", [member.setting.key]))
            }
        case .inlineTable:
            var items: [String] = []
            var subtables: [Substring: [String]] = [:]
            var order: [Substring] = []
            for member in relative {
                if member.parts.count == 1 {
                    items.append("\(path(member.parts)) = \(member.setting.toml)")
                } else {
                    let name = member.parts.first!
                    if subtables[name] == nil { order.append(name) }
                    subtables[name, default: []].append("\(path(member.parts.dropFirst())) = \(member.setting.toml)")
                }
            }
            items += order.map { "\(key(String($0))) = { \(subtables[$0]!.joined(separator: ", ")) }" }
            root.append(("\(key(group)) = { \(items.joined(separator: ", ")) }\(comment)", members.map(\.key)))
        }
    }

    var text: [String] = layout.comments ? ["# deployment.toml" + comment, ""] : []
    var lines: [String: Int] = [:]
    for line in root + blocks {
        text.append(line.text)
        for key in line.keys { lines[key] = text.count }
        if layout.comments { text.append("") }
    }
    return RenderedFile(text: text.joined(separator: "\n") + "\n", lines: lines)
}

// MARK: - Mistakes

/// One wrong value: for a key, or a whole table given a value.
private struct Mistake: Sendable, CustomStringConvertible {
    var pick: Int
    var wrongValue: Int
    var wholeTable: Bool
    var description: String { "pick \(pick), wrong value \(wrongValue), whole table \(wholeTable)" }

    /// Values no key of that kind takes (each a valid TOML value).
    static func wrongValues(for kind: ConfigKey.Kind) -> [String] {
        let nonStrings = ["42", "1.5", "true", #"["a"]"#, "{ a = 1 }", "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "[]"]
        switch kind {
        case .text: return nonStrings + [#""""#, "''"]
        case .username: return nonStrings + [#""""#, "''", #""jose\u0301""#, #""\u212A""#]
        case .password: return nonStrings
        case .optionalText: return nonStrings + [#""""#]
        case .issuer:
            return nonStrings + [
                #""""#, #""tokens""#, #""ftp://a.example""#, #""https://a.example?x=1""#, #""https://a.example#f""#,
                #""https://a.example/""#, #""https://""#, #""https:///path""#,
            ]
        case .bool: return [#""true""#, "1", "0", "[true]", "1.0", "{ a = true }", "1979-05-27", #""""#]
        case .port:
            return [#""9443""#, "9443.0", "-1", "65536", "9223372036854775807", "true", "[1]", "{ port = 1 }", "inf", "nan"]
        case .duration:
            return [
                #""5x""#, #""1.5h""#, #""h""#, #""""#, #""0s""#, #""-5m""#, #""10 m""#, #""1h ""#, #""5M""#,
                #""3661d""#, #""87841h""#, #""5270401m""#, "\"\(maximumDuration + 1)s\"", "\(maximumDuration + 1)",
                "0", "-1", "1.5", "true", "[1]", "{ s = 1 }", "1979-05-27",
            ]
        case .scopes:
            return [
                #""openid""#, #"["openid", 1]"#, #"[["a"]]"#, #"["(unclosed"]"#, #"["[z-a]"]"#, #"["a", "*"]"#,
                #"{ a = "b" }"#, "1", "true",
            ]
        }
    }

    static let tableValues = ["5", #""x""#, "true", "[1]", "1.5", "1979-05-27"]

    /// Puts the mistake into the settings; returns the setting that is wrong.
    func apply(to settings: inout [Setting]) -> Setting {
        if wholeTable {
            let table = ConfigKey.tables[pick % ConfigKey.tables.count]
            settings.removeAll { $0.key == table || $0.key.hasPrefix(table + ".") }
            let wrong = Setting(key: table, toml: Self.tableValues[wrongValue % Self.tableValues.count], expected: nil)
            settings.append(wrong)
            return wrong
        }
        let key = ConfigKey.all[pick % ConfigKey.all.count]
        let values = Self.wrongValues(for: key.kind)
        let wrong = Setting(key: key.name, toml: values[wrongValue % values.count], expected: nil)
        settings.removeAll { $0.key == key.name }
        settings.append(wrong)
        return wrong
    }
}

// MARK: - Fragments

/// Where and how the password is written among the fragments.
private enum PasswordLine: CaseIterable, Sendable {
    case dotted, inTable, unterminated, bare, twoStrings, inArray, badEscape, unterminatedMultiline, inInlineTable
    case asKeyOfTable, literal, literalUnterminated

    func render(_ password: String) -> String {
        switch self {
        case .dotted: "super_admin.password = \(tomlString(password))"
        case .inTable: "[super_admin]\npassword = \(tomlString(password))"
        case .unterminated: "[super_admin]\npassword = \"\(password)\n"
        case .bare: "super_admin.password = \(password)"
        case .twoStrings: "super_admin.password = '\(password)' '\(password)'"
        case .inArray: "super_admin.password = [\(tomlString(password))]"
        case .badEscape: "super_admin.password = \"\(password)\\q\""
        case .unterminatedMultiline: "super_admin.password = \"\"\"\(password)"
        case .inInlineTable: "super_admin = { password = \(tomlString(password)), username = 1 }"
        case .asKeyOfTable: "[super_admin.password]\nvalue = \(tomlString(password))"
        case .literal: "super_admin.password = '\(password)'"
        case .literalUnterminated: "super_admin.password = '\(password)"
        }
    }
}

private struct FragmentFile: Sendable, CustomStringConvertible {
    var text: String
    var password: String
    var passwordLine: PasswordLine
    var description: String { text.debugDescription }
}

// MARK: - Generators

private enum ConfigGen {
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
