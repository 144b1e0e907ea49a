import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// A token server over a throw-away database and a manual clock, driven through
/// the real router (`app.test(.router)`), one fresh application per request.
struct TestServer: Sendable {
    let directory: TemporaryDirectory
    let clock: ManualClock
    let services: TokenAuthorityServices

    /// Runs `body` against a fresh server and removes its folder afterwards.
    static func with<T: Sendable>(
        _ adjust: @escaping (inout DeploymentConfiguration) -> Void = { _ in },
        _ body: (TestServer) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let services = try await Fixtures.services(in: directory, clock: clock, adjust)
        return try await body(TestServer(directory: directory, clock: clock, services: services))
    }

    // MARK: Fixtures

    @discardableResult
    func client(
        _ id: String = "client-\(UUID().uuidString.prefix(8))", grantTypes: [GrantType] = GrantType.defaultForNewClients,
        scopes: Set<String>? = nil, format: AccessTokenFormat = .opaque, mayIntrospect: Bool = false
    ) async throws -> ClientCredentials {
        try await Fixtures.registerClient(
            in: services.store, id: id, grantTypes: grantTypes, scopes: scopes, mayIntrospect: mayIntrospect,
            tokenFormat: format)
    }

    func user(_ username: String, password: String) async throws {
        try await Fixtures.registerUser(in: services.store, username: username, password: password)
    }

    // MARK: HTTP

    /// `POST /oauth2/token` with a raw body.
    func postToken(
        body: String, authorization: String? = nil,
        contentType: String? = "application/x-www-form-urlencoded"
    ) async throws -> HTTPReply {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        if let authorization { headers[.authorization] = authorization }
        return try await send(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// `POST /oauth2/token` with form parameters and, when given, HTTP Basic client authentication.
    func token(_ parameters: [(String, String)], basic credentials: ClientCredentials? = nil) async throws -> HTTPReply {
        try await postToken(body: Form.encode(parameters), authorization: credentials.map(Form.basic))
    }

    /// The password grant for `username`, authenticated with HTTP Basic.
    func passwordGrant(
        _ credentials: ClientCredentials, username: String, password: String, scope: String? = nil
    ) async throws -> HTTPReply {
        var parameters = [("grant_type", "password"), ("username", username), ("password", password)]
        if let scope { parameters.append(("scope", scope)) }
        return try await token(parameters, basic: credentials)
    }

    /// The client credentials grant, authenticated with HTTP Basic.
    func clientCredentialsGrant(_ credentials: ClientCredentials, scope: String? = nil) async throws -> HTTPReply {
        var parameters = [("grant_type", "client_credentials")]
        if let scope { parameters.append(("scope", scope)) }
        return try await token(parameters, basic: credentials)
    }

    func send(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil)
        async throws -> HTTPReply
    {
        // Request lines only at info: the tests read replies, not logs.
        var logger = Logger(label: "token-authority-test")
        logger.logLevel = .warning
        let app = Application(router: buildRouter(services: services), logger: logger)
        return try await app.test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                HTTPReply(status: response.status.code, headers: response.headers, body: String(buffer: response.body))
            }
        }
    }

    // MARK: Rows

    /// Reads the database file over a read-only connection of its own, as an
    /// operator's `sqlite3` would: what the tests see is what is committed. With a busy
    /// timeout, as `StoreHarness`'s connections have (https://www.sqlite.org/wal.html,
    /// "Sometimes Queries Return SQLITE_BUSY In WAL Mode").
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        let queue = try DatabaseQueue(path: services.configuration.database.path, configuration: configuration)
        defer { try? queue.close() }
        return try await queue.read(body)
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    /// The states of every access token row, oldest first.
    func accessTokenStates() async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT state FROM access_tokens ORDER BY id")
        }
    }

    /// The states of every refresh token row, oldest first.
    func refreshTokenStates() async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT state FROM refresh_tokens ORDER BY id")
        }
    }
}
