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
/// checks, and no more slow hashes than that. A check that finds every slot taken
/// by checks still running waits for one of them: a success frees its slot for
/// the next, a failure keeps it, and at the limit every waiting check is refused.
/// So a burst of good credentials is only queued, never refused, and a burst of
/// bad ones is refused once the limit's number of them have failed (README,
/// "Abuse resistance").
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
        /// Checks waiting for a slot, first come first served.
        var waiting: [Waiter] = []

        var isIdle: Bool { inFlight.clientAuthentications == 0 && inFlight.logins == 0 && waiting.isEmpty }

        /// Starts a new window, its failures forgotten, when the current one has ended.
        mutating func renewWindow(at now: EpochMilliseconds) {
            guard now - windowStartedAt >= SourceFailureLimiter.window else { return }
            windowStartedAt = now
            failures = Tally()
        }
    }

    private struct Waiter {
        var failure: Failure
        var continuation: CheckedContinuation<Void, Never>
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

    /// Takes a slot for one check of `failure`'s kind. When the failures of this
    /// window and the checks in flight fill the limit, waits for a check in
    /// flight to settle; throws the 429 once the failures alone reach it.
    public func reserve(_ failure: Failure, from source: String) async throws(OAuthError) -> Reservation {
        guard limit(of: failure) > 0 else { return Reservation(source: source, failure: failure, counted: false) }
        while true {
            var answer = Answer.wait
            // Decides under the lock and, when it must wait, queues the continuation
            // in the same critical section, so no settle can slip in between.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                answer = decide(failure, from: source, waking: continuation)
                if case .wait = answer { return }
                continuation.resume()
            }
            switch answer {
            case .refused(let retryAfter): throw Self.refusal(retryAfterMilliseconds: retryAfter)
            case .reserved: return Reservation(source: source, failure: failure, counted: true)
            case .untracked: return Reservation(source: source, failure: failure, counted: false)
            case .wait: continue
            }
        }
    }

    /// Gives the slot back; a failed check stays counted in the window.
    public func settle(_ reservation: Reservation, failed: Bool) {
        guard reservation.counted else {
            if failed { record(reservation.failure, from: reservation.source) }
            return
        }
        let now = clock.now()
        let woken = sources.withLock { sources -> [Waiter] in
            guard var state = sources[reservation.source] else { return [] }
            state.inFlight[reservation.failure] = max(0, state.inFlight[reservation.failure] - 1)
            state.renewWindow(at: now)
            if failed { state.failures[reservation.failure] += 1 }
            let woken = wakeable(&state)
            // A source with nothing in flight or waiting and no failure is
            // forgotten: only failing sources stay in the table.
            let forget = state.isIdle && state.failures.clientAuthentications == 0 && state.failures.logins == 0
            sources[reservation.source] = forget ? nil : state
            return woken
        }
        for waiter in woken { waiter.continuation.resume() }
    }

    /// Counts a failure that ran no reserved check (a malformed or missing
    /// credential: nothing slow was started for it).
    public func record(_ failure: Failure, from source: String) {
        guard limit(of: failure) > 0 else { return }
        let now = clock.now()
        let woken = sources.withLock { sources -> [Waiter] in
            guard var state = current(sources, source, now: now) ?? admitNew(&sources, now: now) else { return [] }
            state.failures[failure] += 1
            let woken = wakeable(&state)
            sources[source] = state
            return woken
        }
        for waiter in woken { waiter.continuation.resume() }
    }

    // MARK: Private

    private enum Answer {
        case reserved, untracked, wait
        case refused(retryAfter: EpochMilliseconds)
    }

    /// Under the lock: a slot, a refusal, or a place in the queue for `continuation`.
    private func decide(
        _ failure: Failure, from source: String, waking continuation: CheckedContinuation<Void, Never>
    ) -> Answer {
        let now = clock.now()
        return sources.withLock { sources in
            guard var state = current(sources, source, now: now) ?? admitNew(&sources, now: now) else {
                return .untracked
            }
            defer { sources[source] = state }
            if isAtLimit(failure, count: state.failures[failure]) {
                return .refused(retryAfter: state.windowStartedAt + Self.window - now)
            }
            if isAtLimit(failure, count: state.failures[failure] + state.inFlight[failure]) {
                state.waiting.append(Waiter(failure: failure, continuation: continuation))
                return .wait
            }
            state.inFlight[failure] += 1
            return .reserved
        }
    }

    /// Takes out of the queue the waiters that can go on now: every one of a kind
    /// whose failures reached the limit (to be refused), and as many of the others
    /// as there are free slots (to take them). Resume them after the lock.
    private func wakeable(_ state: inout Source) -> [Waiter] {
        guard !state.waiting.isEmpty else { return [] }
        var free: [Failure: Int] = [:]
        for failure in Failure.allCases {
            free[failure] =
                isAtLimit(failure, count: state.failures[failure])
                ? Int.max : max(0, limit(of: failure) - state.failures[failure] - state.inFlight[failure])
        }
        var woken: [Waiter] = []
        var staying: [Waiter] = []
        for waiter in state.waiting {
            if let slots = free[waiter.failure], slots > 0 {
                woken.append(waiter)
                free[waiter.failure] = slots == Int.max ? slots : slots - 1
            } else {
                staying.append(waiter)
            }
        }
        state.waiting = staying
        return woken
    }

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
