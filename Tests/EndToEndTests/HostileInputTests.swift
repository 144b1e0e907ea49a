import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

// Hostile and malformed requests (docs/token-endpoint.md, "Errors"): each gets a 4xx with the JSON
// error of RFC 6749 §5.2, changes nothing in the database, echoes no secret, and the server keeps
// serving. The suite has a server of its own and runs one test at a time, so the database's row
// counts are this suite's alone.

/// A password no response or log may ever contain.
let hostilePassword = "Pa55-never-echoed-7f3a"

@Suite("Hostile input", .sharedServer(renewPerRequest: false), .serialized)
struct HostileInputTests {
    /// Who the request claims to be.
    enum Authentication: Sendable {
        /// HTTP Basic with the test client's own credentials.
        case client
        /// HTTP Basic with these; `__ID__` and `__SECRET__` stand for the test client's.
        case basic(id: String, secret: String)
        /// `Basic` and the base64 of the client's id and secret with no colon between.
        case basicWithoutColon
        /// This `Authorization` header, as is.
        case header(String)
        case none
    }

    /// A hostile request and the error it must get.
    struct Hostile: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var authentication: Authentication = .client
        var contentType: String? = "application/x-www-form-urlencoded"
        /// The body; `__ID__` and `__SECRET__` stand for the test client's credentials.
        var body: String
        var status = 400
        var error: String
        /// Values the request carries that no answer or log may repeat.
        var secrets: [String] = []
    }

    static let sqlMetacharacters = ["' OR 1=1 --", "\"; DROP TABLE clients; --"]

    static let hostile: [Hostile] = [
        Hostile(testDescription: "invalid UTF-8 (%FF)", body: "grant_type=password&username=admin&password=%FF", error: "invalid_request"),
        Hostile(testDescription: "bad percent-encoding (%G1)", body: "grant_type=client_credentials&scope=%G1", error: "invalid_request"),
        Hostile(testDescription: "a trailing %", body: "grant_type=client_credentials&scope=read%", error: "invalid_request"),
        Hostile(
            testDescription: "a repeated grant_type", body: "grant_type=client_credentials&grant_type=password",
            error: "invalid_request"),
        Hostile(testDescription: "an empty body", body: "", error: "invalid_request"),
        Hostile(
            testDescription: "JSON instead of a form", contentType: "application/json",
            body: #"{"grant_type":"client_credentials"}"#, error: "invalid_request"),
        Hostile(
            testDescription: "a form labelled text/plain", contentType: "text/plain", body: "grant_type=client_credentials",
            error: "invalid_request"),
        Hostile(testDescription: "no content type", contentType: nil, body: "grant_type=client_credentials", error: "invalid_request"),
        Hostile(
            testDescription: "Basic and body credentials at once",
            body: "grant_type=client_credentials&client_id=__ID__&client_secret=__SECRET__", error: "invalid_request"),
        Hostile(
            testDescription: "Basic !!!", authentication: .header("Basic !!!"), body: "grant_type=client_credentials",
            status: 401, error: "invalid_client"),
        Hostile(
            testDescription: "Basic without a colon",
            authentication: .basicWithoutColon,
            body: "grant_type=client_credentials", status: 401, error: "invalid_client"),
        Hostile(
            testDescription: "no client credentials", authentication: .none, body: "grant_type=client_credentials",
            status: 401, error: "invalid_client"),
        Hostile(
            testDescription: "a wrong password", body: Form.encode([
                ("grant_type", "password"), ("username", "admin"), ("password", hostilePassword),
            ]), error: "invalid_grant", secrets: [hostilePassword]),
        Hostile(
            testDescription: "a password grant without a password",
            body: Form.encode([("grant_type", "password"), ("username", "admin")]), error: "invalid_request"),
        Hostile(
            testDescription: "control characters and quotes in a username",
            body: "grant_type=password&username=a%0A%0D%00%22%5C%1Bb&password=\(hostilePassword)", error: "invalid_request",
            secrets: [hostilePassword]),
        // The order of docs/token-endpoint.md: the form, then the client, then the grant type.
        Hostile(
            testDescription: "a repeated parameter from an unknown client", authentication: .basic(id: "nobody", secret: "nothing"),
            body: "grant_type=client_credentials&scope=a&scope=b", error: "invalid_request"),
        Hostile(
            testDescription: "JSON from an unknown client", authentication: .basic(id: "nobody", secret: "nothing"),
            contentType: "application/json", body: #"{"grant_type":"client_credentials"}"#, error: "invalid_request"),
        Hostile(
            testDescription: "an unknown grant type from an unknown client", authentication: .basic(id: "nobody", secret: "nothing"),
            body: "grant_type=urn:example:magic", status: 401, error: "invalid_client"),
        Hostile(testDescription: "an unknown grant type", body: "grant_type=urn:example:magic", error: "unsupported_grant_type"),
    ]
    + sqlMetacharacters.flatMap { sql in
        // Secrets get a marker of their own, so a log naming the same text as a username would not pass for a leak.
        let secretSQL = sql + " /* secret */"
        return [
            Hostile(
                testDescription: "client_id \(sql)", authentication: .basic(id: sql, secret: "__SECRET__"),
                body: "grant_type=client_credentials", status: 401, error: "invalid_client"),
            Hostile(
                testDescription: "client_id \(sql) in the body", authentication: .none,
                body: Form.encode([("grant_type", "client_credentials"), ("client_id", sql), ("client_secret", "__SECRET__")]),
                status: 401, error: "invalid_client"),
            Hostile(
                testDescription: "client_secret \(sql)", authentication: .basic(id: "__ID__", secret: secretSQL),
                body: "grant_type=client_credentials", status: 401, error: "invalid_client", secrets: [secretSQL]),
            Hostile(
                testDescription: "client_secret \(sql) in the body", authentication: .none,
                body: Form.encode([("grant_type", "client_credentials"), ("client_id", "__ID__"), ("client_secret", secretSQL)]),
                status: 401, error: "invalid_client", secrets: [secretSQL]),
            Hostile(
                testDescription: "username \(sql)",
                body: Form.encode([("grant_type", "password"), ("username", sql), ("password", hostilePassword)]),
                error: "invalid_grant", secrets: [hostilePassword]),
            Hostile(
                testDescription: "password \(sql)",
                body: Form.encode([("grant_type", "password"), ("username", "admin"), ("password", secretSQL)]),
                error: "invalid_grant", secrets: [secretSQL]),
            Hostile(
                testDescription: "grant_type \(sql)", body: Form.encode([("grant_type", sql)]),
                error: "unsupported_grant_type"),
        ]
    }
    + [
        // `"` is not a scope character (RFC 6749 §3.3); `' OR 1=1 --` is made of scope characters, see below.
        Hostile(
            testDescription: "scope \"; DROP TABLE clients; --",
            body: Form.encode([("grant_type", "client_credentials"), ("scope", "\"; DROP TABLE clients; --")]),
            error: "invalid_scope")
    ]

    @Test("A hostile request is refused and changes nothing", arguments: hostile)
    func hostileRequest(_ hostile: Hostile) async throws {
        // Given a client holding a token, and the database's row counts
        let server = try sharedServer()
        let client = try await server.deployment.createClient()
        let issued = try await server.clientCredentials(client)
        try #require(issued.status == 200, "\(issued)")
        let before = try await DatabaseCounts(server.deployment)

        // When the hostile request arrives
        let reply = try await server.send(hostile, as: client)

        // Then it gets its error (docs/token-endpoint.md) as RFC 6749 §5.2 JSON, never cached
        #expect(reply.status == hostile.status, "\(reply)")
        #expect(reply.members == ["error", "error_description"], "\(reply)")
        #expect(reply.string("error") == hostile.error, "\(reply)")
        #expect(reply.header("Cache-Control") == "no-store")
        if hostile.status == 401 {
            #expect(reply.header("WWW-Authenticate") == #"Basic realm="token-authority""#)
        }
        // And neither the answer nor the server's log repeats a secret
        for secret in hostile.secrets + [client.secret] {
            #expect(!reply.body.contains(secret), "\(reply)")
            #expect(!server.standardError.contains(secret), "the log repeats \(secret)")
        }
        // And nothing changed: the same rows, and the client's token is handed back as before
        #expect(try await DatabaseCounts(server.deployment) == before)
        let again = try await server.clientCredentials(client)
        #expect(again.string("access_token") == issued.string("access_token"))
        // And the server still serves
        #expect(try await server.health().status == 200)
    }

    @Test("A 2 MiB body is 413 and the server keeps serving")
    func hugeBody() async throws {
        // Given a client, and the database's row counts
        let server = try sharedServer()
        let client = try await server.deployment.createClient()
        let before = try await DatabaseCounts(server.deployment)

        // When it sends a 2 MiB form
        let body = "grant_type=client_credentials&padding=" + String(repeating: "a", count: 2 * 1024 * 1024)
        let reply: HTTPReply
        do {
            reply = try await server.postToken(body, client: client)
        } catch {
            // The server may close the connection after refusing the body; it must answer first.
            Issue.record("no answer to a 2 MiB body: \(error)")
            return
        }

        // Then it is refused with 413 invalid_request
        #expect(reply.status == 413, "\(reply)")
        #expect(reply.members == ["error", "error_description"], "\(reply)")
        #expect(reply.string("error") == "invalid_request")
        // And nothing changed, and the server still serves
        #expect(try await DatabaseCounts(server.deployment) == before)
        #expect(try await server.health().status == 200)
        #expect(try await server.clientCredentials(client).status == 200)
    }

    @Test("The 64 KiB limit is exact")
    func bodyLimit() async throws {
        // Given a client, and forms padded (with a parameter the server ignores) to 64 KiB and one byte more
        let server = try sharedServer()
        let client = try await server.deployment.createClient()
        let prefix = "grant_type=client_credentials&padding="
        let atLimit = prefix + String(repeating: "a", count: 64 * 1024 - prefix.utf8.count)

        // When each is sent
        let accepted = try await server.postToken(atLimit, client: client)
        let refused = try await server.postToken(atLimit + "a", client: client)

        // Then 64 KiB is served and one byte more is 413
        #expect(accepted.status == 200, "\(accepted)")
        #expect(refused.status == 413, "\(refused)")
        #expect(refused.string("error") == "invalid_request")
    }

    @Test("SQL metacharacters in a scope are data, not SQL")
    func sqlInScope() async throws {
        // Given a client with no scope list (every scope allowed)
        let server = try sharedServer()
        let client = try await server.deployment.createClient()
        let clients = try await server.deployment.count("clients")

        // When it asks for the scope "' OR 1=1 --", whose characters RFC 6749 §3.3 allows
        let reply = try await server.clientCredentials(client, scope: "' OR 1=1 --")

        // Then those four scopes are granted as text, sorted
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.string("scope") == "' -- 1=1 OR")
        let rows = try await server.deployment.tokens(of: client.id)
        #expect(rows.map(\.scope) == ["' -- 1=1 OR"])
        // And the clients table is untouched
        #expect(try await server.deployment.count("clients") == clients)
    }
}

/// The row counts of every table, and the tables themselves.
struct DatabaseCounts: Equatable {
    var tables: String
    var counts: [Int]

    init(_ deployment: Deployment) async throws {
        tables = try await deployment.query(
            deployment.postgresURL == nil
                ? "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master ORDER BY name)"
                : "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables "
                    + "WHERE table_schema = current_schema()")
        counts = []
        for table in ["clients", "users", "access_tokens", "refresh_tokens", "schema_migrations"] {
            counts.append(try await deployment.count(table))
        }
        counts.append(try await deployment.count("access_tokens", where: "state = 'ACTIVE'"))
    }
}

extension ServerProcess {
    /// Sends a hostile request on behalf of `client`.
    fileprivate func send(_ hostile: HostileInputTests.Hostile, as client: ClientKeys) async throws -> HTTPReply {
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "__ID__", with: client.id).replacingOccurrences(of: "__SECRET__", with: client.secret)
        }
        var headers: HTTPFields = [:]
        switch hostile.authentication {
        case .client: headers[.authorization] = Form.basic(id: client.id, secret: client.secret)
        case .basic(let id, let secret): headers[.authorization] = Form.basic(id: fill(id), secret: fill(secret))
        case .basicWithoutColon: headers[.authorization] = "Basic " + Data((client.id + client.secret).utf8).base64EncodedString()
        case .header(let value): headers[.authorization] = value
        case .none: break
        }
        return try await postToken(fill(hostile.body), headers: headers, contentType: hostile.contentType)
    }
}
