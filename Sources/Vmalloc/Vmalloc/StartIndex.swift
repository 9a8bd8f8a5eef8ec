/// A shard's areas by where their owners start, so that `vfree` and a lookup by an area's exact
/// start (`VmapShard.State.live(at:)`) find the area in O(1) instead of walking the busy tree.
/// The busy tree stays for lookups of interior addresses (`find_vm_area`, fault reports).
///
/// Each area of the shard is entered under its owner's start when it is stored and keeps that
/// key while it is lazily freed (a revival for an owner of another size moves it), until its
/// record is taken: so a hit names an area that may be lazily freed, and callers check
/// `state`. No two areas share a key: an area's owner starts inside its own VA, and the VA of
/// the areas of the busy tree never overlaps.
///
/// Open addressing with linear probing over a power-of-two table at most half full, deletion by
/// backward shift (no tombstones, so a lookup stops at the first empty slot).
/// Reference semantics, as `AreaTable`: owned by one `VmapShard.State`, never copied.
/// Unchecked Sendable: the storage is reached only under the owning shard's lock.
struct StartIndex: @unchecked Sendable {
    private struct Slot {
        /// A region offset (≥ 0), or -1 when the slot is empty.
        var start: Int
        var id: Int32
    }

    private final class Storage {
        var slots: UnsafeMutablePointer<Slot>
        var capacity: Int
        /// 64 − log2(capacity): the top bits of the product are the home slot (Fibonacci hashing).
        var shift: Int
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            shift = Int.bitWidth - capacity.trailingZeroBitCount
            slots = .allocate(capacity: capacity)
            slots.initialize(repeating: Slot(start: -1, id: -1), count: capacity)
        }

        deinit { slots.deallocate() }

        /// The slot where the probe for `start` begins.
        @inline(__always)
        func home(_ start: Int) -> Int {
            // Starts are page-aligned: the page number carries all the entropy. Wrapping: a hash.
            Int(bitPattern: ((UInt(bitPattern: start) &>> 12) &* 0x9E37_79B9_7F4A_7C15) &>> UInt(bitPattern: shift))
        }
    }

    private let storage = Storage(capacity: 64)

    /// The id entered under `start`, or -1.
    @inline(__always)
    func id(at start: Int) -> Int32 {
        let s = storage
        let mask = s.capacity &- 1
        var i = s.home(start)
        while true {
            let slot = s.slots[i]
            if slot.start == start { return slot.id }
            if slot.start < 0 { return -1 }
            i = (i &+ 1) & mask
        }
    }

    /// Enter `id` under `start`, which no entry has.
    func insert(_ start: Int, _ id: Int32) {
        let s = storage
        if (s.count + 1) * 2 > s.capacity { grow() }
        let mask = s.capacity &- 1
        var i = s.home(start)
        while s.slots[i].start >= 0 {
            precondition(s.slots[i].start != start, "two areas under one start")
            i = (i &+ 1) & mask
        }
        s.slots[i] = Slot(start: start, id: id)
        s.count += 1
    }

    /// Remove the entry under `start`, if any.
    func remove(_ start: Int) {
        let s = storage
        let mask = s.capacity &- 1
        var i = s.home(start)
        while s.slots[i].start != start {
            if s.slots[i].start < 0 { return }
            i = (i &+ 1) & mask
        }
        // Backward shift: move each later entry of the cluster whose home does not lie
        // cyclically in (i, j] into the hole, so every entry stays reachable from its home.
        var j = i
        while true {
            j = (j &+ 1) & mask
            let slot = s.slots[j]
            if slot.start < 0 { break }
            let h = s.home(slot.start)
            let reachable = i <= j ? (h > i && h <= j) : (h > i || h <= j)
            if !reachable {
                s.slots[i] = slot
                i = j
            }
        }
        s.slots[i].start = -1
        s.count -= 1
    }

    /// Double the table and enter every entry again.
    private func grow() {
        let s = storage
        let old = s.slots
        let oldCapacity = s.capacity
        s.capacity *= 2
        s.shift -= 1
        s.slots = .allocate(capacity: s.capacity)
        s.slots.initialize(repeating: Slot(start: -1, id: -1), count: s.capacity)
        let mask = s.capacity &- 1
        for k in 0..<oldCapacity where old[k].start >= 0 {
            var i = s.home(old[k].start)
            while s.slots[i].start >= 0 { i = (i &+ 1) & mask }
            s.slots[i] = old[k]
        }
        old.deallocate()
    }
}
