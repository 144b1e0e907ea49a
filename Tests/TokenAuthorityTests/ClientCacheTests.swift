import Synchronization
import Testing
import TokenAuthority

/// docs/storage.md, "Clients in memory": clients kept in memory, dropped when
/// the database's client version moves. The stores' side (the version row and
/// its triggers) is in the conformance suite; the server's, across processes,
/// in the end-to-end tests.
@Suite("Client cache")
struct ClientCacheTests {
    @Test("Within the recheck interval a known client is served from memory; the version is read once")
    func servesFromMemory() async throws {
        let store = CountingClientStore(clients: [client("app")])
        let cache = ClientCache(store: store, recheckInterval: .seconds(3600))
        for _ in 0..<5 { #expect(try await cache.client(id: "app")?.clientID == "app") }
        #expect(store.reads == ["version", "app"])
    }

    @Test("Once the interval has passed the version is read again, and a moved version drops every copy")
    func movedVersionDropsCopies() async throws {
        let store = CountingClientStore(clients: [client("app")])
        let cache = ClientCache(store: store, recheckInterval: .zero)
        _ = try await cache.client(id: "app")
        _ = try await cache.client(id: "app")
        #expect(store.reads == ["version", "app", "version"])

        // Another process replaces the client's secret
        store.replace(client("app", secretByte: 2))
        #expect(try await cache.client(id: "app")?.secretDigest == Array(repeating: 2, count: 32))
        #expect(store.reads.suffix(2) == ["version", "app"])
    }

    @Test("Unknown ids are not cached: each lookup asks the store")
    func unknownIDsAreNotCached() async throws {
        let store = CountingClientStore(clients: [])
        let cache = ClientCache(store: store, recheckInterval: .seconds(3600))
        for _ in 0..<3 { #expect(try await cache.client(id: "nobody") == nil) }
        #expect(store.reads == ["version", "nobody", "nobody", "nobody"])
    }

    @Test("Ids compare as bytes: a canonically equivalent spelling is another client")
    func idsCompareAsBytes() async throws {
        let composed = "caf\u{E9}"  // é as one scalar
        let decomposed = "cafe\u{301}"  // e + combining acute: == composed for Swift's String
        #expect(composed == decomposed)
        let store = CountingClientStore(clients: [client(composed)])
        let cache = ClientCache(store: store, recheckInterval: .seconds(3600))
        #expect(try await cache.client(id: composed) != nil)
        #expect(try await cache.client(id: decomposed) == nil)
    }

    @Test("A version that cannot be read fails the lookup and drops the copies")
    func unreadableVersionDropsCopies() async throws {
        let store = CountingClientStore(clients: [client("app")])
        let cache = ClientCache(store: store, recheckInterval: .zero)
        _ = try await cache.client(id: "app")
        store.failVersion = true
        await #expect(throws: VersionUnreadable.self) { try await cache.client(id: "app") }
        store.failVersion = false
        _ = try await cache.client(id: "app")
        #expect(store.reads.suffix(2) == ["version", "app"])
    }

    @Test("Changes made through the cache take effect at once")
    func ownChangesAtOnce() async throws {
        let store = CountingClientStore(clients: [client("app")])
        let cache = ClientCache(store: store, recheckInterval: .seconds(3600))
        _ = try await cache.client(id: "app")
        #expect(try await cache.deleteClient(id: "app"))
        #expect(try await cache.client(id: "app") == nil)
    }

    @Test("A change the store announces drops the copies at once, whatever the interval")
    func announcedChangeDropsCopies() async throws {
        let store = CountingClientStore(clients: [client("app")])
        let cache = ClientCache(store: store, recheckInterval: .seconds(3600))
        _ = try await cache.client(id: "app")
        let (heard, hear) = AsyncStream.makeStream(of: Void.self)
        let following = Task { await cache.followClientChanges { hear.yield() } }
        defer { following.cancel() }

        // Another process replaces the client's secret, and the store is told (PostgreSQL's NOTIFY)
        store.replace(client("app", secretByte: 2))
        store.announceChange()
        var told = heard.makeAsyncIterator()
        _ = await told.next()

        #expect(try await cache.client(id: "app")?.secretDigest == Array(repeating: 2, count: 32))
        #expect(store.reads.suffix(2) == ["version", "app"])
    }

    private func client(_ id: String, secretByte: UInt8 = 1) -> Client {
        Client(
            clientID: id, name: id, secretDigest: Array(repeating: secretByte, count: 32),
            grantTypes: [.clientCredentials], scopes: nil, tokenFormat: .opaque, mayIntrospect: false, createdAt: 0)
    }
}

private struct VersionUnreadable: Error {}

/// A client store that records what it was asked ("version", or the id looked up)
/// and moves its version with every change, as the databases' triggers do.
private final class CountingClientStore: ClientStore {
    private struct State {
        var clients: [[UInt8]: Client]
        var version: Int64 = 1
        var reads: [String] = []
        var failVersion = false
    }

    private let state: Mutex<State>
    private let (announcements, announcer) = AsyncStream.makeStream(of: Void.self)

    init(clients: [Client]) {
        state = Mutex(State(clients: Dictionary(uniqueKeysWithValues: clients.map { (Array($0.clientID.utf8), $0) })))
    }

    var reads: [String] { state.withLock { $0.reads } }

    var failVersion: Bool {
        get { state.withLock { $0.failVersion } }
        set { state.withLock { $0.failVersion = newValue } }
    }

    func replace(_ client: Client) {
        state.withLock {
            $0.clients[Array(client.clientID.utf8)] = client
            $0.version += 1
        }
    }

    func client(id: String) async throws -> Client? {
        state.withLock {
            $0.reads.append(id)
            return $0.clients[Array(id.utf8)]
        }
    }

    /// Tells whoever follows the changes, as PostgreSQL's NOTIFY does.
    func announceChange() { announcer.yield() }

    func followClientChanges(_ changed: @escaping @Sendable () -> Void) async {
        for await _ in announcements { changed() }
    }

    func createClient(_ client: Client) async throws { replace(client) }

    func clients() async throws -> [Client] { state.withLock { Array($0.clients.values) } }

    func deleteClient(id: String) async throws -> Bool {
        state.withLock {
            $0.version += 1
            return $0.clients.removeValue(forKey: Array(id.utf8)) != nil
        }
    }

    func clientsVersion() async throws -> Int64 {
        try state.withLock {
            $0.reads.append("version")
            if $0.failVersion { throw VersionUnreadable() }
            return $0.version
        }
    }
}
