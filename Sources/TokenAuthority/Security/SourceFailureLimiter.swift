import Synchronization

/// `[security.source_limits]`: failed client authentications and failed logins
/// counted per source address in one-minute windows. A source at either limit
/// gets 429 on the OAuth endpoints until its window ends, before any credential
/// is checked, so guessing costs the server nothing more. Successes are never
/// counted: a well-behaved client is never throttled.
///
/// The limit holds under concurrency: a check takes a slot **before** it runs
/// (`reserve`) and gives it back or turns it into a failure when it has run
/// (`settle`). Checks in flight count as failures-to-be, so a burst of
/// simultaneous requests from one address starts at most the limit's number of
/// checks, and no more slow hashes than that (README, "Abuse resistance").
///
/// Per process, like `ClientRateLimiter`. At most `maximumSources` addresses are
/// tracked; past that, expired windows are dropped first, and a new address is
/// let through untracked rather than evicting one being limited.
public final class SourceFailureLimiter: Sendable {
    public enum Failure: Sendable, CaseIterable {
        case clientAuthentication
        case login
    }

    /// A slot taken by `reserve`; `settle` it exactly once.
    public struct Reservation: Sendable {
        let source: String
        let failure: Failure
        /// False when the address was not tracked (the table was full) or the limit is off.
        let counted: Bool
    }

    private struct Tally {
        var clientAuthentications = 0
        var logins = 0

        subscript(failure: Failure) -> Int {
            get { failure == .clientAuthentication ? clientAuthentications : logins }
            set {
                if failure == .clientAuthentication { clientAuthentications = newValue } else { logins = newValue }
            }
        }
    }

    private struct Source {
        var windowStartedAt: EpochMilliseconds
        /// Failures in the current window.
        var failures = Tally()
        /// Checks running now; they outlive a window.
        var inFlight = Tally()

        var isIdle: Bool { inFlight.clientAuthentications == 0 && inFlight.logins == 0 }

        /// Starts a new window, its failures forgotten, when the current one has ended.
        mutating func renewWindow(at now: EpochMilliseconds) {
            guard now - windowStartedAt >= SourceFailureLimiter.window else { return }
            windowStartedAt = now
            failures = Tally()
        }
    }

    static let window: EpochMilliseconds = 60_000
    static let maximumSources = 100_000

    private let limits: SecuritySettings.SourceLimits
    private let clock: Clock
    private let sources = Mutex<[String: Source]>([:])

    /// `nil` when both limits are 0.
    public init?(limits: SecuritySettings.SourceLimits, clock: Clock) {
        guard limits.failedClientAuthenticationsPerMinute > 0 || limits.failedLoginsPerMinute > 0 else { return nil }
        self.limits = limits
        self.clock = clock
    }

    /// The 429 for a source that reached a limit in its current window; `nil` lets it through.
    public func refusal(for source: String) -> OAuthError? {
        let now = clock.now()
        let state = sources.withLock { $0[source] }
        guard let state, now - state.windowStartedAt < Self.window,
            Failure.allCases.contains(where: { isAtLimit($0, count: state.failures[$0]) })
        else { return nil }
        return Self.refusal(retryAfterMilliseconds: state.windowStartedAt + Self.window - now)
    }

    /// Takes a slot for one check of `failure`'s kind, or throws the 429 when the
    /// failures of this window and the checks in flight already reach the limit.
    public func reserve(_ failure: Failure, from source: String) throws(OAuthError) -> Reservation {
        guard limit(of: failure) > 0 else { return Reservation(source: source, failure: failure, counted: false) }
        let now = clock.now()
        enum Answer { case reserved, untracked, refused(retryAfter: EpochMilliseconds) }
        let answer: Answer = sources.withLock { sources in
            guard var state = current(sources, source, now: now) ?? admitNew(&sources, now: now) else { return .untracked }
            if isAtLimit(failure, count: state.failures[failure] + state.inFlight[failure]) {
                // At the limit by failures: until the window ends. By checks in flight: a moment.
                let byFailures = isAtLimit(failure, count: state.failures[failure])
                return .refused(retryAfter: byFailures ? state.windowStartedAt + Self.window - now : 1000)
            }
            state.inFlight[failure] += 1
            sources[source] = state
            return .reserved
        }
        switch answer {
        case .refused(let retryAfter): throw Self.refusal(retryAfterMilliseconds: retryAfter)
        case .reserved: return Reservation(source: source, failure: failure, counted: true)
        case .untracked: return Reservation(source: source, failure: failure, counted: false)
        }
    }

    /// Gives the slot back; a failed check stays counted in the window.
    public func settle(_ reservation: Reservation, failed: Bool) {
        guard reservation.counted else {
            if failed { record(reservation.failure, from: reservation.source) }
            return
        }
        let now = clock.now()
        sources.withLock { sources in
            guard var state = sources[reservation.source] else { return }
            state.inFlight[reservation.failure] = max(0, state.inFlight[reservation.failure] - 1)
            state.renewWindow(at: now)
            if failed { state.failures[reservation.failure] += 1 }
            // A source with nothing in flight and no failure is forgotten: only
            // failing sources stay in the table.
            let forget = state.isIdle && state.failures.clientAuthentications == 0 && state.failures.logins == 0
            sources[reservation.source] = forget ? nil : state
        }
    }

    /// Counts a failure that ran no reserved check (a malformed or missing
    /// credential: nothing slow was started for it).
    public func record(_ failure: Failure, from source: String) {
        guard limit(of: failure) > 0 else { return }
        let now = clock.now()
        sources.withLock { sources in
            guard var state = current(sources, source, now: now) ?? admitNew(&sources, now: now) else { return }
            state.failures[failure] += 1
            sources[source] = state
        }
    }

    // MARK: Private

    /// The source's state with its window renewed when it has ended.
    private func current(_ sources: [String: Source], _ source: String, now: EpochMilliseconds) -> Source? {
        guard var state = sources[source] else { return nil }
        state.renewWindow(at: now)
        return state
    }

    /// A fresh state for a new address, or `nil` when the table is full even
    /// after dropping every idle address whose window ended.
    private func admitNew(_ sources: inout [String: Source], now: EpochMilliseconds) -> Source? {
        if sources.count >= Self.maximumSources {
            sources = sources.filter { !$0.value.isIdle || now - $0.value.windowStartedAt < Self.window }
            guard sources.count < Self.maximumSources else { return nil }
        }
        return Source(windowStartedAt: now)
    }

    private func limit(of failure: Failure) -> Int {
        switch failure {
        case .clientAuthentication: limits.failedClientAuthenticationsPerMinute
        case .login: limits.failedLoginsPerMinute
        }
    }

    private func isAtLimit(_ failure: Failure, count: Int) -> Bool {
        let limit = limit(of: failure)
        return limit > 0 && count >= limit
    }

    private static func refusal(retryAfterMilliseconds: EpochMilliseconds) -> OAuthError {
        OAuthError.tooManyRequests(
            "Too many failed authentications from this address; retry later.",
            retryAfter: Int((retryAfterMilliseconds + 999) / 1000))
    }
}
