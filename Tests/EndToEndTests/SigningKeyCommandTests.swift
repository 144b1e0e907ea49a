import Foundation
import Testing
import TokenAuthorityTesting

/// README, "Commands" and "How tokens behave" (JWT access tokens, signing keys) through the command
/// line: `client create --token-type jwt`, `token revoke` with a JWT, `keys rotate` and `keys list`
/// against a running server.
@Suite("Command line: JWT clients and signing keys")
struct SigningKeyCommandTests {
    @Test("keys rotate: the running server signs with the new key within a second; keys list shows both")
    func rotateWhileServing() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a JWT client holding a token signed with the first key
            let client = try await server.deployment.createClient(["--token-type", "jwt"])
            let before = try #require(try await server.clientCredentials(client, scope: "a").string("access_token"))

            // When the operator rotates the key while the server runs
            let rotate = try await server.run(["keys", "rotate", "--json"])
            try #require(rotate.status == 0, "\(rotate)")
            let newKeyID = try #require(
                try JSONSerialization.jsonObject(with: Data(rotate.stdout.utf8)) as? [String: String])["kid"]

            // Then a token issued a second later names the new key (the server reads the current key's
            // id again at most every second)
            try await Task.sleep(for: .milliseconds(1100))
            let after = try #require(try await server.clientCredentials(client, scope: "b").string("access_token"))
            #expect(try keyID(of: after) == newKeyID)
            #expect(try keyID(of: before) != newKeyID)
            // and keys list shows the new key current, the old one still published, every member present
            let list = try await server.run(["keys", "list", "--json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(rows.map { $0["status"] as? String } == ["current", "published"])
            #expect(rows.first?["kid"] as? String == newKeyID)
            #expect(rows.allSatisfy { Set($0.keys) == ["kid", "algorithm", "status", "created_at", "retired_at", "publish_until"] })
            #expect(rows.first?["retired_at"] is NSNull)
        }
    }

    @Test("token revoke takes a JWT; a forged one revokes nothing")
    func revokeAJWT() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            let client = try await server.deployment.createClient(["--token-type", "jwt"])
            let token = try #require(try await server.clientCredentials(client).string("access_token"))
            let parts = token.split(separator: ".")
            let tampered = "\(parts[0]).\(parts[1]).\(String(parts[2].reversed()))"

            let forged = try await server.run(["token", "revoke", tampered])
            #expect(forged.status != 0 && forged.stderr.contains("no ACTIVE token"), "\(forged)")
            let revoked = try await server.run(["token", "revoke", token])
            #expect(revoked.status == 0, "\(revoked)")
            #expect(try await server.deployment.tokens(of: client.id, ["--state", "REVOKED"]).count == 1)
        }
    }

    private func keyID(of jwt: String) throws -> String? {
        var header = String(jwt.split(separator: ".")[0])
            .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        header += String(repeating: "=", count: (4 - header.count % 4) % 4)
        let data = try #require(Data(base64Encoded: header))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["kid"] as? String
    }
}
