import Foundation

/// Milliseconds since the Unix epoch: the unit every stored time uses.
public typealias EpochMilliseconds = Int64

/// The source of "now". A test seam: tests pass a clock they move by hand.
public struct Clock: Sendable {
    public var now: @Sendable () -> EpochMilliseconds

    public init(now: @escaping @Sendable () -> EpochMilliseconds) {
        self.now = now
    }

    public static let system = Clock {
        EpochMilliseconds((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
