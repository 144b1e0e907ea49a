import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

// Issue 5, abuse resistance, end to end: the real executable over a socket.
// - failed client authentications and failed logins limited per source address (429 + Retry-After);
// - the defaults never throttle a well-behaved client;
// - WSO2's account locking, answered exactly like a wrong password, and `user unlock`;
// - optional per-client request limits on the token and introspection endpoints;
// - bounded bodies and headers; slow clients time out;
// - the `[security]` keys of deployment.toml, checked like every other key.
// Every test has a server of its own, so one test's failures never count against another's.

/// A second source address: Linux routes all of 127.0.0.0/8 to the loopback interface,
/// so a socket bound to 127.0.0.2 reaches the server on 127.0.0.1 from another address.
private let otherSource = "127.0.0.2"

@Suite("Abuse resistance (issue 5)")
struct AbuseResistanceTests {
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
                #expect(reply.status == 401, "\(reply.summary)")
                #expect(reply.string("error") == "invalid_client", "\(reply.summary)")
            }

            // Then the fourth request from that address, with the RIGHT secret, is 429
            expectTooManyRequests(try await server.clientCredentials(client), retryAfter: 1...60)
            // And so is every OAuth endpoint, whoever the caller: token, introspection, revocation
            expectTooManyRequests(
                try await server.passwordGrant(client, username: "admin", password: "admin"), retryAfter: 1...60)
            expectTooManyRequests(try await server.introspection(of: "some-token", as: inspector), retryAfter: 1...60)
            expectTooManyRequests(try await server.revoke("some-token", by: client), retryAfter: 1...60)

            // And what is not an OAuth request is still served to that address
            try await expectServed(server)

            #if os(Linux)
            // And another address is not limited: the right secret gets a token, a wrong one a plain 401
            let elsewhere = try await server.rawPostToken("grant_type=client_credentials", client: client, from: otherSource)
            #expect(elsewhere?.status == 200, "\(elsewhere?.description ?? "no answer")")
            #expect(elsewhere?.string("access_token") != nil)
            let guessElsewhere = try await server.rawPostToken(
                "grant_type=client_credentials", client: guesser, from: otherSource)
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
                #expect(reply.status == 400, "\(reply.summary)")
                #expect(reply.string("error") == "invalid_grant", "\(reply.summary)")
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
                let form = formEncoded([("grant_type", "password"), ("username", username), ("password", password)])
                let reply = try await server.rawPostToken(form, client: client, from: otherSource)
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
                #expect(typo.status == 400, "\(typo.summary)")
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
            #expect(wrong.allSatisfy { $0.status == 400 && $0.string("error") == "invalid_grant" }, "\(wrong.map(\.summary))")

            // Then the right password gets exactly the wrong-password answer
            let locked = try await server.passwordGrant(client, username: user, password: password)
            let reference = try #require(wrong.last)
            #expect(locked.status == reference.status, "\(locked.summary)")
            #expect(locked.body == reference.body, "the answer tells a locked account from a wrong password")
            #expect(locked["WWW-Authenticate"] == reference["WWW-Authenticate"])
            #expect(locked["Cache-Control"] == "no-store")
            #expect(locked["Retry-After"] == nil)
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
            #expect(login.status == 200, "\(login.summary)")
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
            #expect(first.status == 400, "\(first.summary)")
            let lockAfterOne = try await server.deployment.sqlite(
                "SELECT locked_until IS NULL FROM users WHERE username = \(sqlQuoted(user))")
            #expect(lockAfterOne == "1", "locked after one failure")
            #expect(try await server.passwordGrant(client, username: user, password: "wrong-guess-2").status == 400)

            // Then the account is locked: the right password gets the wrong-password answer
            let locked = try await server.passwordGrant(client, username: user, password: password)
            #expect(locked.status == 400 && locked.body == first.body, "\(locked.summary)")
            // For auto_unlock_after, 5 seconds, from the second failure
            let lockedUntil = try #require(
                Int64(try await server.deployment.sqlite("SELECT locked_until FROM users WHERE username = \(sqlQuoted(user))")))
            let millisecondsLeft = lockedUntil - Int64(Date().timeIntervalSince1970 * 1000)
            #expect(millisecondsLeft <= 5_000, "locked for \(millisecondsLeft) ms more")

            // When the lock has run out
            try await Task.sleep(for: .milliseconds(max(0, millisecondsLeft) + 300))

            // Then the right password works without any operator
            let login = try await server.passwordGrant(client, username: user, password: password)
            #expect(login.status == 200, "\(login.summary)")
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
            #expect(replies.prefix(3).map(\.status) == [200, 200, 200], "\(replies.map(\.summary))")
            let refused = try #require(replies.first { $0.status == 429 }, "\(replies.map(\.summary))")
            expectTooManyRequests(refused, retryAfter: 1...2)

            // And another client is not affected
            let otherReply = try await server.clientCredentials(other)
            #expect(otherReply.status == 200, "\(otherReply.summary)")

            // And the introspection endpoint is limited per caller the same way
            let token = try #require(otherReply.string("access_token"))
            let introspections = try await server.rapidRequests(6) { _ in server.introspectionRequest(of: token, as: inspector) }
            #expect(introspections.prefix(3).map(\.status) == [200, 200, 200], "\(introspections.map(\.summary))")
            expectTooManyRequests(
                try #require(introspections.first { $0.status == 429 }, "\(introspections.map(\.summary))"),
                retryAfter: 1...2)

            // When the client waits as long as Retry-After says
            let wait = Int(refused["Retry-After"] ?? "") ?? 1
            try await Task.sleep(for: .seconds(wait) + .milliseconds(100))

            // Then it is served again
            let again = try await server.clientCredentials(client)
            #expect(again.status == 200, "\(again.summary)")
        }
    }

    // MARK: - Bounded bodies and headers

    @Test("max_body_size and max_header_size are honoured: 413 over the body limit, headers over the limit refused")
    func configuredBounds() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.http]
                max_body_size = 2048
                max_header_size = 4096
                """))
        try await Deployment.withServer(config: config) { server in
            let client = try await server.deployment.createClient()
            let inspector = try await server.deployment.createClient(["--introspection"])
            let prefix = "grant_type=client_credentials&padding="

            // A form of exactly 2048 bytes is served
            let atLimit = try await server.postToken(padded(prefix, to: 2048), client: client)
            #expect(atLimit.status == 200, "\(atLimit.summary)")

            // A 3000-byte form is 413 invalid_request, as JSON, never cached
            let over = try await server.postToken(padded(prefix, to: 3000), client: client)
            expectBodyTooLarge(over)
            // And so is a 3000-byte introspection request
            let introspection = try await server.request(
                .post, "/oauth2/introspect",
                headers: [
                    .contentType: "application/x-www-form-urlencoded",
                    .authorization: basicAuthorization(inspector.id, inspector.secret),
                ],
                body: Array(padded("token=", to: 3000).utf8))
            expectBodyTooLarge(introspection)

            // A 6 KiB header is refused, unprocessed; a 3 KiB one is served
            let fresh = try await server.deployment.createClient()
            try await expectHeadersRefused(server, client: fresh, headers: [("X-Padding", String(repeating: "a", count: 6 * 1024))])
            let small = try await server.rawPostToken(
                "grant_type=client_credentials", client: fresh, headers: [("X-Padding", String(repeating: "a", count: 3 * 1024))])
            #expect(small?.status == 200, "\(small?.description ?? "no answer")")
            #expect(try await server.health().status == 200)
        }
    }

    @Test("Default bounds: a 65 KiB body is 413; a 20 KiB header, or 21 KiB of headers, is refused; a 10 KiB header is served")
    func defaultBounds() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            let client = try await server.deployment.createClient()

            // A body over 64 KiB is 413 invalid_request
            let over = try await server.postToken(padded("grant_type=client_credentials&padding=", to: 65 * 1024), client: client)
            expectBodyTooLarge(over)

            // A 20 KiB header field is refused and the request never reaches the token endpoint
            try await expectHeadersRefused(server, client: client, headers: [("X-Padding", String(repeating: "a", count: 20 * 1024))])
            // And so are three fields of 7 KiB: the limit is on all fields together
            try await expectHeadersRefused(
                server, client: client, headers: (1...3).map { ("X-Padding-\($0)", String(repeating: "a", count: 7 * 1024)) })
            #expect(try await server.deployment.count("access_tokens", where: "client_id = \(sqlQuoted(client.id))") == 0)

            // A 10 KiB header is served
            let served = try await server.rawPostToken(
                "grant_type=client_credentials", client: client, headers: [("X-Padding", String(repeating: "a", count: 10 * 1024))])
            #expect(served?.status == 200, "\(served?.description ?? "no answer")")
            // And the server is healthy
            #expect(try await server.health().status == 200)
            #expect(server.isRunning)
        }
    }

    // MARK: - Slow clients

    @Test("A body cut off by request_timeout is logged as 408, not counted as a body too large")
    func stalledBodyIsNot413() async throws {
        let config = withoutAdmin(deploymentConfig(extra: "[security.http]\nrequest_timeout = \"2s\""))
        try await Deployment.withServer(config: config) { server in
            // Given a request announcing 100 body bytes and sending 10
            let client = try await server.deployment.createClient()
            let connection = try await RawConnection.open(port: server.port)
            defer { connection.close() }
            #expect(await connection.send(tokenHead(client, 100) + "grant_type"))

            // When the server gives up on it
            _ = await connection.waitForClose(timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(200))

            // Then its log line says 408, and nothing counts it as a body too large (the
            // metric of an answer that could not be written is Hummingbird's to skip)
            let line = server.standardError.split(separator: "\n").first { $0.contains("endpoint=/oauth2/token") }
            #expect(line?.contains("status=408") == true, "\(line ?? "no request line")")
            let metrics = try await server.request(.get, "/metrics").body
            #expect(!metrics.contains(#"http_response_status_code="413""#))
        }
    }

    @Test("request_timeout = 1s: stalled and dripping requests and idle connections are closed; others are served meanwhile")
    func slowClients() async throws {
        let config = withoutAdmin(deploymentConfig(
            extra: """
                [security.http]
                request_timeout = "1s"
                """))
        try await Deployment.withServer(config: config) { server in
            let client = try await server.deployment.createClient()
            let stalled = try await server.deployment.createClient()
            let port = server.port
            let give = Duration.seconds(6)  // expected ~1 s; generous for a loaded machine

            // Given, all at once:
            // a client that sends half a request head, then nothing
            async let halfHead: RawWait = {
                let connection = try await RawConnection.open(port: port)
                await connection.send("POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
                return await connection.waitForClose(timeout: give)
            }()
            // a client that sends a whole head announcing 100 bytes of body, and 10 of them
            async let partialBody: RawWait = {
                let connection = try await RawConnection.open(port: port)
                await connection.send(tokenHead(stalled, 100) + "grant_type")
                return await connection.waitForClose(timeout: give)
            }()
            // a client that drips its head one byte every 200 ms (never idle for a second)
            async let headDrip = drip(port: port, head: "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", for: give)
            // a client that drips a 100-byte body one byte every 200 ms (20 s to send it all)
            async let bodyDrip = drip(port: port, head: tokenHead(stalled, 100), for: give)
            // a keep-alive connection left idle after one request
            async let idle: (status: Int?, wait: RawWait) = {
                let connection = try await RawConnection.open(port: port)
                await connection.send(rawRequest("GET", "/health", close: false))
                let reply = await connection.readResponse(timeout: give)
                return (reply?.status, await connection.waitForClose(timeout: give))
            }()
            // a keep-alive client that is slow but within the limits: a request every 300 ms on one
            // connection, each body sent 300 ms after its head
            async let patient: [Int?] = {
                let connection = try await RawConnection.open(port: port)
                var statuses: [Int?] = []
                for _ in 0..<5 {
                    await connection.send(tokenHead(client, 29))
                    try await Task.sleep(for: .milliseconds(300))
                    await connection.send("grant_type=client_credentials")
                    statuses.append(await connection.readResponse(timeout: give)?.status)
                    try await Task.sleep(for: .milliseconds(300))
                }
                return statuses
            }()

            // When other clients call meanwhile
            var meanwhile: [String] = []
            for round in 0..<8 {
                do {
                    meanwhile.append("\(try await server.health().status)")
                } catch {
                    meanwhile.append("health \(round): \(error)")
                }
                do {
                    meanwhile.append("\(try await server.clientCredentials(client).status)")
                } catch {
                    meanwhile.append("token \(round): \(error)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }

            // Then they are served normally
            #expect(meanwhile.allSatisfy { $0 == "200" }, "\(meanwhile)\n\(server.standardError.suffix(3000))")
            // And the stalled head is closed after about request_timeout
            let halfHeadWait = try await halfHead
            #expect(halfHeadWait.closedAfter.map { $0 >= .milliseconds(500) } == true, "half a head: \(halfHeadWait)")
            // And so is the stalled body
            let partialBodyWait = try await partialBody
            #expect(partialBodyWait != .stillOpen, "a partial body: \(partialBodyWait)")
            // And the dripping head and body, long before they are whole
            let headDripResult = try await headDrip
            #expect(headDripResult.closed, "a dripping head: \(headDripResult)")
            let bodyDripResult = try await bodyDrip
            #expect(bodyDripResult.closed, "a dripping body: \(bodyDripResult)")
            // And the idle keep-alive connection, after its answer
            let idleResult = try await idle
            #expect(idleResult.status == 200)
            #expect(idleResult.wait.closedAfter.map { $0 >= .milliseconds(500) } == true, "an idle connection: \(idleResult.wait)")
            // And the patient client was served every time on its one connection
            let patientStatuses = try await patient
            #expect(patientStatuses == [200, 200, 200, 200, 200], "\(patientStatuses)")
            // And no token was issued to the stalled requests' client
            #expect(try await server.deployment.count("access_tokens", where: "client_id = \(sqlQuoted(stalled.id))") == 0)
            // And the server is healthy
            #expect(try await server.health().status == 200)
            #expect(server.isRunning)
        }
    }

    // MARK: - Configuration

    /// A `[security]` table with one faulty line, and the key its error must name.
    struct Broken: Sendable, CustomTestStringConvertible {
        var table: String
        var faultyLine: String
        var key: String

        var config: String { deploymentConfig(extra: "[\(table)]\n\(faultyLine)") }

        /// The 1-based number of the faulty line.
        var line: Int {
            (config.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == faultyLine } ?? -1) + 1
        }

        var testDescription: String { "[\(table)] \(faultyLine)" }
    }

    static let broken: [Broken] = [
        Broken(table: "security.account_locking", faultyLine: "allowed_failed_attempts = 0", key: "security.account_locking.allowed_failed_attempts"),
        Broken(table: "security.account_locking", faultyLine: #"enable = "yes""#, key: "security.account_locking.enable"),
        Broken(table: "security.account_locking", faultyLine: #"auto_unlock_after = "0s""#, key: "security.account_locking.auto_unlock_after"),
        Broken(
            table: "security.source_limits", faultyLine: "failed_logins_per_minute = -1",
            key: "security.source_limits.failed_logins_per_minute"),
        Broken(table: "security.client_limits", faultyLine: "requests_per_second = 1.5", key: "security.client_limits.requests_per_second"),
        Broken(table: "security.http", faultyLine: #"request_timeout = "soon""#, key: "security.http.request_timeout"),
        Broken(table: "security.http", faultyLine: #"max_body_size = "big""#, key: "security.http.max_body_size"),
        Broken(table: "security.http", faultyLine: "max_header_size = 10", key: "security.http.max_header_size"),
    ]

    @Test("A broken [security] value stops start-up, naming the file, the line and the key", arguments: broken)
    func brokenSecurityValue(_ broken: Broken) async throws {
        try #require(broken.line > 0, "the faulty line is missing from the config")
        try await Deployment.with(config: broken.config) { deployment in
            // Given a deployment.toml with one mistake under [security]
            // When the server is started
            let result = try await deployment.run(["serve"], timeout: .seconds(20))

            // Then it exits non-zero, naming the file, the line and the key, and serves nothing
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("deployment.toml"), "\(result)")
            #expect(mentionsLine(result.stderr, broken.line), "line \(broken.line): \(result)")
            #expect(result.stderr.contains(broken.key), "\(result)")
            #expect(!result.stdout.contains("listening"))
        }
    }

    @Test("The [security] section documented in the shipped deployment.toml is accepted as is, without warnings")
    func documentedSection() async throws {
        // Given the [security] tables of the repository's deployment.toml, copied into a test deployment
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let shipped = try String(contentsOf: repository.appendingPathComponent("deployment.toml"), encoding: .utf8)
        let lines = shipped.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("[security") }, "no [security] section in deployment.toml")
        let end = lines[start...].firstIndex { $0.hasPrefix("[") && !$0.hasPrefix("[security") } ?? lines.endIndex
        let section = lines[start..<end].joined(separator: "\n")
        for key in ["allowed_failed_attempts", "auto_unlock_after", "failed_client_authentications_per_minute",
                    "failed_logins_per_minute", "requests_per_second", "burst", "max_body_size", "max_header_size",
                    "request_timeout"] {
            #expect(section.contains(key), "deployment.toml does not document \(key)")
        }

        try await Deployment.withServer(config: withoutAdmin(deploymentConfig(extra: section))) { server async throws in
            // When the server has started
            // Then it serves, and warns about no [security] key
            #expect(try await server.health().status == 200)
            #expect(!server.standardError.contains("unknown key security"), "\(server.standardError)")
        }
    }
}

// MARK: - Helpers

/// 429 `too_many_requests` as RFC 6749 §5.2 JSON, `Retry-After` seconds within `range`, never cached.
private func expectTooManyRequests(
    _ reply: HTTPReply, retryAfter range: ClosedRange<Int>, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status == 429, "\(reply.summary)", sourceLocation: sourceLocation)
    #expect(reply.members == ["error", "error_description"], "\(reply.summary)", sourceLocation: sourceLocation)
    #expect(reply.string("error") == "too_many_requests", "\(reply.summary)", sourceLocation: sourceLocation)
    let retryAfter = reply["Retry-After"].flatMap { Int($0) }
    #expect(
        retryAfter.map { range.contains($0) } == true, "Retry-After: \(reply["Retry-After"] ?? "none")",
        sourceLocation: sourceLocation)
    #expect(reply["Cache-Control"] == "no-store", sourceLocation: sourceLocation)
    #expect(reply["Content-Type"]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
}

/// SPEC §4: 413 `invalid_request` as JSON, never cached.
private func expectBodyTooLarge(_ reply: HTTPReply, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == 413, "\(reply.summary)", sourceLocation: sourceLocation)
    #expect(reply.members == ["error", "error_description"], "\(reply.summary)", sourceLocation: sourceLocation)
    #expect(reply.string("error") == "invalid_request", sourceLocation: sourceLocation)
    #expect(reply["Cache-Control"] == "no-store", sourceLocation: sourceLocation)
}

/// The GET endpoints answer 200: health, metrics, metadata.
private func expectServed(_ server: ServerProcess, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for path in ["/health", "/metrics", "/.well-known/oauth-authorization-server"] {
        let reply = try await server.request(.get, path)
        #expect(reply.status == 200, "\(path): \(reply.summary)", sourceLocation: sourceLocation)
    }
}

/// A token request carrying `headers` is refused before it is processed: an error status
/// (observed: 400 with `Connection: close` and no body), or no answer, and the connection
/// closed; the client gets no token and the server keeps serving.
private func expectHeadersRefused(
    _ server: ServerProcess, client: ClientKeys, headers: [(String, String)],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let before = try await server.deployment.count("access_tokens", where: "client_id = \(sqlQuoted(client.id))")
    let connection = try await RawConnection.open(port: server.port)
    defer { connection.close() }
    // The server may close the connection before the whole request is sent.
    await connection.send(server.tokenRequestBytes("grant_type=client_credentials", client: client, headers: headers))
    let reply = await connection.readResponse(timeout: .seconds(10))
    let wait = await connection.waitForClose(timeout: .seconds(10))
    #expect(reply.map { (400...499).contains($0.status) } ?? true, "\(reply?.description ?? "no answer")", sourceLocation: sourceLocation)
    #expect(wait != .stillOpen, "the connection stays open after an oversized head", sourceLocation: sourceLocation)
    let after = try await server.deployment.count("access_tokens", where: "client_id = \(sqlQuoted(client.id))")
    #expect(after == before, "a token was issued", sourceLocation: sourceLocation)
    #expect(try await server.health().status == 200, sourceLocation: sourceLocation)
}

/// The head of a token request by `client` announcing a form of `length` bytes.
private func tokenHead(_ client: ClientKeys, _ length: Int) -> String {
    "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Authorization: \(basicAuthorization(client.id, client.secret))\r\nContent-Length: \(length)\r\n\r\n"
}

/// `prefix` followed by `a`s up to `size` bytes.
private func padded(_ prefix: String, to size: Int) -> String {
    prefix + String(repeating: "a", count: size - prefix.utf8.count)
}

/// What became of a client that sends `head`, then one byte every 200 ms.
private struct DripResult: Sendable, CustomStringConvertible {
    var closed: Bool
    var bytesSent: Int
    var elapsed: Duration
    var description: String { "\(closed ? "closed" : "still open") after \(elapsed), \(bytesSent) bytes dripped" }
}

/// Sends `head`, then drips `a`s one every 200 ms until the server closes the
/// connection or `limit` has passed.
private func drip(port: Int, head: String, for limit: Duration) async throws -> DripResult {
    let connection = try await RawConnection.open(port: port)
    defer { connection.close() }
    let started = ContinuousClock.now
    var sent = 0
    var closed = !(await connection.send(head))
    while !closed, ContinuousClock.now - started < limit {
        try await Task.sleep(for: .milliseconds(200))
        if await connection.isClosedByServer() {
            closed = true
        } else if await connection.send("a") {
            sent += 1
        } else {
            closed = true
        }
    }
    return DripResult(closed: closed, bytesSent: sent, elapsed: ContinuousClock.now - started)
}

extension ServerProcess {
    fileprivate func clientCredentials(_ client: ClientKeys, headers: HTTPFields) async throws -> HTTPReply {
        try await postToken("grant_type=client_credentials", client: client, headers: headers)
    }

    /// `POST /oauth2/revoke` of `token` by `client`, HTTP Basic.
    fileprivate func revoke(_ token: String, by client: ClientKeys) async throws -> HTTPReply {
        try await request(
            .post, "/oauth2/revoke",
            headers: [
                .contentType: "application/x-www-form-urlencoded", .authorization: basicAuthorization(client.id, client.secret),
            ],
            body: Array(formEncoded([("token", token)]).utf8))
    }

    /// The bytes of `POST /oauth2/token` with `form`, HTTP Basic as `client`, and `headers`.
    fileprivate func tokenRequestBytes(_ form: String, client: ClientKeys, headers: [(String, String)] = []) -> [UInt8] {
        rawRequest(
            "POST", "/oauth2/token",
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", basicAuthorization(client.id, client.secret)),
            ] + headers,
            body: form)
    }

    /// `POST /oauth2/token` over a raw connection, from `source` when given.
    fileprivate func rawPostToken(
        _ form: String, client: ClientKeys, headers: [(String, String)] = [], from source: String? = nil
    ) async throws -> RawResponse? {
        try await RawConnection.exchange(port: port, from: source, tokenRequestBytes(form, client: client, headers: headers))
    }

    /// A client_credentials request by `client`.
    fileprivate func tokenRequest(_ client: ClientKeys) -> TestClient.Request {
        TestClient.Request(
            "/oauth2/token", method: .post, authority: "127.0.0.1:\(port)",
            headers: [
                .contentType: "application/x-www-form-urlencoded", .authorization: basicAuthorization(client.id, client.secret),
            ],
            body: ByteBuffer(string: "grant_type=client_credentials"))
    }

    /// An introspection request for `token` by `caller`.
    fileprivate func introspectionRequest(of token: String, as caller: ClientKeys) -> TestClient.Request {
        TestClient.Request(
            "/oauth2/introspect", method: .post, authority: "127.0.0.1:\(port)",
            headers: [
                .contentType: "application/x-www-form-urlencoded", .authorization: basicAuthorization(caller.id, caller.secret),
            ],
            body: ByteBuffer(string: formEncoded([("token", token)])))
    }

    /// `count` requests one after another on one kept-alive connection: as fast as a client can send them.
    fileprivate func rapidRequests(
        _ count: Int, _ request: @escaping @Sendable (Int) -> TestClient.Request
    ) async throws -> [HTTPReply] {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { http in
            var replies: [HTTPReply] = []
            for index in 0..<count { replies.append(HTTPReply(try await http.execute(request(index)))) }
            return replies
        }
    }
}

