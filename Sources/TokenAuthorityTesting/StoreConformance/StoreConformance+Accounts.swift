import Foundation
import Testing
import TokenAuthority

// Clients, users, account locking and signing keys.
extension StoreConformance {
    static let accountChecks: [StoreCheck] = [
        StoreCheck("deleting a user or a client deletes their tokens") { fixture in
            let store = fixture.store
            try await fixture.issue(try fixture.newPair())
            #expect(try await store.deleteUser(named: "alice"))
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens") == 0)
            #expect(try await !store.deleteUser(named: "alice"))

            let appKey = TokenKey(clientID: "app", subject: .client("app"), scope: .default)
            var appPair = try fixture.newPair()
            appPair.refresh = nil
            _ = try await store.issue(appPair, for: appKey) { _ in .issue(retiring: .expired, refresh: .none) }
            #expect(try await store.deleteClient(id: "app"))
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens") == 0)
            #expect(try await store.client(id: "app") == nil)
            #expect(try await !store.deleteClient(id: "app"))
        },
        StoreCheck("a taken client id or username is reported as such") { fixture in
            await #expect(throws: StoreError.alreadyExists("client app")) {
                try await Fixtures.registerClient(in: fixture.store, id: "app")
            }
            await #expect(throws: StoreError.alreadyExists("user alice")) {
                try await Fixtures.registerUser(in: fixture.store, username: "alice", password: "x")
            }
        },
        StoreCheck("hostile text is stored and compared as text, byte for byte") { fixture in
            let name = "'; DROP TABLE clients; --"
            try await Fixtures.registerUser(in: fixture.store, username: name, password: "x")
            #expect(try await fixture.store.user(named: name)?.username == name)
            #expect(try await fixture.store.user(named: "ALICE") == nil)
            #expect(try await fixture.count("SELECT count(*) FROM clients") == 1)
        },
        StoreCheck("clients round-trip every field; users list in order") { fixture in
            let client = Client(
                clientID: "jwt-app", name: "JWT app", secretDigest: Array(repeating: 7, count: 32),
                grantTypes: [.clientCredentials, .refreshToken], scopes: ["read", "write"], tokenFormat: .jwt,
                mayIntrospect: true, createdAt: 42)
            try await fixture.store.createClient(client)
            #expect(try await fixture.store.client(id: "jwt-app") == client)
            #expect(try await fixture.store.clients().map(\.clientID).sorted() == ["app", "jwt-app"])
            #expect(try await fixture.store.updatePasswordHash(username: "alice", passwordHash: "new"))
            #expect(try await fixture.store.user(named: "alice")?.passwordHash == "new")
            #expect(try await !fixture.store.updatePasswordHash(username: "nobody", passwordHash: "new"))
        },
        StoreCheck("failed logins count in the database and lock at the threshold; 20 at once lock exactly once") { fixture in
            let store = fixture.store
            #expect(try await !store.recordFailedLogin(username: "alice", threshold: 3, lockUntil: 9000))
            #expect(try await store.user(named: "alice")?.failedLoginAttempts == 1)
            #expect(try await store.clearFailedLogins(username: "alice"))
            #expect(try await store.user(named: "alice")?.failedLoginAttempts == 0)
            let locks = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await store.recordFailedLogin(username: "alice", threshold: 20, lockUntil: 9000) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(locks == 1)
            let locked = try await store.user(named: "alice")
            #expect(locked?.lockedUntil == 9000 && locked?.isLocked(at: 8999) == true && locked?.failedLoginAttempts == 0)
            #expect(try await store.clearFailedLogins(username: "alice"))
            #expect(try await store.user(named: "alice")?.lockedUntil == nil)
            #expect(try await !store.clearFailedLogins(username: "nobody"))
        },
        StoreCheck("the first signing key wins a race; rotation retires the current key, published until its tokens expire") {
            fixture in
            let store = fixture.store
            #expect(try await store.currentSigningKeyID() == nil)
            let winners = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask { try await store.addFirstSigningKey(signingKey("k\(index)", createdAt: 100)) }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(winners.count == 1)
            let first = try #require(winners.first)
            #expect(try await store.currentSigningKeyID() == first)

            try await store.makeCurrentSigningKey(signingKey("next", createdAt: 200), retiredPublishedUntil: 5000)
            #expect(try await store.currentSigningKeyID() == "next")
            let published = try await store.publishedSigningKeys(at: 4999).map(\.keyID)
            #expect(Set(published) == ["next", first])
            #expect(try await store.publishedSigningKeys(at: 5001).map(\.keyID) == ["next"])
            let all = try await store.signingKeys()
            #expect(all.first?.keyID == "next" && all.count == 2)
            #expect(all.last?.retiredAt != nil && all.last?.publishUntil == 5000)
            // Making the current key current again changes nothing
            try await store.makeCurrentSigningKey(signingKey("next", createdAt: 200), retiredPublishedUntil: 9000)
            #expect(try await store.signingKeys().count == 2)
        },
        StoreCheck("four simultaneous rotations over two handles leave every key stored and exactly one current") { fixture in
            let other = try await fixture.harness.open()
            defer { Task { try? await other.close() } }
            let stores: [any TokenDatabase] = [fixture.store, other]
            _ = try await fixture.store.addFirstSigningKey(signingKey("k0", createdAt: 100))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1...4 {
                    let store = stores[index % 2]
                    group.addTask {
                        try await store.makeCurrentSigningKey(signingKey("k\(index)", createdAt: 200), retiredPublishedUntil: 9000)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await fixture.count("SELECT count(*) FROM signing_keys") == 5)
            #expect(try await fixture.count("SELECT count(*) FROM signing_keys WHERE retired_at IS NULL") == 1)
            let current = try await fixture.store.currentSigningKeyID()
            #expect(current != nil && current != "k0")
        },
        StoreCheck("every committed change to a client moves clientsVersion, for every handle; a cache follows it") { fixture in
            let other = try await fixture.harness.open()
            defer { Task { try? await other.close() } }
            // A cache that reads the version on every lookup: the check is about what it reads.
            let cache = ClientCache(store: fixture.store, recheckInterval: .zero)
            let start = try await other.clientsVersion()
            let original = try #require(try await cache.client(id: "app"))

            // Another handle (another process) deletes the client, then registers it again
            #expect(try await other.deleteClient(id: "app"))
            #expect(try await cache.client(id: "app") == nil)
            let credentials = try await Fixtures.registerClient(in: other, id: "app")
            let renewed = try #require(try await cache.client(id: "app"))
            #expect(renewed.secretDigest != original.secretDigest)
            #expect(renewed.secretDigest == ClientSecret.digest(try #require(credentials.secret)))

            // An operator's UPDATE behind the store's back moves it too
            let beforeUpdate = try await fixture.store.clientsVersion()
            try await fixture.harness.execute("UPDATE clients SET name = 'renamed' WHERE client_id = 'app'")
            #expect(try await fixture.store.clientsVersion() > beforeUpdate)
            #expect(try await cache.client(id: "app")?.name == "renamed")

            // A refused insert (a taken id) rolls back, the version with it
            let beforeRefusal = try await other.clientsVersion()
            await #expect(throws: StoreError.alreadyExists("client app")) {
                try await Fixtures.registerClient(in: other, id: "app")
            }
            #expect(try await fixture.store.clientsVersion() == beforeRefusal)
            #expect(beforeRefusal > start)
        },
    ]

    private static func signingKey(_ id: String, createdAt: EpochMilliseconds) -> SigningKeyRecord {
        SigningKeyRecord(
            keyID: id, algorithm: "ES256", privateKeySealed: Array(repeating: 9, count: 48),
            publicJWK: #"{"kty":"EC","kid":"\#(id)"}"#, createdAt: createdAt)
    }
}
