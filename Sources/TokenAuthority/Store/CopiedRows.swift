/// Every row of one table, column by column: what `token-authority db copy` carries
/// from one store to another (README, "Scaling out"). Ids are kept, so the rows
/// that refer to each other still do, and every token keeps its hash and sealed value.
public struct CopiedTable: Sendable, Equatable {
    public var name: String
    public var columns: [String]
    public var rows: [[CopiedValue]]

    public init(name: String, columns: [String], rows: [[CopiedValue]]) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }

    /// The tables a copy moves, each after the tables it refers to. The schema's own
    /// bookkeeping (`schema_migrations`) stays with each database.
    public static let copiedTables = [
        "clients", "users", "signing_keys", "refresh_tokens", "access_tokens", "sessions", "authorization_codes",
        "device_authorizations",
    ]
}

/// One column value of a copied row.
public enum CopiedValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case bytes([UInt8])
}
