import Synchronization

/// An event counter shared by threads (shrinker entries, operations, violations): relaxed atomic
/// adds, since only the totals matter.
public final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    /// A counter at zero.
    public init() {}

    /// Count `n` more events.
    public func add(_ n: Int = 1) { value.add(n, ordering: .relaxed) }

    /// The events counted so far.
    public var count: Int { value.load(ordering: .relaxed) }
}
