import Synchronization
import TokenAuthority

/// A clock that moves only when a test moves it.
public final class ManualClock: Sendable {
    private let milliseconds: Mutex<EpochMilliseconds>

    /// Starts at 2026-01-01T00:00:00Z unless told otherwise.
    public init(at start: EpochMilliseconds = 1_767_225_600_000) {
        milliseconds = Mutex(start)
    }

    public var now: EpochMilliseconds { milliseconds.withLock { $0 } }

    public func advance(seconds: Double) {
        milliseconds.withLock { $0 += EpochMilliseconds(seconds * 1000) }
    }

    public var clock: Clock {
        Clock { [self] in now }
    }
}
