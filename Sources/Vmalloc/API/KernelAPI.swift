import CShim

// The kernel-spelled API as methods of a MemorySystem (tests use small instances) and as free
// functions over `MemorySystem.shared`. The trailing `file`/`line` parameters record the
// allocation site, which /proc/vmallocinfo and fault reports print as the caller.

extension MemorySystem {
    /// `__vmalloc_node_range` for every vmalloc entry point. `fixFlags` masks off what vmalloc
    /// does not support, with the kernel's warning, where the kernel calls `vmalloc_fix_flags`
    /// (`__vmalloc`, `vmalloc_huge`, `vmalloc_array`, `vcalloc`); `huge` is `VM_ALLOW_HUGE_VMAP`.
    package func vmallocNode(
        _ size: Int, align: Int, _ gfp: GFP, node: Int, fixFlags: Bool = false, huge: Bool = false, site: CallSite
    ) -> UnsafeMutableRawPointer? {
        space.vmallocNodeRange(
            size, align: align, gfp: fixFlags ? space.vmallocFixFlags(gfp, site) : gfp, node: node,
            flags: huge ? [.alloc, .allowHugeVmap] : .alloc, site: site)
    }
    /// Allocate `size` bytes of virtually contiguous memory (`vmalloc`).
    public func vmalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        vmallocNode(
            size, align: PhysicalMemory.pageSize, gfp, node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// `vmalloc` of zeroed memory (`vzalloc`).
    public func vzalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        vmallocNode(
            size, align: PhysicalMemory.pageSize, gfp.union(.zero), node: NUMA_NO_NODE,
            site: CallSite(file: file, line: line))
    }
    /// `vmalloc` preferring frames of `node` (`vmalloc_node`).
    public func vmalloc_node(
        _ size: Int, _ node: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        vmallocNode(size, align: PhysicalMemory.pageSize, gfp, node: node, site: CallSite(file: file, line: line))
    }
    /// Zeroed `vmalloc_node` (`vzalloc_node`).
    public func vzalloc_node(_ size: Int, _ node: Int, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        vmallocNode(
            size, align: PhysicalMemory.pageSize, [.kernel, .zero], node: node, site: CallSite(file: file, line: line))
    }
    /// `vmalloc` with an explicit mask (`__vmalloc`): GFP_NOFS, GFP_NOIO, GFP_NOWAIT, NOFAIL...
    /// Unsupported bits are masked off with a warning (`vmalloc_fix_flags`, as `__vmalloc_noprof`).
    public func __vmalloc(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        vmallocNode(
            size, align: PhysicalMemory.pageSize, gfp, node: NUMA_NO_NODE, fixFlags: true,
            site: CallSite(file: file, line: line))
    }
    /// `vmalloc` with alignment, mask and node (`__vmalloc_node`).
    public func __vmalloc_node(
        _ size: Int, align: Int, _ gfp: GFP, node: Int, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        vmallocNode(size, align: align, gfp, node: node, site: CallSite(file: file, line: line))
    }
    /// `vmalloc` that may use 2 MiB alignment for large areas (`vmalloc_huge`).
    /// Unsupported bits are fixed up as `vmalloc_huge_node_noprof` does (`vmalloc_fix_flags`).
    public func vmalloc_huge(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        vmallocNode(
            size, align: PhysicalMemory.pageSize, gfp, node: NUMA_NO_NODE, fixFlags: true, huge: true,
            site: CallSite(file: file, line: line))
    }
    /// `vmalloc` of n elements of `size` bytes; nil when n * size overflows (`vmalloc_array`).
    public func vmalloc_array(
        _ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        guard let bytes = arraySize(n, size) else { return nil }
        // `__vmalloc_array` goes through `__vmalloc_noprof`, so its mask is fixed up too.
        return vmallocNode(
            bytes, align: PhysicalMemory.pageSize, gfp, node: NUMA_NO_NODE, fixFlags: true,
            site: CallSite(file: file, line: line))
    }
    /// Zeroed `vmalloc_array` (`vcalloc`).
    public func vcalloc(_ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        vmalloc_array(n, size, gfp.union(.zero), file: file, line: line)
    }
    /// Free a vmalloc area, or unmap a vmap area as `vunmap` does (`vfree`); nil is a no-op.
    /// The frames of a vmap area stay the caller's unless `VM_MAP_PUT_PAGES` handed them over:
    /// then each is freed as `__free_page` frees it, and the handed-over page array is kvfreed.
    /// Anything else reports and changes nothing.
    public func vfree(_ p: UnsafeMutableRawPointer?) { kv.vfree(p) }
    /// Map frames contiguously (`vmap`). The frames stay the caller's, unless `flags` holds
    /// `VM_MAP_PUT_PAGES`: then the area owns them once mapped, and `vfree` of it frees them.
    /// `VM_FLUSH_RESET_PERMS` is refused (nil) and `VM_NO_GUARD` cleared, each with a warning.
    public func vmap(
        _ pages: [Page], _ flags: VMFlags = [], _ prot: PageProtection = .readWrite, file: StaticString = #fileID,
        line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        vmap(pages, flags, prot, pageArray: nil, site: CallSite(file: file, line: line))
    }
    /// `vmap` for every entry point. With `VM_MAP_PUT_PAGES`, `pageArray` is the caller's
    /// kvmalloc'd array of the pages (a C caller's `struct page **`): once mapped the area owns
    /// it too, and `vfree` kvfrees it; nil: none to free.
    package func vmap(
        _ pages: [Page], _ flags: VMFlags, _ prot: PageProtection, pageArray: UnsafeMutableRawPointer?, site: CallSite
    ) -> UnsafeMutableRawPointer? {
        space.mapPages(pages, prot: prot, flags: flags, kind: .vmap, pageArray: pageArray, site: site)
    }
    /// Unmap a `vmap` area (`vunmap`); nil is a no-op. As the kernel's, it frees nothing, even
    /// what `VM_MAP_PUT_PAGES` handed over (the pages and array stay allocated).
    public func vunmap(_ p: UnsafeMutableRawPointer?) {
        space.freeArea(p, kind: .vmap, function: "vunmap()")
    }
    /// Map frames for a short while (`vm_map_ram`). `node` says where its VA bookkeeping would
    /// live; one that is neither a node of this system nor `NUMA_NO_NODE` is refused with a
    /// warning, as vmalloc refuses it.
    public func vm_map_ram(
        _ pages: [Page], _ node: Int = NUMA_NO_NODE, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        vm_map_ram(pages, node, site: CallSite(file: file, line: line))
    }
    /// `vm_map_ram` for every entry point.
    package func vm_map_ram(_ pages: [Page], _ node: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        space.vmMapRam(pages, node: node, site: site)
    }
    /// Unmap a `vm_map_ram` area of `count` pages (`vm_unmap_ram`).
    public func vm_unmap_ram(_ p: UnsafeMutableRawPointer, _ count: Int) {
        space.freeArea(p, kind: .vmMapRam, function: "vm_unmap_ram()", pageCount: count)
    }
    /// The frame mapped at a vmalloc address (`vmalloc_to_page`).
    public func vmalloc_to_page(_ p: UnsafeRawPointer) -> Page? { vmalloc_to_pfn(p).map(Page.init(pfn:)) }
    /// The pfn mapped at a vmalloc address (`vmalloc_to_pfn`).
    public func vmalloc_to_pfn(_ p: UnsafeRawPointer) -> Int? { space.pfn(at: p) }
    /// Whether p lies in the vmalloc region (`is_vmalloc_addr`).
    public func is_vmalloc_addr(_ p: UnsafeRawPointer?) -> Bool { space.contains(p) }
    /// The live area containing p (`find_vm_area`).
    public func find_vm_area(_ p: UnsafeRawPointer) -> VMArea? { findVMArea(p)?.area }
    /// `find_vm_area` with the caller as recorded (a C caller's return address stays one).
    package func findVMArea(_ p: UnsafeRawPointer) -> (area: VMArea, caller: CallSite)? { space.findArea(p) }
    /// Purge every lazily freed area now: its mapping, frames and VA come back (`vm_unmap_aliases`).
    /// The per-CPU allocator's kept empty chunks stay, as the kernel's leaves percpu chunks alone:
    /// callers (a benchmark settling between runs) purge this way without emptying that cache.
    public func vm_unmap_aliases() { space.purgeLazy() }

    // MARK: pages

    /// 2^order contiguous frames (`alloc_pages`).
    public func alloc_pages(_ gfp: GFP, _ order: Int) -> Page? { alloc_pages_node(NUMA_NO_NODE, gfp, order) }
    /// 2^order contiguous frames preferring `node` (`alloc_pages_node`).
    public func alloc_pages_node(_ node: Int, _ gfp: GFP, _ order: Int) -> Page? {
        allocator.allocPagesNode(node, gfp, order: order)
    }
    public func alloc_page(_ gfp: GFP) -> Page? { alloc_pages_node(NUMA_NO_NODE, gfp, 0) }
    /// Free a block from `alloc_pages` (`__free_pages`). A block not allocated by alloc_pages
    /// with this order reports "Bad page state" and nothing changes.
    public func __free_pages(_ page: Page, _ order: Int) {
        allocator.freePages(page, order: order, function: "__free_pages")
    }
    /// Free one frame (`__free_page`).
    public func __free_page(_ page: Page) { __free_pages(page, 0) }
    /// The direct-map address of a frame (`page_address`).
    public func page_address(_ page: Page) -> UnsafeMutableRawPointer {
        precondition(memory.isValid(page.pfn), "page_address(\(page)): not a frame of this system")
        return memory.address(of: page.pfn)
    }
    /// The node a frame belongs to (`page_to_nid`).
    public func page_to_nid(_ page: Page) -> Int {
        precondition(memory.isValid(page.pfn), "page_to_nid(\(page)): not a frame of this system")
        return memory.node(of: page.pfn)
    }
}

/// `vmalloc` on `MemorySystem.shared`.
public func vmalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.vmalloc(size, gfp, file: file, line: line)
}
/// `vzalloc` on `MemorySystem.shared`.
public func vzalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.vzalloc(size, gfp, file: file, line: line)
}
/// `vmalloc_node` on `MemorySystem.shared`.
public func vmalloc_node(
    _ size: Int, _ node: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line
) -> UnsafeMutableRawPointer? {
    MemorySystem.shared.vmalloc_node(size, node, gfp, file: file, line: line)
}
/// `vzalloc_node` on `MemorySystem.shared`.
public func vzalloc_node(_ size: Int, _ node: Int, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.vzalloc_node(size, node, file: file, line: line)
}
/// `__vmalloc` on `MemorySystem.shared`.
public func __vmalloc(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.__vmalloc(size, gfp, file: file, line: line)
}
/// `__vmalloc_node` on `MemorySystem.shared`.
public func __vmalloc_node(
    _ size: Int, align: Int, _ gfp: GFP, node: Int, file: StaticString = #fileID, line: UInt = #line
) -> UnsafeMutableRawPointer? {
    MemorySystem.shared.__vmalloc_node(size, align: align, gfp, node: node, file: file, line: line)
}
/// `vmalloc_huge` on `MemorySystem.shared`.
public func vmalloc_huge(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.vmalloc_huge(size, gfp, file: file, line: line)
}
/// `vmalloc_array` on `MemorySystem.shared`.
public func vmalloc_array(_ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.vmalloc_array(n, size, gfp, file: file, line: line)
}
/// `vcalloc` on `MemorySystem.shared`.
public func vcalloc(_ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.vcalloc(n, size, gfp, file: file, line: line)
}
/// `vfree` on `MemorySystem.shared`.
public func vfree(_ p: UnsafeMutableRawPointer?) { MemorySystem.shared.vfree(p) }
/// `vmap` on `MemorySystem.shared`.
public func vmap(
    _ pages: [Page], _ flags: VMFlags = [], _ prot: PageProtection = .readWrite, file: StaticString = #fileID,
    line: UInt = #line
) -> UnsafeMutableRawPointer? {
    MemorySystem.shared.vmap(pages, flags, prot, file: file, line: line)
}
/// `vunmap` on `MemorySystem.shared`.
public func vunmap(_ p: UnsafeMutableRawPointer?) { MemorySystem.shared.vunmap(p) }
/// `vm_map_ram` on `MemorySystem.shared`.
public func vm_map_ram(_ pages: [Page], _ node: Int = NUMA_NO_NODE, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.vm_map_ram(pages, node, file: file, line: line)
}
/// `vm_unmap_ram` on `MemorySystem.shared`.
public func vm_unmap_ram(_ p: UnsafeMutableRawPointer, _ count: Int) { MemorySystem.shared.vm_unmap_ram(p, count) }
/// `vmalloc_to_page` on `MemorySystem.shared`.
public func vmalloc_to_page(_ p: UnsafeRawPointer) -> Page? { MemorySystem.shared.vmalloc_to_page(p) }
/// `vmalloc_to_pfn` on `MemorySystem.shared`.
public func vmalloc_to_pfn(_ p: UnsafeRawPointer) -> Int? { MemorySystem.shared.vmalloc_to_pfn(p) }
/// `is_vmalloc_addr` on `MemorySystem.shared`.
public func is_vmalloc_addr(_ p: UnsafeRawPointer?) -> Bool { MemorySystem.shared.is_vmalloc_addr(p) }
/// `find_vm_area` on `MemorySystem.shared`.
public func find_vm_area(_ p: UnsafeRawPointer) -> VMArea? { MemorySystem.shared.find_vm_area(p) }
/// `vm_unmap_aliases` on `MemorySystem.shared`.
public func vm_unmap_aliases() { MemorySystem.shared.vm_unmap_aliases() }
/// `alloc_pages` on `MemorySystem.shared`.
public func alloc_pages(_ gfp: GFP, _ order: Int) -> Page? { MemorySystem.shared.alloc_pages(gfp, order) }
/// `alloc_pages_node` on `MemorySystem.shared`.
public func alloc_pages_node(_ node: Int, _ gfp: GFP, _ order: Int) -> Page? {
    MemorySystem.shared.alloc_pages_node(node, gfp, order)
}
/// `alloc_page` on `MemorySystem.shared`.
public func alloc_page(_ gfp: GFP) -> Page? { MemorySystem.shared.alloc_page(gfp) }
/// `__free_pages` on `MemorySystem.shared`.
public func __free_pages(_ page: Page, _ order: Int) { MemorySystem.shared.__free_pages(page, order) }
/// `__free_page` on `MemorySystem.shared`.
public func __free_page(_ page: Page) { MemorySystem.shared.__free_page(page) }
/// `page_address` on `MemorySystem.shared`.
public func page_address(_ page: Page) -> UnsafeMutableRawPointer { MemorySystem.shared.page_address(page) }
/// `page_to_nid` on `MemorySystem.shared`.
public func page_to_nid(_ page: Page) -> Int { MemorySystem.shared.page_to_nid(page) }
/// `/proc/vmallocinfo` of `MemorySystem.shared`.
public func vmallocinfo() -> String { MemorySystem.shared.vmallocinfo() }
/// `/proc/meminfo` figures of `MemorySystem.shared`.
public func meminfo() -> MemInfo { MemorySystem.shared.meminfo() }
/// `/proc/buddyinfo` of `MemorySystem.shared`.
public func buddyinfo() -> String { MemorySystem.shared.buddyinfo() }
