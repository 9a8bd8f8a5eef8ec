import CShim

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
    /// Batches handed to the monitor and not yet taken, and how many were ever handed.
    private struct Handed {
        var blocks: [RCUFreeBatches.Block] = []
        var count = 0
    }
    private let handed = Lock(Handed())
    /// Handed batches freed so far, in the order they were handed: `flushRCUBatches` sleeps on it.
    private let freedBlocks = EventCount()

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
    /// its CPU's batch (`RCUFreeBatches`); a full batch, or one that waited `drainDelayNs`, goes to
    /// the monitor, which waits for one grace period for all it holds and frees them. Never
    /// waits for a grace period itself, until `stop()` (then it frees in the caller).
    func kvfreeRCU(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        switch rcuBatches.add(p) {
        case .added: break
        case .full(let block): hand([block])
        case .first: wakeRCUMonitor()
        }
    }

    /// `rcu_barrier`, as `kvfree_rcu_barrier` makes it: every batch freed, then every callback
    /// queued so far run.
    func rcuBarrier() {
        flushRCUBatches()
        vmshim_rcu_barrier()
    }

    /// Hand every pending batch to the monitor now, whatever its age, and wait until it has freed
    /// them — unless the caller is the monitor itself or inside a read-side section, where
    /// waiting would wait for itself (they are freed soon after).
    func flushRCUBatches() {
        let target = hand(rcuBatches.take(queuedBefore: .max).blocks)
        guard !rcuMonitor.withLock({ $0.thread?.isCurrent ?? false }), vmshim_rcu_depth() == 0 else { return }
        while true {
            let seen = freedBlocks.value
            if seen >= target { return }
            freedBlocks.wait(since: seen, timeoutNs: 100_000_000)
        }
    }

    /// Stop the monitor, then free here, after a grace period, what it would have freed; later
    /// batches are freed here too.
    func stop() {
        rcuMonitor.withLock { m -> KThread? in
            m.stopped = true
            return m.thread
        }?.stop()
        flushRCUBatches()
    }

    /// Give `blocks` to the monitor and wake it (once stopped, free them here); returns how many
    /// blocks were ever handed, this call's included, for `flushRCUBatches` to wait on.
    @discardableResult
    private func hand(_ blocks: [RCUFreeBatches.Block]) -> Int {
        let total = handed.withLock { h in
            h.blocks += blocks
            h.count += blocks.count
            return h.count
        }
        // Read after the blocks are in: a `stop` that this misses takes them in its flush.
        if rcuMonitor.withLock({ $0.stopped }) {
            precondition(vmshim_rcu_depth() == 0, "kvfree_rcu() inside rcu_read_lock() cannot wait for a grace period")
            freeHanded()
        } else if !blocks.isEmpty {
            wakeRCUMonitor()
        }
        return total
    }

    /// Take every handed block, wait for a grace period, then kvfree what they hold; whether
    /// there were any. Blocks are freed in the order they were handed (`freedBlocks` counts them).
    @discardableResult
    private func freeHanded() -> Bool {
        let blocks = handed.withLock { h in
            defer { h.blocks = [] }
            return h.blocks
        }
        guard !blocks.isEmpty else { return false }
        vmshim_synchronize_rcu()
        for block in blocks {
            RCUFreeBatches.drain(block) { kvfree($0) }
            freedBlocks.signal()
        }
        return true
    }

    /// Start the monitor on first use, or wake it: a batch has started waiting or was handed.
    private func wakeRCUMonitor() {
        let monitor = rcuMonitor.withLock { m -> KThread? in
            if m.stopped { return nil }
            if let t = m.thread { return t }
            let started = KThread.run(name: "kvfree_rcu") { [self] t in monitorRCUBatches(t) }
            m.thread = started
            return started
        }
        monitor?.queue.wakeAll()
    }

    /// The monitor's loop (`kfree_rcu_monitor` and its work): hand over the batches that have
    /// waited `drainDelayNs`, free what was handed after one grace period, and go round again at
    /// once while there is more; else sleep until the next batch is due or, with none waiting,
    /// until one starts. Waiting for the grace period here, rather than through `call_rcu`, keeps
    /// a flood's frees coming back within a grace period, where liburcu's callback thread sleeps
    /// 10 ms between rounds: every free that is late is an area the next vmalloc cannot reuse.
    private func monitorRCUBatches(_ t: KThread) {
        while !t.shouldStop {
            let seen = t.queue.sequence
            let due = rcuBatches.take(queuedBefore: Printk.monotonicNs() &- RCUFreeBatches.drainDelayNs)
            hand(due.blocks)
            if freeHanded() { continue }
            _ = t.queue.wait(since: seen, timeoutNs: due.waiting ? RCUFreeBatches.drainDelayNs : 1_000_000_000)
        }
    }
}

/// A shortage in the VA space queues the batched `kvfree_rcu`s before it waits for RCU.
extension KVmalloc: DeferredFrees {}

/// `vfree_atomic`'s worker frees with the whole `vfree`, handed-over pages and array included.
extension KVmalloc: VfreeDeferred.Target {}
