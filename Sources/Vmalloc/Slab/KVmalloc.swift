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
    /// Queues blocks that waited long enough (`kfree_rcu_monitor`); started on the first
    /// `kvfree_rcu`, stopped by `stop()`.
    private let rcuMonitor = Lock<KThread?>(nil)

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
    /// its CPU's batch (`RCUFreeBatches`), which goes to one `call_rcu` when full or after a
    /// short delay; never sleeps unless RCU cannot take a block (then it waits for the grace
    /// period here, which inside `rcu_read_lock` is a precondition failure).
    func kvfreeRCU(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        switch rcuBatches.add(p) {
        case .added: break
        case .full(let block): queue(block)
        case .first: wakeRCUMonitor()
        }
    }

    /// `rcu_barrier`, as `kvfree_rcu_barrier` makes it: queue every pending batch, then wait
    /// until every callback queued so far has run.
    func rcuBarrier() {
        flushRCUBatches()
        vmshim_rcu_barrier()
    }

    /// Queue every pending batch now, whatever its age.
    func flushRCUBatches() {
        for block in rcuBatches.take(queuedBefore: .max).blocks { queue(block) }
    }

    /// Stop the batch monitor and queue what it would have queued; frees already queued still
    /// run (each callback holds this object).
    func stop() {
        rcuMonitor.withLock { $0 }?.stop()
        flushRCUBatches()
    }

    /// Hand `block` to RCU; its callback kvfrees every pointer after the grace period.
    private func queue(_ block: RCUFreeBatches.Block) {
        let ctx = Unmanaged.passRetained(self).toOpaque()
        let queued = Result(
            returned: vmshim_call_rcu(
                { ctx, words in
                    let kv = Unmanaged<KVmalloc>.fromOpaque(ctx!).takeRetainedValue()
                    RCUFreeBatches.drain(RCUFreeBatches.Block(words: words!.assumingMemoryBound(to: UInt.self))) {
                        kv.kvfree($0)
                    }
                }, ctx, block.words))
        guard case .failure = queued else { return }
        Unmanaged<KVmalloc>.fromOpaque(ctx).release()
        precondition(vmshim_rcu_depth() == 0, "kvfree_rcu() inside rcu_read_lock() cannot wait for a grace period")
        vmshim_synchronize_rcu()
        RCUFreeBatches.drain(block) { kvfree($0) }
    }

    /// Start the monitor on first use, or wake it: a batch has started waiting.
    private func wakeRCUMonitor() {
        let monitor = rcuMonitor.withLock { m -> KThread in
            if let m { return m }
            let started = KThread.run(name: "kvfree_rcu") { [self] t in monitorRCUBatches(t) }
            m = started
            return started
        }
        monitor.queue.wakeAll()
    }

    /// The monitor's loop: queue the batches that have waited `drainDelayNs`, then sleep until
    /// the next one is due or, with none waiting, until a batch starts.
    private func monitorRCUBatches(_ t: KThread) {
        while !t.shouldStop {
            let seen = t.queue.sequence
            let now = Printk.monotonicNs()
            let due = rcuBatches.take(queuedBefore: now &- RCUFreeBatches.drainDelayNs)
            for block in due.blocks { queue(block) }
            _ = t.queue.wait(since: seen, timeoutNs: due.waiting ? RCUFreeBatches.drainDelayNs : 1_000_000_000)
        }
    }
}

/// A shortage in the VA space queues the batched `kvfree_rcu`s before it waits for RCU.
extension KVmalloc: DeferredFrees {}

/// `vfree_atomic`'s worker frees with the whole `vfree`, handed-over pages and array included.
extension KVmalloc: VfreeDeferred.Target {}
