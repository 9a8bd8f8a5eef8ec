import CShim
import Testing
@testable import Vmalloc

@Suite(.serialized) struct VMABudgetTests {
    @Test func largeAreaTakesAHandfulOfVMAs() throws {
        let sys = try makeSystem(mib: 256)
        let region = (sys.vmap.base, sys.vmap.base + sys.vmap.regionSize)
        let before = vmshim_count_vmas_in(region.0, region.1)
        let p = try #require(sys.vmalloc(64 << 20))
        let added = vmshim_count_vmas_in(region.0, region.1) - before
        #expect(added <= 4, "64 MiB area added \(added) VMAs")
        #expect(try #require(sys.find_vm_area(p)).nrPages == 16384)
        sys.vfree(p)
        expectNothingLost(sys)
    }

    @Test func tensOfThousandsOfSmallAreas() throws {
        let sys = try makeSystem(mib: 128, lazyMaxPages: 1 << 20)
        let region = (sys.vmap.base, sys.vmap.base + sys.vmap.regionSize)
        let baseline = vmshim_count_vmas_in(region.0, region.1)
        var live: [UnsafeMutableRawPointer] = []
        for i in 0..<20_000 {
            guard let p = sys.vmalloc(4096, GFP_KERNEL | __GFP_NOWARN) else { break }
            p.storeBytes(of: UInt32(i), as: UInt32.self)
            live.append(p)
        }
        #expect(live.count == 20_000)
        for (i, p) in live.enumerated() where i % 997 == 0 { #expect(p.load(as: UInt32.self) == UInt32(i)) }
        live.forEach(sys.vfree)
        expectNothingLost(sys)
        #expect(vmshim_count_vmas_in(region.0, region.1) == baseline)
    }

    @Test func spentBudgetFailsCleanly() throws {
        var c = MemorySystem.Configuration()
        c.nodes = 1
        c.memoryPerNode = 64 << 20
        c.vmallocSize = 1 << 30
        c.kswapd = false
        c.maxMapCount = 500
        let sys = try MemorySystem(c)
        var live: [UnsafeMutableRawPointer] = []
        while let p = sys.vmalloc(4096, GFP_KERNEL | __GFP_NOWARN) { live.append(p) }
        #expect(live.count == 250)  // 2 VMAs per one-run area
        #expect(sys.log.recentMessages.contains { $0.contains("VMA budget spent") })
        let free = sys.meminfo().memFree
        #expect(sys.vmalloc(4096, GFP_KERNEL | __GFP_NOWARN) == nil)
        #expect(sys.meminfo().memFree == free)
        live.forEach(sys.vfree)
        expectNothingLost(sys)
        #expect(sys.vmap.vmas.used.load(ordering: .relaxed) == 0)
    }
}
