import Foundation
import Testing
import TokenAuthority

/// The one conformance suite every store passes (docs/storage.md): what the core
/// relies on, checked through the store protocols and the rows an operator sees.
/// Each test target runs `StoreConformance.checks` against its store's harness.
public enum StoreConformance {
    public static let checks: [StoreCheck] =
        tokenChecks + accountChecks + refreshChecks + cleanupChecks + signInChecks + deviceChecks
}

/// One behaviour of the suite, run against a fresh database of the harness.
public struct StoreCheck: Sendable, CustomTestStringConvertible {
    public let name: String
    let body: @Sendable (StoreFixture) async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable (StoreFixture) async throws -> Void) {
        self.name = name
        self.body = body
    }

    public var testDescription: String { name }

    /// Runs the check on a new handle onto `harness`'s database, with the client
    /// `app` and the user `alice` registered; closes the handle afterwards.
    public func run(on harness: some StoreHarness) async throws {
        let store = try await harness.open()
        do {
            try await body(try await StoreFixture.make(harness: harness, store: store))
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}

/// What a check works with: the store, the harness behind it, and alice's key.
public struct StoreFixture: Sendable {
    public let harness: any StoreHarness
    public let store: any TokenDatabase
    public let cipher: TokenCipher
    /// alice's `openid` key with the client `app`.
    public let key: TokenKey

    static func make(harness: any StoreHarness, store: any TokenDatabase) async throws -> StoreFixture {
        try await Fixtures.registerClient(in: store, id: "app")
        try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
        return StoreFixture(
            harness: harness, store: store, cipher: try TokenCipher(keyBytes: Array(repeating: 1, count: 32)),
            key: TokenKey(clientID: "app", subject: .user("alice"), scope: try ScopeSet(parsing: "openid")))
    }

    /// A user's new pair, issued at `now`.
    public func newPair(at now: EpochMilliseconds = 1000) throws -> NewTokenPair {
        NewTokenPair(
            grantType: .password, access: try cipher.seal(TokenCipher.newToken()), issuedAt: now,
            accessExpiresAt: now + 3_600_000, refresh: try cipher.seal(TokenCipher.newToken()),
            refreshExpiresAt: now + 86_400_000)
    }

    /// Issues `pair` for alice's key, retiring an ACTIVE pair as `retiring`.
    @discardableResult
    public func issue(_ pair: NewTokenPair, retiring: TokenState = .expired) async throws -> StoredToken {
        try await store.issue(pair, for: key) { _ in .issue(retiring: retiring, refresh: .issueNew(retiring: retiring)) }
    }

    public func count(_ sql: String) async throws -> Int {
        try await harness.count(sql)
    }
}
