import Testing
import VmallocTestSupport

@testable import Vmalloc

/// What `vmap`'s flags mean (mm/vmalloc.c `vmap`, `vfree`, `vunmap`): whose the pages are once
/// the area is freed, and the flags `vmap` refuses or clears.
@Suite struct VmapFlagsTests {
    /// Eight frames from `alloc_page`, each holding its index.
    private func callerPages(_ sys: MemorySystem) throws -> [Page] {
        let pages = (0..<8).compactMap { _ in sys.alloc_page(.kernel) }
        try #require(pages.count == 8)
        for (i, page) in pages.enumerated() { sys.page_address(page).storeBytes(of: i, as: Int.self) }
        return pages
    }

    /// `vmap` with `VM_MAP_PUT_PAGES` of `pages` and the array holding them, as the C surface calls it.
    private func handOver(_ sys: MemorySystem, _ pages: [Page], _ array: UnsafeMutableRawPointer?)
        -> UnsafeMutableRawPointer?
    {
        sys.vmap(pages, [.map, .mapPutPages], .readWrite, pageArray: array, site: CallSite(file: #fileID, line: #line))
    }

    /// `vfree` of a plain `vmap` area unmaps it as `vunmap` does; the pages stay the caller's,
    /// content and all, and the caller frees them.
    @Test func vfreeOfAVmapAreaLeavesThePagesToTheCaller() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let pages = try callerPages(sys)
        let p = try #require(sys.vmap(pages, .map))
        let mapped = sys.meminfo()
        sys.vfree(p)
        #expect(sys.find_vm_area(p) == nil)
        #expect(sys.vmalloc_to_page(p) == nil)
        #expect(sys.meminfo().memFree == mapped.memFree, "no page was freed")
        for (i, page) in pages.enumerated() { #expect(sys.page_address(page).load(as: Int.self) == i) }
        for page in pages { sys.__free_page(page) }
        #expect(log.all.isEmpty, "\(log.all)")
        expectNothingLost(sys)
    }

    /// The page array a C caller hands over with the pages, as kvmalloc gave it.
    enum PageArray: CaseIterable {
        case none, kmalloced, vmalloced

        func allocate(_ sys: MemorySystem) -> UnsafeMutableRawPointer? {
            // 16 KiB: kvmalloc takes a block of frames, so a leak of it shows in the frame count.
            switch self {
            case .none: nil
            case .kmalloced: sys.kvmalloc(16 << 10)
            case .vmalloced: sys.vmalloc(16 << 10)
            }
        }
    }

    /// `VM_MAP_PUT_PAGES`: the pages and the page array become the area's; `vfree` frees every
    /// page as `__free_page` does and kvfrees the array.
    @Test(arguments: PageArray.allCases)
    func vfreeOfAPutPagesAreaFreesThePagesAndTheArray(_ kind: PageArray) throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let array = kind.allocate(sys)
        let pages = try callerPages(sys)
        let p = try #require(handOver(sys, pages, array))
        #expect(try #require(sys.find_vm_area(p)).flags.contains(VMFlags.mapPutPages))
        sys.vfree(p)
        #expect(sys.find_vm_area(p) == nil)
        if let array { #expect(sys.find_vm_area(array) == nil) }
        #expect(log.all.isEmpty, "\(log.all)")
        expectNothingLost(sys)
    }

    /// `vunmap` of a `VM_MAP_PUT_PAGES` area frees neither the pages nor the array, as the
    /// kernel's `vunmap` does not: they are still the caller's to free.
    @Test func vunmapOfAPutPagesAreaLeavesPagesAndArray() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let array = try #require(PageArray.kmalloced.allocate(sys))
        let pages = try callerPages(sys)
        let p = try #require(handOver(sys, pages, array))
        let mapped = sys.meminfo()
        sys.vunmap(p)
        #expect(sys.find_vm_area(p) == nil)
        #expect(sys.meminfo().memFree == mapped.memFree, "no page was freed")
        for (i, page) in pages.enumerated() { #expect(sys.page_address(page).load(as: Int.self) == i) }
        for page in pages { sys.__free_page(page) }
        sys.kvfree(array)
        #expect(log.all.isEmpty, "\(log.all)")
        expectNothingLost(sys)
    }

    /// `vmap` refuses `VM_FLUSH_RESET_PERMS` (nil) and clears `VM_NO_GUARD` (the guard page is
    /// kept), each with a warning once per call site, as the kernel's `WARN_ON_ONCE`s.
    @Test func vmapRefusesFlushResetPermsAndClearsNoGuard() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let page = try #require(sys.alloc_page(.kernel))
        for _ in 0..<2 { #expect(sys.vmap([page], .flushResetPerms) == nil) }
        #expect(log.lines(containing: "VM_FLUSH_RESET_PERMS").count == 1, "\(log.all)")
        for _ in 0..<2 {
            let p = try #require(sys.vmap([page], .noGuard))
            let area = try #require(sys.find_vm_area(p))
            #expect(area.size == 2 * 4096, "the guard page is kept")
            #expect(!area.flags.contains(.noGuard))
            sys.vunmap(p)
        }
        #expect(log.lines(containing: "VM_NO_GUARD").count == 1, "\(log.all)")
        sys.__free_page(page)
        expectNothingLost(sys)
    }
}
