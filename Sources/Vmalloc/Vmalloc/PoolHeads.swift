/// The heads of a shard's small reuse pools (one per class of up to `VmapAreas.smallPoolPages`
/// pages): an area id or -1 each, in storage the fast path writes through a pointer with no
/// uniqueness check (an `Array` checks on every write).
///
/// Reference semantics, as `AreaTable`: owned by one `VmapShard.State`, never copied.
/// Unchecked Sendable: the storage is reached only under the owning shard's lock.
struct PoolHeads: @unchecked Sendable {
    private final class Storage {
        let heads: UnsafeMutablePointer<Int32>

        init() {
            heads = .allocate(capacity: VmapAreas.smallPoolPages)
            heads.initialize(repeating: -1, count: VmapAreas.smallPoolPages)
        }

        deinit { heads.deallocate() }
    }

    private let storage = Storage()

    /// The head of pool `i` (0 ≤ i < `VmapAreas.smallPoolPages`).
    subscript(i: Int) -> Int32 {
        get {
            precondition(i >= 0 && i < VmapAreas.smallPoolPages, "pool index out of range")
            return storage.heads[i]
        }
        nonmutating set {
            precondition(i >= 0 && i < VmapAreas.smallPoolPages, "pool index out of range")
            storage.heads[i] = newValue
        }
    }

    /// Every head, in pool order.
    var all: [Int32] { Array(UnsafeBufferPointer(start: storage.heads, count: VmapAreas.smallPoolPages)) }

    /// Empty every pool.
    func clear() { storage.heads.update(repeating: -1, count: VmapAreas.smallPoolPages) }
}
