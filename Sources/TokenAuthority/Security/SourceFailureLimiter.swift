import Synchronization

/// `[security.source_limits]`: failed client authentications and failed logins
/// counted per source address in one-minute windows. A source at either limit
/// gets 429 on the OAuth endpoints until its window ends, before any credential
/// is checked, so guessing costs the server nothing more. Successes are never
/// counted: a well-behaved client is never throttled.
///
/// Per process, like `ClientRateLimiter`. At most `maximumSources` addresses are
/// tracked; past that, expired windows are dropped first, and a new address is
/// let through untracked rather than evicting one being limited.
public final class SourceFailureLimiter: Sendable {
    public enum Failure: Sendable {
        case clientAuthentication
        case login
    }

    private struct Window {
        var startedAt: EpochMilliseconds
        var clientAuthentications = 0
        var logins = 0
    }

    static let window: EpochMilliseconds = 60_000
    static let maximumSources = 100_000

    private let limits: SecuritySettings.SourceLimits
    private let clock: Clock
    private let windows = Mutex<[String: Window]>([:])

    /// `nil` when both limits are 0.
    public init?(limits: SecuritySettings.SourceLimits, clock: Clock) {
        guard limits.failedClientAuthenticationsPerMinute > 0 || limits.failedLoginsPerMinute > 0 else { return nil }
        self.limits = limits
        self.clock = clock
    }

    /// The 429 for a source that reached a limit in its current window; `nil` lets it through.
    public func refusal(for source: String) -> OAuthError? {
        let now = clock.now()
        let window = windows.withLock { $0[source] }
        guard let window, now - window.startedAt < Self.window, isOverLimit(window) else { return nil }
        let seconds = Int(((window.startedAt + Self.window - now) + 999) / 1000)
        return OAuthError.tooManyRequests(
            "Too many failed authentications from this address; retry later.", retryAfter: seconds)
    }

    public func record(_ failure: Failure, from source: String) {
        let now = clock.now()
        windows.withLock { windows in
            var window = windows[source].flatMap { now - $0.startedAt < Self.window ? $0 : nil } ?? Window(startedAt: now)
            switch failure {
            case .clientAuthentication: window.clientAuthentications += 1
            case .login: window.logins += 1
            }
            if windows[source] == nil, windows.count >= Self.maximumSources {
                windows = windows.filter { now - $0.value.startedAt < Self.window }
                guard windows.count < Self.maximumSources else { return }
            }
            windows[source] = window
        }
    }

    private func isOverLimit(_ window: Window) -> Bool {
        let clientLimit = limits.failedClientAuthenticationsPerMinute
        let loginLimit = limits.failedLoginsPerMinute
        return (clientLimit > 0 && window.clientAuthentications >= clientLimit)
            || (loginLimit > 0 && window.logins >= loginLimit)
    }
}
