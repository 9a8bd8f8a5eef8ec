import Synchronization

/// An event counter shared by threads (vmstat items, slab frames per node, shrinker entries):
/// relaxed atomic adds, since only the totals matter.
package final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    /// A counter at zero.
    package init() {}

    /// Count `n` more events.
    package func add(_ n: Int = 1) { value.add(n, ordering: .relaxed) }

    /// Take `n` back (frames a slab returned).
    package func subtract(_ n: Int) { value.subtract(n, ordering: .relaxed) }

    /// The events counted so far.
    package var count: Int { value.load(ordering: .relaxed) }
}
