import CShim

// vrealloc (mm/vmalloc.c): resize a vmalloc area, in place while its pages hold the new size.

extension VmallocSpace {
    /// `vrealloc` of a size other than 0: a size the area's pages cover only updates its requested
    /// size (shrinking keeps the pages, as the kernel's does); a larger size moves the
    /// content to a new area. `__GFP_ZERO` zeroes the bytes between the old and the new size in
    /// place. Inlined into its caller: the in-place resize, most calls, is one lookup under the
    /// shard lock; a new area, a move and a bad pointer are out of line, so that the caller's
    /// frame stays small.
    @inline(__always)
    func vreallocArea(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        guard size > 0, let p else { return vreallocNew(size, gfp, site: site) }
        guard areas.contains(p), let fit = areas.resize(at: p - areas.base, to: size) else {
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
