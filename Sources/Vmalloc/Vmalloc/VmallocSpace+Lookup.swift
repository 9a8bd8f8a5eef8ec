// The region's lookups (mm/vmalloc.c): `is_vmalloc_addr`, `vmalloc_to_pfn`, `find_vm_area`.

extension VmallocSpace {
    /// `is_vmalloc_addr`: whether p lies in the region (nil does not).
    @inline(__always)
    func contains(_ p: UnsafeRawPointer?) -> Bool { p.map(areas.contains) ?? false }

    /// `vmalloc_to_pfn`: the frame the page table maps at p, nil outside the region or unmapped.
    func pfn(at p: UnsafeRawPointer) -> Int? {
        guard areas.contains(p) else { return nil }
        return pageTable.lookup(offset: p - UnsafeRawPointer(areas.base))
    }

    /// `find_vm_area`: the live area containing p and its caller as recorded (a C caller's
    /// return address stays one).
    func findArea(_ p: UnsafeRawPointer) -> (area: VMArea, caller: CallSite)? {
        guard areas.contains(p), let r = areas.area(containing: p - UnsafeRawPointer(areas.base)) else { return nil }
        let area = VMArea(
            addr: areas.address(r.start), size: r.reportedSize, requestedSize: r.requested, nrPages: r.nrPages,
            flags: r.flags, caller: r.caller.description, pagesPerNode: r.pagesPerNode(memory))
        return (area, r.caller)
    }
}
