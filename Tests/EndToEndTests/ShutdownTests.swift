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
            // Given a client_credentials request in flight, waiting for the write lock that
            // another process holds (its new token needs the lock)
            let client = try await deployment.createClient()
            let retries = try await server.busyRetries()
            let holder = try WriteLockHolder(deployment: deployment)
            defer { holder.stop() }
            try await holder.waitUntilLocked()
            let inFlight = Task { try await server.clientCredentials(client) }
            try await server.waitForBusyRetries(after: retries)

            // When the server receives SIGTERM, and the lock goes once the server has
            // stopped taking connections
            server.send(SIGTERM)
            try await server.waitUntilRefusingConnections()
            holder.release()

            // Then the request was answered, and the server exited 0
            let reply = try await inFlight.value
            #expect(reply.status == 200, "\(reply)")
            let status = try await server.awaitExit(timeout: .seconds(20))
            #expect(status == 0, "\(server.standardError)")
        }
    }

    @Test("At SIGTERM a request whose body stalled gets 408 a second later, not at request_timeout, and the server exits 0")
    func stalledBodyAtShutdown() async throws {
        // request_timeout stays at its default, 30 s
        try await Deployment.with(config: deploymentConfig()) { deployment in
            let server = try await deployment.startServer()
            // Given a token request announcing 100 body bytes and sending 10, in progress
            let client = try await deployment.createClient()
            let connection = try await RawConnection.open(port: server.port)
            defer { connection.close() }
            #expect(await connection.send(tokenHead(client, 100) + "grant_type"))
            try await server.waitForActivePOST()

            // When the server receives SIGTERM
            let signalled = ContinuousClock.now
            server.send(SIGTERM)

            // Then the request is answered 408 about a second later, and the server exits 0
            let reply = await connection.readResponse(timeout: .seconds(10))
            #expect(reply?.status == 408, "\(String(describing: reply))")
            let status = try await server.awaitExit(timeout: .seconds(10))
            #expect(status == 0, "\(server.standardError)")
            #expect(ContinuousClock.now - signalled < .seconds(8))
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
            // Given a password-grant request in flight, waiting for the write lock that another
            // process holds until the test releases it (its new token needs the lock)
            let client = try await deployment.createClient()
            let retries = try await server.busyRetries()
            let holder = try WriteLockHolder(deployment: deployment)
            defer { holder.stop() }
            try await holder.waitUntilLocked()
            let inFlight = Task { try await server.passwordGrant(client, username: "admin", password: "admin") }
            try await server.waitForBusyRetries(after: retries)

            // When the server receives SIGINT
            server.send(SIGINT)

            // Then new connections are refused while it waits for the request in flight
            try await server.waitUntilRefusingConnections()
            #expect(server.isRunning, "the server exited with a request in flight")
            // And the request in flight gets its token once the lock is released
            holder.release()
            let reply = try await inFlight.value
            #expect(reply.status == 200 && reply.string("access_token") != nil, "\(reply)")
            #expect(try await holder.exitStatus() == 0)
            // And the server exits 0 with its database closed
            let status = try await server.awaitExit(timeout: .seconds(20))
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

extension ServerProcess {
    /// Asks for `/health` until a new connection is no longer served: the server has
    /// begun its graceful shutdown.
    fileprivate func waitUntilRefusingConnections(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while (try? await health()) != nil {
            guard ContinuousClock.now < deadline else { throw HarnessError("new connections were still served after \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until `/metrics` counts a POST in progress: the server has read a request's head
    /// and its handler is waiting for the body.
    fileprivate func waitForActivePOST(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await metric("http_server_active_requests", ["http_request_method": "POST"]) < 1 {
            guard ContinuousClock.now < deadline else { throw HarnessError("no POST was in progress within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
