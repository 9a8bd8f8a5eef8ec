import CShim
import Synchronization

/// Gives freed memory back to the OS by itself (mm/page_reporting.c's delayed work, mimalloc's
/// purge delay): a thread that looks every quarter of the delay and, once frames were freed and
/// then `delay` passed with no further free, purges the lazily freed vmalloc areas (their frames
/// come back to the buddy lists) and punches every free block of 2 MiB or more out of the memfds
/// (`PageAllocator.reportFreePages`). Areas kept empty for reuse (the per-CPU allocator's
/// chunks) go only once kept long enough: while some wait, the thread passes again every
/// `delay`. The allocation and free paths add nothing: the thread only reads the free-event
/// counter they already bump.
///
/// The thread holds the page allocator, never the `MemorySystem`, so it cannot keep the system
/// alive; the system stops it in its `deinit`.
final class FreePageReporter: Sendable {
    private let allocator: PageAllocator
    private let delayNs: UInt64
    private let thread = AtomicLazyReference<KThread>()

    /// A reporter for `allocator`'s free blocks, once frees have paused for `delay`.
    init(allocator: PageAllocator, delay: Duration) {
        self.allocator = allocator
        delayNs = delay.nanoseconds
    }

    /// Start the thread.
    func start() {
        _ = thread.storeIfNil(KThread.run(name: "page_reporting") { [self] t in run(t) })
    }

    /// Stop the thread and wait until it has exited.
    func stop() { thread.load()?.stop() }

    /// The loop: look every quarter of the delay, report once frees have paused for the delay.
    private func run(_ t: KThread) {
        // Reporting frees nothing to anyone, but it runs reclaim-like work (a lazy purge): as
        // kswapd, it must never recurse into reclaim.
        vmshim_flags_set(vmshim_flags_get() | UInt32(VMSHIM_PF_MEMALLOC))
        var lastEvents = -1
        var quietTicks = 0
        var pending = false
        // Kept areas not yet kept long enough: another pass after another delay.
        var waiting = false
        let tick = max(delayNs / 4, 1_000_000)
        while !t.shouldStop {
            let seen = t.queue.sequence
            t.queue.wait(since: seen, timeoutNs: tick)
            guard !t.shouldStop else { return }
            let events = allocator.freeEvents.value
            if events != lastEvents {
                lastEvents = events
                quietTicks = 0
                pending = true
            } else if pending || waiting {
                quietTicks += 1
                if UInt64(quietTicks) * tick >= delayNs {
                    waiting = allocator.giveBackFreeMemory(afterPause: pending)
                    pending = false
                    quietTicks = 0
                    // Our own purge bumped the counter: that is not a new burst.
                    lastEvents = allocator.freeEvents.value
                }
            }
        }
    }
}
