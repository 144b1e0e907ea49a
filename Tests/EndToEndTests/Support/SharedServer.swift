import Testing
import TokenAuthorityTesting

/// The `deployment.toml` of a test deployment: an ephemeral port, the database under
/// `data/`, the seeds' super admin `admin`/`admin`. Plain HTTP unless `tls`, which keeps
/// the default certificate paths (a self-signed pair generated under `data/tls/`).
/// `accessTokenValidity` applies to client and user access tokens; `extra` is appended.
/// - Parameter database: the `[database]` section; the SQLite file in the deployment's folder by default.
func deploymentConfig(
    renewPerRequest: Bool = false, accessTokenValidity: String = "1h", tls: Bool = false, extra: String = "",
    database: String = "[database]\npath = \"data/token-authority.sqlite3\""
) -> String {
    """
    [server]
    hostname = "127.0.0.1"
    port = 0

    [server.tls]
    enabled = \(tls)

    \(database)

    [super_admin]
    password = "admin"

    [oauth.token_renewal]
    renew_access_token_per_request = \(renewPerRequest)

    [oauth.token_validation]
    app_access_token_validity = "\(accessTokenValidity)"
    user_access_token_validity = "\(accessTokenValidity)"
    refresh_token_validity = "1d"
    \(extra)
    """
}

/// A suite trait that starts one server for the whole suite (nested suites included)
/// and stops it afterwards. Tests reach it as `try sharedServer()`. Tests sharing it
/// stay apart by registering their own clients and users: a token's key is
/// (client, subject, scope), so one test never sees another's tokens.
struct SharedServer: SuiteTrait, TestScoping {
    @TaskLocal static var current: ServerProcess?

    let config: String
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await Deployment.withServer(config: config) { server in
            try await Self.$current.withValue(server, operation: function)
        }
    }
}

extension Trait where Self == SharedServer {
    /// One server in reuse mode (`renew_access_token_per_request = false`) or renewal mode.
    static func sharedServer(renewPerRequest: Bool, tls: Bool = false) -> Self {
        SharedServer(config: deploymentConfig(renewPerRequest: renewPerRequest, tls: tls))
    }

    static func sharedServer(config: String) -> Self {
        SharedServer(config: config)
    }
}

/// The server of the enclosing `.sharedServer` suite.
func sharedServer() throws -> ServerProcess {
    try #require(SharedServer.current, "this test must run inside a suite with the .sharedServer trait")
}

/// Every test of these suites runs against one reuse-mode server.
@Suite(.sharedServer(renewPerRequest: false))
struct ReuseModeServer {}

/// Every test of these suites runs against one renewal-mode server.
@Suite(.sharedServer(renewPerRequest: true))
struct RenewalModeServer {}

/// The same two modes over HTTPS with a generated self-signed pair, as the seeds' `curl -k`.
@Suite(.sharedServer(renewPerRequest: false, tls: true))
struct ReuseModeServerOverHTTPS {}

@Suite(.sharedServer(renewPerRequest: true, tls: true))
struct RenewalModeServerOverHTTPS {}
