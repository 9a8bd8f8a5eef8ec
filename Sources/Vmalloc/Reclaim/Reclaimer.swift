import CShim
import Synchronization

// Lock order: `sources` and `shrinkers` are each held only to copy the list, never together and
// never while a source or shrinker runs; shrinker callbacks and sources take their own locks
// (shard, zone) with none of ours held.

/// Reclaim (mm/vmscan.c, mm/shrinker.c): the registered shrinkers and internal sources, the
/// pass that asks them for frames on behalf of direct reclaim or kswapd, and one kswapd per
/// node. A pass runs under the noreclaim scope (`PF_MEMALLOC`), so allocations made while
/// reclaiming never recurse into reclaim and may use the reserves below the min watermark.
///
/// The page allocator reaches it through `PageReclaimer`, the protocol it owns: the system
/// builds the reclaimer over the allocator's zones and hands it over.
final class Reclaimer: Sendable {
    /// `DEF_PRIORITY`: a pass first scans 1/4096 of each cache, then twice as much per round.
    static let defPriority = 12
    /// `SWAP_CLUSTER_MAX`: frames a direct-reclaim pass tries to free before it stops.
    static let clusterMax = 32

    private static let nextID = Atomic<Int>(1)

    /// Which system this is, for the fs_reclaim checker's records.
    let id: Int
    let stat: VMStat
    let log: Printk
    private let sources = Lock<[WeakReference<any ReclaimSource>]>([])
    private let shrinkers = Lock<[ShrinkerEntry]>([])
    /// Woken when a shrinker call returns, for `unregister` waiting out calls in flight.
    private let callsDone = WaitQueue()
    /// One background reclaimer per node, indexed by node; started by `startKswapd`.
    let kswapd: [Kswapd]

    /// Reclaim for the nodes of `zones`, counting its events in `stat` and warning through `log`.
    init(zones: [Zone], stat: VMStat, log: Printk) {
        id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.stat = stat
        self.log = log
        kswapd = zones.map { Kswapd(zone: $0, stat: stat) }
    }

    /// The fs_reclaim checker's records of this system go with it.
    deinit { ReclaimLockdep.shared.forget(system: id) }

    /// Start every node's kswapd thread (`kswapd_run`). Each thread holds this reclaimer until it
    /// is stopped.
    func startKswapd() {
        for k in kswapd { k.start(self) }
    }

    /// Stop every kswapd thread and wait until each has exited (`kswapd_stop`); a kswapd thread
    /// only asks itself to stop.
    func stopKswapd() {
        for k in kswapd { k.stop() }
    }

    /// Ask `source` first on every pass, for as long as it lives (it is held weakly).
    func addSource(_ source: any ReclaimSource) {
        sources.withLock { $0.append(WeakReference(source)) }
    }

    /// Register a shrinker's callbacks (`shrinker_alloc` + `shrinker_register`): passes call them
    /// until the handle unregisters. A negative `seeks` counts as 0.
    func register(
        name: String, requires: GFP, seeks: Int,
        count: @escaping ShrinkerEntry.Count, scan: @escaping ShrinkerEntry.Scan
    ) -> ShrinkerHandle {
        let entry = ShrinkerEntry(name: name, requires: requires, seeks: max(seeks, 0), count: count, scan: scan)
        ReclaimLockdep.shared.register(
            shrinker: entry.id, name: entry.name, requires: entry.requires, system: id, log: log, stat: stat)
        shrinkers.withLock { $0.append(entry) }
        return ShrinkerHandle(entry: entry, reclaimer: self)
    }

    func unregister(_ entry: ShrinkerEntry) {
        guard entry.registered.exchange(false, ordering: .acquiringAndReleasing) else { return }
        shrinkers.withLock { $0.removeAll { $0 === entry } }
        ReclaimLockdep.shared.unregister(shrinker: entry.id)
        // A shrinker that unregisters itself from its own callback must not wait for itself.
        guard vmshim_reclaim_context() >> 32 != UInt64(entry.id) else { return }
        while true {
            let seen = callsDone.sequence
            if entry.inFlight.load(ordering: .acquiring) == 0 { return }
            callsDone.wait(since: seen, timeoutNs: 10_000_000)
        }
    }

    /// What the fs_reclaim checker reported for this system, oldest first.
    var lockdepReports: [LockdepReport] { ReclaimLockdep.shared.reports(system: id) }

    /// Free up to `target` frames for `node` with effective mask `gfp` (`do_try_to_free_pages`):
    /// internal sources first, then the eligible shrinkers at falling priority until the target
    /// is met. Frames are counted as this thread frees them (`reclaim_state`), so whatever a
    /// shrinker releases, directly or through its own caches, is progress.
    func shrink(gfp: GFP, node: Int, target: Int) -> Int {
        withThreadScope(.memalloc) {
            let start = vmshim_freed_pages()
            func freed() -> Int { Int(truncatingIfNeeded: vmshim_freed_pages() &- start) }
            for entry in sources.withLock({ $0 }) { entry.object?.reclaim() }
            if freed() >= target { return freed() }
            let eligible = shrinkers.withLock { $0 }.filter { s in
                if gfp.isSuperset(of: s.requires) { return true }
                s.skippedForGFP.add(1, ordering: .relaxed)
                stat.add(.shrinkerSkippedGFP)
                return false
            }
            guard !eligible.isEmpty else { return freed() }
            for priority in stride(from: Self.defPriority, through: 0, by: -1) {
                for s in eligible { shrinkOne(s, gfp: gfp, node: node, priority: priority) }
                if freed() >= target { break }
            }
            return freed()
        }
    }

    /// Ask one shrinker for objects in proportion to its size and the pass's priority
    /// (`do_shrink_slab`): `freeable >> priority`, scaled by 4/seeks, plus the work deferred
    /// by earlier passes, capped at twice the cache, scanned in `SHRINK_BATCH` calls.
    private func shrinkOne(_ s: ShrinkerEntry, gfp: GFP, node: Int, priority: Int) {
        s.inFlight.add(1, ordering: .acquiring)
        defer {
            s.inFlight.subtract(1, ordering: .releasing)
            callsDone.wakeAll()
        }
        guard s.registered.load(ordering: .acquiring) else { return }
        let previous = vmshim_set_reclaim_context(UInt64(s.id) << 32 | UInt64(gfp.rawValue))
        defer { vmshim_restore_reclaim_context(previous) }

        var sc = ShrinkControl(gfp: gfp, node: node, nrToScan: 0, nrScanned: 0)
        let freeable = s.count(sc)
        guard freeable > 0 else {
            stat.add(.shrinkerSkippedEmpty)
            return
        }
        let deferred = s.nrDeferred.exchange(0, ordering: .relaxed)
        let delta = s.seeks > 0 ? (freeable >> priority) * 4 / s.seeks : freeable / 2
        var total = min(deferred + delta, 2 * freeable)
        var scanned = 0
        var freed = 0
        while total >= SHRINK_BATCH || total >= freeable {
            let n = min(SHRINK_BATCH, total)
            sc.nrToScan = n
            sc.nrScanned = n
            let ret = s.scan(&sc)
            s.calls.add(1, ordering: .relaxed)
            stat.add(.shrinkerCalls)
            if ret == SHRINK_STOP {
                stat.add(.shrinkerStops)
                break
            }
            freed += max(ret, 0)
            total -= sc.nrScanned
            scanned += sc.nrScanned
        }
        s.freed.add(freed, ordering: .relaxed)
        s.nrDeferred.add(min(max(deferred + delta - scanned, 0), 2 * freeable), ordering: .relaxed)
    }
}

extension Reclaimer: PageReclaimer {
    /// One direct-reclaim pass for an allocation with effective mask `gfp` (`try_to_free_pages`);
    /// returns the frames it freed, the progress the retry policy looks at.
    func direct(gfp: GFP, order: Int, nodes: [Int]) -> Int {
        stat.add(.directReclaimPasses)
        let freed = shrink(gfp: gfp, node: nodes.first ?? 0, target: max(Self.clusterMax, 1 << order))
        stat.add(.pgstealDirect, freed)
        return freed
    }

    /// Whether any shrinker is registered: without one, a pass that freed nothing leaves
    /// nothing reclaimable (the internal sources give back all they hold in every pass).
    var hasShrinkers: Bool { shrinkers.withLock { !$0.isEmpty } }

    /// Check the reclaim-tracked locks this thread holds against an allocation with `gfp` under
    /// `scope` (`might_alloc` → `fs_reclaim_acquire`). Only masks that may enter reclaim count:
    /// blocking, outside the noreclaim scope, without `__GFP_NOLOCKDEP`.
    func checkHeldLocks(_ gfp: GFP, scope: ScopeFlags, site: @autoclosure () -> String) {
        guard gfp.allowsBlocking, !gfp.contains(.noLockdep), !scope.contains(.memalloc) else { return }
        ReclaimLockdep.shared.allocation(gfp: scope.apply(to: gfp), system: id, site: site(), log: log, stat: stat)
    }

    /// Wake `node`'s kswapd (`wakeup_kswapd`); nothing happens before `startKswapd`.
    func wakeKswapd(node: Int) { kswapd[node].wake() }

    /// Whether `node`'s kswapd is balancing or has a wakeup pending.
    func isKswapdActive(node: Int) -> Bool { kswapd[node].isActive }
}
