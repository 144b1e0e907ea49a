import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

// Helpers of the abuse-resistance suite (Tests/EndToEndTests/AbuseResistance).


/// 429 `too_many_requests` as RFC 6749 §5.2 JSON, `Retry-After` seconds within `range`, never cached.
func expectTooManyRequests(
    _ reply: HTTPReply, retryAfter range: ClosedRange<Int>, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status == 429, "\(reply)", sourceLocation: sourceLocation)
    #expect(reply.members == ["error", "error_description"], "\(reply)", sourceLocation: sourceLocation)
    #expect(reply.string("error") == "too_many_requests", "\(reply)", sourceLocation: sourceLocation)
    let retryAfter = reply.header("Retry-After").flatMap { Int($0) }
    #expect(
        retryAfter.map { range.contains($0) } == true, "Retry-After: \(reply.header("Retry-After") ?? "none")",
        sourceLocation: sourceLocation)
    #expect(reply.header("Cache-Control") == "no-store", sourceLocation: sourceLocation)
    #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
}

/// docs/token-endpoint.md, "Errors": 413 `invalid_request` as JSON, never cached.
func expectBodyTooLarge(_ reply: HTTPReply, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == 413, "\(reply)", sourceLocation: sourceLocation)
    #expect(reply.members == ["error", "error_description"], "\(reply)", sourceLocation: sourceLocation)
    #expect(reply.string("error") == "invalid_request", sourceLocation: sourceLocation)
    #expect(reply.header("Cache-Control") == "no-store", sourceLocation: sourceLocation)
}

/// The GET endpoints answer 200: health, metrics, metadata.
func expectServed(_ server: ServerProcess, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for path in ["/health", "/metrics", "/.well-known/oauth-authorization-server"] {
        let reply = try await server.request(.get, path)
        #expect(reply.status == 200, "\(path): \(reply)", sourceLocation: sourceLocation)
    }
}

/// A token request carrying `headers` is refused before it is processed: an error status
/// (observed: 400 with `Connection: close` and no body), or no answer, and the connection
/// closed; the client gets no token and the server keeps serving.
func expectHeadersRefused(
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
func tokenHead(_ client: ClientKeys, _ length: Int) -> String {
    "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Authorization: \(Form.basic(id: client.id, secret: client.secret))\r\nContent-Length: \(length)\r\n\r\n"
}

/// `prefix` followed by `a`s up to `size` bytes.
func padded(_ prefix: String, to size: Int) -> String {
    prefix + String(repeating: "a", count: size - prefix.utf8.count)
}

/// What became of a client that sends `head`, then one byte every 200 ms.
struct DripResult: Sendable, CustomStringConvertible {
    var closed: Bool
    var bytesSent: Int
    var elapsed: Duration
    var description: String { "\(closed ? "closed" : "still open") after \(elapsed), \(bytesSent) bytes dripped" }
}

/// Sends `head`, then drips `a`s one every 200 ms until the server closes the
/// connection or `limit` has passed.
func drip(port: Int, head: String, for limit: Duration) async throws -> DripResult {
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
    func clientCredentials(_ client: ClientKeys, headers: HTTPFields) async throws -> HTTPReply {
        try await postToken("grant_type=client_credentials", client: client, headers: headers)
    }


    /// The bytes of `POST /oauth2/token` with `form`, HTTP Basic as `client`, and `headers`.
    func tokenRequestBytes(_ form: String, client: ClientKeys, headers: [(String, String)] = []) -> [UInt8] {
        rawRequest(
            "POST", "/oauth2/token",
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", Form.basic(id: client.id, secret: client.secret)),
            ] + headers,
            body: form)
    }

    /// `POST /oauth2/token` over a raw connection, from `source` when given.
    func rawPostToken(
        _ form: String, client: ClientKeys, headers: [(String, String)] = [], from source: String? = nil
    ) async throws -> HTTPReply? {
        try await RawConnection.exchange(port: port, from: source, tokenRequestBytes(form, client: client, headers: headers))
    }

    /// A client_credentials request by `client`.
    func tokenRequest(_ client: ClientKeys) -> TestClient.Request {
        TestClient.Request(
            "/oauth2/token", method: .post, authority: "127.0.0.1:\(port)",
            headers: [
                .contentType: "application/x-www-form-urlencoded", .authorization: Form.basic(id: client.id, secret: client.secret),
            ],
            body: ByteBuffer(string: "grant_type=client_credentials"))
    }

    /// An introspection request for `token` by `caller`.
    func introspectionRequest(of token: String, as caller: ClientKeys) -> TestClient.Request {
        TestClient.Request(
            "/oauth2/introspect", method: .post, authority: "127.0.0.1:\(port)",
            headers: [
                .contentType: "application/x-www-form-urlencoded", .authorization: Form.basic(id: caller.id, secret: caller.secret),
            ],
            body: ByteBuffer(string: Form.encode([("token", token)])))
    }

    /// `count` requests one after another on one kept-alive connection: as fast as a client can send them.
    func rapidRequests(
        _ count: Int, _ request: @escaping @Sendable (Int) -> TestClient.Request
    ) async throws -> [HTTPReply] {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { http in
            var replies: [HTTPReply] = []
            for index in 0..<count { replies.append(HTTPReply(try await http.execute(request(index)))) }
            return replies
        }
    }
}

