import Foundation
import Testing
import TokenAuthorityTesting

// The server keeps clients in memory (docs/storage.md, "Clients in memory"). A
// change another process makes, here the command line, takes effect within the
// cache's recheck interval of 250 ms: these tests wait that long plus a margin,
// then expect the change.

extension ReuseModeServer {
    @Suite("Client changes by another process")
    struct ClientChanges {
        /// The recheck interval (`ClientCache.defaultRecheckInterval`) and a margin.
        static let bound = Duration.milliseconds(250 + 150)

        @Test("A client deleted on the command line is refused within the bound, its tokens gone")
        func deletedClient() async throws {
            // Given a client the server has just served (and so holds in memory)
            let server = try sharedServer()
            let client = try await server.deployment.createClient()
            let token = try await server.clientCredentials(client)
            #expect(token.status == 200, "\(token)")

            // When another process deletes it
            let delete = try await server.run(["client", "delete", "--", client.id])
            try #require(delete.status == 0, "\(delete)")
            try await Task.sleep(for: Self.bound)

            // Then its credentials are refused, and its old token is unknown
            let refused = try await server.clientCredentials(client)
            #expect(refused.status == 401, "\(refused)")
            #expect(refused.string("error") == "invalid_client")
            #expect(try await server.deployment.activeTokens(of: client.id) == 0)
        }

        @Test("A client registered again with a new secret: the old secret is refused within the bound, the new one works")
        func replacedSecret() async throws {
            // Given a client with a chosen secret, served once
            let server = try sharedServer()
            let old = ClientKeys(id: uniqueName("rotated"), secret: "first-secret-of-at-least-32-characters")
            let created = try await server.run(
                ["client", "create", "--name", old.id, "--client-id", old.id, "--client-secret-stdin"],
                stdin: old.secret + "\n")
            try #require(created.status == 0, "\(created)")
            #expect(try await server.clientCredentials(old).status == 200)

            // When another process deletes it and registers the id again with a new secret
            let new = ClientKeys(id: old.id, secret: "second-secret-of-at-least-32-characters")
            try #require(try await server.run(["client", "delete", "--", old.id]).status == 0)
            let again = try await server.run(
                ["client", "create", "--name", old.id, "--client-id", old.id, "--client-secret-stdin"],
                stdin: new.secret + "\n")
            try #require(again.status == 0, "\(again)")
            try await Task.sleep(for: Self.bound)

            // Then the old secret is refused and the new one gets a token
            let refused = try await server.clientCredentials(old)
            #expect(refused.status == 401, "\(refused)")
            let accepted = try await server.clientCredentials(new)
            #expect(accepted.status == 200, "\(accepted)")
        }
    }
}
