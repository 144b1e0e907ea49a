import Logging
import PostgresNIO
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// Store-level helpers: a fresh database per test, opened as the server opens it.
enum TestStore {
    /// The tests log nothing (and so never a secret).
    static let logger = Logger(label: "token-authority.test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A fresh database, migrated and opened through `PostgresDatabase.open`, closed afterwards.
    static func withStore<T: Sendable>(
        _ body: (any TokenDatabase, PostgreSQLSettings) async throws -> T
    ) async throws -> T {
        try await PostgresTestDatabase.withFreshDatabase { settings in
            let store = try await PostgresDatabase.open(settings, now: 0, logger: logger)
            do {
                let result = try await body(store, settings)
                try await store.close()
                return result
            } catch {
                try? await store.close()
                throw error
            }
        }
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255) }
    }
}
