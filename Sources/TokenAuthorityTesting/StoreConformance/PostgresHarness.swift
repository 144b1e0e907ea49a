import Logging
import PostgresNIO
import TokenAuthority
import TokenStorage

/// A fresh PostgreSQL database of `PostgresTestDatabase.withFreshDatabase`, looked at
/// over a connection of its own, as `psql` would.
public struct PostgresHarness: StoreHarness {
    public let settings: PostgreSQLSettings
    public var name: String { "postgresql" }
    public var randomBytes: String { "sha256(random()::text::bytea)" }
    public var zeroByte: String { "'\\x00'::bytea" }

    public init(settings: PostgreSQLSettings) {
        self.settings = settings
    }

    public func open() async throws -> any TokenDatabase {
        var database = DatabaseSettings()
        database.type = .postgresql
        database.postgresql = settings
        // Small pools: every check runs at once, each with two handles, on one test server.
        database.postgresql?.poolSize = 4
        return try await TokenStorage.open(database, now: 0, logger: PostgresTestDatabase.logger)
    }

    public func execute(_ sql: String) async throws {
        try await PostgresTestDatabase.query(PostgresQuery(unsafeSQL: sql), on: settings)
    }

    public func insert(_ sql: String) async throws -> Int64 {
        let rows = try await PostgresTestDatabase.query(PostgresQuery(unsafeSQL: sql + " RETURNING id"), on: settings)
        guard let id = try rows.first?.decode(Int64.self) else { throw TestDatabaseError("no id from: \(sql)") }
        return id
    }

    public func strings(_ sql: String) async throws -> [String] {
        // Every column type as text, in the query's own order.
        let text = "SELECT coalesce(q.c::text, 'NULL') FROM (\(sql)) AS q(c)"
        return try await PostgresTestDatabase.query(PostgresQuery(unsafeSQL: text), on: settings).map {
            try $0.decode(String.self)
        }
    }
}
