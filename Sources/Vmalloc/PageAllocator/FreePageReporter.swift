import CShim
import Synchronization

/// Gives freed memory back to the OS by itself (mm/page_reporting.c's delayed work, mimalloc's
/// purge delay): a thread that looks every quarter of the delay and, once frames were freed and
/// then `delay` passed with no further free, purges the lazily freed vmalloc areas (their frames
/// come back to the buddy lists) and punches every free block of 2 MiB or more out of the memfds
/// (`MemorySystem.reportFreePages`). The allocation and free paths add nothing: the thread only
/// reads the free-event counter they already bump.
///
/// The thread holds the system weakly, so it never keeps it alive; the system stops it in its
/// `deinit`.
final class FreePageReporter: Sendable {
    private let delayNs: UInt64
    private let thread = AtomicLazyReference<KThread>()

    init(delay: Duration) {
        let (s, atto) = delay.components
        delayNs = UInt64(max(s, 0)) * 1_000_000_000 + UInt64(max(atto, 0) / 1_000_000_000)
    }

    /// Start the thread for `system`.
    func start(_ system: MemorySystem) {
        _ = thread.storeIfNil(KThread.run(name: "page_reporting") { [weak system, self] t in run(t) { system } })
    }

    /// Stop the thread and wait until it has exited; from the thread itself (it dropped the last
    /// reference to the system) it only asks.
    func stop() { thread.load()?.stop() }

    /// The loop; `system` reads the thread's weak reference.
    private func run(_ t: KThread, _ system: () -> MemorySystem?) {
        // Reporting frees nothing to anyone, but it runs reclaim-like work (a lazy purge): as
        // kswapd, it must never recurse into reclaim.
        vmshim_flags_set(vmshim_flags_get() | UInt32(VMSHIM_PF_MEMALLOC))
        var lastEvents = -1
        var quietTicks = 0
        var pending = false
        let tick = max(delayNs / 4, 1_000_000)
        while !t.shouldStop {
            let seen = t.queue.sequence
            t.queue.wait(since: seen, timeoutNs: tick)
            guard !t.shouldStop else { return }
            // A strong reference only for the length of one look.
            guard let system = system() else { return }
            let events = system.freeEventCount
            if events != lastEvents {
                lastEvents = events
                quietTicks = 0
                pending = true
            } else if pending {
                quietTicks += 1
                if UInt64(quietTicks) * tick >= delayNs {
                    pending = false
                    system.giveBackFreeMemory()
                    // Our own purge bumped the counter: that is not a new burst.
                    lastEvents = system.freeEventCount
                }
            }
        }
    }
}
