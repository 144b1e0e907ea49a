import Foundation
import TokenAuthority

/// `[database]` (README, "Configuration" and "Scaling out"): the SQLite file by
/// default; with `type = "postgresql"`, a URL without a password, the password
/// from `TOKEN_AUTHORITY_DATABASE_PASSWORD` or `password_file`, TLS and a pool size.
public enum DatabaseConfiguration {
    public static let passwordVariable = "TOKEN_AUTHORITY_DATABASE_PASSWORD"

    static func read(
        _ reader: inout TOMLReader, into database: inout DatabaseSettings, environment: [String: String],
        warnings: inout [String]
    ) throws {
        try reader.read("database.path", into: &database.path)
        try reader.read("database.key_file", into: &database.keyFile)
        var type = database.type.rawValue
        try reader.read("database.type", into: &type)
        guard let kind = DatabaseSettings.Kind(rawValue: type) else {
            throw reader.error(at: "database.type", "must be \"sqlite\" or \"postgresql\", found '\(type)'")
        }
        database.type = kind
        let url = try reader.optionalString("database.url")
        let passwordFile = try reader.optionalString("database.password_file")
        var tls = PostgreSQLSettings.TLSMode.disable.rawValue
        try reader.read("database.tls", into: &tls)
        let caFile = try reader.optionalString("database.ca_file")
        var poolSize = 10
        try reader.read("database.pool_size", into: &poolSize, in: 1...1000)
        guard kind == .postgresql else { return }

        guard let url else {
            throw reader.error(at: "database.url", #"type = "postgresql" needs url = "postgresql://USER@HOST:PORT/DBNAME""#)
        }
        var settings = try parse(url: url, reader: reader)
        guard let mode = PostgreSQLSettings.TLSMode(rawValue: tls) else {
            let modes = PostgreSQLSettings.TLSMode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw reader.error(at: "database.tls", "must be one of \(modes), found '\(tls)'")
        }
        settings.tls = mode
        settings.caFile = caFile
        settings.poolSize = poolSize
        settings.password = try password(
            environment: environment, file: passwordFile, reader: reader, warnings: &warnings)
        database.postgresql = settings
    }

    static func parse(url text: String, reader: TOMLReader) throws -> PostgreSQLSettings {
        do {
            return try PostgreSQLSettings(url: text)
        } catch {
            throw reader.error(at: "database.url", error.description)
        }
    }

    /// The environment variable when set, else the file's first line; `nil` when
    /// neither is given (a server that trusts the connection, or a `.pgpass`-less
    /// socket). Never echoed: errors name the variable or the file, not the value.
    private static func password(
        environment: [String: String], file: String?, reader: TOMLReader, warnings: inout [String]
    ) throws -> String? {
        if let value = environment[passwordVariable], !value.isEmpty { return value }
        guard let file else { return nil }
        do {
            let (password, warning) = try DatabasePasswordFile.read(file)
            if let warning { warnings.append("database.password_file \(warning)") }
            return password
        } catch {
            throw reader.error(at: "database.password_file", error.description)
        }
    }
}

/// A file holding the database password on its first line: `[database] password_file`,
/// and `token-authority db copy --password-file`.
public enum DatabasePasswordFile {
    /// The password, and a warning when users other than the owner may read the file.
    /// Errors and the warning name the file, never its content.
    public static func read(_ file: String) throws(Problem) -> (password: String, warning: String?) {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
        else { throw Problem(description: "cannot read '\(file)'") }
        let warning = SecretFile.openToOthersWarning(file)
        let password = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !password.isEmpty else { throw Problem(description: "'\(file)' is empty") }
        return (password, warning)
    }

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }
}
