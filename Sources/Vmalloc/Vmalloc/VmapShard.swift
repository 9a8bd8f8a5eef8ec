import CShim
import Synchronization

/// One slice of the vmalloc region with its own lock (the kernel's `vmap_node`, 2024): the
/// free-VA tree of the slice, its busy areas, and its lazily freed areas. Threads allocate from
/// their home slice, so the vmalloc/vfree fast path of one thread never contends
/// with another's.
final class VmapShard: Sendable {
    struct State {
        var free = RangeTree()
        var busy = RangeTree()
        /// Area records by id; vacant slots hold `AreaRecord.vacant` (no Optional to copy).
        var records = AreaTable()
        /// Every stored area's id by its owner's start: vfree's lookup. An area is entered when
        /// it is stored and keeps its entry while lazily freed (a revival for an owner of another
        /// size moves it) until its record is taken: a hit may name a lazily freed area, so
        /// callers check `state`. No two areas share a start: an owner starts inside its own
        /// area's VA, and the areas' VA never overlaps.
        var starts: StartIndex
        var vacantIDs: [Int32] = []
        /// Lazily freed areas that no reuse pool holds: still mapped, still holding their frames,
        /// still in `busy`. Linked through the records, oldest first. (Pooled ones are reached
        /// through the pools: a reuse then touches one list, not two.)
        var lazyHead: Int32 = -1
        var lazyTail: Int32 = -1
        /// Lazily freed plain areas by (class pages, node): the newest area's id, the rest
        /// chained through `AreaRecord.nextReusable` (no arrays to copy on the fast path). Pools
        /// of up to `VmapAreas.smallPoolPages` pages index `smallPools` directly, one row per node
        /// slot, as the kernel's per-node pools do (`MAX_VA_SIZE_PAGES`); larger ones are keyed in
        /// `largePools`. `VmapAreas.PoolKey` says which. An aligned request takes an area of its
        /// class whose owner start is aligned enough (`VmapAreas.reuseLazy`), so alignment is no
        /// part of the key.
        var smallPools: PoolHeads
        var largePools = IDTable()
        /// Lazily unmapped `vm_map_ram` areas by (first frame, frame count)
        /// (`VmapAreas.mapRamKey`), chained the same way; a hit is checked frame by frame.
        var mapRamPools = IDTable()
        var lazyMapRamPages = 0
        /// Lazily unmapped `vm_map_ram` areas in `mapRamPools`. While it is above 0,
        /// `countsAliases` is set, so the allocator purges before a frame changes hands.
        var lazyMapRamAreas = 0
        /// Whether the shard counts one in the page allocator's `lazyAliases`. Set under the
        /// shard lock when an area starts to linger; cleared only by a purge (under the space's
        /// `aliasPurge` lock too), not when the last lingering area is mapped again: a
        /// `vm_map_ram`/`vm_unmap_ram` loop then writes no line that other threads share (the
        /// count would flip on every round). A frame free that finds the count above 0 purges
        /// only the shards that count, and one that lingers no more just leaves the count.
        var countsAliases = false
        /// The area last freed onto a small pool and that pool's `smallPools` index, or -1 once
        /// `reuseHot` took it: the area vmalloc's reuse tries first. A purge or another reuse
        /// may take it off its pool meanwhile, so a use checks that it is still the pool's newest.
        var hot: Int32 = -1
        var hotSlot = 0

        /// Empty pools for `nodes` nodes, and an empty start index of the slice [start, start + size).
        init(start: Int, size: Int, nodes: Int) throws(MemorySystemError) {
            smallPools = PoolHeads(count: (nodes + 1) * VmapAreas.smallPoolPages)
            starts = try StartIndex(start: start, size: size)
        }

        @inline(__always)
        func pool(_ key: VmapAreas.PoolKey) -> Int32 {
            key.small >= 0 ? smallPools[trusted: key.small] : largePools[key.large]
        }

        @inline(__always)
        mutating func setPool(_ key: VmapAreas.PoolKey, _ id: Int32) {
            if key.small >= 0 { smallPools[trusted: key.small] = id } else { largePools[key.large] = id }
        }

        /// Put lazily freed plain area `id` (at `a`) on top of pool `key`: the next reuse takes it.
        /// The newest area of a small pool becomes the shard's `hot` one.
        @inline(__always)
        mutating func pushPool(_ id: Int32, at a: UnsafeMutablePointer<AreaRecord>, _ key: VmapAreas.PoolKey) {
            a.pointee.nextReusable = pool(key)
            setPool(key, id)
            if key.small >= 0 {
                hot = id
                hotSlot = key.small
            }
        }

        /// Whether the shard's lazily freed pages are past its `share` of the lazy threshold: the
        /// free that made them so purges the shard (`VmallocSpace.purgeIfDue`).
        @inline(__always)
        func pastLazyShare(_ share: Int) -> Bool { lazyPages &+ lazyMapRamPages > share }

        /// Take the newest area off pool `key` and make it live for a new owner of `pages` pages
        /// who asked for `requested` bytes (`revive`); nil when the pool is empty, else where the
        /// owner starts. vmalloc's reuse and vrealloc's move (`VmapAreas.moveLocked`) both take
        /// their area here. With `tryHot` (size classes, where an owner's pages are its area's last
        /// and the guard follows them whatever their count), the shard's hot area first.
        @inline(__always)
        mutating func reusePooled(
            _ key: VmapAreas.PoolKey, pages: Int, requested: Int, caller: CallSite, pageTable: PageTable, tryHot: Bool
        ) -> Int? {
            // A hot area of the request's own pool is that pool's newest: the plain take below.
            if tryHot, hotSlot != key.small,
                let start = reuseHot(key, pages: pages, requested: requested, caller: caller, pageTable: pageTable)
            {
                return start
            }
            let id = pool(key)
            guard id >= 0 else { return nil }
            let a = records.at(trusted: id)
            setPool(key, a.pointee.nextReusable)
            return revive(id, at: a, pages: pages, requested: requested, caller: caller, pageTable: pageTable)
        }

        /// The shard's `hot` area, the plain area freed last onto a small pool, made live for a
        /// new owner of `pages` pages on `key`'s node when its class holds them and the lead it
        /// leaves is a quarter of the class or fits the shard's `hotSlackBudget`; nil otherwise.
        /// Why before the class's own pool: a loop of mixed sizes then keeps reusing the frames
        /// it touched last, as the kernel's vmalloc takes the hot pages of the per-CPU lists
        /// whatever the size. With one area per class it touched every class's frames in turn:
        /// several times the pages, past what the CPU's caches hold (random_size_alloc_test's
        /// 1–100 pages: 22 classes, 730 frames).
        @inline(__always)
        private mutating func reuseHot(
            _ key: VmapAreas.PoolKey, pages: Int, requested: Int, caller: CallSite, pageTable: PageTable
        ) -> Int? {
            let id = hot
            guard id >= 0 else { return nil }
            let a = records.at(trusted: id)
            let frames = a.pointee.classPages
            let lead = frames &- pages
            // Still the newest of its pool (a reuse, a purge or an aligned take may have taken it).
            guard lead >= 0, a.pointee.node == key.node, smallPools[trusted: hotSlot] == id,
                lead &<< 2 <= frames || slackPages &+ lead <= VmapAreas.hotSlackBudget
            else { return nil }
            smallPools[trusted: hotSlot] = a.pointee.nextReusable
            hot = -1
            return revive(id, at: a, pages: pages, requested: requested, caller: caller, pageTable: pageTable)
        }

        /// Take off pool `key` the newest of its first `probe` areas whose address `lead` bytes
        /// past its offset is aligned to `align`; -1 when there is none. Out of line: only aligned
        /// requests walk a pool.
        @inline(never)
        mutating func takeAligned(_ key: VmapAreas.PoolKey, lead: Int, align: Int, probe: Int) -> Int32 {
            var prev: Int32 = -1
            var id = pool(key)
            for _ in 0..<probe {
                guard id >= 0 else { return -1 }
                let a = records.at(id)
                if (lead &+ a.pointee.offset) & (align &- 1) == 0 {
                    if prev >= 0 {
                        records.at(prev).pointee.nextReusable = a.pointee.nextReusable
                    } else {
                        setPool(key, a.pointee.nextReusable)
                    }
                    return id
                }
                prev = id
                id = a.pointee.nextReusable
            }
            return -1
        }

        /// Take off pool `key` of `mapRamPools` the first area that maps exactly `list` (the
        /// chain holds every area whose frames share the key) and make it live again for
        /// `caller`, its PTEs back; -1 when there is none, else where it starts. Inlined into
        /// vm_map_ram: a remap of the same page list is its common case.
        @inline(__always)
        mutating func reviveMapRam(_ key: Int, _ list: [Page], caller: CallSite, pageTable: PageTable) -> Int {
            let slot = mapRamPools.slot(key)
            var prev: Int32 = -1
            var id = mapRamPools.id(at: slot)
            while id >= 0 {
                let a = records.at(id)
                if Self.remap(a, list, pageTable: pageTable) {
                    if prev >= 0 {
                        records.at(prev).pointee.nextReusable = a.pointee.nextReusable
                    } else {
                        mapRamPools.setID(at: slot, a.pointee.nextReusable)
                    }
                    lazyMapRamAreas &-= 1
                    lazyMapRamPages &-= a.pointee.classPages
                    a.pointee.state = .live
                    a.pointee.caller = caller
                    // A vm_map_ram area has no lead: its owner starts at its offset.
                    return a.pointee.offset
                }
                prev = id
                id = a.pointee.nextReusable
            }
            return -1
        }

        /// Whether lazily unmapped `vm_map_ram` area `a` maps exactly `list`; if so its PTEs are
        /// back: as one run through its PTE table when it has one (`directPTE`), else stored from
        /// the list in one pass (scattered frames: no work per run).
        @inline(__always)
        private static func remap(_ a: UnsafeMutablePointer<AreaRecord>, _ list: [Page], pageTable: PageTable) -> Bool {
            guard AreaRecord.maps(a, exactly: list) else { return false }
            if let t = UnsafeMutablePointer<UInt64>(bitPattern: a.pointee.directPTE) {
                // Page k maps `directPfn + k`; a pfn and a count are never negative.
                vmshim_pte_set(
                    t, 0, UInt64(truncatingIfNeeded: a.pointee.directPfn), UInt64(truncatingIfNeeded: list.count))
                return true
            }
            list.withUnsafeBufferPointer { frames in
                // A `Page` is its pfn, one word: the list is an array of words.
                assert(MemoryLayout<Page>.stride == MemoryLayout<Int64>.stride)
                let pfns = UnsafeRawPointer(frames.baseAddress!).assumingMemoryBound(to: Int64.self)
                pageTable.set(leaf: a.pointee.leafTable, offset: a.pointee.offset, pfns: pfns, count: frames.count)
            }
            return true
        }

        /// Put lazily unmapped `vm_map_ram` area `id` (at `a`) on its pool (`VmapAreas.mapRamKey`).
        /// Returns whether the shard did not count in the page allocator's `lazyAliases`: the
        /// caller then adds it, under the same lock. Inlined into vm_unmap_ram's fast path.
        @inline(__always)
        mutating func poolMapRam(_ id: Int32, at a: UnsafeMutablePointer<AreaRecord>) -> Bool {
            // With a `directPTE`, page 0 maps `directPfn`: the first frame without the runs array.
            let first = a.pointee.directPTE != 0 ? a.pointee.directPfn : a.pointee.runs[0].pfn
            let key = VmapAreas.mapRamKey(firstPfn: first, count: a.pointee.nrPages)
            a.pointee.nextReusable = mapRamPools.exchange(key, id)
            lazyMapRamPages &+= a.pointee.classPages
            lazyMapRamAreas &+= 1
            guard !countsAliases else { return false }
            countsAliases = true
            return true
        }
        var lazyPages = 0
        var vmallocPages = 0
        /// Frames held by live areas past their owners' pages (see `SizeClass`).
        var slackPages = 0
        var reused = 0
        /// A ring of the latest freed areas, for use-after-free reports.
        var freedRing: [FreedArea] = []
        var freedNext = 0
        static let freedRingSize = 256

        /// Keep a new live area's record; returns its id.
        mutating func store(_ r: AreaRecord) -> Int32 {
            let id: Int32
            if let v = vacantIDs.popLast() {
                id = v
                records.at(id).pointee = r
            } else {
                records.append(r)
                id = Int32(records.count - 1)
            }
            starts.insert(r.start, id)
            return id
        }

        /// Empty slot `id` and return what it held (moved out, not copied).
        mutating func take(_ id: Int32) -> AreaRecord {
            var r = AreaRecord.vacant
            swap(&r, &records.at(id).pointee)
            starts.remove(r.start)
            vacantIDs.append(id)
            return r
        }

        /// The live area whose owner's pages or guard contain offset, or nil (lazily freed areas
        /// and the lead of a class area count as absent).
        func live(containing offset: Int) -> Int32? {
            guard let e = busy.floor(offset), offset < e.end, records.at(e.value).pointee.state == .live,
                offset >= records.at(e.value).pointee.start
            else { return nil }
            return e.value
        }

        /// The live area whose owner starts exactly at offset, or nil: one probe of `starts`
        /// (inlined: `vrealloc` in place is this, a field write and the lock).
        @inline(__always)
        func live(at offset: Int) -> Int32? {
            let id = starts[offset]
            guard id >= 0, records.at(trusted: id).pointee.state == .live else { return nil }
            return id
        }

        /// Append a just freed area that no pool takes to the lazy list.
        mutating func linkLazy(_ id: Int32) {
            records.at(id).pointee.lazyNext = -1
            if lazyTail >= 0 { records.at(lazyTail).pointee.lazyNext = id } else { lazyHead = id }
            lazyTail = id
        }

        /// The ids of the lazily freed areas outside the small pools: the lazy list, oldest
        /// first, then the large and `vm_map_ram` pools.
        private var unpooledLazyIDs: [Int32] {
            var out: [Int32] = []
            var id = lazyHead
            while id >= 0 {
                out.append(id)
                id = records.at(id).pointee.lazyNext
            }
            largePools.forEachID { appendPool($0, to: &out) }
            mapRamPools.forEachID { appendPool($0, to: &out) }
            return out
        }

        /// Append the ids of the pool chain that starts at `head`.
        private func appendPool(_ head: Int32, to out: inout [Int32]) {
            var id = head
            while id >= 0 {
                out.append(id)
                id = records.at(id).pointee.nextReusable
            }
        }

        /// Every lazily freed area's id.
        var lazyIDs: [Int32] {
            var out = unpooledLazyIDs
            smallPools.forEachHead { appendPool($0, to: &out) }
            return out
        }

        /// The ids a purge at the lazy threshold takes (`decay_va_pool_node` without full decay):
        /// every lazily freed area that no small pool holds, and the newest part of each small
        /// pool, whose older areas stay pooled with their frames. So a flood of frees past the
        /// threshold (kvfree_rcu's batches) leaves much of what the next vmallocs reuse mapped,
        /// where taking everything would make each of them map a new area. Each pool gives at
        /// least a quarter, rounded up (the kernel's rounds down, but its pools hold no frames
        /// and count in no threshold), and enough that the shard keeps about `keep` lazy pages:
        /// the next purge is then many frees away. Were the shard left just under its threshold,
        /// a loop of vmalloc and vfree over a big pool would purge (one unmap per area) again
        /// and again.
        mutating func decayIDs(keeping keep: Int) -> [Int32] {
            let records = records
            var out = unpooledLazyIDs
            // Each small pool gives the share of its areas that the shard must lose: own - keep
            // of own pages.
            let own = max(lazyPages, 1)
            let excess = max(own - keep, 0)
            smallPools.updateHeads { head in
                var length = 0
                var id = head
                while id >= 0 {
                    length += 1
                    id = records.at(id).pointee.nextReusable
                }
                id = head
                for _ in 0..<max((length + 3) >> 2, (length * excess + own - 1) / own) {
                    out.append(id)
                    id = records.at(id).pointee.nextReusable
                }
                return id
            }
            return out
        }

        mutating func remember(_ id: Int32) {
            // A ring: vfree's fast path must not shift the whole history.
            let f = summary(id)
            if freedRing.count < Self.freedRingSize { freedRing.append(f) } else { freedRing[freedNext] = f }
            freedNext = (freedNext + 1) % Self.freedRingSize
        }

        /// The remembered freed areas, newest first.
        var freedNewestFirst: [FreedArea] {
            let n = freedRing.count
            return (0..<n).map { freedRing[(freedNext - 1 - $0 + 2 * n) % n] }
        }

        /// What lies at offset, for a fault report: in a live area's guard page, the overflow
        /// of that area or the underflow of the next one, whichever lies nearer; else inside a
        /// remembered freed area; else nil (also for a fault in a live area's own pages). A
        /// lazily freed area counts as absent: a fault in its guard page is a use after free.
        func faultSite(at offset: Int) -> VmapAreas.FaultSite? {
            let page = PhysicalMemory.pageSize
            if let id = live(containing: offset), let e = busy.floor(offset) {
                let r = records.at(id)
                guard offset >= r.pointee.start + r.pointee.nrPages * page else { return nil }
                let right = offset - (r.pointee.start + r.pointee.requested)
                var next = busy.ceiling(offset)
                while let n = next, records.at(n.value).pointee.state != .live { next = busy.ceiling(n.end) }
                if let next, records.at(next.value).pointee.start - offset <= right {
                    let left = records.at(next.value).pointee.start - offset
                    return .underflow(bytes: left, of: summary(next.value))
                }
                return .overflow(bytes: right, of: summary(e.value))
            }
            if let f = freedNewestFirst.first(where: { offset >= $0.offset && offset < $0.offset + $0.size }) {
                return .useAfterFree(bytes: offset - f.offset, of: f)
            }
            return nil
        }

        /// Area `id` as a fault report names it, read field by field in place.
        @inline(__always)
        private func summary(_ id: Int32) -> FreedArea {
            let r = records.at(id)
            return FreedArea(
                offset: r.pointee.start, size: r.pointee.reportedSize, requested: r.pointee.requested,
                caller: r.pointee.caller)
        }

        /// Make lazily freed plain area `id` (at `a`, from `records.at(id)`), already taken off its
        /// reuse pool, live again for a new owner of `pages` pages (any count of its class) who
        /// asked for `requested` bytes: the PTEs of the class's last `pages` pages back (it never
        /// left the busy tree; its guard, page `classPages`, never moved). Returns where the owner
        /// starts. Fields are read in place: no record copy, no retain on this path. Inlined into
        /// vmalloc's reuse: an owner of the previous owner's size whose PTEs lie in one table (the
        /// common reuse) stores them here, and only the other cases call out.
        @inline(__always)
        mutating func revive(
            _ id: Int32, at a: UnsafeMutablePointer<AreaRecord>, pages: Int, requested: Int, caller: CallSite,
            pageTable: PageTable
        ) -> Int {
            a.pointee.requested = requested
            // Counts and offsets below are bounded by the region's pages and bytes (pages ≤ the
            // class's frames), so wrapping operators cannot wrap; they skip the overflow traps.
            let frames = a.pointee.classPages
            let first = frames &- pages
            let start = a.pointee.offset &+ first &<< Int(VMSHIM_PAGE_SHIFT)
            // The owner starts elsewhere in the class: move its entry.
            if pages != a.pointee.nrPages { moveStart(at: a, to: start, pages: pages) }
            a.pointee.state = .live
            a.pointee.caller = caller
            lazyPages &-= frames
            vmallocPages &+= pages
            slackPages &+= first
            reused &+= 1
            if let t = UnsafeMutablePointer<UInt64>(bitPattern: a.pointee.directPTE) {
                // Non-negative by the invariant above: the bit pattern is the value.
                vmshim_pte_set(
                    t, UInt64(truncatingIfNeeded: first), UInt64(truncatingIfNeeded: a.pointee.directPfn &+ first),
                    UInt64(truncatingIfNeeded: pages))
            } else {
                Self.mapOwner(a, from: first, pageTable: pageTable)
            }
            return start
        }

        /// Enter revived area `id` (at `a`) under its new owner's start, of `pages` pages.
        @inline(__always)
        private mutating func moveStart(at a: UnsafeMutablePointer<AreaRecord>, to start: Int, pages: Int) {
            starts.rekey(
                from: a.pointee.offset &+ (a.pointee.classPages &- a.pointee.nrPages) &<< Int(VMSHIM_PAGE_SHIFT),
                to: start)
            a.pointee.nrPages = pages
        }

        /// Store the PTEs of area `a`'s pages from page `first` on, run by run (an area without
        /// `directPTE`).
        @inline(never)
        private static func mapOwner(_ a: UnsafeMutablePointer<AreaRecord>, from first: Int, pageTable: PageTable) {
            // Run by run and field by field, in place: passing the record or its runs array, or
            // reading a computed property of it, copies it (and retains its arrays).
            let base = a.pointee.offset
            let leaf = a.pointee.leafTable
            for k in 0..<a.pointee.runs.count {
                pageTable.mapOwner(a.pointee.runs[k], from: first, base: base, leaf: leaf)
            }
        }

        /// Give VA back, merging with its free neighbours (`merge_or_add_vmap_area`).
        mutating func freeVA(offset: Int, size: Int) {
            var start = offset
            var end = offset + size
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

    /// Cache-line padding on both sides of the lock and its state: shards are allocated one
    /// after the other, and two threads working in their own shards must not write one line.
    private let padBefore = CacheLinePad()
    let state: Lock<State>
    private let padAfter = CacheLinePad()

    /// The slice [start, start + size) of the region, with pools for `nodes` nodes.
    init(start: Int, size: Int, nodes: Int) throws(MemorySystemError) {
        var s = try State(start: start, size: size, nodes: nodes)
        s.free.insert(start: start, size: size)
        state = Lock(s)
    }
}
