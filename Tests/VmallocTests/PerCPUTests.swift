import CShim
import Foundation
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The per-CPU allocator (mm/percpu.c): every copy aligned and zeroed, copies apart per CPU, bad
/// input refused with the kernel's warning, chunks carved from vmalloc and given back, nothing
/// lost after lib/test_vmalloc.c's pcpu_alloc_test pattern.
@Suite struct PerCPUTests {
    /// Enough frames for `allocations` of pcpu_alloc_test's sizes on every possible CPU (about
    /// 700 bytes each with alignment holes), with room to spare.
    static func megabytes(forAllocations allocations: Int) -> Int {
        max(64, allocations * 1024 * PerCPUAllocator.nrPossibleCPUs >> 20 + 32)
    }

    /// The per-CPU chunks in vmallocinfo (their caller is this allocator's file).
    static func chunkCount(_ sys: MemorySystem) -> Int {
        sys.vmallocinfo().split(separator: "\n").filter { $0.contains("PerCPUAllocator.swift") }.count
    }

    /// Free frames plus the page-table pages built meanwhile (those stay with the VA space).
    static func unowned(_ sys: MemorySystem) -> Int {
        sys.vm_unmap_aliases()
        let info = sys.meminfo()
        return info.memFree + info.pageTables
    }

    /// pcpu_alloc_test's request: 1 to PAGE_SIZE/4 bytes at 2^1 to 2^11.
    static func randomRequest(_ rng: inout SplitMix64) -> (size: Int, align: Int) {
        (rng.inclusive(1...1024), 1 << rng.inclusive(1...11))
    }

    @Test(arguments: (0...12).map { 1 << $0 })
    func alignmentHonoured(align: Int) throws {
        let sys = try makeSystem()
        var live: [UnsafeMutableRawPointer] = []
        for size in [1, 3, 8, 100, 1000, 4096, 5000] {
            let p = try #require(sys.__alloc_percpu(size, align))
            for cpu in 0..<sys.nrCPUIds {
                #expect(Int(bitPattern: sys.per_cpu_ptr(p, cpu)) % align == 0, "size \(size) cpu \(cpu)")
            }
            live.append(p)
        }
        for p in live { sys.free_percpu(p) }
    }

    @Test func everyUnitZeroedAfterDirtyReuse() throws {
        let sys = try makeSystem()
        var rng = SplitMix64(seed: 7)
        let requests = (0..<2000).map { _ in Self.randomRequest(&rng) }
        for round in 0..<3 {
            let live = try requests.map { r in try #require(sys.__alloc_percpu(r.size, r.align)) }
            for (p, r) in zip(live, requests) {
                for cpu in 0..<sys.nrCPUIds {
                    let copy = UnsafeRawBufferPointer(start: sys.per_cpu_ptr(p, cpu), count: r.size)
                    #expect(copy.allSatisfy { $0 == 0 }, "round \(round) cpu \(cpu) size \(r.size)")
                    // Dirty it for the next round's allocations of the same memory.
                    memset(sys.per_cpu_ptr(p, cpu), 0xA5, r.size)
                }
            }
            for p in live { sys.free_percpu(p) }
        }
    }

    @Test func copiesAreIndependentPerCPU() throws {
        let sys = try makeSystem()
        let p = try #require(sys.__alloc_percpu(256, 8))
        #expect(sys.perCPUOffset(1) - sys.perCPUOffset(0) >= 256)
        for cpu in 0..<sys.nrCPUIds { memset(sys.per_cpu_ptr(p, cpu), Int32(cpu + 1), 256) }
        for cpu in 0..<sys.nrCPUIds {
            let copy = UnsafeRawBufferPointer(start: sys.per_cpu_ptr(p, cpu), count: 256)
            #expect(copy.allSatisfy { $0 == UInt8(cpu + 1) }, "cpu \(cpu)")
        }
        sys.free_percpu(p)
    }

    @Test(arguments: [(0, 4), (32 << 10 + 1, 4), (16, 3), (16, 0), (16, 8192), (-8, 8)])
    func badInputIsRefusedWithAWarning(size: Int, align: Int) throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        let before = sys.meminfo()
        #expect(sys.__alloc_percpu(size, align) == nil)
        #expect(log.lines(containing: "illegal size (\(size)) or align (\(align)) for percpu allocation").count == 1)
        #expect(sys.meminfo().memFree == before.memFree)
        #expect(Self.chunkCount(sys) == 0)
    }

    @Test func theLargestRequestsAreServed() throws {
        let sys = try makeSystem()
        let p = try #require(sys.__alloc_percpu(32 << 10, 4096))
        let q = try #require(sys.__alloc_percpu(1, 1))
        sys.free_percpu(p)
        sys.free_percpu(q)
    }

    @Test func badFreesWarnAndChangeNothing() throws {
        let log = LogCapture()
        let sys = try makeSystem(log: log)
        sys.free_percpu(nil)
        let p = try #require(sys.__alloc_percpu(64, 8))
        let q = try #require(sys.__alloc_percpu(64, 8))
        for cpu in 0..<sys.nrCPUIds { memset(sys.per_cpu_ptr(q, cpu), 0x5A, 64) }
        let free = Self.unowned(sys)
        var local = 0
        withUnsafeMutablePointer(to: &local) { sys.free_percpu(UnsafeMutableRawPointer($0)) }  // wild
        sys.free_percpu(p + 4)  // interior
        sys.free_percpu(p + 1)  // not even a granule
        if sys.nrCPUIds > 1 { sys.free_percpu(sys.per_cpu_ptr(p, 1)) }  // another CPU's copy
        sys.free_percpu(p)
        sys.free_percpu(p)  // double free
        #expect(log.lines(containing: "is not a live per-CPU allocation").count == (sys.nrCPUIds > 1 ? 5 : 4))
        // q is intact and still live; p's space is free again.
        for cpu in 0..<sys.nrCPUIds {
            #expect(UnsafeRawBufferPointer(start: sys.per_cpu_ptr(q, cpu), count: 64).allSatisfy { $0 == 0x5A })
        }
        #expect(try #require(sys.__alloc_percpu(64, 8)) == p)
        sys.free_percpu(p)
        sys.free_percpu(q)
        #expect(Self.unowned(sys) == free)
        #expect(log.lines(containing: "is not a live per-CPU allocation").count == (sys.nrCPUIds > 1 ? 5 : 4))
    }

    /// pcpu_alloc_test: 35,000 random requests, then every one freed in order, twice; the
    /// frames come back exactly, only the spare chunk stays, and the frame metadata tiles memory.
    @Test func testVmallocPatternLosesNothing() throws {
        let sys = try makeSystem(mib: Self.megabytes(forAllocations: 35_000))
        // The spare chunk exists from here on, on both sides of the comparison.
        let first = try #require(sys.__alloc_percpu(4, 4))
        sys.free_percpu(first)
        let free = Self.unowned(sys)
        var rng = SplitMix64(seed: 2024)
        for _ in 0..<2 {
            var live: [UnsafeMutableRawPointer] = []
            live.reserveCapacity(35_000)
            for _ in 0..<35_000 {
                let r = Self.randomRequest(&rng)
                live.append(try #require(sys.__alloc_percpu(r.size, r.align)))
            }
            #expect(Self.chunkCount(sys) > 1)
            for p in live { sys.free_percpu(p) }
            #expect(Self.chunkCount(sys) == 1)
            #expect(Self.unowned(sys) == free)
        }
        let audit = sys.audit()
        #expect(audit.consistent)
        let chunkPages = PerCPUAllocator.unitSize * sys.nrCPUIds / 4096
        #expect(audit.held.reduce(0) { $0 + ($1[VMSHIM_OWNER_VMALLOC] ?? 0) } == chunkPages)
    }

    @Test func emptyChunksGoBackButTheSpare() throws {
        let sys = try makeSystem(mib: 64 + 8 * PerCPUAllocator.unitSize * PerCPUAllocator.nrPossibleCPUs >> 20)
        let free = Self.unowned(sys)
        let perChunk = PerCPUAllocator.unitSize / PerCPUAllocator.maxAllocation
        let live = try (0..<5 * perChunk).map { _ in
            try #require(sys.__alloc_percpu(PerCPUAllocator.maxAllocation, 8))
        }
        #expect(Self.chunkCount(sys) == 5)
        for p in live { sys.free_percpu(p) }
        #expect(Self.chunkCount(sys) == 1)
        #expect(free - Self.unowned(sys) == PerCPUAllocator.unitSize * sys.nrCPUIds)
    }

    /// Allocations and frees in random order: no allocation overlaps another (each keeps the
    /// mark written into every copy), and the chunks all go back but the spare.
    @Test func randomInterleavingKeepsEveryCopyIntact() throws {
        let sys = try makeSystem(mib: Self.megabytes(forAllocations: 5_000))
        let failures = Counter()
        var rng = SplitMix64(seed: 99)
        var live: [(UnsafeMutableRawPointer, Int, UInt8)] = []
        for i in 0..<20_000 {
            if live.isEmpty || rng.next(3) != 0 {
                let r = Self.randomRequest(&rng)
                let p = try #require(sys.__alloc_percpu(r.size, r.align))
                let mark = UInt8(truncatingIfNeeded: i)
                for cpu in 0..<sys.nrCPUIds { memset(sys.per_cpu_ptr(p, cpu), Int32(mark), r.size) }
                live.append((p, r.size, mark))
            } else {
                Self.verifyAndFree(sys, live.remove(at: rng.next(live.count)), failures)
            }
        }
        for a in live { Self.verifyAndFree(sys, a, failures) }
        #expect(failures.count == 0)
        #expect(Self.chunkCount(sys) == 1)
    }

    /// A chunk's first fit is the lowest aligned offset with room, whichever blocks it skips,
    /// and its block index and hints stay what a walk of every extent finds, through random
    /// allocations and frees (a unit that is not a whole number of blocks too).
    @Test(arguments: [PerCPUAllocator.unitSize / PerCPUAllocator.granule, 5000])
    func blockHintsMatchAWalk(granules: Int) {
        var chunk = PerCPUChunk(base: 0, granules: granules)
        var used = Array(repeating: false, count: granules)
        var live: [(start: Int, count: Int)] = []
        var rng = SplitMix64(seed: 7)
        for step in 0..<2000 {
            if live.isEmpty || rng.inclusive(0...2) > 0 {
                let (size, align) = Self.randomRequest(&rng)
                let count = (size + 3) / 4
                let alignGranules = max(align / 4, 1)
                let expected = stride(from: 0, through: granules - count, by: alignGranules).first {
                    !used[$0..<$0 + count].contains(true)
                }
                let got = chunk.fits(count, align: alignGranules) ? chunk.allocate(count, align: alignGranules) : nil
                // fits() reads the contig hint only: it may pass over a chunk that has room elsewhere.
                if got != nil || chunk.fits(count, align: alignGranules) { #expect(got == expected, "step \(step)") }
                if let got {
                    for g in got..<got + count { used[g] = true }
                    live.append((got, count))
                }
            } else {
                let a = live.remove(at: rng.inclusive(0...live.count - 1))
                let freed = chunk.free(at: a.start)
                let again = chunk.free(at: a.start)
                #expect(freed && !again, "a live start is freed once")
                for g in a.start..<a.start + a.count { used[g] = false }
            }
            let consistent = chunk.hintsAreConsistent
            #expect(consistent, "step \(step)")
        }
        for a in live {
            let freed = chunk.free(at: a.start)
            #expect(freed)
        }
        let consistent = chunk.hintsAreConsistent
        #expect(chunk.isEmpty && chunk.contigHint == granules && consistent)
    }

    @Test func twoThreadsAtOnce() throws {
        let sys = try makeSystem(mib: Self.megabytes(forAllocations: 2 * 10_000))
        let first = try #require(sys.__alloc_percpu(4, 4))
        sys.free_percpu(first)
        let free = Self.unowned(sys)
        let failures = Counter()
        let group = DispatchGroup()
        for t in 0..<2 {
            group.enter()
            Thread {
                var rng = SplitMix64(seed: UInt64(t + 1))
                var live: [(UnsafeMutableRawPointer, Int, UInt8)] = []
                for i in 0..<10_000 {
                    let r = Self.randomRequest(&rng)
                    guard let p = sys.__alloc_percpu(r.size, r.align) else {
                        failures.add()
                        continue
                    }
                    let mark = UInt8(truncatingIfNeeded: t * 128 + i)
                    for cpu in 0..<sys.nrCPUIds { memset(sys.per_cpu_ptr(p, cpu), Int32(mark), r.size) }
                    live.append((p, r.size, mark))
                    // Free a third as it goes, so the threads also free into each other's chunks.
                    if i % 3 == 0 { Self.verifyAndFree(sys, live.removeFirst(), failures) }
                }
                for a in live { Self.verifyAndFree(sys, a, failures) }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(failures.count == 0)
        #expect(Self.chunkCount(sys) == 1)
        #expect(Self.unowned(sys) == free)
    }

    /// Threads allocate from groups of their own: one thread's allocations freed by another
    /// (another group first, when their indices differ), a double free still reported, and the
    /// spare left by them taken by a third thread instead of a new chunk.
    @Test func freesFromAnotherThreadAndTheSpareIsShared() throws {
        let log = LogCapture()
        let sys = try makeSystem(
            mib: 64 + 8 * PerCPUAllocator.unitSize * PerCPUAllocator.nrPossibleCPUs >> 20, log: log)
        let first = try #require(sys.__alloc_percpu(4, 4))
        sys.free_percpu(first)
        let free = Self.unowned(sys)
        let size = PerCPUAllocator.maxAllocation
        // Addresses as integers, which may cross threads.
        let live = onNewThread {
            (0..<10).compactMap { i -> Int? in
                let p = sys.__alloc_percpu(size, 8)
                if let p { for cpu in 0..<sys.nrCPUIds { memset(sys.per_cpu_ptr(p, cpu), Int32(i + 1), size) } }
                return p.map { Int(bitPattern: $0) }
            }
        }
        #expect(live.count == 10 && Self.chunkCount(sys) == 3)
        onNewThread {
            for (i, p) in live.compactMap({ UnsafeMutableRawPointer(bitPattern: $0) }).enumerated() {
                for cpu in 0..<sys.nrCPUIds {
                    let copy = UnsafeRawBufferPointer(start: sys.per_cpu_ptr(p, cpu), count: size)
                    #expect(copy.allSatisfy { $0 == UInt8(i + 1) })
                }
                sys.free_percpu(p)
            }
            sys.free_percpu(UnsafeMutableRawPointer(bitPattern: live[0]))
        }
        #expect(log.lines(containing: "is not a live per-CPU allocation").count == 1)
        #expect(Self.chunkCount(sys) == 1)
        #expect(Self.unowned(sys) == free)
        let again = onNewThread { sys.__alloc_percpu(size, 8).map { Int(bitPattern: $0) } }
        #expect(again != nil && Self.chunkCount(sys) == 1)
        sys.free_percpu(UnsafeMutableRawPointer(bitPattern: again ?? 0))
        #expect(Self.chunkCount(sys) == 1 && Self.unowned(sys) == free)
    }

    static func verifyAndFree(
        _ sys: MemorySystem, _ a: (UnsafeMutableRawPointer, Int, UInt8), _ failures: Counter
    ) {
        for cpu in 0..<sys.nrCPUIds
        where !UnsafeRawBufferPointer(start: sys.per_cpu_ptr(a.0, cpu), count: a.1).allSatisfy({ $0 == a.2 }) {
            failures.add()
        }
        sys.free_percpu(a.0)
    }
}
