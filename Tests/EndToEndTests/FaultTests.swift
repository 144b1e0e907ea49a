import Foundation
import Synchronization
import Testing
import TokenAuthorityTesting

// Faults (README, "Faults"): the process killed under load, the database file turned
// read-only, the disk full. Whatever happens, SQLite's file stays intact, a key
// never has two ACTIVE tokens, nothing is half-written, a token the server
// acknowledged (200) is in the database, a fault outside the request answers 503
// `server_error`, and service resumes once the fault clears.
//
// Failure messages show statuses, error codes and counts, never a token or secret.

@Suite("Faults", .serialized, .timeLimit(.minutes(2)))
struct FaultTests {
    @Test("kill -9 under a renewal load: the file is intact, one ACTIVE token per key, every acknowledged token stored, and a restart serves")
    func killDuringRenewalLoad() async throws {
        try await Deployment.with(config: deploymentConfig(renewPerRequest: true)) { deployment in
            var acknowledged: [Acknowledged] = []
            var chains: [RefreshChain] = []
            var keys: [LoadKey] = []
            var introspectionClient: ClientKeys?
            try await deployment.withServer { server in
                // Given a server renewing the token on every request, three clients, an
                // introspection client, and two user token pairs (keys of their own) to refresh
                async let creatingClients = [
                    deployment.createClient(), deployment.createClient(), deployment.createClient(),
                    deployment.createClient(["--introspection"]),
                ]
                let created = try await creatingClients
                let clients = Array(created.prefix(3))
                introspectionClient = created[3]
                async let firstUser = server.passwordGrant(clients[0], username: "admin", password: "admin", scope: "profile")
                async let secondUser = server.passwordGrant(
                    clients[1], username: "admin", password: "admin", scope: "device_tablet")
                for (client, reply) in zip(clients, try await [firstUser, secondUser]) {
                    let status = reply.status
                    try #require(status == 200, "password grant: \(reply)")
                    let issued = try Acknowledged(reply, key: "user token")
                    acknowledged.append(issued)
                    chains.append(RefreshChain(client: client, refreshToken: try #require(issued.refreshToken)))
                }
                // And client_credentials keys: each client with several scope sets, device scopes among them
                keys = clients.flatMap { client in
                    [nil, "read", "read write", "device_a", "device_b read"].map { LoadKey(client: client, scope: $0) }
                }

                // When two requesters per key renew it again and again, each refresh chain is
                // followed, and password grants run on a key of their own, for a second and a half
                let stop = StopSignal()
                let logs = await withTaskGroup(of: WorkerLog.self) { group in
                    for key in keys + keys {
                        group.addTask {
                            await hammer(until: stop, key: key.label) {
                                try await server.clientCredentials(key.client, scope: key.scope)
                            }
                        }
                    }
                    for (index, chain) in chains.enumerated() {
                        group.addTask {
                            var log = await follow(chain, on: server, until: stop)
                            log.chainIndex = index
                            return log
                        }
                    }
                    group.addTask {
                        await hammer(until: stop, key: "password grant during the load") {
                            try await server.passwordGrant(clients[2], username: "admin", password: "admin", scope: "device_phone")
                        }
                    }
                    // And the process is killed with SIGKILL in the middle of it
                    group.addTask {
                        try? await Task.sleep(for: .milliseconds(1500))
                        stop.raise()
                        kill(server.processIdentifier, SIGKILL)
                        return WorkerLog()
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let status = try await server.stop(signal: SIGKILL, timeout: .seconds(10))
                #expect(status == 128 + SIGKILL, "the server exited by itself before the kill")

                let failures = logs.flatMap(\.failures)
                #expect(failures.isEmpty, "\(failures.count) requests failed before the kill, e.g. \(failures.prefix(5))")
                acknowledged += logs.flatMap(\.acknowledged)
                for log in logs {
                    if let index = log.chainIndex, let latest = log.latestRefreshToken { chains[index].refreshToken = latest }
                }
                let issuedUnderLoad = acknowledged.count
                observeFault("kill -9: \(issuedUnderLoad) tokens acknowledged, exit status \(status), \(failures.count) failures")
                #expect(issuedUnderLoad > keys.count * 2, "only \(issuedUnderLoad) tokens were issued under load")
            }

            // Then the files the killed process left (its WAL not yet recovered: sqlite3 reads
            // them read-only) are intact and consistent
            let problems = try await deployment.consistencyProblems(readOnly: true)
            #expect(problems.isEmpty, "after kill -9: \(problems)")
            // And every token acknowledged with a 200 before the kill is stored: a process kill
            // loses nothing committed, and the server answers only after the commit
            let accessStates = try await deployment.tokenStates(in: "access_tokens", readOnly: true)
            let refreshStates = try await deployment.tokenStates(in: "refresh_tokens", readOnly: true)
            let lostAccess = acknowledged.count(where: { accessStates[$0.accessDigest] == nil })
            let lostRefresh = acknowledged.count(where: { $0.refreshDigest.map { refreshStates[$0] == nil } ?? false })
            let total = acknowledged.count
            #expect(lostAccess == 0, "\(lostAccess) of \(total) acknowledged access tokens are not in the database")
            #expect(lostRefresh == 0, "\(lostRefresh) acknowledged refresh tokens are not in the database")
            // And each is still ACTIVE, or was renewed (REVOKED) or refreshed (INACTIVE); none expired
            let states = Set(acknowledged.compactMap { accessStates[$0.accessDigest] })
            #expect(states.isSubset(of: ["ACTIVE", "REVOKED", "INACTIVE"]), "acknowledged tokens in states \(states)")
            let stillActive = acknowledged.filter { accessStates[$0.accessDigest] == "ACTIVE" }
            observeFault(
                "kill -9: \(accessStates.count) access rows, states of acknowledged tokens: "
                    + "\(Dictionary(grouping: acknowledged, by: { accessStates[$0.accessDigest] ?? "missing" }).mapValues(\.count)); problems \(problems)")
            let inspector = try #require(introspectionClient)

            // When the server is started again on the same files
            try await deployment.withServer { server in
                // Then it serves
                expectStatus(try await server.health(), 200, "/health after the restart")
                // And the tokens the killed process left ACTIVE introspect as active
                for token in stillActive {
                    expectIntrospection(
                        try await server.introspection(of: token.accessToken, as: inspector), active: true,
                        "\(token.key), ACTIVE before the restart")
                }
                // And renewing every key again, four requests at once per key, and following
                // each refresh chain whose newest acknowledged token is still ACTIVE, all succeed
                let replies = try await withThrowingTaskGroup(of: (String, HTTPReply).self) { group in
                    for key in keys {
                        for _ in 0..<4 {
                            group.addTask { (key.label, try await server.clientCredentials(key.client, scope: key.scope)) }
                        }
                    }
                    for chain in chains where refreshStates[tokenDigest(chain.refreshToken)] == "ACTIVE" {
                        group.addTask {
                            ("refresh chain", try await server.refreshTokenGrant(chain.client, refreshToken: chain.refreshToken))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                for (what, reply) in replies { expectStatus(reply, 200, "\(what) after the restart") }
                // And the tokens renewed since introspect as inactive
                if let renewed = stillActive.first(where: { $0.refreshToken == nil }) {
                    expectIntrospection(
                        try await server.introspection(of: renewed.accessToken, as: inspector), active: false,
                        "\(renewed.key), renewed after the restart")
                }
                // And the database is still consistent
                let problems = try await deployment.consistencyProblems(readOnly: false)
                #expect(problems.isEmpty, "after the restart: \(problems)")
            }
        }
    }

    @Test(
        "A read-only database file: writes answer 503 server_error, reads still answer, nothing is half-written, and service resumes without a restart",
        .enabled(if: FaultEnvironment.canMountExt4, "needs root and an ext4 volume on a loop device (mount, mkfs.ext4, chattr)"))
    func readOnlyDatabase() async throws {
        try await Deployment.with(config: deploymentConfig(renewPerRequest: true)) { deployment in
            try await deployment.withDataVolume(.ext4(megabytes: 32)) { volume in
                try await deployment.withServer { server in
                    // Given a renewal-mode server with its data folder on a volume of its own,
                    // a client token, a user token pair, and an introspection client
                    async let creatingClient = deployment.createClient()
                    async let creatingOther = deployment.createClient()
                    async let creatingInspector = deployment.createClient(["--introspection"])
                    let (client, other, inspector) = try await (creatingClient, creatingOther, creatingInspector)
                    let clientToken = try await server.clientCredentials(client, scope: "read")
                    let userToken = try await server.passwordGrant(client, username: "admin", password: "admin", scope: "profile")
                    let accessToken = try #require(clientToken.string("access_token"), "client_credentials: \(clientToken)")
                    let refreshToken = try #require(userToken.string("refresh_token"), "password grant: \(userToken)")
                    let rowsBefore = try await deployment.tokenRowCounts(readOnly: false)

                    // When the database file and its WAL become read-only (the shared-memory
                    // index stays writable, as SQLite needs it to read)
                    let files = ["token-authority.sqlite3", "token-authority.sqlite3-wal"]
                    let hasWAL = FileManager.default.fileExists(atPath: volume.file(files[1]))
                    try #require(hasWAL, "the server runs without a WAL file")
                    try volume.makeReadOnly(files)
                    do {
                        // Then every request that must write answers 503 server_error with
                        // Retry-After: a renewal, a new key, a refresh, a password grant
                        async let renewal = server.clientCredentials(client, scope: "read")
                        async let newKey = server.clientCredentials(client, scope: "device_new")
                        async let refresh = server.refreshTokenGrant(client, refreshToken: refreshToken)
                        async let password = server.passwordGrant(other, username: "admin", password: "admin", scope: "openid")
                        let replies = try await [
                            ("renewal", renewal), ("new key", newKey), ("refresh", refresh), ("password grant", password),
                        ]
                        for (what, reply) in replies { expectServiceUnavailable(reply, "\(what) on a read-only database") }
                        observeFault(
                            "read-only: " + replies.map { "\($0.0) \($0.1.description) Retry-After \($0.1.header("Retry-After") ?? "-")" }
                                .joined(separator: ", "))
                        // And a request that only reads still answers
                        expectIntrospection(
                            try await server.introspection(of: accessToken, as: inspector), active: true,
                            "introspection on a read-only database")
                        let health = try await server.health().status
                        // /health only reads (SELECT 1), and reads still work, as the introspection shows: 200
                        // (503 is for a database that cannot even be read)
                        #expect(health == 200, "/health on a read-only database")
                        observeFault("read-only: /health \(health)\n\(databaseLogLines(of: server))")
                        // And the server is still up, and nothing was written
                        #expect(server.isRunning)
                        let rowsDuring = try await deployment.tokenRowCounts(readOnly: true)
                        #expect(rowsDuring == rowsBefore)
                        let problems = try await deployment.consistencyProblems(readOnly: true)
                        #expect(problems.isEmpty, "while read-only: \(problems)")
                    } catch {
                        try? volume.makeWritable(files)
                        throw error
                    }

                    // When the files become writable again (no restart)
                    try volume.makeWritable(files)

                    // Then a renewal succeeds at once, and the transaction it commits carries
                    // nothing of the requests that failed: their keys have no row, and the
                    // refresh token the failed refresh presented is still ACTIVE
                    expectStatus(try await server.clientCredentials(client, scope: "read"), 200, "renewal once writable again")
                    let ghostRows = try await deployment.sqliteScript(
                        """
                        SELECT count(*) FROM access_tokens WHERE client_id = \(sqlQuoted(other.id))
                            OR (client_id = \(sqlQuoted(client.id)) AND scope = 'device_new');
                        """, readOnly: false)
                    #expect(ghostRows == "0", "rows for requests answered 503")
                    let refreshState = try await deployment.tokenStates(in: "refresh_tokens", readOnly: false)[tokenDigest(refreshToken)]
                    #expect(refreshState == "ACTIVE", "the refresh token a failed refresh presented")

                    // And the other requests succeed too, and the renewals retired the old token
                    async let renewal = server.clientCredentials(client, scope: "read")
                    async let newKey = server.clientCredentials(client, scope: "device_new")
                    async let refresh = server.refreshTokenGrant(client, refreshToken: refreshToken)
                    async let password = server.passwordGrant(other, username: "admin", password: "admin", scope: "openid")
                    let replies = try await [
                        ("renewal", renewal), ("new key", newKey), ("refresh", refresh), ("password grant", password),
                    ]
                    for (what, reply) in replies { expectStatus(reply, 200, "\(what) once writable again") }
                    observeFault("read-only cleared: " + replies.map { "\($0.0) \($0.1.description)" }.joined(separator: ", "))
                    expectIntrospection(
                        try await server.introspection(of: accessToken, as: inspector), active: false, "the renewed token")
                    // And the database is intact and consistent
                    let problems = try await deployment.consistencyProblems(readOnly: false)
                    #expect(problems.isEmpty, "after the fault: \(problems)")
                    // And the log holds no secret
                    expectNoSecret(in: server.standardError, [client.secret, other.secret, accessToken, refreshToken])
                }
            }
        }
    }

    @Test(
        "A full disk: writes answer 200 while the WAL has room and 503 server_error when it has none, the process survives, nothing is half-written, and service resumes without a restart",
        .enabled(if: FaultEnvironment.canMountTmpfs, "needs root to mount a tmpfs"))
    func diskFull() async throws {
        try await Deployment.with(config: deploymentConfig(renewPerRequest: true)) { deployment in
            try await deployment.withDataVolume(.tmpfs(megabytes: 16)) { volume in
                try await deployment.withServer { server in
                    // Given a renewal-mode server with its data folder on a small file system of
                    // its own, a client token and a user token pair
                    let client = try await deployment.createClient()
                    let clientToken = try await server.clientCredentials(client, scope: "read")
                    let userToken = try await server.passwordGrant(client, username: "admin", password: "admin", scope: "profile")
                    expectStatus(clientToken, 200, "client_credentials")
                    var refreshToken = try #require(userToken.string("refresh_token"), "password grant: \(userToken)")

                    // When the file system fills up
                    try volume.fill(with: "filler")
                    var freed = false
                    defer { if !freed { try? volume.removeFile("filler") } }

                    // Then requests for new keys, and steps of a refresh chain, answer either 200
                    // (the WAL still had room) or 503 server_error (a write needed more), nothing else
                    var failedScopes: [String] = []
                    var issuedScopes: [String] = []
                    var unexpected: [String] = []
                    var refreshes = (succeeded: 0, failed: 0)
                    for batch in 0..<100 where failedScopes.count < 16 {
                        let presented = refreshToken
                        let replies = try await withThrowingTaskGroup(of: (String?, HTTPReply).self) { group in
                            for index in 0..<8 {
                                let scope = "device_full\(batch)_\(index)"
                                group.addTask { (scope, try await server.clientCredentials(client, scope: scope)) }
                            }
                            group.addTask { (nil, try await server.refreshTokenGrant(client, refreshToken: presented)) }
                            return try await group.reduce(into: []) { $0.append($1) }
                        }
                        for (scope, reply) in replies {
                            switch (scope, reply.status, reply.isServiceUnavailable) {
                            case (let scope?, 200, _): issuedScopes.append(scope)
                            case (let scope?, _, true): failedScopes.append(scope)
                            case (nil, 200, _):
                                refreshes.succeeded += 1
                                refreshToken = try #require(reply.string("refresh_token"))
                            case (nil, _, true): refreshes.failed += 1
                            default: unexpected.append(reply.description)
                            }
                        }
                    }
                    #expect(unexpected.isEmpty, "on a full disk: \(unexpected.prefix(5))")
                    try #require(!failedScopes.isEmpty, "\(issuedScopes.count) tokens issued on a full disk and no write failed")
                    // And the process survives, and /health, which only reads, says 200: a full disk
                    // stops writes, not reads
                    let health = try await server.health().status
                    #expect(health == 200, "/health on a full disk")
                    observeFault(
                        "disk full: \(issuedScopes.count) new keys issued, \(failedScopes.count) answered 503, refreshes \(refreshes), "
                            + "unexpected \(unexpected), /health \(health)\n\(databaseLogLines(of: server))")
                    #expect(server.isRunning)
                    // And each key whose request failed has no row, each that succeeded its one ACTIVE row
                    let clientID = sqlQuoted(client.id)
                    let failedRows = try await deployment.sqliteScript(
                        "SELECT count(*) FROM access_tokens WHERE client_id = \(clientID) AND scope IN (\(sqlList(failedScopes)));",
                        readOnly: true)
                    #expect(failedRows == "0", "rows for the \(failedScopes.count) requests that failed")
                    let issuedRows = try await deployment.sqliteScript(
                        "SELECT count(*) FROM access_tokens WHERE client_id = \(clientID) AND state = 'ACTIVE' AND scope IN (\(sqlList(issuedScopes)));",
                        readOnly: true)
                    #expect(issuedRows == "\(issuedScopes.count)", "ACTIVE rows for the \(issuedScopes.count) requests that succeeded")
                    // And the newest refresh token acknowledged is still ACTIVE: a failed refresh used nothing up
                    let refreshStates = try await deployment.tokenStates(in: "refresh_tokens", readOnly: true)
                    let refreshState = refreshStates[tokenDigest(refreshToken)]
                    #expect(refreshState == "ACTIVE", "after \(refreshes) refreshes on a full disk")
                    let problems = try await deployment.consistencyProblems(readOnly: true)
                    #expect(problems.isEmpty, "on a full disk: \(problems)")

                    // When the space is freed (no restart)
                    try volume.removeFile("filler")
                    freed = true

                    // Then a renewal succeeds at once, and the transaction it commits carries
                    // nothing of the requests that failed
                    expectStatus(try await server.clientCredentials(client, scope: "read"), 200, "renewal once space is free")
                    let ghostRows = try await deployment.sqliteScript(
                        "SELECT count(*) FROM access_tokens WHERE client_id = \(clientID) AND scope IN (\(sqlList(failedScopes)));",
                        readOnly: false)
                    #expect(ghostRows == "0", "rows for requests answered 503, once space is free")
                    let stateOnceFree = try await deployment.tokenStates(in: "refresh_tokens", readOnly: false)[tokenDigest(refreshToken)]
                    #expect(stateOnceFree == "ACTIVE", "the newest refresh token, once space is free")

                    // And the requests that failed succeed, and so do a renewal and the refresh chain's next step
                    let presented = refreshToken
                    let retries = try await withThrowingTaskGroup(of: (String, HTTPReply).self) { group in
                        for scope in failedScopes + ["read"] {
                            group.addTask { (scope, try await server.clientCredentials(client, scope: scope)) }
                        }
                        group.addTask { ("refresh", try await server.refreshTokenGrant(client, refreshToken: presented)) }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    for (what, reply) in retries { expectStatus(reply, 200, "\(what) once space is free") }
                    observeFault("disk freed: " + retries.map { "\($0.0) \($0.1.description)" }.joined(separator: ", "))
                    // And the database is intact and consistent, and the log holds no secret
                    let after = try await deployment.consistencyProblems(readOnly: false)
                    #expect(after.isEmpty, "after the fault: \(after)")
                    expectNoSecret(in: server.standardError, [client.secret, refreshToken, presented])
                }
            }
        }
    }
}

/// `'a', 'b'` for an SQL `IN` list; `''` alone for none.
private func sqlList(_ texts: [String]) -> String {
    texts.isEmpty ? "''" : texts.map(sqlQuoted).joined(separator: ", ")
}

// MARK: - Load

/// A client_credentials key of the load: a client and a scope set.
private struct LoadKey: Sendable {
    var client: ClientKeys
    var scope: String?
    var label: String { "client_credentials scope \(scope ?? "(none)")" }
}

/// A user token pair whose refresh token the load presents, each time the newest one.
private struct RefreshChain: Sendable {
    var client: ClientKeys
    var refreshToken: String
}

/// A token the server acknowledged with a 200. The tokens are kept only to be
/// presented again, never printed.
private struct Acknowledged: Sendable {
    var key: String
    var accessToken: String
    var refreshToken: String?
    var accessDigest: String { tokenDigest(accessToken) }
    var refreshDigest: String? { refreshToken.map(tokenDigest) }

    init(_ reply: HTTPReply, key: String) throws {
        self.key = key
        accessToken = try #require(reply.string("access_token"), "a 200 without an access token")
        refreshToken = reply.string("refresh_token")
    }
}

/// What one requester of the load saw.
private struct WorkerLog: Sendable {
    var acknowledged: [Acknowledged] = []
    /// Answers other than 200, and connection failures before the kill.
    var failures: [String] = []
    /// For a refresh chain: its index and the newest refresh token it was given.
    var chainIndex: Int?
    var latestRefreshToken: String?
}

/// Raised just before the kill: from then on a failed connection is expected.
private final class StopSignal: Sendable {
    private let raised = Mutex(false)
    func raise() { raised.withLock { $0 = true } }
    var isRaised: Bool { raised.withLock { $0 } }
}

/// Sends `request` again and again until `stop` is raised or a connection fails.
private func hammer(until stop: StopSignal, key: String, _ request: @Sendable () async throws -> HTTPReply) async
    -> WorkerLog
{
    var log = WorkerLog()
    while !stop.isRaised {
        do {
            let reply = try await request()
            if reply.status == 200, let issued = try? Acknowledged(reply, key: key) {
                log.acknowledged.append(issued)
            } else {
                log.failures.append("\(key): \(reply)")
            }
        } catch {
            if !stop.isRaised { log.failures.append("\(key): \(error)") }
            break
        }
    }
    return log
}

/// Follows a refresh chain: presents its newest refresh token until `stop` is raised.
private func follow(_ chain: RefreshChain, on server: ServerProcess, until stop: StopSignal) async -> WorkerLog {
    var log = WorkerLog()
    var refreshToken = chain.refreshToken
    while !stop.isRaised {
        do {
            let reply = try await server.refreshTokenGrant(chain.client, refreshToken: refreshToken)
            guard reply.status == 200, let issued = try? Acknowledged(reply, key: "refresh chain"),
                let next = issued.refreshToken
            else {
                log.failures.append("refresh chain: \(reply)")
                break
            }
            log.acknowledged.append(issued)
            refreshToken = next
        } catch {
            if !stop.isRaised { log.failures.append("refresh chain: \(error)") }
            break
        }
    }
    log.latestRefreshToken = refreshToken
    return log
}
