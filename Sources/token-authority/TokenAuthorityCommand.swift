import ArgumentParser

/// The `token-authority` executable: parses arguments and hands over (README, "Commands").
@main
struct TokenAuthorityCommand: AsyncParsableCommand {
    /// The release, printed by `token-authority --version`.
    static let version = "0.11.0"

    static let configuration = CommandConfiguration(
        commandName: "token-authority",
        abstract: "An OAuth 2.0 token service with WSO2 Identity Server's token renewal semantics.",
        version: version,
        subcommands: [ServeCommand.self, MigrateCommand.self, DatabaseCommand.self, ClientCommand.self, UserCommand.self, TokenCommand.self, KeysCommand.self, HealthCommand.self])
}
