import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bursts of simultaneous guesses against `[security.source_limits]` (README, Abuse resistance).
extension AdversarialTests {
    // MARK: - Per-source limits under a burst

    // Account locking is off here so that the source limit is the only limit at work: the
    // answers would be the same with it on (a locked account answers like a wrong password,
    // after the same KDF run), but every failure would also write the users table, and this
    // test is about how many checks start, not about locks.
    @Test("30 simultaneous right passwords from one address, three times the login limit: every one answers 200, none waits for a 429")
    func burstOfRightPasswords() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.source_limits]
                failed_logins_per_minute = 10
                failed_client_authentications_per_minute = 60
                """))
        try await Deployment.withServer(config: config) { server in
            // Given a client and a user, as a gateway in front of many users would present them
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let client = try await server.deployment.createClient()
            let user = try await server.deployment.createUser(password: password)

            // When 30 password grants with the right password arrive at once from 127.0.0.1
            let request = tokenRequestBytes(
                Form.encode([("grant_type", "password"), ("username", user), ("password", password)]), client: client)
            // (30 scrypt runs, about 20 s for a debug build on two cores: the wait for an
            // answer is generous, as this checks who is answered, not how fast.)
            let replies = try await burst(
                [[UInt8]](repeating: request, count: 30), port: server.port, timeout: .seconds(300))

            // Then every one was checked and answered 200: checks beyond the limit's 10 in flight
            // waited for a slot instead of being refused (README, Abuse resistance)
            let tally = statusTally(replies)
            #expect(replies.allSatisfy { $0?.status == 200 }, "answers: \(tally)")
            #expect(try await credentialChecks(server, "password") >= 30, "answers: \(tally)")
        }
    }

    // The two wrong-password bursts below use a low login limit so that their checks end well
    // inside the one-minute window that the first check opens: a debug build's scrypt run costs
    // about a second of CPU, and tests share two cores (so the right-password burst above is kept
    // small too). Past the window the failures are forgotten (README, Abuse resistance), and the
    // counts would no longer be the limit's.
    @Test("80 simultaneous wrong passwords from one address: at most 10 are checked (400), the rest get 429 at once")
    func burstOfWrongPasswords() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.source_limits]
                failed_logins_per_minute = 10
                failed_client_authentications_per_minute = 0

                [security.account_locking]
                enable = false
                """))
        try await Deployment.withServer(config: config) { server in
            // Given a client, a user, and the number of password checks so far
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let client = try await server.deployment.createClient()
            let user = try await server.deployment.createUser(password: password)
            let checksBefore = try await credentialChecks(server, "password")

            // When 80 password grants with wrong passwords arrive at once from 127.0.0.1
            let guesses = (0..<80).map { attempt in
                tokenRequestBytes(
                    Form.encode([("grant_type", "password"), ("username", user), ("password", "wrong-guess-\(attempt)")]),
                    client: client)
            }
            let replies = try await burst(guesses, port: server.port)

            // Then at most 10 were checked, each answered 400 invalid_grant (RFC 6749 §5.2)
            let tally = statusTally(replies)
            let checked = replies.compactMap { $0 }.filter { $0.status == 400 }
            let throttled = replies.compactMap { $0 }.filter { $0.status == 429 }
            #expect(checked.count + throttled.count == 80, "answers: \(tally)")
            #expect(checked.count <= 10, "answers: \(tally)")
            #expect(!checked.isEmpty, "no password was checked at all: \(tally)")
            let notInvalidGrant = checked.filter { $0.string("error") != "invalid_grant" }.count
            #expect(notInvalidGrant == 0, "400 answers that are not invalid_grant: \(notInvalidGrant)")
            // And every other one is 429 too_many_requests with Retry-After (README, Abuse resistance)
            expectAllThrottled(throttled)

            // And the password counter rose by the checks run, at most 10
            let checks = try await credentialChecks(server, "password") - checksBefore
            #expect(checks <= 10, "password checks run: \(checks); answers: \(tally)")
            #expect(checks == checked.count, "password checks run: \(checks); answers: \(tally)")
            // And no password reached the log
            expectNoSecret(in: server.standardError, [password])
        }
    }

    // Account locking is off here: the super admin locks like any account (README, Abuse
    // resistance), so 10 wrong passwords would lock it, and its right password would then be
    // refused from every address for auto_unlock_after. That is locking's doing, not the source
    // limit's, and this test shows that the limit is per address.
    @Test("200 simultaneous introspections with a wrong super-admin password: at most 10 scrypt runs, 190+ get 429; another address still introspects")
    func burstOfWrongSuperAdminPasswords() async throws {
        let config = deploymentConfig(
            extra: """
                [security.source_limits]
                failed_logins_per_minute = 10

                [security.account_locking]
                enable = false
                """)
        try await Deployment.withServer(config: config) { server in
            // Given a token to introspect, and the number of password checks so far
            let client = try await server.deployment.createClient()
            let token = try #require(try await server.clientCredentials(client).string("access_token"), "no token issued")
            let checksBefore = try await credentialChecks(server, "password")

            // When 200 introspections as the super admin with wrong passwords (no client is
            // named admin, so each is a password login) arrive at once from 127.0.0.1
            let guesses = (0..<200).map { attempt in
                rawRequest(
                    "POST", "/oauth2/introspect",
                    headers: [formContentType, ("Authorization", Form.basic(id: "admin", secret: "wrong-guess-\(attempt)"))],
                    body: Form.encode([("token", token)]))
            }
            let replies = try await burst(guesses, port: server.port)

            // Then at least 190 are 429 at once, and the rest 401 invalid_client
            let tally = statusTally(replies)
            let refused = replies.compactMap { $0 }.filter { $0.status == 401 }
            let throttled = replies.compactMap { $0 }.filter { $0.status == 429 }
            #expect(refused.count + throttled.count == 200, "answers: \(tally)")
            #expect(throttled.count >= 190, "answers: \(tally)")
            let notInvalidClient = refused.filter { $0.string("error") != "invalid_client" }.count
            #expect(notInvalidClient == 0, "401 answers that are not invalid_client: \(notInvalidClient)")
            expectAllThrottled(throttled)
            // And at most 10 scrypt runs were started
            let checks = try await credentialChecks(server, "password") - checksBefore
            #expect(checks <= 10, "password checks run: \(checks); answers: \(tally)")
            #expect(checks == refused.count, "password checks run: \(checks); answers: \(tally)")

            // And from that address even the right password is 429 now, and starts no check
            let again = try await RawConnection.exchange(port: server.port, introspectionBytes(token, id: "admin", secret: "admin"))
            #expect(again?.status == 429, "\(again?.description ?? "no answer")")
            #expect(try await credentialChecks(server, "password") - checksBefore == checks)

            #if os(Linux)
            // And from another address the right password introspects the token
            let elsewhere = try await RawConnection.exchange(
                port: server.port, from: secondSource, introspectionBytes(token, id: "admin", secret: "admin"))
            #expect(elsewhere?.status == 200, "\(elsewhere?.description ?? "no answer")")
            #expect(elsewhere?["active"]?.bool == true)
            #endif
        }
    }

    @Test("200 simultaneous wrong client secrets from one address: at most 60 are checked (401), the rest get 429 at once")
    func burstOfWrongClientSecrets() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.source_limits]
                failed_client_authentications_per_minute = 60
                failed_logins_per_minute = 0
                """))
        try await Deployment.withServer(config: config) { server in
            // Given a client, someone guessing its secret, and the number of secret checks so far
            let client = try await server.deployment.createClient()
            let guesser = ClientKeys(id: client.id, secret: "not-the-secret-\(UUID().uuidString.prefix(6))")
            let checksBefore = try await credentialChecks(server, "client_secret")

            // When 200 client_credentials requests with the wrong secret arrive at once from 127.0.0.1
            let guesses = [[UInt8]](repeating: tokenRequestBytes("grant_type=client_credentials", client: guesser), count: 200)
            let replies = try await burst(guesses, port: server.port)

            // Then at most 60 were checked, each answered 401 invalid_client (RFC 6749 §5.2)
            let tally = statusTally(replies)
            let refused = replies.compactMap { $0 }.filter { $0.status == 401 }
            let throttled = replies.compactMap { $0 }.filter { $0.status == 429 }
            #expect(refused.count + throttled.count == 200, "answers: \(tally)")
            #expect(refused.count <= 60, "answers: \(tally)")
            #expect(!refused.isEmpty, "no secret was checked at all: \(tally)")
            let notInvalidClient = refused.filter {
                $0.string("error") != "invalid_client" || $0.header("WWW-Authenticate") != #"Basic realm="token-authority""#
            }.count
            #expect(notInvalidClient == 0, "401 answers that are not invalid_client with WWW-Authenticate: \(notInvalidClient)")
            // And the rest are 429 too_many_requests with Retry-After
            expectAllThrottled(throttled)
            // And the client_secret counter rose by the checks run, at most 60
            let checks = try await credentialChecks(server, "client_secret") - checksBefore
            #expect(checks <= 60, "secret checks run: \(checks); answers: \(tally)")
            #expect(checks == refused.count, "secret checks run: \(checks); answers: \(tally)")

            // And that address is limited even with the right secret; no token was issued
            let right = try await RawConnection.exchange(
                port: server.port, tokenRequestBytes("grant_type=client_credentials", client: client))
            #expect(right?.status == 429, "\(right?.description ?? "no answer")")
            #expect(try await server.deployment.count("access_tokens", where: "client_id = \(sqlQuoted(client.id))") == 0)
            #if os(Linux)
            // And another address gets its token with the right secret
            let elsewhere = try await RawConnection.exchange(
                port: server.port, from: secondSource, tokenRequestBytes("grant_type=client_credentials", client: client))
            #expect(elsewhere?.status == 200, "\(elsewhere?.description ?? "no answer")")
            #endif
            // And no secret reached the log
            expectNoSecret(in: server.standardError, [client.secret, guesser.secret])
        }
    }

    @Test("A well-behaved burst is not throttled: 40 simultaneous client_credentials with the right secret all get 200")
    func wellBehavedBurst() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            // Given a client, the default limits (60 client authentications in flight or failed), and
            // the number of secret checks so far
            let client = try await server.deployment.createClient()
            let checksBefore = try await credentialChecks(server, "client_secret")

            // When it sends 40 token requests at once
            let requests = [[UInt8]](repeating: tokenRequestBytes("grant_type=client_credentials", client: client), count: 40)
            let replies = try await burst(requests, port: server.port)

            // Then every one gets 200 with a token
            let tally = statusTally(replies)
            #expect(replies.allSatisfy { $0?.status == 200 }, "answers: \(tally)")
            let withToken = replies.filter { $0?.string("access_token") != nil }.count
            #expect(withToken == 40, "answers with a token: \(withToken) of 40")
            // And every one was checked
            let checks = try await credentialChecks(server, "client_secret") - checksBefore
            #expect(checks == 40, "secret checks run: \(checks)")
        }
    }
}
