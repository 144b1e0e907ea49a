import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers of the adversarial suite (Tests/EndToEndTests/Adversarial).


/// A second source address: Linux routes all of 127.0.0.0/8 to the loopback interface,
/// so a socket bound to 127.0.0.2 reaches the server on 127.0.0.1 from another address.
let secondSource = "127.0.0.2"

let formContentType = ("Content-Type", "application/x-www-form-urlencoded")


/// `config` without the super admin account: every account costs a deliberately slow
/// password hash at start-up, and most of these tests need none.
func withoutAdmin(_ config: String) -> String {
    config.replacingOccurrences(of: #"password = "admin""#, with: "create_admin_account = false")
}

/// A command that must succeed; on failure only its exit status and stderr are shown
/// (its stdout may hold a secret).
func expectSuccess(_ result: CommandResult, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let status = result.status
    #expect(status == 0, "\(what): exit status \(status)\n\(result.stderr)", sourceLocation: sourceLocation)
}

/// A command that must fail; only its exit status is shown (had it succeeded, its
/// stdout could hold a secret).
func expectFailure(_ result: CommandResult, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let status = result.status
    #expect(status != 0, "\(what) succeeded", sourceLocation: sourceLocation)
}

/// The value of `token_authority_credential_checks_total{credential="…"}` on `GET /metrics`.
func credentialChecks(
    _ server: ServerProcess, _ credential: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> Int {
    let metrics = try await server.request(.get, "/metrics")
    let status = metrics.status
    try #require(status == 200, "GET /metrics: \(metrics)", sourceLocation: sourceLocation)
    let series = #"token_authority_credential_checks_total{credential="\#(credential)"}"#
    let value = metrics.body.split(separator: "\n")
        .first { $0.hasPrefix(series + " ") }
        .flatMap { $0.dropFirst(series.count).split(separator: " ").first }
        .flatMap { Double($0) }
    return Int(try #require(value, "no \(series) in /metrics", sourceLocation: sourceLocation))
}

/// Every answer is 429 `too_many_requests` as RFC 6749 §5.2 JSON, with `Retry-After`
/// seconds within a minute, never cached.
func expectAllThrottled(_ replies: [HTTPReply], sourceLocation: SourceLocation = #_sourceLocation) {
    let malformed = replies.filter { reply in
        let retryAfter = reply.header("Retry-After").flatMap { Int($0) }
        return reply.status != 429 || reply.string("error") != "too_many_requests"
            || retryAfter.map { (1...60).contains($0) } != true || reply.header("Cache-Control") != "no-store"
    }
    #expect(
        malformed.isEmpty,
        "\(malformed.count) of \(replies.count) 429 answers lack too_many_requests, Retry-After or no-store; the first: \(malformed.first.map { "\($0), Retry-After \($0.header("Retry-After") ?? "absent")" } ?? "")",
        sourceLocation: sourceLocation)
}

/// A request refused before routing: `status`, JSON `invalid_request`, never cached.
func expectFramingRefused(
    _ reply: HTTPReply?, _ status: Int, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply?.status == status, "\(what): \(reply?.description ?? "no answer")", sourceLocation: sourceLocation)
    #expect(reply?.string("error") == "invalid_request", "\(what): \(reply?.description ?? "no answer")", sourceLocation: sourceLocation)
    #expect(reply?.header("Cache-Control") == "no-store", "\(what): Cache-Control \(reply?.header("Cache-Control") ?? "absent")", sourceLocation: sourceLocation)
}

/// Waits (at most 5 s) until the server's log has `count` request lines for `endpoint`:
/// a line is written as its answer goes out, not necessarily before the client reads it.
func waitForLogLines(_ server: ServerProcess, endpoint: String, count: Int) async throws {
    let deadline = ContinuousClock.now.advanced(by: .seconds(5))
    while ContinuousClock.now < deadline {
        let lines = server.standardError.split(separator: "\n").filter { $0.contains("endpoint=\(endpoint) ") }
        if lines.count >= count { return }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// The permission bits of the file or folder at `path`.
func permissions(of path: String) throws -> Int {
    try permissions(path) & 0o777
}

func octal(_ mode: Int) -> String { "0" + String(mode, radix: 8) }

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The uppercase hex of `text`'s UTF-8 bytes, as SQLite's `hex()` prints it.
func hexUTF8(_ text: String) -> String {
    text.utf8.map { String(format: "%02X", $0) }.joined()
}

/// The bytes of `POST /oauth2/token` with `form`, HTTP Basic as `client`.
func tokenRequestBytes(_ form: String, client: ClientKeys) -> [UInt8] {
    rawRequest(
        "POST", "/oauth2/token", headers: [formContentType, ("Authorization", Form.basic(id: client.id, secret: client.secret))],
        body: form)
}

/// The bytes of `POST /oauth2/introspect` of `token`, HTTP Basic as `id`:`secret`.
func introspectionBytes(_ token: String, id: String, secret: String) -> [UInt8] {
    rawRequest(
        "POST", "/oauth2/introspect", headers: [formContentType, ("Authorization", Form.basic(id: id, secret: secret))],
        body: Form.encode([("token", token)]))
}

/// The head of a token request by `client` with the form content type and `extra` fields
/// (each ending in CRLF), without a body length unless `extra` has one.
func tokenHead(_ client: ClientKeys, extra: String) -> String {
    "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Authorization: \(Form.basic(id: client.id, secret: client.secret))\r\n\(extra)\r\n"
}

/// The head of a 29-byte client_credentials request with no credentials and `extra`
/// fields, closing the connection after its answer.
func noCredentialsHead(extra: String) -> String {
    "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: 29\r\nConnection: close\r\n\(extra)\r\n"
}
