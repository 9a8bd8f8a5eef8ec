import Synchronization

/// A count shared by threads whose `add` and `subtract` are each one `lock xadd`.
///
/// Why: `Atomic<Int>.add` and `.subtract` trap on overflow, so they compile to a load and a
/// `lock cmpxchg` loop that retries while other threads write the line. The counts kept here
/// number objects that exist in memory (areas, frames), far below `Int.max`, so the wrapping
/// operations give up no check that could fire.
struct AtomicCount: ~Copyable, Sendable {
    private let value: Atomic<Int>

    /// A count starting at `initial`.
    init(_ initial: Int = 0) { value = Atomic(initial) }

    /// Count `n` more.
    @inline(__always)
    func add(_ n: Int, ordering: AtomicUpdateOrdering) {
        // `Atomic` wants its ordering as a literal: pass on the one asked for (folded away when
        // the caller's is a literal too).
        if ordering == .relaxed {
            value.wrappingAdd(n, ordering: .relaxed)
        } else if ordering == .releasing {
            value.wrappingAdd(n, ordering: .releasing)
        } else if ordering == .acquiring {
            value.wrappingAdd(n, ordering: .acquiring)
        } else if ordering == .acquiringAndReleasing {
            value.wrappingAdd(n, ordering: .acquiringAndReleasing)
        } else {
            value.wrappingAdd(n, ordering: .sequentiallyConsistent)
        }
    }

    /// Count `n` fewer.
    @inline(__always)
    func subtract(_ n: Int, ordering: AtomicUpdateOrdering) { add(0 &- n, ordering: ordering) }

    /// The count now.
    @inline(__always)
    func load(ordering: AtomicLoadOrdering) -> Int {
        if ordering == .relaxed { return value.load(ordering: .relaxed) }
        if ordering == .acquiring { return value.load(ordering: .acquiring) }
        return value.load(ordering: .sequentiallyConsistent)
    }
}
