import Testing

@testable import Vmalloc

/// How the region is split into shards: one per CPU where the region allows, each slice at
/// least 1 GiB, and the last shard large enough for the largest area a vmalloc can ask for.
@Suite struct ShardLayoutTests {
    private static let gib = 1 << 30
    private static func pages(_ bytes: Int) -> Int { bytes / PhysicalMemory.pageSize }

    /// The bench's 16-CPU system (8 GiB of frames, a 32 GiB region): 16 shards, 15 slices of
    /// 1 GiB and a last shard of 17 GiB that holds the largest area the former split held (4 GiB).
    @Test func sixteenCPUsGetSixteenShards() {
        let layout = VmapAreas.shardLayout(size: 32 * Self.gib, cpus: 16, totalPages: Self.pages(8 * Self.gib))
        #expect(layout.count == 16)
        #expect(layout.shift == 30)
    }

    /// Two CPUs and 1 GiB of frames: two 16 GiB shards, as before.
    @Test func twoCPUsKeepTwoHalves() {
        let layout = VmapAreas.shardLayout(size: 32 * Self.gib, cpus: 2, totalPages: Self.pages(Self.gib))
        #expect(layout.count == 2)
        #expect(layout.shift == 34)
    }

    /// A region too small for two 1 GiB slices stays one shard.
    @Test func smallRegionIsOneShard() {
        let layout = VmapAreas.shardLayout(size: Self.gib, cpus: 8, totalPages: Self.pages(64 << 20))
        #expect(layout.count == 1)
    }

    /// Every layout leaves the last shard room for all the frames plus a guard and a huge
    /// block's rounding, up to what the whole region can hold.
    @Test func lastShardHoldsTheLargestArea() {
        for size in [2, 4, 8, 32, 64].map({ $0 * Self.gib }) {
            for cpus in [1, 2, 3, 8, 16, 64] {
                for memory in [64 << 20, Self.gib, 2 * Self.gib, 8 * Self.gib] {
                    let (count, shift) = VmapAreas.shardLayout(size: size, cpus: cpus, totalPages: Self.pages(memory))
                    #expect(count >= 1 && count <= cpus)
                    let last = size - (count - 1) << shift
                    let wanted = min(memory + (4 << 20), size / max(1, min(cpus, size / (4 * Self.gib))))
                    #expect(last >= wanted, "size \(size) cpus \(cpus) memory \(memory): last shard \(last)")
                    #expect(count == 1 || 1 << shift >= Self.gib)
                }
            }
        }
    }
}
