import Crypto
import Foundation
import GRDB
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// Earlier versions issued random UUIDs and stored them under their plain SHA-256
/// (docs/storage.md, "Secrets at rest"). A database they wrote keeps working: its
/// tokens are reused, introspected, refreshed and revoked as before.
@Suite("Tokens of an earlier version")
struct EarlierTokenFormTests {
    private let access = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    private let refresh = "0b9a7d2e-55f1-4c0e-8b1a-3f6c2d9e4a10"

    /// Rewrites the only token pair into the form an earlier version wrote, as its database holds it.
    private func rewriteAsEarlierVersion(_ server: TestServer) async throws {
        let sealedAccess = try server.services.cipher.seal(access).ciphertext
        let sealedRefresh = try server.services.cipher.seal(refresh).ciphertext
        let queue = try DatabaseQueue(path: server.services.configuration.database.path)
        defer { try? queue.close() }
        try await queue.write { [access, refresh] db in
            try db.execute(
                sql: "UPDATE access_tokens SET token_sha256 = ?, token_sealed = ?",
                arguments: [Data(SHA256.hash(data: Data(access.utf8))), Data(sealedAccess)])
            try db.execute(
                sql: "UPDATE refresh_tokens SET token_sha256 = ?, token_sealed = ?",
                arguments: [Data(SHA256.hash(data: Data(refresh.utf8))), Data(sealedRefresh)])
        }
    }

    @Test("A UUID pair is reused, introspected, refreshed, and its access token then answers inactive")
    func reusedIntrospectedRefreshed() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            _ = try await server.passwordGrant(client, username: "alice", password: "pw", scope: "openid")
            try await rewriteAsEarlierVersion(server)

            let reused = try await server.passwordGrant(client, username: "alice", password: "pw", scope: "openid")
            #expect(reused.accessToken == access && reused.refreshToken == refresh)
            let active = try #require(try await server.introspect(access, as: admin).json)
            #expect(active["active"] == .bool(true) && active["username"]?.string == "alice")

            let refreshed = try await server.token([("grant_type", "refresh_token"), ("refresh_token", refresh)], basic: client)
            #expect(refreshed.status == 200)
            let newAccess = try #require(refreshed.accessToken)
            #expect(newAccess != access && Base64URL.isEncoding(newAccess, ofByteCount: 26))
            #expect(try await server.introspect(access, as: admin).json == ["active": false])
            #expect(try await server.introspect(newAccess, as: admin).json?["active"] == .bool(true))
        }
    }

    @Test("A UUID refresh token is revoked by its value, and refreshing with it is then invalid_grant")
    func revoked() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            _ = try await server.passwordGrant(client, username: "alice", password: "pw")
            try await rewriteAsEarlierVersion(server)

            #expect(try await server.revoke(refresh, by: client).status == 200)
            #expect(try await server.refreshTokenStates() == ["REVOKED"])
            let refused = try await server.token([("grant_type", "refresh_token"), ("refresh_token", refresh)], basic: client)
            expectOAuthError(refused, status: 400, error: "invalid_grant")
        }
    }
}
