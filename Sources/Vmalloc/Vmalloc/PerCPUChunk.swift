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
///
/// A class over raw buffers, never copied: an allocation or a free changes a few words, where
/// arrays would add a uniqueness check and a bounds check to each access (about half the cost of
/// pcpu_alloc_test under callgrind). Unchecked Sendable: it is reached only under its group's
/// lock, or by the one thread that holds it between a group and the spare.
final class PerCPUChunk: @unchecked Sendable {
    /// Free granules `start..<end`.
    struct Extent {
        var start: Int32
        var end: Int32
        var length: Int { Int(end &- start) }
    }

    /// The address of unit 0 (the chunk's vmalloc area), as an integer: the key the allocator
    /// files the chunk under, and a value that may cross into its lock.
    let base: Int
    /// Granules per unit.
    let granules: Int
    /// Granules per block: 1024 (4 KiB), so a unit has a few dozen blocks and a block a few extents.
    static let blockShift = 10
    static let blockGranules = 1 << blockShift
    private let blockCount: Int
    /// Maximal free extents, ordered by start and never adjacent (neighbours merge on free):
    /// `extentCount` of them from `extents`, somewhere in `storage`. An insert or a removal
    /// moves the extents on its shorter side, so the start moves too: frees in allocation
    /// order remove the second extent each time, which would otherwise move all the others.
    /// `storage` holds `extentGroup - 1` initialised extents more than `storageCapacity`, so a
    /// group read from any extent stays in the buffer.
    private var extents: UnsafeMutablePointer<Extent>
    private var extentCount = 1
    private var storage: UnsafeMutablePointer<Extent>
    private var storageCapacity = 16
    /// Extents compared at once by a first fit (their starts and ends in two SSE registers).
    private static let extentGroup = 4
    /// Blocks compared or updated at once (`firstBlock`, `addToFirsts`): one AVX register of
    /// 32-bit lanes. `blockLongest` holds `blockGroup - 1` zero entries past the last block and
    /// `blockFirst` `blockGroup` past it (one is its closing entry), so a group read from any
    /// block stays in the buffer.
    private static let blockGroup = 8
    /// One bit per granule: set where a live allocation starts.
    private let starts: UnsafeMutablePointer<UInt64>
    private let startWords: Int
    /// Per block k, how many extents start before block k: the index in `extents` of the first
    /// extent that starts in it or after it; one more entry, `extentCount`, closes the last block,
    /// then `blockGroup - 1` that mean nothing, so that `addToFirsts(from:)` changes a group at a
    /// time.
    private let blockFirst: UnsafeMutablePointer<Int32>
    /// Per block, the length of the longest free extent that starts in it, then zeros (no
    /// request is that short) so that a group of 8 read from any block is in the buffer: a
    /// first fit compares 8 blocks at a time (two SSE registers), as a chunk filling from its
    /// low end passes over most of its blocks, their holes all too short.
    private let blockLongest: UnsafeMutablePointer<Int32>
    /// Per block, at least the length of every extent starting in it but one of the longest
    /// (the second longest, or more): when an allocation cuts the block's longest and a piece
    /// left in the block is as long, that piece is the new longest without a walk of the block.
    private let blockBound: UnsafeMutablePointer<Int32>
    /// The longest free extent (`contig_hint`), which decides the chunk's slot, and where it
    /// starts (`contig_hint_start`): extents never share a start, so it names that extent.
    private(set) var contigHint: Int
    private var contigHintStart = 0
    /// At least the length of every free extent but the hint's: when an allocation cuts the
    /// hint and what is left of it is as long, it stays the hint without a look at every
    /// block (in a chunk that fills from its low end, every allocation cuts the hint).
    private var otherExtentsBound = 0
    /// Free granules in all (`free_bytes`).
    private var freeGranules: Int
    /// The chunk's slot and its index in that slot's list, kept by `PerCPUAllocator`.
    var slot = 0
    var slotIndex = 0
    /// The chunk's index in its group's list of chunks, kept by `PerCPUAllocator`.
    var position = 0
    /// When the chunk was last kept empty (monotonic ns), set by `PerCPUAllocator`.
    var keptSince: UInt64 = 0

    /// An empty chunk of `granules` granules per unit whose unit 0 is at `base`.
    init(base: Int, granules: Int) {
        self.base = base
        self.granules = granules
        blockCount = (granules + Self.blockGranules - 1) >> Self.blockShift
        storage = Self.makeStorage(storageCapacity)
        extents = storage
        extents[0] = Extent(start: 0, end: Int32(granules))
        startWords = (granules + 63) >> 6
        starts = .allocate(capacity: startWords)
        starts.initialize(repeating: 0, count: startWords)
        blockFirst = .allocate(capacity: blockCount + Self.blockGroup)
        blockFirst.initialize(repeating: 1, count: blockCount + Self.blockGroup)
        blockFirst[0] = 0
        blockLongest = .allocate(capacity: blockCount + Self.blockGroup - 1)
        blockLongest.initialize(repeating: 0, count: blockCount + Self.blockGroup - 1)
        blockLongest[0] = Int32(granules)
        blockBound = .allocate(capacity: blockCount)
        blockBound.initialize(repeating: 0, count: blockCount)
        contigHint = granules
        freeGranules = granules
    }

    deinit {
        storage.deallocate()
        starts.deallocate()
        blockFirst.deallocate()
        blockLongest.deallocate()
        blockBound.deallocate()
    }

    /// Whether nothing is allocated in the chunk.
    var isEmpty: Bool { freeGranules == granules }

    /// Whether the longest free extent holds `count` granules aligned to `align`
    /// (`pcpu_check_block_hint`). A chunk where only a shorter extent would is passed over, as
    /// the kernel passes it: one check per chunk instead of a scan of its extents.
    @inline(__always)
    func fits(_ count: Int, align: Int) -> Bool {
        Self.alignUp(contigHintStart, align) &+ count <= contigHintStart &+ contigHint
    }

    @inline(__always)
    private static func alignUp(_ offset: Int, _ align: Int) -> Int { (offset &+ align &- 1) & ~(align &- 1) }

    /// The lowest offset where `count` granules aligned to `align` granules (a power of two)
    /// fit, taken; nil when none does (`pcpu_find_block_fit` + `pcpu_alloc_area`). First fit
    /// in address order keeps the low end dense, as the kernel's hints steer it to.
    func allocate(_ count: Int, align: Int) -> Int? {
        guard count <= contigHint else { return nil }
        var b = 0
        while true {
            b = firstBlock(from: b, holding: count)
            guard b < blockCount else { return nil }
            // The block's extents from its first, a group at a time. One past the block's that
            // fits is the first fit too: no extent of the blocks between is long enough.
            var i = Int(blockFirst[b])
            let end = Int(blockFirst[b &+ 1])
            repeat {
                let lanes = fittingExtents(from: i, count, align: align)
                if lanes != 0 {
                    let fit = i &+ lanes.trailingZeroBitCount &>> 3
                    // Past the last extent: what the padding holds, and no extent fits.
                    guard fit < extentCount else { return nil }
                    let start = Self.alignUp(Int(extents[fit].start), align)
                    take(fit, start: start, end: start &+ count)
                    starts[start &>> 6] |= 1 &<< UInt64(start & 63)
                    freeGranules &-= count
                    return start
                }
                i &+= Self.extentGroup
            } while i < end
            b &+= 1
        }
    }

    /// Which of the `extentGroup` extents from index `i` hold `count` granules aligned to
    /// `align`: a byte per extent in index order, nonzero where it does (pcmpgtd, then
    /// packssdw and packsswb). Past `extentCount`, whatever the buffer holds.
    @inline(__always)
    private func fittingExtents(from i: Int, _ count: Int, align: Int) -> UInt32 {
        let group = UnsafeRawPointer(extents + i).loadUnaligned(as: SIMD8<Int32>.self)
        let slack = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: align &- 1))
        let aligned = (group.evenHalf &+ slack) & ~slack
        let fits = aligned &+ SIMD4(repeating: Int32(truncatingIfNeeded: count)) .<= group.oddHalf
        let lanes = SIMD4<Int32>(repeating: 0).replacing(with: -1, where: fits)
        return unsafeBitCast(SIMD4<Int8>(truncatingIfNeeded: lanes), to: UInt32.self)
    }

    /// The first block from `b` whose longest free extent holds `count` granules (at least 1),
    /// or one at or past `blockCount` if none does: `blockGroup` blocks per compare, whose lanes
    /// that hold it narrow to a byte each of a word (pcmpgtd, packssdw, packsswb), so the lowest
    /// is its lowest set bit.
    @inline(__always)
    private func firstBlock(from b: Int, holding count: Int) -> Int {
        var b = b
        let wanted = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: count))
        while b < blockCount {
            let lengths = UnsafeRawPointer(blockLongest + b).loadUnaligned(as: SIMD8<Int32>.self)
            let holds = SIMD8<Int32>(repeating: 0).replacing(with: -1, where: lengths .>= wanted)
            let lanes = unsafeBitCast(SIMD8<Int8>(truncatingIfNeeded: holds), to: UInt64.self)
            if lanes != 0 { return b &+ lanes.trailingZeroBitCount &>> 3 }
            b &+= Self.blockGroup
        }
        return b
    }

    /// Takes granules `start..<end` out of free extent `i`, which holds them.
    private func take(_ i: Int, start: Int, end: Int) {
        let old = extents[i]
        let block = Int(old.start) &>> Self.blockShift
        // The block's longest may have been this extent, and the chunk's hint.
        let stale = old.length == Int(blockLongest[block])
        let wasHint = Int(old.start) == contigHintStart
        // What is left before and after the allocation (empty: nothing).
        let before = Extent(start: old.start, end: Int32(truncatingIfNeeded: start))
        let after = Extent(start: Int32(truncatingIfNeeded: end), end: old.end)
        let afterBlock = end &>> Self.blockShift
        if before.length == 0 {
            if after.length == 0 {
                remove(i)
            } else {
                extents[i].start = Int32(truncatingIfNeeded: end)
                // Blocks after the old start, up to the new one, no longer count it as before them.
                addToFirsts(block &+ 1..<afterBlock &+ 1, -1)
            }
        } else {
            extents[i].end = Int32(truncatingIfNeeded: start)
            if after.length != 0 { insert(after, at: i &+ 1) }
        }
        // The pieces left in the old extent's block, longer first; one in a later block is noted there.
        var (kept, other) = (before.length, 0)
        if afterBlock == block {
            (kept, other) = (max(kept, after.length), min(kept, after.length))
        } else if after.length != 0 {
            lengthen(afterBlock, after.length)
        }
        // A piece of an extent that was not the block's longest was no longer than the bound.
        if stale {
            if kept >= Int(blockBound[block]) {
                blockLongest[block] = Int32(truncatingIfNeeded: kept)
                blockBound[block] = max(blockBound[block], Int32(truncatingIfNeeded: other))
            } else {
                rescan(block)
            }
        }
        let left = after.length > before.length ? after : before
        guard wasHint else { return }
        // The shorter piece of the old hint is now one of the others.
        otherExtentsBound = max(otherExtentsBound, old.length &- (end &- start) &- left.length)
        if left.length >= otherExtentsBound {
            (contigHint, contigHintStart) = (left.length, Int(left.start))
        } else {
            findContigHint(likely: left)
        }
    }

    /// Frees the allocation starting at `offset`; false, with nothing changed, when no live
    /// allocation starts there (`pcpu_free_area`).
    func free(at offset: Int) -> Bool {
        guard offset >= 0, offset < granules, starts[offset &>> 6] & (1 &<< UInt64(offset & 63)) != 0 else {
            return false
        }
        // The first free extent past the allocation (none starts inside it; those of its block
        // are few) bounds it, unless another allocation starts first.
        let block = offset &>> Self.blockShift
        var i = Int(blockFirst[block])
        while i < extentCount && Int(extents[i].start) < offset { i &+= 1 }
        let nextFree = i < extentCount ? Int(extents[i].start) : granules
        let end = nextStart(after: offset, before: nextFree)
        starts[offset &>> 6] &= ~(1 &<< UInt64(offset & 63))
        freeGranules &+= end &- offset
        let joinsPrevious = i > 0 && Int(extents[i &- 1].end) == offset
        let joinsNext = end == nextFree && i < extentCount
        let merged: Extent
        switch (joinsPrevious, joinsNext) {
        case (true, true):
            let next = extents[i]
            extents[i &- 1].end = next.end
            merged = extents[i &- 1]
            remove(i)
            let nextBlock = Int(next.start) &>> Self.blockShift
            if nextBlock != Int(merged.start) &>> Self.blockShift && next.length == Int(blockLongest[nextBlock]) {
                rescan(nextBlock)
            }
        case (true, false):
            extents[i &- 1].end = Int32(truncatingIfNeeded: end)
            merged = extents[i &- 1]
        case (false, true):
            let next = extents[i]
            extents[i].start = Int32(truncatingIfNeeded: offset)
            merged = extents[i]
            let nextBlock = Int(next.start) &>> Self.blockShift
            // Blocks after the new start, up to the old one, now count it as before them.
            addToFirsts(block &+ 1..<nextBlock &+ 1, 1)
            if nextBlock != block && next.length == Int(blockLongest[nextBlock]) { rescan(nextBlock) }
        case (false, false):
            merged = Extent(start: Int32(truncatingIfNeeded: offset), end: Int32(truncatingIfNeeded: end))
            insert(merged, at: i)
        }
        lengthen(Int(merged.start) &>> Self.blockShift, merged.length)
        // An extent that merged away was shorter than the merged one, so the hint only grows;
        // the old hint, unless it merged away, becomes one of the others.
        if merged.length > contigHint {
            otherExtentsBound = max(otherExtentsBound, contigHint)
            (contigHint, contigHintStart) = (merged.length, Int(merged.start))
        } else {
            otherExtentsBound = max(otherExtentsBound, merged.length)
        }
        if extentCount == 1 { otherExtentsBound = 0 }
        return true
    }

    /// Adds `delta` to the first-extent index of `blocks` (a few, between an extent's old
    /// start and its new one).
    @inline(__always)
    private func addToFirsts(_ blocks: Range<Int>, _ delta: Int32) {
        for k in blocks { blockFirst[k] &+= delta }
    }

    /// Adds `delta` to the first-extent index of every block from `k` and the closing entry (an
    /// extent inserted or removed before them): `blockGroup` at a time, into the padding past the
    /// end.
    @inline(__always)
    private func addToFirsts(from k: Int, _ delta: Int32) {
        var k = k
        while k <= blockCount {
            let group = UnsafeMutableRawPointer(blockFirst + k)
            let moved = group.loadUnaligned(as: SIMD8<Int32>.self) &+ SIMD8(repeating: delta)
            group.storeBytes(of: moved, as: SIMD8<Int32>.self)
            k &+= Self.blockGroup
        }
    }

    /// Inserts `e` at index `i`: the earlier extents move down one when there is room before
    /// them and they are fewer, else the later ones move up (one memmove either way); every
    /// block after `e`'s counts one more extent before it. Inlined, as `remove` and `rescan`
    /// are: a call frame each was a tenth of an allocation's or a free's cost in the chunk.
    @inline(__always)
    private func insert(_ e: Extent, at i: Int) {
        if extents > storage && i < extentCount &- i {
            extents -= 1
            Self.move(extents, from: extents + 1, i)
        } else {
            if extents + extentCount == storage + storageCapacity { reallocate() }
            Self.move(extents + i + 1, from: extents + i, extentCount &- i)
        }
        extents[i] = e
        extentCount &+= 1
        addToFirsts(from: (Int(e.start) &>> Self.blockShift) &+ 1, 1)
    }

    /// Moves `n` extents from `source` to `target`, ranges that may overlap (memmove). One by
    /// hand, the commonest count (an insert beside the last extent, a removal beside the first),
    /// where the call would cost more than the rest of the insert or removal. Never two or more
    /// by hand: swiftc 6.3.1 -O drops the first store of `t[0] = p[0]; t[1] = p[1]` when `t` is
    /// `p - 1` (a release build freed the wrong extents).
    @inline(__always)
    private static func move(
        _ target: UnsafeMutablePointer<Extent>, from source: UnsafeMutablePointer<Extent>, _ n: Int
    ) {
        if n == 1 {
            target.pointee = source.pointee
        } else if n > 1 {
            vmshim_copy(target, source, n &* MemoryLayout<Extent>.stride)
        }
    }

    /// Moves the extents to the start of a new buffer of twice their number (at least 16):
    /// sized by the count, not the old buffer, so a start that drifts up never grows it.
    private func reallocate() {
        // At most one extent per two granules: an allocation or a hole between any two.
        storageCapacity = max(16, extentCount * 2)
        let moved = Self.makeStorage(storageCapacity)
        moved.update(from: extents, count: extentCount)
        storage.deallocate()
        (storage, extents) = (moved, moved)
    }

    /// Extent storage for `capacity` extents and the `extentGroup - 1` of padding after them,
    /// every one empty (trivial values: a buffer is deallocated without deinitializing).
    private static func makeStorage(_ capacity: Int) -> UnsafeMutablePointer<Extent> {
        let storage = UnsafeMutablePointer<Extent>.allocate(capacity: capacity + extentGroup - 1)
        storage.initialize(repeating: Extent(start: 0, end: 0), count: capacity + extentGroup - 1)
        return storage
    }

    /// Removes extent `i`, moving the extents on its shorter side; every block after its
    /// start counts one fewer before it.
    @inline(__always)
    private func remove(_ i: Int) {
        let block = Int(extents[i].start) &>> Self.blockShift
        extentCount &-= 1
        if i < extentCount &- i {
            Self.move(extents + 1, from: extents, i)
            extents += 1
        } else {
            Self.move(extents + i, from: extents + i + 1, extentCount &- i)
        }
        addToFirsts(from: block &+ 1, -1)
    }

    /// Notes a free extent of `length` granules starting in block `k` (a new one, or one that
    /// grew: its shorter self, if it was the longest, stays in the bound, which only has to
    /// be at least the others).
    @inline(__always)
    private func lengthen(_ k: Int, _ length: Int) {
        let longest = blockLongest[k]
        if length > Int(longest) {
            blockBound[k] = max(blockBound[k], longest)
            blockLongest[k] = Int32(truncatingIfNeeded: length)
        } else {
            blockBound[k] = max(blockBound[k], Int32(truncatingIfNeeded: length))
        }
    }

    /// Re-reads the two longest extents starting in block `k`.
    @inline(__always)
    private func rescan(_ k: Int) {
        var (longest, second) = (0, 0)
        for i in Int(blockFirst[k])..<Int(blockFirst[k &+ 1]) {
            let length = extents[i].length
            if length > longest {
                (longest, second) = (length, longest)
            } else if length > second {
                second = length
            }
        }
        blockLongest[k] = Int32(truncatingIfNeeded: longest)
        blockBound[k] = Int32(truncatingIfNeeded: second)
    }

    /// Finds the longest free extent again from the block hints: `likely` when it is as long
    /// as any (what is left of the old one mostly is), else the lowest of the longest.
    private func findContigHint(likely: Extent) {
        // The maximum first (a loop that vectorises), then its lowest block.
        var longest: Int32 = 0
        for k in 0..<blockCount { longest = max(longest, blockLongest[k]) }
        // No extent is longer than the longest.
        otherExtentsBound = min(otherExtentsBound, Int(longest))
        if Int(longest) == likely.length {
            (contigHint, contigHintStart) = (likely.length, Int(likely.start))
            return
        }
        var block = 0
        while blockLongest[block] != longest { block &+= 1 }
        contigHint = Int(longest)
        contigHintStart = 0
        for i in Int(blockFirst[block])..<Int(blockFirst[block &+ 1]) where extents[i].length == contigHint {
            contigHintStart = Int(extents[i].start)
            break
        }
    }

    /// The next granule after `offset` where an allocation starts, or `limit` if none does
    /// before it.
    @inline(__always)
    private func nextStart(after offset: Int, before limit: Int) -> Int {
        var word = (offset &+ 1) &>> 6
        let lastWord = (limit &- 1) &>> 6
        guard word <= lastWord else { return limit }
        // Bits at or below `offset` in its own word are masked off.
        var bits = starts[word] & ~((1 &<< UInt64((offset &+ 1) & 63)) &- 1)
        while bits == 0 {
            word &+= 1
            guard word <= lastWord else { return limit }
            bits = starts[word]
        }
        return min(limit, (word &<< 6) &+ bits.trailingZeroBitCount)
    }

    /// The free extents, in address order (tests compare them with a model of every granule).
    var freeRanges: [Range<Int>] { (0..<extentCount).map { Int(extents[$0].start)..<Int(extents[$0].end) } }

    /// Whether the block index and the hints are what a walk of every extent finds, and the
    /// extents are ordered, apart and non-empty (tests check it after each change).
    var hintsAreConsistent: Bool {
        var longestExtent = 0
        var hintFound = false
        var free = 0
        var block = 0
        var blockMax = 0
        var blockSecond = 0
        for i in 0..<extentCount {
            let e = extents[i]
            guard e.length > 0, i == 0 || extents[i - 1].end < e.start else { return false }
            (free, longestExtent) = (free + e.length, max(longestExtent, e.length))
            // Close the blocks before this extent's: each counts the extents before it.
            while Int(e.start) >> Self.blockShift > block {
                guard Int(blockLongest[block]) == blockMax, Int(blockBound[block]) >= blockSecond,
                    Int(blockFirst[block + 1]) == i
                else { return false }
                (block, blockMax, blockSecond) = (block + 1, 0, 0)
            }
            (blockMax, blockSecond) = (max(blockMax, e.length), max(blockSecond, min(blockMax, e.length)))
        }
        while block < blockCount {
            guard Int(blockLongest[block]) == blockMax, Int(blockBound[block]) >= blockSecond,
                Int(blockFirst[block + 1]) == extentCount
            else { return false }
            (block, blockMax, blockSecond) = (block + 1, 0, 0)
        }
        for i in 0..<extentCount {
            if Int(extents[i].start) == contigHintStart && extents[i].length == contigHint {
                hintFound = true
            } else if extents[i].length > otherExtentsBound {
                return false
            }
        }
        // The padding after the last block holds nothing, so no scan stops in it.
        let padding = blockCount..<blockCount + Self.blockGroup - 1
        guard padding.allSatisfy({ blockLongest[$0] == 0 }) else { return false }
        return blockFirst[0] == 0 && contigHint == longestExtent && (longestExtent == 0 || hintFound)
            && freeGranules == free
    }
}
