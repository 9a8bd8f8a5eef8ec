import CShim
import Synchronization

/// One node's background reclaim thread (mm/vmscan.c `kswapd`). The page allocator wakes it when
/// the node falls below the low watermark; it reclaims with `GFP_KERNEL` until the node is back
/// at the high watermark. That is how constrained (NOFS/NOIO) allocations get the caches they
/// may not touch themselves shrunk on their behalf.
///
/// The thread holds the node's zone and the reclaimer, never the `MemorySystem`, so it cannot
/// keep the system alive; the system stops it in its `deinit`.
final class Kswapd: Sendable {
    let node: Int
    private let zone: Zone
    private let reclaimer: Reclaimer
    private let stat: VMStat
    /// `pgdat->kswapd_wait`: where the thread sleeps, and where `stop` waits for it to exit.
    private let queue = WaitQueue()
    /// A wakeup not yet acted on.
    private let pending = Atomic<Bool>(false)
    /// In a balancing run now.
    private let balancing = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let exited = Atomic<Bool>(false)

    init(zone: Zone, reclaimer: Reclaimer, stat: VMStat) {
        node = zone.node
        self.zone = zone
        self.reclaimer = reclaimer
        self.stat = stat
    }

    /// Start the thread (`kswapd_run`).
    func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        KernelThread.run(name: "kswapd\(node)") { [self] in run() }
    }

    /// Ask for a balancing run (`wakeup_kswapd`); cheap when one is already pending.
    func wake() {
        guard started.load(ordering: .relaxed), !pending.exchange(true, ordering: .acquiringAndReleasing) else {
            return
        }
        stat.add(.kswapdWakeups)
        queue.wakeAll()
    }

    /// Whether kswapd is reclaiming for this node or about to: direct reclaimers that made no
    /// progress then wait for its frees rather than give up (`reclaim_throttle`).
    var isActive: Bool { pending.load(ordering: .relaxed) || balancing.load(ordering: .relaxed) }

    /// Stop the thread and wait until it has exited (`kswapd_stop`). From kswapd itself (a
    /// shrinker dropping the last reference to the system) it only asks.
    func stop() {
        guard started.load(ordering: .relaxed) else { return }
        stopping.store(true, ordering: .releasing)
        queue.wakeAll()
        guard vmshim_flags_get() & VMSHIM_PF_KSWAPD == 0 else { return }
        while true {
            let seen = queue.sequence
            if exited.load(ordering: .acquiring) { return }
            queue.wait(since: seen, timeoutNs: 100_000_000)
        }
    }

    private func run() {
        // kswapd is itself reclaim: PF_MEMALLOC for its whole life, and marked as kswapd.
        vmshim_flags_set(vmshim_flags_get() | UInt32(VMSHIM_PF_MEMALLOC) | VMSHIM_PF_KSWAPD)
        while !stopping.load(ordering: .acquiring) {
            let seen = queue.sequence
            if pending.exchange(false, ordering: .acquiringAndReleasing) {
                balance()
            } else {
                queue.wait(since: seen, timeoutNs: 1_000_000_000)
            }
        }
        exited.store(true, ordering: .releasing)
        queue.wakeAll()
    }

    /// `balance_pgdat`: reclaim as `GFP_KERNEL` until the high watermark, or until a pass frees
    /// nothing (then sleep until the next wakeup, as `kswapd_failures` makes the kernel do).
    private func balance() {
        balancing.store(true, ordering: .relaxed)
        defer { balancing.store(false, ordering: .relaxed) }
        while !stopping.load(ordering: .relaxed) {
            let free = zone.freeCount.load(ordering: .relaxed)
            guard free < zone.highPages else { return }
            stat.add(.kswapdPasses)
            let freed = reclaimer.shrink(gfp: .kernel, node: node, target: zone.highPages - free)
            stat.add(.pgstealKswapd, freed)
            guard freed > 0 else { return }
        }
    }
}
