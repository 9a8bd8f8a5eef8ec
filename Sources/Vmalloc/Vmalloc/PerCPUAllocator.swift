import Glibc

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
/// fill the holes of busy chunks and empty ones stay whole. One empty chunk is kept as a spare
/// (the kernel keeps one); any other chunk that becomes empty is vfreed.
///
/// Lock order: `state` is a leaf (the kernel's `pcpu_lock`); vmalloc and vfree of chunks run
/// outside it, as `pcpu_create_chunk` runs outside the spinlock.
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

    private static let granulesPerUnit = unitSize / granule
    /// Slot of a chunk whose longest free extent is n granules: fls(n), so every chunk in a slot
    /// above fls(request) can hold the request unaligned.
    private static func slot(_ n: Int) -> Int { Int.bitWidth - n.leadingZeroBitCount }
    private static let slotCount = slot(granulesPerUnit) + 1

    private struct State {
        /// Every chunk; the slot lists and `index` refer to them by position.
        var chunks: [PerCPUChunk] = []
        /// Chunk positions by `base`, for frees (`pcpu_chunk_addr_search`).
        var index: [Int: Int] = [:]
        /// Chunk positions by slot (`pcpu_chunk_lists`).
        var slots: [[Int]] = Array(repeating: [], count: PerCPUAllocator.slotCount)
        /// Empty chunks now (at most one stays once a free settles).
        var emptyChunks = 0
        /// Bytes of all chunks, every CPU's unit (the kernel's `Percpu:` in /proc/meminfo).
        var bytes: Int { chunks.count * PerCPUAllocator.unitSize * PerCPUAllocator.nrPossibleCPUs }

        /// Takes `count` granules at `align` granules from the first chunk, smallest slot
        /// first, whose longest free extent holds them; the address of unit 0's copy.
        mutating func allocate(_ count: Int, align: Int) -> Int? {
            for slot in PerCPUAllocator.slot(count)..<slots.count {
                // By position: iterating the list itself would copy it when the chunk is refiled.
                for i in slots[slot].indices where chunks[slots[slot][i]].fits(count, align: align) {
                    let c = slots[slot][i]
                    let wasEmpty = chunks[c].isEmpty
                    guard let offset = chunks[c].allocate(count, align: align) else { continue }
                    if wasEmpty { emptyChunks -= 1 }
                    refile(c)
                    return chunks[c].base + offset * PerCPUAllocator.granule
                }
            }
            return nil
        }

        /// Files a new chunk.
        mutating func add(_ chunk: PerCPUChunk) {
            index[chunk.base] = chunks.count
            chunks.append(chunk)
            emptyChunks += 1
            file(chunks.count - 1, in: PerCPUAllocator.slot(chunk.contigHint))
        }

        /// Frees the allocation at `offset` bytes into chunk `base`; whether the chunk must go
        /// (it became empty beside the spare), or nil when no live allocation starts there.
        mutating func free(base: Int, offset: Int) -> Bool? {
            guard offset % PerCPUAllocator.granule == 0, let c = index[base],
                chunks[c].free(at: offset / PerCPUAllocator.granule)
            else { return nil }
            guard chunks[c].isEmpty else {
                refile(c)
                return false
            }
            guard emptyChunks == 0 else {
                remove(c)
                return true
            }
            emptyChunks += 1
            refile(c)
            return false
        }

        /// Forgets chunk `base` if it is still empty beside another empty one (frees of other
        /// threads made room while it was created); whether it must be vfreed.
        mutating func dropIfSurplus(_ base: Int) -> Bool {
            guard let c = index[base], chunks[c].isEmpty, emptyChunks > 1 else { return false }
            remove(c)
            emptyChunks -= 1
            return true
        }

        /// Moves chunk `c` to the slot of its contig hint (`pcpu_chunk_relocate`).
        private mutating func refile(_ c: Int) {
            let slot = PerCPUAllocator.slot(chunks[c].contigHint)
            guard slot != chunks[c].slot else { return }
            unfile(c)
            file(c, in: slot)
        }

        private mutating func file(_ c: Int, in slot: Int) {
            chunks[c].slot = slot
            chunks[c].slotIndex = slots[slot].count
            slots[slot].append(c)
        }

        /// Takes chunk `c` out of its slot's list: the list's last entry takes its place.
        private mutating func unfile(_ c: Int) {
            let (slot, position) = (chunks[c].slot, chunks[c].slotIndex)
            let last = slots[slot].removeLast()
            guard last != c else { return }
            slots[slot][position] = last
            chunks[last].slotIndex = position
        }

        /// Forgets chunk `c`: the last chunk moves into its position.
        private mutating func remove(_ c: Int) {
            unfile(c)
            index[chunks[c].base] = nil
            let last = chunks.count - 1
            if c != last {
                chunks.swapAt(c, last)
                index[chunks[c].base] = c
                slots[chunks[c].slot][chunks[c].slotIndex] = c
            }
            chunks.removeLast()
        }
    }

    private let state = Lock(State())

    /// Bytes of all chunks, every CPU's unit, the spare included (`Percpu:` in /proc/meminfo).
    var bytes: Int { state.withLock { $0.bytes } }
    private let space: VmallocSpace
    private let log: Printk

    init(space: VmallocSpace, log: Printk) {
        self.space = space
        self.log = log
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
        var found = state.withLock { $0.allocate(count, align: alignGranules) }
        if found == nil {
            // No chunk holds it: a new one does, whatever another thread took meanwhile.
            guard let chunk = createChunk() else {
                log.warn(
                    "percpu: allocation failed, size=\(size) align=\(align) atomic=0, failed to allocate new chunk",
                    site: "percpu-fail")
                return nil
            }
            let (address, surplus) = state.withLock { s in
                s.add(chunk)
                let address = s.allocate(count, align: alignGranules)
                return (address, s.dropIfSurplus(chunk.base))
            }
            if surplus, let p = UnsafeMutableRawPointer(bitPattern: chunk.base) {
                space.freeArea(p, kind: .vmalloc, function: "vfree()")
            }
            found = address
        }
        guard let found, let p = UnsafeMutableRawPointer(bitPattern: found) else { return nil }
        // Every copy is cleared, as pcpu_alloc memsets each possible CPU's.
        for cpu in 0..<Self.nrPossibleCPUs { memset(p + cpu * Self.unitSize, 0, count * Self.granule) }
        return p
    }

    /// Frees what `allocate` returned (`free_percpu`); nil is a no-op. Any other address is
    /// reported and changes nothing (the kernel would corrupt its maps). A chunk left empty
    /// beside the spare is vfreed.
    func free(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        let address = Int(bitPattern: p)
        let base = address & ~(Self.unitSize - 1)
        guard let releaseChunk = state.withLock({ $0.free(base: base, offset: address - base) }) else {
            log.warn("free_percpu: \(p) is not a live per-CPU allocation; nothing freed", site: "percpu-free-bad")
            return
        }
        if releaseChunk {
            space.freeArea(p - (address - base), kind: .vmalloc, function: "vfree()")
        }
    }

    /// A new empty chunk: one vmalloc area holding every CPU's unit (`pcpu_create_chunk`).
    private func createChunk() -> PerCPUChunk? {
        guard
            let p = space.vmallocNodeRange(
                Self.unitSize * Self.nrPossibleCPUs, align: Self.unitSize, gfp: .kernel, node: NUMA_NO_NODE,
                flags: .alloc, site: CallSite(file: #fileID, line: #line))
        else { return nil }
        return PerCPUChunk(base: Int(bitPattern: p), granules: Self.granulesPerUnit)
    }
}
