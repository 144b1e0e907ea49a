import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

// Graceful shutdown (README, "Shutdown"): SIGTERM and SIGINT stop the server cleanly, and a
// request in flight when the signal arrives still gets its answer.

@Suite("Graceful shutdown")
struct ShutdownTests {
    @Test("SIGTERM and SIGINT make the server exit 0 within a few seconds", arguments: [SIGTERM, SIGINT])
    func signal(_ signal: Int32) async throws {
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a running server that has answered a request
            #expect(try await server.health().status == 200)

            // When it receives the signal
            let started = ContinuousClock.now
            let status = try await server.stop(signal: signal, timeout: .seconds(5))

            // Then it exits with status 0 within 5 seconds
            #expect(status == 0, "\(server.standardError)")
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(!server.isRunning)
        }
    }

    @Test("A request in flight at SIGTERM still gets its answer")
    func inFlightRequest() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            let server = try await deployment.startServer()
            // Given a client_credentials request in flight, held for 3 s by another process
            // holding the write lock (its new token waits for the lock), well past its arrival
            let client = try await deployment.createClient()
            let holder = try WriteLockHolder(deployment: deployment, seconds: 3)
            defer { holder.stop() }
            try await holder.waitUntilLocked()
            let inFlight = Task { try await server.clientCredentials(client) }
            try await Task.sleep(for: .seconds(1))

            // When the server receives SIGTERM
            let status = try await server.stop(signal: SIGTERM, timeout: .seconds(20))

            // Then the request was answered, and the server exited 0
            let reply = try await inFlight.value
            #expect(reply.status == 200, "\(reply)")
            #expect(status == 0, "\(server.standardError)")
        }
    }

    @Test("After SIGTERM the database is closed: no -wal or -shm file is left, the file is intact, the log says so")
    func databaseClosedCleanly() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            let server = try await deployment.startServer()
            // Given a server that has issued a token and answered other requests
            let client = try await deployment.createClient()
            let token = try await server.clientCredentials(client)
            #expect(token.status == 200, "\(token)")
            #expect(try await server.health().status == 200)
            #expect(FileManager.default.fileExists(atPath: deployment.databasePath + "-wal"), "no WAL while serving")

            // When it receives SIGTERM
            let status = try await server.stop(signal: SIGTERM, timeout: .seconds(10))

            // Then it exits 0, and the last connection's checkpoint removed the WAL and shared-memory files
            #expect(status == 0, "\(server.standardError)")
            for suffix in ["-wal", "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: deployment.databasePath + suffix), "\(suffix) is left")
            }
            // And its last log line says the database is closed
            let lastLine = server.standardError.split(separator: "\n").last.map(String.init) ?? ""
            #expect(lastLine.contains("stopped; the database is closed"), "last log line: \(lastLine)")
            // And the file alone is intact and holds the token
            #expect(try await deployment.sqlite("PRAGMA integrity_check") == "ok")
            #expect(try await deployment.activeTokens(of: client.id) == 1)
        }
    }

    @Test("At SIGINT a slow request in flight is answered, new connections are refused, and the server exits 0")
    func slowRequestDuringShutdown() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            let server = try await deployment.startServer()
            // Given a password-grant request in flight, made slow by another process that holds
            // the database's write lock for 2 s (its new token must wait for the lock)
            let client = try await deployment.createClient()
            let holder = try WriteLockHolder(deployment: deployment, seconds: 2)
            defer { holder.stop() }
            try await holder.waitUntilLocked()
            let inFlight = Task { try await server.passwordGrant(client, username: "admin", password: "admin") }
            try await Task.sleep(for: .milliseconds(300))

            // When the server receives SIGINT
            let stopping = Task { try await server.stop(signal: SIGINT, timeout: .seconds(20)) }
            try await Task.sleep(for: .milliseconds(300))

            // Then, while it waits for the request in flight, a new connection is refused
            #expect(server.isRunning, "the server exited with a request in flight")
            var refused = false
            do {
                let reply = try await server.health()
                Issue.record("a new connection was served during shutdown: HTTP \(reply.status)")
            } catch {
                refused = true
            }
            #expect(refused)
            // And the request in flight gets its token once the lock is released
            let reply = try await inFlight.value
            #expect(reply.status == 200 && reply.string("access_token") != nil, "\(reply)")
            #expect(try await holder.exitStatus() == 0)
            // And the server exits 0 with its database closed
            let status = try await stopping.value
            #expect(status == 0, "\(server.standardError)")
            #expect(server.standardError.contains("stopped; the database is closed"))
            // (Whether the WAL is gone depends on which of the server and the sqlite3 process
            // holding the lock closed last, a race of the test's own: the test above shows the
            // server removing it when it closes last.) The file is intact and holds the token.
            #expect(try await deployment.sqlite("PRAGMA integrity_check") == "ok")
            #expect(try await deployment.activeTokens(of: client.id) == 1)
        }
    }
}
