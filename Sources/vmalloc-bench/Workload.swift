import Glibc
import VmallocTestSupport

/// The tests of the kernel's lib/test_vmalloc.c, with the kernel's index (its `run_test_mask`
/// bit) and its xfail marks.
///
/// One operation is one iteration of the kernel test's loop, whatever it allocates; pcpu_alloc_test's
/// two loops count one allocation or one free each. Every allocation is written, one byte per
/// page: the kernel's vm_map_ram_test writes its first byte (`*v_ptr = 'a'`) and the kvfree_rcu
/// tests `p->array[0]`; the other tests only allocate, which costs a kernel its pages up front
/// but a userspace peer nothing until a page is touched. pcpu_alloc_test's copies are written by
/// the zeroing every contender does, as `__alloc_percpu` zeroes them.
enum Workload: String, CaseIterable, Codable, Sendable {
    case fixSize = "fix_size_alloc_test"
    case fullFit = "full_fit_alloc_test"
    case longBusyList = "long_busy_list_alloc_test"
    case randomSize = "random_size_alloc_test"
    case fixAlign = "fix_align_alloc_test"
    case randomSizeAlign = "random_size_align_alloc_test"
    case alignShift = "align_shift_alloc_test"
    case pcpuAlloc = "pcpu_alloc_test"
    case kvfreeRcu1Arg = "kvfree_rcu_1_arg_vmalloc_test"
    case kvfreeRcu2Arg = "kvfree_rcu_2_arg_vmalloc_test"
    case vmMapRam = "vm_map_ram_test"
    case noBlock = "no_block_alloc_test"
    case vrealloc = "vrealloc_test"

    /// The index of the test in the kernel's test_case_array.
    var kernelIndex: Int {
        switch self {
        case .fixSize: 0
        case .fullFit: 1
        case .longBusyList: 2
        case .randomSize: 3
        case .fixAlign: 4
        case .randomSizeAlign: 5
        case .alignShift: 6
        case .pcpuAlloc: 7
        case .kvfreeRcu1Arg: 8
        case .kvfreeRcu2Arg: 9
        case .vmMapRam: 10
        case .noBlock: 11
        case .vrealloc: 12
        }
    }

    var maskBit: Int { 1 << kernelIndex }

    /// Marked xfail in the kernel: a failure is expected and counted apart.
    var expectedToFail: Bool { self == .alignShift || self == .noBlock }

    /// Whether `nr_pages` sizes this test (the others fix their own sizes).
    var usesNrPages: Bool { self == .fixSize || self == .vmMapRam || self == .noBlock }

    /// Whether `contender` can run this test at all.
    func applies(to contender: any Contender, useHuge: Bool) -> Bool {
        switch self {
        case .fixSize: !useHuge || contender is any HugeAllocating
        case .fullFit, .longBusyList, .randomSize: true
        case .fixAlign, .randomSizeAlign, .alignShift: contender is any AlignedAllocating
        case .pcpuAlloc: contender is any PerCPUAllocating
        case .kvfreeRcu1Arg, .kvfreeRcu2Arg: contender is any RCUFreeing
        case .vmMapRam: contender is any PageMapping
        case .noBlock: contender is any NonBlockingAllocating
        case .vrealloc: contender is any Reallocating
        }
    }

    /// The test's per-thread state after its setup phase; nil when the setup failed.
    func instance(on contender: any Contender, _ parameters: WorkloadParameters) -> (any WorkloadInstance)? {
        switch self {
        case .fixSize: FixSize(contender, parameters)
        case .fullFit: FullFit(contender, parameters)
        case .longBusyList: LongBusyList(contender, parameters)
        case .randomSize: RandomSize(contender, parameters)
        case .fixAlign: FixAlign(contender as! any AlignedAllocating, parameters)
        case .randomSizeAlign: RandomSizeAlign(contender as! any AlignedAllocating, parameters)
        case .alignShift: AlignShift(contender as! any AlignedAllocating)
        case .pcpuAlloc: PcpuAlloc(contender as! any PerCPUAllocating, parameters)
        case .kvfreeRcu1Arg: KvfreeRcu(contender as! any RCUFreeing, parameters, headInObject: false)
        case .kvfreeRcu2Arg: KvfreeRcu(contender as! any RCUFreeing, parameters, headInObject: true)
        case .vmMapRam: VmMapRam(contender as! any PageMapping, parameters)
        case .noBlock: NoBlock(contender as! any NonBlockingAllocating, parameters)
        case .vrealloc: Vrealloc(contender as! any Reallocating, parameters)
        }
    }
}

/// What one worker thread's copy of a test is given.
struct WorkloadParameters: Sendable {
    var loops: Int
    var nrPages: Int
    /// Divides the pages that full_fit and long_busy_list keep alive (1: the kernel's sizes;
    /// `--quick` uses more, so that a debug build sets them up in a blink).
    var liveSetDivisor: Int
    var useHuge: Bool
    var seed: UInt64
}

/// One worker's test after setup: the runner times `iterate` and calls `teardown` once.
protocol WorkloadInstance: AnyObject {
    /// Iterations of the test's loop (test_loop_count, except for align_shift_alloc_test).
    var iterations: Int { get }
    /// One loop iteration; false when an allocation failed (the test then stops, as the kernel's).
    func iterate(_ i: Int) -> Bool
    /// Frees what setup allocated.
    func teardown()
}

/// Writes one byte per page, so each page is really backed (the first write faults it in).
@inline(__always)
func touch(_ p: UnsafeMutableRawPointer, _ size: Int, _ value: UInt8 = 1) {
    var offset = 0
    while offset < size {
        p.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
        offset += pageSize
    }
}

/// fix_size_alloc_test: vmalloc (or vmalloc_huge) of nr_pages pages, then vfree.
private final class FixSize: WorkloadInstance {
    let contender: any Contender
    let huge: (any HugeAllocating)?
    let size: Int
    let iterations: Int

    init(_ contender: any Contender, _ parameters: WorkloadParameters) {
        self.contender = contender
        huge = parameters.useHuge ? contender as? any HugeAllocating : nil
        size = parameters.nrPages * pageSize
        iterations = parameters.loops
    }

    func iterate(_ i: Int) -> Bool {
        guard let p = huge?.allocateHuge(size) ?? contender.allocate(size) else { return false }
        touch(p, size)
        contender.free(p, size: size)
        return true
    }

    func teardown() {}
}

/// A test whose setup keeps many single pages alive: the busy list the timed loop works around.
private class BusyListTest {
    let contender: any Contender
    var live: [UnsafeMutableRawPointer] = []

    init(_ contender: any Contender) {
        self.contender = contender
    }

    /// Allocates one touched page, kept in `live` when `keep`; false when it failed.
    func populate(keep: Bool) -> UnsafeMutableRawPointer? {
        guard let p = contender.allocate(pageSize) else { return nil }
        touch(p, pageSize)
        if keep { live.append(p) }
        return p
    }

    func teardown() {
        for p in live { contender.free(p, size: pageSize) }
        live.removeAll()
    }
}

/// full_fit_alloc_test: fls(CPUs) × 32 MiB of single pages, every other one freed again, so
/// the loop's one-page allocations fit exactly into the holes.
private final class FullFit: BusyListTest, WorkloadInstance {
    let iterations: Int

    init?(_ contender: any Contender, _ parameters: WorkloadParameters) {
        iterations = parameters.loops
        super.init(contender)
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let junkLength = (Int.bitWidth - cpus.leadingZeroBitCount) * (32 << 20) / pageSize / parameters.liveSetDivisor
        var junk: [UnsafeMutableRawPointer] = []
        junk.reserveCapacity(junkLength)
        live.reserveCapacity(junkLength)
        for _ in 0..<junkLength {
            guard populate(keep: true) != nil, let j = populate(keep: false) else {
                for p in junk { contender.free(p, size: pageSize) }
                teardown()
                return nil
            }
            junk.append(j)
        }
        for p in junk { contender.free(p, size: pageSize) }
    }

    func iterate(_ i: Int) -> Bool {
        guard let p = contender.allocate(pageSize) else { return false }
        touch(p, pageSize)
        contender.free(p, size: pageSize)
        return true
    }
}

/// long_busy_list_alloc_test: 15000 single pages stay allocated while the loop allocates
/// 100 pages and 1 page and frees both.
private final class LongBusyList: BusyListTest, WorkloadInstance {
    let iterations: Int

    init?(_ contender: any Contender, _ parameters: WorkloadParameters) {
        iterations = parameters.loops
        super.init(contender)
        let busy = 15_000 / parameters.liveSetDivisor
        live.reserveCapacity(busy)
        for _ in 0..<busy where populate(keep: true) == nil {
            teardown()
            return nil
        }
    }

    func iterate(_ i: Int) -> Bool {
        let large = 100 * pageSize
        guard let p1 = contender.allocate(large) else { return false }
        guard let p2 = contender.allocate(pageSize) else {
            contender.free(p1, size: large)
            return false
        }
        touch(p1, large)
        touch(p2, pageSize)
        contender.free(p1, size: large)
        contender.free(p2, size: pageSize)
        return true
    }
}

/// random_size_alloc_test: 1 to 100 pages, uniformly.
private final class RandomSize: WorkloadInstance {
    let contender: any Contender
    let iterations: Int
    let random: LoopState<SplitMix64>

    init(_ contender: any Contender, _ parameters: WorkloadParameters) {
        self.contender = contender
        iterations = parameters.loops
        random = LoopState(SplitMix64(seed: parameters.seed))
    }

    func iterate(_ i: Int) -> Bool {
        let size = random.pointer.pointee.inclusive(1...100) * pageSize
        guard let p = contender.allocate(size) else { return false }
        touch(p, size)
        contender.free(p, size: size)
        return true
    }

    func teardown() {}
}

/// fix_align_alloc_test: 5 pages aligned to THREAD_ALIGN << 1 (32 KiB on x86-64), zeroed.
private final class FixAlign: WorkloadInstance {
    let contender: any AlignedAllocating
    let iterations: Int
    static let threadAlign = 16 << 10

    init(_ contender: any AlignedAllocating, _ parameters: WorkloadParameters) {
        self.contender = contender
        iterations = parameters.loops
    }

    func iterate(_ i: Int) -> Bool {
        let size = 5 * pageSize
        guard let p = contender.allocate(size, align: Self.threadAlign << 1, zeroed: true) else { return false }
        touch(p, size)
        contender.free(p, size: size)
        return true
    }

    func teardown() {}
}

/// random_size_align_alloc_test: one random byte picks 1–10 pages and an alignment of 2^0 to
/// 2^22 bytes; zeroed.
private final class RandomSizeAlign: WorkloadInstance {
    let contender: any AlignedAllocating
    let iterations: Int
    let random: LoopState<SplitMix64>

    init(_ contender: any AlignedAllocating, _ parameters: WorkloadParameters) {
        self.contender = contender
        iterations = parameters.loops
        random = LoopState(SplitMix64(seed: parameters.seed))
    }

    func iterate(_ i: Int) -> Bool {
        let rnd = random.pointer.pointee.u8()
        let align = 1 << (rnd % 23)
        let size = (rnd % 10 + 1) * pageSize
        guard let p = contender.allocate(size, align: align, zeroed: true) else { return false }
        touch(p, size)
        contender.free(p, size: size)
        return true
    }

    func teardown() {}
}

/// align_shift_alloc_test: one page at every alignment 2^0 … 2^(BITS_PER_LONG-1). The large
/// ones cannot be satisfied, so the kernel marks it xfail; it ignores test_loop_count.
private final class AlignShift: WorkloadInstance {
    let contender: any AlignedAllocating
    let iterations = Int.bitWidth

    init(_ contender: any AlignedAllocating) {
        self.contender = contender
    }

    func iterate(_ i: Int) -> Bool {
        // 1 << 63 is negative as an Int: no contender accepts it, as no kernel accepts 2^63.
        guard let p = contender.allocate(pageSize, align: 1 << i, zeroed: true) else { return false }
        touch(p, pageSize)
        contender.free(p, size: pageSize)
        return true
    }

    func teardown() {}
}

/// pcpu_alloc_test: 35,000 per-CPU allocations of 1 to PAGE_SIZE/4 bytes aligned to 2^1 to
/// 2^11, then every one freed in order; it ignores test_loop_count. Its two loops run as one of
/// 70,000 iterations: an allocation each, then a free each.
private final class PcpuAlloc: WorkloadInstance {
    static let count = 35_000
    let contender: any PerCPUAllocating
    let iterations = 2 * count
    let live = LoopState([UnsafeMutableRawPointer?](repeating: nil, count: count))
    let random: LoopState<SplitMix64>

    init(_ contender: any PerCPUAllocating, _ parameters: WorkloadParameters) {
        self.contender = contender
        random = LoopState(SplitMix64(seed: parameters.seed))
    }

    func iterate(_ i: Int) -> Bool {
        live.pointer.pointee.withUnsafeMutableBufferPointer { live in
            guard i < Self.count else {
                contender.freePerCPU(live[i - Self.count]!)
                live[i - Self.count] = nil
                return true
            }
            let size = random.pointer.pointee.inclusive(1...pageSize / 4)
            let align = 1 << random.pointer.pointee.inclusive(1...11)
            live[i] = contender.allocatePerCPU(size, align: align)
            return live[i] != nil
        }
    }

    /// Frees what a failed or truncated run left allocated.
    func teardown() {
        for p in live.pointer.pointee.compactMap(\.self) { contender.freePerCPU(p) }
    }
}

/// kvfree_rcu_1_arg_vmalloc_test and kvfree_rcu_2_arg_vmalloc_test: one page holding a
/// `struct test_kvfree_rcu` (a 16-byte rcu_head, then array[20]), array[0] written, freed after
/// a grace period by `kvfree_rcu_mightsleep(p)` or `kvfree_rcu(p, rcu)`.
private final class KvfreeRcu: WorkloadInstance {
    static let arrayOffset = 16
    let contender: any RCUFreeing
    let headInObject: Bool
    let iterations: Int

    init(_ contender: any RCUFreeing, _ parameters: WorkloadParameters, headInObject: Bool) {
        self.contender = contender
        self.headInObject = headInObject
        iterations = parameters.loops
    }

    func iterate(_ i: Int) -> Bool {
        guard let p = contender.allocate(pageSize) else { return false }
        p.storeBytes(of: UInt8(ascii: "a"), toByteOffset: Self.arrayOffset, as: UInt8.self)
        contender.freeAfterGracePeriod(p, size: pageSize, headInObject: headInObject)
        return true
    }

    /// Waits for the frees still queued, so that the next run starts with none pending.
    func teardown() {
        contender.waitForDeferredFrees()
    }
}

/// vm_map_ram_test: nr_pages frames taken once, then mapped and unmapped in the loop.
private final class VmMapRam: WorkloadInstance {
    let pages: any MappablePages
    let size: Int
    let iterations: Int

    init?(_ contender: any PageMapping, _ parameters: WorkloadParameters) {
        guard let pages = contender.pages(parameters.nrPages) else { return nil }
        self.pages = pages
        size = parameters.nrPages * pageSize
        iterations = parameters.loops
    }

    func iterate(_ i: Int) -> Bool {
        guard let p = pages.map() else { return false }
        touch(p, size, UInt8(truncatingIfNeeded: i))
        pages.unmap(p)
        return true
    }

    func teardown() {
        pages.release()
    }
}

/// no_block_alloc_test: nr_pages pages with GFP_ATOMIC or GFP_NOWAIT, chosen at random.
private final class NoBlock: WorkloadInstance {
    let contender: any NonBlockingAllocating
    let size: Int
    let iterations: Int
    let random: LoopState<SplitMix64>

    init(_ contender: any NonBlockingAllocating, _ parameters: WorkloadParameters) {
        self.contender = contender
        size = parameters.nrPages * pageSize
        iterations = parameters.loops
        random = LoopState(SplitMix64(seed: parameters.seed))
    }

    func iterate(_ i: Int) -> Bool {
        guard let p = contender.allocateNonBlocking(size, atomic: random.pointer.pointee.u8() % 2 == 1) else {
            return false
        }
        touch(p, size)
        contender.free(p, size: size)
        return true
    }

    func teardown() {}
}

/// vrealloc_test: one page, grown to 4 (a real move), shrunk to 1 and to half a page, grown
/// back to 1 — checking after each step that the first byte survived.
private final class Vrealloc: WorkloadInstance {
    let contender: any Reallocating
    let iterations: Int
    static let steps = [4 * pageSize, pageSize, pageSize / 2, pageSize]

    init(_ contender: any Reallocating, _ parameters: WorkloadParameters) {
        self.contender = contender
        iterations = parameters.loops
    }

    func iterate(_ i: Int) -> Bool {
        guard var p = contender.reallocate(nil, from: 0, to: pageSize) else { return false }
        p.storeBytes(of: UInt8(ascii: "a"), as: UInt8.self)
        var size = pageSize
        for step in Self.steps {
            guard let q = contender.reallocate(p, from: size, to: step) else {
                contender.free(p, size: size)
                return false
            }
            p = q
            size = step
            guard p.load(as: UInt8.self) == UInt8(ascii: "a") else {
                contender.free(p, size: size)
                return false
            }
            touch(p + pageSize, size - pageSize)
        }
        contender.free(p, size: size)
        return true
    }

    func teardown() {}
}
