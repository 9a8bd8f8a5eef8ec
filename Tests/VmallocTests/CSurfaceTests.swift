import CVmallocCTestSupport
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The C surface against the Swift API in one process: the C headers' constants are the Swift
/// ones, a scope entered on one side is seen by the other (current->flags is the thread's scope
/// word), and pages and callers mean the same on both sides. The C side acts on
/// `MemorySystem.shared`, so the suite is serialized like every suite that touches it.
@Suite(.serialized) struct CSurfaceTests {
    static let swiftGFP: [String: GFP] = [
        "GFP_KERNEL": GFP_KERNEL, "GFP_NOFS": GFP_NOFS, "GFP_NOIO": GFP_NOIO, "GFP_NOWAIT": GFP_NOWAIT,
        "GFP_ATOMIC": GFP_ATOMIC, "GFP_USER": GFP_USER, "GFP_KERNEL_ACCOUNT": GFP_KERNEL_ACCOUNT,
        "__GFP_DMA": __GFP_DMA, "__GFP_HIGHMEM": __GFP_HIGHMEM, "__GFP_DMA32": __GFP_DMA32,
        "__GFP_MOVABLE": __GFP_MOVABLE, "__GFP_RECLAIMABLE": GFP.reclaimable, "__GFP_HIGH": __GFP_HIGH,
        "__GFP_IO": __GFP_IO, "__GFP_FS": __GFP_FS, "__GFP_ZERO": __GFP_ZERO,
        "__GFP_DIRECT_RECLAIM": __GFP_DIRECT_RECLAIM, "__GFP_KSWAPD_RECLAIM": __GFP_KSWAPD_RECLAIM,
        "__GFP_RECLAIM": __GFP_RECLAIM, "__GFP_NOWARN": __GFP_NOWARN, "__GFP_RETRY_MAYFAIL": __GFP_RETRY_MAYFAIL,
        "__GFP_NOFAIL": __GFP_NOFAIL, "__GFP_NORETRY": __GFP_NORETRY, "__GFP_MEMALLOC": __GFP_MEMALLOC,
        "__GFP_NOMEMALLOC": __GFP_NOMEMALLOC, "__GFP_HARDWALL": __GFP_HARDWALL, "__GFP_THISNODE": __GFP_THISNODE,
        "__GFP_ACCOUNT": __GFP_ACCOUNT, "__GFP_NOLOCKDEP": __GFP_NOLOCKDEP,
    ]

    @Test func gfpConstantsAreTheSwiftOnes() throws {
        #expect(ctest_gfp_count() == Self.swiftGFP.count)
        for i in 0..<ctest_gfp_count() {
            let name = String(cString: ctest_gfp_name(i))
            let swift = try #require(Self.swiftGFP[name], "\(name) has no Swift counterpart")
            #expect(ctest_gfp_value(i) == swift.rawValue, "\(name)")
        }
    }

    @Test func pfValuesAreTheKernelsAndTheScopeWords() {
        #expect(ctest_pf_value(0) == 0x800 && ScopeFlags.memalloc.rawValue == 0x800)
        #expect(ctest_pf_value(1) == 0x40000 && ScopeFlags.noFS.rawValue == 0x40000)
        #expect(ctest_pf_value(2) == 0x80000 && ScopeFlags.noIO.rawValue == 0x80000)
        #expect(ctest_pf_value(3) == 0x1000_0000)
    }

    @Test func aScopeEnteredInCIsSeenBySwift() {
        let token = ctest_memalloc_save(0)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOFS)
        let io = ctest_memalloc_save(1)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOIO)
        ctest_memalloc_restore(1, io)
        ctest_memalloc_restore(0, token)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_KERNEL)
    }

    @Test func aScopeEnteredInSwiftIsSeenByC() {
        let token = memalloc_noio_save()
        #expect(ctest_current_flags() & ctest_pf_value(2) != 0)
        #expect(ctest_current_gfp_context(GFP_KERNEL.rawValue) == GFP_NOIO.rawValue)
        memalloc_noio_restore(token)
        #expect(ctest_current_flags() & ctest_pf_value(2) == 0)
        withMemallocScope(.noFS) { #expect(ctest_current_gfp_context(GFP_KERNEL.rawValue) == GFP_NOFS.rawValue) }
    }

    /// bcachefs sets PF_MEMALLOC_NOIO in current->flags by hand: it is a scope like any other,
    /// and a Swift save/restore around such writes neither misfires nor clears the C bit.
    @Test func bitsSetDirectlyInCurrentFlagsAreScopes() {
        let before = ctest_current_flags()
        let nofs = memalloc_nofs_save()
        ctest_set_current_flags(ctest_current_flags() | ctest_pf_value(2))
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOIO)
        memalloc_nofs_restore(nofs)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_NOIO, "the Swift restore leaves the C bit alone")
        ctest_set_current_flags(before)
        #expect(current_gfp_context(GFP_KERNEL) == GFP_KERNEL)
    }

    @Test func pinScopeClearsMovable() {
        let token = ctest_memalloc_save(3)
        #expect(ctest_current_gfp_context((GFP_KERNEL | __GFP_MOVABLE).rawValue) == GFP_KERNEL.rawValue)
        ctest_memalloc_restore(3, token)
        #expect(
            ctest_current_gfp_context((GFP_KERNEL | __GFP_MOVABLE).rawValue) == (GFP_KERNEL | __GFP_MOVABLE).rawValue)
    }

    @Test func aCAllocationIsASwiftAreaNamingItsCCaller() throws {
        let system = MemorySystem.shared
        let p = try #require(ctest_vmalloc(3 * 4096))
        defer { ctest_vfree(p) }
        let area = try #require(system.find_vm_area(p))
        #expect(area.nrPages == 3)
        #expect(area.caller.hasPrefix("ctest_vmalloc+0x"), "caller: \(area.caller)")
        #expect(system.vmallocinfo().contains("ctest_vmalloc+0x"))
        for page in 0..<3 {
            let q = p + page * 4096
            #expect(ctest_vmalloc_pfn(q) == system.vmalloc_to_pfn(q))
        }
    }

    /// nr_free_pages() is MemFree, and a C free of a Swift allocation gives every frame back
    /// (page-table pages the area needed stay, as in the kernel: they are counted apart).
    @Test func aSwiftAllocationIsFreedFromC() throws {
        let system = MemorySystem.shared
        func accounted() -> Int {
            system.vm_unmap_aliases()
            let info = system.meminfo()
            #expect(Int(ctest_nr_free_pages()) == info.memFree / 4096)
            return (info.memFree + info.pageTables) / 4096
        }
        let before = accounted()
        let p = try #require(system.vzalloc(5 * 4096))
        let info = system.meminfo()
        #expect(Int(ctest_totalram_pages()) == info.memTotal / 4096)
        #expect(Int(ctest_vmalloc_nr_pages()) == info.vmallocUsed / 4096)
        #expect(ctest_vmalloc_nr_pages() >= 5)
        ctest_vfree(p)
        #expect(accounted() == before)
    }

    @Test func pagesFromCMapInSwiftAndBack() throws {
        let system = MemorySystem.shared
        let pfns = (0..<4).map { ctest_alloc_page_pfn(UInt8(0x41 + $0)) }
        #expect(!pfns.contains(-1))
        defer { for pfn in pfns { ctest_free_page_pfn(pfn) } }
        let p = try #require(system.vmap(pfns.map { Page(pfn: $0) }))
        for (i, pfn) in pfns.enumerated() {
            #expect(p.load(fromByteOffset: i * 4096, as: UInt8.self) == UInt8(0x41 + i))
            #expect(ctest_vmalloc_pfn(p + i * 4096) == pfn)
        }
        system.vunmap(p)
        let q = try #require(pfns.withUnsafeBufferPointer { ctest_vmap_pfns($0.baseAddress, 4, 0) })
        #expect(system.vmalloc_to_pfn(q + 3 * 4096) == pfns[3])
        ctest_vunmap(q)
    }

    @Test(arguments: [(1, 2), (24, 8), (1000, 1024), (4096, 4096)])
    func perCPUCopiesAreSeparateAndAligned(size: Int, align: Int) {
        #expect(ctest_percpu_roundtrip(size, align) == Int32(MemorySystem.shared.nrCPUIds))
    }
}
