import ArgumentParser
import Foundation
import Logging
import TokenAuthority
import TokenAuthorityServer
import TokenStorage

/// `--config FILE`, shared by every command.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The deployment.toml to read (default: ./deployment.toml, or the embedded defaults when absent).")
    var config: String?

    @Option(
        name: .long,
        help: "A folder of NNNN_name.sql migrations to apply instead of the ones compiled into the binary.")
    var migrations: String?

    /// The migrations to apply: `--migrations DIR`; `nil`: the ones compiled in for the configured store.
    func migrationFiles() throws -> [Migration]? {
        try migrations.map(Migration.load(from:))
    }

    @Flag(help: "Treat an unknown key in the configuration as an error, not a warning.")
    var strictConfig = false

    /// Loads the configuration; warnings about unknown keys go to stderr.
    func load() throws -> DeploymentConfiguration {
        let loaded = try loadWithWarnings()
        for warning in loaded.warnings { printError("warning: \(warning)") }
        return loaded.configuration
    }

    /// Loads the configuration and hands the warnings back (`serve` logs them); with
    /// `--strict-config` an unknown key is an error instead.
    func loadWithWarnings() throws -> ConfigurationLoader.Loaded {
        let loaded = try ConfigurationLoader.load(path: config ?? "deployment.toml", required: config != nil)
        if strictConfig, !loaded.unknownKeys.isEmpty {
            throw CommandError(
                loaded.unknownKeys.map { $0.replacingOccurrences(of: " (ignored)", with: "") }.joined(separator: "\n")
                    + "\n--strict-config: unknown keys are errors")
        }
        return loaded
    }

    /// The configured database, migrated. Only `serve` and `migrate` create one: any
    /// other command run from the wrong folder would otherwise make an empty database
    /// there and answer from it.
    func openStore() async throws -> any TokenDatabase {
        try await TokenStorage.open(
            try loadForExistingDatabase().database, migrations: try migrationFiles(), now: Clock.system.now(),
            logger: quietLogger)
    }

    /// The services over the configured database, as `openStore` opens it.
    func openServices() async throws -> TokenAuthorityServices {
        try await TokenAuthorityServices.open(
            configuration: try loadForExistingDatabase(), migrations: try migrationFiles(), logger: quietLogger)
    }

    /// The configuration, when the SQLite database it names exists; otherwise an error
    /// naming the path and where the configuration came from. (A PostgreSQL database
    /// is a server's to keep: it is there or the connection says why not.)
    func loadForExistingDatabase() throws -> DeploymentConfiguration {
        let configuration = try load()
        let path = configuration.database.path
        guard configuration.database.type != .sqlite || FileManager.default.fileExists(atPath: path) else {
            let source = config.map { "--config \($0)" }
                ?? (FileManager.default.fileExists(atPath: "deployment.toml")
                    ? "./deployment.toml" : "the embedded defaults (there is no ./deployment.toml here)")
            throw CommandError(
                "no database at \(path) (database.path from \(source)): run this from the server's folder, "
                    + "pass --config, or create the database with `token-authority migrate`")
        }
        return configuration
    }
}

/// The command-line tools' logger for the store: they report through their own
/// output and exit status, so the database driver's chatter is left out.
let quietLogger = Logger(label: "token-authority", factory: { _ in SwiftLogNoOpLogHandler() })

/// Writes a line to stdout at once, unbuffered: tests and scripts wait for the
/// "listening on" line, and it must not overtake the lines before it.
func printNow(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Prints one JSON value on stdout (README, "Commands": `--json` is one object or array).
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// ISO-8601 UTC with milliseconds, as the database views show times.
func iso8601(_ milliseconds: EpochMilliseconds) -> String {
    let seconds = Date(timeIntervalSince1970: TimeInterval(milliseconds.quotient(dividingBy: 1000)))
    let whole = ISO8601DateFormatter().string(from: seconds)  // 2026-01-02T03:04:05Z
    return whole.dropLast() + String(format: ".%03dZ", Int(milliseconds.remainder(dividingBy: 1000)))
}

/// A command-line mistake that is not the argument parser's to find.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension EpochMilliseconds {
    /// Floor division, so times before 1970 format correctly too.
    fileprivate func quotient(dividingBy divisor: Self) -> Self {
        (self - remainder(dividingBy: divisor)) / divisor
    }

    fileprivate func remainder(dividingBy divisor: Self) -> Self {
        ((self % divisor) + divisor) % divisor
    }
}
