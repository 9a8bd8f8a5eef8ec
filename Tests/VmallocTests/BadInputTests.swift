import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct BadInputTests {
    @Test func invalidSizesAlignmentsAndNodes() throws {
        let sys = try makeSystem(nodes: 2, mib: 16)
        let before = sys.meminfo()
        #expect(sys.vmalloc(0) == nil)
        #expect(sys.vmalloc(-5) == nil)
        #expect(sys.vmalloc(Int.max) == nil)
        #expect(sys.vmalloc(64 << 20, .kernel | .noWarn) == nil)  // beyond all memory
        #expect(sys.__vmalloc_node(4096, align: 3000, .kernel, node: NUMA_NO_NODE) == nil)
        #expect(sys.__vmalloc_node(4096, align: 0, .kernel, node: NUMA_NO_NODE) == nil)
        #expect(sys.vmalloc_node(4096, 2) == nil)
        #expect(sys.vmalloc_node(4096, -7) == nil)
        #expect(sys.alloc_pages_node(5, .kernel, 0) == nil)
        #expect(sys.alloc_pages(.kernel, 11) == nil)
        #expect(sys.vmalloc_array(Int.max / 2, 3) == nil)
        #expect(sys.vcalloc(1 << 40, 1 << 40) == nil)
        #expect(sys.vmap([]) == nil)
        #expect(sys.vmap([Page(pfn: 1 << 40)]) == nil)
        let after = sys.meminfo()
        #expect(after.memFree == before.memFree)
        #expect(after.vmallocUsed == 0)
        expectNothingLost(sys)
    }

    @Test func badFreesChangeNothing() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        sys.vfree(nil)
        sys.vunmap(nil)
        let p = try #require(sys.vmalloc(3 * 4096))
        let usedBefore = sys.meminfo().vmallocUsed
        sys.vfree(p + 4096)  // interior
        sys.vfree(p + 1)
        var local = 0
        withUnsafeMutablePointer(to: &local) { sys.vfree(UnsafeMutableRawPointer($0)) }  // foreign
        sys.vunmap(p)  // wrong call
        #expect(sys.meminfo().vmallocUsed == usedBefore)
        #expect(sys.find_vm_area(p) != nil)
        sys.vfree(p)
        sys.vfree(p)  // double free
        let page = try #require(sys.alloc_pages(.kernel, 1))
        sys.__free_pages(page, 0)  // wrong order
        sys.__free_pages(Page(pfn: page.pfn + 1), 1)  // not a head
        sys.__free_pages(page, 1)
        sys.__free_pages(page, 1)  // double free
        let messages = log.all
        #expect(messages.contains { $0.contains("Trying to vfree() nonexistent vm area") })
        #expect(messages.contains { $0.contains("use vfree()") })
        #expect(messages.contains { $0.contains("Bad page state") })
        expectNothingLost(sys)
    }

    @Test func impossibleConfigurationsThrow() {
        #expect(throws: MemorySystemError.self) { try makeSystem(nodes: 0) }
        // Less than the 4 MiB a node needs at least.
        #expect(throws: MemorySystemError.self) { try makeSystem(mib: 3) }
        // A 2^62-byte region.
        #expect(throws: MemorySystemError.self) { try makeSystem(mib: 16, vmallocMiB: 1 << 42) }
    }

    /// No VA range fits (the region is full): `alloc_vmap_area`'s report and vmalloc's failure
    /// report, both silenced by `__GFP_NOWARN`, which also silences a NOFAIL retry's.
    @Test func vaSpaceFailureIsReportedUnlessNowarn() throws {
        let log = LogCapture()
        let sys = try makeSystem(mib: 16, vmallocMiB: 4, log: log)
        let held = try #require(sys.vmalloc(3 << 20))
        #expect(sys.vmalloc(2 << 20, GFP_KERNEL | __GFP_NOWARN) == nil)
        #expect(log.all.isEmpty, "\(log.all)")
        #expect(sys.vmalloc(2 << 20) == nil)
        let va = log.lines(containing: "vmalloc_node_range for size \((2 << 20) + 4096) failed: Address range")
        #expect(va.count == 1, "\(log.all)")
        #expect(log.lines(containing: "vmalloc error: size \(2 << 20), vm_struct allocation failed, mode:").count == 1)
        let reported = log.all.count
        sys.vfree(held)
        sys.setFaultInjection(.vmapArea, FaultAttributes(times: 2))
        let p = sys.vmalloc(4096, GFP_KERNEL | __GFP_NOFAIL | __GFP_NOWARN)
        #expect(p != nil)
        #expect(log.all.count == reported, "\(log.all)")
        sys.setFaultInjection(.vmapArea, nil)
        sys.vfree(p)
        expectNothingLost(sys)
    }

    /// A negative size is refused, though it "fits" every object: the kernel's size_t makes it
    /// huge, and the call fails. `kvrealloc` refuses it too; the object stays.
    @Test func negativeReallocSizesFailAndKeepTheObject() throws {
        let sys = try makeSystem(nodes: 1, mib: 16)
        let p = try #require(sys.kmalloc(100, .kernel))
        p.storeBytes(of: 0x5a, as: UInt8.self)
        #expect(sys.krealloc(p, -1, .kernel) == nil)
        #expect(sys.kvrealloc(p, -1) == nil)
        #expect(sys.kvrealloc(p, Int.min) == nil)
        #expect(p.load(as: UInt8.self) == 0x5a)
        #expect(sys.ksize(p) >= 100)
        sys.kfree(p)
        expectNothingLost(sys)
    }
}
