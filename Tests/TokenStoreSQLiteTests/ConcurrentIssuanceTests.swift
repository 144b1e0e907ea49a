import GRDB
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// docs/token-renewal.md, "Concurrency": N simultaneous requests for one key, through the real
/// issuer and store, with one database pool or two (as two processes would have).
@Suite struct ConcurrentIssuanceTests {
    static let requests = 32

    func issueConcurrently(renew: Bool, pools: Int) async throws -> (tokens: [String], active: Int) {
        // Given a database file shared by `pools` independent connection pools
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("db.sqlite3")
        let stores = try (0..<pools).map { _ in try SQLiteStore.open(path: path, now: 0) }
        let client = try await Fixtures.registerClient(in: stores[0], id: "app")
        let cipher = try TokenCipher(keyBytes: Array(repeating: 3, count: 32))
        let settings = OAuthSettings(renewAccessTokenPerRequest: renew)
        let minter = AccessTokenMinter(cipher: cipher, signer: nil)
        let issuers = stores.map {
            TokenIssuer(store: $0, cipher: cipher, minter: minter, settings: settings, clock: .system)
        }
        let key = TokenKey(clientID: client.clientID, subject: .client(client.clientID), scope: .default)

        // When 32 requests for the same key arrive at once, spread over the pools
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<Self.requests {
                let issuer = issuers[index % issuers.count]
                group.addTask { try await issuer.issue(for: key, grantType: .clientCredentials).accessToken }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let active = try await stores[0].writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") ?? -1
        }
        return (tokens, active)
    }

    @Test(arguments: [1, 2])
    func reuseGivesEveryRequestTheSameToken(pools: Int) async throws {
        let (tokens, active) = try await issueConcurrently(renew: false, pools: pools)
        // Then all succeed with one token, and one row is ACTIVE
        #expect(tokens.count == Self.requests)
        #expect(Set(tokens).count == 1)
        #expect(active == 1)
    }

    @Test(arguments: [1, 2])
    func renewalGivesEveryRequestItsOwnTokenAndLeavesOneActive(pools: Int) async throws {
        let (tokens, active) = try await issueConcurrently(renew: true, pools: pools)
        // Then all succeed with distinct tokens, and exactly one row is ACTIVE
        #expect(tokens.count == Self.requests)
        #expect(Set(tokens).count == Self.requests)
        #expect(active == 1)
    }
}
