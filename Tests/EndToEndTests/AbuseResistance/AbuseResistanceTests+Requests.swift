import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

/// Bounded bodies and headers, and slow clients (`[security.http]`).
extension AbuseResistanceTests {
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
            #expect(atLimit.status == 200, "\(atLimit)")

            // A 3000-byte form is 413 invalid_request, as JSON, never cached
            let over = try await server.postToken(padded(prefix, to: 3000), client: client)
            expectBodyTooLarge(over)
            // And so is a 3000-byte introspection request
            let introspection = try await server.request(
                .post, "/oauth2/introspect",
                headers: [
                    .contentType: "application/x-www-form-urlencoded",
                    .authorization: Form.basic(id: inspector.id, secret: inspector.secret),
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

    @Test("A body cut off by request_timeout is answered 408 and the connection closed; it is not counted as a body too large")
    func stalledBodyIsNot413() async throws {
        let config = withoutAdmin(deploymentConfig(extra: "[security.http]\nrequest_timeout = \"2s\""))
        try await Deployment.withServer(config: config) { server in
            // Given a request announcing 100 body bytes and sending 10
            let client = try await server.deployment.createClient()
            let connection = try await RawConnection.open(port: server.port)
            defer { connection.close() }
            let started = ContinuousClock.now
            #expect(await connection.send(tokenHead(client, 100) + "grant_type"))

            // When the server gives up on it
            let reply = await connection.readResponse(timeout: .seconds(10))
            let waited = ContinuousClock.now - started
            let closed = await connection.waitForClose(timeout: .seconds(10))

            // Then it answers 408 invalid_request after request_timeout (RFC 9110 §15.5.9), and
            // closes the connection
            #expect(reply?.status == 408, "\(String(describing: reply))")
            #expect(reply?.string("error") == "invalid_request")
            #expect(reply?.header("Connection")?.lowercased() == "close")
            #expect(waited >= .milliseconds(1900), "answered after \(waited)")
            #expect(closed.closedAfter != nil, "\(closed)")
            // And its log line says 408, and nothing counts it as a body too large
            try await Task.sleep(for: .milliseconds(200))
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
}
