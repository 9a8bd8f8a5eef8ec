import Synchronization

/// An event counter shared by threads (vmstat items, slab frames per node, shrinker entries):
/// relaxed atomic adds, since only the totals matter. Each is one `lock xadd` (wrapping: an
/// event count cannot reach `Int.max`; the checked add is a `cmpxchg` loop that retries under
/// contention), and each counter has its cache line to itself, so threads bumping two
/// different counters never write one line.
package final class Counter: Sendable {
    private let padBefore = CacheLinePad()
    private let value = Atomic<Int>(0)
    private let padAfter = CacheLinePad()

    /// A counter at zero.
    package init() {}

    /// Count `n` more events.
    package func add(_ n: Int = 1) { value.wrappingAdd(n, ordering: .relaxed) }

    /// Take `n` back (frames a slab returned).
    package func subtract(_ n: Int) { value.wrappingSubtract(n, ordering: .relaxed) }

    /// The events counted so far.
    package var count: Int { value.load(ordering: .relaxed) }
}
