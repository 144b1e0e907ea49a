import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// `GET /health` (the probe of `token-authority health`, README, "Container image") is 200 when
/// the database answers, 503 when it does not.
@Suite("GET /health")
struct HealthTests {
    @Test("200 JSON when the database answers")
    func healthy() async throws {
        try await TestServer.with { server in
            // Given a running server
            // When /health is asked
            let reply = try await server.send(uri: "/health", method: .get)

            // Then it is 200 with a JSON object saying ok
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(reply["status"] == "ok")
        }
    }

    @Test("503 JSON when the database does not answer")
    func databaseGone() async throws {
        try await TestServer.with { server in
            // Given a server whose database has been closed
            try await server.services.store.close()

            // When /health is asked
            let reply = try await server.send(uri: "/health", method: .get)

            // Then it is not 200, and still JSON
            #expect(reply.status == 503)
            #expect(reply.json != nil)
            #expect(reply["status"] != "ok")
        }
    }
}
