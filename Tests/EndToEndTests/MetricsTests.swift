import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

// GET /metrics (README, "Metrics: `GET /metrics`"): request counts and latencies by endpoint and
// outcome, tokens issued by grant type and mode, and the server's own events (replays, revocations,
// account locks, database busy retries, cleanup deletions, lookups answered from memory), in the
// Prometheus text format, as a scraper reads them from a fresh server.

@Suite("Metrics")
struct MetricsTests {
    @Test("A fresh server exports every token counter at 0 before any request")
    func countersStartAtZero() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a server that has answered nothing yet
            // When Prometheus scrapes it
            let (reply, metrics) = try await server.scrapeMetrics()

            // Then the scrape succeeds, and every counter of the token side is already there at 0,
            // so that rate() and alerts on them work from the first scrape
            #expect(reply.status == 200)
            let issued = metrics.samples(named: "token_authority_tokens_issued_total")
            #expect(issued.count == 30, "\(issued.count) series of token_authority_tokens_issued_total")
            #expect(issued.allSatisfy { $0.value == 0 })
            for name in [
                "token_authority_refresh_replays_total", "token_authority_revocations_total",
                "token_authority_account_locks_total", "token_authority_database_busy_retries_total",
            ] {
                #expect(metrics.value(name) == 0, "\(name) is \(String(describing: metrics.value(name)))")
            }
            for table in ["access_tokens", "refresh_tokens"] {
                #expect(metrics.value("token_authority_cleanup_deleted_rows_total", ["table": table]) == 0)
            }
            for lookup in ["active_token", "presented_token"] {
                for answeredFrom in ["memory", "database"] {
                    let labels = ["lookup": lookup, "answered_from": answeredFrom]
                    #expect(metrics.value("token_authority_token_lookups_total", labels) == 0, "\(labels)")
                }
            }
        }
    }

    @Test("Reuses answered from memory while nobody writes are counted apart from those read from the database")
    func lookupsAnsweredFromMemory() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a client whose first token request writes its token
            let client = try await server.deployment.createClient()
            #expect(try await server.clientCredentials(client).status == 200)

            // When it asks five times more, reused each time, with no write in between
            for _ in 1...5 {
                let reply = try await server.clientCredentials(client)
                #expect(reply.status == 200, "\(reply)")
            }

            // Then all six looked up the key's ACTIVE token: the first two read the database (the
            // first found none and wrote one, so the second had to read again), the later ones
            // were answered from memory
            let metrics = try await server.scrapeMetrics().metrics
            func lookups(answeredFrom: String) -> Double {
                let labels = ["lookup": "active_token", "answered_from": answeredFrom]
                return metrics.value("token_authority_token_lookups_total", labels) ?? 0
            }
            let (memory, database) = (lookups(answeredFrom: "memory"), lookups(answeredFrom: "database"))
            #expect(memory + database == 6 && memory >= 1 && database >= 2, "memory \(memory), database \(database)")
        }
    }

    @Test("Exact request and token counts after a scripted sequence of grants, failures and revocations")
    func exactCounts() async throws {
        // Given a fresh reuse-mode server where one failed login locks an account
        let config = deploymentConfig(
            extra: """

                [security.account_locking]
                allowed_failed_attempts = 1
                """)
        try await Deployment.withServer(config: config) { server in
            let deployment = server.deployment
            // And an opaque client, a JWT client and a user of its own
            let client = try await deployment.createClient()
            let jwtClient = try await deployment.createClient(["--token-type", "jwt"])
            let user = try await deployment.createUser(password: "right-\(UUID().uuidString)")

            // When the opaque client gets a client token twice: new, then reused
            let first = try await server.clientCredentials(client)
            let second = try await server.clientCredentials(client)
            try #require(first.status == 200 && second.status == 200, "\(first) \(second)")
            #expect(first.string("access_token") == second.string("access_token"))
            // And the JWT client twice: new, then renewed
            let firstJWT = try await server.clientCredentials(jwtClient)
            let secondJWT = try await server.clientCredentials(jwtClient)
            try #require(firstJWT.status == 200 && secondJWT.status == 200, "\(firstJWT) \(secondJWT)")
            #expect(firstJWT.string("access_token") != secondJWT.string("access_token"))
            // And a user token twice: new, then reused
            let login = try await server.passwordGrant(client, username: "admin", password: "admin")
            let relogin = try await server.passwordGrant(client, username: "admin", password: "admin")
            try #require(login.status == 200 && relogin.status == 200, "\(login) \(relogin)")
            let rotated = try #require(login.string("refresh_token"))
            #expect(relogin.string("refresh_token") == rotated)
            // And a refresh (a new token), then a replay of the refresh token it rotated away
            let refreshed = try await server.refreshTokenGrant(client, refreshToken: rotated)
            #expect(refreshed.status == 200, "\(refreshed)")
            let replay = try await server.refreshTokenGrant(client, refreshToken: rotated)
            #expect(replay.status == 400 && replay.string("error") == "invalid_grant", "\(replay)")
            // And one revocation that revokes, then the same again and an unknown token (nothing to revoke)
            let clientToken = try #require(first.string("access_token"))
            for token in [clientToken, clientToken, "no-such-token-\(UUID().uuidString)"] {
                let revoked = try await server.revocationReply(for: token, by: client)
                #expect(revoked.status == 200, "\(revoked)")
            }
            // And a wrong client secret, a wrong password that locks the user, an unknown path and a health check
            let wrongSecret = try await server.clientCredentials(ClientKeys(id: client.id, secret: "wrong-secret"))
            #expect(wrongSecret.status == 401, "\(wrongSecret)")
            let wrongPassword = try await server.passwordGrant(client, username: user, password: "wrong-password")
            #expect(wrongPassword.status == 400, "\(wrongPassword)")
            #expect(try await server.request(.get, "/no-such-endpoint").status == 404)
            #expect(try await server.health().status == 200)

            // Then /metrics answers in the Prometheus text format
            let (reply, metrics) = try await server.scrapeMetrics()
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(metrics.types["http_server_requests_total"] == "counter")
            #expect(metrics.types["http_server_request_duration_seconds"] == "histogram")
            #expect(metrics.types["token_authority_tokens_issued_total"] == "counter")

            // And tokens are counted by grant type, token type and mode, all 30 combinations present
            let issued: [String: Double] = [
                "client_credentials opaque new": 1, "client_credentials opaque reused": 1,
                "client_credentials jwt new": 1, "client_credentials jwt renewed": 1,
                "password opaque new": 1, "password opaque reused": 1,
                "refresh_token opaque new": 1,
            ]
            let series = metrics.samples(named: "token_authority_tokens_issued_total")
            #expect(series.count == 30, "\(series.count) series")
            for sample in series {
                let key = ["grant_type", "token_type", "mode"].map { sample.labels[$0] ?? "?" }.joined(separator: " ")
                #expect(sample.value == issued[key, default: 0], "tokens issued \(key)")
            }
            // And the replay, the one revocation that revoked something and the lock, once each
            #expect(metrics.value("token_authority_refresh_replays_total") == 1)
            #expect(metrics.value("token_authority_revocations_total") == 1)
            #expect(metrics.value("token_authority_account_locks_total") == 1)

            // And requests are counted by route, method and status (the scrapes themselves aside)
            var requests: [String: Double] = [:]
            for sample in metrics.samples(named: "http_server_requests_total")
            where sample.labels["http_route"] != "/metrics" {
                let key = ["http_request_method", "http_route", "http_response_status_code"]
                    .map { sample.labels[$0] ?? "?" }.joined(separator: " ")
                requests[key] = sample.value
            }
            #expect(
                requests == [
                    "POST /oauth2/token 200": 7, "POST /oauth2/token 400": 2, "POST /oauth2/token 401": 1,
                    "POST /oauth2/revoke 200": 3, "GET NotFound 404": 1, "GET /health 200": 1,
                ])

            // And the token route's latency histogram has its buckets, sum and count
            let route = [
                "http_route": "/oauth2/token", "http_request_method": "POST", "http_response_status_code": "200",
            ]
            let buckets = metrics.samples(named: "http_server_request_duration_seconds_bucket")
                .filter { sample in route.allSatisfy { sample.labels[$0.key] == $0.value } }
            let bounds = buckets.compactMap { $0.labels["le"] }
            #expect(buckets.count >= 2 && bounds.last == "+Inf", "buckets \(bounds)")
            #expect(
                zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value }, "buckets are not cumulative")
            #expect(buckets.last?.value == 7)
            #expect(metrics.value("http_server_request_duration_seconds_count", route) == 7)
            let sum = try #require(metrics.value("http_server_request_duration_seconds_sum", route))
            #expect(sum > 0 && sum < 600, "sum \(sum)")
        }
    }

    @Test("A token request waiting for another process's write lock succeeds once it is released, and the wait is counted")
    func busyRetries() async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a client that has no token yet
            let deployment = server.deployment
            let client = try await deployment.createClient()
            let retries = try await server.busyRetries()

            // And another process holding the database's write lock
            let holder = try WriteLockHolder(deployment: deployment)
            defer { holder.stop() }
            try await holder.waitUntilLocked()

            // When the client asks for a token, which must write a new row
            let request = Task {
                let reply = try await server.clientCredentials(client)
                return (reply, answeredAt: ContinuousClock.now)
            }
            // Then the server waits for the lock, and counts its retries
            try await server.waitForBusyRetries(after: retries)
            // And once the lock is released the request gets its token, not an error
            let releasedAt = ContinuousClock.now
            holder.release()
            let (reply, answeredAt) = try await request.value
            #expect(reply.status == 200, "\(reply)")
            #expect(answeredAt > releasedAt, "answered while the lock was held")
            #expect(try await holder.exitStatus() == 0, "sqlite3 failed to hold and release the lock")
            #expect(try await deployment.activeTokens(of: client.id) == 1)
        }
    }

    @Test("The background cleanup counts the rows it deletes, by table")
    func cleanupDeletions() async throws {
        // Given user tokens valid for 1 s (refresh tokens 2 s), client tokens for 1 h,
        // a retention of 1 s and a cleanup every half second
        let config = deploymentConfig().replacingOccurrences(
            of: """
                user_access_token_validity = "1h"
                refresh_token_validity = "1d"
                """,
            with: """
                user_access_token_validity = "1s"
                refresh_token_validity = "2s"

                [oauth.token_cleanup]
                enable = true
                retain_inactive_tokens_for = "1s"
                """)
        try #require(config.contains("retain_inactive_tokens_for"), "the test config did not take")
        try await Deployment.with(config: config) { deployment in
            try await deployment.withServer(environment: ["TOKEN_AUTHORITY_CLEANUP_INTERVAL": "0.5"]) { server in
            // And a user token refreshed once (two access rows, two refresh rows) and a client token
            let client = try await deployment.createClient()
            let login = try await server.passwordGrant(client, username: "admin", password: "admin")
            try #require(login.status == 200, "\(login)")
            let refreshed = try await server.refreshTokenGrant(client, refreshToken: try #require(login.string("refresh_token")))
            try #require(refreshed.status == 200, "\(refreshed)")
            let clientToken = try await server.clientCredentials(client)
            try #require(clientToken.status == 200, "\(clientToken)")
            let accessBefore = try await deployment.count("access_tokens")
            let refreshBefore = try await deployment.count("refresh_tokens")
            #expect(accessBefore == 3 && refreshBefore == 2, "\(accessBefore) access rows, \(refreshBefore) refresh rows")

            // When the user's tokens have been expired for longer than the retention
            // (eligible 3 s after issuance), and the cleanup has run
            let deadline = ContinuousClock.now + .seconds(15)
            var remaining = (access: accessBefore, refresh: refreshBefore)
            while remaining != (1, 0), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
                remaining = (try await deployment.count("access_tokens"), try await deployment.count("refresh_tokens"))
            }

            // Then the user's rows are gone and the client's ACTIVE row stays
            #expect(remaining == (1, 0), "\(remaining.access) access rows, \(remaining.refresh) refresh rows left")
            // And the counters equal the rows deleted, by table
            let metrics = try await server.scrapeMetrics().metrics
            let deletedAccess = metrics.value("token_authority_cleanup_deleted_rows_total", ["table": "access_tokens"])
            let deletedRefresh = metrics.value("token_authority_cleanup_deleted_rows_total", ["table": "refresh_tokens"])
            #expect(deletedAccess == Double(accessBefore - remaining.access))
            #expect(deletedRefresh == Double(refreshBefore - remaining.refresh))
            }
        }
    }
}

// MARK: - Reading /metrics

/// One sample line of the Prometheus text format: `name{label="value",...} value`.
struct PrometheusSample: Sendable, CustomStringConvertible {
    var name: String
    var labels: [String: String]
    var value: Double

    var description: String {
        "\(name){\(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ","))} \(value)"
    }
}

/// A scrape of `/metrics`, parsed (text format 0.0.4).
struct PrometheusExposition: Sendable {
    /// Every sample, in the order of the text.
    var samples: [PrometheusSample] = []
    /// `# TYPE name type` lines.
    var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let words = line.split(separator: " ")
                if words.count == 4 { types[String(words[2])] = String(words[3]) }
                continue
            }
            if line.hasPrefix("#") { continue }
            samples.append(try Self.sample(line))
        }
    }

    /// The samples of one metric name (a histogram's are `_bucket`, `_sum` and `_count`).
    func samples(named name: String) -> [PrometheusSample] { samples.filter { $0.name == name } }

    /// The value of the sample with exactly these labels; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    private static func sample(_ line: Substring) throws -> PrometheusSample {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while let first = rest.first, first != "}" {
                if first == "," {
                    rest = rest.dropFirst()
                    continue
                }
                guard let equals = rest.firstIndex(of: "=") else { throw HarnessError("bad labels in \(line)") }
                let key = String(rest[..<equals])
                rest = rest[equals...].dropFirst()
                guard rest.first == "\"" else { throw HarnessError("unquoted label value in \(line)") }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw HarnessError("unterminated label value in \(line)") }
                rest = rest.dropFirst()
                labels[key] = value
            }
            guard rest.first == "}" else { throw HarnessError("unterminated labels in \(line)") }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let text = fields.first, let value = Double(text == "+Inf" ? "inf" : text == "-Inf" ? "-inf" : String(text))
        else { throw HarnessError("no value in \(line)") }
        return PrometheusSample(name: name, labels: labels, value: value)
    }
}

extension ServerProcess {
    /// `GET /metrics`, parsed. A request is counted once its answer is ready, so this
    /// scrapes again until no POST is in progress and this GET is the only one: then
    /// every request answered before the call is in the counts.
    func scrapeMetrics() async throws -> (reply: HTTPReply, metrics: PrometheusExposition) {
        var attempt = 0
        while true {
            let reply = try await request(.get, "/metrics")
            try #require(reply.status == 200, "GET /metrics: HTTP \(reply.status)")
            let metrics = try PrometheusExposition(reply.body)
            let post = metrics.value("http_server_active_requests", ["http_request_method": "POST"]) ?? 0
            let get = metrics.value("http_server_active_requests", ["http_request_method": "GET"]) ?? 1
            attempt += 1
            if (post == 0 && get <= 1) || attempt >= 50 { return (reply, metrics) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// `POST /oauth2/revoke` for `token`, the client authenticating with HTTP Basic (RFC 7009).
    func revocationReply(for token: String, by client: ClientKeys) async throws -> HTTPReply {
        try await request(
            .post, "/oauth2/revoke",
            headers: [
                .contentType: "application/x-www-form-urlencoded", .authorization: Form.basic(id: client.id, secret: client.secret),
            ],
            body: Array(Form.encode([("token", token)]).utf8))
    }
}
