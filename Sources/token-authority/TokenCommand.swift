import ArgumentParser
import Foundation
import TokenAuthority
import TokenAuthorityServer
import TokenStorage

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Inspect, revoke and purge tokens.",
        subcommands: [List.self, Revoke.self, Purge.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List access tokens, newest first (never their values).")
        @OptionGroup var options: ConfigOption
        @Option(help: "Only this client's tokens.") var client: String?
        @Option(help: "Only this user's tokens.") var user: String?
        @Option(help: "Only tokens in this state: ACTIVE, EXPIRED, REVOKED or INACTIVE.") var state: String?
        @Option(help: "At most this many rows.") var limit = 1000
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let parsedState = try state.map { name in
                guard let state = TokenState(rawValue: name.uppercased()) else {
                    throw CommandError("--state: expected one of \(TokenState.allCases.map(\.rawValue).joined(separator: ", ")), found '\(name)'")
                }
                return state
            }
            let filter = TokenFilter(clientID: client, username: user, state: parsedState, limit: max(1, limit))
            let tokens = try await options.openStore().tokens(matching: filter).map(TokenView.init)
            if json { return try printJSON(tokens) }
            print(TokenView.header)
            for token in tokens { print(token.line) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an access token (with its refresh token) or a refresh token (with its access tokens).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The token's value, or - to read it as one line from standard input (keeps it out of argv and shell history).")
        var token: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let token = try self.token == "-" ? SecretInput.readLine(what: "TOKEN -") : self.token
            let services = try await options.openServices()
            var revoked = false
            if let digest = await services.minter.lookupDigest(of: token) {
                revoked = try await services.store.revokeToken(digest: digest, ownedBy: nil, at: Clock.system.now()) == .revoked
            }
            if json { return try printJSON(["revoked": revoked]) }
            guard revoked else { throw CommandError("no ACTIVE token has that value") }
            print("revoked")
        }
    }

    /// The background cleanup (README, "Configuration": `oauth.token_cleanup`), on demand: what the background cleanup deletes, whether
    /// or not `[oauth.token_cleanup] enable` is set.
    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the token rows no longer needed: inactive or expired longer than retain_inactive_tokens_for.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let configuration = try options.loadForExistingDatabase()
            let store = try await TokenStorage.open(
                configuration.database, migrations: try options.migrationFiles(), now: Clock.system.now(),
                logger: quietLogger)
            let deleted = try await store.purgeTokens(
                now: Clock.system.now(),
                retainFor: EpochMilliseconds(configuration.tokenCleanup.retainInactiveTokensFor) * 1000)
            if json {
                return try printJSON([
                    "access_tokens": deleted.accessTokens, "refresh_tokens": deleted.refreshTokens,
                    "sessions": deleted.sessions, "authorization_codes": deleted.authorizationCodes,
                    "device_authorizations": deleted.deviceAuthorizations,
                ])
            }
            print(
                "deleted \(deleted.accessTokens) access token rows, \(deleted.refreshTokens) refresh token rows, "
                    + "\(deleted.sessions) sessions, \(deleted.authorizationCodes) authorization codes and "
                    + "\(deleted.deviceAuthorizations) device requests")
        }
    }
}

/// An access-token row for `token list`.
struct TokenView: Encodable {
    enum CodingKeys: CodingKey {
        case id, client_id, subject_type, subject, scope, state, grant_type, issued_at, expires_at, refresh_token_id
    }

    var id: Int64
    var client_id: String
    var subject_type: String
    var subject: String
    var scope: String
    var state: String
    var grant_type: String
    var issued_at: String
    var expires_at: String
    var refresh_token_id: Int64?

    init(_ token: TokenSummary) {
        id = token.id
        client_id = token.clientID
        subject_type = token.subject.kind
        subject = token.subject.name
        scope = token.scope
        state = token.state.rawValue
        grant_type = token.grantType
        issued_at = iso8601(token.issuedAt)
        expires_at = iso8601(token.expiresAt)
        refresh_token_id = token.refreshTokenID
    }

    /// Every row has every member: `refresh_token_id` is `null` rather than absent.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(client_id, forKey: .client_id)
        try container.encode(subject_type, forKey: .subject_type)
        try container.encode(subject, forKey: .subject)
        try container.encode(scope, forKey: .scope)
        try container.encode(state, forKey: .state)
        try container.encode(grant_type, forKey: .grant_type)
        try container.encode(issued_at, forKey: .issued_at)
        try container.encode(expires_at, forKey: .expires_at)
        try container.encode(refresh_token_id, forKey: .refresh_token_id)
    }

    var line: String { "\(id)\t\(state)\t\(client_id)\t\(subject_type):\(subject)\t\(scope)\t\(expires_at)" }

    /// The names of `line`'s columns.
    static let header = "id\tstate\tclient_id\tsubject\tscope\texpires_at"
}
