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

    /// Free frames plus the page-table pages built meanwhile (those stay with the VA space),
    /// after a full purge: lazily freed areas and kept empty chunks but the spare.
    static func unowned(_ sys: MemorySystem) -> Int {
        sys.space.purgeAll()
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
    /// emptied chunks are kept, counted in `Percpu:`, and serve the second round without a new
    /// chunk; a full purge then gives back all but the spare: the frames come back exactly, and
    /// the frame metadata tiles memory.
    @Test func testVmallocPatternLosesNothing() throws {
        let sys = try makeSystem(mib: Self.megabytes(forAllocations: 35_000))
        // The spare chunk exists from here on, on both sides of the comparison.
        let first = try #require(sys.__alloc_percpu(4, 4))
        sys.free_percpu(first)
        let free = Self.unowned(sys)
        var created = 0
        for round in 0..<2 {
            // The same requests each round: the second needs exactly the first's chunks.
            var rng = SplitMix64(seed: 2024)
            var live: [UnsafeMutableRawPointer] = []
            live.reserveCapacity(35_000)
            for _ in 0..<35_000 {
                let r = Self.randomRequest(&rng)
                live.append(try #require(sys.__alloc_percpu(r.size, r.align)))
            }
            let chunks = Self.chunkCount(sys)
            #expect(chunks > 1)
            if round == 0 { created = sys.percpu.chunksCreated }
            #expect(sys.percpu.chunksCreated == created, "round \(round)")
            for p in live { sys.free_percpu(p) }
            #expect(Self.chunkCount(sys) == chunks && sys.percpu.keptChunks == chunks, "round \(round)")
            #expect(sys.meminfo().percpu == chunks * PerCPUAllocator.unitSize * sys.nrCPUIds)
        }
        #expect(Self.unowned(sys) == free)
        #expect(Self.chunkCount(sys) == 1 && sys.percpu.keptChunks == 1)
        #expect(sys.meminfo().percpu == PerCPUAllocator.unitSize * sys.nrCPUIds)
        let audit = sys.audit()
        #expect(audit.consistent)
        let chunkPages = PerCPUAllocator.unitSize * sys.nrCPUIds / 4096
        #expect(audit.held.reduce(0) { $0 + ($1[VMSHIM_OWNER_VMALLOC] ?? 0) } == chunkPages)
    }

    /// Five chunks filled and emptied: all five are kept, through `vm_unmap_aliases` too (the
    /// kernel's leaves percpu chunks alone), until a pass that gives memory back vfrees all but
    /// the spare, and the free frames are then the start's less the spare's.
    enum GiveBack: CaseIterable { case reclaim, frameShortage, reporter }

    @Test(arguments: GiveBack.allCases)
    func emptyChunksAreKeptUntilGivenBack(_ way: GiveBack) throws {
        let chunkBytes = PerCPUAllocator.unitSize * PerCPUAllocator.nrPossibleCPUs
        let sys = try makeSystem(
            mib: 64 + 8 * chunkBytes >> 20, minFreePages: 16,
            freePageReportingDelay: way == .reporter ? .milliseconds(100) : nil)
        let free = Self.unowned(sys)
        if way == .reporter {
            // Past the reporter's first pass, so only these frees can start the next one.
            Thread.sleep(forTimeInterval: 0.5)
        }
        let perChunk = PerCPUAllocator.unitSize / PerCPUAllocator.maxAllocation
        let live = try (0..<5 * perChunk).map { _ in
            try #require(sys.__alloc_percpu(PerCPUAllocator.maxAllocation, 8))
        }
        #expect(Self.chunkCount(sys) == 5)
        for p in live { sys.free_percpu(p) }
        sys.vm_unmap_aliases()
        #expect(Self.chunkCount(sys) == 5 && sys.percpu.keptChunks == 5)
        #expect(sys.meminfo().percpu == 5 * chunkBytes)
        switch way {
        case .reclaim: _ = sys.reclaim.shrink(gfp: GFP_KERNEL, node: 0, target: .max)
        case .frameShortage:
            // More frames than are free: there only once the kept chunks' frames are back.
            let p = sys.vmalloc(sys.meminfo().memFree + 2 * chunkBytes)
            #expect(p != nil)
            sys.vfree(p)
        case .reporter:
            // Frees paused: the reporter's pass vfrees and purges them, with no call from here.
            func unownedNow() -> Int { sys.meminfo().memFree + sys.meminfo().pageTables }
            let deadline = Date().addingTimeInterval(10)
            while unownedNow() != free - chunkBytes, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(free - unownedNow() == chunkBytes)
        }
        #expect(Self.chunkCount(sys) == 1 && sys.percpu.keptChunks == 1)
        #expect(sys.meminfo().percpu == chunkBytes)
        #expect(free - Self.unowned(sys) == chunkBytes)
    }

    /// The reporter's pass after the frees leaves chunks kept for less than `keptDelays`
    /// reporting delays (a program pausing between rounds keeps them), and a later pass, with no
    /// further free or call, gives them back: the free frames are then the start's less the
    /// spare's.
    @Test func theReporterGivesKeptChunksBackOnceKeptLongEnough() throws {
        let chunkBytes = PerCPUAllocator.unitSize * PerCPUAllocator.nrPossibleCPUs
        // A keep time of 30 × 0.3 s = 9 s: far past the pass a delay after the frees, even in
        // a sanitizer's build on a loaded machine.
        let delay = 0.3
        let keep = Double(PerCPUAllocator.keptDelays) * delay
        #expect(keep >= 5)
        let sys = try makeSystem(
            mib: 64 + 8 * chunkBytes >> 20, minFreePages: 16, freePageReportingDelay: .milliseconds(300))
        // Past the reporter's first pass, so only these frees can start the next one.
        Thread.sleep(forTimeInterval: 4 * delay)
        let free = Self.unowned(sys)
        let perChunk = PerCPUAllocator.unitSize / PerCPUAllocator.maxAllocation
        let live = try (0..<5 * perChunk).map { _ in
            try #require(sys.__alloc_percpu(PerCPUAllocator.maxAllocation, 8))
        }
        let freed = Date()
        for p in live { sys.free_percpu(p) }
        // A touched vmalloc area freed beside them: its memory leaves the memfds once a pass ran.
        let area = try #require(sys.vmalloc(8 << 20))
        memset(area, 1, 8 << 20)
        let resident = sys.residentBytes()
        sys.vfree(area)
        let deadline = Date().addingTimeInterval(60)
        while sys.residentBytes() > resident - (4 << 20), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(Date() < deadline, "no reporter pass")
        // Only a pass within the keep time can show it (a stalled machine may pass later).
        if Date().timeIntervalSince(freed) < keep {
            #expect(sys.percpu.keptChunks == 5, "a pass within the keep time vfreed kept chunks")
        }
        while sys.percpu.keptChunks > 1, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(sys.percpu.keptChunks == 1 && Self.chunkCount(sys) == 1)
        #expect(Date().timeIntervalSince(freed) >= keep, "given back before the keep time")
        #expect(free - Self.unowned(sys) == chunkBytes)
    }

    /// A program that comes back for its per-CPU memory after the reporter gave it back (it
    /// pauses longer than the keep time) has its next round's chunks kept longer: past twice
    /// that pause, where the first keep time would have let them go. They still go back by
    /// themselves.
    @Test func theKeepTimeFollowsTheProgramsPauses() throws {
        let chunkBytes = PerCPUAllocator.unitSize * PerCPUAllocator.nrPossibleCPUs
        let delay = 0.02
        let sys = try makeSystem(
            mib: 64 + 8 * chunkBytes >> 20, minFreePages: 16, freePageReportingDelay: .milliseconds(20))
        let keep = Double(PerCPUAllocator.keptDelays) * delay
        let perChunk = PerCPUAllocator.unitSize / PerCPUAllocator.maxAllocation
        func round() throws {
            let live = try (0..<5 * perChunk).map { _ in
                try #require(sys.__alloc_percpu(PerCPUAllocator.maxAllocation, 8))
            }
            for p in live { sys.free_percpu(p) }
        }
        func keptUntilGivenBack(within seconds: Double) -> Double {
            let start = Date()
            while sys.percpu.keptChunks > 1, Date().timeIntervalSince(start) < seconds {
                Thread.sleep(forTimeInterval: 0.01)
            }
            return Date().timeIntervalSince(start)
        }
        try round()
        let first = keptUntilGivenBack(within: 10)
        #expect(sys.percpu.keptChunks == 1 && first >= keep * 0.9, "first keep \(first) s")
        // A pause past the keep time, then the program comes back: its chunks are made again.
        Thread.sleep(forTimeInterval: keep / 2)
        let created = sys.percpu.chunksCreated
        try round()
        #expect(sys.percpu.chunksCreated > created)
        // Kept now past twice the pause (the keep time and the sleep): 3 keep times at least.
        let second = keptUntilGivenBack(within: 20)
        #expect(sys.percpu.keptChunks == 1, "the longer keep still gives them back by itself")
        #expect(second >= 2 * keep, "second keep \(second) s against a first of \(first) s")
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
        sys.space.purgeAll()
        #expect(Self.chunkCount(sys) == 1)
    }

    /// A chunk's first fit is the lowest aligned offset with room, whichever blocks it skips;
    /// its free extents are exactly the model's free runs and its block index and hints what a
    /// walk of every extent finds, after every allocation and free; a live start frees once; and
    /// the chunk is whole again after the last free. Requests from one granule to a block and
    /// more, at alignments up to a page, in random order (a unit that is not a whole number of
    /// blocks too): an error in an index shift, a merge or a hint shows as a mismatch at its step.
    @Test(arguments: [
        (PerCPUAllocator.unitSize / PerCPUAllocator.granule, UInt64(7)),
        (PerCPUAllocator.unitSize / PerCPUAllocator.granule, UInt64(8)),
        (5000, UInt64(7)),
    ])
    func chunkMatchesAModel(granules: Int, seed: UInt64) {
        let chunk = PerCPUChunk(base: 0, granules: granules)
        var used = Array(repeating: false, count: granules)
        var live: [(start: Int, count: Int)] = []
        var rng = SplitMix64(seed: seed)
        var mismatches = 0
        var runs = [0..<granules]
        for step in 0..<2000 {
            if live.isEmpty || rng.inclusive(0...2) > 0 {
                // pcpu_alloc_test's requests mostly, and now and then a granule or a whole block.
                var (size, align) = Self.randomRequest(&rng)
                switch rng.inclusive(0...9) {
                case 0: size = 1
                case 1: size = rng.inclusive(1...PerCPUAllocator.maxAllocation / 4)
                default: break
                }
                let count = (size + 3) / 4
                let alignGranules = max(align / 4, 1)
                // The model's first fit: the lowest aligned start with room in a free run.
                let expected = runs.lazy.map { ($0.lowerBound + alignGranules - 1) / alignGranules * alignGranules }
                    .enumerated().first { $1 + count <= runs[$0].upperBound }?.element
                let got = chunk.fits(count, align: alignGranules) ? chunk.allocate(count, align: alignGranules) : nil
                // fits() reads the contig hint only: it may pass over a chunk that has room elsewhere.
                if got != nil || chunk.fits(count, align: alignGranules) { #expect(got == expected, "step \(step)") }
                if let got {
                    #expect(got % alignGranules == 0 && !used[got..<got + count].contains(true), "step \(step)")
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
            runs = Self.freeRuns(used)
            if chunk.freeRanges != runs || !chunk.hintsAreConsistent { mismatches += 1 }
        }
        #expect(mismatches == 0)
        for a in live {
            let freed = chunk.free(at: a.start)
            #expect(freed)
        }
        let consistent = chunk.hintsAreConsistent
        #expect(chunk.isEmpty && chunk.contigHint == granules && chunk.freeRanges == [0..<granules] && consistent)
    }

    /// The maximal runs of false in `used` (through the buffer: called at every step).
    static func freeRuns(_ used: [Bool]) -> [Range<Int>] {
        used.withUnsafeBufferPointer { u in
            var runs: [Range<Int>] = []
            var g = 0
            while g < u.count {
                while g < u.count && u[g] { g += 1 }
                let start = g
                while g < u.count && !u[g] { g += 1 }
                if g > start { runs.append(start..<g) }
            }
            return runs
        }
    }

    /// pcpu_alloc_test's pattern through the allocator, with frees in random order: every
    /// allocation aligned and apart from every live one (a model of live ranges), and every chunk
    /// but the spare gone at the end.
    @Test func allocationsStayAlignedAndApart() throws {
        let sys = try makeSystem(mib: Self.megabytes(forAllocations: 6_000))
        var rng = SplitMix64(seed: 5)
        var live: [(start: Int, size: Int)] = []
        var overlaps = 0
        var misaligned = 0
        for _ in 0..<12_000 {
            if live.isEmpty || rng.next(3) != 0 {
                let r = Self.randomRequest(&rng)
                let allocated = try #require(sys.__alloc_percpu(r.size, r.align))
                let p = Int(bitPattern: allocated)
                if p % r.align != 0 { misaligned += 1 }
                overlaps += live.count { $0.start < p + r.size && p < $0.start + $0.size }
                live.append((p, r.size))
            } else {
                let a = live.remove(at: rng.next(live.count))
                sys.free_percpu(UnsafeMutableRawPointer(bitPattern: a.start))
            }
        }
        for a in live { sys.free_percpu(UnsafeMutableRawPointer(bitPattern: a.start)) }
        #expect(overlaps == 0 && misaligned == 0)
        sys.space.purgeAll()
        #expect(Self.chunkCount(sys) == 1)
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
        #expect(Self.unowned(sys) == free)
        #expect(Self.chunkCount(sys) == 1)
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
        #expect(Self.unowned(sys) == free)
        #expect(Self.chunkCount(sys) == 1)
        let created = sys.percpu.chunksCreated
        let again = onNewThread { sys.__alloc_percpu(size, 8).map { Int(bitPattern: $0) } }
        #expect(again != nil && Self.chunkCount(sys) == 1 && sys.percpu.chunksCreated == created)
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
