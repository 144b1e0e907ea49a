import CoreMetrics
import Synchronization
import TokenAuthority

/// Answers of one kind of lookup, kept while nobody commits to the database
/// (docs/storage.md, "Reads answered from memory").
///
/// Every answer is tagged with the wal-index header as it stood *before* its read began,
/// and served again only while the header is still that one: no commit since, by this
/// process or any other, so the database would answer the same. The first look that finds
/// the header moved drops every answer at once. So this never answers what a read at that
/// moment would not; it decides nothing either (the writes decide again inside their
/// transactions, under the schema's constraints).
///
/// Keys must compare as SQLite compares what they stand for: as bytes (`TokenKey` does).
final class UnchangedDatabaseCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        /// `nil` once closed, or when the database has no wal-index to look at.
        var header: WALIndexHeader?
        var version: WALIndexHeader.Version?
        var answers: [Key: Value] = [:]
    }

    private let state: Mutex<State>
    private let capacity: Int
    private let counters: LookupCounters

    /// - Parameters:
    ///   - capacity: the answers kept at most; when full, they are all dropped.
    ///   - counters: where each lookup was answered, for `/metrics`.
    init(header: WALIndexHeader?, capacity: Int, counters: LookupCounters) {
        state = Mutex(State(header: header))
        self.capacity = capacity
        self.counters = counters
    }

    /// Whether answers can be kept at all: the database has a wal-index to look at.
    var isEnabled: Bool { state.withLock { $0.header != nil } }

    /// The answer for `key`: the one kept, if no commit came after it was read, else
    /// `read`'s, kept for next time.
    func value(for key: Key, read: () async throws -> Value) async throws -> Value {
        let (kept, version) = state.withLock { state -> (Value?, WALIndexHeader.Version?) in
            guard let version = state.header?.version() else { return (nil, nil) }
            if version != state.version {
                state.answers.removeAll(keepingCapacity: true)
                state.version = version
            }
            return (state.answers[key], version)
        }
        if let kept {
            counters.memory.increment()
            return kept
        }
        counters.database.increment()
        let value = try await read()
        if let version {
            // The read began after `version` was seen, so it saw at least that; if the
            // header has moved on since, a later look drops this with the rest.
            state.withLock { state in
                guard state.version == version, state.header != nil else { return }
                if state.answers.count >= capacity { state.answers.removeAll(keepingCapacity: true) }
                state.answers[key] = value
            }
        }
        return value
    }

    /// Drops every answer and keeps none from now on: the database is closing, and the
    /// wal-index may go with it.
    func close() {
        state.withLock { state in
            state.header = nil
            state.answers.removeAll()
        }
    }
}

/// `token_authority_token_lookups_total` (README, "Metrics: `GET /metrics`"): one cache's
/// lookups, by whether they were answered from memory or read from the database. Counters of
/// the same lookup made twice (another store in this process) are the same series.
struct LookupCounters: Sendable {
    enum Lookup: String, CaseIterable {
        /// A key's ACTIVE token: every reuse reads it.
        case activeToken = "active_token"
        /// A presented token found by its lookup key: introspection, revocation, `/oauth2/userinfo`.
        case presentedToken = "presented_token"
    }

    static let label = "token_authority_token_lookups_total"
    let memory: Counter
    let database: Counter

    init(_ lookup: Lookup, factory: any MetricsFactory = MetricsSystem.factory) {
        func counter(answeredFrom: String) -> Counter {
            Counter(
                label: Self.label, dimensions: [("lookup", lookup.rawValue), ("answered_from", answeredFrom)],
                factory: factory)
        }
        memory = counter(answeredFrom: "memory")
        database = counter(answeredFrom: "database")
    }
}

/// A token's lookup key (docs/storage.md, "Secrets at rest") and the table it is looked up in.
struct TokenDigestKey: Hashable, Sendable {
    var kind: TokenKind
    var digest: [UInt8]
}
