import ArgumentParser

/// The `token-authority` executable: parses arguments and hands over (SPEC §2).
@main
struct TokenAuthorityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token-authority",
        abstract: "An OAuth 2.0 token service with WSO2 Identity Server's token renewal semantics.",
        subcommands: [ServeCommand.self, MigrateCommand.self, ClientCommand.self, UserCommand.self, TokenCommand.self, KeysCommand.self])
}
