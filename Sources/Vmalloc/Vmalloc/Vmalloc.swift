import CShim
import Glibc

/// The vmalloc family (mm/vmalloc.c): virtually contiguous areas built from scattered frames.
extension MemorySystem {
    static var pageSize: Int { PhysicalMemory.pageSize }

    /// The scope the mapping step runs under: the seed patch's rule, extended as in newer
    /// kernels to non-blocking and NORETRY/RETRY_MAYFAIL masks (their page tables get no reclaim).
    func mappingScope(_ gfp: GFP) -> ScopeFlags {
        guard configuration.pageTableScope == .fromCaller else { return [] }
        var flags: ScopeFlags = []
        switch gfp.intersection([.fs, .io]) {
        case .io: flags.insert(.noFS)
        case []: flags.insert(.noIO)
        default: break
        }
        if !gfp.allowsBlocking || !gfp.isDisjoint(with: [.noRetry, .retryMayFail]) { flags.insert(.memalloc) }
        return flags
    }

    /// Whether `node` is a node of this system or `NUMA_NO_NODE`; otherwise warns once per call
    /// site, naming the node count (DESIGN §5), and the caller returns nil.
    func validNode(_ node: Int, _ function: String, site: @autoclosure () -> String) -> Bool {
        guard node != NUMA_NO_NODE && !(0..<memory.nodeCount).contains(node) else { return true }
        let at = site()
        log.warnOnce("\(function): node \(node) out of range: this system has \(memory.nodeCount) node(s) (\(at))",
                     site: "\(function)-node@\(at)")
        return false
    }

    private func reportFailure(_ size: Int, _ gfp: GFP, _ what: String, _ site: CallSite) {
        pages.stat.add(.vmallocFailures)
        pages.stat.countFailure(gfp)
        guard !gfp.contains(.noWarn) else { return }
        // The effective mask: the caller's under the thread's and task's scopes.
        let mode = current_gfp_context(gfp).modeString
        log.warn("\(PageAllocator.comm): vmalloc error: size \(size), \(what), mode:\(mode), nodemask=(null)",
                 site: "vmalloc-error@\(site)")
    }

    /// `__vmalloc_node_range`: everything vmalloc-like lands here.
    func vmallocNodeRange(_ size: Int, align: Int, gfp gfpIn: GFP, node: Int, flags: VMFlags,
                          site: CallSite) -> UnsafeMutableRawPointer? {
        guard size > 0 else {
            log.warnOnce("vmalloc: invalid size \(size) from \(site)", site: "size@\(site)")
            return nil
        }
        guard align > 0, align & (align - 1) == 0 else {
            log.warnOnce("vmalloc: alignment \(align) is not a power of two (\(site))", site: "align@\(site)")
            return nil
        }
        guard validNode(node, "vmalloc", site: "\(site)") else { return nil }
        // Callers that must not pass unsupported bits had them fixed up (`vmallocFixFlags`).
        var gfp = gfpIn
        // Checked here too so that fs_reclaim reports name the vmalloc caller, not a step inside.
        if vmshim_held_count() > 0 { pages.reclaim.checkHeldLocks(gfp, scope: .current, site: site.description) }
        // NOFAIL misuse is warned here, naming the vmalloc caller: a mask that cannot sleep drops
        // it; under PF_MEMALLOC it stays and waits for frames that others free.
        gfp = pages.checkNofail(gfp, order: 0, site: site.description)
        if gfp.contains(.noFail) && ScopeFlags.current.contains(.memalloc) {
            pages.warnNofailUnderMemalloc(gfp, site: site.description)
        }
        let page = Self.pageSize
        let (rounded, overflow) = size.addingReportingOverflow(page - 1)
        let nrPages = overflow ? Int.max : rounded / page
        guard nrPages <= memory.totalPages, nrPages * page <= vmap.regionSize - page else {
            reportFailure(size, gfp, "exceeds total pages", site)
            return nil
        }
        let align = max(align, flags.contains(.allowHugeVmap) && nrPages >= 512 ? 1 << 21 : page)
        let zero = gfp.contains(.zero)
        gfp.remove(.zero)

        if !vmap.immediateUnmap, flags == .alloc,
           let off = vmap.reuseLazy(pages: nrPages, node: node, align: align, requested: size, caller: site, pageTable: pageTable) {
            let p = vmap.address(off)
            if zero { vmshim_zero(p, nrPages * page) }
            return p
        }

        let guardBytes = flags.contains(.noGuard) ? 0 : page
        let areaSize = nrPages * page + guardBytes
        guard let offset = allocVA(areaSize, align: align, gfp: gfp, size: size, site: site) else { return nil }
        guard let unsorted = allocFrames(nrPages, gfp: gfp, node: node) else {
            vmap.releaseVA(offset: offset, size: areaSize)
            reportFailure(size, gfp, "failed to allocate pages", site)
            return nil
        }
        var runs: [FrameRun] = []
        var at = 0
        // Frames may sit in the area in any order: ascending pfns make the fewest runs (mmaps).
        let blocks = unsorted.sorted { $0.pfn < $1.pfn }
        for b in blocks {
            let n = 1 << b.order
            if let last = runs.last, last.pfn + last.count == b.pfn, memory.node(of: last.pfn) == memory.node(of: b.pfn) {
                runs[runs.count - 1].count += n
            } else {
                runs.append(FrameRun(page: at, pfn: b.pfn, count: n))
            }
            at += n
        }
        let record = AreaRecord(offset: offset, size: areaSize, requested: size, nrPages: nrPages, flags: flags,
                                kind: .vmalloc, caller: site, blocks: blocks, runs: runs, node: node, align: align,
                                vmaCost: runs.count + 1)
        // The seed: page tables are allocated with a fixed GFP_KERNEL-like mask, so the
        // caller's NOFS/NOIO can only reach them through the scope.
        let mapped = withThreadScope(mappingScope(gfp)) { mapArea(record, prot: .readWrite, gfp: gfp) }
        guard mapped else {
            for b in blocks { pages.free(pfn: b.pfn, order: b.order) }
            vmap.releaseVA(offset: offset, size: areaSize)
            reportFailure(size, gfp, "failed to map pages", site)
            return nil
        }
        vmap.insertBusy(record)
        let p = vmap.address(offset)
        if zero { vmshim_zero(p, nrPages * page) }
        return p
    }

    /// VA for an area; a failure purges the lazy areas and tries again, and NOFAIL waits a
    /// tick and retries for ever (`alloc_vmap_area`'s retry).
    private func allocVA(_ bytes: Int, align: Int, gfp: GFP, size: Int, site: CallSite) -> Int? {
        while true {
            if let off = vmap.allocVA(size: bytes, align: align, purgingFor: pages) { return off }
            guard gfp.contains(.noFail) else {
                reportFailure(size, gfp, "vmap allocation failed: no VA space", site)
                return nil
            }
            pages.stat.add(.nofailRetries)
            pages.waitForFree(since: pages.freeEvents.load(ordering: .acquiring))
        }
    }

    /// Frames for nrPages, high-order blocks first so the area is a few runs: high orders are
    /// tried without reclaim, warnings or NOFAIL; order 0 carries the caller's full mask.
    private func allocFrames(_ nrPages: Int, gfp: GFP, node: Int) -> [(pfn: Int, order: Int)]? {
        var blocks: [(pfn: Int, order: Int)] = []
        var remaining = nrPages
        var order = PageAllocator.maxOrder
        let light = gfp.subtracting([.noFail, .directReclaim, .retryMayFail]).union([.noWarn, .noRetry])
        while remaining > 0 {
            order = min(order, Int.bitWidth - remaining.leadingZeroBitCount - 1)
            if order > 0 {
                if let p = pages.allocate(light, order: order, node: node, owner: UInt8(VMSHIM_OWNER_VMALLOC)) {
                    blocks.append((p.pfn, order))
                    remaining -= 1 << order
                } else {
                    order -= 1
                }
                continue
            }
            guard let p = pages.allocate(gfp.union(.noWarn), order: 0, node: node, owner: UInt8(VMSHIM_OWNER_VMALLOC)) else {
                for b in blocks { pages.free(pfn: b.pfn, order: b.order) }
                return nil
            }
            blocks.append((p.pfn, 0))
            remaining -= 1
        }
        return blocks
    }

    /// Build page tables, spend the VMA budget and mmap each run; undo all of it on failure.
    /// NOFAIL retries after purging lazy areas and waiting.
    func mapArea(_ r: AreaRecord, prot: PageProtection, gfp: GFP) -> Bool {
        while true {
            if tryMap(r, prot: prot) { return true }
            guard gfp.contains(.noFail) else { return false }
            pages.stat.add(.nofailRetries)
            let seen = pages.freeEvents.load(ordering: .acquiring)
            if vmap.purgeLazy(pages: pages) == 0 { pages.waitForFree(since: seen) }
        }
    }

    private func tryMap(_ r: AreaRecord, prot: PageProtection) -> Bool {
        guard pageTable.populate(offset: r.offset, count: r.nrPages, pages: pages) else { return false }
        if !vmap.vmas.charge(r.vmaCost) {
            _ = vmap.purgeLazy(pages: pages)
            guard vmap.vmas.charge(r.vmaCost) else {
                log.warn("vmalloc: VMA budget spent (vm.max_map_count): this system uses \(vmap.vmas.used.load(ordering: .relaxed)), the process \(VMABudget.process.used.load(ordering: .relaxed)) of \(VMABudget.process.limit)",
                         site: "vma-budget")
                return false
            }
        }
        if let e = vmap.mapRuns(offset: r.offset, runs: r.runs, prot: prot) {
            vmap.vmas.release(r.vmaCost)
            log.warn("vmalloc: mmap of an area failed: errno \(e)", site: "mmap-failed")
            return false
        }
        pageTable.map(r)
        return true
    }

    /// Release the frames of an area removed without laziness (immediate-unmap mode).
    private func releaseNow(_ r: AreaRecord) {
        vmap.unmap(offset: r.offset, bytes: r.size)
        for b in r.blocks { pages.free(pfn: b.pfn, order: b.order) }
        vmap.vmas.release(r.vmaCost)
        vmap.releaseVA(offset: r.offset, size: r.size)
    }

    func freeArea(_ p: UnsafeMutableRawPointer?, kind: AreaKind, function: String, pageCount: Int? = nil) {
        guard let p else { return }
        guard vmap.contains(p), Int(bitPattern: p) % Self.pageSize == 0 else {
            log.warn("Trying to \(function) nonexistent vm area (\(p))", site: "free-bad-\(function)")
            return
        }
        let offset = p - vmap.base
        // vmalloc areas and vm_map_ram areas are unmapped lazily (vunmap at once: its caller
        // expects the mapping gone), unless every use after free must fault.
        let lazy = kind != .vmap && !vmap.immediateUnmap
        let result = vmap.removeBusy(offset: offset, kind: kind, pageTable: pageTable, lazy: lazy) { r in
            pageCount.map { $0 == r.nrPages } ?? true
        }
        switch result {
        case .removed(let r, let due):
            if lazy && kind == .vmMapRam { pages.lazyAliases.add(1, ordering: .releasing) }
            if !lazy { releaseNow(r) } else if due { vmap.purgeLazy(pages: pages, shardOf: offset) }
        case .wrongKind(let k):
            log.warn("\(function) called on an area of \(k.freeFunction) (\(p)): use \(k.freeFunction); nothing freed",
                     site: "free-kind-\(function)")
        case .notFound:
            if let n = pageCount {
                log.warn("\(function)(\(p), \(n)): no vm_map_ram area of \(n) pages there", site: "free-bad-\(function)")
            } else {
                log.warn("Trying to \(function) nonexistent vm area (\(p))", site: "free-bad-\(function)")
            }
        }
    }

    /// Map caller-owned frames contiguously (`vmap`, `vm_map_ram`).
    func mapPages(_ list: [Page], prot: PageProtection, flags: VMFlags, kind: AreaKind, site: CallSite) -> UnsafeMutableRawPointer? {
        guard !list.isEmpty else {
            log.warnOnce("\(kind == .vmap ? "vmap" : "vm_map_ram"): no pages (\(site))", site: "map-empty@\(site)")
            return nil
        }
        if let bad = list.first(where: { !memory.isValid($0.pfn) }) {
            log.warn("\(kind == .vmap ? "vmap" : "vm_map_ram"): \(bad) is not a frame of this system (\(site))",
                     site: "map-bad@\(site)")
            return nil
        }
        let page = Self.pageSize
        if kind == .vmMapRam, !vmap.immediateUnmap,
           let off = vmap.reuseMapRam(list.map(\.pfn), caller: site, pageTable: pageTable) {
            pages.lazyAliases.subtract(1, ordering: .releasing)
            return vmap.address(off)
        }
        // vmap never honours VM_NO_GUARD.
        let areaSize = (list.count + 1) * page
        guard let offset = vmap.allocVA(size: areaSize, align: page, purgingFor: pages) else {
            log.warn("vmap allocation for size \(list.count * page) failed: use vmalloc=<size> to increase size",
                     site: "vmap-va")
            return nil
        }
        var runs: [FrameRun] = []
        for (i, pg) in list.enumerated() {
            if let last = runs.last, last.pfn + last.count == pg.pfn, memory.node(of: last.pfn) == memory.node(of: pg.pfn) {
                runs[runs.count - 1].count += 1
            } else {
                runs.append(FrameRun(page: i, pfn: pg.pfn, count: 1))
            }
        }
        let record = AreaRecord(offset: offset, size: areaSize, requested: list.count * page, nrPages: list.count,
                                flags: flags.union(.map).subtracting(.noGuard), kind: kind, caller: site,
                                blocks: [], runs: runs, node: NUMA_NO_NODE, align: page, vmaCost: runs.count + 1)
        guard mapArea(record, prot: prot, gfp: .kernel) else {
            vmap.releaseVA(offset: offset, size: areaSize)
            return nil
        }
        vmap.insertBusy(record)
        return vmap.address(offset)
    }
}
