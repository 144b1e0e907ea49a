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
