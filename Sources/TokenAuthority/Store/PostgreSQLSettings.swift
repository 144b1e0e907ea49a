import Foundation

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

    /// Reads `postgresql://USER@HOST[:PORT]/DBNAME`. A password in the URL is refused
    /// without repeating the URL, so that it reaches no terminal or log.
    public init(url text: String) throws(URLProblem) {
        let shape = "must look like postgresql://USER@HOST:PORT/DBNAME"
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgresql", "postgres"].contains(scheme.lowercased())
        else { throw URLProblem(shape) }
        guard components.password == nil else {
            throw URLProblem("must not hold a password: set TOKEN_AUTHORITY_DATABASE_PASSWORD or a password file instead")
        }
        guard let user = components.user, !user.isEmpty else { throw URLProblem("names no user: \(shape)") }
        guard let host = components.host, !host.isEmpty else { throw URLProblem("names no host: \(shape)") }
        let name = String(components.path.drop { $0 == "/" })
        guard !name.isEmpty, !name.contains("/") else { throw URLProblem("names no database: \(shape)") }
        guard components.query == nil, components.fragment == nil else {
            throw URLProblem("takes no query or fragment: TLS, the CA file and the pool size are settings of their own")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw URLProblem("port \(port) is out of range") }
        self.init(host: host, port: port, username: user, database: name)
    }

    /// What is wrong with a database URL; never repeats the URL.
    public struct URLProblem: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// `postgresql://USER@HOST:PORT/DBNAME`, without the password: safe to log.
    public var redactedURL: String { "postgresql://\(username)@\(host):\(port)/\(database)" }
}
