import CShim
import Synchronization

/// The kvmalloc family (mm/util.c) and the frees that need both allocators: physically
/// contiguous memory when it is cheap to get, virtually contiguous memory otherwise; `kvfree`,
/// `vfree` of an area that owns handed-over pages and their array, and `kvfree_rcu`.
final class KVmalloc: Sendable {
    private let slab: SlabAllocator
    private let space: VmallocSpace
    private let allocator: PageAllocator
    private let log: Printk
    /// `kvfree_rcu`'s pending frees, by CPU.
    private let rcuBatches = RCUFreeBatches()
    /// The monitor (`kfree_rcu_monitor`): started on the first `kvfree_rcu`, stopped for good by
    /// `stop()`.
    private struct Monitor {
        var thread: KThread?
        var stopped = false
    }
    private let rcuMonitor = Lock(Monitor())
    /// The newest cookie a sealed batch waits on: the monitor runs grace periods until it has
    /// passed (what `start_poll_synchronize_rcu` asks of the kernel's grace-period kthread).
    private let gracePeriodWanted = Atomic<UInt64>(0)
    /// Whether the monitor found no batch at all (or has not started) and sleeps until a kvfree_rcu
    /// wakes it.
    private let monitorIdle = Atomic<Bool>(true)
    /// Whether the monitor, having just run a grace period, looks for the next request within
    /// `gracePeriodIntervalNs` by itself: requests then need no wakeup.
    private let monitorPolls = Atomic<Bool>(false)
    /// How long after a grace period the monitor waits before the next one: the requests of that
    /// interval share it, and no sealing CPU pays a wakeup and the switch to the monitor.
    private static let gracePeriodIntervalNs: UInt64 = 250_000
    /// Batches a flush took where it could not wait for a grace period: the monitor frees them.
    private let handed = Lock([RCUFreeBatches.Taken]())

    /// The family over `slab` (small and contiguous) and `space` (large and scattered).
    init(slab: SlabAllocator, space: VmallocSpace, allocator: PageAllocator, log: Printk) {
        self.slab = slab
        self.space = space
        self.allocator = allocator
        self.log = log
    }

    /// `kmalloc_gfp_adjust`: above a page the kmalloc attempt is opportunistic — no warning,
    /// no NOFAIL (the vmalloc fallback carries it) and no direct reclaim unless the caller
    /// asked to retry, since vmalloc can do with scattered frames what compaction would do.
    static func kmallocAttemptGFP(_ gfp: GFP, size: Int) -> GFP {
        guard size > PhysicalMemory.pageSize else { return gfp }
        var g = gfp.union(.noWarn).subtracting(.noFail)
        if !gfp.contains(.retryMayFail) { g = g.subtracting(.directReclaim).union(.noRetry) }
        return g
    }

    /// `kvmalloc_node`: everything kvmalloc-like lands here.
    func kvmallocNode(_ size: Int, _ gfp: GFP, node: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        // Sizes that cannot be meant: the kernel refuses them before trying anything.
        guard size <= Int(Int32.max) else {
            if !gfp.contains(.noWarn) {
                log.warnOnce("kvmalloc: size \(size) exceeds INT_MAX (\(site))", site: "kvmalloc-size@\(site)")
            }
            return nil
        }
        let p = slab.kmallocNode(size, Self.kmallocAttemptGFP(gfp, size: size), node: node, site: site)
        if p != nil || size <= PhysicalMemory.pageSize { return p }
        guard node == NUMA_NO_NODE || (0..<allocator.memory.nodeCount).contains(node) else { return nil }
        allocator.stat.add(.kvmallocVmallocFallback)
        // VM_ALLOW_HUGE_VMAP only changes areas of 2 MiB and more here (their alignment);
        // leaving it off below keeps smaller areas eligible for lazy-area reuse.
        let flags: VMFlags = size >= 1 << 21 ? [.alloc, .allowHugeVmap] : .alloc
        return space.vmallocNodeRange(
            size, align: PhysicalMemory.pageSize, gfp: gfp, node: node, flags: flags, site: site)
    }

    /// `kvrealloc`: vmalloc memory goes through `vrealloc`; kmalloc memory is resized with
    /// `krealloc` and, when that fails, moved to a fresh `kvmalloc` allocation (possibly
    /// vmalloc). On failure p stays valid.
    func kvreallocNode(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        if space.contains(p) { return vreallocNode(p, size, gfp, site: site) }
        // An address kmalloc did not hand out is reported by ksize and left alone.
        if let p, !SlabAllocator.isZeroOrNull(p), slab.ksize(p) == 0 { return nil }
        if let n = slab.kreallocNode(p, size, Self.kmallocAttemptGFP(gfp, size: size), site: site) { return n }
        guard let n = kvmallocNode(size, gfp, node: NUMA_NO_NODE, site: site) else { return nil }
        if let p, !SlabAllocator.isZeroOrNull(p) {
            // krealloc failed to grow p in place or move it: ksize(p) < size bytes to keep.
            vmshim_copy(n, p, slab.ksize(p))
            slab.kfree(p)
        }
        return n
    }

    /// `vrealloc`: size 0 is `vfree`, whatever area p starts (handed-over pages go too);
    /// otherwise the area is resized in place or moved.
    @inline(__always)
    func vreallocNode(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        if size == 0 {
            vfree(p)
            return nil
        }
        return space.vreallocArea(p, size, gfp, site: site)
    }

    /// `kvfree`: vmalloc addresses go to `vfree`, others to `kfree`. nil is a no-op.
    func kvfree(_ p: UnsafeMutableRawPointer?) {
        if space.contains(p) { vfree(p) } else { slab.kfree(p) }
    }

    /// `vfree`: frees a vmalloc area, or unmaps a vmap area as `vunmap` does. The frames of a
    /// vmap area stay the caller's unless `VM_MAP_PUT_PAGES` handed them over: then each is
    /// freed as `__free_page` frees it, and the handed-over page array is kvfreed.
    @inline(__always)
    func vfree(_ p: UnsafeMutableRawPointer?) {
        guard let handed = space.freeArea(p, kind: .vmalloc, function: "vfree()") else { return }
        freeHandedOver(handed)
    }

    /// Free what a `VM_MAP_PUT_PAGES` area handed over. Out of line: where `vfree` is inlined,
    /// its common path then needs no large frame.
    @inline(never)
    private func freeHandedOver(_ handed: VmapAreas.HandedOver) {
        for pfn in handed.pfns { allocator.freePages(Page(pfn: pfn), order: 0, function: "__free_pages") }
        kvfree(UnsafeMutableRawPointer(bitPattern: handed.pageArray))
    }

    /// `kvfree_rcu` on liburcu (bulletproof flavour): `kvfree` p after a grace period. p waits in
    /// its CPU's batch (`RCUFreeBatches`); a full batch is sealed and asks the monitor for a grace
    /// period, and this CPU's later calls free it, a few pointers each, once it has passed. What
    /// nobody comes back for, the monitor frees after `drainDelayNs`. Never waits for a grace
    /// period itself, until `stop()` (then a full batch is freed in the caller).
    func kvfreeRCU(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        let added = rcuBatches.add(p) { kvfree($0) }
        if let cookie = added.sealed {
            requestGracePeriod(cookie)
        } else if added.started, monitorIdle.load(ordering: .sequentiallyConsistent) {
            wakeRCUMonitor()
        }
    }

    /// `rcu_barrier`, as `kvfree_rcu_barrier` makes it: every batch freed, then every callback
    /// queued so far run.
    func rcuBarrier() {
        flushRCUBatches()
        vmshim_rcu_barrier()
    }

    /// Free every pending batch after a grace period now, whatever its age, and wait until every
    /// free already running (a CPU's, the monitor's) has finished — unless the caller is the
    /// monitor itself or inside a read-side section, where waiting would wait for itself: then
    /// the monitor frees them soon after.
    func flushRCUBatches() {
        let taken = rcuBatches.take(startedBefore: .max).blocks
        let stopped = rcuMonitor.withLock { m in m.stopped }
        guard stopped || (vmshim_rcu_depth() == 0 && !isMonitor) else {
            handed.withLock { $0 += taken }
            wakeRCUMonitor()
            return
        }
        precondition(vmshim_rcu_depth() == 0, "kvfree_rcu() inside rcu_read_lock() cannot wait for a grace period")
        freeAfterGracePeriod(taken + takeHanded())
        rcuBatches.waitForFrees()
    }

    /// Take what flushes handed over.
    private func takeHanded() -> [RCUFreeBatches.Taken] {
        handed.withLock { h in
            defer { h = [] }
            return h
        }
    }

    /// Stop the monitor, then free here, after a grace period, what it would have freed; later
    /// full batches are freed here too.
    func stop() {
        rcuMonitor.withLock { m -> KThread? in
            m.stopped = true
            return m.thread
        }?.stop()
        flushRCUBatches()
    }

    /// Whether the caller is the monitor.
    private var isMonitor: Bool { rcuMonitor.withLock { $0.thread?.isCurrent ?? false } }

    /// A batch was sealed with `cookie`: have the monitor run a grace period after it — with no
    /// wakeup while it polls for requests by itself (once stopped, free the batch here).
    private func requestGracePeriod(_ cookie: UInt64) {
        gracePeriodWanted.max(cookie, ordering: .sequentiallyConsistent)
        if monitorPolls.load(ordering: .sequentiallyConsistent) { return }
        if !wakeRCUMonitor() { flushRCUBatches() }
    }

    /// Wait for a grace period unless every block's has passed, then kvfree what they hold.
    private func freeAfterGracePeriod(_ blocks: [RCUFreeBatches.Taken]) {
        guard !blocks.isEmpty else { return }
        if blocks.contains(where: { vmshim_poll_state_synchronize_rcu($0.cookie) == 0 }) { vmshim_synchronize_rcu() }
        rcuBatches.free(blocks) { kvfree($0) }
    }

    /// Start the monitor on first use, or wake it; false once it is stopped.
    @discardableResult
    private func wakeRCUMonitor() -> Bool {
        let monitor = rcuMonitor.withLock { m -> KThread? in
            if m.stopped { return nil }
            if let t = m.thread { return t }
            let started = KThread.run(name: "kvfree_rcu") { [self] t in monitorRCUBatches(t) }
            m.thread = started
            return started
        }
        monitor?.queue.wakeAll()
        return monitor != nil
    }

    /// The monitor's loop (`kfree_rcu_monitor`, and the grace-period kthread that polled cookies
    /// rely on): run grace periods while a sealed batch waits for one, at most one per
    /// `gracePeriodIntervalNs` while they keep coming; free the batches that have waited
    /// `drainDelayNs` (their CPU has not come back) and those flushes handed over; go round again
    /// at once while there was work, else sleep until the next batch is due or, with none at
    /// all, until a kvfree_rcu starts one. Waiting for the grace period here,
    /// rather than through `call_rcu`, keeps a flood's frees coming back within a grace period,
    /// where liburcu's callback thread sleeps 10 ms between rounds: every free that is late is an
    /// area the next vmalloc cannot reuse.
    private func monitorRCUBatches(_ t: KThread) {
        while !t.shouldStop {
            let seen = t.queue.sequence
            // Cleared before the request is read: a request after this wakes the monitor.
            monitorPolls.store(false, ordering: .sequentiallyConsistent)
            if vmshim_poll_state_synchronize_rcu(gracePeriodWanted.load(ordering: .sequentiallyConsistent)) == 0 {
                vmshim_synchronize_rcu()
                monitorPolls.store(true, ordering: .sequentiallyConsistent)
                _ = t.queue.wait(since: t.queue.sequence, timeoutNs: Self.gracePeriodIntervalNs)
                continue
            }
            // Idle until the scan finds a batch: a kvfree_rcu that starts one after the scan
            // sees the flag and wakes this thread.
            monitorIdle.store(true, ordering: .sequentiallyConsistent)
            let due = rcuBatches.take(startedBefore: Printk.monotonicNs() &- RCUFreeBatches.drainDelayNs)
            let blocks = due.blocks + takeHanded()
            if due.waiting || !blocks.isEmpty { monitorIdle.store(false, ordering: .sequentiallyConsistent) }
            if !blocks.isEmpty {
                freeAfterGracePeriod(blocks)
                continue
            }
            _ = t.queue.wait(since: seen, timeoutNs: due.waiting ? RCUFreeBatches.drainDelayNs : 1_000_000_000)
        }
        // Stopped: a request must now find no one polling, and free its batch itself.
        monitorPolls.store(false, ordering: .sequentiallyConsistent)
    }
}

/// A shortage in the VA space queues the batched `kvfree_rcu`s before it waits for RCU.
extension KVmalloc: DeferredFrees {}

/// `vfree_atomic`'s worker frees with the whole `vfree`, handed-over pages and array included.
extension KVmalloc: VfreeDeferred.Target {}
