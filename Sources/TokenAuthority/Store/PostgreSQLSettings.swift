/// How to reach a PostgreSQL database (`[database] type = "postgresql"`, README,
/// "Scaling out"): read from `deployment.toml` and the environment, checked there,
/// and handed to the PostgreSQL store as is.
public struct PostgreSQLSettings: Sendable, Equatable {
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// Plain TCP: a private network or a Unix socket only.
        case disable
        /// TLS, the server's certificate not checked.
        case require
        /// TLS, the certificate checked against `caFile` (or the system's roots) and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    /// From `TOKEN_AUTHORITY_DATABASE_PASSWORD` or `password_file`; never logged.
    public var password: String?
    public var tls: TLSMode
    /// PEM certificates to trust for `verify-full`; `nil`: the system's roots.
    public var caFile: String?
    /// Connections each instance keeps open at most.
    public var poolSize: Int

    public init(
        host: String, port: Int = 5432, username: String, database: String, password: String? = nil,
        tls: TLSMode = .disable, caFile: String? = nil, poolSize: Int = 10
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.database = database
        self.password = password
        self.tls = tls
        self.caFile = caFile
        self.poolSize = poolSize
    }

    /// `postgresql://USER@HOST:PORT/DBNAME`, without the password: safe to log.
    public var redactedURL: String { "postgresql://\(username)@\(host):\(port)/\(database)" }
}
