import CShim

// vrealloc (mm/vmalloc.c): resize a vmalloc area, in place while its pages hold the new size.

extension VmallocSpace {
    /// `vrealloc` of a size other than 0: a size the area's pages cover only updates its requested
    /// size (shrinking keeps the pages, as the kernel's does); a larger size moves the
    /// content to a new area. `__GFP_ZERO` zeroes the bytes between the old and the new size in
    /// place. Inlined into its caller: the in-place resize, most calls, is one lookup under the
    /// shard lock, and a move of a few pages to an area of the home shard's reuse pool is too
    /// (`VmapAreas.moveLocked`); a new area, any other move and a bad pointer are out of line,
    /// so that the caller's frame stays small.
    @inline(__always)
    func vreallocArea(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        guard size > 0, let p else { return vreallocNew(size, gfp, site: site) }
        // `mayMove`, asked only for a move: whether vmalloc's reuse may serve the new size. A
        // closure literal, not a local: a local closure escapes, and would retain the space.
        guard areas.contains(p),
            let fit = areas.resize(
                at: p - areas.base, to: size, caller: site, pageTable: pageTable,
                mayMove: { isCommon(size, align: PhysicalMemory.pageSize, gfp: gfp, node: NUMA_NO_NODE, flags: .alloc) }
            )
        else {
            return vreallocNonexistent(p)
        }
        switch fit {
        case .resized(let oldSize):
            if gfp.contains(.zero) && size != oldSize {
                let (from, to) = (min(size, oldSize), max(size, oldSize))
                vmshim_zero(p + from, to - from)
            }
            return p
        case .tooSmall(let oldSize):
            return vreallocMove(p, from: oldSize, to: size, gfp, site: site)
        case .moved(let offset, let copied, let purgeDue):
            return vreallocMoved(from: p, to: offset, copied: copied, size: size, gfp, purgeDue: purgeDue)
        }
    }

    /// `vrealloc` of nil (a new area) or of an invalid size (a warning, nil).
    @inline(never)
    private func vreallocNew(_ size: Int, _ gfp: GFP, site: CallSite) -> UnsafeMutableRawPointer? {
        guard size > 0 else {
            log.warnOnce("vrealloc: invalid size \(size) from \(site)", site: "vrealloc-size@\(site)")
            return nil
        }
        return vmallocNodeRange(
            size, align: PhysicalMemory.pageSize, gfp: gfp, node: NUMA_NO_NODE, flags: .alloc, site: site)
    }

    /// `vrealloc` of p, which starts no live vmalloc area: the kernel's warning, nil.
    @inline(never)
    private func vreallocNonexistent(_ p: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        log.warn("Trying to vrealloc() nonexistent vm area (\(p))", site: "vrealloc-bad")
        return nil
    }

    /// The rest of a move that `VmapAreas.moveLocked` made from p: the new area's pages past the
    /// `copied` bytes zeroed for `__GFP_ZERO` (its own now, so outside the lock), and the purge
    /// of p's shard if the free made one due, as vmalloc's reuse and vfree finish.
    @inline(never)
    private func vreallocMoved(
        from p: UnsafeMutableRawPointer, to offset: Int, copied: Int, size: Int, _ gfp: GFP, purgeDue: Bool
    ) -> UnsafeMutableRawPointer {
        let n = areas.address(offset)
        if gfp.contains(.zero) {
            let page = PhysicalMemory.pageSize
            vmshim_zero(n + copied, (size + page - 1) / page * page - copied)
        }
        purgeIfDue(purgeDue, offset: p - areas.base)
        return n
    }

    /// Move the `oldSize` bytes of p's area to a new area of `size` bytes and free p's (the
    /// kernel's "TODO: Grow the vm_area": a new vmalloc, a copy, a vfree); nil, p untouched, when
    /// no new area can be had.
    @inline(never)
    private func vreallocMove(
        _ p: UnsafeMutableRawPointer, from oldSize: Int, to size: Int, _ gfp: GFP, site: CallSite
    ) -> UnsafeMutableRawPointer? {
        guard
            let n = vmallocNodeRange(
                size, align: PhysicalMemory.pageSize, gfp: gfp, node: NUMA_NO_NODE, flags: .alloc, site: site)
        else { return nil }
        vmshim_copy(n, p, oldSize)
        freeArea(p, kind: .vmalloc, function: "vfree()")
        return n
    }
}
