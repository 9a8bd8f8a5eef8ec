import Testing

@testable import Vmalloc

@Suite struct VmallocBufferTests {
    /// The address a buffer holds, for the slab-or-vmalloc checks.
    private func address(_ b: borrowing VmallocBuffer) -> UnsafeMutableRawPointer {
        b.withUnsafeMutableBytes { $0.baseAddress! }
    }

    /// What is written through `mutableBytes` reads back through `bytes` and the raw pointer;
    /// growing from slab to vmalloc keeps it; dropping the buffer gives every frame back.
    @Test func holdsWhatWasWrittenAndGrowsKeepingIt() throws {
        let sys = try makeSystem()
        do {
            var b = try VmallocBuffer(byteCount: 1000, system: sys)
            #expect(b.byteCount == 1000)
            #expect(!sys.is_vmalloc_addr(address(b)), "a small buffer comes from the slab")
            var m = b.mutableBytes
            for i in 0..<1000 { m.storeBytes(of: UInt8(truncatingIfNeeded: i * 7), toByteOffset: i, as: UInt8.self) }
            #expect(b.bytes.byteCount == 1000)
            for i in [0, 1, 500, 999] {
                #expect(b.bytes.unsafeLoad(fromByteOffset: i, as: UInt8.self) == UInt8(truncatingIfNeeded: i * 7))
            }

            try b.resize(to: 6 << 20)
            #expect(b.byteCount == 6 << 20)
            #expect(sys.is_vmalloc_addr(address(b)), "a 6 MiB buffer (over KMALLOC_MAX_SIZE) comes from vmalloc")
            for i in 0..<1000 {
                #expect(b.bytes.unsafeLoad(fromByteOffset: i, as: UInt8.self) == UInt8(truncatingIfNeeded: i * 7))
            }
            b.withUnsafeMutableBytes { fill($0.baseAddress!, $0.count, seed: 9) }
            try b.resize(to: 10 << 20)
            #expect(b.withUnsafeMutableBytes { check($0.baseAddress!, 6 << 20, seed: 9) })
            try b.resize(to: 4096)
            #expect(b.withUnsafeMutableBytes { check($0.baseAddress!, 4096, seed: 9) })
        }
        sys.kmem_cache_shrink()
        expectNothingLost(sys)
    }

    /// Zero, negative and over-large sizes throw `.invalidSize` and allocate nothing; a refused
    /// resize leaves the buffer as it was.
    @Test func invalidSizesThrowAndLoseNothing() throws {
        let sys = try makeSystem()
        #expect(throws: AllocationError.invalidSize(0)) { _ = try VmallocBuffer(byteCount: 0, system: sys) }
        #expect(throws: AllocationError.invalidSize(-4096)) { _ = try VmallocBuffer(byteCount: -4096, system: sys) }
        #expect(sys.vmallocinfo().isEmpty)
        do {
            var b = try VmallocBuffer(byteCount: 64 << 10, system: sys)
            b.withUnsafeMutableBytes { fill($0.baseAddress!, $0.count, seed: 3) }
            let before = address(b)
            #expect(throws: AllocationError.invalidSize(0)) { try b.resize(to: 0) }
            #expect(throws: AllocationError.invalidSize(-1)) { try b.resize(to: -1) }
            #expect(address(b) == before)
            #expect(b.byteCount == 64 << 10)
            #expect(b.withUnsafeMutableBytes { check($0.baseAddress!, $0.count, seed: 3) })
        }
        sys.kmem_cache_shrink()
        expectNothingLost(sys)
    }

    /// When the allocator says nil the error carries the size and mask, and the old buffer is
    /// still whole: same address, size and content, and freed normally afterwards.
    @Test func outOfMemoryKeepsTheOldBuffer() throws {
        let sys = try makeSystem()
        do {
            #expect(throws: AllocationError.outOfMemory(size: 256 << 20, gfp: GFP_KERNEL | __GFP_NOWARN)) {
                _ = try VmallocBuffer(byteCount: 256 << 20, gfp: GFP_KERNEL | __GFP_NOWARN, system: sys)
            }
            var b = try VmallocBuffer(byteCount: 1 << 20, gfp: GFP_KERNEL | __GFP_NOWARN, system: sys)
            b.withUnsafeMutableBytes { fill($0.baseAddress!, $0.count, seed: 11) }
            let before = address(b)
            #expect(throws: AllocationError.outOfMemory(size: 256 << 20, gfp: GFP_KERNEL | __GFP_NOWARN)) {
                try b.resize(to: 256 << 20)
            }
            #expect(address(b) == before)
            #expect(b.byteCount == 1 << 20)
            #expect(b.withUnsafeMutableBytes { check($0.baseAddress!, $0.count, seed: 11) })
        }
        expectNothingLost(sys)
    }
}
