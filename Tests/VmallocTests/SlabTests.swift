import CShim
import Dispatch
import Glibc
import Synchronization
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct SlabTests {
    @Test func sizeClassesAndLargeBlocks() throws {
        let sys = try makeSystem()
        let expected = [
            (1, 8), (8, 8), (9, 16), (33, 64), (65, 96), (96, 96), (97, 128), (129, 192), (192, 192),
            (193, 256), (300, 512), (1000, 1024), (4096, 4096), (4097, 8192), (8192, 8192),
            (8193, 16384), (65536, 65536), (100_000, 131_072), (4 << 20, 4 << 20),
        ]
        var held: [(UnsafeMutableRawPointer, Int)] = []
        for (size, usable) in expected {
            let p = try #require(sys.kmalloc(size, .kernel))
            #expect(sys.ksize(p) == usable, "kmalloc(\(size))")
            #expect(!sys.is_vmalloc_addr(p))
            #expect(sys.memory.pfn(ofDirect: p) != nil)
            // Power-of-two classes are naturally aligned, the others 8-byte aligned.
            let align = usable & (usable - 1) == 0 ? min(usable, 4096) : 8
            #expect(Int(bitPattern: p) % align == 0)
            memset(p, Int32(size & 0xFF), usable)
            held.append((p, size))
        }
        for (p, size) in held {
            let b = p.assumingMemoryBound(to: UInt8.self)
            let usable = sys.ksize(p)
            #expect(b[0] == UInt8(size & 0xFF) && b[usable - 1] == UInt8(size & 0xFF))
            sys.kfree(p)
        }
        sys.kmem_cache_shrink()
        #expect(sys.meminfo().slab == 0)
        expectNothingLost(sys)
    }

    @Test func zeroSizeNodesAndLimits() throws {
        let log = LogCapture()
        let sys = try makeSystem(nodes: 2, mib: 16, log: log)
        #expect(sys.kmalloc(0, .kernel) == ZERO_SIZE_PTR)
        sys.kfree(ZERO_SIZE_PTR)
        sys.kfree(nil)
        #expect(sys.ksize(ZERO_SIZE_PTR) == 0)
        #expect(sys.kmalloc(-1, .kernel) == nil)
        #expect(sys.kmalloc((4 << 20) + 1, .kernel) == nil)
        #expect(log.all.contains { $0.contains("exceeds KMALLOC_MAX_SIZE") })
        #expect(sys.kmalloc_node(64, .kernel, 2) == nil)
        for node in 0..<2 {
            for size in [64, 3000, 20000] {
                let p = try #require(sys.kmalloc_node(size, GFP_KERNEL | __GFP_THISNODE, node))
                #expect(sys.page_to_nid(Page(pfn: sys.memory.pfn(ofDirect: p)!)) == node)
                sys.kfree(p)
            }
        }
        sys.kmem_cache_shrink()
        expectNothingLost(sys)
    }

    @Test func kzallocZeroesReusedObjects() throws {
        let sys = try makeSystem()
        for size in [8, 96, 4096, 20000] {
            let p = try #require(sys.kmalloc(size, .kernel))
            memset(p, 0xAB, sys.ksize(p))
            sys.kfree(p)
            let q = try #require(sys.kzalloc(size, .kernel))
            let b = q.assumingMemoryBound(to: UInt8.self)
            #expect((0..<sys.ksize(q)).allSatisfy { b[$0] == 0 })
            sys.kfree(q)
        }
        expectNothingLost(sys)
    }

    @Test func kreallocKeepsContent() throws {
        let sys = try makeSystem()
        var p = try #require(sys.kmalloc(40, .kernel))
        memset(p, 0x5A, 40)
        #expect(sys.krealloc(p, 60, .kernel) == p)  // kmalloc-64 holds it
        p = try #require(sys.krealloc(p, 50_000, .kernel))
        #expect(sys.ksize(p) == 65536)
        #expect((0..<40).allSatisfy { p.load(fromByteOffset: $0, as: UInt8.self) == 0x5A })
        #expect(sys.krealloc(p, 0, .kernel) == ZERO_SIZE_PTR)
        sys.kmem_cache_shrink()
        #expect(sys.meminfo().slab == 0)
        expectNothingLost(sys)
    }

    @Test func slabinfoAndMeminfo() throws {
        let sys = try makeSystem()
        let objects = (0..<100).compactMap { _ in sys.kmalloc(64, .kernel) }
        let info = sys.slabinfo()
        let lines = info.split(separator: "\n")
        #expect(lines.first == "slabinfo - version: 2.1")
        #expect(lines[1].hasPrefix("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"))
        let line = try #require(lines.first { $0.hasPrefix("kmalloc-64 ") })
        let f = line.split(separator: " ")
        // name active num objsize objperslab pagesperslab : tunables 0 0 0 : slabdata active num 0
        #expect(f.count == 16)
        #expect(
            f[6] == ":" && f[7] == "tunables" && f[10] == "0" && f[11] == ":" && f[12] == "slabdata" && f[15] == "0")
        let (active, num, slabs) = (Int(f[1])!, Int(f[2])!, Int(f[13])!)
        // The thread may have run on more than one CPU shard, each with its own partial slab.
        #expect(active == 100 && Int(f[3]) == 64 && Int(f[4]) == 64 && Int(f[5]) == 1)
        #expect(num == slabs * 64 && slabs >= 2 && f[13] == f[14])
        #expect(lines[2].hasPrefix("kmalloc-8k ") && lines.last!.hasPrefix("kmalloc-8 "))
        #expect(lines.contains { $0.hasPrefix("kmalloc-96 ") } && lines.contains { $0.hasPrefix("kmalloc-192 ") })
        #expect(sys.meminfo().slab == slabs * 4096)
        #expect(
            sys.meminfo().description.contains(
                "Slab:           \(String(repeating: " ", count: 8 - String(slabs * 4).count))\(slabs * 4) kB"))
        objects.forEach(sys.kfree)
        // Empty slabs stay cached for the next allocations (one per shard); shrinking gives them back.
        let kept = sys.meminfo().slab / 4096
        #expect(kept >= 1 && kept <= sys.slab.cpuShards)
        expectNothingLost(sys)
        #expect(sys.kmem_cache_shrink() == kept)
        #expect(sys.meminfo().slab == 0)
        #expect(sys.slabinfo().contains("kmalloc-64             0      0     64   64    1"))
    }

    @Test func badFreesAreRefusedAndChangeNothing() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let p = try #require(sys.kmalloc(64, .kernel))
        let big = try #require(sys.kmalloc(20000, .kernel))
        let v = try #require(sys.vmalloc(8192))
        memset(p, 0x11, 64)
        let slabBefore = sys.meminfo().slab
        sys.kfree(v)  // vmalloc memory
        #expect(
            log.all.last?.contains("a vmalloc address: use vfree() or kvfree(); nothing freed") == true)
        #expect(sys.find_vm_area(v) != nil)
        sys.vfree(p)  // kmalloc memory
        #expect(log.all.last?.contains("Trying to vfree() nonexistent vm area") == true)
        sys.kfree(p + 8)  // interior
        #expect(log.all.last?.contains("not the start of a kmalloc-64 object") == true)
        sys.kfree(big + 4096)
        #expect(log.all.last?.contains("not the start of a large kmalloc block") == true)
        var local = 0
        withUnsafeMutablePointer(to: &local) { sys.kfree(UnsafeMutableRawPointer($0)) }  // foreign
        #expect(log.all.last?.contains("not a kmalloc address") == true)
        let frame = try #require(sys.alloc_page(.kernel))
        sys.kfree(sys.page_address(frame))  // a page from alloc_pages
        #expect(log.all.last?.contains("not a kmalloc address") == true)
        #expect(sys.ksize(p + 8) == 0)
        #expect(sys.meminfo().slab == slabBefore)
        #expect(sys.ksize(p) == 64 && (0..<64).allSatisfy { p.load(fromByteOffset: $0, as: UInt8.self) == 0x11 })
        let q = try #require(sys.kmalloc(64, .kernel))
        sys.kfree(p)
        sys.kfree(p)  // double free
        #expect(
            log.all.last?.contains("double free or free of an unallocated kmalloc-64 object") == true)
        #expect(sys.ksize(q) == 64)
        let r = try #require(sys.kmalloc(64, .kernel))
        #expect(r != q)
        sys.kfree(q)
        sys.kfree(r)
        sys.kfree(big)
        sys.kfree(big)  // double free of a block
        #expect(log.all.last?.contains("not a kmalloc address") == true)
        sys.vfree(v)
        sys.__free_page(frame)
        sys.kmem_cache_shrink()
        #expect(sys.meminfo().slab == 0)
        expectNothingLost(sys)
    }

    @Test func emptySlabsAreGivenBackUnderPressure() throws {
        let sys = try makeSystem(mib: 16)
        let objects = (0..<200).compactMap { _ in sys.kmalloc(512, .kernel) }
        objects.forEach(sys.kfree)
        #expect(sys.meminfo().slab > 0)
        var held: [Page] = []
        while let p = sys.alloc_page(GFP_KERNEL | __GFP_NOWARN) { held.append(p) }
        #expect(sys.meminfo().slab == 0)
        held.forEach(sys.__free_page)
        expectNothingLost(sys)
    }

    @Test func manyThreadsMixedSizes() throws {
        let sys = try makeSystem(nodes: 2, mib: 64)
        let sizes = [8, 16, 24, 64, 96, 100, 192, 200, 500, 1024, 2000, 4096, 5000, 8192, 9000, 40000]
        let threads = 8
        let failures = DispatchQueue.concurrentPerform(threads: threads) { t -> Int in
            var rng = SystemRandomNumberGenerator()
            var live: [(UnsafeMutableRawPointer, Int, UInt8)] = []
            var bad = 0
            func release(_ i: Int) {
                let (p, size, tag) = live.remove(at: i)
                let b = p.assumingMemoryBound(to: UInt8.self)
                let probe = size <= 256 ? Array(0..<size) : [0, size / 3, size / 2, size - 1]
                if !probe.allSatisfy({ b[$0] == tag }) || sys.ksize(p) < size { bad += 1 }
                sys.kfree(p)
            }
            for i in 0..<6000 {
                if live.count > 64 || (!live.isEmpty && Bool.random(using: &rng)) {
                    release(Int.random(in: 0..<live.count, using: &rng))
                    continue
                }
                let size = sizes.randomElement(using: &rng)!
                let node = Bool.random(using: &rng) ? NUMA_NO_NODE : (t + i) % 2
                guard let p = sys.kmalloc_node(size, .kernel, node) else {
                    bad += 1
                    continue
                }
                let tag = UInt8(truncatingIfNeeded: t &* 31 &+ i)
                memset(p, Int32(tag), size)
                live.append((p, size, tag))
            }
            while !live.isEmpty { release(live.count - 1) }
            return bad
        }
        #expect(failures == 0)
        sys.kmem_cache_shrink()
        #expect(sys.meminfo().slab == 0)
        #expect(sys.slabinfo().split(separator: "\n").dropFirst(2).allSatisfy { $0.split(separator: " ")[1] == "0" })
        expectNothingLost(sys)
    }
}

extension DispatchQueue {
    /// Run `body` on `threads` threads at once and sum what they return.
    static func concurrentPerform(threads: Int, _ body: @Sendable (Int) -> Int) -> Int {
        let total = Lock(0)
        concurrentPerform(iterations: threads) { i in
            let n = body(i)
            total.withLock { $0 += n }
        }
        return total.withLock { $0 }
    }
}
