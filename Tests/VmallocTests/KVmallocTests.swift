import CShim
import Foundation
import Synchronization
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// Fragment memory on purpose: hold every frame, then free every other one, so that half the
/// memory is free but no two free frames are buddies. Returns the frames still held.
func checkerboard(_ sys: MemorySystem) -> [Page] {
    var held: [Page] = []
    for p in holdAllFrames(sys) {
        if p.pfn % 2 == 0 { sys.__free_page(p) } else { held.append(p) }
    }
    return held
}

@Suite struct KVmallocTests {
    @Test func contiguousWhenCheapVmallocWhenFragmented() throws {
        let sys = try makeSystem(mib: 16)
        let p = try #require(sys.kvmalloc(64 << 10))
        #expect(!sys.is_vmalloc_addr(p))
        #expect(sys.ksize(p) == 64 << 10)
        sys.kvfree(p)
        #expect(sys.allocator.stat[.kvmallocVmallocFallback] == 0)

        let held = checkerboard(sys)
        let gfps = [GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOWAIT, GFP_ATOMIC]
        for (i, gfp) in gfps.enumerated() {
            let q = try #require(sys.kvmalloc(64 << 10, gfp), "\(gfp)")
            #expect(sys.is_vmalloc_addr(q))
            fill(q, 64 << 10, seed: UInt8(i))
            #expect(check(q, 64 << 10, seed: UInt8(i)))
            let page = try #require(sys.vmalloc_to_page(q + 5000))
            #expect(
                sys.page_address(page).load(fromByteOffset: 5000 - 4096, as: UInt8.self)
                    == q.load(fromByteOffset: 5000, as: UInt8.self))
            sys.kvfree(q)
        }
        #expect(sys.allocator.stat[.kvmallocVmallocFallback] == gfps.count)
        // Up to a page, kvmalloc is kmalloc only: the 4k cache falls back to order-0 slabs.
        let small = try #require(sys.kvmalloc(4096))
        #expect(!sys.is_vmalloc_addr(small))
        #expect(sys.allocator.stat[.kvmallocVmallocFallback] == gfps.count)
        sys.kvfree(small)
        held.forEach(sys.__free_page)
        sys.kmem_cache_shrink()
        #expect(sys.meminfo().slab == 0)
        expectNothingLost(sys)
    }

    @Test func overflowHugeSizesAndNil() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let before = sys.meminfo().memFree
        sys.kvfree(nil)
        sys.kvfree(ZERO_SIZE_PTR)
        #expect(sys.kvmalloc_array(Int.max / 2, 3) == nil)
        #expect(sys.kvcalloc(1 << 40, 1 << 40) == nil)
        #expect(sys.kvmalloc_array(-1, 8) == nil)
        #expect(sys.kvmalloc(Int(Int32.max) + 1) == nil)
        #expect(log.all.last?.contains("exceeds INT_MAX") == true)
        let count = log.all.count
        #expect(sys.kvmalloc(Int(Int32.max) + 1, GFP_KERNEL | __GFP_NOWARN) == nil)
        #expect(log.all.count == count)
        #expect(sys.kvmalloc(0) == ZERO_SIZE_PTR)
        #expect(sys.meminfo().memFree == before)
        // A sensible array is fine, and kvcalloc zeroes it.
        let a = try #require(sys.kvcalloc(1000, 100))
        #expect((0..<100_000).allSatisfy { a.load(fromByteOffset: $0, as: UInt8.self) == 0 })
        sys.kvfree(a)
        sys.kmem_cache_shrink()
        expectNothingLost(sys)
    }

    @Test func kvreallocKeepsContentAcrossMoves() throws {
        let sys = try makeSystem()
        var p = try #require(sys.kvmalloc(3000))
        fill(p, 3000, seed: 7)
        p = try #require(sys.kvrealloc(p, 6000))
        #expect(!sys.is_vmalloc_addr(p))
        #expect(check(p, 3000, seed: 7))
        fill(p, 6000, seed: 9)
        // Beyond KMALLOC_MAX_SIZE: kmalloc -> vmalloc.
        p = try #require(sys.kvrealloc(p, 5 << 20))
        #expect(sys.is_vmalloc_addr(p))
        #expect(check(p, 6000, seed: 9))
        fill(p, 5 << 20, seed: 11)
        // vmalloc -> vmalloc: a larger area, content moved.
        let q = try #require(sys.kvrealloc(p, 9 << 20))
        #expect(q != p && sys.is_vmalloc_addr(q))
        #expect(check(q, 5 << 20, seed: 11))
        sys.kvfree(q)

        // On fragmented memory a kmalloc object moves to vmalloc already at 64 KiB.
        let held = checkerboard(sys)
        var r = try #require(sys.kvmalloc(2000))
        fill(r, 2000, seed: 3)
        r = try #require(sys.kvrealloc(r, 64 << 10))
        #expect(sys.is_vmalloc_addr(r))
        #expect(check(r, 2000, seed: 3))
        sys.kvfree(r)
        held.forEach(sys.__free_page)
        sys.kmem_cache_shrink()
        #expect(sys.meminfo().slab == 0)
        expectNothingLost(sys)
    }

    @Test func vreallocInPlaceMoveAndFree() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let p = try #require(sys.vrealloc(nil, 5000, .kernel))
        #expect(sys.find_vm_area(p)?.nrPages == 2)
        fill(p, 5000, seed: 1)
        #expect(sys.vrealloc(p, 8000, .kernel) == p)  // the area's two pages hold it
        #expect(sys.find_vm_area(p)?.requestedSize == 8000)
        #expect(check(p, 5000, seed: 1))
        #expect(sys.vrealloc(p, 100, GFP_KERNEL | __GFP_ZERO) == p)  // shrinking keeps the area
        #expect(sys.find_vm_area(p)?.nrPages == 2)
        #expect(p.load(fromByteOffset: 100, as: UInt8.self) == 0 && p.load(fromByteOffset: 7999, as: UInt8.self) == 0)
        #expect(p.load(as: UInt8.self) == 1)
        let q = try #require(sys.vrealloc(p, 3 * 4096, .kernel))
        #expect(q != p)
        #expect(sys.find_vm_area(p) == nil)
        #expect(q.load(as: UInt8.self) == 1)
        #expect(sys.vrealloc(q, 0, .kernel) == nil)
        #expect(sys.find_vm_area(q) == nil)
        let k = try #require(sys.kmalloc(64, .kernel))
        #expect(sys.vrealloc(k, 128, .kernel) == nil)
        #expect(log.all.last?.contains("Trying to vrealloc() nonexistent vm area") == true)
        sys.kfree(k)
        sys.kmem_cache_shrink()
        expectNothingLost(sys)
    }

    @Test func nofailWaitsUntilMemoryIsFreed() throws {
        let sys = try makeSystem(mib: 16)
        let held = holdAllFrames(sys)
        let result = Lock<(address: Int, ns: UInt64)?>(nil)
        let thread = Thread {
            let start = DispatchTime.now().uptimeNanoseconds
            let p = sys.kvmalloc(64 << 10, GFP_KERNEL | __GFP_NOFAIL)
            p?.storeBytes(of: 42, as: Int.self)
            result.withLock { $0 = (Int(bitPattern: p), DispatchTime.now().uptimeNanoseconds - start) }
        }
        thread.start()
        usleep(300_000)
        #expect(result.withLock { $0 } == nil, "NOFAIL returned while no memory was free")
        held.forEach(sys.__free_page)
        var waited = 0
        while result.withLock({ $0 }) == nil && waited < 10_000 {
            usleep(1000)
            waited += 1
        }
        let (address, ns) = try #require(result.withLock { $0 })
        let p = try #require(UnsafeMutableRawPointer(bitPattern: address))
        #expect(ns >= 250_000_000)
        #expect(sys.is_vmalloc_addr(p))
        #expect(p.load(as: Int.self) == 42)
        #expect(sys.allocator.stat[.nofailRetries] > 0)
        sys.kvfree(p)
        expectNothingLost(sys)
    }
}
