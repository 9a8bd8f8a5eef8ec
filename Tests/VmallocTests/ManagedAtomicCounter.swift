import Synchronization

/// A counter threads can bump without a data race.
final class ManagedAtomicCounter: Sendable {
    private let v = Synchronization.Atomic<Int>(0)
    func increment() { v.add(1, ordering: .relaxed) }
    var value: Int { v.load(ordering: .relaxed) }
}
