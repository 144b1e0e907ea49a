import Foundation
import Testing
import TokenAuthorityTesting

/// README, "Faults" and "Scaling out": PostgreSQL stopped under load answers 503
/// `server_error` with nothing half-written, and service resumes by itself when the
/// database returns. On a cluster of the test's own, so that stopping it stops no other test.
extension MultiInstanceTests {
    @Test("PostgreSQL stopped under a renewal load: 503 server_error, then 200 again once it is back; one ACTIVE row per key")
    func databaseStoppedUnderLoad() async throws {
        try await OwnCluster.with { cluster in
            let config = deploymentConfig(renewPerRequest: true, database: TestPostgres.databaseSection(cluster.url))
            try await Deployment.withServer(config: withoutAdmin(config)) { server in
                let client = try await server.deployment.createClient()
                #expect(try await server.clientCredentials(client).status == 200)

                // When the database stops while requests keep coming
                try await cluster.stop()
                var duringOutage: [HTTPReply] = []
                for _ in 0..<2 { duringOutage.append(try await server.clientCredentials(client)) }
                // Then each is 503 server_error with Retry-After, never a 500 or a hang
                for reply in duringOutage { expectServiceUnavailable(reply, "while PostgreSQL is stopped") }
                let health = try await server.health()
                #expect(health.status == 503, "\(health)")

                // When it is back, service resumes without a restart
                try await cluster.start()
                var recovered: HTTPReply?
                for _ in 0..<100 {
                    let reply = try await server.clientCredentials(client)
                    if reply.status == 200 {
                        recovered = reply
                        break
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(recovered?.status == 200, "no 200 within 10 s of PostgreSQL's return")
                // And nothing was half-written: one ACTIVE row for the key
                let active = try await TestPostgres.psql(
                    cluster.url, "SELECT count(*) FROM access_tokens WHERE client_id = '\(client.id)' AND state = 'ACTIVE'")
                #expect(active == "1")
            }
        }
    }
}

/// A throwaway PostgreSQL cluster of one test's own (scripts/postgres-cluster), in a folder
/// outside the deployment's, which the `postgres` user could not enter when the tests run as root.
struct OwnCluster {
    let folder: String
    let port: Int
    var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    static func with<Result>(_ body: (OwnCluster) async throws -> Result) async throws -> Result {
        let folder = NSTemporaryDirectory() + "token-authority-pg-\(UUID().uuidString.prefix(8))"
        let cluster = OwnCluster(folder: folder, port: try freeLoopbackPort())
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await cluster.start()
        do {
            let result = try await body(cluster)
            try? await cluster.stop()
            return result
        } catch {
            try? await cluster.stop()
            throw error
        }
    }

    func start() async throws {
        try await script(["start", folder, String(port)])
    }

    func stop() async throws {
        try await script(["stop", folder])
    }

    private func script(_ arguments: [String]) async throws {
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let command = ([repository.appendingPathComponent("scripts/postgres-cluster").path] + arguments)
            .map { "'\($0)'" }.joined(separator: " ")
        let result = await runShell(command)
        guard result.status == 0 else {
            throw HarnessError("scripts/postgres-cluster \(arguments.joined(separator: " ")): \(result.output)")
        }
    }
}
