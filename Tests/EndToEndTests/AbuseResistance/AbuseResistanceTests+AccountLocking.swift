import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

/// WSO2's account locking (`[security.account_locking]`) and per-client limits (`[security.client_limits]`).
extension AbuseResistanceTests {
    // MARK: - Account locking

    @Test("Five wrong passwords lock the account: the right one gets the wrong-password answer until `user unlock`")
    func accountLocking() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a user and a client, with the default account locking (5 failures, 5 minutes)
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let client = try await server.deployment.createClient()
            let user = try await server.deployment.createUser(password: password)

            // When five wrong passwords arrive
            var wrong: [HTTPReply] = []
            for attempt in 0..<5 {
                wrong.append(try await server.passwordGrant(client, username: user, password: "wrong-guess-\(attempt)"))
            }
            #expect(wrong.allSatisfy { $0.status == 400 && $0.string("error") == "invalid_grant" }, "\(wrong.map(\.description))")

            // Then the right password gets exactly the wrong-password answer
            let locked = try await server.passwordGrant(client, username: user, password: password)
            let reference = try #require(wrong.last)
            #expect(locked.status == reference.status, "\(locked)")
            #expect(locked.body == reference.body, "the answer tells a locked account from a wrong password")
            #expect(locked.header("WWW-Authenticate") == reference.header("WWW-Authenticate"))
            #expect(locked.header("Cache-Control") == "no-store")
            #expect(locked.header("Retry-After") == nil)
            #expect(locked.string("access_token") == nil)
            // And a sixth wrong password gets the same answer again
            let sixth = try await server.passwordGrant(client, username: user, password: "wrong-guess-6")
            #expect(sixth.status == reference.status && sixth.body == reference.body)
            // And other accounts are not affected
            #expect(try await server.passwordGrant(client, username: "admin", password: "admin").status == 200)

            // And the operator sees the lock: in users_view, locked for about auto_unlock_after (5 minutes)
            let view = try await server.deployment.sqlite(
                "SELECT locked_until IS NOT NULL FROM users_view WHERE username = \(sqlQuoted(user))")
            #expect(view == "1")
            let secondsLeft = try await server.deployment.sqlite(
                "SELECT (locked_until - CAST(strftime('%s', 'now') AS INTEGER) * 1000) / 1000 FROM users WHERE username = \(sqlQuoted(user))")
            #expect(Int(secondsLeft).map { (200...301).contains($0) } == true, "locked for \(secondsLeft) s more")
            // And in `user list`, and `user list --json`
            let list = try await server.run(["user", "list"])
            #expect(list.status == 0, "\(list)")
            let line = list.stdout.split(separator: "\n").first { $0.hasPrefix(user + "\t") }
            #expect(line?.contains("locked until") == true, "\(list.stdout)")
            #expect(list.stdout.split(separator: "\n").first { $0.hasPrefix("admin\t") }?.contains("locked") == false)
            let json = try await server.run(["user", "list", "--json"])
            let users = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            #expect(users.first { $0["username"] as? String == user }?["locked_until"] is String, "\(json.stdout)")

            // When the operator unlocks the account
            let unlock = try await server.run(["user", "unlock", "--", user])
            #expect(unlock.status == 0, "\(unlock)")
            #expect(unlock.stdout.contains("unlocked user \(user)"))

            // Then the right password works at once, and the list no longer says locked
            let login = try await server.passwordGrant(client, username: user, password: password)
            #expect(login.status == 200, "\(login)")
            #expect(login.string("access_token") != nil)
            let after = try await server.run(["user", "list"])
            #expect(after.stdout.split(separator: "\n").first { $0.hasPrefix(user + "\t") }?.contains("locked") == false)
            // And unlocking an unknown user is an error naming it
            let unknown = try await server.run(["user", "unlock", "nobody-such"])
            #expect(unknown.status != 0)
            #expect(unknown.stderr.contains("nobody-such"), "\(unknown)")
            #expect(!server.standardError.contains(password))
        }
    }

    @Test("allowed_failed_attempts and auto_unlock_after are honoured: 2 failures lock for 5 seconds")
    func accountLockingConfigured() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.account_locking]
                allowed_failed_attempts = 2
                auto_unlock_after = "5s"
                """))
        try await Deployment.withServer(config: config) { server in
            // Given a user who failed twice (one failure is no lock)
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let client = try await server.deployment.createClient()
            let user = try await server.deployment.createUser(password: password)
            let first = try await server.passwordGrant(client, username: user, password: "wrong-guess-1")
            #expect(first.status == 400, "\(first)")
            let lockAfterOne = try await server.deployment.sqlite(
                "SELECT locked_until IS NULL FROM users WHERE username = \(sqlQuoted(user))")
            #expect(lockAfterOne == "1", "locked after one failure")
            #expect(try await server.passwordGrant(client, username: user, password: "wrong-guess-2").status == 400)

            // Then the account is locked: the right password gets the wrong-password answer
            let locked = try await server.passwordGrant(client, username: user, password: password)
            #expect(locked.status == 400 && locked.body == first.body, "\(locked)")
            // For auto_unlock_after, 5 seconds, from the second failure
            let lockedUntil = try #require(
                Int64(try await server.deployment.sqlite("SELECT locked_until FROM users WHERE username = \(sqlQuoted(user))")))
            let millisecondsLeft = lockedUntil - Int64(Date().timeIntervalSince1970 * 1000)
            #expect(millisecondsLeft <= 5_000, "locked for \(millisecondsLeft) ms more")

            // When the lock has run out
            try await Task.sleep(for: .milliseconds(max(0, millisecondsLeft) + 300))

            // Then the right password works without any operator
            let login = try await server.passwordGrant(client, username: user, password: password)
            #expect(login.status == 200, "\(login)")
        }
    }

    // MARK: - Per-client limits

    @Test("requests_per_second = 1, burst = 3: past the burst, immediate requests are 429; other clients go on; later it works")
    func perClientLimits() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.client_limits]
                requests_per_second = 1
                burst = 3
                """))
        try await Deployment.withServer(config: config) { server in
            // Given two clients and a resource server
            let client = try await server.deployment.createClient()
            let other = try await server.deployment.createClient()
            let inspector = try await server.deployment.createClient(["--introspection"])

            // When the client sends six requests back to back (one kept-alive connection)
            let replies = try await server.rapidRequests(6) { _ in server.tokenRequest(client) }

            // Then the burst of three is served, and past it (one request a second refills)
            // at least one is 429 with Retry-After, even on a slow machine
            #expect(replies.prefix(3).map(\.status) == [200, 200, 200], "\(replies.map(\.description))")
            let refused = try #require(replies.first { $0.status == 429 }, "\(replies.map(\.description))")
            expectTooManyRequests(refused, retryAfter: 1...2)

            // And another client is not affected
            let otherReply = try await server.clientCredentials(other)
            #expect(otherReply.status == 200, "\(otherReply)")

            // And the introspection endpoint is limited per caller the same way
            let token = try #require(otherReply.string("access_token"))
            let introspections = try await server.rapidRequests(6) { _ in server.introspectionRequest(of: token, as: inspector) }
            #expect(introspections.prefix(3).map(\.status) == [200, 200, 200], "\(introspections.map(\.description))")
            expectTooManyRequests(
                try #require(introspections.first { $0.status == 429 }, "\(introspections.map(\.description))"),
                retryAfter: 1...2)

            // When the client waits as long as Retry-After says
            let wait = Int(refused.header("Retry-After") ?? "") ?? 1
            try await Task.sleep(for: .seconds(wait) + .milliseconds(100))

            // Then it is served again
            let again = try await server.clientCredentials(client)
            #expect(again.status == 200, "\(again)")
        }
    }
}
