import CVmallocKernel
import Vmalloc

// Pages behind <linux/gfp.h> and <linux/mm.h> (mm/page_alloc.c): a C `struct page *` is the
// frame's entry in the frame metadata array (MemorySystem.pagePointer / page(at:)).

@c @implementation
public func vmc_alloc_pages(_ gfp: UInt32, _ order: UInt32, _ node: Int32) -> UnsafeMutableRawPointer? {
    return system.alloc_pages_node(Int(node), GFP(rawValue: gfp), Int(order)).map(system.pagePointer)
}

@c @implementation
public func vmc_free_pages(_ page: UnsafeMutableRawPointer?, _ order: UInt32) {
    guard let page else { return }
    guard let frame = system.page(at: page) else {
        system.warn("BUG: Bad page state: __free_pages(\(page)): not a struct page", site: "c-free-pages")
        return
    }
    system.__free_pages(frame, Int(order))
}

@c @implementation
public func vmc_alloc_pages_bulk(
    _ gfp: UInt32, _ node: Int32, _ nr: UInt, _ pages: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> UInt {
    guard let pages else { return 0 }
    var filled: UInt = 0
    // The kernel's bulk allocator fills the empty slots and stops at the first frame it cannot
    // get; slots already filled are left alone and counted.
    for i in 0..<Int(nr) {
        if pages[i] == nil {
            guard let page = system.alloc_pages_node(Int(node), GFP(rawValue: gfp), 0) else { break }
            pages[i] = system.pagePointer(page)
        }
        filled += 1
    }
    return filled
}

@c @implementation
public func vmc_page_address(_ page: UnsafeRawPointer?) -> UnsafeMutableRawPointer? {
    guard let page, let frame = system.page(at: page) else { return nil }
    return system.page_address(frame)
}

@c @implementation
public func vmc_virt_to_page(_ addr: UnsafeRawPointer?) -> UnsafeMutableRawPointer? {
    guard let addr, let frame = system.page(containingDirectMapAddress: addr) else { return nil }
    return system.pagePointer(frame)
}

@c @implementation
public func vmc_page_to_nid(_ page: UnsafeRawPointer?) -> Int32 {
    guard let page, let frame = system.page(at: page) else { return -1 }
    return Int32(system.page_to_nid(frame))
}

@c @implementation
public func vmc_page_to_pfn(_ page: UnsafeRawPointer?) -> UInt {
    guard let page, let frame = system.page(at: page) else { return UInt.max }
    return UInt(frame.pfn)
}

@c @implementation
public func vmc_pfn_to_page(_ pfn: UInt) -> UnsafeMutableRawPointer? {
    guard pfn < UInt(Int.max), system.page(at: system.pagePointer(Page(pfn: 0)).advanced(by: Int(pfn) * 16)) != nil
    else { return nil }
    return system.pagePointer(Page(pfn: Int(pfn)))
}

@c @implementation
public func vmc_nr_free_pages() -> UInt { UInt(system.nrFreePages) }

@c @implementation
public func vmc_totalram_pages() -> UInt { UInt(system.meminfo().memTotal / 4096) }

@c @implementation
public func vmc_vmalloc_nr_pages() -> UInt { UInt(system.meminfo().vmallocUsed / 4096) }

@c @implementation
public func vmc_nr_node_ids() -> Int32 { Int32(system.nodeCount) }
