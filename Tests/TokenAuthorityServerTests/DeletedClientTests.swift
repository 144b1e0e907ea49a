import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// A client deleted by another process while the server still holds its copy in memory
/// (docs/storage.md, "Clients in memory"): the token it would be issued fails its
/// foreign key, and the answer is the one a deleted client gets, not a server error.
@Suite("A client deleted behind the cache")
struct DeletedClientTests {
    @Test("Its next token request is 401 invalid_client, and nothing is written")
    func deletedBehindTheCache() async throws {
        try await TestServer.with { server in
            // Given a client that has been served (its copy now in memory), then deleted
            // in the database directly, as `client delete` in another process does
            let client = try await server.client()
            #expect(try await server.clientCredentialsGrant(client, scope: "first").status == 200)
            #expect(try await server.services.store.deleteClient(id: client.clientID))

            // When it asks for a token of a new scope set, which must be written
            let reply = try await server.clientCredentialsGrant(client, scope: "second")

            // Then it is refused as an unknown client, and no row was written
            #expect(reply.status == 401, "\(reply)")
            #expect(reply["error"] == "invalid_client")
            #expect(try await server.count("SELECT count(*) FROM access_tokens") == 0)
        }
    }
}
