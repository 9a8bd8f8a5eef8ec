import CShim
import CVmallocTestSupport
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// A one-page vmalloc that finds its home pool empty makes `VmallocSpace.batchAreas` areas at
/// once (`VmallocSpace.vmallocBatch`): one mapping, the rest pooled for the next ones.
@Suite struct AreaBatchTests {
    /// The first one-page vmalloc maps a batch; the next seven take its other areas with no
    /// syscall, back to back each with its guard page, their frames counted free until taken.
    @Test func oneMappingServesABatchOfOnePageAreas() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        guard sys.space.mapper.guardMarkers else { return }  // no markers: no batch
        let region = (sys.space.areas.base, sys.space.areas.base + sys.space.areas.regionSize)
        let vmas = vmtest_count_vmas_in(region.0, region.1)
        let resident = sys.residentBytes()
        let first = try #require(sys.vmalloc(4096))
        #expect(vmtest_count_vmas_in(region.0, region.1) <= vmas + 1)
        // Every area's page populated (and the page tables the first area needed, at most three
        // pages); none of the frames under the markers.
        let populated = sys.residentBytes() - resident
        #expect(populated >= VmallocSpace.batchAreas * 4096 && populated <= (VmallocSpace.batchAreas + 3) * 4096)
        let free = sys.meminfo().memFree
        let before = vmshim_thread_syscalls()
        var areas = [first]
        for _ in 1..<VmallocSpace.batchAreas { areas.append(try #require(sys.vmalloc(4096))) }
        #expect(vmshim_thread_syscalls() == before)
        #expect(Set(areas).count == VmallocSpace.batchAreas)
        #expect(Set(areas.map { $0 - first }) == Set((0..<VmallocSpace.batchAreas).map { 2 * 4096 * $0 }))
        #expect(sys.meminfo().memFree == free - (VmallocSpace.batchAreas - 1) * 4096)
        #expect(sys.meminfo().vmallocUsed == VmallocSpace.batchAreas * 4096)
        for (i, p) in areas.enumerated() {
            #expect(sys.vmalloc_to_page(p) != nil)
            #expect(sys.vmalloc_to_page(p + 4096) == nil)
            fill(p, 4096, seed: UInt8(i))
        }
        // Each area its own frame.
        #expect(Set(areas.compactMap { sys.vmalloc_to_pfn($0) }).count == VmallocSpace.batchAreas)
        for (i, p) in areas.enumerated() { #expect(check(p, 4096, seed: UInt8(i))) }
        areas.forEach(sys.vfree)
        #expect(sys.audit().consistent)
        expectNothingLost(sys)
    }

    /// With fault injection armed there is no batch: each one-page area is made on its own.
    @Test func noBatchWhileFaultsAreInjected() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20, faultInjection: [.fallocate: FaultAttributes(probability: 0)])
        let p = try #require(sys.vmalloc(4096))
        let before = vmshim_thread_syscalls()
        let q = try #require(sys.vmalloc(4096))
        #expect(vmshim_thread_syscalls() > before)
        sys.vfree(p)
        sys.vfree(q)
        expectNothingLost(sys)
    }
}
