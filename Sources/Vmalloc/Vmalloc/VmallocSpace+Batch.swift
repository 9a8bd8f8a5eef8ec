import CShim

extension VmallocSpace {
    /// One-page areas made at once when a one-page vmalloc finds its home pool empty: a power
    /// of two, as their frames and the ones under their guards are one buddy block.
    static let batchAreas = 8

    /// A plain one-page vmalloc that found its home pool empty, served by a batch of
    /// `batchAreas` new one-page areas back to back: one VA range, one block of twice as many
    /// frames (every second frame the areas', the others free again at once), one `mmap` and a
    /// guard marker per area. The first area is the caller's; the others are lazily freed onto
    /// the home pool at once, so the next one-page vmallocs take them with no syscall. Why: a
    /// new area costs an `mmap`, which takes the process's mmap lock for writing, and a marker
    /// and a populate; threads that make areas together (`kvfree_rcu` holds thousands in flight
    /// until their grace period, and starts cold after a purge) waited on that lock. Opportunistic:
    /// nil, with nothing taken, unless the guard is a marker in the area's mapping, vfree pools
    /// freed areas (`freesLazilyFast`), no fault injection is armed (a test's injected failure
    /// must meet the path it expects), and the frames (above the low watermark, no reclaim), the
    /// VA, the VMA budget and the mapping are had at once; the caller then makes one area the
    /// usual way. The frames are tried first: under fragmentation the block is what fails, and
    /// trying it first leaves the VA tree alone.
    func vmallocBatch(_ size: Int, gfp: GFP, node: Int, zero: Bool, site: CallSite) -> UnsafeMutableRawPointer? {
        guard mapper.guardMarkers, areas.freesLazilyFast, !faults.isArmed else { return nil }
        let page = PhysicalMemory.pageSize
        let count = Self.batchAreas
        let areaSize = 2 * page
        let order = Int.bitWidth - 1 - (2 * count).leadingZeroBitCount
        guard
            let first = allocator.allocStridedOpportunistic(
                Self.opportunistic(gfp), order: order, stride: 2, node: node, owner: VMSHIM_OWNER_VMALLOC)
        else { return nil }
        let frames = (0..<count).map { (pfn: first + 2 * $0, order: 0) }
        guard let offset = areas.allocVA(size: count * areaSize, align: page) else {
            freeBlocks(frames)
            return nil
        }
        let mapped = withThreadScope(mappingScope(gfp)) { () -> Bool in
            guard pageTable.populate(offset: offset, count: 2 * count) else { return false }
            guard mapper.vmas.charge(count) else { return false }
            guard case .success = mapper.mapOnePageBatch(offset: offset, pfn: first, count: count) else {
                mapper.vmas.release(count)
                return false
            }
            return true
        }
        guard mapped else {
            freeBlocks(frames)
            areas.releaseVA(offset: offset, size: count * areaSize)
            return nil
        }
        for (i, f) in frames.enumerated() {
            var record = AreaRecord(
                offset: offset + i * areaSize, size: areaSize, requested: i == 0 ? size : page, nrPages: 1,
                classPages: 1, flags: .alloc, kind: .vmalloc, caller: site, blocks: [f],
                runs: [FrameRun(page: 0, pfn: f.pfn, count: 1)], node: node, vmaCost: 1, guardInMapping: true)
            record.leafTable = pageTable.leaf(offset: record.offset)
            areas.insertBusy(record)
            // Freed as vfree frees it: pooled (lazily freed), its frame counted free.
            if i > 0 { freeArea(areas.address(record.start), kind: .vmalloc, function: "vfree") }
        }
        pageTable.mapOwner(FrameRun(page: 0, pfn: first, count: 1), from: 0, base: offset, leaf: 0)
        let p = areas.address(offset)
        if zero { vmshim_zero(p, page) }
        return p
    }
}
