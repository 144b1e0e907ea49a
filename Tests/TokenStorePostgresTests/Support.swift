import Foundation
import Logging
import PostgresNIO
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// Store-level helpers: a fresh database per test, opened as the server opens it.
enum StoreFixture {
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

    static func sealed() -> SealedToken {
        SealedToken(digest: randomBytes(32), ciphertext: randomBytes(24))
    }

    static let hour: EpochMilliseconds = 3_600_000
    static let day: EpochMilliseconds = 86_400_000

    /// A new pair as the issuer prepares it: with a refresh token for a user's key.
    static func pair(for key: TokenKey, at now: EpochMilliseconds = 1_000) -> NewTokenPair {
        NewTokenPair(
            grantType: key.hasRefreshToken ? .password : .clientCredentials, access: sealed(), issuedAt: now,
            accessExpiresAt: now + hour, refresh: key.hasRefreshToken ? sealed() : nil, refreshExpiresAt: now + day)
    }

    /// Renewal (docs/token-renewal.md): every request gets a new token, the old one
    /// leaves ACTIVE, and a user's refresh token is renewed with it.
    static func renew(_ key: TokenKey) -> @Sendable (StoredToken?) -> IssuanceDecision {
        let refresh: RefreshDisposition = key.hasRefreshToken ? .issueNew(retiring: .inactive) : .none
        return { _ in .issue(retiring: .inactive, refresh: refresh) }
    }

    /// Reuse: the ACTIVE token is handed back; a new one only when there is none.
    static func reuse(_ key: TokenKey) -> @Sendable (StoredToken?) -> IssuanceDecision {
        let renewal = renew(key)
        return { active in active == nil ? renewal(nil) : .reuse }
    }

    static func clientKey(_ clientID: String = "app") -> TokenKey {
        TokenKey(clientID: clientID, subject: .client(clientID), scope: ScopeSet(validated: ["read"]))
    }

    static func userKey(_ username: String = "alice", scope: [String] = ["read", "write"]) -> TokenKey {
        TokenKey(clientID: "app", subject: .user(username), scope: ScopeSet(validated: scope))
    }

    /// How many rows of `table` are in `state`, counted behind the store's back.
    static func count(_ table: String, state: String, in settings: PostgreSQLSettings) async throws -> Int {
        // `table` is one of the test's own constants.
        var binds = PostgresBindings()
        binds.append(state)
        return try await PostgresTestDatabase.value(
            Int.self, PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table) WHERE state = $1", binds: binds),
            on: settings) ?? -1
    }

    static func state(_ table: String, id: Int64, in settings: PostgreSQLSettings) async throws -> String? {
        var binds = PostgresBindings()
        binds.append(id)
        return try await PostgresTestDatabase.value(
            String.self, PostgresQuery(unsafeSQL: "SELECT state FROM \(table) WHERE id = $1", binds: binds),
            on: settings)
    }
}
