/// The heads of a shard's direct reuse pools: one per node slot (`NUMA_NO_NODE` first, then
/// each node) and class of up to `VmapAreas.smallPoolPages` pages, an area id or -1 each, in
/// storage the fast path writes through a pointer with no uniqueness check (an `Array` checks on
/// every write).
///
/// Reference semantics, as `AreaTable`: owned by one `VmapShard.State`, never copied.
/// Unchecked Sendable: the storage is reached only under the owning shard's lock.
struct PoolHeads: @unchecked Sendable {
    private final class Storage {
        let heads: UnsafeMutablePointer<Int32>
        let count: Int

        init(count: Int) {
            self.count = count
            heads = .allocate(capacity: count)
            heads.initialize(repeating: -1, count: count)
        }

        deinit { heads.deallocate() }
    }

    private let storage: Storage

    /// `count` empty pools.
    init(count: Int) { storage = Storage(count: count) }

    /// The head of pool `i` (0 ≤ i < the pool count).
    subscript(i: Int) -> Int32 {
        get {
            precondition(i >= 0 && i < storage.count, "pool index out of range")
            return storage.heads[i]
        }
        nonmutating set {
            precondition(i >= 0 && i < storage.count, "pool index out of range")
            storage.heads[i] = newValue
        }
    }

    /// Pool `i`'s head without the range check, for an index that `VmapAreas.PoolKey` computed
    /// from a checked node and a small class: in range by construction (the fast paths).
    subscript(trusted i: Int) -> Int32 {
        @inline(__always) get { storage.heads[i] }
        @inline(__always) nonmutating set { storage.heads[i] = newValue }
    }

    /// Call `body` with every head that holds an area, in pool order (no copy of the heads).
    func forEachHead(_ body: (Int32) -> Void) {
        for i in 0..<storage.count where storage.heads[i] >= 0 { body(storage.heads[i]) }
    }

    /// Replace every head that holds an area by `body(head)`, in pool order (a purge's decay).
    func updateHeads(_ body: (Int32) -> Int32) {
        for i in 0..<storage.count where storage.heads[i] >= 0 { storage.heads[i] = body(storage.heads[i]) }
    }

    /// Empty every pool.
    func clear() { storage.heads.update(repeating: -1, count: storage.count) }
}
