import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOSSL
import TokenAuthorityTesting

extension HTTPReply {
    init(_ response: TestClient.Response) {
        self.init(
            status: response.status.code, headers: response.headers, body: response.body.map { String(buffer: $0) } ?? "")
    }
}

extension ServerProcess {
    /// One request on a fresh connection; over HTTPS, a client that verifies
    /// nothing, like `curl -k`, unless `tls` says otherwise.
    func request(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: [UInt8]? = nil,
        tls: TLSConfiguration? = nil
    ) async throws -> HTTPReply {
        let configuration = TestClient.Configuration(
            tlsConfiguration: usesTLS ? (tls ?? Self.unverifiedTLS) : nil, serverName: "localhost")
        return try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: configuration) { client in
            // Hummingbird's test client sends no Host unless given an authority, and
            // the server answers 400 to an HTTP/1.1 request without one (RFC 9112 §3.2).
            let request = TestClient.Request(
                path, method: method, authority: "127.0.0.1:\(self.port)", headers: headers, body: body.map { ByteBuffer(bytes: $0) })
            return HTTPReply(try await client.execute(request))
        }
    }

    /// `curl -k`: TLS without any certificate check.
    static var unverifiedTLS: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        return tls
    }

    /// `POST /oauth2/token` with `body` sent as is, form content type unless told otherwise,
    /// and HTTP Basic client authentication when `client` is given.
    func postToken(
        _ body: String, client: ClientKeys? = nil, headers extra: HTTPFields = [:],
        contentType: String? = "application/x-www-form-urlencoded"
    ) async throws -> HTTPReply {
        var headers = extra
        if let contentType { headers[.contentType] = contentType }
        if let client { headers[.authorization] = Form.basic(id: client.id, secret: client.secret) }
        return try await request(.post, "/oauth2/token", headers: headers, body: Array(body.utf8))
    }

    func clientCredentials(_ client: ClientKeys, scope: String? = nil) async throws -> HTTPReply {
        var form = [("grant_type", "client_credentials")]
        if let scope { form.append(("scope", scope)) }
        return try await postToken(Form.encode(form), client: client)
    }

    func passwordGrant(_ client: ClientKeys, username: String, password: String, scope: String? = nil) async throws
        -> HTTPReply
    {
        var form = [("grant_type", "password"), ("username", username), ("password", password)]
        if let scope { form.append(("scope", scope)) }
        return try await postToken(Form.encode(form), client: client)
    }

    func health() async throws -> HTTPReply {
        try await request(.get, "/health")
    }

    /// One sample of `GET /metrics` now: the series `name` with exactly `labels`; 0 when absent.
    func metric(_ name: String, _ labels: [String: String] = [:]) async throws -> Double {
        try PrometheusExposition(try await request(.get, "/metrics").body).value(name, labels) ?? 0
    }
}
