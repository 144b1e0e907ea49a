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
        @Option(
            help: """
                Comma-separated grant types (default: password, client_credentials and refresh_token; with \
                --redirect-uri also authorization_code; with --public, authorization_code and refresh_token).
                """)
        var grantTypes: String?
        @Option(help: "Space-separated scopes the client may be granted (default: every scope).") var scopes: String?
        @Option(help: "opaque or jwt.") var tokenType = "opaque"
        @Option(help: "The client id (default: generated).") var clientID: String?
        @Option(help: "The client secret, at least \(ClientSecret.minimumLength) characters (default: generated, 256 bits).")
        var clientSecret: String?
        @Flag(help: "Read the client secret as one line from standard input (keeps it out of argv and shell history).")
        var clientSecretStdin = false
        @Flag(help: "May call /oauth2/introspect.") var introspection = false
        @Option(help: "Where the authorization endpoint may send codes (repeatable; exact match, docs/browser-sign-in.md).")
        var redirectURI: [String] = []
        @Option(help: "Where GET /oauth2/logout may send the browser back to (repeatable).")
        var postLogoutRedirectURI: [String] = []
        @Flag(help: "A public client (a single-page or native app): no secret, PKCE mandatory.") var `public` = false
        @Flag(help: "Print JSON.") var json = false

        /// The grant types when `--grant-types` is not given.
        private var defaultGrantTypes: [GrantType] {
            if `public` { return [.authorizationCode, .refreshToken] }
            return redirectURI.isEmpty ? GrantType.defaultForNewClients : [.authorizationCode] + GrantType.defaultForNewClients
        }

        func run() async throws {
            var grants: [GrantType] = []
            let names = grantTypes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                ?? defaultGrantTypes.map(\.rawValue)
            for name in names {
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
            for uri in redirectURI + postLogoutRedirectURI {
                if let problem = RedirectURIRules.problem(uri) { throw CommandError("--redirect-uri: \(problem)") }
            }
            if grants.contains(.authorizationCode), redirectURI.isEmpty {
                throw CommandError("the authorization_code grant needs at least one --redirect-uri")
            }
            if `public` {
                if let refused = grants.first(where: { $0 == .password || $0 == .clientCredentials }) {
                    throw CommandError(
                        "--public: a public client cannot keep a secret, so it may not have the \(refused.rawValue) grant")
                }
                if introspection { throw CommandError("--public: a public client may not introspect tokens") }
                if clientSecret != nil || clientSecretStdin { throw CommandError("--public: a public client has no secret") }
            }
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
                createdAt: Clock.system.now(), redirectURIs: redirectURI, postLogoutRedirectURIs: postLogoutRedirectURI,
                isPublic: `public`)
            try await store.createClient(client)
            if `public` {
                // The secret drawn above stays unknown to everyone: no secret opens a public client.
                if json { return try printJSON(["client_id": id]) }
                print("client_id:     \(id)")
                print("A public client has no secret: it names itself with client_id and must use PKCE.")
                return
            }
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
        case client_id, name, grant_types, scopes, token_type, introspection, token_endpoint_auth_method,
            redirect_uris, post_logout_redirect_uris, created_at
    }

    var client_id: String
    var name: String
    var grant_types: [String]
    var scopes: [String]?
    var token_type: String
    var introspection: Bool
    /// `client_secret_basic` (a secret, sent in Basic or the body) or `none` (a public client).
    var token_endpoint_auth_method: String
    var redirect_uris: [String]
    var post_logout_redirect_uris: [String]
    var created_at: String

    init(_ client: Client) {
        client_id = client.clientID
        name = client.name
        grant_types = client.grantTypes.map(\.rawValue)
        scopes = client.scopes?.sorted()
        token_type = client.tokenFormat.rawValue
        introspection = client.mayIntrospect
        token_endpoint_auth_method = client.authenticationMethod
        redirect_uris = client.redirectURIs
        post_logout_redirect_uris = client.postLogoutRedirectURIs
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
        try container.encode(token_endpoint_auth_method, forKey: .token_endpoint_auth_method)
        try container.encode(redirect_uris, forKey: .redirect_uris)
        try container.encode(post_logout_redirect_uris, forKey: .post_logout_redirect_uris)
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
        auth_method:   \(token_endpoint_auth_method)
        redirect_uris: \(redirect_uris.isEmpty ? "(none)" : redirect_uris.joined(separator: " "))
        logout_uris:   \(post_logout_redirect_uris.isEmpty ? "(none)" : post_logout_redirect_uris.joined(separator: " "))
        created_at:    \(created_at)
        """
    }
}
