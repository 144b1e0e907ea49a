import Synchronization

/// A counter shared between tasks, for round-robin choices.
final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    func increment() -> Int {
        value.add(1, ordering: .relaxed).oldValue & Int.max
    }
}
