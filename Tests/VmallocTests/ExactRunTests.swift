import CShim
import Glibc
import Testing

@testable import Vmalloc

/// Areas whose size is not a power of two get one run of consecutive frames when a block of the
/// order that covers them is free (`alloc_pages_exact`: split it, free its tail), and today's
/// blocks of the size's set bits when not; either way every frame goes back and the buddy lists
/// merge again.
@Suite struct ExactRunTests {
    /// The free blocks per order of a fresh zone of 2048 frames: one of order 10, one of order 0 ... none.
    private static func counts(_ z: UnsafeMutablePointer<vmshim_zone>) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: Int(VMSHIM_NR_ORDERS))
        out.withUnsafeMutableBufferPointer { vmshim_zone_counts(z, $0.baseAddress) }
        return out
    }

    /// `vmshim_zone_split` keeps aligned head blocks, largest first, frees exactly the tail, and
    /// freeing the kept blocks merges the zone back to whole max-order blocks; bad calls change nothing.
    @Test(arguments: [1, 3, 5, 80, 96, 112, 127, 128, 700, 1023])
    func splitKeepsTheHeadAndFreesTheTail(keep: Int) throws {
        let meta = try #require(vmshim_meta_create(2048))
        defer { vmshim_meta_destroy(meta) }
        let z = try #require(vmshim_zone_create(meta, 2048))
        defer { vmshim_zone_destroy(z) }
        let start = Self.counts(z)
        let order = Int.bitWidth - (keep - 1).leadingZeroBitCount
        let idx = Int(vmshim_zone_alloc(z, UInt32(order)))
        try #require(idx >= 0)
        meta[idx].owner = VMSHIM_OWNER_VMALLOC
        #expect(vmshim_zone_split(z, UInt32(idx), UInt32(order), 0) == -EINVAL)
        #expect(vmshim_zone_split(z, UInt32(idx), UInt32(order), UInt32((1 << order) + 1)) == -EINVAL)
        #expect(vmshim_zone_split(z, UInt32(idx + 1), UInt32(order), 1) == -EINVAL)
        #expect(vmshim_zone_free_pages(z) == UInt64(2048 - (1 << order)))
        #expect(vmshim_zone_split(z, UInt32(idx), UInt32(order), UInt32(keep)) == 0)
        #expect(vmshim_zone_free_pages(z) == UInt64(2048 - keep))
        var at = idx
        var kept: [(Int, Int)] = []
        for o in stride(from: order, through: 0, by: -1) where keep & (1 << o) != 0 {
            #expect(vmshim_page_is_head(meta + at) != 0 && Int(meta[at].order) == o)
            #expect(meta[at].owner == VMSHIM_OWNER_VMALLOC)
            kept.append((at, o))
            at += 1 << o
        }
        // No frame of the tail is held: every one lies in a free block.
        var covered = [Bool](repeating: false, count: 2048)
        var idxs = [UInt32](repeating: 0, count: 2048)
        var ords = [UInt8](repeating: 0, count: 2048)
        let n = Int(vmshim_zone_free_blocks(z, 0, &idxs, &ords, 2048))
        for i in 0..<n { for f in Int(idxs[i])..<Int(idxs[i]) + (1 << Int(ords[i])) { covered[f] = true } }
        #expect((idx + keep..<idx + (1 << order)).allSatisfy { covered[$0] })
        #expect(!(idx..<idx + keep).contains { covered[$0] })
        for (i, o) in kept { #expect(vmshim_zone_free(z, UInt32(i), UInt32(o)) == 0) }
        #expect(vmshim_zone_free_pages(z) == 2048)
        #expect(Self.counts(z) == start)
    }

    /// Page counts of size classes that are not powers of two, below and above 2^MAX_PAGE_ORDER.
    private static let sizes = [3, 5, 6, 10, 12, 14, 20, 24, 28, 40, 48, 56, 80, 96, 112, 160, 224, 640, 768, 1100]

    /// With memory unfragmented each area is one run (one mmap); its frames go back at vfree, and
    /// the free count and the buddy lists are what they were, cycle after cycle.
    @Test func unfragmentedAreasAreOneRunAndMergeBack() throws {
        let sys = try makeSystem(immediateUnmap: true)
        let page = PhysicalMemory.pageSize
        // Warm up with all areas held at once, so that the page-table pages a round needs are
        // held before the counts are taken.
        let warm = Self.sizes.map { sys.vmalloc($0 * page) }
        for p in warm { sys.vfree(p) }
        let free = freePages(sys)
        let blocks = sys.allocator.zones[0].blockCounts
        for round in 0..<3 {
            var held: [UnsafeMutableRawPointer] = []
            for s in Self.sizes {
                let p = try #require(sys.vmalloc(s * page))
                let record = try #require(sys.space.areas.area(containing: p - sys.space.areas.base))
                try #require(record.classPages == s)
                let over = s > 1 << PageAllocator.maxOrder ? 1 : 0
                #expect(record.runs.count <= 1 + over, "\(s) pages: \(record.runs.count) runs")
                #expect(record.blocks.reduce(0) { $0 + 1 << $1.order } == s)
                fill(p, s * page, seed: UInt8(truncatingIfNeeded: s + round))
                held.append(p)
            }
            for (p, s) in zip(held, Self.sizes) {
                #expect(check(p, s * page, seed: UInt8(truncatingIfNeeded: s + round)))
                sys.vfree(p)
            }
            #expect(freePages(sys) == free)
            #expect(sys.allocator.zones[0].blockCounts == blocks)
        }
        expectNothingLost(sys)
    }

    /// Without a free block of the covering order the area takes smaller blocks as before (no
    /// failure, no reclaim): from single frames, and from one block per set bit of its size.
    @Test func fragmentedMemoryFallsBackAndEverythingGoesBack() throws {
        let sys = try makeSystem(immediateUnmap: true)
        let page = PhysicalMemory.pageSize
        for s in Self.sizes.prefix(16) { sys.vfree(try #require(sys.vmalloc(s * page))) }
        let free = freePages(sys)
        let blocks = sys.allocator.zones[0].blockCounts
        let all = holdAllFrames(sys).sorted { $0.pfn < $1.pfn }
        // Every other frame of the first 3000, so no block above order 0 is free ...
        var back = Set<Int>()
        for i in stride(from: 0, to: 3000, by: 2) { back.insert(i) }
        for i in back { sys.__free_pages(all[i], 0) }
        for s in Self.sizes.prefix(16) {
            let p = try #require(sys.vmalloc(s * page))
            let record = try #require(sys.space.areas.area(containing: p - sys.space.areas.base))
            #expect(record.blocks.allSatisfy { $0.order == 0 })
            fill(p, s * page, seed: UInt8(s))
            #expect(check(p, s * page, seed: UInt8(s)))
            sys.vfree(p)
        }
        // ... then an aligned block of 64 and one of 16 far apart: 80 pages take both, as two runs.
        let base64 = try #require(all.firstIndex { $0.pfn >= 8192 && $0.pfn % 64 == 0 })
        let base16 = try #require(all.firstIndex { $0.pfn >= 12288 && $0.pfn % 16 == 0 })
        for i in base64..<base64 + 64 { sys.__free_pages(all[i], 0) }
        for i in base16..<base16 + 16 { sys.__free_pages(all[i], 0) }
        let p = try #require(sys.vmalloc(80 * page))
        let record = try #require(sys.space.areas.area(containing: p - sys.space.areas.base))
        #expect(record.blocks.map(\.order).sorted() == [4, 6])
        #expect(record.runs.count == 2)
        sys.vfree(p)
        back.formUnion(base64..<base64 + 64)
        back.formUnion(base16..<base16 + 16)
        for (i, pg) in all.enumerated() where !back.contains(i) { sys.__free_pages(pg, 0) }
        #expect(freePages(sys) == free)
        #expect(sys.allocator.zones[0].blockCounts == blocks)
        expectNothingLost(sys)
    }

    /// `vmalloc_node` places the exact run on the node asked for.
    @Test func exactRunsHonourTheNode() throws {
        let sys = try makeSystem(nodes: 2, mib: 16, immediateUnmap: true)
        let page = PhysicalMemory.pageSize
        for node in 0..<2 {
            let p = try #require(sys.vmalloc_node(112 * page, node))
            let record = try #require(sys.space.areas.area(containing: p - sys.space.areas.base))
            #expect(record.runs.count == 1)
            #expect(record.blocks.allSatisfy { sys.memory.node(of: $0.pfn) == node })
            sys.vfree(p)
        }
        expectNothingLost(sys)
    }
}
