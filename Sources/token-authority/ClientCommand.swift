import ArgumentParser
import Foundation
import TokenAuthority

struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Manage OAuth clients.",
        subcommands: [Create.self, List.self, Show.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a client and print its id and secret (the secret is shown once).")

        @OptionGroup var options: ConfigOption
        @Option(help: "A name for people.") var name: String
        @Option(help: "Comma-separated grant types.") var grantTypes = GrantType.defaultForNewClients.map(\.rawValue).joined(separator: ",")
        @Option(help: "Space-separated scopes the client may be granted (default: every scope).") var scopes: String?
        @Option(help: "opaque or jwt.") var tokenType = "opaque"
        @Option(help: "The client id (default: generated).") var clientID: String?
        @Option(help: "The client secret, at least \(ClientSecret.minimumLength) characters (default: generated, 256 bits).")
        var clientSecret: String?
        @Flag(help: "Read the client secret as one line from standard input (keeps it out of argv and shell history).")
        var clientSecretStdin = false
        @Flag(help: "May call /oauth2/introspect.") var introspection = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var grants: [GrantType] = []
            for name in grantTypes.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let grant = GrantType(rawValue: name) else {
                    throw CommandError("--grant-types: unknown grant type '\(name)' (known: \(GrantType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                if !grants.contains(grant) { grants.append(grant) }
            }
            guard !grants.isEmpty else { throw CommandError("--grant-types: name at least one grant type") }
            guard let format = AccessTokenFormat(rawValue: tokenType) else {
                throw CommandError("--token-type: expected opaque or jwt, found '\(tokenType)'")
            }
            let scopeList = try scopes.map { try ScopeSet(parsing: $0).scopes }
            let id = clientID ?? ClientSecret.generateClientID()
            let store = try await options.openStore()
            if let problem = IdentifierRules.clientIDProblem(id, existing: try await store.clients().map(\.clientID)) {
                throw CommandError("--client-id: \(problem)")
            }
            if clientSecret != nil, clientSecretStdin {
                throw CommandError("--client-secret and --client-secret-stdin: give one of them")
            }
            let chosenSecret = try clientSecretStdin ? SecretInput.readLine(what: "--client-secret-stdin") : clientSecret
            if let chosenSecret, let problem = ClientSecret.problem(chosenSecret) {
                throw CommandError("--client-secret: \(problem)")
            }
            if let clientSecret = chosenSecret, clientSecret.count < ClientSecret.minimumLength {
                throw CommandError(
                    "--client-secret: at least \(ClientSecret.minimumLength) characters are required, "
                        + "because client secrets are stored with a fast hash; omit it to have one generated")
            }
            let secret = chosenSecret ?? ClientSecret.generate()
            let client = Client(
                clientID: id, name: name, secretDigest: ClientSecret.digest(secret), grantTypes: grants,
                scopes: scopeList.map(Set.init), tokenFormat: format, mayIntrospect: introspection,
                createdAt: Clock.system.now())
            try await store.createClient(client)
            if json {
                try printJSON(["client_id": id, "client_secret": secret])
            } else {
                print("client_id:     \(id)")
                print("client_secret: \(secret)")
                print("The secret is stored hashed and will not be shown again.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List clients.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let clients = try await options.openStore().clients().map(ClientView.init)
            if json { return try printJSON(clients) }
            for client in clients { print(client.line) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one client.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The client id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let client = try await options.openStore().client(id: id).map(ClientView.init) else {
                throw CommandError("no client with id '\(id)'")
            }
            if json { return try printJSON(client) }
            print(client.details)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a client and every token issued to it.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The client id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard try await options.openStore().deleteClient(id: id) else { throw CommandError("no client with id '\(id)'") }
            if json { return try printJSON(["deleted": id]) }
            print("deleted client \(id)")
        }
    }
}

/// A client as `client list|show` print it: never its secret.
struct ClientView: Encodable {
    enum CodingKeys: CodingKey {
        case client_id, name, grant_types, scopes, token_type, introspection, created_at
    }

    var client_id: String
    var name: String
    var grant_types: [String]
    var scopes: [String]?
    var token_type: String
    var introspection: Bool
    var created_at: String

    init(_ client: Client) {
        client_id = client.clientID
        name = client.name
        grant_types = client.grantTypes.map(\.rawValue)
        scopes = client.scopes?.sorted()
        token_type = client.tokenFormat.rawValue
        introspection = client.mayIntrospect
        created_at = iso8601(client.createdAt)
    }

    /// Every client has every member: `scopes` is `null` (every scope) rather than absent.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(client_id, forKey: .client_id)
        try container.encode(name, forKey: .name)
        try container.encode(grant_types, forKey: .grant_types)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(token_type, forKey: .token_type)
        try container.encode(introspection, forKey: .introspection)
        try container.encode(created_at, forKey: .created_at)
    }

    var line: String { "\(client_id)\t\(name)\t\(grant_types.joined(separator: ","))" }

    var details: String {
        """
        client_id:     \(client_id)
        name:          \(name)
        grant_types:   \(grant_types.joined(separator: ", "))
        scopes:        \(scopes?.joined(separator: " ") ?? "(every scope)")
        token_type:    \(token_type)
        introspection: \(introspection)
        created_at:    \(created_at)
        """
    }
}
