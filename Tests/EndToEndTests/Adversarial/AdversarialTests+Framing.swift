import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Request framing the server does not serve (RFC 9112, RFC 9110).
extension AdversarialTests {
    // MARK: - HTTP framing

    @Test("Framing the server does not serve is refused before routing (no or two Hosts, gzip, a bad chunk, a huge Content-Length, an unknown Expect); 100-continue gets 100 at once; HTTP/1.0 is closed after its answer")
    func strictFraming() async throws {
        let config = withoutAdmin(deploymentConfig(extra: "[security.http]\nrequest_timeout = \"30s\""))
        try await Deployment.withServer(config: config) { server in
            let port = server.port
            let client = try await server.deployment.createClient()

            // An HTTP/1.1 request without Host is 400 invalid_request (RFC 9112 §3.2)
            let noHost = try await RawConnection.exchange(port: port, bytes("GET /health HTTP/1.1\r\n\r\n"))
            expectFramingRefused(noHost, 400, "HTTP/1.1 without Host")
            // And so is one with two Hosts
            let twoHosts = try await RawConnection.exchange(
                port: port, bytes("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: example.com\r\n\r\n"))
            expectFramingRefused(twoHosts, 400, "two Host headers")
            // But HTTP/1.0 has no Host to send, and is served; without keep-alive its connection
            // is closed after the answer (RFC 9112 §9.3), not held open until request_timeout
            do {
                let connection = try await RawConnection.open(port: port)
                defer { connection.close() }
                await connection.send("GET /health HTTP/1.0\r\n\r\n")
                let http10 = await connection.readResponse(timeout: .seconds(10))
                #expect(http10?.status == 200, "HTTP/1.0 without Host: \(http10?.description ?? "no answer")")
                let wait = await connection.waitForClose(timeout: .seconds(5))
                #expect(wait != .stillOpen, "after an HTTP/1.0 answer the connection is \(wait)")
            }

            // A transfer coding other than chunked is 501 (RFC 9112 §6.1)
            for coding in ["gzip", "gzip, chunked"] {
                let reply = try await RawConnection.exchange(
                    port: port,
                    bytes(tokenHead(client, extra: "Transfer-Encoding: \(coding)\r\nConnection: close\r\n") + "0\r\n\r\n"))
                expectFramingRefused(reply, 501, "Transfer-Encoding: \(coding)")
            }

            // A malformed chunk is 400 invalid_request
            let badChunk = try await RawConnection.exchange(
                port: port,
                bytes(tokenHead(client, extra: "Transfer-Encoding: chunked\r\nConnection: close\r\n") + "zz\r\nabc\r\n0\r\n\r\n"))
            #expect(badChunk?.status == 400, "a malformed chunk: \(badChunk?.description ?? "no answer")")
            #expect(badChunk?.string("error") == "invalid_request", "a malformed chunk: \(badChunk?.description ?? "no answer")")

            // A Content-Length of 100 MB with 3 bytes sent is 413 at once, without waiting for the body
            do {
                let connection = try await RawConnection.open(port: port)
                defer { connection.close() }
                let started = ContinuousClock.now
                await connection.send(tokenHead(client, extra: "Content-Length: 100000000\r\n") + "abc")
                let reply = await connection.readResponse(timeout: .seconds(10))
                let elapsed = ContinuousClock.now - started
                expectFramingRefused(reply, 413, "Content-Length: 100000000 (answered after \(elapsed))")
                // And the connection is then closed by the server
                let wait = await connection.waitForClose(timeout: .seconds(5))
                #expect(wait != .stillOpen, "after the 413 the connection is \(wait)")
            }

            // Expect: 100-continue is answered at once with 100 (Continue), before the body is sent
            // (RFC 9110 §10.1.1), and the request is then served as usual: no credentials is 401
            do {
                let connection = try await RawConnection.open(port: port)
                defer { connection.close() }
                await connection.send(noCredentialsHead(extra: "Expect: 100-continue\r\n"))
                let interim = await connection.readResponse(timeout: .seconds(10))
                #expect(interim?.status == 100, "Expect: 100-continue, head alone: \(interim?.description ?? "no answer")")
                await connection.send("grant_type=client_credentials")
                let reply = await connection.readResponse(timeout: .seconds(10))
                #expect(reply?.status == 401, "Expect: 100-continue, then the body: \(reply?.description ?? "no answer")")
                #expect(reply?.string("error") == "invalid_client")
            }
            // And so it is for a client that sends the body without waiting for the 100
            do {
                let connection = try await RawConnection.open(port: port)
                defer { connection.close() }
                await connection.send(noCredentialsHead(extra: "Expect: 100-continue\r\n") + "grant_type=client_credentials")
                let interim = await connection.readResponse(timeout: .seconds(10))
                let reply = await connection.readResponse(timeout: .seconds(10))
                #expect(interim?.status == 100 && reply?.status == 401, "\(interim?.status ?? 0) then \(reply?.description ?? "no answer")")
            }
            // And any other expectation is 417
            let otherExpectation = try await RawConnection.exchange(
                port: port, bytes(noCredentialsHead(extra: "Expect: something-else\r\n") + "grant_type=client_credentials"))
            expectFramingRefused(otherExpectation, 417, "Expect: something-else")

            // And after all of these no token was issued, and the server still serves
            #expect(try await server.deployment.count("access_tokens") == 0)
            let health = try await server.health()
            expectStatus(health, 200, "/health afterwards")
            #expect(server.isRunning)
        }
    }

    @Test("Pipelined requests are answered in order: a 100 Continue or a refusal waits for the answer before it")
    func pipelinedAnswersKeepTheirOrder() async throws {
        try await Deployment.withServer(config: withoutAdmin(deploymentConfig())) { server in
            // Given a password grant, slow by design (scrypt), and a user and client for it
            let password = "Right-Pa55-\(UUID().uuidString.prefix(6))"
            let client = try await server.deployment.createClient()
            let user = try await server.deployment.createUser(password: password)
            let slow = rawRequest(
                "POST", "/oauth2/token",
                headers: [formContentType, ("Authorization", Form.basic(id: client.id, secret: client.secret))],
                body: Form.encode([("grant_type", "password"), ("username", user), ("password", password)]), close: false)

            // When a client pipelines after it a request that expects 100-continue, all in one write
            do {
                let connection = try await RawConnection.open(port: server.port)
                defer { connection.close() }
                await connection.send(slow + bytes(noCredentialsHead(extra: "Expect: 100-continue\r\n") + "grant_type=client_credentials"))
                let first = await connection.readResponse(timeout: .seconds(30))
                let interim = await connection.readResponse(timeout: .seconds(10))
                let last = await connection.readResponse(timeout: .seconds(10))
                // Then the token comes first, whole; the 100 only after it (RFC 9112 §9.3.2); then the 401
                #expect(first?.status == 200 && first?.string("access_token") != nil, "first: \(first?.status ?? 0)")
                #expect(interim?.status == 100, "second: \(interim?.status ?? 0)")
                #expect(last?.status == 401, "third: \(last?.status ?? 0)")
            }

            // When a client pipelines a request without Host after the slow one
            do {
                let connection = try await RawConnection.open(port: server.port)
                defer { connection.close() }
                await connection.send(slow + bytes("GET /health HTTP/1.1\r\n\r\n"))
                let first = await connection.readResponse(timeout: .seconds(30))
                let refusal = await connection.readResponse(timeout: .seconds(10))
                // Then the token comes first, then the refusal, and the connection closes
                #expect(first?.status == 200 && first?.string("access_token") != nil, "first: \(first?.status ?? 0)")
                expectFramingRefused(refusal, 400, "the pipelined request without Host")
                #expect(await connection.waitForClose(timeout: .seconds(5)) != .stillOpen)
            }
        }
    }
}
