import Synchronization

/// Where one request's credential checks ask `[security.source_limits]` for a
/// slot before they run: the HTTP layer binds a gate to the request's source
/// address for the duration of the request (`$current.withValue`), and
/// `ClientAuthenticator` and `UserAuthenticator` check through it. Every path to
/// a secret or password check goes through one of those two, so none can start
/// a check, and no slow hash, past the limit (README, "Abuse resistance").
public final class CredentialCheckGate: Sendable {
    /// The gate of the request being handled; `nil` where no limit applies
    /// (limits off, a Unix socket, the command line, in-process tests).
    @TaskLocal public static var current: CredentialCheckGate?

    private let limiter: SourceFailureLimiter
    private let source: String
    private let countedAFailure = Mutex(false)

    public init(limiter: SourceFailureLimiter, source: String) {
        self.limiter = limiter
        self.source = source
    }

    /// Runs `check` in a reserved slot of `kind`, or throws 429 without running
    /// it. A `nil` or `false` result counts as a failure; a thrown error (the
    /// database unavailable, say) gives the slot back uncounted.
    public static func run<Result>(
        _ kind: SourceFailureLimiter.Failure, _ check: () async throws -> Result, failed: (Result) -> Bool
    ) async throws -> Result {
        guard let gate = current else { return try await check() }
        let reservation = try await gate.limiter.reserve(kind, from: gate.source)
        let result: Result
        do {
            result = try await check()
        } catch {
            gate.limiter.settle(reservation, failed: false)
            throw error
        }
        let failure = failed(result)
        gate.limiter.settle(reservation, failed: failure)
        if failure { gate.countedAFailure.withLock { $0 = true } }
        return result
    }

    /// Counts a failure of `kind` for a request whose checks counted none: one
    /// refused as `invalid_client` for malformed or missing credentials.
    public func recordUnlessCounted(_ kind: SourceFailureLimiter.Failure) {
        guard !countedAFailure.withLock({ $0 }) else { return }
        limiter.record(kind, from: source)
    }
}
