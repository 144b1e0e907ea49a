import Foundation
import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// The error table of docs/token-endpoint.md for `POST /oauth2/token`, one row (or variant) per
/// case, each sent over HTTP to a server holding:
/// - `app`: every grant type; user `alice` / `wonderland`;
/// - `machine`: only `client_credentials`.
@Suite("Token endpoint: error table")
struct TokenErrorResponseTests {
    struct Given: Sendable {
        let server: TestServer
        let app: ClientCredentials
        let machine: ClientCredentials
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let status: Int
        let error: String
        var description: String? = nil
        /// Secrets the request carries that the answer must not echo.
        var secrets: [String] = []
        let send: @Sendable (Given) async throws -> HTTPReply
        var testDescription: String { name }
    }

    static let password = "wonderland"

    static let rows: [Row] = [
        // 401 invalid_client
        Row(name: "unknown client (Basic)", status: 401, error: "invalid_client", secrets: ["not-the-secret"]) { given in
            try await given.server.clientCredentialsGrant(ClientCredentials(clientID: "nobody", secret: "not-the-secret"))
        },
        Row(name: "unknown client (client_secret_post)", status: 401, error: "invalid_client", secrets: ["not-the-secret"]) { given in
            try await given.server.token([
                ("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "not-the-secret"),
            ])
        },
        Row(name: "wrong secret (Basic)", status: 401, error: "invalid_client", secrets: ["wrong-secret-value"]) { given in
            try await given.server.clientCredentialsGrant(
                ClientCredentials(clientID: given.app.clientID, secret: "wrong-secret-value"))
        },
        Row(name: "wrong secret (client_secret_post)", status: 401, error: "invalid_client", secrets: ["wrong-secret-value"]) { given in
            try await given.server.token([
                ("grant_type", "client_credentials"), ("client_id", given.app.clientID),
                ("client_secret", "wrong-secret-value"),
            ])
        },
        Row(name: "no client credentials", status: 401, error: "invalid_client") { given in
            try await given.server.token([("grant_type", "client_credentials")])
        },
        Row(name: "client_id in the body without client_secret", status: 401, error: "invalid_client") { given in
            try await given.server.token([("grant_type", "client_credentials"), ("client_id", given.app.clientID)])
        },
        Row(name: "malformed Basic header", status: 401, error: "invalid_client") { given in
            try await given.server.postToken(body: "grant_type=client_credentials", authorization: "Basic %%%not-base64")
        },
        Row(name: "Basic header without a colon", status: 401, error: "invalid_client") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials", authorization: Form.basic(raw: given.app.clientID))
        },
        // 400 invalid_grant: the resource owner's credentials
        Row(
            name: "wrong username", status: 400, error: "invalid_grant",
            description: "Authentication failed for nobody", secrets: [password]
        ) { given in
            try await given.server.passwordGrant(given.app, username: "nobody", password: password)
        },
        Row(
            name: "wrong password", status: 400, error: "invalid_grant",
            description: "Authentication failed for alice", secrets: ["not-wonderland"]
        ) { given in
            try await given.server.passwordGrant(given.app, username: "alice", password: "not-wonderland")
        },
        Row(
            name: "password of another user", status: 400, error: "invalid_grant",
            description: "Authentication failed for admin", secrets: [password]
        ) { given in
            try await given.server.passwordGrant(given.app, username: "admin", password: password)
        },
        // 400 unsupported_grant_type / unauthorized_client
        Row(name: "unknown grant type", status: 400, error: "unsupported_grant_type") { given in
            try await given.server.token([("grant_type", "urn:example:unknown"), ("code", "x")], basic: given.app)
        },
        Row(name: "grant type in the wrong case", status: 400, error: "unsupported_grant_type") { given in
            try await given.server.token([("grant_type", "PASSWORD"), ("username", "alice"), ("password", password)], basic: given.app)
        },
        Row(name: "password grant not enabled for the client", status: 400, error: "unauthorized_client") { given in
            try await given.server.passwordGrant(given.machine, username: "alice", password: password)
        },
        // 400 invalid_request: the grant's parameters
        Row(name: "missing grant_type", status: 400, error: "invalid_request") { given in
            try await given.server.token([("username", "alice"), ("password", password)], basic: given.app)
        },
        Row(name: "empty grant_type", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(body: "grant_type=", authorization: Form.basic(given.app))
        },
        Row(name: "missing username", status: 400, error: "invalid_request") { given in
            try await given.server.token([("grant_type", "password"), ("password", password)], basic: given.app)
        },
        Row(name: "missing password", status: 400, error: "invalid_request") { given in
            try await given.server.token([("grant_type", "password"), ("username", "alice")], basic: given.app)
        },
        // 400 invalid_request: the form
        Row(name: "repeated grant_type", status: 400, error: "invalid_request") { given in
            try await given.server.token(
                [("grant_type", "client_credentials"), ("grant_type", "client_credentials")], basic: given.app)
        },
        Row(name: "repeated scope", status: 400, error: "invalid_request") { given in
            try await given.server.token(
                [("grant_type", "client_credentials"), ("scope", "a"), ("scope", "b")], basic: given.app)
        },
        Row(name: "repeated grant_type, once percent-encoded", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials&grant%5Ftype=password", authorization: Form.basic(given.app))
        },
        Row(name: "repeated grant_type, once empty", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials&grant_type=", authorization: Form.basic(given.app))
        },
        Row(name: "repeated password", status: 400, error: "invalid_request", secrets: [password]) { given in
            try await given.server.token(
                [("grant_type", "password"), ("username", "alice"), ("password", password), ("password", password)],
                basic: given.app)
        },
        Row(name: "content type application/json", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(
                body: #"{"grant_type":"client_credentials"}"#, authorization: Form.basic(given.app),
                contentType: "application/json")
        },
        Row(name: "content type text/plain with a form body", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials", authorization: Form.basic(given.app), contentType: "text/plain")
        },
        Row(name: "no content type", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials", authorization: Form.basic(given.app), contentType: nil)
        },
        Row(name: "malformed percent-encoding", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials&scope=%zz", authorization: Form.basic(given.app))
        },
        Row(name: "percent-encoding that is not UTF-8", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials&scope=%FF", authorization: Form.basic(given.app))
        },
        Row(name: "Basic and client_secret_post at once", status: 400, error: "invalid_request") { given in
            try await given.server.token(
                [("grant_type", "client_credentials"), ("client_id", given.app.clientID), ("client_secret", given.app.secret ?? "")],
                basic: given.app)
        },
        Row(name: "Basic and a body client_id of another client", status: 400, error: "invalid_request") { given in
            try await given.server.token(
                [("grant_type", "client_credentials"), ("client_id", given.app.clientID + "x")], basic: given.app)
        },
        // 413 invalid_request
        Row(name: "body over 64 KiB", status: 413, error: "invalid_request") { given in
            let padding = String(repeating: "a", count: 64 * 1024)
            return try await given.server.postToken(
                body: "grant_type=client_credentials&pad=\(padding)", authorization: Form.basic(given.app))
        },
    ]

    @Test(arguments: rows)
    func answersWithTheTablesError(_ row: Row) async throws {
        try await TestServer.with { server in
            // Given a client with every grant, a client_credentials-only client and the user alice
            let app = try await server.client("app")
            let machine = try await server.client("machine", grantTypes: [.clientCredentials])
            try await server.user("alice", password: Self.password)

            // When the request is sent
            let reply = try await row.send(Given(server: server, app: app, machine: machine))

            // Then the answer is the table's status and error, in RFC 6749 §5.2's shape, not cached
            expectOAuthError(reply, status: row.status, error: row.error, description: row.description)
            // and it echoes no secret of the request
            for secret in row.secrets + [app.secret, machine.secret].compactMap({ $0 }) {
                #expect(!reply.body.contains(secret), "the answer echoes a secret: \(reply)")
            }
            // and no token was issued
            #expect(try await server.count("SELECT count(*) FROM access_tokens") == 0)
            #expect(try await server.count("SELECT count(*) FROM refresh_tokens") == 0)
        }
    }

    @Test("client_credentials not enabled for the client: 400 unauthorized_client")
    func clientCredentialsNotEnabled() async throws {
        try await TestServer.with { server in
            // Given a client allowed only the password grant
            let client = try await server.client("web", grantTypes: [.password])

            // When it asks for client_credentials
            let reply = try await server.clientCredentialsGrant(client)

            // Then it is unauthorized_client, not unsupported_grant_type
            expectOAuthError(reply, status: 400, error: "unauthorized_client")
        }
    }

    @Test("a body of exactly 64 KiB is read, one byte more is 413")
    func bodySizeBoundary() async throws {
        try await TestServer.with { server in
            // Given a client
            let client = try await server.client("app")
            let prefix = "grant_type=client_credentials&pad="
            let exact = prefix + String(repeating: "a", count: 64 * 1024 - prefix.utf8.count)
            #expect(exact.utf8.count == 65536)

            // When it sends a body of exactly 64 KiB, then one of 64 KiB + 1
            let atLimit = try await server.postToken(body: exact, authorization: Form.basic(client))
            let overLimit = try await server.postToken(body: exact + "a", authorization: Form.basic(client))

            // Then the first gets a token and the second 413 invalid_request
            expectTokenResponse(atLimit, withRefreshToken: false)
            expectOAuthError(overLimit, status: 413, error: "invalid_request")
        }
    }
}
