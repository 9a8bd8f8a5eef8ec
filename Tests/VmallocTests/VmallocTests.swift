import CShim
import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct VmallocTests {
    @Test(arguments: [1, 2, 7, 64, 513, 4096])
    func aliasingThroughDirectMap(pages: Int) throws {
        let sys = try makeSystem()
        let size = pages * 4096
        let p = try #require(sys.vmalloc(size))
        #expect(sys.is_vmalloc_addr(p))
        // vmalloc address -> direct map, page by page.
        for i in 0..<pages {
            let va = p + i * 4096
            va.storeBytes(of: UInt64(i) &* 0x9E37_79B9, toByteOffset: 8, as: UInt64.self)
            let page = try #require(sys.vmalloc_to_page(va))
            #expect(sys.page_address(page).load(fromByteOffset: 8, as: UInt64.self) == UInt64(i) &* 0x9E37_79B9)
            // ... and back.
            sys.page_address(page).storeBytes(of: UInt64(i), toByteOffset: 104, as: UInt64.self)
            #expect(va.load(fromByteOffset: 104, as: UInt64.self) == UInt64(i))
        }
        let area = try #require(sys.find_vm_area(p + size / 2))
        #expect(area.addr == p)
        #expect(area.nrPages == pages)
        #expect(area.size == size + 4096)
        #expect(area.requestedSize == size)
        sys.vfree(p)
        #expect(sys.vmalloc_to_page(p) == nil)
        expectNothingLost(sys)
    }

    @Test func vmapOfScrambledFrames() throws {
        let sys = try makeSystem()
        var frames = (0..<32).compactMap { _ in sys.alloc_page(.kernel) }
        #expect(frames.count == 32)
        frames.shuffle()
        for (i, f) in frames.enumerated() { sys.page_address(f).storeBytes(of: UInt32(i), as: UInt32.self) }
        let p = try #require(sys.vmap(frames))
        for (i, f) in frames.enumerated() {
            #expect((p + i * 4096).load(as: UInt32.self) == UInt32(i))
            #expect(sys.vmalloc_to_page(p + i * 4096) == f)
            (p + i * 4096).storeBytes(of: UInt32(i + 1000), toByteOffset: 64, as: UInt32.self)
            #expect(sys.page_address(f).load(fromByteOffset: 64, as: UInt32.self) == UInt32(i + 1000))
        }
        // The wrong release call is refused, nothing changes.
        sys.vm_unmap_ram(p, frames.count)
        #expect(sys.find_vm_area(p) != nil)
        #expect((p + 4096).load(as: UInt32.self) == 1)
        sys.vunmap(p)
        #expect(sys.find_vm_area(p) == nil)
        for f in frames { sys.__free_page(f) }
        expectNothingLost(sys)
    }

    @Test func zeroingVariants() throws {
        let sys = try makeSystem()
        // Dirty some frames, free them, then ask for zeroed memory over the same frames.
        let p = try #require(sys.vmalloc(64 * 4096))
        memset(p, 0xAB, 64 * 4096)
        sys.vfree(p)
        for q in [
            sys.vzalloc(64 * 4096), sys.vcalloc(64, 4096), sys.__vmalloc(64 * 4096, GFP_NOFS | __GFP_ZERO),
            sys.vzalloc_node(64 * 4096, 0),
        ] {
            let q = try #require(q)
            let b = q.assumingMemoryBound(to: UInt8.self)
            #expect((0..<(64 * 4096)).allSatisfy { b[$0] == 0 })
            memset(q, 0xCD, 64 * 4096)
            sys.vfree(q)
        }
        expectNothingLost(sys)
    }

    @Test(arguments: [4096, 8192, 65536, 1 << 21])
    func alignment(align: Int) throws {
        let sys = try makeSystem()
        var ps: [UnsafeMutableRawPointer] = []
        for size in [100, 5000, 70000] {
            let p = try #require(sys.__vmalloc_node(size, align: align, .kernel, node: NUMA_NO_NODE))
            #expect(Int(bitPattern: p) % align == 0)
            ps.append(p)
        }
        ps.forEach(sys.vfree)
        expectNothingLost(sys)
    }

    /// An alignment is met by the address, not by the offset inside the region: the region is
    /// only 2 MiB-aligned, so an aligned offset can be a 2 MiB-aligned address under a 4 MiB ask.
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
}
