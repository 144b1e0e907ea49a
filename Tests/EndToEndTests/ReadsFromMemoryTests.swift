import Foundation
import Testing
import TokenAuthorityTesting

// docs/storage.md, "Reads answered from memory": the server answers a reuse and an
// introspection from memory while nobody commits to the database; a commit by another
// process (here the operator's command, then sqlite3) ends that before the next request. The
// suite's second pass, on PostgreSQL, reads the database every time and must answer the same.

@Suite("Reads answered from memory", .sharedServer { deploymentConfig(database: $0) })
struct ReadsFromMemoryTests {
    @Test("A token revoked by another process is neither reused nor introspected active on the next request")
    func revocationByAnotherProcess() async throws {
        // Given a client whose token has been reused and introspected twice each, so that
        // the server answers both from memory
        let server = try sharedServer()
        let client = try await server.deployment.createClient()
        let inspector = try await server.deployment.createClient(["--introspection"])
        let token = try #require(try await server.clientCredentials(client).string("access_token"))
        for _ in 0..<2 {
            #expect(try await server.clientCredentials(client).string("access_token") == token)
            #expect(try await server.introspection(of: token, as: inspector)["active"]?.bool == true)
        }

        // When the operator revokes it from another process
        let revoke = try await server.run(["token", "revoke", token])
        #expect(revoke.status == 0, "\(revoke)")

        // Then the next introspection says inactive, and the next request gets a new token
        #expect(try await server.introspection(of: token, as: inspector)["active"]?.bool == false)
        let next = try #require(try await server.clientCredentials(client).string("access_token"))
        #expect(next != token)

        // And once that one has been answered from memory, a revocation by hand (sqlite3, or psql) is seen as well
        #expect(try await server.clientCredentials(client).string("access_token") == next)
        #expect(try await server.introspection(of: next, as: inspector)["active"]?.bool == true)
        let revokeByHand =
            "UPDATE access_tokens SET state = 'REVOKED' WHERE client_id = \(sqlQuoted(client.id)) AND state = 'ACTIVE'"
        if let url = server.deployment.postgresURL {
            _ = try await TestPostgres.psql(url, revokeByHand)
        } else {
            _ = try await server.deployment.sqlite(revokeByHand)
        }
        #expect(try await server.introspection(of: next, as: inspector)["active"]?.bool == false)
        #expect(try await server.clientCredentials(client).string("access_token") != next)
    }
}
