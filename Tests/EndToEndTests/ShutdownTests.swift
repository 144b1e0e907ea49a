import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

// Graceful shutdown (SPEC §2): SIGTERM and SIGINT stop the server cleanly, and a
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
        try await Deployment.withServer(config: deploymentConfig()) { server in
            // Given a password-grant request sent on an open connection, still being answered
            // (hashing the password takes the server a good part of a second)
            let client = try await server.deployment.createClient()
            let connection = TestClient(host: "127.0.0.1", port: server.port)
            connection.connect()
            _ = try await connection.getChannel()
            let headers: HTTPFields = [
                .contentType: "application/x-www-form-urlencoded", .authorization: basicAuthorization(client.id, client.secret),
            ]
            let request = Task {
                try await connection.post("/oauth2/token", headers: headers, body: ByteBuffer(string: seedRequestBody))
            }
            try await Task.sleep(for: .milliseconds(400))

            // When the server receives SIGTERM
            let status = try await server.stop(signal: SIGTERM, timeout: .seconds(10))

            // Then the request was answered, and the server exited 0
            let reply = HTTPReply(try await request.value)
            try? await connection.shutdown()
            #expect(reply.status == 200, "\(reply)")
            #expect(status == 0, "\(server.standardError)")
        }
    }
}
