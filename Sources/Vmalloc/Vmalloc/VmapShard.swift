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
