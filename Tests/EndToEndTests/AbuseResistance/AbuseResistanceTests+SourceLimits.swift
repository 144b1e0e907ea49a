import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

/// `[security.source_limits]`, and the defaults that never throttle a well-behaved client.
extension AbuseResistanceTests {
    // MARK: - Per-source limits

    @Test("Failed client authentications: at the limit, the address gets 429 even with the right secret; another address does not")
    func failedClientAuthenticationsPerSource() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.source_limits]
                failed_client_authentications_per_minute = 3
                failed_logins_per_minute = 0
                """))
        try await Deployment.withServer(config: config) { server in
            // Given a client, a resource server, and someone guessing the client's secret from 127.0.0.1
            let client = try await server.deployment.createClient()
            let inspector = try await server.deployment.createClient(["--introspection"])
            let guesser = ClientKeys(id: client.id, secret: "not-the-secret-\(UUID().uuidString.prefix(6))")

            // When three wrong secrets arrive, each answered as usual
            for _ in 0..<3 {
                let reply = try await server.clientCredentials(guesser)
                #expect(reply.status == 401, "\(reply)")
                #expect(reply.string("error") == "invalid_client", "\(reply)")
            }

            // Then the fourth request from that address, with the RIGHT secret, is 429
            expectTooManyRequests(try await server.clientCredentials(client), retryAfter: 1...60)
            // And so is every OAuth endpoint, whoever the caller: token, introspection, revocation
            expectTooManyRequests(
                try await server.passwordGrant(client, username: "admin", password: "admin"), retryAfter: 1...60)
            expectTooManyRequests(try await server.introspection(of: "some-token", as: inspector), retryAfter: 1...60)
            expectTooManyRequests(try await server.revocationReply(for: "some-token", by: client), retryAfter: 1...60)

            // And what is not an OAuth request is still served to that address
            try await expectServed(server)

            #if os(Linux)
            // And another address is not limited: the right secret gets a token, a wrong one a plain 401
            let elsewhere = try await server.rawPostToken("grant_type=client_credentials", client: client, from: secondSource)
            #expect(elsewhere?.status == 200, "\(elsewhere?.description ?? "no answer")")
            #expect(elsewhere?.string("access_token") != nil)
            let guessElsewhere = try await server.rawPostToken(
                "grant_type=client_credentials", client: guesser, from: secondSource)
            #expect(guessElsewhere?.status == 401, "\(guessElsewhere?.description ?? "no answer")")
            #endif

            // And no secret reached the log
            #expect(!server.standardError.contains(client.secret))
            #expect(!server.standardError.contains(guesser.secret))
        }
    }

    @Test("Failed logins: at the limit, the address gets 429 even with a right password; another address does not")
    func failedLoginsPerSource() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.source_limits]
                failed_client_authentications_per_minute = 0
                failed_logins_per_minute = 3
                """))
        try await Deployment.withServer(config: config) { server in
            // Given a client and three users
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let client = try await server.deployment.createClient()
            let alice = try await server.deployment.createUser(password: password)
            let bob = try await server.deployment.createUser(password: password)
            let carol = try await server.deployment.createUser(password: password)

            // When one address fails three logins, each on another account (no account nears its lock)
            for username in [alice, bob, uniqueName("nobody")] {
                let reply = try await server.passwordGrant(client, username: username, password: "wrong-guess")
                #expect(reply.status == 400, "\(reply)")
                #expect(reply.string("error") == "invalid_grant", "\(reply)")
            }

            // Then a right password from that address is 429, and so is its client_credentials request
            expectTooManyRequests(
                try await server.passwordGrant(client, username: carol, password: password), retryAfter: 1...60)
            expectTooManyRequests(try await server.clientCredentials(client), retryAfter: 1...60)
            // And what is not an OAuth request is still served to it
            try await expectServed(server)

            #if os(Linux)
            // And another address logs in as carol, and as alice (one failure is no lock)
            for username in [carol, alice] {
                let form = Form.encode([("grant_type", "password"), ("username", username), ("password", password)])
                let reply = try await server.rawPostToken(form, client: client, from: secondSource)
                #expect(reply?.status == 200, "\(username): \(reply?.description ?? "no answer")")
            }
            #endif
            #expect(!server.standardError.contains(password))
        }
    }

    // MARK: - Defaults

    @Test("Behind a trusted proxy the source is the address it appended to X-Forwarded-For; a client cannot pick its own")
    func trustedProxy() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.source_limits]
                failed_client_authentications_per_minute = 2
                trusted_proxies = ["127.0.0.1"]
                """))
        try await Deployment.withServer(config: config) { server in
            // Given a proxy at 127.0.0.1 forwarding a guesser at 203.0.113.5
            let client = try await server.deployment.createClient()
            let guesser = ClientKeys(id: client.id, secret: "not-the-secret")
            let fromGuesser: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.1, 203.0.113.5"]
            for _ in 0..<2 {
                #expect(try await server.clientCredentials(guesser, headers: fromGuesser).status == 401)
            }

            // Then the guesser's address is limited, even with the right secret
            expectTooManyRequests(try await server.clientCredentials(client, headers: fromGuesser), retryAfter: 1...60)
            // And other clients behind the same proxy are not
            let fromOther: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.6"]
            #expect(try await server.clientCredentials(client, headers: fromOther).status == 200)
            // And a client cannot escape by naming another address first: the proxy's last entry counts
            let spoofed: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "192.0.2.99, 203.0.113.5"]
            expectTooManyRequests(try await server.clientCredentials(client, headers: spoofed), retryAfter: 1...60)
        }
    }

    @Test("The defaults never throttle a well-behaved client: 300 client_credentials, 10 password grants, 50 introspections")
    func defaultsNeverThrottle() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            // Given a client, a resource server and a user, with the default [security] settings
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let client = try await server.deployment.createClient()
            let inspector = try await server.deployment.createClient(["--introspection"])
            let user = try await server.deployment.createUser(password: password)

            // When the client asks for 300 tokens in quick succession, ten at a time
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        var statuses: [Int] = []
                        for _ in 0..<30 { statuses.append(try await server.clientCredentials(client).status) }
                        return statuses
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            // Then every one gets 200
            #expect(statuses.count == 300)
            #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")

            // And a user who mistypes the password twice, then logs in 10 times in a row, is served every
            // time (10, not more: each costs a deliberately slow hash, and successes never count anyway)
            for _ in 0..<2 {
                let typo = try await server.passwordGrant(client, username: user, password: password + "x")
                #expect(typo.status == 400, "\(typo)")
            }
            var logins: [Int] = []
            for _ in 0..<10 { logins.append(try await server.passwordGrant(client, username: user, password: password).status) }
            #expect(logins.allSatisfy { $0 == 200 }, "\(logins)")

            // And a resource server introspecting 50 times in a row is served every time
            let token = try #require(try await server.clientCredentials(client).string("access_token"))
            var introspections: [Int] = []
            for _ in 0..<50 { introspections.append(try await server.introspection(of: token, as: inspector).status) }
            #expect(introspections.allSatisfy { $0 == 200 }, "\(introspections)")
        }
    }
}
