import CShim
import Glibc

// Lock order: the shards' locks are taken one at a time, never nested (a search that moves on to
// the next shard has released the last). Under a shard lock: PTE stores and clears (lock-free in
// the shim), atomic adds to the mapper's VMA budget and to the page allocator's `lazyAliases` (so
// that count follows each shard's lingering areas in order), `protect`'s mprotect of the area's
// own pages, and `moveLocked`'s copy of a few pages from an area of the shard to another; never
// an mmap of the region, a page-allocator call or another lock of this library; a `withArea` body
// keeps to the same. The mprotect runs under the lock so that the area cannot be freed, and its
// VA handed to another owner, between the check and the change, and so that two changes of one
// area apply one after the other. It is safe there: the syscall takes no lock of ours and
// allocates nothing of ours, so it can neither wait on a shard nor enter reclaim (which purges
// the shards), and no code of ours runs under the kernel's mmap lock it takes (the fault-report
// handler only tries a shard lock). The copy is safe there for the same reasons.
//
// `VmapShard.State` and the area records are read and written in this file and VmapShard.swift
// only; everything else goes through the operations below.

/// The vmalloc region's VA allocator (mm/vmalloc.c, VA part): the region split into shards,
/// each with a free-VA tree (lowest-address fit), busy areas and lazily freed areas whose
/// frames and VA are returned in batches (`purge_vmap_area_lazy`), reuse pools by size class.
/// Where an area lies is decided here; `VmapMapper` makes it real.
/// Unchecked Sendable: `base` is a raw pointer fixed at init; all mutable state lives behind the shard locks.
final class VmapAreas: @unchecked Sendable {
    /// The smallest shard slice: a shard much smaller would fill with one thread's live areas
    /// and send its allocations to the other shards.
    static let minShardSize = 1 << 30

    /// The start of the region (the mapper's reservation), read on every fast path.
    let base: UnsafeMutableRawPointer
    /// Bytes of the region.
    let regionSize: Int
    let lazyMaxPages: Int
    /// Each shard's share of `lazyMaxPages`: past it, a free decays the shard's pools to half
    /// of it (`VmapShard.State.decayIDs`). A share, not one count for the region as the kernel's
    /// `vmap_lazy_nr`: here a purge is one unmap per area on the freeing thread, not a TLB flush
    /// in a worker, and a shard past a region-wide count because others hold little would make
    /// its thread pay for all of them at once, inside a loop that frees no more than it takes.
    private let lazyPagesPerShard: Int
    /// Freed areas are unmapped and returned at once, never kept lazily: any use after free faults.
    let immediateUnmap: Bool
    /// Whether plain areas come in size classes (`SizeClass`): only when the mapper has guard
    /// markers, so the guard stays at the class's end for every owner, and areas are reused.
    private let sizeClasses: Bool
    /// Whether freed areas are remembered for use-after-free fault reports (only when reports are on).
    let remembersFreed: Bool
    /// Whether a vfree may take `freeLazily`: areas are freed lazily and not remembered (one
    /// flag, so that the common vfree tests one byte for both).
    let freesLazilyFast: Bool
    private let shards: [VmapShard]
    /// The same shards, reached without a retain: two threads retaining one shared object
    /// write one cache line, which is what kept the fast path from scaling. `shards` keeps
    /// them alive. A buffer of `shardCount`, not an array: the fast paths' indices are in range
    /// by construction (`index(of:)` clamps, `localShard` takes a remainder), so they skip the
    /// bounds check.
    private let unretained: UnsafeMutablePointer<Unmanaged<VmapShard>>
    /// How many shards the region has (a purge visits them by index).
    let shardCount: Int
    /// Bytes of the largest shard: no area is longer.
    private let largestShard: Int
    /// The index of the last shard, which also takes the region's tail.
    private let lastShard: UInt
    /// Shard i starts at i << shardShift (the last one takes the rest): finding an address's
    /// shard on every vfree is a shift, not a division.
    private let shardShift: Int
    /// Where mprotect and the VMA budget's reservation pieces go.
    private let mapper: VmapMapper
    private let faults: FaultInjector
    /// Whose `lazyAliases` counts the shards that hold lazily unmapped `vm_map_ram` areas.
    private let allocator: PageAllocator

    /// The VA of `mapper`'s reservation, in shards, with reuse pools for each node of
    /// `allocator`'s memory; its frames cap the default lazy threshold. Throws when a shard's
    /// start index cannot be mapped.
    init(
        _ c: VmallocSpace.Configuration, mapper: VmapMapper, allocator: PageAllocator, faults: FaultInjector
    ) throws(MemorySystemError) {
        let size = mapper.size
        let totalPages = allocator.memory.totalPages
        let nodes = allocator.memory.nodeCount
        base = mapper.base
        regionSize = size
        self.mapper = mapper
        self.faults = faults
        self.allocator = allocator
        immediateUnmap = c.immediateUnmap
        sizeClasses = mapper.guardMarkers && !c.immediateUnmap
        remembersFreed = c.faultReports
        freesLazilyFast = !c.immediateUnmap && !c.faultReports
        let cpus = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
        // A small system would hold most of its frames in lazily freed areas: cap at a quarter.
        lazyMaxPages = c.lazyMaxPages ?? min(Self.lazyMaxPages(cpus: cpus), totalPages / 4)
        let (count, shift) = Self.shardLayout(size: size, cpus: cpus, totalPages: totalPages)
        lazyPagesPerShard = max(lazyMaxPages / count, 1)
        shardShift = shift
        let slice = 1 << shardShift
        shards = try (0..<count).map { i throws(MemorySystemError) in
            try VmapShard(start: i * slice, size: i == count - 1 ? size - i * slice : slice, nodes: nodes)
        }
        shardCount = count
        largestShard = max(slice, size - (count - 1) * slice)
        lastShard = UInt(count - 1)
        unretained = .allocate(capacity: count)
        unretained.initialize(from: shards.map { Unmanaged.passUnretained($0) }, count: count)
        if c.faultReports { FaultReports.register(base: base, size: size, self) }
    }

    /// How many shards and the shift of their slice: one shard per CPU where the region allows,
    /// so that threads up to the CPU count each have a shard of their own (a dealt home shard
    /// is shared only past that), with slices of at least `minShardSize`. Every shard but the
    /// last is one power-of-two slice (2 MiB-aligned, so huge alignments stay possible in
    /// each) and the last takes the rest, sized to hold the largest area a vmalloc can ask for:
    /// all the system's frames plus a guard page, a huge block's rounding and its alignment,
    /// capped at the largest area the former split (at most one shard per 4 GiB) held.
    static func shardLayout(size: Int, cpus: Int, totalPages: Int) -> (count: Int, shift: Int) {
        let whole = (count: 1, shift: Int.bitWidth - 1 - size.leadingZeroBitCount)
        let oldCount = max(1, min(cpus, size / (4 << 30)))
        let oldLast = size - (oldCount - 1) * (1 << (Int.bitWidth - 1 - (size / oldCount).leadingZeroBitCount))
        let largest = min(totalPages * PhysicalMemory.pageSize + (4 << 20), oldLast)
        for count in stride(from: cpus, to: 1, by: -1) {
            let slice = min(size / count, (size - largest) / (count - 1))
            if slice >= minShardSize { return (count, Int.bitWidth - 1 - slice.leadingZeroBitCount) }
        }
        return whole
    }

    /// `lazy_max_pages`: 32 MiB of pages × `fls(num_online_cpus())`, a log scale that keeps
    /// purges (TLB flushes in the kernel) rare without long ones on large machines.
    static func lazyMaxPages(cpus: Int) -> Int {
        let fls = Int.bitWidth - cpus.leadingZeroBitCount
        return fls * (32 << 20) / PhysicalMemory.pageSize
    }

    deinit {
        FaultReports.unregister(base: base)
        unretained.deallocate()
    }

    /// Whether p lies in the region.
    func contains(_ p: UnsafeRawPointer) -> Bool {
        let off = p - UnsafeRawPointer(base)
        return off >= 0 && off < regionSize
    }

    /// The address of a region offset.
    func address(_ offset: Int) -> UnsafeMutableRawPointer { base + offset }

    /// The index of the shard holding offset.
    func shardIndex(of offset: Int) -> Int { index(of: offset) }

    /// Run `body` under the lock of shard `k` (0 ≤ k < `shardCount`, unchecked) without
    /// retaining it (the fast paths).
    @inline(__always)
    private func withShard<R>(_ k: Int, _ body: (inout VmapShard.State) -> R) -> R {
        unretained[k]._withUnsafeGuaranteedRef { $0.state.withLock { s in body(&s) } }
    }

    /// The shard of offset; the last one for offsets past the region (and, as unsigned, for
    /// negative ones), so the result is always a valid index.
    @inline(__always)
    private func index(of offset: Int) -> Int {
        // shardShift < 64: the masking shift is the plain one, without the overshift checks.
        Int(bitPattern: min(UInt(bitPattern: offset) &>> UInt(bitPattern: shardShift), lastShard))
    }

    /// This thread's home shard. Threads are dealt to shards in turn rather than by the CPU
    /// they happen to run on, so a thread that migrates keeps freeing into the pool it
    /// allocates from; with a shard per CPU (`shardLayout`), threads started together up to
    /// the CPU count never share one, and take no division.
    @inline(__always)
    private var localShard: Int {
        let i = UInt(vmshim_thread_index())
        return Int(bitPattern: i <= lastShard ? i : i % (lastShard &+ 1))
    }

    // MARK: VA allocation

    /// Take `size` bytes of VA whose address `phase` bytes in is aligned to `align` (a page
    /// multiple; a class area's owner starts `lead` pages in), at the lowest address that fits
    /// in the local shard, else in the others (`alloc_vmap_area`). Returns the offset, or nil.
    /// The caller checks `fitsSomeShard` first.
    func allocVA(size: Int, align: Int, phase: Int = 0) -> Int? {
        // Any free range of size + align - PAGE holds an aligned block (ranges are page-aligned).
        let length = align > PhysicalMemory.pageSize ? size + align - PhysicalMemory.pageSize : size
        if faults.shouldFail(.vmapArea) { return nil }
        let first = localShard
        for k in 0..<shards.count {
            let found = shards[(first + k) % shards.count].state.withLock { s -> Int? in
                guard let r = s.free.lowestFit(length) else { return nil }
                // The address is what must be aligned: the region itself is only 2 MiB-aligned.
                // Rounding start + phase up moves it by less than align, so the block still fits.
                let b = Int(bitPattern: base) + phase
                let start = ((b + r.start + align - 1) & ~(align - 1)) - b
                let before = s.free.count
                s.free.remove(start: r.start)
                if start > r.start { s.free.insert(start: r.start, size: start - r.start) }
                if start + size < r.end { s.free.insert(start: start + size, size: r.end - start - size) }
                mapper.countPieces(from: before, to: s.free.count)
                return start
            }
            if let found { return found }
        }
        return nil
    }

    /// Whether a block of `size` bytes aligned to `align` could fit in the largest shard were it
    /// empty (a free range never spans shards): when not, `allocVA` cannot succeed, whatever a
    /// purge frees, and the length it computes could overflow.
    func fitsSomeShard(size: Int, align: Int) -> Bool {
        size <= largestShard && align <= largestShard && size - PhysicalMemory.pageSize <= largestShard - align
    }

    /// Give [offset, offset + size) back to its shard's free ranges.
    func releaseVA(offset: Int, size: Int) {
        withShard(index(of: offset)) { s in
            let before = s.free.count
            s.freeVA(offset: offset, size: size)
            mapper.countPieces(from: before, to: s.free.count)
        }
    }

    // MARK: areas

    /// Record a new live area.
    func insertBusy(_ r: AreaRecord) {
        // One run over the whole class inside one PTE table: reuse and vfree store its PTEs
        // straight through the table (`AreaRecord.directPTE`).
        let oneRun = r.runs.count == 1 && r.runs[0].page == 0 && r.runs[0].count == r.classPages
        let pte = oneRun ? PageTable.directPTE(leaf: r.leafTable, offset: r.offset, count: r.classPages) : 0
        let pfn = oneRun ? r.runs[0].pfn : 0
        withShard(index(of: r.offset)) { s in
            let id = s.store(r)
            let a = s.records.at(id)
            a.pointee.directPTE = pte
            a.pointee.directPfn = pfn
            s.busy.insert(start: r.offset, size: r.size, value: id)
            if r.kind == .vmalloc {
                s.vmallocPages += r.nrPages
                s.slackPages += r.classPages - r.nrPages
            }
        }
    }

    /// Run `body` on the live area containing offset (its owner's pages or its guard), under
    /// its shard's lock; nil when there is none (lazily freed areas count as absent). `body`
    /// must not call back into the VA space.
    func withArea<R>(containing offset: Int, _ body: (AreaRecord) -> R) -> R? {
        withShard(index(of: offset)) { s in s.live(containing: offset).map { body(s.records.at($0).pointee) } }
    }

    /// A copy of the live area containing offset (`find_vm_area`).
    func area(containing offset: Int) -> AreaRecord? { withArea(containing: offset) { $0 } }

    /// `set_memory_*` on pages [offset, offset + pages) of the live vmalloc or vmap area
    /// containing offset (`AreaRecord.changePerms`): 0, -EINVAL when there is no such area or
    /// the pages are not inside its owner's, -ENOMEM when the VMA budget or mprotect fails. The
    /// mprotect runs under the shard lock (see the lock rules at the top).
    func protect(offset: Int, pages: Int, set: PagePerms, clear: PagePerms) -> Int32 {
        withShard(index(of: offset)) { s -> Int32 in
            guard let id = s.live(containing: offset) else { return -EINVAL }
            let a = s.records.at(id)
            guard a.pointee.kind != .vmMapRam else { return -EINVAL }
            let first = (offset - a.pointee.offset) / PhysicalMemory.pageSize
            return a.pointee.changePerms(set: set, clear: clear, first: first, count: pages, mapper: mapper)
        }
    }

    /// Mark the live vmalloc or vmap area containing offset `VM_FLUSH_RESET_PERMS`; false when
    /// there is none.
    func setFlushResetPerms(containing offset: Int) -> Bool {
        withShard(index(of: offset)) { s in
            guard let id = s.live(containing: offset) else { return false }
            let a = s.records.at(id)
            guard a.pointee.kind != .vmMapRam else { return false }
            a.pointee.flags.insert(.flushResetPerms)
            return true
        }
    }

    /// What `resize` did to a vmalloc area.
    enum Resize {
        /// The area's pages hold the new size: its requested size was `from` and is the new one now.
        case resized(from: Int)
        /// The area's pages are too few for the new size; nothing changed. `requested`: its size.
        case tooSmall(requested: Int)
        /// Moved (`moveLocked`): the new area's owner starts at offset `to` and holds the old
        /// area's `copied` bytes; the old area is lazily freed, `purgeDue` as `freeLazily` says.
        case moved(to: Int, copied: Int, purgeDue: Bool)
    }

    /// Set the requested size of the live vmalloc area whose owner starts at offset to `size`
    /// if its pages cover it (`vrealloc` in place); nil when offset starts no live vmalloc area.
    /// When they do not, and `mayMove()` says the new size is a request vmalloc's reuse may
    /// serve, the area is moved in the same critical section if it can be (`moveLocked`).
    /// One lookup under the shard's lock, the shard reached unretained; inlined into
    /// `vrealloc`, which calls it for every in-place resize (`mayMove` runs only for a move).
    @inline(__always)
    func resize(
        at offset: Int, to size: Int, caller: CallSite, pageTable: PageTable, mayMove: () -> Bool
    ) -> Resize? {
        let k = index(of: offset)
        return withShard(k) { s in
            guard let id = s.live(at: offset) else { return nil }
            let a = s.records.at(trusted: id)
            guard a.pointee.kind == .vmalloc else { return nil }
            let old = a.pointee.requested
            // An area's pages are pages of the region: their bytes cannot overflow.
            guard size <= a.pointee.nrPages &<< Int(VMSHIM_PAGE_SHIFT) else {
                guard mayMove() else { return .tooSmall(requested: old) }
                return moveLocked(
                    &s, shard: k, id, at: a, owner: offset, to: size, caller: caller, pageTable: pageTable)
            }
            a.pointee.requested = size
            return .resized(from: old)
        }
    }

    /// The most bytes `moveLocked` copies under the shard lock: beyond, the copy costs far more
    /// than the two lock holds a move in one critical section saves, and would keep the lock
    /// (which other threads' vfrees of this shard's areas take) for microseconds.
    static let moveCopyLimit = 4 * PhysicalMemory.pageSize

    /// vrealloc's move of live vmalloc area `id` (at `a`, its owner at offset, too small for
    /// `size` bytes) in the critical section of shard `k` that found it too small: a new area
    /// from the home shard's reuse pool as vmalloc's reuse takes it (`reusePooled`), the old
    /// content copied, and the old area lazily freed as vfree's fast path frees it
    /// (`freeOntoPool`): what vmalloc, the copy and vfree do one after the other, in one lock
    /// hold instead of three. Only when shard `k` is the home shard (the pool's), vfree's fast
    /// path would free the old area, the pool has an area of the new class and the content is
    /// at most `moveCopyLimit` bytes; else `.tooSmall`, nothing changed, and the caller moves
    /// it the long way. The caller checked that `size` is a request vmalloc's reuse may serve.
    @inline(never)
    private func moveLocked(
        _ s: inout VmapShard.State, shard k: Int, _ id: Int32, at a: UnsafeMutablePointer<AreaRecord>,
        owner offset: Int, to size: Int, caller: CallSite, pageTable: PageTable
    ) -> Resize {
        let old = a.pointee.requested
        guard freesLazilyFast, k == localShard, old <= Self.moveCopyLimit, let oldKey = Self.fastFreePool(a) else {
            return .tooSmall(requested: old)
        }
        let pages = (size &+ PhysicalMemory.pageSize &- 1) &>> Int(VMSHIM_PAGE_SHIFT)
        let key = PoolKey(classPages: classPages(for: pages), node: NUMA_NO_NODE)
        guard
            let start = s.reusePooled(
                key, pages: pages, requested: size, caller: caller, pageTable: pageTable, tryHot: sizeClasses)
        else { return .tooSmall(requested: old) }
        // The copy runs here, under the lock, while the old area is still live: once it is
        // lazily freed, a purge on any thread may unmap it and hand its frames to another owner.
        // A few pages' memcpy (`moveCopyLimit`) takes no lock and allocates nothing, so it keeps
        // the rules at the top; it only lengthens the hold, by less than the holds it saves.
        vmshim_copy(base + start, base + offset, old)
        // `reusePooled` stored no record: `a` still points at the old area's.
        Self.freeOntoPool(&s, id, at: a, owner: offset, oldKey, pageTable: pageTable)
        return .moved(to: start, copied: old, purgeDue: s.pastLazyShare(lazyPagesPerShard))
    }

    /// What the caller of a non-lazy removal must give back (a few words, not the whole record).
    struct Released {
        var offset: Int
        var size: Int
        var blocks: [(pfn: Int, order: Int)]
        var vmaCost: Int
        /// A `VM_MAP_PUT_PAGES` area's pages and page array; nil for any other area.
        var handedOver: HandedOver?
    }

    /// What a `VM_MAP_PUT_PAGES` vmap handed over: its pages, and the caller's page array
    /// (0: none), which `vfree` frees after the unmap.
    // A class, so that a removal's result stays a few words: every vfree returns one.
    final class HandedOver: Sendable {
        let pfns: [Int]
        let pageArray: UInt
        init(pfns: [Int], pageArray: UInt) {
            self.pfns = pfns
            self.pageArray = pageArray
        }
    }

    /// Outcome of freeing a live area.
    enum Removal {
        /// Lazily freed: still mapped, its frames and VA held until a purge (due now or not).
        case lazy(purgeDue: Bool)
        /// Out of the busy tree: the caller unmaps it and returns its frames and VA. Boxed, so
        /// that the outcome fits in registers: every vfree returns one, and only this case is big.
        indirect case removed(Released)
        case wrongKind(AreaKind)
        case notFound
    }

    /// Free the live area whose owner starts exactly at offset if `kind`'s free function
    /// releases it (and it has `pageCount` pages when given). Its PTEs are cleared at once (as the
    /// kernel does); a vmalloc or vm_map_ram area then stays in the busy tree as lazily freed,
    /// with its frames and mapping, unless `lazy` is false. A vmap area is removed at once: its
    /// caller keeps (or gets back) the frames and expects the mapping gone. The lazy path reads
    /// the record in place and copies nothing.
    func removeBusy(offset: Int, kind: AreaKind, pageTable: PageTable, lazy: Bool, pageCount: Int? = nil) -> Removal {
        let perShard = lazyPagesPerShard
        let remembers = remembersFreed
        let k = index(of: offset)
        return withShard(k) { s in
            let id = s.starts[offset]
            guard id >= 0 else { return .notFound }
            let a = s.records.at(trusted: id)
            guard a.pointee.state == .live else { return .notFound }
            let pages = a.pointee.nrPages
            let frames = a.pointee.classPages
            let found = a.pointee.kind
            guard kind.releases(found) else { return .wrongKind(found) }
            if let n = pageCount, n != pages { return .notFound }
            if remembers { s.remember(id) }
            Self.clearPTEs(a, owner: offset, pageTable: pageTable)
            if found == .vmalloc {
                s.vmallocPages &-= pages
                s.slackPages &-= frames &- pages
            }
            guard lazy && found != .vmap && !a.pointee.flags.contains(.flushResetPerms) else {
                return Self.remove(id, from: &s)
            }
            a.pointee.state = .lazy
            if found == .vmMapRam {
                // The frames stay the caller's: the mapping may linger only until one of them is
                // freed (the page allocator purges first) or until the next purge. The allocator
                // learns of it here, under the lock, before vm_unmap_ram returns.
                if s.poolMapRam(id, at: a) { allocator.lazyAliases.wrappingAdd(1, ordering: .releasing) }
            } else {
                // Every frame of the class is lazily freed now, the slack included.
                s.lazyPages &+= frames
                // An area whose pages set_memory_* changed is never revived: a new owner gets RW.
                if Self.revivable(a) {
                    s.pushPool(id, at: a, PoolKey(classPages: frames, node: a.pointee.node))
                } else {
                    s.linkLazy(id)
                }
            }
            return .lazy(purgeDue: s.pastLazyShare(perShard))
        }
    }

    /// Whether a lazily freed area may serve a new owner: a plain vmalloc area whose pages
    /// `set_memory_*` never changed (a new owner gets RW).
    @inline(__always)
    private static func revivable(_ a: UnsafeMutablePointer<AreaRecord>) -> Bool {
        a.pointee.flags == .alloc && a.pointee.permSpans.isEmpty
    }

    /// Clear the PTEs of the owner's pages of area `a`, whose owner starts at offset: through
    /// its `directPTE` when it has one, else out of line.
    @inline(__always)
    private static func clearPTEs(_ a: UnsafeMutablePointer<AreaRecord>, owner offset: Int, pageTable: PageTable) {
        // pages ≤ frames, and both are counts of the region's pages: no wrapping below.
        let pages = a.pointee.nrPages
        if let t = UnsafeMutablePointer<UInt64>(bitPattern: a.pointee.directPTE) {
            vmshim_pte_clear(
                t, UInt64(truncatingIfNeeded: a.pointee.classPages &- pages), UInt64(truncatingIfNeeded: pages))
        } else {
            clearPTEsByTable(a, owner: offset, pageTable: pageTable)
        }
    }

    /// `clearPTEs` of an area without `directPTE` (its class's frames in several runs, or its
    /// PTEs in two tables): through its PTE table when the owner's PTEs lie in it, else by walks.
    @inline(never)
    private static func clearPTEsByTable(
        _ a: UnsafeMutablePointer<AreaRecord>, owner offset: Int, pageTable: PageTable
    ) {
        pageTable.clear(leaf: a.pointee.leafTable, of: a.pointee.offset, offset: offset, count: a.pointee.nrPages)
    }

    /// What `freeLazily` did.
    enum LazyFree {
        /// The area is lazily freed onto its reuse pool; `purgeDue`: its shard is past its share.
        case freed(purgeDue: Bool)
        /// Not vfree's common case: nothing changed, `removeBusy` takes it.
        case declined
    }

    /// `vfree`'s common case in one short critical section: the live plain vmalloc area whose
    /// owner starts at offset, of a small pool's class, lazily freed onto its reuse pool as
    /// `removeBusy` frees it. Any other area, or none, is `.declined` with nothing changed.
    /// Apart from `removeBusy` so that the path every vfree takes tests only what decides it
    /// (the kind, the state, the flags) and keeps a small frame; inlined into vfree.
    /// The caller checked `freesLazilyFast`.
    @inline(__always)
    func freeLazily(offset: Int, pageTable: PageTable) -> LazyFree {
        let perShard = lazyPagesPerShard
        return withShard(index(of: offset)) { s in
            let id = s.starts[offset]
            guard id >= 0 else { return .declined }
            let a = s.records.at(trusted: id)
            guard let key = Self.fastFreePool(a) else { return .declined }
            Self.freeOntoPool(&s, id, at: a, owner: offset, key, pageTable: pageTable)
            return .freed(purgeDue: s.pastLazyShare(perShard))
        }
    }

    /// The reuse pool that vfree's fast path frees area `a` onto: a live plain vmalloc area of
    /// a small pool's class; nil for any other (`removeBusy` frees it).
    @inline(__always)
    private static func fastFreePool(_ a: UnsafeMutablePointer<AreaRecord>) -> PoolKey? {
        guard a.pointee.state == .live, a.pointee.kind == .vmalloc, revivable(a) else { return nil }
        let key = PoolKey(classPages: a.pointee.classPages, node: a.pointee.node)
        return key.small >= 0 ? key : nil
    }

    /// Lazily free area `id` (at `a`, whose owner starts at offset) onto pool `key`, which
    /// `fastFreePool` gave for it, as `removeBusy` frees it: its PTEs cleared, its frames lazy.
    @inline(__always)
    private static func freeOntoPool(
        _ s: inout VmapShard.State, _ id: Int32, at a: UnsafeMutablePointer<AreaRecord>, owner offset: Int,
        _ key: PoolKey, pageTable: PageTable
    ) {
        let pages = a.pointee.nrPages
        let frames = a.pointee.classPages
        clearPTEs(a, owner: offset, pageTable: pageTable)
        // pages ≤ frames ≤ `smallPoolPages`: no wrapping below.
        s.vmallocPages &-= pages
        s.slackPages &-= frames &- pages
        s.lazyPages &+= frames
        a.pointee.state = .lazy
        s.pushPool(id, at: a, key)
    }

    /// `vm_unmap_ram`'s common case in one short critical section, as `freeLazily` is vfree's:
    /// the live `vm_map_ram` area of `pageCount` pages whose owner starts at offset, its PTEs
    /// cleared and left lingering on its pool as `removeBusy` leaves it (a vm_map_ram area has
    /// no lead, no `VM_FLUSH_RESET_PERMS`, and no slack). Any other area, or none, is
    /// `.declined` with nothing changed. Inlined into vm_unmap_ram; the caller checked
    /// `freesLazilyFast`.
    @inline(__always)
    func unmapRamLazily(offset: Int, pageCount: Int, pageTable: PageTable) -> LazyFree {
        let perShard = lazyPagesPerShard
        return withShard(index(of: offset)) { s in
            let id = s.starts[offset]
            guard id >= 0 else { return .declined }
            let a = s.records.at(trusted: id)
            guard a.pointee.state == .live, a.pointee.kind == .vmMapRam, a.pointee.nrPages == pageCount else {
                return .declined
            }
            Self.clearPTEs(a, owner: offset, pageTable: pageTable)
            a.pointee.state = .lazy
            // The allocator learns of the lingering alias here, under the lock (`removeBusy`).
            if s.poolMapRam(id, at: a) { allocator.lazyAliases.wrappingAdd(1, ordering: .releasing) }
            return .freed(purgeDue: s.pastLazyShare(perShard))
        }
    }

    /// Take area `id` out of the busy tree and its shard for good (a non-lazy removal).
    @inline(never)
    private static func remove(_ id: Int32, from s: inout VmapShard.State) -> Removal {
        // Keyed by the area's VA start, which is the owner's only when the class has no lead.
        s.busy.remove(start: s.records.at(id).pointee.offset)
        let r = s.take(id)
        let handed = r.flags.contains(.mapPutPages) ? HandedOver(pfns: r.frames, pageArray: r.pageArray) : nil
        return .removed(
            Released(offset: r.offset, size: r.size, blocks: r.blocks, vmaCost: r.vmaCost, handedOver: handed))
    }

    /// Classes with a direct pool (`PoolHeads`) per node slot; larger areas are keyed in a table.
    static let smallPoolPages = 256

    /// The most frames a shard's live areas may hold past their owners' pages through leads of
    /// more than a quarter of their class (`VmapShard.State.reuseHot`): 1 MiB, the frames of
    /// the largest small class. A reuse that would pass it takes its own class's area instead.
    static let hotSlackBudget = smallPoolPages

    /// Which reuse pool a plain area of `classPages` frames asked for on `node` belongs to.
    struct PoolKey {
        /// Index into `smallPools` (node slot × `smallPoolPages` + class − 1), or -1.
        let small: Int
        let classPages: Int, node: Int
        /// `node` is `NUMA_NO_NODE` or a node of the system (the caller checked it).
        @inline(__always)
        init(classPages: Int, node: Int) {
            small =
                classPages <= VmapAreas.smallPoolPages
                ? (node &+ 1) &* VmapAreas.smallPoolPages &+ classPages &- 1 : -1
            self.classPages = classPages
            self.node = node
        }
        /// The key in `largePools` when `small` is -1 (computed only then). Node slots are at
        /// most 65 (64 nodes and `NUMA_NO_NODE`): seven bits.
        var large: Int { classPages << 7 | (node + 1) }
    }

    /// The key of the `vm_map_ram` pool for an area whose frames start at `firstPfn`, `count`
    /// of them: O(1) to compute from a page list or from an area's first run. Lists that share
    /// it share a chain, and a hit is checked page by page (`AreaRecord.maps(_:exactly:)`).
    @inline(__always)
    static func mapRamKey(firstPfn: Int, count: Int) -> Int { (firstPfn << 24 ^ count) & Int.max }

    /// How many areas of its class's pool an aligned request looks at for one whose owner start
    /// is aligned enough, before it makes a new area: a bound on the time under the lock.
    static let alignedReuseProbe = 8

    /// Take a lazily freed plain area of class `classPages` asked for on `node` from the local
    /// shard and make it live for a new owner of `pages` pages: no syscall, its frames and guard
    /// were still mapped. A page-aligned request takes the pool's newest area; a larger `align`
    /// goes to `reuseAligned`. Returns where the owner starts, or nil.
    @inline(__always)
    func reuseLazy(
        classPages: Int, pages: Int, node: Int, align: Int, requested: Int, caller: CallSite,
        pageTable: PageTable
    ) -> Int? {
        guard align <= PhysicalMemory.pageSize else {
            return reuseAligned(
                classPages: classPages, pages: pages, node: node, align: align, requested: requested, caller: caller,
                pageTable: pageTable)
        }
        let key = PoolKey(classPages: classPages, node: node)
        return withShard(localShard) { s in
            s.reusePooled(
                key, pages: pages, requested: requested, caller: caller, pageTable: pageTable, tryHot: sizeClasses)
        }
    }

    /// `reuseLazy` for an `align` above a page: the newest of the first `alignedReuseProbe` areas
    /// of the class's pool whose owner start would be aligned (areas made for aligned requests
    /// are placed so that it is). Out of line, so the common reuse stays small where inlined.
    @inline(never)
    private func reuseAligned(
        classPages: Int, pages: Int, node: Int, align: Int, requested: Int, caller: CallSite,
        pageTable: PageTable
    ) -> Int? {
        let key = PoolKey(classPages: classPages, node: node)
        // The owner would start `lead` bytes into the area: that address must be aligned.
        let lead = Int(bitPattern: base) + (classPages - pages) * PhysicalMemory.pageSize
        return withShard(localShard) { s in
            let id = s.takeAligned(key, lead: lead, align: align, probe: Self.alignedReuseProbe)
            guard id >= 0 else { return nil }
            let a = s.records.at(trusted: id)
            return s.revive(id, at: a, pages: pages, requested: requested, caller: caller, pageTable: pageTable)
        }
    }

    /// Take a lazily unmapped `vm_map_ram` area that maps exactly `list` (not empty), from the
    /// home shard, and make it live again: `vm_map_ram` of the same frames costs no syscall.
    @inline(__always)
    func reuseMapRam(_ list: [Page], caller: CallSite, pageTable: PageTable) -> Int? {
        let key = Self.mapRamKey(firstPfn: list[0].pfn, count: list.count)
        // Live again, its mapping is its owner's, no longer a lingering alias; the shard keeps
        // its count in `lazyAliases` until a purge (`VmapShard.State.countsAliases`).
        let start = withShard(localShard) { s in s.reviveMapRam(key, list, caller: caller, pageTable: pageTable) }
        return start >= 0 ? start : nil
    }

    /// Take the lazily freed areas of shard `k` off it (`VmallocSpace.purge` unmaps them and
    /// returns their frames and VA): all of them, or with `decay` (a purge at the lazy
    /// threshold) all but the older part of each small pool, about half the shard's share
    /// (`VmapShard.State.decayIDs`); every `vm_map_ram` area is taken either way. `aliasesOnly`:
    /// only if the shard holds lingering `vm_map_ram` aliases; one that counts in `lazyAliases`
    /// but holds none leaves the count and gives nothing. Returns the areas in address order,
    /// and whether the shard counted in `lazyAliases`: the caller then takes it off, once the
    /// areas are unmapped.
    func takeLazy(shard k: Int, decay: Bool = false, aliasesOnly: Bool = false)
        -> (areas: [AreaRecord], countedAliases: Bool)
    {
        precondition(k >= 0 && k < shardCount, "shard index out of range")
        let (batch, counted): ([AreaRecord], Bool) = withShard(k) { s in
            let counted = s.countsAliases
            s.countsAliases = false
            if aliasesOnly && s.lazyMapRamAreas == 0 { return ([], counted) }
            let ids = decay ? s.decayIDs(keeping: lazyPagesPerShard / 2) : s.lazyIDs
            guard !ids.isEmpty else { return ([], counted) }
            var b: [AreaRecord] = []
            b.reserveCapacity(ids.count)
            var plainPages = 0
            for id in ids {
                s.busy.remove(start: s.records.at(id).pointee.offset)
                let r = s.take(id)
                if r.kind != .vmMapRam { plainPages += r.classPages }
                b.append(r)
            }
            s.lazyHead = -1
            s.lazyTail = -1
            if !decay { s.smallPools.clear() }
            s.largePools.clear()
            s.mapRamPools.clear()
            s.lazyPages -= plainPages
            s.lazyMapRamPages = 0
            // The shard's count in `lazyAliases` goes with the batch: the purge drops it once
            // the mappings are gone.
            s.lazyMapRamAreas = 0
            return (b, counted)
        }
        return (batch.sorted { $0.offset < $1.offset }, counted)
    }

    /// Give the VA of purged areas back to shard `k`, whose `takeLazy` returned them.
    func releaseVA(_ batch: [AreaRecord], shard k: Int) {
        precondition(k >= 0 && k < shardCount, "shard index out of range")
        withShard(k) { s in
            let before = s.free.count
            for r in batch { s.freeVA(offset: r.offset, size: r.size) }
            mapper.countPieces(from: before, to: s.free.count)
        }
    }

    // MARK: figures

    /// Frames held by lazily freed areas (free to reclaim, owned by no one).
    var lazyPages: Int { (0..<shards.count).reduce(0) { k, i in k + withShard(i) { $0.lazyPages } } }

    /// Frames live areas hold past their owners' pages (`SizeClass`).
    var slackPages: Int { (0..<shards.count).reduce(0) { k, i in k + withShard(i) { $0.slackPages } } }

    /// Lazily freed areas that a vmalloc took back (`vmalloc_lazy_reuse` in vmstat).
    var reused: Int { (0..<shards.count).reduce(0) { k, i in k + withShard(i) { $0.reused } } }

    /// The pages of live vmalloc areas (`VmallocUsed`), and per node of `memory` the frames
    /// lazily freed vmalloc areas hold: free memory no one owns, which `MemFree` counts (lazily
    /// unmapped `vm_map_ram` areas map their caller's frames and count in neither).
    func usage(_ memory: PhysicalMemory) -> (vmallocPages: Int, lazyPerNode: [Int]) {
        var lazyPerNode = Array(repeating: 0, count: memory.nodeCount)
        var vmallocPages = 0
        for k in 0..<shards.count {
            withShard(k) { s in
                for id in s.lazyIDs where s.records.at(id).pointee.kind == .vmalloc {
                    for (n, c) in s.records.at(id).pointee.pagesPerNode(memory).enumerated() { lazyPerNode[n] += c }
                }
                vmallocPages += s.vmallocPages
            }
        }
        return (vmallocPages, lazyPerNode)
    }

    /// Copies of every area, shard by shard in address order: each shard's live areas in
    /// address order, then its lazily freed ones (`state == .lazy`), as /proc/vmallocinfo
    /// lists them. Each shard is read under its lock, one at a time.
    func snapshot() -> [AreaRecord] {
        var out: [AreaRecord] = []
        for k in 0..<shards.count {
            withShard(k) { s in
                s.busy.forEach { e in
                    let a = s.records.at(e.value)
                    if a.pointee.state == .live { out.append(a.pointee) }
                }
                for id in s.lazyIDs { out.append(s.records.at(id).pointee) }
            }
        }
        return out
    }

    // MARK: size classes

    /// The class of a plain request of `pages` pages: its size class when guard markers work
    /// (and areas are reused at all), else the exact count. The owner ends at the class's end,
    /// `lead` pages in; an aligned request's area is placed so that its owner start is aligned
    /// (`allocVA`'s phase).
    @inline(__always)
    func classPages(for pages: Int) -> Int { sizeClasses ? SizeClass.pages(for: pages) : pages }

    // MARK: fault reports

    /// What lies at a faulting offset (`VmapFaultReport`), or nil when it is neither a live
    /// area's guard page nor a remembered freed area, or when its shard's lock is held: called
    /// from the SIGSEGV handler, it only tries the lock.
    func faultSite(at offset: Int) -> FaultSite? {
        shards[index(of: offset)].state.withLockIfAvailable { s in s.faultSite(at: offset) } ?? nil
    }
}
