import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/token-endpoint.md, "Order of the checks": checks run in the order form → client
/// authentication → grant_type (missing, unknown, not enabled) → the grant's own parameters, and
/// the first failure answers. Each request below fails two checks; the earlier one must win.
@Suite("Token endpoint: order of the checks")
struct TokenCheckOrderTests {
    struct Given: Sendable {
        let server: TestServer
        let app: ClientCredentials
        let machine: ClientCredentials
        var wrongSecret: ClientCredentials { ClientCredentials(clientID: app.clientID, secret: "wrong") }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let status: Int
        let error: String
        let send: @Sendable (Given) async throws -> HTTPReply
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // The form beats client authentication.
        Case(name: "wrong content type beats no credentials", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(body: "grant_type=client_credentials", contentType: "application/json")
        },
        Case(name: "wrong content type beats a wrong secret", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials", authorization: Form.basic(given.wrongSecret),
                contentType: "text/plain")
        },
        Case(name: "repeated parameter beats a wrong secret", status: 400, error: "invalid_request") { given in
            try await given.server.token(
                [("grant_type", "client_credentials"), ("grant_type", "password")], basic: given.wrongSecret)
        },
        Case(name: "repeated parameter beats an unknown client", status: 400, error: "invalid_request") { given in
            try await given.server.token(
                [("grant_type", "client_credentials"), ("scope", "a"), ("scope", "a")],
                basic: ClientCredentials(clientID: "nobody", secret: "x"))
        },
        Case(name: "malformed encoding beats no credentials", status: 400, error: "invalid_request") { given in
            try await given.server.postToken(body: "grant_type=client%2")
        },
        Case(name: "body over 64 KiB beats no credentials", status: 413, error: "invalid_request") { given in
            try await given.server.postToken(
                body: "grant_type=client_credentials&pad=" + String(repeating: "a", count: 70_000))
        },
        // Client authentication beats grant_type.
        Case(name: "wrong secret beats an unknown grant type", status: 401, error: "invalid_client") { given in
            try await given.server.token([("grant_type", "authorization_code")], basic: given.wrongSecret)
        },
        Case(name: "unknown client beats a missing grant_type", status: 401, error: "invalid_client") { given in
            try await given.server.token([("scope", "a")], basic: ClientCredentials(clientID: "nobody", secret: "x"))
        },
        Case(name: "no credentials beats a missing grant_type", status: 401, error: "invalid_client") { given in
            try await given.server.token([("username", "alice")])
        },
        Case(name: "wrong secret beats a grant type not enabled", status: 401, error: "invalid_client") { given in
            try await given.server.token(
                [("grant_type", "password"), ("username", "alice"), ("password", "wonderland")],
                basic: ClientCredentials(clientID: given.machine.clientID, secret: "wrong"))
        },
        Case(name: "wrong secret beats a wrong password", status: 401, error: "invalid_client") { given in
            try await given.server.passwordGrant(given.wrongSecret, username: "alice", password: "wrong")
        },
        // grant_type beats the grant's own parameters.
        Case(name: "unknown grant type beats a missing username", status: 400, error: "unsupported_grant_type") { given in
            try await given.server.token([("grant_type", "passwd"), ("password", "wonderland")], basic: given.app)
        },
        Case(name: "grant type not enabled beats a missing username", status: 400, error: "unauthorized_client") { given in
            try await given.server.token([("grant_type", "password")], basic: given.machine)
        },
        Case(name: "grant type not enabled beats a wrong password", status: 400, error: "unauthorized_client") { given in
            try await given.server.passwordGrant(given.machine, username: "alice", password: "wrong")
        },
        Case(name: "missing username beats a wrong password", status: 400, error: "invalid_request") { given in
            try await given.server.token([("grant_type", "password"), ("password", "wrong")], basic: given.app)
        },
    ]

    @Test(arguments: cases)
    func theEarlierCheckAnswers(_ testCase: Case) async throws {
        try await TestServer.with { server in
            // Given a client with every grant, a client_credentials-only client and the user alice
            let app = try await server.client("app")
            let machine = try await server.client("machine", grantTypes: [.clientCredentials])
            try await server.user("alice", password: "wonderland")

            // When a request failing two checks is sent
            let reply = try await testCase.send(Given(server: server, app: app, machine: machine))

            // Then the earlier check's error answers
            expectOAuthError(reply, status: testCase.status, error: testCase.error)
        }
    }
}
