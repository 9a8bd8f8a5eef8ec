import CShim

/// The layout of one per-CPU chunk's units (all of them share it, so it is kept once): which
/// granules are free, as address-ordered free extents, and where each live allocation starts.
/// The kernel's `pcpu_chunk` keeps the same facts as `alloc_map`, `bound_map` and per-block
/// contig hints (mm/percpu.c).
///
/// Offsets and sizes count granules of `PerCPUAllocator.granule` bytes. An allocation ends where
/// the next one starts, where the next free extent starts, or at the unit's end, so one bitmap of
/// starts is enough to tell a live allocation's size and to refuse any other address.
///
/// The unit is cut into blocks of `blockGranules`, each with the longest free extent that starts
/// in it (the kernel's per-block `pcpu_block_md.contig_hint`): a first fit skips every block
/// whose extents are all too short, and a change re-reads only the blocks it touched, so neither
/// walks the whole list of extents, which alignment padding makes long.
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
    /// Granules per block: 1024 (4 KiB), so a unit has a few dozen blocks and a block a few extents.
    static let blockShift = 10
    static let blockGranules = 1 << blockShift
    /// Per block, the index in `extents` of the first extent that starts in it or after it; one
    /// more entry, `extents.count`, closes the last block.
    private var blockFirst: [Int32]
    /// Per block, the length of the longest free extent that starts in it.
    private var blockLongest: [Int32]
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
        let blocks = (granules + Self.blockGranules - 1) >> Self.blockShift
        blockFirst = Array(repeating: 1, count: blocks + 1)
        blockFirst[0] = 0
        blockLongest = Array(repeating: 0, count: blocks)
        blockLongest[0] = Int32(granules)
        contigHint = granules
        freeGranules = granules
    }

    /// Whether nothing is allocated in the chunk.
    var isEmpty: Bool { freeGranules == granules }

    /// Whether the longest free extent holds `count` granules aligned to `align`
    /// (`pcpu_check_block_hint`). A chunk where only a shorter extent would is passed over, as
    /// the kernel passes it: one check per chunk instead of a scan of its extents.
    func fits(_ count: Int, align: Int) -> Bool {
        Self.fits(count, align: align, in: contigHintStart, contigHintStart + contigHint)
    }

    /// Whether free granules `start..<end` hold `count` granules aligned to `align`.
    private static func fits(_ count: Int, align: Int, in start: Int, _ end: Int) -> Bool {
        ((start &+ align &- 1) & ~(align &- 1)) &+ count <= end
    }

    /// The lowest offset where `count` granules aligned to `align` granules (a power of two)
    /// fit, taken; nil when none does (`pcpu_find_block_fit` + `pcpu_alloc_area`). First fit
    /// in address order keeps the low end dense, as the kernel's hints steer it to.
    mutating func allocate(_ count: Int, align: Int) -> Int? {
        guard count <= contigHint, let i = firstFit(count, align: align) else { return nil }
        let start = (Int(extents[i].start) + align - 1) & ~(align - 1)
        carve(i, start: start, end: start + count)
        starts[start >> 6] |= 1 << UInt64(start & 63)
        freeGranules -= count
        return start
    }

    /// The index of the first free extent that holds `count` granules aligned to `align`, in
    /// the blocks whose longest extent is long enough. Through the buffers: a search of a few
    /// dozen blocks and extents per allocation, which bounds checks would make twice as long.
    private func firstFit(_ count: Int, align: Int) -> Int? {
        blockLongest.withUnsafeBufferPointer { longest in
            blockFirst.withUnsafeBufferPointer { first in
                extents.withUnsafeBufferPointer { e in
                    for b in 0..<longest.count where Int(longest[b]) >= count {
                        for i in Int(first[b])..<Int(first[b &+ 1])
                        where Self.fits(count, align: align, in: Int(e[i].start), Int(e[i].end)) {
                            return i
                        }
                    }
                    return nil
                }
            }
        }
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
        case (true, true): replace(i..<i + 1, with: before, after)
        case (true, false): replace(i..<i + 1, with: before)
        case (false, true): replace(i..<i + 1, with: after)
        case (false, false): replace(i..<i + 1)
        }
    }

    /// Inserts `e` before extent `i` (the first one past it), merged with the neighbours it
    /// touches.
    private mutating func insertFree(_ e: Extent, at i: Int) {
        let joinsPrevious = i > 0 && extents[i - 1].end == e.start
        let joinsNext = i < extents.count && extents[i].start == e.end
        let first = joinsPrevious ? i - 1 : i
        let merged = Extent(
            start: joinsPrevious ? extents[i - 1].start : e.start, end: joinsNext ? extents[i].end : e.end)
        replace(first..<(joinsNext ? i + 1 : i), with: merged)
    }

    /// Replaces `extents[old]` by `a` and `b` where given (address-ordered, `b` only with `a`, in
    /// the same gap between the neighbours), then brings the block index and hints up to date.
    /// No extent starts in a block strictly between the starts involved (old and new; one gap
    /// holds them all), so only the blocks of those starts are re-read; the index of the blocks
    /// between is set from the new starts, and the later ones shift.
    private mutating func replace(_ old: Range<Int>, with a: Extent? = nil, _ b: Extent? = nil) {
        let shift = Self.blockShift
        // One extent for one in the same block (an allocation from an extent's start, mostly):
        // the index stands, and only that block is re-read.
        if old.count == 1, let a, b == nil, Int(a.start) >> shift == Int(extents[old.lowerBound].start) >> shift {
            extents[old.lowerBound] = a
            if refreshBlock(Int(a.start) >> shift) { findContigHint() }
            return
        }
        let firstOld = old.isEmpty ? -1 : Int(extents[old.lowerBound].start) >> shift
        let lastOld = old.isEmpty ? -1 : Int(extents[old.upperBound - 1].start) >> shift
        let aStart = a.map { Int($0.start) } ?? Int.max
        let bStart = b.map { Int($0.start) } ?? Int.max
        let aBlock = a == nil ? -1 : aStart >> shift
        let bBlock = b == nil ? -1 : bStart >> shift
        let low = min(firstOld < 0 ? Int.max : firstOld, a == nil ? Int.max : aBlock)
        let high = max(lastOld, aBlock, bBlock)
        let added = (a == nil ? 0 : 1) + (b == nil ? 0 : 1)
        // Make room for the new extents, or close the gap of the old ones left over, then write.
        let delta = added - old.count
        let tail = extents.count - old.upperBound
        // One or two extents at most, one by one: the generic append(contentsOf:) and
        // removeLast(_:) cost more than these loops (callgrind).
        if delta > 0 {
            for _ in 0..<delta { extents.append(Extent(start: 0, end: 0)) }
        }
        extents.withUnsafeMutableBufferPointer { e in
            let p = e.baseAddress!
            // The extents after `old` move by delta: one memmove (`vmshim_copy`; the ranges
            // overlap), not the generic insert or removeSubrange.
            if delta != 0 {
                vmshim_copy(p + old.upperBound + delta, p + old.upperBound, tail * MemoryLayout<Extent>.stride)
            }
            if let a { p[old.lowerBound] = a }
            if let b { p[old.lowerBound + 1] = b }
        }
        for _ in 0..<max(-delta, 0) { extents.removeLast() }
        let lowerBound = Int32(old.lowerBound)
        let shiftBy = Int32(delta)
        // Through the buffer with wrapping arithmetic, so that both loops vectorise.
        blockFirst.withUnsafeMutableBufferPointer { f in
            if shiftBy != 0 { for k in high &+ 1..<f.count { f[k] &+= shiftBy } }
            // Extents before `old` start before block low + 1 and those after it past block high.
            for k in low &+ 1..<high &+ 1 {
                let edge = k &<< shift
                f[k] = lowerBound &+ (aStart < edge ? 1 : 0) &+ (bStart < edge ? 1 : 0)
            }
        }
        var stale = refreshBlock(low)
        if lastOld > low { stale = refreshBlock(lastOld) || stale }
        if aBlock > low && aBlock != lastOld { stale = refreshBlock(aBlock) || stale }
        if bBlock > low && bBlock != lastOld && bBlock != aBlock { stale = refreshBlock(bBlock) || stale }
        if stale { findContigHint() }
    }

    /// Re-reads the longest extent starting in block `k`; one longer than the chunk's contig hint
    /// becomes it. Returns whether the hint must be found again: the block held it and changed.
    private mutating func refreshBlock(_ k: Int) -> Bool {
        let was = Int(blockLongest[k])
        var longest = 0
        var start = 0
        for i in Int(blockFirst[k])..<Int(blockFirst[k + 1]) where extents[i].length > longest {
            (longest, start) = (extents[i].length, Int(extents[i].start))
        }
        blockLongest[k] = Int32(longest)
        if longest > contigHint {
            (contigHint, contigHintStart) = (longest, start)
            return false
        }
        return was == contigHint && contigHintStart >> Self.blockShift == k
    }

    /// Finds the longest free extent again, the lowest of equals, from the block hints.
    private mutating func findContigHint() {
        // The maximum first (a loop that vectorises), then its lowest block.
        let longest = blockLongest.withUnsafeBufferPointer { l in l.reduce(0) { max($0, $1) } }
        let block = blockLongest.firstIndex(of: longest) ?? 0
        contigHint = Int(longest)
        contigHintStart = 0
        for i in Int(blockFirst[block])..<Int(blockFirst[block + 1]) where extents[i].length == contigHint {
            contigHintStart = Int(extents[i].start)
            break
        }
    }

    /// Whether the block index and the hints are what a walk of every extent finds (tests check
    /// it after each change).
    var hintsAreConsistent: Bool {
        var longest = 0
        for e in extents where e.length > longest { longest = e.length }
        for k in blockLongest.indices {
            let lo = k << Self.blockShift
            let first = extents.firstIndex { Int($0.start) >= lo } ?? extents.count
            let inBlock = extents.filter { Int($0.start) >> Self.blockShift == k }
            guard Int(blockFirst[k]) == first, Int(blockLongest[k]) == inBlock.map(\.length).max() ?? 0 else {
                return false
            }
        }
        return Int(blockFirst[blockLongest.count]) == extents.count && contigHint == longest
            && (longest == 0 || extents.contains { Int($0.start) == contigHintStart && $0.length == longest })
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
