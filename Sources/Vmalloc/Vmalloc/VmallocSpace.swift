import CShim
import Glibc

/// The vmalloc component (mm/vmalloc.c): virtually contiguous areas built from scattered
/// frames. It owns the VA allocator (`VmapAreas`), the mapper that makes areas real
/// (`VmapMapper`) and the page table of the region, and holds the page allocator its frames and
/// table pages come from; `MemorySystem`'s kernel-spelled functions forward here. It is the
/// reclaim source that purges lazily freed areas and the purger of lazily unmapped
/// `vm_map_ram` aliases (the page allocator holds it weakly).
///
/// Lock order: `aliasPurge`, then one shard lock at a time, never two, taken inside `VmapAreas`
/// (which says what runs under it). The page table's `perNode` lock is taken in `populate`, with
/// no shard lock held. No lock is held while the page allocator is called (frames, table pages,
/// frees in a purge), since an allocation may reclaim and reclaim purges the shards.
final class VmallocSpace: Sendable {
    /// How the vmalloc component is built: its part of the system's configuration.
    struct Configuration: Sendable {
        /// Bytes of the reserved region (`VmallocTotal`), rounded down to pages: 4 MiB … 64 TiB.
        var regionSize: Int
        /// Whether page-table pages obey the caller's mask through the scope (`.fromCaller`) or
        /// are allocated as GFP_KERNEL whatever it is (`.legacy`).
        var pageTableScope: PageTableScope
        /// Unmap and return every freed area at once, so any use after `vfree` faults.
        var immediateUnmap: Bool
        /// Pages lazily freed areas may hold before a purge; nil: `lazy_max_pages`, at most a
        /// quarter of the system's frames.
        var lazyMaxPages: Int?
        /// Populate owners' pages when mapped (no page fault on first touch).
        var populate: Bool
        /// VMAs the region may use; nil: only the process-wide `vm.max_map_count` budget.
        var maxMapCount: Int?
        /// Register the region for KASAN-like fault reports and remember freed areas for them.
        var faultReports: Bool
    }

    /// The VA allocator: shards of free, busy and lazily freed areas.
    let areas: VmapAreas
    /// The mmap engine: the reservation, mappings, guard markers, the VMA budget.
    let mapper: VmapMapper
    /// The software page table of the region.
    let pageTable: PageTable
    /// Where frames and table pages come from.
    let allocator: PageAllocator
    let memory: PhysicalMemory
    let log: Printk
    /// The system's fault injection: `vmallocBatch` stays off while a site is armed.
    let faults: FaultInjector
    /// `kvfree_rcu`'s batches, flushed before a shortage waits for RCU (weak: they sit above).
    private let deferredFrees = Lock(WeakReference<any DeferredFrees>(nil))
    /// Emptied areas kept mapped for reuse (per-CPU chunks), vfreed before a full purge (weak: the
    /// keeper holds the space).
    private let keptAreas = Lock(WeakReference<any KeptAreas>(nil))
    /// Held by a purge while it takes a shard's lazy areas and, when some are lingering
    /// `vm_map_ram` aliases, until it has unmapped them: a frame free that purges first waits
    /// here for another thread's purge that took an alias of its frame but has not unmapped it.
    private let aliasPurge = Lock(())
    private let pageTableScope: PageTableScope

    /// Reserve the region and its page table's root; throws with nothing left mapped when `c`
    /// cannot work.
    init(_ c: Configuration, allocator: PageAllocator, log: Printk, faults: FaultInjector) throws(MemorySystemError) {
        self.faults = faults
        guard let table = PageTable(allocator: allocator, faults: faults) else {
            throw .invalidConfiguration("no frame for the page-table root")
        }
        pageTable = table
        mapper = try VmapMapper(c, memory: allocator.memory, log: log, faults: faults)
        areas = try VmapAreas(c, mapper: mapper, allocator: allocator, faults: faults)
        self.allocator = allocator
        memory = allocator.memory
        self.log = log
        pageTableScope = c.pageTableScope
    }

    /// The scope the mapping step runs under (`__vmalloc_area_node`): a `GFP_NOFS`-like mask
    /// (IO without FS) maps under the NOFS scope, a `GFP_NOIO`-like one (neither) under NOIO,
    /// because page tables are allocated with a fixed mask and the scope is the only way the
    /// caller's reaches them; a mask that cannot block or carries NORETRY/RETRY_MAYFAIL adds the
    /// noreclaim scope, so its page tables get no reclaim either. `.legacy`: no scope.
    func mappingScope(_ gfp: GFP) -> ScopeFlags {
        guard pageTableScope == .fromCaller else { return [] }
        var flags: ScopeFlags = []
        switch gfp.intersection([.fs, .io]) {
        case .io: flags.insert(.noFS)
        case []: flags.insert(.noIO)
        default: break
        }
        if !gfp.allowsBlocking || !gfp.isDisjoint(with: [.noRetry, .retryMayFail]) { flags.insert(.memalloc) }
        return flags
    }

    private func reportFailure(_ size: Int, _ gfp: GFP, _ what: String, _ site: CallSite) {
        allocator.stat.add(.vmallocFailures)
        allocator.stat.countFailure(mask: gfp.rawValue)
        guard !gfp.contains(.noWarn) else { return }
        // The effective mask: the caller's under the thread's and task's scopes.
        let mode = ScopeFlags.current.apply(to: gfp).modeString
        log.warn(
            "\(PageAllocator.comm): vmalloc error: size \(size), \(what), mode:\(mode), nodemask=(null)",
            site: "vmalloc-error@\(site)")
    }

    /// `__vmalloc_node_range`: everything vmalloc-like lands here. The common request — plain
    /// pages of a size class, a power-of-two alignment, `NUMA_NO_NODE` or a node of this system,
    /// no NOFAIL, no lock of the caller's held, so nothing to check or warn about — first tries
    /// the home shard's reuse pool here, in a few dozen instructions; anything else, or a miss,
    /// takes the whole path. (A hit passes every check of that path: its area proves the size
    /// fits the region and the frames.)
    @inline(__always)
    func vmallocNodeRange(
        _ size: Int, align: Int, gfp: GFP, node: Int, flags: VMFlags, site: CallSite
    ) -> UnsafeMutableRawPointer? {
        let page = PhysicalMemory.pageSize
        let common = isCommon(size, align: align, gfp: gfp, node: node, flags: flags)
        if common,
            let p = reuse(
                size, pages: (size + page - 1) / page, align: max(align, page), zero: gfp.contains(.zero), node: node,
                site: site)
        {
            return p
        }
        return vmallocNodeRangeSlow(
            size, align: align, gfp: gfp, node: node, flags: flags, site: site, triedReuse: common)
    }

    /// Whether a request is the common one that vmalloc's reuse may serve with none of
    /// `vmallocNodeRangeSlow`'s checks: plain pages of a size class, a power-of-two alignment,
    /// `NUMA_NO_NODE` or a node of this system, no NOFAIL, no lock of the caller's held.
    /// vmallocNodeRange and vrealloc's move (`VmapAreas.resize`) both ask it.
    @inline(__always)
    func isCommon(_ size: Int, align: Int, gfp: GFP, node: Int, flags: VMFlags) -> Bool {
        flags == .alloc && align > 0 && align & (align &- 1) == 0 && memory.isNodeOrAny(node) && size > 0
            && size <= SizeClass.maxPages * PhysicalMemory.pageSize && !gfp.contains(.noFail)
            && vmshim_held_count() == 0
    }

    /// A lazily freed plain area of the class of `pages` from the home shard, live again for
    /// this request (`align`: a page or more) with no syscall; nil when there is none (or areas
    /// are never reused).
    @inline(__always)
    private func reuse(
        _ size: Int, pages: Int, align: Int, zero: Bool, node: Int, site: CallSite
    ) -> UnsafeMutableRawPointer? {
        guard !areas.immediateUnmap,
            let off = areas.reuseLazy(
                classPages: areas.classPages(for: pages), pages: pages, node: node, align: align,
                requested: size, caller: site, pageTable: pageTable)
        else { return nil }
        let p = areas.address(off)
        if zero { vmshim_zero(p, pages * PhysicalMemory.pageSize) }
        return p
    }

    /// `__vmalloc_node_range` in full: the checks and warnings, reuse unless `triedReuse`, then
    /// a new area.
    @inline(never)
    private func vmallocNodeRangeSlow(
        _ size: Int, align: Int, gfp gfpIn: GFP, node: Int, flags: VMFlags,
        site: CallSite, triedReuse: Bool
    ) -> UnsafeMutableRawPointer? {
        guard size > 0 else {
            log.warnOnce("vmalloc: invalid size \(size) from \(site)", site: "size@\(site)")
            return nil
        }
        guard align > 0, align & (align - 1) == 0 else {
            log.warnOnce("vmalloc: alignment \(align) is not a power of two (\(site))", site: "align@\(site)")
            return nil
        }
        guard memory.validNode(node, "vmalloc", log: log, site: "\(site)") else { return nil }
        // Callers that must not pass unsupported bits had them fixed up (`vmallocFixFlags`).
        var gfp = gfpIn
        // Checked here too so that fs_reclaim reports name the vmalloc caller, not a step inside.
        if vmshim_held_count() > 0 { allocator.checkHeldLocks(gfp, scope: .current, site: site.description) }
        // NOFAIL misuse is warned here, naming the vmalloc caller: a mask that cannot sleep drops
        // it; under PF_MEMALLOC it stays and waits for frames that others free.
        gfp = allocator.checkNofail(gfp, order: 0, site: site.description)
        if gfp.contains(.noFail) && ScopeFlags.current.contains(.memalloc) {
            allocator.warnNofailUnderMemalloc(gfp, site: site.description)
        }
        let page = PhysicalMemory.pageSize
        let (rounded, overflow) = size.addingReportingOverflow(page - 1)
        let nrPages = overflow ? Int.max : rounded / page
        guard nrPages <= memory.totalPages else {
            reportFailure(size, gfp, "exceeds total pages", site)
            return nil
        }
        // No range of the region can ever hold it: fail as a full region does, without retrying.
        guard nrPages * page <= areas.regionSize - page else {
            warnNoVA((nrPages + 1) * page, gfp)
            reportFailure(size, gfp, "vm_struct allocation failed", site)
            return nil
        }
        // VM_ALLOW_HUGE_VMAP from 2 MiB up: whole order-9 blocks in 2 MiB-aligned VA (the PMD shift
        // of `__vmalloc_node_range`); without such blocks, order 0 at the real size ("goto again").
        let huge = flags.contains(.allowHugeVmap) && nrPages >= Self.hugeBlockPages
        let areaPages = huge ? (nrPages + Self.hugeBlockPages - 1) / Self.hugeBlockPages * Self.hugeBlockPages : nrPages
        let realAlign = align
        let align = max(align, huge ? Self.hugeBlockPages * page : page)
        let zero = gfp.contains(.zero)
        gfp.remove(.zero)

        // Plain areas come in size classes when guard markers exist (`SizeClass`); a huge area is
        // whole 2 MiB blocks. Its VA must cover every page it maps, or it overlaps the next area.
        let classPages = flags == .alloc ? areas.classPages(for: nrPages) : areaPages
        if !triedReuse, flags == .alloc,
            let p = reuse(size, pages: nrPages, align: align, zero: zero, node: node, site: site)
        {
            return p
        }

        if classPages == 1, flags == .alloc, align == page,
            let p = vmallocBatch(size, gfp: gfp, node: node, zero: zero, site: site)
        {
            return p
        }
        let guardBytes = flags.contains(.noGuard) ? 0 : page
        let areaSize = classPages * page + guardBytes
        // With guard markers a plain area's guard page is part of its own mapping (`mapRuns`).
        let inMapping = mapper.guardMarkers && flags == .alloc
        // The owner starts `lead` pages in: that address is the one to align.
        let lead = (classPages - areaPages) * page
        guard let offset = allocVA(areaSize, align: align, phase: lead, gfp: gfp, size: size, site: site) else {
            return nil
        }
        let hugeBlocks = huge ? allocHugeFrames(areaPages, gfp: gfp, node: node) : nil
        if huge && hugeBlocks == nil {
            areas.releaseVA(offset: offset, size: areaSize)
            return vmallocNodeRange(
                size, align: realAlign, gfp: zero ? gfp.union(.zero) : gfp, node: node,
                flags: flags.subtracting(.allowHugeVmap), site: site)
        }
        guard let unsorted = hugeBlocks ?? allocFrames(classPages, gfp: gfp, node: node) else {
            areas.releaseVA(offset: offset, size: areaSize)
            reportFailure(size, gfp, "failed to allocate pages", site)
            return nil
        }
        var runs: [FrameRun] = []
        var at = 0
        // Frames may sit in the area in any order: ascending pfns make the fewest runs (mmaps).
        let blocks = unsorted.sorted { $0.pfn < $1.pfn }
        for b in blocks {
            FrameRun.append(pfn: b.pfn, count: 1 << b.order, page: at, to: &runs, memory: memory)
            at += 1 << b.order
        }
        var record = AreaRecord(
            offset: offset, size: areaSize, requested: size, nrPages: areaPages,
            classPages: classPages, flags: flags,
            kind: .vmalloc, caller: site, blocks: blocks, runs: runs, node: node,
            vmaCost: inMapping ? runs.count : runs.count + 1, guardInMapping: inMapping)
        // Page tables are allocated with a fixed GFP_KERNEL-like mask, so the caller's NOFS/NOIO
        // can only reach them through the scope.
        let mapped = withThreadScope(mappingScope(gfp)) { mapArea(record, prot: .readWrite, gfp: gfp) }
        guard mapped else {
            freeBlocks(blocks)
            areas.releaseVA(offset: offset, size: areaSize)
            reportFailure(size, gfp, "failed to map pages", site)
            return nil
        }
        record.leafTable = pageTable.leaf(offset: offset)
        areas.insertBusy(record)
        let p = areas.address(record.start)
        if zero { vmshim_zero(p, areaPages * page) }
        return p
    }

    /// VA for an area, aligned `phase` bytes in (`VmapAreas.allocVA`); a failure purges the lazy
    /// areas and tries again (`alloc_vmap_area`'s retry after `purge_vmap_area_lazy`).
    private func allocVA(size: Int, align: Int, phase: Int = 0) -> Int? {
        // No purge makes room for a block longer than any shard: fail at once instead of
        // unmapping every thread's lazy areas for nothing.
        guard areas.fitsSomeShard(size: size, align: align) else { return nil }
        if let off = areas.allocVA(size: size, align: align, phase: phase) { return off }
        drainDeferredFrees()
        return areas.allocVA(size: size, align: align, phase: phase)
    }

    /// Give back what frees still in flight hold: areas waiting for an RCU grace period
    /// (`kvfree_rcu`) hold their VA, VMAs and frames until they are freed, and the kernel
    /// drains them under pressure too (its kfree_rcu shrinker). Then purge the lazy areas.
    /// Returns the frames the purge freed.
    @discardableResult
    func drainDeferredFrees() -> Int {
        deferredFrees.withLock { $0 }.object?.flushRCUBatches()
        vmshim_rcu_drain()
        return purgeAll()
    }

    /// `purgeLazy` with the kept areas (`KeptAreas`) vfreed first, so their frames come back too
    /// (a shortage, reclaim, free page reporting; not `vm_unmap_aliases`).
    @discardableResult
    func purgeAll() -> Int {
        keptAreas.withLock { $0 }.object?.releaseKeptAreas()
        return purgeLazy()
    }

    /// Name who batches frees before RCU sees them (held weakly; see `DeferredFrees`).
    func setDeferredFrees(_ frees: any DeferredFrees) {
        deferredFrees.withLock { $0 = WeakReference(frees) }
    }

    /// Name who keeps emptied areas mapped (held weakly; see `KeptAreas`).
    func setKeptAreas(_ kept: any KeptAreas) { keptAreas.withLock { $0 = WeakReference(kept) } }

    /// `alloc_vmap_area`'s report when no range fits even after a purge, unless `__GFP_NOWARN`.
    private func warnNoVA(_ bytes: Int, _ gfp: GFP) {
        guard !gfp.contains(.noWarn) else { return }
        let start = UInt(bitPattern: areas.base)
        let end = start + UInt(areas.regionSize)
        log.warn(
            "vmalloc_node_range for size \(bytes) failed: Address range restricted to "
                + "0x\(String(start, radix: 16)) - 0x\(String(end, radix: 16))",
            site: "vmap-va")
    }

    /// `allocVA`, and NOFAIL waits a tick and retries for ever.
    private func allocVA(_ bytes: Int, align: Int, phase: Int, gfp: GFP, size: Int, site: CallSite) -> Int? {
        while true {
            if let off = allocVA(size: bytes, align: align, phase: phase) { return off }
            warnNoVA(bytes, gfp)
            guard gfp.contains(.noFail) else {
                reportFailure(size, gfp, "vm_struct allocation failed", site)
                return nil
            }
            // The kernel's `__get_vm_area_node` loop for NOFAIL: say so once (its `warn_alloc`
            // honours NOWARN), then wait and retry.
            if !gfp.contains(.noWarn) {
                log.warnOnce("vm_struct allocation failed. Retrying. (\(site))", site: "vm-struct-retry@\(site)")
            }
            allocator.stat.add(.nofailRetries)
            allocator.waitForFree(since: allocator.freeEvents.value)
        }
    }

    /// Frames for nrPages, high-order blocks first so the area is a few runs: high orders are
    /// tried without reclaim, warnings or NOFAIL; order 0 carries the caller's full mask. A count
    /// that is not a power of two (below 2^maxOrder, or what is left above it) is first tried as
    /// one exact run (`allocExactOpportunistic`): the blocks of its set bits, taken one by one,
    /// would come from unrelated places and map as several runs (mmaps, slow PTE updates).
    private func allocFrames(_ nrPages: Int, gfp: GFP, node: Int) -> [(pfn: Int, order: Int)]? {
        var blocks: [(pfn: Int, order: Int)] = []
        var remaining = nrPages
        var order = PageAllocator.maxOrder
        let light = Self.opportunistic(gfp)
        var triedExact = false
        while remaining > 0 {
            let fits = Int.bitWidth - remaining.leadingZeroBitCount - 1
            if !triedExact, order >= fits + 1, remaining & (remaining - 1) != 0 {
                triedExact = true
                if let run = allocator.allocExactOpportunistic(
                    light, pages: remaining, node: node, owner: VMSHIM_OWNER_VMALLOC)
                {
                    return blocks + run
                }
            }
            order = min(order, fits)
            if order > 0 {
                if let p = allocator.allocate(light, order: order, node: node, owner: VMSHIM_OWNER_VMALLOC) {
                    blocks.append((p.pfn, order))
                    remaining -= 1 << order
                } else {
                    order -= 1
                }
                continue
            }
            guard let p = allocator.allocate(gfp.union(.noWarn), order: 0, node: node, owner: VMSHIM_OWNER_VMALLOC)
            else {
                freeBlocks(blocks)
                return nil
            }
            blocks.append((p.pfn, 0))
            remaining -= 1
        }
        return blocks
    }

    /// `gfp` for a take that only saves work (a high-order block, a batch of areas): no
    /// reclaim, no retry, no NOFAIL and no warning, so that a failure costs nothing and the
    /// caller falls back to what `gfp` itself allows.
    static func opportunistic(_ gfp: GFP) -> GFP {
        gfp.subtracting([.noFail, .directReclaim, .retryMayFail]).union([.noWarn, .noRetry])
    }

    /// Give back the frame blocks taken so far when an allocation fails part way (frames, huge
    /// blocks or the mapping).
    func freeBlocks(_ blocks: [(pfn: Int, order: Int)]) {
        for b in blocks { allocator.free(pfn: b.pfn, order: b.order) }
    }

    /// Build page tables, spend the VMA budget and mmap each run; undo all of it on failure.
    /// NOFAIL retries after purging lazy areas and waiting.
    func mapArea(_ r: AreaRecord, prot: PageProtection, gfp: GFP) -> Bool {
        while true {
            if tryMap(r, prot: prot) { return true }
            guard gfp.contains(.noFail) else { return false }
            allocator.stat.add(.nofailRetries)
            let seen = allocator.freeEvents.value
            if purgeLazy() == 0 { allocator.waitForFree(since: seen) }
        }
    }

    private func tryMap(_ r: AreaRecord, prot: PageProtection) -> Bool {
        guard pageTable.populate(offset: r.offset, count: r.classPages) else { return false }
        if !mapper.vmas.charge(r.vmaCost) {
            drainDeferredFrees()
            guard mapper.vmas.charge(r.vmaCost) else {
                log.warn(
                    "vmalloc: VMA budget spent (vm.max_map_count): this system uses "
                        + "\(mapper.vmas.used.load(ordering: .relaxed)), the process "
                        + "\(VMABudget.process.used.load(ordering: .relaxed)) of \(VMABudget.process.limit)",
                    site: "vma-budget")
                return false
            }
        }
        if case .failure(let e) = mapper.mapRuns(
            offset: r.offset, runs: r.runs, prot: prot, guardPage: r.guardInMapping, populateFrom: r.lead)
        {
            mapper.vmas.release(r.vmaCost)
            log.warn("vmalloc: mmap of an area failed: \(e)", site: "mmap-failed")
            return false
        }
        for run in r.runs { pageTable.mapOwner(run, from: r.lead, base: r.offset, leaf: 0) }
        return true
    }

    /// Release the frames of an area removed without laziness (immediate-unmap mode).
    private func releaseNow(_ r: VmapAreas.Released) {
        mapper.unmap(offset: r.offset, bytes: r.size)
        for b in r.blocks { allocator.free(pfn: b.pfn, order: b.order) }
        mapper.vmas.release(r.vmaCost)
        areas.releaseVA(offset: r.offset, size: r.size)
    }

    /// `vfree`, `vunmap` and `vm_unmap_ram`: take the area starting at p that `kind`'s free
    /// function releases out of the busy tree; report (and change nothing) for anything else.
    /// Returns what a `VM_MAP_PUT_PAGES` area handed over when `vfree` removed it: the caller
    /// frees it (the pages as `__free_page`, the array as `kvfree`). Only the lazy free, the
    /// common one, is inlined; the rest is `finishFree`, so that the caller's frame stays small.
    @discardableResult @inline(__always)
    func freeArea(
        _ p: UnsafeMutableRawPointer?, kind: AreaKind, function: String, pageCount: Int? = nil
    ) -> VmapAreas.HandedOver? {
        guard let p else { return nil }
        guard areas.contains(p), Int(bitPattern: p) % PhysicalMemory.pageSize == 0 else {
            return finishFree(p, nil, kind: kind, function: function, pageCount: pageCount)
        }
        let offset = p - areas.base
        // The common vfree first, in a short critical section of its own; anything else then
        // takes the whole removal.
        if areas.freesLazilyFast && kind == .vmalloc && pageCount == nil,
            case .freed(let due) = areas.freeLazily(offset: offset, pageTable: pageTable)
        {
            purgeIfDue(due, offset: offset)
            return nil
        }
        // The common vm_unmap_ram likewise: a remap of the same frames then finds it lingering.
        if areas.freesLazilyFast && kind == .vmMapRam, let n = pageCount,
            case .freed(let due) = areas.unmapRamLazily(offset: offset, pageCount: n, pageTable: pageTable)
        {
            purgeIfDue(due, offset: offset)
            return nil
        }
        // vmalloc areas and vm_map_ram areas are unmapped lazily (vmap areas at once), unless
        // every use after free must fault.
        let lazy = !areas.immediateUnmap
        let removal = areas.removeBusy(
            offset: offset, kind: kind, pageTable: pageTable, lazy: lazy, pageCount: pageCount)
        guard case .lazy(let due) = removal else {
            return finishFree(p, removal, kind: kind, function: function, pageCount: pageCount)
        }
        purgeIfDue(due, offset: offset)
        return nil
    }

    /// The rest of `freeArea` for p when `removal` did not free it lazily (nil: p is not even a
    /// page of the region): release an area removed at once, or report.
    @inline(never)
    private func finishFree(
        _ p: UnsafeMutableRawPointer, _ removal: VmapAreas.Removal?, kind: AreaKind, function: String,
        pageCount: Int?
    ) -> VmapAreas.HandedOver? {
        switch removal {
        case nil, .lazy:
            log.warn("Trying to \(function) nonexistent vm area (\(p))", site: "free-bad-\(function)")
        case .removed(let r):
            // Immediate-unmap mode, vmap areas, and VM_FLUSH_RESET_PERMS (`vm_reset_perms`):
            // unmapped at once, so no later owner of the frames or the addresses inherits a
            // read-only or executable mapping.
            releaseNow(r)
            // The kernel's vunmap only unmaps: handed-over pages and array stay where they are.
            return kind == .vmalloc ? r.handedOver : nil
        case .wrongKind(let k):
            log.warn(
                "\(function) called on an area of \(k.freeFunction) (\(p)): use \(k.freeFunction); nothing freed",
                site: "free-kind-\(function)")
        case .notFound:
            if let n = pageCount {
                log.warn(
                    "\(function)(\(p), \(n)): no vm_map_ram area of \(n) pages there", site: "free-bad-\(function)")
            } else {
                log.warn("Trying to \(function) nonexistent vm area (\(p))", site: "free-bad-\(function)")
            }
        }
        return nil
    }

    /// `vm_map_ram`: `node` says where its VA bookkeeping would live; one that is neither a node
    /// of this system nor `NUMA_NO_NODE` is refused with a warning, as vmalloc refuses it.
    /// A lingering area that maps exactly these frames is taken back first, with no syscall:
    /// it proves them valid (they were checked when it was made), so `mapPages`' O(pages) check
    /// runs only on a miss.
    func vmMapRam(_ pages: [Page], node: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        guard memory.validNode(node, "vm_map_ram", log: log, site: "\(site)") else { return nil }
        if !pages.isEmpty, !areas.immediateUnmap, let off = areas.reuseMapRam(pages, caller: site, pageTable: pageTable)
        {
            return areas.address(off)
        }
        return mapPages(pages, prot: .readWrite, flags: [], kind: .vmMapRam, site: site)
    }

    /// Map caller-owned frames contiguously (`vmap`, `vm_map_ram`). A `VM_MAP_PUT_PAGES` vmap
    /// takes the frames and `pageArray` (the caller's array of them, or nil) over once mapped.
    func mapPages(
        _ list: [Page], prot: PageProtection, flags flagsIn: VMFlags, kind: AreaKind,
        pageArray: UnsafeMutableRawPointer? = nil, site: CallSite
    ) -> UnsafeMutableRawPointer? {
        var flags = flagsIn
        if kind == .vmap {
            // Resetting the direct map's permissions is for pages vmalloc allocated itself.
            guard !flags.contains(.flushResetPerms) else {
                log.warnOnce(
                    "WARNING: vmap with VM_FLUSH_RESET_PERMS: refused (\(site))",
                    site: "vmap-flush-reset-perms@\(site)")
                return nil
            }
            // Your top guard is someone else's bottom guard: no vmap area goes without one.
            if flags.contains(.noGuard) {
                log.warnOnce(
                    "WARNING: vmap with VM_NO_GUARD: the flag is cleared, the guard page kept (\(site))",
                    site: "vmap-no-guard@\(site)")
                flags.remove(.noGuard)
            }
        }
        guard !list.isEmpty else {
            log.warnOnce("\(kind == .vmap ? "vmap" : "vm_map_ram"): no pages (\(site))", site: "map-empty@\(site)")
            return nil
        }
        if let bad = list.first(where: { !memory.isValid($0.pfn) }) {
            log.warn(
                "\(kind == .vmap ? "vmap" : "vm_map_ram"): \(bad) is not a frame of this system (\(site))",
                site: "map-bad@\(site)")
            return nil
        }
        let page = PhysicalMemory.pageSize
        let areaSize = (list.count + 1) * page
        guard let offset = allocVA(size: areaSize, align: page) else {
            warnNoVA(areaSize, .kernel)
            return nil
        }
        var runs: [FrameRun] = []
        for (i, pg) in list.enumerated() { FrameRun.append(pfn: pg.pfn, count: 1, page: i, to: &runs, memory: memory) }
        var record = AreaRecord(
            offset: offset, size: areaSize, requested: list.count * page, nrPages: list.count,
            classPages: list.count,
            flags: flags.union(.map), kind: kind, caller: site,
            blocks: [], runs: runs, mapRamList: kind == .vmMapRam ? list : [], node: NUMA_NO_NODE,
            vmaCost: runs.count + 1, prot: prot, pageArray: UInt(bitPattern: pageArray))
        guard mapArea(record, prot: prot, gfp: .kernel) else {
            areas.releaseVA(offset: offset, size: areaSize)
            return nil
        }
        record.leafTable = pageTable.leaf(offset: offset)
        areas.insertBusy(record)
        return areas.address(offset)
    }

    // MARK: purge

    /// `__purge_vmap_area_lazy` with a full pool decay (reclaim, a shortage, `vm_unmap_aliases`,
    /// the free page reporter): unmap every lazily freed area of all shards, free their frames
    /// and return their VA. Returns the frames freed.
    @discardableResult
    func purgeLazy() -> Int {
        (0..<areas.shardCount).reduce(0) { $0 + purge(shard: $1) }
    }

    /// A lazy free left the shard of offset past its share of lazy pages (`due`): purge it,
    /// decaying its pools, as `purge_vmap_area_lazy` runs when `vmap_lazy_nr` passes the
    /// threshold. vfree's, vm_unmap_ram's and vrealloc's move end here.
    func purgeIfDue(_ due: Bool, offset: Int) {
        if due { purge(shard: areas.shardIndex(of: offset), decay: true) }
    }

    /// Purge shard `k`: take its lazily freed areas (with `decay`, as a free past the lazy
    /// threshold purges: the older part of each small pool stays, as the kernel's
    /// `decay_va_pool_node` leaves it; with `aliasesOnly`, only when it holds lingering
    /// `vm_map_ram` aliases: `VmapAreas.takeLazy`), unmap them (adjacent ones in one syscall),
    /// then give back their frames, VMAs and VA.
    @discardableResult
    private func purge(shard k: Int, decay: Bool = false, aliasesOnly: Bool = false) -> Int {
        let (batch, unmapped) = aliasPurge.withLock { _ -> ([AreaRecord], Bool) in
            let (batch, counted) = areas.takeLazy(shard: k, decay: decay, aliasesOnly: aliasesOnly)
            guard counted else { return (batch, false) }
            if !batch.isEmpty { mapper.unmap(batch) }
            // Only now, with their mappings gone, may the frames of the vm_map_ram areas be
            // freed: the shard's count in `lazyAliases` came with the batch (`takeLazy`).
            allocator.lazyAliases.wrappingSubtract(1, ordering: .releasing)
            return (batch, true)
        }
        guard !batch.isEmpty else { return 0 }
        if !unmapped { mapper.unmap(batch) }
        var freed = 0
        for r in batch {
            for b in r.blocks {
                allocator.free(pfn: b.pfn, order: b.order)
                freed += 1 << b.order
            }
            mapper.vmas.release(r.vmaCost)
        }
        areas.releaseVA(batch, shard: k)
        allocator.stat.add(.lazyPurges, batch.count)
        return freed
    }
}

extension VmallocSpace: ReclaimSource {
    /// Reclaim purges the lazily freed areas (their frames are free memory no one owns), after
    /// the RCU frees in flight have run and the kept areas are vfreed.
    func reclaim() -> Int { drainDeferredFrees() }
}

extension VmallocSpace: AliasPurger {
    /// An allocation found the buddy lists short while lazily freed areas hold free frames.
    @discardableResult
    func purgeAliases() -> Int { purgeAll() }

    /// Free page reporting's pass: the kept areas kept long enough vfreed, then `purgeLazy`
    /// after a pause in frees or when some went.
    func purgeIdleAliases(afterPause: Bool) -> (purged: Bool, waiting: Bool) {
        let kept = keptAreas.withLock { $0 }.object?.releaseIdleKeptAreas()
        let purge = afterPause || (kept?.released ?? 0) > 0
        if purge { purgeLazy() }
        return (purge, kept?.waiting ?? false)
    }

    /// A frame is being freed while lazily unmapped `vm_map_ram` areas may still map it: purge
    /// the shards that hold such areas, and no other (their lazily freed vmalloc areas stay
    /// for reuse).
    @discardableResult
    func purgeLingeringAliases() -> Int {
        (0..<areas.shardCount).reduce(0) { $0 + purge(shard: $1, aliasesOnly: true) }
    }
}
