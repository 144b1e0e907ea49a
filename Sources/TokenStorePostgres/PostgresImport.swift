import Logging
import PostgresNIO
import TokenAuthority

extension PostgresDatabase {
    /// Writes `tables` (every row of another store, `SQLiteDatabase.export`) into the
    /// database at `settings`: `token-authority db copy` (README, "Scaling out").
    ///
    /// The pending migrations are applied first; then one transaction locks the
    /// tables, refuses them unless all are empty, inserts every row with its id,
    /// moves each identity sequence past the highest id, and compares each table's
    /// count with the rows given. Any failure rolls the whole copy back.
    ///
    /// - Returns: the number of rows copied per table, in `tables`' order.
    public static func importRows(
        _ tables: [CopiedTable], into settings: PostgreSQLSettings, migrations: [Migration] = embeddedMigrations,
        now: Int64, logger: Logger
    ) async throws -> [(table: String, rows: Int)] {
        let (connection, quiet) = try await PostgresStore.connect(settings, logger: logger)
        do {
            try await PostgresMigrationRunner(migrations: migrations).migrate(connection, now: now, logger: quiet)
            let counts = try await RowImport(connection: connection, logger: quiet).run(tables)
            try await connection.close()
            return counts
        } catch {
            try? await connection.close()
            if error is MigrationError || error is CopyRefused { throw error }
            throw PostgresOpenError(
                doing: "copy into the PostgreSQL database", url: settings.redactedURL,
                reason: PostgresFailure.reason(error))
        }
    }
}

/// Why `db copy` wrote nothing, in words for the operator.
public struct CopyRefused: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One copy's transaction on one connection.
private struct RowImport {
    let connection: PostgresConnection
    let logger: Logger

    /// Rows per INSERT: a few hundred keeps each statement well under PostgreSQL's
    /// 65,535 parameters whatever the table.
    static let batchSize = 500

    func run(_ tables: [CopiedTable]) async throws -> [(table: String, rows: Int)] {
        let names = tables.map(\.name)
        guard names == CopiedTable.copiedTables else {
            throw CopyRefused("the copy carries \(names.joined(separator: ", ")), not the tables this version moves")
        }
        try await sql("BEGIN")
        do {
            // No instance may write while the copy runs, nor between the emptiness check and the inserts.
            try await sql(trusted: "LOCK TABLE \(names.joined(separator: ", ")) IN ACCESS EXCLUSIVE MODE")
            var occupied: [String] = []
            for name in names where try await count(name) > 0 { occupied.append(name) }
            guard occupied.isEmpty else {
                throw CopyRefused(
                    "the target database is not empty (\(occupied.joined(separator: ", ")) hold rows): "
                        + "copy into a new database, nothing was written")
            }
            for table in tables { try await insert(table) }
            for name in names where try await hasIdentity(name) {
                try await sql(
                    trusted: "SELECT setval(pg_get_serial_sequence('\(name)', 'id'), GREATEST(COALESCE(MAX(id), 0), 1), "
                        + "MAX(id) IS NOT NULL) FROM \(name)")
            }
            var counts: [(table: String, rows: Int)] = []
            for table in tables {
                let found = try await count(table.name)
                guard found == table.rows.count else {
                    throw CopyRefused(
                        "\(table.name) holds \(found) rows after the copy, not \(table.rows.count): nothing was written")
                }
                counts.append((table.name, found))
            }
            try await sql("COMMIT")
            return counts
        } catch {
            _ = try? await sql("ROLLBACK")
            throw error
        }
    }

    private func insert(_ table: CopiedTable) async throws {
        let types = try await columnTypes(table.name)
        for column in table.columns where types[column] == nil {
            throw CopyRefused("\(table.name).\(column) has no column in the PostgreSQL schema: nothing was written")
        }
        let columns = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
        let width = table.columns.count
        var start = 0
        while start < table.rows.count {
            let batch = table.rows[start..<min(start + Self.batchSize, table.rows.count)]
            var binds = PostgresBindings(capacity: batch.count * width)
            var tuples: [String] = []
            for (offset, row) in batch.enumerated() {
                guard row.count == width else {
                    throw CopyRefused("a row of \(table.name) has \(row.count) values for \(width) columns")
                }
                let place = (0..<width).map { "$\(offset * width + $0 + 1)" }.joined(separator: ", ")
                tuples.append("(\(place))")
                for (column, value) in zip(table.columns, row) {
                    try bind(
                        Self.carried(value, table: table, row: row, column: column),
                        as: types[column] ?? "", to: &binds, at: "\(table.name).\(column)")
                }
            }
            try await sql(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO \(table.name) (\(columns)) VALUES \(tuples.joined(separator: ", "))",
                    binds: binds))
            start += batch.count
        }
    }

    /// SQLite allows a refresh token without a family only for rows older than
    /// families; PostgreSQL's schema has none, and such a token is a family of its
    /// own (as SQLite's migration 0002 made every older row).
    private static func carried(_ value: CopiedValue, table: CopiedTable, row: [CopiedValue], column: String)
        -> CopiedValue
    {
        guard table.name == "refresh_tokens", column == "family_id", value == .null,
            let idColumn = table.columns.firstIndex(of: "id")
        else { return value }
        return row[idColumn]
    }

    /// `value` as the PostgreSQL column's type: SQLite's 0/1 integers become booleans,
    /// blobs `bytea`; any other pairing is a row the schema never writes.
    private func bind(_ value: CopiedValue, as type: String, to binds: inout PostgresBindings, at column: String)
        throws
    {
        switch (value, type) {
        case (.null, _): binds.appendNull()
        case (.integer(let integer), "bigint"), (.integer(let integer), "integer"): binds.append(integer)
        case (.integer(let integer), "boolean") where integer == 0 || integer == 1: binds.append(integer == 1)
        case (.text(let text), "text"): binds.append(text)
        case (.bytes(let data), "bytea"): binds.append(bytes(data))
        default:
            throw CopyRefused("\(column) holds a value PostgreSQL's \(type) column cannot take: nothing was written")
        }
    }

    private func columnTypes(_ table: String) async throws -> [String: String] {
        var types: [String: String] = [:]
        let rows = try await sql(
            """
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table)
            """)
        for row in rows {
            let (name, type) = try row.decode((String, String).self)
            types[name] = type
        }
        return types
    }

    /// Whether `table.id` is an identity column, whose sequence must move past the copied ids.
    private func hasIdentity(_ table: String) async throws -> Bool {
        try await sql(
            """
            SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                           AND table_name = \(table) AND column_name = 'id' AND is_identity = 'YES')
            """
        ).first?.decode(Bool.self) ?? false
    }

    private func count(_ table: String) async throws -> Int {
        try await sql(trusted: "SELECT count(*) FROM \(table)").first?.decode(Int.self) ?? 0
    }

    @discardableResult
    private func sql(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.rows(query, logger: logger)
    }

    /// A statement naming tables: only the names of `CopiedTable.copiedTables`, checked
    /// in `run`, ever reach it, never a value.
    @discardableResult
    private func sql(trusted text: String) async throws -> [PostgresRow] {
        try await connection.rows(PostgresQuery(unsafeSQL: text), logger: logger)
    }
}
