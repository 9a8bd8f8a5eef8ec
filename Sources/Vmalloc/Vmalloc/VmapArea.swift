import CShim
import Glibc
import Synchronization

/// Flags of a vmalloc-space area (`VM_*` in include/linux/vmalloc.h).
public struct VMFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    /// Flags from raw `VM_*` bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VM_IOREMAP`.
    public static let ioremap = VMFlags(rawValue: 0x1)
    /// `VM_ALLOC`: frames allocated by vmalloc.
    public static let alloc = VMFlags(rawValue: 0x2)
    /// `VM_MAP`: frames supplied by the caller of vmap.
    public static let map = VMFlags(rawValue: 0x4)
    /// `VM_USERMAP`: suitable for remap_vmalloc_range.
    public static let userMap = VMFlags(rawValue: 0x8)
    /// `VM_NO_GUARD`: no guard page after the area (never honoured by vmap).
    public static let noGuard = VMFlags(rawValue: 0x40)
    /// `VM_ALLOW_HUGE_VMAP`: may be mapped with huge (2 MiB) alignment.
    public static let allowHugeVmap = VMFlags(rawValue: 0x400)
}

/// Access rights of a vmap mapping (`PAGE_KERNEL`, `PAGE_KERNEL_RO`, `PAGE_NONE`).
public enum PageProtection: Sendable, Hashable {
    case readWrite, readOnly, none
    var shimValue: Int32 {
        switch self {
        case .readWrite: 3
        case .readOnly: 1
        case .none: 0
        }
    }
}

/// What a live area is, as `find_vm_area` reports it (`struct vm_struct`).
public struct VMArea: CustomStringConvertible {
    /// First byte of the area.
    public let addr: UnsafeMutableRawPointer
    /// Bytes of the area including its guard page.
    public let size: Int
    /// Bytes the caller asked for.
    public let requestedSize: Int
    /// Pages mapped.
    public let nrPages: Int
    /// `VM_*` flags.
    public let flags: VMFlags
    /// Where it was allocated (`file:line`), or the API that created it.
    public let caller: String
    /// Mapped pages per node, indexed by node.
    public let pagesPerNode: [Int]
    public var description: String { "\(addr) size \(size) pages=\(nrPages) \(caller)" }
}

/// The kind of owner an area has; decides which free function may release it.
enum AreaKind: Sendable {
    case vmalloc, vmap, vmMapRam
    var freeFunction: String {
        switch self {
        case .vmalloc: "vfree()"
        case .vmap: "vunmap()"
        case .vmMapRam: "vm_unmap_ram()"
        }
    }
}

/// A run of consecutive frames mapped at consecutive addresses: one `mmap`.
struct FrameRun: Sendable {
    var page: Int  // index of the first page within the area
    var pfn: Int
    var count: Int
}

/// One area of the vmalloc region (`struct vmap_area` + `struct vm_struct`).
struct AreaRecord: Sendable {
    var offset: Int
    var size: Int
    var requested: Int
    var nrPages: Int
    var flags: VMFlags
    var kind: AreaKind
    var caller: CallSite
    /// Frame blocks owned by the area (vmalloc only), as (pfn, order).
    var blocks: [(pfn: Int, order: Int)]
    var runs: [FrameRun]
    /// The node and alignment asked for; lazily freed areas are reused only for the same request.
    var node: Int
    var align: Int
    /// The next lazily freed area of the same reuse pool, or -1.
    var nextReusable: Int32 = -1

    /// Mapped pages per node.
    func pagesPerNode(_ memory: PhysicalMemory) -> [Int] {
        var per = Array(repeating: 0, count: memory.nodeCount)
        for run in runs { per[memory.node(of: run.pfn)] += run.count }
        return per
    }

    /// The frames mapped, page by page.
    var frames: [Int] { runs.flatMap { run in (run.pfn..<(run.pfn + run.count)).map { $0 } } }
    var vmaCost: Int
}

/// A budget of kernel VMAs (`vm.max_map_count`): every run of frames is a VMA and every area
/// splits the reservation once more. Each system has its own (`Configuration.maxMapCount`) and
/// all share the process's, since the kernel's limit is per process.
final class VMABudget: Sendable {
    /// Slack left for the rest of the process (thread stacks, libraries, malloc arenas).
    static let slack = 2048
    /// The process-wide budget, read from /proc/sys/vm/max_map_count at first use.
    static let process = VMABudget(limit: max(Int(vmshim_max_map_count()) - max(Int(vmshim_count_vmas()), 0) - slack, 256))

    let limit: Int
    let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    private func take(_ n: Int) -> Bool {
        var cur = used.load(ordering: .relaxed)
        while true {
            if cur + n > limit { return false }
            let (done, now) = used.compareExchange(expected: cur, desired: cur + n, ordering: .relaxed)
            if done { return true }
            cur = now
        }
    }

    /// Spend n VMAs of this budget and of the process's; false (nothing spent) when either is out.
    func charge(_ n: Int) -> Bool {
        guard take(n) else { return false }
        guard self === Self.process || Self.process.take(n) else {
            used.subtract(n, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Give back n VMAs charged earlier.
    func release(_ n: Int) {
        used.subtract(n, ordering: .relaxed)
        if self !== Self.process { Self.process.used.subtract(n, ordering: .relaxed) }
    }
}

/// One slice of the vmalloc region with its own lock (the kernel's `vmap_node`, 2024): the
/// free-VA tree of the slice, its busy areas, and its lazily freed areas. Threads allocate from
/// their home slice, so the vmalloc/vfree fast path of one thread never contends
/// with another's.
final class VmapShard: Sendable {
    struct State {
        var free = RangeTree()
        var busy = RangeTree()
        var areas: [AreaRecord?] = []
        var vacantIDs: [Int32] = []
        /// Lazily freed areas: still mapped, still holding their frames.
        var lazy: [Int32] = []
        /// Lazily freed plain areas by (pages, node, align): the newest area's id, the rest
        /// chained through `AreaRecord.nextReusable` (no arrays to copy on the fast path).
        /// The common requests — up to 256 pages, page-aligned, any node — index an array
        /// directly, as the kernel's per-node pools do (`MAX_VA_SIZE_PAGES`); others hash.
        var smallPools = [Int32](repeating: -1, count: VmapAreas.smallPoolPages)
        var otherPools: [Int: Int32] = [:]
        /// Lazily unmapped `vm_map_ram` areas by the exact frames they map, chained the same way.
        var mapRamPools: [[Int]: Int32] = [:]
        var lazyMapRamPages = 0

        func pool(_ key: VmapAreas.PoolKey) -> Int32 {
            key.small >= 0 ? smallPools[key.small] : otherPools[key.other] ?? -1
        }

        mutating func setPool(_ key: VmapAreas.PoolKey, _ id: Int32) {
            if key.small >= 0 { smallPools[key.small] = id } else { otherPools[key.other] = id }
        }
        var lazyPages = 0
        var vmallocPages = 0
        var reused = 0
        /// A ring of the latest freed areas, for use-after-free reports.
        var freedRing: [FreedArea] = []
        var freedNext = 0
        static let freedRingSize = 256

        mutating func store(_ r: AreaRecord) -> Int32 {
            if let id = vacantIDs.popLast() {
                areas[Int(id)] = r
                return id
            }
            areas.append(r)
            return Int32(areas.count - 1)
        }

        mutating func remember(_ r: AreaRecord) {
            // A ring: vfree's fast path must not shift the whole history.
            let f = FreedArea(offset: r.offset, size: r.size, requested: r.requested, caller: r.caller)
            if freedRing.count < Self.freedRingSize { freedRing.append(f) } else { freedRing[freedNext] = f }
            freedNext = (freedNext + 1) % Self.freedRingSize
        }

        /// The remembered freed areas, newest first.
        var freedNewestFirst: [FreedArea] {
            let n = freedRing.count
            return (0..<n).map { freedRing[(freedNext - 1 - $0 + 2 * n) % n] }
        }

        /// Make a lazily freed area, already taken off its reuse pool, live again for a new
        /// owner: off the lazy list, its PTEs back, into the busy tree. Returns its offset.
        mutating func revive(_ id: Int32, caller: CallSite, pageTable: PageTable) -> Int {
            // The lazy list is bounded by lazyMaxPages and reuse is LIFO: the id is near the end.
            if let i = lazy.lastIndex(of: id) { lazy.remove(at: i) }
            areas[Int(id)]!.caller = caller
            let r = areas[Int(id)]!
            if r.kind == .vmMapRam {
                lazyMapRamPages -= r.nrPages
            } else {
                lazyPages -= r.nrPages
                vmallocPages += r.nrPages
                reused += 1
            }
            pageTable.map(r)
            busy.insert(start: r.offset, size: r.size, value: id)
            return r.offset
        }

        /// Give VA back, merging with its free neighbours (`merge_or_add_vmap_area`).
        mutating func freeVA(offset: Int, size: Int) {
            var start = offset, end = offset + size
            if let prev = free.floor(start - 1), prev.end == start {
                free.remove(start: prev.start)
                start = prev.start
            }
            if let next = free.ceiling(end), next.start == end {
                free.remove(start: next.start)
                end = next.end
            }
            free.insert(start: start, size: end - start)
        }
    }

    let state: Lock<State>

    init(start: Int, size: Int) {
        var s = State()
        s.free.insert(start: start, size: size)
        state = Lock(s)
    }
}

/// The vmalloc region (mm/vmalloc.c, VA part): a PROT_NONE reservation split into shards, each
/// with a free-VA tree (lowest-address fit), busy areas and lazily freed areas whose unmap,
/// frames and VA are returned in batches (`purge_vmap_area_lazy`).
final class VmapAreas: @unchecked Sendable {
    static let pageSize = PhysicalMemory.pageSize
    /// The smallest shard: an area can be at most this large when the region is split.
    static let minShardSize = 4 << 30

    let base: UnsafeMutableRawPointer
    let regionSize: Int
    let lazyMaxPages: Int
    let immediateUnmap: Bool
    let populate: Bool
    let vmas: VMABudget
    let shards: [VmapShard]
    private let shardSize: Int
    private let memory: PhysicalMemory
    private let log: Printk
    private let faults: FaultInjector

    init(_ c: MemorySystem.Configuration, memory: PhysicalMemory, log: Printk, faults: FaultInjector) throws(MemorySystemError) {
        let size = c.vmallocSize / Self.pageSize * Self.pageSize
        guard size >= 1 << 22, size <= 1 << 46 else {
            throw .invalidConfiguration("vmallocSize must be 4 MiB...64 TiB, got \(c.vmallocSize)")
        }
        var err: Int32 = 0
        guard let b = vmshim_reserve(size, 1 << 21, &err) else {
            throw .systemCallFailed("mmap(vmalloc region, \(size) bytes)", errno: err)
        }
        base = b
        regionSize = size
        self.memory = memory
        self.log = log
        self.faults = faults
        immediateUnmap = c.immediateUnmap
        populate = c.populate
        vmas = VMABudget(limit: c.maxMapCount ?? Int.max)
        let cpus = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
        let log2 = max(Int.bitWidth - cpus.leadingZeroBitCount - 1, 1)
        lazyMaxPages = c.lazyMaxPages ?? min((32 << 20) / Self.pageSize * log2, memory.totalPages / 4)
        let count = max(1, min(cpus, size / Self.minShardSize))
        // Shards start 2 MiB-aligned so huge alignments stay possible in each.
        let slice = size / count / (1 << 21) * (1 << 21)
        shardSize = slice
        shards = (0..<count).map { i in VmapShard(start: i * slice, size: i == count - 1 ? size - i * slice : slice) }
        // A forked child must not silently share this region's MAP_SHARED frames.
        _ = vmshim_region_register(b, size)
        if c.faultReports {
            FaultReports.register(base: b, size: size) { [weak self] addr, isWrite in
                guard let self else { return nil }
                return self.faultReport(offset: addr - UnsafeRawPointer(self.base), isWrite: isWrite)
            }
        }
    }

    deinit {
        FaultReports.unregister(base: base)
        vmshim_region_unregister(base)
        vmas.release(vmas.used.load(ordering: .relaxed))
        _ = vmshim_release(base, regionSize)
    }

    func contains(_ p: UnsafeRawPointer) -> Bool {
        let off = p - UnsafeRawPointer(base)
        return off >= 0 && off < regionSize
    }

    func address(_ offset: Int) -> UnsafeMutableRawPointer { base + offset }

    func shard(of offset: Int) -> VmapShard { shards[min(offset / shardSize, shards.count - 1)] }

    /// This thread's home shard. Threads are dealt to shards in turn rather than by the CPU
    /// they happen to run on, so a thread that migrates keeps freeing into the pool it
    /// allocates from, and two threads on a two-shard system never share one.
    private var localShard: Int { shards.count == 1 ? 0 : Int(vmshim_thread_index()) % shards.count }

    // MARK: VA allocation

    /// Take `size` bytes of VA aligned to `align` at the lowest address that fits in the local
    /// shard, else in the others (`alloc_vmap_area`). Returns the offset, or nil.
    func allocVA(size: Int, align: Int) -> Int? {
        // Any free range of size + align - PAGE holds an aligned block (ranges are page-aligned).
        let length = align > Self.pageSize ? size + align - Self.pageSize : size
        if faults.shouldFail(.vmapArea) { return nil }
        let first = localShard
        for k in 0..<shards.count {
            let found = shards[(first + k) % shards.count].state.withLock { s -> Int? in
                guard let r = s.free.lowestFit(length) else { return nil }
                // The address is what must be aligned: the region itself is only 2 MiB-aligned.
                let b = Int(bitPattern: base)
                let start = ((b + r.start + align - 1) & ~(align - 1)) - b
                s.free.remove(start: r.start)
                if start > r.start { s.free.insert(start: r.start, size: start - r.start) }
                if start + size < r.end { s.free.insert(start: start + size, size: r.end - start - size) }
                return start
            }
            if let found { return found }
        }
        return nil
    }

    /// `allocVA`, and once more after purging the lazy areas (whose VA then comes back), as
    /// `alloc_vmap_area` retries after `purge_vmap_area_lazy`.
    func allocVA(size: Int, align: Int, purgingFor pages: PageAllocator) -> Int? {
        if let off = allocVA(size: size, align: align) { return off }
        purgeLazy(pages: pages)
        return allocVA(size: size, align: align)
    }

    func releaseVA(offset: Int, size: Int) { shard(of: offset).state.withLock { $0.freeVA(offset: offset, size: size) } }

    // MARK: mapping

    /// mmap each run at its place (one syscall per run). On failure the runs already mapped are
    /// unmapped again and the errno is returned.
    func mapRuns(offset: Int, runs: [FrameRun], prot: PageProtection) -> Int32? {
        for (i, run) in runs.enumerated() {
            let r = faults.shouldFail(.mmap) ? -ENOMEM : vmshim_map_shared(base + offset + run.page * Self.pageSize, run.count * Self.pageSize,
                                      memory.fd(of: run.pfn), memory.fileOffset(of: run.pfn),
                                      prot.shimValue, populate ? 1 : 0)
            if r < 0 {
                for done in runs[..<i] { unmap(offset: offset + done.page * Self.pageSize, bytes: done.count * Self.pageSize) }
                return -r
            }
        }
        return nil
    }

    /// Return [offset, offset + bytes) to the PROT_NONE reservation.
    func unmap(offset: Int, bytes: Int) {
        let r = vmshim_map_none(base + offset, bytes)
        // Replacing a mapping inside our own reservation cannot fail short of address-space
        // corruption; carrying on would hand out VA that still maps old frames.
        precondition(r == 0, "mmap(PROT_NONE) over a vmalloc range failed: errno \(-r)")
    }

    // MARK: areas

    /// Record a new live area.
    func insertBusy(_ r: AreaRecord) {
        shard(of: r.offset).state.withLock { s in
            let id = s.store(r)
            s.busy.insert(start: r.offset, size: r.size, value: id)
            if r.kind == .vmalloc { s.vmallocPages += r.nrPages }
        }
    }

    /// The live area containing offset.
    func area(containing offset: Int) -> AreaRecord? {
        shard(of: offset).state.withLock { s in
            guard let e = s.busy.floor(offset), offset < e.end else { return nil }
            return s.areas[Int(e.value)]
        }
    }

    /// Outcome of taking a live area out of the busy tree.
    enum Removal {
        case removed(AreaRecord, lazyPurgeDue: Bool)
        case wrongKind(AreaKind)
        case notFound
    }

    /// Remove the live area starting exactly at offset if it is of `kind` and `accept` agrees.
    /// Its PTEs are cleared at once (as the kernel does); a vmalloc area then goes on the lazy
    /// list with its frames and mapping, unless `lazy` is false.
    func removeBusy(offset: Int, kind: AreaKind, pageTable: PageTable, lazy: Bool,
                    accept: (AreaRecord) -> Bool = { _ in true }) -> Removal {
        let perShard = max(lazyMaxPages / shards.count, 1)
        return shard(of: offset).state.withLock { s in
            guard let e = s.busy.floor(offset), e.start == offset, let r = s.areas[Int(e.value)] else { return .notFound }
            guard r.kind == kind else { return .wrongKind(r.kind) }
            guard accept(r) else { return .notFound }
            s.busy.remove(start: offset)
            s.remember(r)
            pageTable.clear(offset: offset, count: r.nrPages)
            if r.kind == .vmalloc { s.vmallocPages -= r.nrPages }
            guard lazy else {
                s.areas[Int(e.value)] = nil
                s.vacantIDs.append(e.value)
                return .removed(r, lazyPurgeDue: false)
            }
            s.lazy.append(e.value)
            if r.kind == .vmMapRam {
                // The frames stay the caller's: the mapping may linger only until one of them is
                // freed (the page allocator purges first) or until the next purge.
                let key = r.frames
                s.areas[Int(e.value)]!.nextReusable = s.mapRamPools[key] ?? -1
                s.mapRamPools[key] = e.value
                s.lazyMapRamPages += r.nrPages
            } else {
                s.lazyPages += r.nrPages
                if r.flags == .alloc {
                    let key = PoolKey(pages: r.nrPages, node: r.node, align: r.align)
                    s.areas[Int(e.value)]!.nextReusable = s.pool(key)
                    s.setPool(key, e.value)
                }
            }
            return .removed(r, lazyPurgeDue: s.lazyPages + s.lazyMapRamPages > perShard)
        }
    }

    static let smallPoolPages = 256

    /// Which reuse pool a request belongs to.
    struct PoolKey {
        /// Index into `smallPools`, or -1.
        let small: Int
        let other: Int
        init(pages: Int, node: Int, align: Int) {
            small = pages <= VmapAreas.smallPoolPages && node == NUMA_NO_NODE && align == VmapAreas.pageSize ? pages - 1 : -1
            other = pages << 14 | align.trailingZeroBitCount << 8 | (node + 1)
        }
    }

    /// Take a lazily freed plain area of exactly `pages` pages asked for on `node` with `align` from the
    /// local shard, make it live again for a new owner and return its offset: no syscall, the
    /// frames are already mapped.
    func reuseLazy(pages: Int, node: Int, align: Int, requested: Int, caller: CallSite, pageTable: PageTable) -> Int? {
        shards[localShard].state.withLock { s in
            let key = PoolKey(pages: pages, node: node, align: align)
            let id = s.pool(key)
            guard id >= 0 else { return nil }
            s.setPool(key, s.areas[Int(id)]!.nextReusable)
            s.areas[Int(id)]!.requested = requested
            return s.revive(id, caller: caller, pageTable: pageTable)
        }
    }

    /// Take a lazily unmapped `vm_map_ram` area that maps exactly `frames`, from the home shard,
    /// and make it live again: `vm_map_ram` of the same frames costs no syscall.
    func reuseMapRam(_ frames: [Int], caller: CallSite, pageTable: PageTable) -> Int? {
        shards[localShard].state.withLock { s in
            guard let id = s.mapRamPools[frames] else { return nil }
            let next = s.areas[Int(id)]!.nextReusable
            s.mapRamPools[frames] = next >= 0 ? next : nil
            return s.revive(id, caller: caller, pageTable: pageTable)
        }
    }

    /// `__purge_vmap_area_lazy`: unmap the lazily freed areas of one shard, or of all (adjacent
    /// ones in one syscall), free their frames and return their VA. Returns the frames freed.
    @discardableResult
    func purgeLazy(pages: PageAllocator, shardOf offset: Int? = nil) -> Int {
        let targets = offset.map { [shard(of: $0)] } ?? shards
        return targets.reduce(0) { $0 + purge($1, pages: pages) }
    }

    private func purge(_ shard: VmapShard, pages: PageAllocator) -> Int {
        let batch: [AreaRecord] = shard.state.withLock { s in
            guard !s.lazy.isEmpty else { return [] }
            let b = s.lazy.map { s.areas[Int($0)]! }
            for id in s.lazy { s.areas[Int(id)] = nil }
            s.vacantIDs.append(contentsOf: s.lazy)
            s.lazy.removeAll(keepingCapacity: true)
            for i in s.smallPools.indices { s.smallPools[i] = -1 }
            s.otherPools.removeAll(keepingCapacity: true)
            s.mapRamPools.removeAll(keepingCapacity: true)
            s.lazyPages = 0
            s.lazyMapRamPages = 0
            return b
        }
        guard !batch.isEmpty else { return 0 }
        let sorted = batch.sorted { $0.offset < $1.offset }
        var i = 0
        while i < sorted.count {
            var end = sorted[i].offset + sorted[i].size
            var j = i + 1
            while j < sorted.count && sorted[j].offset == end {
                end += sorted[j].size
                j += 1
            }
            unmap(offset: sorted[i].offset, bytes: end - sorted[i].offset)
            i = j
        }
        // Only now, with their mappings gone, may the frames of the vm_map_ram areas be freed.
        pages.lazyAliases.subtract(sorted.reduce(0) { $0 + ($1.kind == .vmMapRam ? 1 : 0) }, ordering: .releasing)
        var freed = 0
        for r in sorted {
            for b in r.blocks {
                pages.free(pfn: b.pfn, order: b.order)
                freed += 1 << b.order
            }
            vmas.release(r.vmaCost)
        }
        shard.state.withLock { s in
            for r in sorted { s.freeVA(offset: r.offset, size: r.size) }
        }
        pages.stat.add(.lazyPurges, sorted.count)
        return freed
    }

    /// Frames held by lazily freed areas (free to reclaim, owned by no one).
    var lazyPages: Int { shards.reduce(0) { $0 + $1.state.withLock { $0.lazyPages } } }

    /// Every shard's state, in address order, read under its lock.
    func forEachShard(_ body: (inout VmapShard.State) -> Void) {
        for sh in shards { sh.state.withLock { body(&$0) } }
    }
}
