import CNuma
import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// Every injection point: each injected failure ends in a clean nil (or a NOFAIL retry) and
/// nothing is lost.
@Suite struct FaultInjectionTests {
    /// Hold every other frame of a few blocks so areas are built from several runs.
    static func fragment(_ sys: MemorySystem) -> [Page] {
        var keep: [Page] = []
        for _ in 0..<8 {
            guard let b = sys.alloc_pages(.kernel, 6) else { break }
            keep.append(b)
        }
        return keep
    }

    @Test(arguments: [FaultSite.pageAlloc, .pageTableAlloc, .vmapArea, .mmap])
    func injectedFailuresLoseNothing(site: FaultSite) throws {
        let sys = try makeSystem(nodes: 2, mib: 16, lazyMaxPages: 32)
        let blocks = Self.fragment(sys)
        // Split the held blocks into single frames, then free every other one.
        var singles: [Page] = []
        for b in blocks {
            sys.__free_pages(b, 6)
        }
        for _ in 0..<256 { if let p = sys.alloc_page(.kernel) { singles.append(p) } }
        for (i, p) in singles.enumerated() where i % 2 == 0 { sys.__free_page(p) }
        let held = singles.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)

        sys.setFaultInjection(site, FaultAttributes(probability: 40, interval: 1, times: -1))
        var live: [UnsafeMutableRawPointer] = []
        var maps: [UnsafeMutableRawPointer] = []
        var nils = 0
        for i in 0..<300 {
            let pages = [1, 3, 17, 64, 130][i % 5]
            if let p = sys.vmalloc(pages * 4096, GFP_KERNEL | __GFP_NOWARN) {
                fill(p, pages * 4096, seed: UInt8(truncatingIfNeeded: i))
                #expect(check(p, pages * 4096, seed: UInt8(truncatingIfNeeded: i)))
                live.append(p)
            } else {
                nils += 1
            }
            if i % 7 == 0, let m = sys.vmap(Array(held[(i % 50)..<(i % 50 + 5)])) { maps.append(m) }
            if i % 3 == 0, !live.isEmpty { sys.vfree(live.removeFirst()) }
            #expect(sys.audit().consistent)
        }
        #expect(sys.injectedFaults(site) > 0)
        #expect(nils > 0)
        sys.setFaultInjection(site, nil)
        live.forEach(sys.vfree)
        maps.forEach(sys.vunmap)
        held.forEach(sys.__free_page)
        expectNothingLost(sys)
    }

    @Test(arguments: [FaultSite.pageAlloc, .pageTableAlloc, .vmapArea, .mmap])
    func nofailRetriesThroughInjectedFailures(site: FaultSite) throws {
        let sys = try makeSystem(mib: 16)
        sys.setFaultInjection(site, FaultAttributes(probability: 100, times: 3))
        // A fresh 1 GiB-aligned span needs new page tables, so every site is on the path.
        let p = try #require(
            sys.__vmalloc_node(300 * 4096, align: 1 << 21, GFP_KERNEL | __GFP_NOFAIL, node: NUMA_NO_NODE))
        fill(p, 300 * 4096, seed: 9)
        #expect(check(p, 300 * 4096, seed: 9))
        // fail_page_alloc spares NOFAIL requests, but vmalloc's high-order attempts drop NOFAIL
        // and fall back to smaller orders; the other sites fail and NOFAIL retries.
        #expect(sys.injectedFaults(site) == 3)
        sys.vfree(p)
        expectNothingLost(sys)
    }

    @Test func pageAllocInjectionFailsAllocPagesCleanly() throws {
        let sys = try makeSystem()
        sys.setFaultInjection(.pageAlloc, FaultAttributes(probability: 100, interval: 2, times: 4))
        let results = (0..<10).map { _ in sys.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 2) }
        #expect(results.filter { $0 == nil }.count == 4)
        for case let p? in results { sys.__free_pages(p, 2) }
        expectNothingLost(sys)
    }

    @Test func mbindFailureMakesInitThrowWithNothingMapped() throws {
        try #require(numa_available() >= 0, "mbind runs only where libnuma works")
        #expect(throws: MemorySystemError.self) {
            try makeSystem(
                nodes: 2, mib: 16, vmallocMiB: 64, faultInjection: [.mbind: FaultAttributes(probability: 100, space: 1)]
            )
        }
    }

    @Test func fallocateFailureKeepsFramesFree() throws {
        let sys = try makeSystem(mib: 32)
        let p = try #require(sys.vmalloc(8 << 20))
        memset(p, 1, 8 << 20)
        sys.vfree(p)
        sys.vm_unmap_aliases()
        sys.setFaultInjection(.fallocate, FaultAttributes(probability: 100))
        #expect(sys.reportFreePages() == 0)
        #expect(sys.injectedFaults(.fallocate) > 0)
        expectNothingLost(sys)
        sys.setFaultInjection(.fallocate, nil)
        #expect(sys.reportFreePages() >= 8 << 20)
        // Punched frames come back zeroed and usable.
        let q = try #require(sys.vmalloc(8 << 20))
        #expect(q.load(as: UInt64.self) == 0)
        fill(q, 8 << 20, seed: 3)
        #expect(check(q, 8 << 20, seed: 3))
        sys.vfree(q)
        expectNothingLost(sys)
    }
}
