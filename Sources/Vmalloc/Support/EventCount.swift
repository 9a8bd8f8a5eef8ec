import Synchronization

/// A count of events that threads can sleep on until it moves (an eventcount: the kernel's
/// `wait_event` on a counter, woken by `wake_up_all`). The page allocator counts frees with
/// it, and an allocation that waits for freed frames sleeps on it.
///
/// A signal while nobody sleeps is one `lock xadd` and a load, because every frame free
/// signals: the sleeper announces itself in `sleepers` before it re-reads the count, and the
/// signaller counts before it reads `sleepers`, all four sequentially consistent, so either
/// the sleeper sees the new count or the signaller sees the sleeper and wakes the queue
/// (Dekker's pattern); a wake-up is never lost. The fields sit between cache-line pads: every
/// free on every thread writes the count, and that line must not carry fields that
/// allocations only read.
final class EventCount: Sendable {
    private let padBefore = CacheLinePad()
    private let count = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let queue = WaitQueue()
    private let padAfter = CacheLinePad()

    /// A count at zero with nobody asleep.
    init() {}

    /// The events counted so far; pass it to `wait(since:timeoutNs:)`. Sequentially consistent
    /// (on x86 a plain `mov`), as every access to the count is.
    var value: Int { count.load(ordering: .sequentiallyConsistent) }

    /// Count one event and wake every sleeper; no syscall when nobody sleeps.
    @inline(__always)
    func signal() {
        count.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) != 0 { queue.wakeAll() }
    }

    /// Sleep until the count differs from `seen`, or `timeoutNs` passes.
    func wait(since seen: Int, timeoutNs: UInt64) {
        sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
        // The queue's sequence is read before the count: a signal that the count check misses
        // comes after it, sees this sleeper and moves the sequence, so the wait returns.
        let sequence = queue.sequence
        if count.load(ordering: .sequentiallyConsistent) == seen { queue.wait(since: sequence, timeoutNs: timeoutNs) }
        sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }
}
