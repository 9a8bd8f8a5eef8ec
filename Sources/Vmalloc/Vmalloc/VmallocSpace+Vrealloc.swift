import CShim

// vrealloc (mm/vmalloc.c): resize a vmalloc area, in place while its pages hold the new size.

extension VmallocSpace {
    /// `vrealloc` of a size other than 0: a size the area's pages cover only updates its requested
    /// size (shrinking keeps the pages, as the kernel's does); a larger size moves the
    /// content to a new area. `__GFP_ZERO` zeroes the bytes between the old and the new size in
    /// place.
    func vreallocArea(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        guard size > 0 else {
            log.warnOnce("vrealloc: invalid size \(size) from \(site)", site: "vrealloc-size@\(site)")
            return nil
        }
        guard let p else {
            return vmallocNodeRange(
                size, align: PhysicalMemory.pageSize, gfp: gfp, node: NUMA_NO_NODE, flags: .alloc, site: site)
        }
        guard areas.contains(p), let fit = areas.resize(at: p - areas.base, to: size) else {
            log.warn("Trying to vrealloc() nonexistent vm area (\(p))", site: "vrealloc-bad")
            return nil
        }
        switch fit {
        case .resized(let oldSize):
            if gfp.contains(.zero) && size != oldSize {
                let (from, to) = (min(size, oldSize), max(size, oldSize))
                vmshim_zero(p + from, to - from)
            }
            return p
        case .tooSmall(let oldSize):
            guard
                let n = vmallocNodeRange(
                    size, align: PhysicalMemory.pageSize, gfp: gfp, node: NUMA_NO_NODE, flags: .alloc, site: site)
            else { return nil }
            vmshim_copy(n, p, oldSize)
            freeArea(p, kind: .vmalloc, function: "vfree()")
            return n
        }
    }
}
