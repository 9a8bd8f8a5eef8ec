/// A shard's map from a non-negative key to an area id: its areas by owner start (`vfree`'s
/// O(1) lookup; the busy tree stays for interior addresses), and the heads of its keyed reuse
/// pools (areas above `VmapAreas.smallPoolPages` pages, lazily unmapped `vm_map_ram` areas by
/// their frames). A flat open-addressing table with linear probing and Fibonacci hashing: a
/// lookup is a multiply, a shift and a probe or two, where a `Dictionary` runs SipHash. At most
/// half full, so a probe soon ends; removal shifts the cluster back (no tombstones, so a lookup
/// stops at the first free slot).
///
/// A pool's key may stay with an empty pool (id -1) until `clear` (the purge): each such key is
/// that of an area still in the shard's busy tree, so the table never holds more keys than the
/// shard has areas, and a pool that empties and fills again costs no removal and no insertion.
///
/// `PerCPUAllocator` uses one per group the same way, for its chunks' positions by base (the
/// kernel's `pcpu_chunk_addr_search`).
///
/// Reference semantics, as `AreaTable`: owned by one `VmapShard.State` (or per-CPU group state),
/// never copied. Unchecked Sendable: the storage is reached only under the owner's lock.
struct IDTable: @unchecked Sendable {
    private struct Slot {
        /// A key (≥ 0), or `empty`.
        var key: Int
        /// The key's id (-1: none, as an empty pool's head).
        var id: Int32
    }

    private final class Storage {
        var slots: UnsafeMutablePointer<Slot>
        /// Slots − 1 (a power of two less one).
        var mask: Int
        /// 64 − log2(slots): the hash's top bits index the slots.
        var hashShift: UInt64
        /// Slots that hold a key.
        var count = 0

        init(slots: Int) {
            mask = slots - 1
            hashShift = UInt64(64 - slots.trailingZeroBitCount)
            self.slots = .allocate(capacity: slots)
            self.slots.initialize(repeating: Slot(key: IDTable.empty, id: -1), count: slots)
        }

        deinit { slots.deallocate() }

        /// The slot where the probe for `key` begins: the top bits of key × 2^64/φ, the key
        /// rotated right by a page shift first, so that page-aligned keys (owner starts) carry
        /// their entropy in the product's top bits as consecutive ones (pool keys) do.
        @inline(__always)
        func home(_ key: Int) -> Int {
            let k = UInt64(bitPattern: Int64(key))
            let rotated = k &>> 12 | k &<< 52
            return Int(truncatingIfNeeded: (rotated &* 0x9E37_79B9_7F4A_7C15) &>> hashShift)
        }

        /// The slot holding `key`, or the free slot where it would go.
        @inline(__always)
        func find(_ key: Int) -> Int {
            var i = home(key)
            while slots[i].key != key && slots[i].key != IDTable.empty { i = (i &+ 1) & mask }
            return i
        }
    }

    /// The key of a free slot (keys are non-negative).
    private static let empty = Int.min
    private let storage = Storage(slots: 16)

    /// The id of `key`, or -1 when it has none (a negative key has none: the probe ends at a
    /// free slot, whose id is -1; so lookups need no check, as vfree's takes any address).
    subscript(key: Int) -> Int32 {
        @inline(__always) get {
            let s = storage
            return s.slots[s.find(key)].id
        }
        @inline(__always) nonmutating set {
            precondition(key >= 0, "table key must be non-negative")
            let s = storage
            let i = s.find(key)
            if s.slots[i].key == key {
                s.slots[i].id = newValue
            } else if newValue >= 0 {
                insert(key, newValue, at: i)
            }
        }
    }

    /// Enter `id` (≥ 0) under `key` (≥ 0), which no entry has.
    func insert(_ key: Int, _ id: Int32) {
        precondition(key >= 0 && id >= 0, "table key and id must be non-negative")
        let s = storage
        let i = s.find(key)
        precondition(s.slots[i].key != key, "two entries under one key")
        insert(key, id, at: i)
    }

    /// The slot of `key` (≥ 0), for `id(at:)` and `setID(at:_:)`: a lookup and an unlink of a
    /// pool's head with one probe. Valid until the next insertion or removal.
    @inline(__always)
    func slot(_ key: Int) -> Int {
        precondition(key >= 0, "table key must be non-negative")
        return storage.find(key)
    }

    /// The id in `slot` (from `slot(_:)`): -1 when its key is absent or has none.
    @inline(__always)
    func id(at slot: Int) -> Int32 { storage.slots[slot].id }

    /// Set the id in `slot`, whose key is present.
    @inline(__always)
    func setID(at slot: Int, _ id: Int32) { storage.slots[slot].id = id }

    /// Make `id` (≥ 0) the id of `key` (≥ 0) and return the previous one (-1: none): a push
    /// onto a pool's chain with one probe.
    @inline(__always)
    func exchange(_ key: Int, _ id: Int32) -> Int32 {
        precondition(key >= 0 && id >= 0, "table key and id must be non-negative")
        let s = storage
        let i = s.find(key)
        guard s.slots[i].key == key else {
            insert(key, id, at: i)
            return -1
        }
        let old = s.slots[i].id
        s.slots[i].id = id
        return old
    }

    /// Remove `key`'s entry, if any.
    func remove(_ key: Int) {
        let s = storage
        let i = s.find(key)
        guard s.slots[i].key == key else { return }
        vacate(i)
        s.count -= 1
    }

    /// Empty `slot` (holding a key), keeping every other entry reachable; the count is the
    /// caller's to update.
    @inline(__always)
    private func vacate(_ slot: Int) {
        let s = storage
        var i = slot
        // Backward shift: move each later entry of the cluster whose home does not lie
        // cyclically in (i, j] into the hole, so every entry stays reachable from its home.
        var j = i
        while true {
            j = (j &+ 1) & s.mask
            let slot = s.slots[j]
            if slot.key == Self.empty { break }
            let h = s.home(slot.key)
            let reachable = i <= j ? (h > i && h <= j) : (h > i || h <= j)
            if !reachable {
                s.slots[i] = slot
                i = j
            }
        }
        s.slots[i] = Slot(key: Self.empty, id: -1)
    }

    /// Put a new key in free slot `slot`, doubling the table past half full.
    private func insert(_ key: Int, _ id: Int32, at slot: Int) {
        let s = storage
        s.slots[slot] = Slot(key: key, id: id)
        s.count += 1
        guard s.count * 2 > s.mask + 1 else { return }
        let (old, oldSlots) = (s.slots, s.mask + 1)
        let slots = oldSlots * 2
        s.mask = slots - 1
        s.hashShift -= 1
        s.slots = .allocate(capacity: slots)
        s.slots.initialize(repeating: Slot(key: Self.empty, id: -1), count: slots)
        for i in 0..<oldSlots where old[i].key != Self.empty { s.slots[s.find(old[i].key)] = old[i] }
        old.deallocate()
    }

    /// Call `body` with every id ≥ 0 (each pool's head).
    func forEachID(_ body: (Int32) -> Void) {
        let s = storage
        for i in 0...s.mask where s.slots[i].key != Self.empty && s.slots[i].id >= 0 { body(s.slots[i].id) }
    }

    /// Forget every key; the slots stay allocated.
    func clear() {
        let s = storage
        guard s.count > 0 else { return }
        s.slots.update(repeating: Slot(key: Self.empty, id: -1), count: s.mask + 1)
        s.count = 0
    }
}
