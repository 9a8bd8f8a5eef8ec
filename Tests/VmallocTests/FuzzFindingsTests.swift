import Testing

@testable import Vmalloc

/// Bugs the libFuzzer target (Tests/Fuzz) found, each pinned by the smallest call sequence.
@Suite struct FuzzFindingsTests {
    /// The region is only 2 MiB-aligned: aligning the offset inside it left larger alignments
    /// unmet (`__vmalloc_node(253, align: 4 MiB)` returned a 2 MiB-aligned address).
    @Test func alignmentsAboveTheRegionsOwnAreMet() throws {
        let sys = try makeSystem(nodes: 1, mib: 16, vmallocMiB: 8192)
        // Twice the alignment the region's base happens to have: an offset aligned inside the
        // region can then never be an aligned address.
        let baseAlign = 1 << Int(bitPattern: sys.space.areas.base).trailingZeroBitCount
        for align in [1 << 22, baseAlign * 2] where align <= 2 << 30 {
            let p = try #require(sys.__vmalloc_node(253, align: align, .kernel, node: NUMA_NO_NODE))
            #expect(Int(bitPattern: p) % align == 0, "align \(align): \(p)")
            sys.vfree(p)
        }
        expectNothingLost(sys)
    }

    /// `krealloc(p, -1)` returned p (a negative size "fits" every object); `kvrealloc` passed
    /// that on. The kernel's size_t makes such a size huge, and the call fails.
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

    /// A huge area rounded up to whole 2 MiB blocks took VA for the requested pages only, so the
    /// next area was placed inside its mapping, and its `vfree` cleared the neighbour's PTEs
    /// (`vmalloc_huge(7301631)` then `vzalloc(769)`: the small area mapped no frame).
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
