import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct VmallocHugeTests {
    @Test func madeOfNaturallyAlignedTwoMiBBlocks() throws {
        let sys = try makeSystem(mib: 64)
        let size = 5 << 20
        let p = try #require(sys.vmalloc_huge(size, .kernel))
        #expect(Int(bitPattern: p) % (2 << 20) == 0)
        let area = try #require(sys.find_vm_area(p))
        #expect(area.nrPages == 3 * 512)
        #expect(area.requestedSize == size)
        for block in 0..<3 {
            let first = try #require(sys.vmalloc_to_pfn(p + block * (2 << 20)))
            #expect(first % 512 == 0, "block \(block) starts at pfn \(first)")
            for i in 1..<512 { #expect(sys.vmalloc_to_pfn(p + block * (2 << 20) + i * 4096) == first + i) }
        }
        #expect(sys.vmallocinfo().contains("pages=1536 vmalloc huge:\(VmallocSpace.hugeMapping)"))
        fill(p, 6 << 20, seed: 8)
        #expect(check(p, 6 << 20, seed: 8))
        sys.vfree(p)
        expectNothingLost(sys)
    }

    /// No free order-9 block: the area falls back to small frames at its real size.
    @Test func fallsBackWhenNoOrder9BlockIsFree() throws {
        let sys = try makeSystem(mib: 16)
        var held: [Page] = []
        while let pg = sys.alloc_page(GFP_NOWAIT | __GFP_NOWARN) { held.append(pg) }
        // Keep one frame of every 2 MiB block: plenty free, none of it order 9.
        let pinned = held.filter { $0.pfn % 512 == 0 }
        for pg in held where pg.pfn % 512 != 0 { sys.__free_page(pg) }
        try #require(!pinned.isEmpty)
        let p = try #require(sys.vmalloc_huge(2 << 20, .kernel))
        let area = try #require(sys.find_vm_area(p))
        #expect(area.nrPages == 512)
        #expect(!area.flags.contains(.allowHugeVmap))
        #expect(!sys.vmallocinfo().contains("huge"))
        fill(p, 2 << 20, seed: 5)
        #expect(check(p, 2 << 20, seed: 5))
        sys.vfree(p)
        for pg in pinned { sys.__free_page(pg) }
        expectNothingLost(sys)
    }

    /// A huge area rounded up to whole 2 MiB blocks takes VA for every block it maps, not the
    /// requested pages only: else the next area lands inside its mapping and the huge area's
    /// `vfree` clears the neighbour's PTEs (`vmalloc_huge(7301631)` then `vzalloc(769)`).
    @Test func aHugeAreasVACoversEveryBlockItMaps() throws {
        let sys = try makeSystem(nodes: 1, mib: 32)
        let huge = try #require(sys.vmalloc_huge(7_301_631, GFP_KERNEL))
        let area = try #require(sys.find_vm_area(huge))
        #expect(area.nrPages == 2048)
        #expect(area.size >= 2048 * 4096, "the VA covers the 2048 pages mapped: \(area.size)")
        let small = try #require(sys.vzalloc(769))
        #expect(small >= huge + 2048 * 4096 || small + 4096 <= huge, "\(small) inside the huge area at \(huge)")
        sys.vfree(huge)
        #expect(sys.vmalloc_to_page(small) != nil, "the neighbour still maps its frame")
        small.storeBytes(of: 7, as: UInt8.self)
        sys.vfree(small)
        expectNothingLost(sys)
    }
}
