import Foundation
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// README, "Scaling out": instances in processes of their own on one PostgreSQL database,
/// every rule holding across them because the database holds it.
@Suite("Scaling out: instances on one PostgreSQL database", .enabled(if: TestPostgres.enabled))
struct MultiInstanceTests {
    /// Runs `body` with `count` servers started at once on one deployment over a fresh
    /// PostgreSQL database (one folder, so one key file, as every instance must share);
    /// stops them all afterwards.
    func withInstances<Result>(
        _ count: Int, renew: Bool = false, _ body: (String, [ServerProcess]) async throws -> Result
    ) async throws -> Result {
        try await TestPostgres.withDatabase { url in
            let config = deploymentConfig(renewPerRequest: renew, database: TestPostgres.databaseSection(url))
            return try await Deployment.with(config: config) { deployment in
                // Started together, as an orchestrator starts replicas: migrations, the first
                // signing key and the super admin are each settled once, by the database
                let servers = try await withThrowingTaskGroup(of: ServerProcess.self) { group in
                    for _ in 0..<count { group.addTask { try await deployment.startServer() } }
                    return try await group.reduce(into: [ServerProcess]()) { $0.append($1) }
                }
                do {
                    let result = try await body(url, servers)
                    for server in servers { await server.stopOrKill() }
                    return result
                } catch {
                    for server in servers { await server.stopOrKill() }
                    throw error
                }
            }
        }
    }

    @Test(
        "64 simultaneous renewal requests for one key over three instances: all 200, 64 tokens, one ACTIVE row",
        arguments: [true, false])
    func simultaneousRequestsAcrossInstances(renew: Bool) async throws {
        try await withInstances(3, renew: renew) { url, servers in
            // Given a client registered once, for every instance
            let client = try await servers[0].deployment.createClient()
            // When 64 client_credentials requests for its key arrive at once, spread over the instances
            let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                for index in 0..<64 {
                    let server = servers[index % servers.count]
                    group.addTask { try await server.clientCredentials(client) }
                }
                return try await group.reduce(into: [HTTPReply]()) { $0.append($1) }
            }
            // Then every one succeeds: with renewal each has its own token, with reuse all share one
            let failures = replies.filter { $0.status != 200 }
            #expect(failures.isEmpty, "\(failures.count) failed, the first: \(failures.first.map { "\($0)" } ?? "")")
            let tokens = Set(replies.compactMap(\.accessToken))
            #expect(tokens.count == (renew ? 64 : 1))
            // And the database holds exactly one ACTIVE row for the key
            let active = try await TestPostgres.psql(
                url, "SELECT count(*) FROM access_tokens WHERE client_id = '\(client.id)' AND state = 'ACTIVE'")
            #expect(active == "1")
        }
    }

    @Test("A refresh token replayed on one instance while another rotates it: one rotation at most, and the family ends revoked")
    func refreshReplayAcrossInstances() async throws {
        try await withInstances(2) { url, servers in
            // Given a user's pair from instance A
            let client = try await servers[0].deployment.createClient()
            let user = try await servers[0].deployment.createUser(password: "Pa55-word")
            let first = try await servers[0].passwordGrant(client, username: user, password: "Pa55-word")
            let refreshToken = try #require(first.refreshToken)
            // When instance A and instance B are both handed that refresh token at once
            async let onA = servers[0].refreshTokenGrant(client, refreshToken: refreshToken)
            async let onB = servers[1].refreshTokenGrant(client, refreshToken: refreshToken)
            let replies = try await [onA, onB]
            // Then at most one rotated it; the other was refused as invalid_grant (RFC 6749 §5.2)
            #expect(replies.filter { $0.status == 200 }.count <= 1, "\(replies)")
            #expect(replies.contains { $0.status == 400 && $0.string("error") == "invalid_grant" }, "\(replies)")
            // And the replay revoked the whole family (RFC 9700 §4.14.2): nothing of it is ACTIVE
            let active = try await TestPostgres.psql(
                url,
                "SELECT (SELECT count(*) FROM access_tokens WHERE client_id = '\(client.id)' AND state = 'ACTIVE') + "
                    + "(SELECT count(*) FROM refresh_tokens WHERE client_id = '\(client.id)' AND state = 'ACTIVE')")
            #expect(active == "0")
            // And the rotated refresh token, if any, no longer works on either instance
            if let rotated = replies.first(where: { $0.status == 200 })?.refreshToken {
                let again = try await servers[1].refreshTokenGrant(client, refreshToken: rotated)
                #expect(again.status == 400, "\(again)")
            }
        }
    }

    @Test("Every instance listens for client changes on a session of its own, and ends it at shutdown")
    func everyInstanceListensForClientChanges() async throws {
        // docs/storage.md, "Clients in memory": a change is announced to every instance
        let listeners = """
            SELECT count(*) FROM pg_stat_activity
            WHERE application_name = 'token-authority (client changes)' AND datname = current_database()
            """
        // The count once it is `expected`, or after 10 s; sessions start and end asynchronously
        func listening(_ url: String, settlingAt expected: String) async throws -> String {
            var count = ""
            for _ in 0..<100 {
                count = try await TestPostgres.psql(url, listeners)
                if count == expected { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            return count
        }
        try await withInstances(2) { url, servers in
            let whileServing = try await listening(url, settlingAt: "2")
            #expect(whileServing == "2")
            for server in servers { #expect(try await server.stop() == 0) }
            let afterShutdown = try await listening(url, settlingAt: "0")
            #expect(afterShutdown == "0")
        }
    }

    @Test("An instance killed with SIGKILL under load: the others keep serving, and every key keeps one ACTIVE row")
    func instanceKilledUnderLoad() async throws {
        try await withInstances(3, renew: true) { url, servers in
            let client = try await servers[0].deployment.createClient()
            let survivors = Array(servers.dropFirst())
            // Given a renewal load on every instance
            let replies = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for worker in 0..<6 {
                    let server = servers[worker % servers.count]
                    group.addTask {
                        var statuses: [Int] = []
                        for _ in 0..<30 { statuses.append((try? await server.clientCredentials(client))?.status ?? 0) }
                        return (worker % servers.count, statuses.filter { $0 != 200 }.count)
                    }
                }
                // When the first instance is killed in the middle of it
                try await Task.sleep(for: .milliseconds(300))
                try await servers[0].stop(signal: SIGKILL)
                return try await group.reduce(into: [(Int, Int)]()) { $0.append($1) }
            }
            // Then the surviving instances answered every request
            let survivorFailures = replies.filter { $0.0 != 0 }.map(\.1).reduce(0, +)
            #expect(survivorFailures == 0)
            // And keep serving afterwards, with one ACTIVE row for the key
            for server in survivors {
                let reply = try await server.clientCredentials(client)
                #expect(reply.status == 200, "\(reply)")
            }
            let active = try await TestPostgres.psql(
                url, "SELECT count(*) FROM access_tokens WHERE client_id = '\(client.id)' AND state = 'ACTIVE'")
            #expect(active == "1")
        }
    }
}
