import Foundation
import Testing
import TokenAuthorityTesting

// Cleanup (docs/storage.md, "Cleanup"): `token purge` and the background task of
// `[oauth.token_cleanup]` delete the rows no longer needed, and nothing else.

/// Short user tokens, long client tokens, and one second of retention.
private func cleanupConfig(enable: Bool) -> String {
    deploymentConfig().replacingOccurrences(
        of: """
            user_access_token_validity = "1h"
            refresh_token_validity = "1d"
            """,
        with: """
            user_access_token_validity = "1s"
            refresh_token_validity = "2s"

            [oauth.token_cleanup]
            enable = \(enable)
            retain_inactive_tokens_for = "1s"
            """)
}

@Suite("Token cleanup")
struct PurgeTests {
    @Test("token purge --json deletes an expired token's rows and keeps an active one")
    func purgeDeletesExpiredRows() async throws {
        // Given user tokens valid for 1 s (refresh tokens 2 s), client tokens for 1 h,
        // a retention of 1 s, and no background cleanup
        let config = cleanupConfig(enable: false)
        #expect(config.contains("retain_inactive_tokens_for"), "the test config did not take")
        try await Deployment.withServer(config: config) { server in
            let deployment = server.deployment
            // And a user token and a client token
            let userClient = try await deployment.createClient()
            let user = try await server.passwordGrant(userClient, username: "admin", password: "admin")
            #expect(user.status == 200, "\(user)")
            let client = try await deployment.createClient()
            let active = try await server.clientCredentials(client)
            #expect(active.status == 200, "\(active)")
            #expect(try await deployment.count("refresh_tokens") == 1)

            // When both of the user's tokens have been expired for longer than the retention
            try await Task.sleep(for: .milliseconds(3500))
            // And an operator purges
            let purge = try await server.run(["token", "purge", "--json"])

            // Then it reports one access row and one refresh row deleted
            #expect(purge.status == 0, "\(purge)")
            let counts = try #require(
                try JSONSerialization.jsonObject(with: Data(purge.stdout.utf8)) as? [String: Int], "\(purge)")
            #expect(
                counts == [
                    "access_tokens": 1, "refresh_tokens": 1, "sessions": 0, "authorization_codes": 0,
                    "device_authorizations": 0,
                ])
            // And the user's rows are gone
            #expect(try await deployment.tokens(of: userClient.id).isEmpty)
            #expect(try await deployment.count("refresh_tokens") == 0)
            // And the client's ACTIVE row stays: the same token is handed back
            #expect(try await deployment.tokens(of: client.id).map(\.state) == ["ACTIVE"])
            let again = try await server.clientCredentials(client)
            #expect(again.status == 200, "\(again)")
            #expect(again.string("access_token") == active.string("access_token"))

            // When the operator purges again, without --json
            let second = try await server.run(["token", "purge"])

            // Then nothing is left to delete
            #expect(second.status == 0, "\(second)")
            #expect(
                second.stdout
                    == "deleted 0 access token rows, 0 refresh token rows, 0 sessions, 0 authorization codes and 0 device requests\n",
                "\(second)")
        }
    }

    @Test("The server purges soon after start when enable = true, never when enable = false")
    func backgroundCleanup() async throws {
        // Given two deployments, one with the background cleanup and one without,
        // each holding a client token that expired long ago
        try await Deployment.with(config: cleanupConfig(enable: false)) { disabled in
            try await Deployment.with(config: cleanupConfig(enable: true)) { enabled in
                for deployment in [disabled, enabled] {
                    // Only serve and migrate create a database (README, "Commands")
                    #expect(try await deployment.run(["migrate"]).status == 0)
                    let client = try await deployment.createClient()
                    _ = try await deployment.sqlite(
                        """
                        INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                            state, grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                        VALUES (randomblob(32), x'00', \(sqlQuoted(client.id)), 'client', \(sqlQuoted(client.id)),
                            'default', 'ACTIVE', 'client_credentials', 1000, 2000, NULL, 1000)
                        """)
                    #expect(try await deployment.count("access_tokens") == 1)
                }

                // When both servers run (the one without cleanup started first)
                let withoutCleanup = try await disabled.startServer()
                let withCleanup: ServerProcess
                do {
                    withCleanup = try await enabled.startServer()
                } catch {
                    await withoutCleanup.stopOrKill()
                    throw error
                }
                var failure: (any Error)?
                do {
                    // Then the server with cleanup deletes the row within seconds
                    let deadline = ContinuousClock.now.advanced(by: .seconds(30))
                    while try await enabled.count("access_tokens") > 0, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    #expect(try await enabled.count("access_tokens") == 0, "\(withCleanup.standardError)")
                    // And the one without cleanup, up at least as long, keeps it
                    #expect(try await disabled.count("access_tokens") == 1)
                } catch {
                    failure = error
                }
                await withCleanup.stopOrKill()
                await withoutCleanup.stopOrKill()
                if let failure { throw failure }
            }
        }
    }
}
