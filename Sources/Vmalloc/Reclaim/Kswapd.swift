import CShim
import Synchronization

/// One node's background reclaim thread (mm/vmscan.c `kswapd`). The page allocator wakes it when
/// the node falls below the low watermark; it reclaims with `GFP_KERNEL` until the node is back
/// at the high watermark. That is how constrained (NOFS/NOIO) allocations get the caches they
/// may not touch themselves shrunk on their behalf.
///
/// The thread holds the node's zone and, while it runs, the reclaimer; never the `MemorySystem`,
/// so it cannot keep the system alive. The system stops it in its `deinit`.
final class Kswapd: Sendable {
    let node: Int
    private let zone: Zone
    private let stat: VMStat
    /// The thread, once started; it sleeps on its queue (`pgdat->kswapd_wait`).
    private let thread = AtomicLazyReference<KThread>()
    /// A wakeup not yet acted on.
    private let pending = Atomic<Bool>(false)
    /// In a balancing run now.
    private let balancing = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    /// The kswapd of `zone`'s node, counting its events in `stat`.
    init(zone: Zone, stat: VMStat) {
        node = zone.node
        self.zone = zone
        self.stat = stat
    }

    /// Start the thread (`kswapd_run`); its passes go through `reclaimer`, which the thread
    /// holds until it exits. The reclaimer owns this kswapd, so it is not stored: that would be
    /// a cycle that outlives the system.
    func start(_ reclaimer: Reclaimer) {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        _ = thread.storeIfNil(KThread.run(name: "kswapd\(node)") { [self] t in run(t, reclaimer) })
    }

    /// Ask for a balancing run (`wakeup_kswapd`); cheap when one is already pending.
    func wake() {
        guard let t = thread.load(), !pending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        stat.add(.kswapdWakeups)
        t.queue.wakeAll()
    }

    /// Whether kswapd is reclaiming for this node or about to: direct reclaimers that made no
    /// progress then wait for its frees rather than give up (`reclaim_throttle`).
    var isActive: Bool { pending.load(ordering: .relaxed) || balancing.load(ordering: .relaxed) }

    /// Stop the thread and wait until it has exited (`kswapd_stop`). From kswapd itself (a
    /// shrinker dropping the last reference to the system) it only asks.
    func stop() { thread.load()?.stop() }

    private func run(_ t: KThread, _ reclaimer: Reclaimer) {
        // kswapd is itself reclaim: PF_MEMALLOC for its whole life, and marked as kswapd.
        vmshim_flags_set(vmshim_flags_get() | UInt32(VMSHIM_PF_MEMALLOC) | UInt32(VMSHIM_PF_KSWAPD))
        while !t.shouldStop {
            let seen = t.queue.sequence
            if pending.exchange(false, ordering: .acquiringAndReleasing) {
                balance(t, reclaimer)
            } else {
                t.queue.wait(since: seen, timeoutNs: 1_000_000_000)
            }
        }
    }

    /// `balance_pgdat`: reclaim as `GFP_KERNEL` until the high watermark, or until a pass frees
    /// nothing (then sleep until the next wakeup, as `kswapd_failures` makes the kernel do).
    private func balance(_ t: KThread, _ reclaimer: Reclaimer) {
        balancing.store(true, ordering: .relaxed)
        defer { balancing.store(false, ordering: .relaxed) }
        while !t.shouldStop {
            let free = zone.freeCount.load(ordering: .relaxed)
            guard free < zone.highPages else { return }
            stat.add(.kswapdPasses)
            let freed = reclaimer.shrink(gfp: .kernel, node: node, target: zone.highPages - free)
            stat.add(.pgstealKswapd, freed)
            guard freed > 0 else { return }
        }
    }
}
