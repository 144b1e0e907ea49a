import Testing
import TokenAuthorityTesting

/// The `deployment.toml` of a test deployment: an ephemeral port, the database under
/// `data/`, the seeds' super admin `admin`/`admin`. Plain HTTP unless `tls`, which keeps
/// the default certificate paths (a self-signed pair generated under `data/tls/`).
/// `accessTokenValidity` applies to client and user access tokens; `extra` is appended.
/// - Parameter database: the `[database]` section; the SQLite file in the deployment's folder by default.
/// The `[database]` section of the test deployments on SQLite.
let sqliteDatabaseSection = "[database]\npath = \"data/token-authority.sqlite3\""

func deploymentConfig(
    renewPerRequest: Bool = false, accessTokenValidity: String = "1h", tls: Bool = false, extra: String = "",
    database: String = sqliteDatabaseSection
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
///
/// The suite runs on the SQLite store, then, when the tests have a PostgreSQL cluster
/// (`TestPostgres`), all over again on a server over a fresh PostgreSQL database: every
/// rule these suites check must hold on both stores (README, "Scaling out"). A failure
/// that appears only with `TOKEN_AUTHORITY_TEST_POSTGRES_URL` set comes from the second
/// pass; `deployment.postgresURL` tells a test which pass it is in.
struct SharedServer: SuiteTrait, TestScoping {
    @TaskLocal static var current: ServerProcess?

    /// The deployment.toml for a `[database]` section.
    let config: @Sendable (String) -> String
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await Deployment.withServer(config: config(sqliteDatabaseSection)) { server in
            try await Self.$current.withValue(server, operation: function)
        }
        guard TestPostgres.enabled else { return }
        try await TestPostgres.withDatabase { url in
            try await Deployment.withServer(config: config(TestPostgres.databaseSection(url))) { server in
                try await Self.$current.withValue(server, operation: function)
            }
        }
    }
}

extension Trait where Self == SharedServer {
    /// One server in reuse mode (`renew_access_token_per_request = false`) or renewal mode.
    static func sharedServer(renewPerRequest: Bool, tls: Bool = false) -> Self {
        SharedServer { deploymentConfig(renewPerRequest: renewPerRequest, tls: tls, database: $0) }
    }

    /// One server on the configuration `config` makes of a `[database]` section.
    static func sharedServer(config: @escaping @Sendable (String) -> String) -> Self {
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
