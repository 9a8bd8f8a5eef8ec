import CShim
import Glibc
import Synchronization

/// The per-CPU allocator (mm/percpu.c): every allocation has one copy per possible CPU, at the
/// same offset in each CPU's unit of a chunk.
///
/// A chunk is one vmalloc area of `unitSize × nrPossibleCPUs` bytes, allocated through the
/// system's own vmalloc path with GFP_KERNEL (so it shows in vmallocinfo and its frames count),
/// unit c at `chunk + c × unitSize`. The pointer handed out is unit 0's copy; CPU c's copy is
/// `perCPUOffset(c)` bytes further (the kernel's `per_cpu_ptr`).
///
/// Chunks are filed in slots by their longest free extent, as the kernel's `pcpu_chunk_lists`:
/// a request scans only the slots whose chunks can hold it, smallest first, so small requests
/// fill the holes of busy chunks and empty ones stay whole. A chunk that becomes empty is kept,
/// mapped and populated, and a group that needs a chunk takes a kept one before vmallocing one.
///
/// Where this departs from mm/percpu.c in keeping empty chunks: the kernel keeps one spare and
/// vfrees every other empty chunk soon after (`pcpu_balance_free` from `pcpu_balance_workfn`),
/// because there populating a chunk is page-list work. Here mapping a chunk costs syscalls and a
/// fault per page (1 µs a page whose memfd page is resident, 3.5 µs one punched out, measured on
/// the 2-CPU VM; 64 pages a unit per CPU), so a workload that frees its per-CPU memory and
/// allocates it again (pcpu_alloc_test's repeats) would pay that each time: a repeat that
/// rebuilt its chunks ran at 2.1–2.8 M ops/s, one that found them kept at 4.6–5.1 M, against
/// glibc's 3.0–4.0 M. So every empty chunk is kept, counted in `bytes`, until memory is asked
/// for, or until it has been kept a keep time (`keptDelays` free page reporting delays, 30 s by
/// default, at first; it then follows the program's pauses between rounds): all
/// but one (the kernel's spare) are vfreed whenever the VA space purges everything
/// (`KeptAreas`), under memory pressure (the space's `ReclaimSource` pass, and a page allocation
/// that finds the buddy lists short) and on a VA or VMA shortage, just before the lazily freed
/// areas are purged, so their frames come back in the same pass; the free page reporter's pass
/// vfrees those kept long enough and comes back for the others (`releaseIdleKeptAreas`). Not on
/// `vm_unmap_aliases`, which in the kernel leaves percpu chunks alone: a caller that purges
/// between runs keeps them.
///
/// Where this departs from mm/percpu.c: the kernel files every chunk in one set of lists under
/// one `pcpu_lock`, which two threads allocating at once take turn by turn (pcpu_alloc_test
/// scaled 1.07× at 2 threads). Here chunks are split into groups, one per possible CPU, each with
/// its own lists and lock, and a thread allocates from the group of its stable index (as
/// `VmapAreas` picks a shard), so threads that allocate at once share no lock and no chunk. A
/// request its group cannot hold takes a kept chunk or a new one into that group, without
/// looking at the other groups' holes: a chunk per working thread may be part-used where the
/// kernel would have filled one first, as SLUB's per-CPU partial slabs are. The rest is the
/// kernel's: a free may come from any thread (its own group is asked first, then the others);
/// a chunk left empty leaves its group and is kept, and any group takes a kept chunk before
/// vmallocing one; `bytes` counts every chunk. A single thread uses one group, so it sees the
/// kernel's placement exactly.
///
/// Lock order: a group's `state` and `kept` are leaves, never held together (the kernel's
/// `pcpu_lock`); vmalloc and vfree of chunks run outside them, as `pcpu_create_chunk` runs
/// outside the spinlock.
final class PerCPUAllocator: Sendable {
    /// Allocation granularity in bytes (`PCPU_MIN_ALLOC_SIZE`): the kernel's, because per-CPU
    /// data is mostly 4- and 8-byte counters, which a coarser granule would make cost double or
    /// more. Sizes round up to it and alignments below it are raised to it.
    static let granule = 4
    /// The largest allocation (`PCPU_MIN_UNIT_SIZE`, 32 KiB): the kernel refuses larger ones.
    static let maxAllocation = 32 << 10
    /// Bytes per unit: four times the largest allocation, so that one never strands more than a
    /// quarter of a unit, while a chunk (every CPU's unit, populated whole as a vmalloc area) and
    /// the spare kept empty stay small. Chunks are aligned to it, so a pointer's chunk is found
    /// by masking, and 1/32 of it is the start bitmap (the kernel's maps take 1/16).
    static let unitSize = 128 << 10
    /// Possible CPUs, one unit each (`nr_cpu_ids`): configured processors, as
    /// `sysconf(_SC_NPROCESSORS_CONF)` counts them, at least 1.
    static let nrPossibleCPUs = max(1, sysconf(Int32(_SC_NPROCESSORS_CONF)))
    /// How many free page reporting delays an empty chunk is kept, at first, before the
    /// reporter vfrees it: 30 (30 s at the default 1 s), the time the kernel's page reporting
    /// takes to give back every free page of an idle system (mm/page_reporting.c, budgeted
    /// passes 2 s apart). The first pause in frees gives the lazily freed areas back; a program
    /// that pauses between rounds of per-CPU allocations (pcpu_alloc_test's repeats, seconds
    /// apart in the bench) keeps its chunks.
    static let keptDelays = 30
    /// The most delays the keep time grows to when a program keeps coming back for chunks
    /// after longer pauses (`keepNs`): 300, five minutes at the default.
    static let maxKeptDelays = 300

    private static let granulesPerUnit = unitSize / granule
    /// Slot of a chunk whose longest free extent is n granules: fls(n), so every chunk in a slot
    /// above fls(request) can hold the request unaligned.
    private static func slot(_ n: Int) -> Int { Int.bitWidth - n.leadingZeroBitCount }
    private static let slotCount = slot(granulesPerUnit) + 1

    /// How a free went in one group.
    private enum Freed {
        /// The chunk is not in this group.
        case elsewhere
        /// No live allocation starts there.
        case notLive
        case freed
        /// The chunk became empty and left the group: it waits in the group's `emptied`.
        case emptied
    }

    /// One group's chunks: every chunk in a slot list and an index by base.
    ///
    /// The lists hold chunks as `Unmanaged`, so that the paths reach a chunk without a retain
    /// and a release each (about a fifth of a pair's cost): `chunks` owns one reference to each
    /// chunk, taken by `add` and handed back by `remove`; the slot lists borrow it.
    private struct State: ~Copyable {
        /// Every chunk, at its `position`, each with the reference the group owns.
        var chunks: [Unmanaged<PerCPUChunk>] = []
        /// Chunk positions by `base`, for frees (`pcpu_chunk_addr_search`).
        let index = IDTable()
        /// Chunks by slot (`pcpu_chunk_lists`), each at its `slotIndex`.
        var slots: [[Unmanaged<PerCPUChunk>]] = Array(repeating: [], count: PerCPUAllocator.slotCount)
        /// Bit s set while slot s's list holds a chunk: a request visits only those lists
        /// (`slotCount` is 17, fls of a unit's granules plus one).
        var filledSlots: UInt = 0
        /// Chunks that `free` emptied and took out, until the freeing threads take them (one
        /// each: two frees may empty two chunks before either comes back).
        var emptied: [PerCPUChunk] = []

        deinit {
            for chunk in chunks { chunk.release() }
        }

        /// Takes `count` granules at `align` granules from the first chunk, smallest slot
        /// first, whose longest free extent holds them; the address of unit 0's copy.
        mutating func allocate(_ count: Int, align: Int) -> Int? {
            var candidates = filledSlots & ~((1 &<< UInt(PerCPUAllocator.slot(count))) &- 1)
            while candidates != 0 {
                let slot = candidates.trailingZeroBitCount
                candidates &= candidates &- 1
                guard let found = firstFit(count, align: align, in: slot) else { continue }
                let address = found._withUnsafeGuaranteedRef { chunk -> Int? in
                    guard let offset = chunk.allocate(count, align: align) else { return nil }
                    refile(chunk)
                    return chunk.base &+ offset &* PerCPUAllocator.granule
                }
                if let address { return address }
            }
            return nil
        }

        /// The first chunk in `slot` whose longest free extent holds `count` granules aligned to
        /// `align`. Through the buffer: the list may be long when alignment fails in many chunks,
        /// and bounds checks would make each look twice as long.
        private func firstFit(_ count: Int, align: Int, in slot: Int) -> Unmanaged<PerCPUChunk>? {
            slots[slot].withUnsafeBufferPointer { list in
                list.first { $0._withUnsafeGuaranteedRef { $0.fits(count, align: align) } }
            }
        }

        /// Files an empty chunk, takes `count` granules at `align` from the group, and sends the
        /// chunk away again if they came from another one (frees made room meanwhile): the
        /// address, and the chunk if it left.
        mutating func add(_ chunk: PerCPUChunk, thenAllocate count: Int, align: Int) -> (Int?, left: PerCPUChunk?) {
            chunk.position = chunks.count
            index.insert(chunk.base, Int32(chunk.position))
            chunks.append(.passRetained(chunk))
            file(chunk, in: PerCPUAllocator.slot(chunk.contigHint))
            let address = allocate(count, align: align)
            guard chunk.isEmpty else { return (address, nil) }
            return (address, remove(chunk))
        }

        /// Frees the allocation at `offset` bytes into chunk `base` (`pcpu_free_area`); a chunk
        /// left empty leaves the group. Inlined: two call frames were a fifth of a free's cost.
        @inline(__always)
        mutating func free(base: Int, offset: Int) -> Freed {
            let c = index[base]
            guard c >= 0 else { return .elsewhere }
            return chunks[Int(c)]._withUnsafeGuaranteedRef { chunk in
                guard offset & (PerCPUAllocator.granule - 1) == 0, chunk.free(at: offset / PerCPUAllocator.granule)
                else { return .notLive }
                guard chunk.isEmpty else {
                    refile(chunk)
                    return .freed
                }
                emptied.append(remove(chunk))
                return .emptied
            }
        }

        /// Moves `chunk` to the slot of its contig hint (`pcpu_chunk_relocate`).
        private mutating func refile(_ chunk: PerCPUChunk) {
            let slot = PerCPUAllocator.slot(chunk.contigHint)
            guard slot != chunk.slot else { return }
            unfile(chunk)
            file(chunk, in: slot)
        }

        private mutating func file(_ chunk: PerCPUChunk, in slot: Int) {
            chunk.slot = slot
            chunk.slotIndex = slots[slot].count
            slots[slot].append(.passUnretained(chunk))
            filledSlots |= 1 &<< UInt(slot)
        }

        /// Takes `chunk` out of its slot's list: the list's last entry takes its place.
        private mutating func unfile(_ chunk: PerCPUChunk) {
            let last = slots[chunk.slot].removeLast()
            if slots[chunk.slot].isEmpty { filledSlots &= ~(1 &<< UInt(chunk.slot)) }
            guard last.toOpaque() != Unmanaged.passUnretained(chunk).toOpaque() else { return }
            last._withUnsafeGuaranteedRef { $0.slotIndex = chunk.slotIndex }
            slots[chunk.slot][chunk.slotIndex] = last
        }

        /// Forgets `chunk`: the last chunk moves into its position. The group's reference,
        /// which the caller now owns.
        private mutating func remove(_ chunk: PerCPUChunk) -> PerCPUChunk {
            unfile(chunk)
            index.remove(chunk.base)
            let owned = Unmanaged.passUnretained(chunk)
            let last = chunks.removeLast()
            if last.toOpaque() != owned.toOpaque() {
                last._withUnsafeGuaranteedRef { moved in
                    moved.position = chunk.position
                    index[moved.base] = Int32(moved.position)
                }
                chunks[chunk.position] = last
            }
            return owned.takeRetainedValue()
        }
    }

    /// A group's chunks behind their own lock, in a heap cell of its own.
    private final class Group: Sendable {
        let state = Lock(State())
    }

    /// One group per possible CPU; a thread allocates from its own (by its stable index).
    private let groups: [Group]
    /// The same groups, reached without a retain (as `VmapAreas` reaches its shards): a
    /// retain and a release of the group per operation cost more than the lock. A buffer of
    /// `groups.count`: the indices are remainders, in range by construction. Unsafe only in
    /// name: the buffer is written once, in `init`, and each group behind it is Sendable.
    nonisolated(unsafe) private let unretained: UnsafeMutablePointer<Unmanaged<Group>>
    /// The empty chunks kept, outside every group, the spare (the kernel's one) first: kept
    /// whole, so a group that takes one back (a thread whose only allocation comes and goes)
    /// rebuilds nothing.
    private let kept = Lock<[PerCPUChunk]>([])
    /// Chunks in all, the kept ones and those between a group and `kept` included.
    private let chunkCount = Atomic<Int>(0)
    /// Chunks vmalloced since the start (`pcpu_create_chunk` calls that succeeded).
    private let created = Atomic<Int>(0)

    /// Bytes of all chunks, every CPU's unit, the kept ones included (`Percpu:` in /proc/meminfo).
    var bytes: Int { chunkCount.load(ordering: .relaxed) * Self.unitSize * Self.nrPossibleCPUs }
    /// Chunks vmalloced since the start: a round served from kept chunks adds none.
    var chunksCreated: Int { created.load(ordering: .relaxed) }
    /// Empty chunks kept, the spare included.
    var keptChunks: Int { kept.withLock { $0.count } }
    private let space: VmallocSpace
    private let log: Printk
    /// Nanoseconds a kept chunk waits before the reporter's pass vfrees it, learnt from the
    /// program's pauses between rounds (as tcmalloc's and jemalloc's give-back rates adapt): a
    /// chunk created again after such a pass vfreed chunks (the program came back for its
    /// per-CPU memory after a longer pause than the keep time, and paid to populate it again)
    /// sets it to twice that pause; a give-back a keep time or more after the last one, with no
    /// chunk created between, halves it. Between `keptDelays` and `maxKeptDelays` reporting
    /// delays.
    private let keepNs: Atomic<UInt64>
    private let minKeepNs: UInt64
    private let maxKeepNs: UInt64
    /// When the reporter's pass last vfreed kept chunks, until a chunk is created (0: not since).
    private let idleRelease = Atomic<UInt64>(0)

    /// Chunks from `space`; kept ones wait `keptDelays` times `reportingDelay` (at first) for
    /// the free page reporter (nil: no reporter, they go back only under pressure).
    init(space: VmallocSpace, log: Printk, reportingDelay: Duration?) {
        self.space = space
        self.log = log
        let delay = (reportingDelay ?? .zero).nanoseconds
        minKeepNs = UInt64(Self.keptDelays) * delay
        maxKeepNs = UInt64(Self.maxKeptDelays) * delay
        keepNs = Atomic(minKeepNs)
        groups = (0..<Self.nrPossibleCPUs).map { _ in Group() }
        unretained = .allocate(capacity: groups.count)
        unretained.initialize(from: groups.map { Unmanaged.passUnretained($0) }, count: groups.count)
    }

    deinit {
        unretained.deallocate()
    }

    /// Runs `body` under the lock of group `g` (0 ≤ g < `groups.count`, unchecked) without
    /// retaining it.
    @inline(__always)
    private func withGroup<R>(_ g: Int, _ body: (inout State) -> R) -> R {
        unretained[g]._withUnsafeGuaranteedRef { $0.state.withLock { s in body(&s) } }
    }

    /// `size` bytes aligned to `align` in every CPU's unit, each copy zeroed; unit 0's copy
    /// (`pcpu_alloc`). A size of 0 or above `maxAllocation`, or an alignment that is not a power
    /// of two up to a page, gets nil and the kernel's warning (rate-limited, as every such call
    /// warns in the kernel); a chunk that
    /// cannot be had gets nil and a rate-limited report.
    func allocate(size: Int, align: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        guard size > 0, size <= Self.maxAllocation, align > 0, align & (align - 1) == 0,
            align <= PhysicalMemory.pageSize
        else {
            log.warn(
                "illegal size (\(size)) or align (\(align)) for percpu allocation (\(site))",
                site: "percpu-illegal@\(site)")
            return nil
        }
        let count = (size + Self.granule - 1) / Self.granule
        let alignGranules = max(align, Self.granule) / Self.granule
        let group = Int(vmshim_thread_index()) % groups.count
        let found =
            withGroup(group) { $0.allocate(count, align: alignGranules) }
            ?? allocateInAddedChunk(count, align: alignGranules, group: group, size: size, byteAlign: align)
        guard let found, let p = UnsafeMutableRawPointer(bitPattern: found) else { return nil }
        // Every copy is cleared, as pcpu_alloc memsets each possible CPU's.
        // (One group per possible CPU: their count, without the global's lazy-initialisation check.)
        for cpu in 0..<groups.count { memset(p + cpu * Self.unitSize, 0, count * Self.granule) }
        return p
    }

    /// `count` granules at `align` when no chunk of `group` holds them: a kept empty chunk
    /// joins the group, or a new chunk (`pcpu_create_chunk`); nil, reported, when none can be
    /// had. Out of line: the fast path's frame then saves and spills less.
    @inline(never)
    private func allocateInAddedChunk(_ count: Int, align: Int, group: Int, size: Int, byteAlign: Int) -> Int? {
        guard let chunk = kept.withLock({ $0.popLast() }) ?? createChunk() else {
            log.warn(
                "percpu: allocation failed, size=\(size) align=\(byteAlign) atomic=0, failed to allocate new chunk",
                site: "percpu-fail")
            return nil
        }
        let (address, left) = withGroup(group) { $0.add(chunk, thenAllocate: count, align: align) }
        if let left { keep(left) }
        return address
    }

    /// Frees what `allocate` returned (`free_percpu`), from any thread: the calling thread's
    /// group is asked first, then the others. nil is a no-op. Any other address is reported and
    /// changes nothing (the kernel would corrupt its maps). A chunk left empty is kept.
    func free(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        let address = Int(bitPattern: p)
        let base = address & ~(Self.unitSize - 1)
        var group = Int(vmshim_thread_index()) % groups.count
        var outcome = withGroup(group) { $0.free(base: base, offset: address &- base) }
        if outcome == .elsewhere {
            // Freed by another thread than the allocating one: ask the other groups in turn.
            for _ in 1..<groups.count where outcome == .elsewhere {
                group = (group &+ 1) % groups.count
                outcome = withGroup(group) { $0.free(base: base, offset: address &- base) }
            }
        }
        switch outcome {
        case .freed: return
        case .emptied:
            // Taken in a second, rare lock round: a chunk in the outcome of every free would
            // make each one copy and destroy a large enum.
            if let chunk = withGroup(group, { $0.emptied.popLast() }) { keep(chunk) }
        case .elsewhere, .notLive:
            log.warn("free_percpu: \(p) is not a live per-CPU allocation; nothing freed", site: "percpu-free-bad")
        }
    }

    /// Keeps empty `chunk`. One beyond the spare is a free event, as a frame freed is: the
    /// free page reporter waits for frees to pause before it gives kept chunks back, and these
    /// frees free no frame.
    private func keep(_ chunk: PerCPUChunk) {
        chunk.keptSince = Printk.monotonicNs()
        let count = kept.withLock { k in
            k.append(chunk)
            return k.count
        }
        if count > 1 { space.allocator.freeEvents.signal() }
    }

    /// A new empty chunk: one vmalloc area holding every CPU's unit (`pcpu_create_chunk`).
    private func createChunk() -> PerCPUChunk? {
        guard
            let p = space.vmallocNodeRange(
                Self.unitSize * Self.nrPossibleCPUs, align: Self.unitSize, gfp: .kernel, node: NUMA_NO_NODE,
                flags: .alloc, site: CallSite(file: #fileID, line: #line))
        else { return nil }
        chunkCount.add(1, ordering: .relaxed)
        created.add(1, ordering: .relaxed)
        let released = idleRelease.exchange(0, ordering: .relaxed)
        if released != 0 {
            // Chunks kept `keep` went at `released`, and are needed again: the pause was longer.
            let keep = keepNs.load(ordering: .relaxed)
            let pause = keep &+ (Printk.monotonicNs() &- released)
            keepNs.store(min(maxKeepNs, max(keep, 2 &* pause)), ordering: .relaxed)
        }
        return PerCPUChunk(base: Int(bitPattern: p), granules: Self.granulesPerUnit)
    }
}

extension PerCPUAllocator: KeptAreas {
    /// Vfrees every kept empty chunk but the spare (the kernel's `pcpu_balance_free`, run here
    /// when memory is asked for rather than after each free); returns how many went. Their
    /// areas are freed lazily: the caller's purge gives back their frames.
    @discardableResult
    func releaseKeptAreas() -> Int { releaseKept(keptFor: 0).released }

    /// Vfrees the kept empty chunks but the spare that have been kept the keep time (`keepNs`);
    /// how many went, and whether others are kept still (the reporter comes back).
    func releaseIdleKeptAreas() -> (released: Int, waiting: Bool) {
        let keep = keepNs.load(ordering: .relaxed)
        let result = releaseKept(keptFor: keep)
        guard result.released > 0 else { return result }
        let now = Printk.monotonicNs()
        let last = idleRelease.exchange(now, ordering: .relaxed)
        // Chunks given back a keep time or more ago were not needed again: the pauses are
        // shorter. (Passes a delay apart that give back one round's chunks are one give-back.)
        if last != 0 && now &- last >= keep { keepNs.store(max(minKeepNs, keep / 2), ordering: .relaxed) }
        return result
    }

    private func releaseKept(keptFor ns: UInt64) -> (released: Int, waiting: Bool) {
        let now = Printk.monotonicNs()
        let (surplus, waiting) = kept.withLock { k -> ([PerCPUChunk], Bool) in
            // After the spare, chunks are in the order they were kept (a group takes the last):
            // the ones kept long enough are a prefix.
            let first = min(k.count, 1)
            var end = first
            while end < k.count && now &- k[end].keptSince >= ns { end += 1 }
            defer { k.removeSubrange(first..<end) }
            return (Array(k[first..<end]), end < k.count)
        }
        for chunk in surplus {
            chunkCount.subtract(1, ordering: .relaxed)
            space.freeArea(UnsafeMutableRawPointer(bitPattern: chunk.base), kind: .vmalloc, function: "vfree()")
        }
        return (surplus.count, waiting)
    }
}
