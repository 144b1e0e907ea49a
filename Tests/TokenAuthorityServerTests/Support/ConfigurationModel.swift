import Foundation
import PropertyBased
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

// The model of the configuration property tests: the known keys, their kinds and values,
// how a file spelling them is rendered, and the mistakes a file may hold.

// MARK: - The model: known keys, their kinds and their values

/// What a key holds once loaded.
enum Loaded: Equatable, Sendable {
    case string(String)
    case optionalString(String?)
    case int(Int)
    case bool(Bool)
    case strings([String])
}

/// A key as the loader knows it when these tests were written.
struct ConfigKey: Sendable {
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
struct Setting: Sendable, CustomStringConvertible {
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
let maximumDuration = 10 * 366 * 86400

/// A TOML basic string: quotes, backslashes and control characters escaped.
func tomlString(_ text: String) -> String {
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
func tomlString(_ text: String, literal: Bool) -> String {
    let literalAllowed = !text.unicodeScalars.contains { $0 == "'" || ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }
    return literal && literalAllowed ? "'\(text)'" : tomlString(text)
}

// MARK: - Rendering a file

/// How each top-level table is written.
enum Spelling: CaseIterable, Sendable {
    /// `[server]` then `[server.tls]`.
    case headers
    /// `[server]` holding `tls.enabled = …`.
    case dottedInHeader
    /// `server.tls.enabled = …` before any header.
    case dottedAtRoot
    /// `server = { port = 1, tls = { enabled = true } }`.
    case inlineTable
}

struct Layout: Sendable, CustomStringConvertible {
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

struct RenderedFile {
    var text: String
    /// The line of each key (and of a table given a value), as the loader should name it.
    var lines: [String: Int]
}

func render(_ settings: [Setting], _ layout: Layout) -> RenderedFile {
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
struct Mistake: Sendable, CustomStringConvertible {
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
enum PasswordLine: CaseIterable, Sendable {
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

struct FragmentFile: Sendable, CustomStringConvertible {
    var text: String
    var password: String
    var passwordLine: PasswordLine
    var description: String { text.debugDescription }
}
