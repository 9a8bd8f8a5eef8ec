/// The heads of a shard's keyed reuse pools, for keys too many for a direct array (areas above
/// `VmapAreas.smallPoolPages` pages, lazily unmapped `vm_map_ram` areas by their frames): a
/// flat open-addressing table from a non-negative key to an area id, with linear probing and a
/// multiplicative hash — a lookup is a multiply, a shift and a probe or two, where a `Dictionary`
/// runs SipHash. A key stays when its pool empties, until `clear` (the purge): each key is that
/// of an area still in the shard's busy tree, so the table never holds more keys than the shard
/// has areas, and a pool that empties and fills again (reuse, then free) costs no deletion and
/// no insertion.
///
/// Reference semantics, as `AreaTable`: owned by one `VmapShard.State`, never copied.
/// Unchecked Sendable: the storage is reached only under the owning shard's lock.
struct PoolTable: @unchecked Sendable {
    private final class Storage {
        /// `empty` or a key, per slot.
        var keys: UnsafeMutablePointer<Int>
        /// The pool head of the key in the same slot (-1: empty pool, or a free slot).
        var heads: UnsafeMutablePointer<Int32>
        /// Slots − 1 (a power of two less one).
        var mask: Int
        /// 64 − log2(slots): the hash's top bits index the slots.
        var hashShift: UInt64
        /// Slots that hold a key.
        var count = 0

        init(slots: Int) {
            mask = slots - 1
            hashShift = UInt64(64 - slots.trailingZeroBitCount)
            keys = .allocate(capacity: slots)
            keys.initialize(repeating: PoolTable.empty, count: slots)
            heads = .allocate(capacity: slots)
            heads.initialize(repeating: -1, count: slots)
        }

        deinit {
            keys.deallocate()
            heads.deallocate()
        }
    }

    /// The key of a free slot (keys are non-negative).
    private static let empty = Int.min
    private let storage = Storage(slots: 16)

    /// The slot holding key, or the free slot where it would go. Fibonacci hashing: the top bits
    /// of key × 2^64/φ, which spreads consecutive keys; then linear probing.
    @inline(__always)
    private func find(_ key: Int, in s: Storage) -> Int {
        var i = Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(key)) &* 0x9E37_79B9_7F4A_7C15) &>> s.hashShift)
        while s.keys[i] != key && s.keys[i] != Self.empty { i = (i &+ 1) & s.mask }
        return i
    }

    /// The head of the pool of `key` (≥ 0): an area id, or -1 when the pool is empty.
    subscript(key: Int) -> Int32 {
        @inline(__always) get {
            precondition(key >= 0, "pool key must be non-negative")
            let s = storage
            return s.heads[find(key, in: s)]
        }
        @inline(__always) nonmutating set {
            precondition(key >= 0, "pool key must be non-negative")
            let s = storage
            let i = find(key, in: s)
            if s.keys[i] == key {
                s.heads[i] = newValue
            } else if newValue >= 0 {
                insert(key, newValue, at: i)
            }
        }
    }

    /// The slot of `key` (≥ 0), for `head(at:)` and `setHead(at:_:)`: a lookup and an unlink
    /// of the head with one probe. Valid until the next insertion.
    @inline(__always)
    func slot(_ key: Int) -> Int {
        precondition(key >= 0, "pool key must be non-negative")
        return find(key, in: storage)
    }

    /// The head of the pool in `slot` (from `slot(_:)`): an area id, or -1 when the pool is
    /// empty or its key is absent.
    @inline(__always)
    func head(at slot: Int) -> Int32 { storage.heads[slot] }

    /// Set the head of the pool in `slot`, whose key is present (its head was ≥ 0).
    @inline(__always)
    func setHead(at slot: Int, _ head: Int32) { storage.heads[slot] = head }

    /// Make `head` the head of the pool of `key` (≥ 0, `head` ≥ 0) and return the previous head
    /// (-1: the pool was empty): a push onto the pool's chain with one probe.
    @inline(__always)
    func exchange(_ key: Int, _ head: Int32) -> Int32 {
        precondition(key >= 0 && head >= 0, "pool key and head must be non-negative")
        let s = storage
        let i = find(key, in: s)
        guard s.keys[i] == key else {
            insert(key, head, at: i)
            return -1
        }
        let old = s.heads[i]
        s.heads[i] = head
        return old
    }

    /// Put a new key in free slot `slot`, growing the table past three quarters full (so a probe
    /// soon ends at a free slot).
    private func insert(_ key: Int, _ head: Int32, at slot: Int) {
        let s = storage
        s.keys[slot] = key
        s.heads[slot] = head
        s.count += 1
        guard s.count * 4 > (s.mask + 1) * 3 else { return }
        let (oldKeys, oldHeads, oldSlots) = (s.keys, s.heads, s.mask + 1)
        let slots = oldSlots * 2
        s.mask = slots - 1
        s.hashShift -= 1
        s.keys = .allocate(capacity: slots)
        s.keys.initialize(repeating: Self.empty, count: slots)
        s.heads = .allocate(capacity: slots)
        s.heads.initialize(repeating: -1, count: slots)
        for i in 0..<oldSlots where oldKeys[i] != Self.empty {
            let j = find(oldKeys[i], in: s)
            s.keys[j] = oldKeys[i]
            s.heads[j] = oldHeads[i]
        }
        oldKeys.deallocate()
        oldHeads.deallocate()
    }

    /// Call `body` with the head of every pool that holds an area.
    func forEachHead(_ body: (Int32) -> Void) {
        let s = storage
        for i in 0...s.mask where s.keys[i] != Self.empty && s.heads[i] >= 0 { body(s.heads[i]) }
    }

    /// Empty every pool and forget every key; the slots stay allocated.
    func clear() {
        let s = storage
        guard s.count > 0 else { return }
        s.keys.update(repeating: Self.empty, count: s.mask + 1)
        s.heads.update(repeating: -1, count: s.mask + 1)
        s.count = 0
    }
}
