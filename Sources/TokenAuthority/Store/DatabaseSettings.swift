/// `[database]` in `deployment.toml`: which store holds the tokens, and where.
public struct DatabaseSettings: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// One file on one host: the embedded default (docs/storage.md).
        case sqlite
        /// One database shared by instances on several hosts (README, "Scaling out").
        case postgresql
    }

    public var type = Kind.sqlite
    /// The SQLite database file.
    public var path = "data/token-authority.sqlite3"
    /// The token encryption key, whatever the store: every instance serving one
    /// database needs the same file.
    public var keyFile = "data/token-authority.key"
    /// Where PostgreSQL is, when `type` is `postgresql`.
    public var postgresql: PostgreSQLSettings?

    public init() {}

    /// The database as a log line or an error may name it: the SQLite path, or the
    /// PostgreSQL URL without its password.
    public var displayName: String {
        switch type {
        case .sqlite: path
        case .postgresql: postgresql?.redactedURL ?? "postgresql (no url)"
        }
    }
}
