import Synchronization
import TokenAuthority

/// The scopes the metadata documents name (`scopes_supported`): the registered clients'
/// scope lists and the `allowed_scopes` entries that are plain scope names rather than
/// patterns. Not exhaustive, as RFC 8414 §2 allows: a client without a scope list may be
/// granted any scope.
///
/// The endpoints are public, so the list is not read from every client for every request:
/// it is kept with the client version it was read under (docs/storage.md, "Clients in
/// memory") and read again when that moved, whichever process changed a client.
final class KnownScopes: Sendable {
    private let clients: any ClientStore
    private let allowedScopes: [String]
    private let kept = Mutex<(version: Int64, scopes: [String])?>(nil)

    init(clients: any ClientStore, allowedScopes: [String]) {
        self.clients = clients
        self.allowedScopes = allowedScopes
    }

    func scopes() async throws -> [String] {
        // The version before the list: a change in between only makes the next call read again.
        let version = try await clients.clientsVersion()
        if let kept = kept.withLock({ $0 }), kept.version == version { return kept.scopes }
        var scopes = Set(try await clients.clients().flatMap { $0.scopes ?? [] })
        for pattern in allowedScopes where pattern.allSatisfy({ $0.isLetter || $0.isNumber || "_-:".contains($0) }) {
            scopes.insert(pattern)
        }
        let sorted = scopes.sorted()
        kept.withLock { $0 = (version, sorted) }
        return sorted
    }
}
