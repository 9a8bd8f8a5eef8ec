/// The layout of one per-CPU chunk's units (all of them share it, so it is kept once): which
/// granules are free, as address-ordered free extents, and where each live allocation starts.
/// The kernel's `pcpu_chunk` keeps the same facts as `alloc_map`, `bound_map` and per-block
/// contig hints (mm/percpu.c).
///
/// Offsets and sizes count granules of `PerCPUAllocator.granule` bytes. An allocation ends where
/// the next one starts, where the next free extent starts, or at the unit's end, so one bitmap of
/// starts is enough to tell a live allocation's size and to refuse any other address.
struct PerCPUChunk: Sendable {
    /// Free granules `start..<end`.
    struct Extent: Sendable {
        var start: Int32
        var end: Int32
        var length: Int { Int(end - start) }
    }

    /// The address of unit 0 (the chunk's vmalloc area), as an integer: the key the allocator
    /// files the chunk under, and a value that may cross into its lock.
    let base: Int
    /// Granules per unit.
    let granules: Int
    /// Maximal free extents, ordered by start and never adjacent (neighbours merge on free).
    private var extents: [Extent]
    /// One bit per granule: set where a live allocation starts.
    private var starts: [UInt64]
    /// The longest free extent (`contig_hint`), which decides the chunk's slot, and where it
    /// starts (`contig_hint_start`).
    private(set) var contigHint: Int
    private var contigHintStart = 0
    /// Free granules in all (`free_bytes`).
    private var freeGranules: Int
    /// The chunk's slot and its index in that slot's list, kept by `PerCPUAllocator`.
    var slot = 0
    var slotIndex = 0

    /// An empty chunk of `granules` granules per unit whose unit 0 is at `base`.
    init(base: Int, granules: Int) {
        self.base = base
        self.granules = granules
        extents = [Extent(start: 0, end: Int32(granules))]
        starts = Array(repeating: 0, count: (granules + 63) / 64)
        contigHint = granules
        freeGranules = granules
    }

    /// Whether nothing is allocated in the chunk.
    var isEmpty: Bool { freeGranules == granules }

    /// Whether the longest free extent holds `count` granules aligned to `align`
    /// (`pcpu_check_block_hint`). A chunk where only a shorter extent would is passed over, as
    /// the kernel passes it: one check per chunk instead of a scan of its extents.
    func fits(_ count: Int, align: Int) -> Bool {
        let start = (contigHintStart + align - 1) & ~(align - 1)
        return start + count <= contigHintStart + contigHint
    }

    /// The lowest offset where `count` granules aligned to `align` granules (a power of two)
    /// fit, taken; nil when none does (`pcpu_find_block_fit` + `pcpu_alloc_area`). First fit
    /// in address order keeps the low end dense, as the kernel's hints steer it to.
    mutating func allocate(_ count: Int, align: Int) -> Int? {
        guard count <= contigHint else { return nil }
        for i in extents.indices where extents[i].length >= count {
            let e = extents[i]
            let start = (Int(e.start) + align - 1) & ~(align - 1)
            let end = start + count
            guard end <= Int(e.end) else { continue }
            carve(i, start: start, end: end)
            starts[start >> 6] |= 1 << UInt64(start & 63)
            freeGranules -= count
            // Only a cut into the longest extent can shorten the longest.
            if Int(e.start) == contigHintStart { findContigHint() }
            return start
        }
        return nil
    }

    /// Frees the allocation starting at `offset`; false, with nothing changed, when no live
    /// allocation starts there (`pcpu_free_area`).
    mutating func free(at offset: Int) -> Bool {
        guard offset >= 0, offset < granules, starts[offset >> 6] & (1 << UInt64(offset & 63)) != 0 else {
            return false
        }
        // The first free extent past the allocation bounds it, unless another allocation
        // starts first.
        let next = firstExtent(after: offset)
        let end = min(nextStart(after: offset), next < extents.count ? Int(extents[next].start) : granules)
        starts[offset >> 6] &= ~(1 << UInt64(offset & 63))
        freeGranules += end - offset
        insertFree(Extent(start: Int32(offset), end: Int32(end)), at: next)
        return true
    }

    /// Replaces free extent `i` by what is left of it around `start..<end`.
    private mutating func carve(_ i: Int, start: Int, end: Int) {
        let e = extents[i]
        let before = Extent(start: e.start, end: Int32(start))
        let after = Extent(start: Int32(end), end: e.end)
        switch (before.length > 0, after.length > 0) {
        case (true, true):
            extents[i] = before
            extents.insert(after, at: i + 1)
        case (true, false): extents[i] = before
        case (false, true): extents[i] = after
        case (false, false): extents.remove(at: i)
        }
    }

    /// Inserts `e` before extent `i` (the first one past it), merged with the neighbours it
    /// touches, and raises the contig hint if the result is the longest.
    private mutating func insertFree(_ e: Extent, at i: Int) {
        var merged = e
        let joinsPrevious = i > 0 && extents[i - 1].end == e.start
        let joinsNext = i < extents.count && extents[i].start == e.end
        switch (joinsPrevious, joinsNext) {
        case (true, true):
            merged = Extent(start: extents[i - 1].start, end: extents[i].end)
            extents[i - 1] = merged
            extents.remove(at: i)
        case (true, false):
            extents[i - 1].end = e.end
            merged = extents[i - 1]
        case (false, true):
            extents[i].start = e.start
            merged = extents[i]
        case (false, false): extents.insert(e, at: i)
        }
        if merged.length > contigHint { (contigHint, contigHintStart) = (merged.length, Int(merged.start)) }
    }

    /// Finds the longest free extent again, the lowest of equals.
    private mutating func findContigHint() {
        (contigHint, contigHintStart) = (0, 0)
        for e in extents where e.length > contigHint { (contigHint, contigHintStart) = (e.length, Int(e.start)) }
    }

    /// The index of the first free extent that starts after `offset` (binary search).
    private func firstExtent(after offset: Int) -> Int {
        var low = 0
        var high = extents.count
        while low < high {
            let mid = (low + high) / 2
            if Int(extents[mid].start) <= offset { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The next granule after `offset` where an allocation starts, or the unit's end.
    private func nextStart(after offset: Int) -> Int {
        var word = (offset + 1) >> 6
        guard word < starts.count else { return granules }
        // Bits at or below `offset` in its own word are masked off.
        var bits = starts[word] & ~((1 << UInt64((offset + 1) & 63)) - 1)
        while bits == 0 {
            word += 1
            guard word < starts.count else { return granules }
            bits = starts[word]
        }
        return min(granules, (word << 6) + bits.trailingZeroBitCount)
    }
}
