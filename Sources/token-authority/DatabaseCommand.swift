import ArgumentParser
import Foundation
import TokenAuthority
import TokenAuthorityServer
import TokenStorage

/// The database as a whole (README, "Scaling out").
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Move the database to another store.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite database (clients, users, signing keys, every token) into an empty PostgreSQL database.",
            discussion: """
                Stop the servers first: tokens issued after the copy starts stay behind. The whole copy is one \
                transaction, refused when the target holds any row. The password comes from \
                \(DatabaseConfiguration.passwordVariable) or --password-file, never from the command line. The \
                PostgreSQL instances need the same database.key_file, which seals the tokens and signing keys.
                """)

        @OptionGroup var options: ConfigOption

        @Option(help: "The PostgreSQL database to fill: postgresql://USER@HOST:PORT/DBNAME (no password).")
        var to: String

        @Option(help: "A file whose first line is the PostgreSQL password.")
        var passwordFile: String?

        @Option(help: "disable, require or verify-full, as [database] tls.")
        var tls: String = PostgreSQLSettings.TLSMode.disable.rawValue

        @Option(help: "The certificate authorities for --tls verify-full (PEM).")
        var caFile: String?

        func run() async throws {
            let source = try options.loadForExistingDatabase().database
            let target = try targetSettings()
            let copied = try await TokenStorage.copy(from: source, to: target, now: Clock.system.now(), logger: quietLogger)
            let summary = copied.map { "\($0.rows) \($0.table)" }.joined(separator: ", ")
            print("copied \(source.path) to \(target.redactedURL): \(summary)")
            print("point the servers at it with [database] type = \"postgresql\" and the same key_file (\(source.keyFile))")
        }

        private func targetSettings() throws -> PostgreSQLSettings {
            var settings: PostgreSQLSettings
            do {
                settings = try PostgreSQLSettings(url: to)
            } catch {
                throw CommandError("--to: \(error.description)")
            }
            guard let mode = PostgreSQLSettings.TLSMode(rawValue: tls) else {
                let modes = PostgreSQLSettings.TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw CommandError("--tls must be one of \(modes), not '\(tls)'")
            }
            settings.tls = mode
            settings.caFile = caFile
            if let password = ProcessInfo.processInfo.environment[DatabaseConfiguration.passwordVariable],
                !password.isEmpty
            {
                settings.password = password
            } else if let passwordFile {
                do {
                    let (password, warning) = try DatabasePasswordFile.read(passwordFile)
                    if let warning { printError("warning: --password-file \(warning)") }
                    settings.password = password
                } catch {
                    throw CommandError("--password-file: \(error.description)")
                }
            }
            return settings
        }
    }
}
