import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// Account locking (README, "Abuse resistance") and JWT signing keys (RFC 9068,
/// README, "How tokens behave") on the PostgreSQL store.
// Skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL names a server (PostgresTestDatabase).
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, "needs TOKEN_AUTHORITY_TEST_POSTGRES_URL"))
struct PostgresAccountAndKeyTests {
    typealias F = StoreFixture

    @Test func failedLoginsCountAndLockAtTheThresholdEvenWhenSimultaneous() async throws {
        try await F.withStore { store, _ in
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            // When ten wrong passwords arrive at once, with a threshold of five (each
            // request's own lock end, as each computes now + the lock's duration)
            let locked = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        try await store.recordFailedLogin(username: "alice", threshold: 5, lockUntil: 9_000 + Int64(index))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Then no failure is lost: exactly the 5th and the 10th lock, and the count restarts
            #expect(locked.filter { $0 }.count == 2)
            let user = try #require(try await store.user(named: "alice"))
            #expect(user.failedLoginAttempts == 0)
            #expect((9_000..<9_010).contains(user.lockedUntil ?? 0))
            // And one more failure counts one without locking
            #expect(try await store.recordFailedLogin(username: "alice", threshold: 5, lockUntil: 9_999) == false)
            #expect(try await store.user(named: "alice")?.failedLoginAttempts == 1)
            // And clearing forgets the count and the lock
            #expect(try await store.clearFailedLogins(username: "alice"))
            let cleared = try await store.user(named: "alice")
            #expect(cleared?.failedLoginAttempts == 0 && cleared?.lockedUntil == nil)
            #expect(try await store.recordFailedLogin(username: "nobody", threshold: 5, lockUntil: 1) == false)
            #expect(try await store.clearFailedLogins(username: "nobody") == false)
        }
    }

    @Test func usersAreCreatedListedAndUpdated() async throws {
        try await F.withStore { store, _ in
            try await Fixtures.registerUser(in: store, username: "bob", password: "pw")
            try await Fixtures.registerUser(in: store, username: "Zed", password: "pw")
            await #expect(throws: StoreError.alreadyExists("user bob")) {
                try await Fixtures.registerUser(in: store, username: "bob", password: "other")
            }
            // Byte order, as SQLite sorts: "Zed" before "bob"
            #expect(try await store.users().map(\.username) == ["Zed", "bob"])
            #expect(try await store.updatePasswordHash(username: "bob", passwordHash: "$scrypt$new"))
            #expect(try await store.user(named: "bob")?.passwordHash == "$scrypt$new")
            #expect(try await store.updatePasswordHash(username: "nobody", passwordHash: "x") == false)
        }
    }

    static func key(_ id: String, at createdAt: EpochMilliseconds) -> SigningKeyRecord {
        SigningKeyRecord(
            keyID: id, algorithm: "ES256", privateKeySealed: F.randomBytes(48), publicJWK: "{\"kid\":\"\(id)\"}",
            createdAt: createdAt)
    }

    @Test func instancesStartingAtOnceAgreeOnOneFirstSigningKey() async throws {
        try await F.withStore { store, settings in
            // When eight instances each try to create the first key at once
            let winners = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask { try await store.addFirstSigningKey(Self.key("k\(index)", at: 1_000)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Then all get the same key, the only one stored
            #expect(Set(winners).count == 1)
            #expect(try await store.currentSigningKeyID() == winners.first)
            #expect(try await PostgresTestDatabase.value(Int.self, "SELECT count(*) FROM signing_keys", on: settings) == 1)
        }
    }

    @Test func rotationRetiresTheCurrentKeyWhichStaysPublishedUntilItsDate() async throws {
        try await F.withStore { store, _ in
            _ = try await store.addFirstSigningKey(Self.key("k1", at: 1_000))
            // When k2 becomes current, k1 published until 50_000
            try await store.makeCurrentSigningKey(Self.key("k2", at: 2_000), retiredPublishedUntil: 50_000)
            #expect(try await store.currentSigningKeyID() == "k2")
            let keys = try await store.signingKeys()
            #expect(keys.map(\.keyID) == ["k2", "k1"])
            #expect(keys.last?.retiredAt == 2_000 && keys.last?.publishUntil == 50_000)
            // Then both are published before that date, only k2 after it
            #expect(try await store.publishedSigningKeys(at: 10_000).map(\.keyID) == ["k2", "k1"])
            #expect(try await store.publishedSigningKeys(at: 60_000).map(\.keyID) == ["k2"])
            // And making k1 current again brings it back from retirement
            try await store.makeCurrentSigningKey(Self.key("k1", at: 3_000), retiredPublishedUntil: 70_000)
            #expect(try await store.currentSigningKeyID() == "k1")
        }
    }

    @Test func simultaneousRotationsLeaveExactlyOneCurrentKey() async throws {
        try await F.withStore { store, settings in
            _ = try await store.addFirstSigningKey(Self.key("k0", at: 1_000))
            // When four rotations run at once
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1...4 {
                    group.addTask {
                        try await store.makeCurrentSigningKey(Self.key("k\(index)", at: 2_000), retiredPublishedUntil: 9_000)
                    }
                }
                try await group.waitForAll()
            }
            // Then all succeed, every key is stored, and one of the new ones is current
            #expect(try await PostgresTestDatabase.value(Int.self, "SELECT count(*) FROM signing_keys", on: settings) == 5)
            #expect(
                try await PostgresTestDatabase.value(
                    Int.self, "SELECT count(*) FROM signing_keys WHERE retired_at IS NULL", on: settings) == 1)
            let current = try await store.currentSigningKeyID()
            #expect(current != nil && current != "k0")
        }
    }
}
