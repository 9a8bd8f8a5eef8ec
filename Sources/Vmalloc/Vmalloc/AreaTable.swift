/// The area records of one shard, indexed by id, in storage the fast path reaches through a
/// pointer: reading or writing one field of one record costs no uniqueness check and no copy
/// (an `Array` checks uniqueness on every write through `s.records[i].field`).
///
/// Reference semantics: a table is owned by one `VmapShard.State`, which lives in its lock and
/// is never copied; so no copy-on-write is needed.
/// Unchecked Sendable: the storage is reached only under the owning shard's lock.
struct AreaTable: @unchecked Sendable {
    private final class Storage {
        var base: UnsafeMutablePointer<AreaRecord>
        var count = 0
        var capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

        deinit {
            base.deinitialize(count: count)
            base.deallocate()
        }
    }

    private let storage = Storage(capacity: 64)

    var count: Int { storage.count }

    /// The record with id `i` (0 ≤ i < count).
    subscript(i: Int) -> AreaRecord {
        unsafeAddress {
            precondition(i >= 0 && i < storage.count, "area id out of range")
            return UnsafePointer(storage.base + i)
        }
        nonmutating unsafeMutableAddress {
            precondition(i >= 0 && i < storage.count, "area id out of range")
            return storage.base + i
        }
    }

    /// The record with id `i`, checked once, for a hot path that reads and writes several of
    /// its fields. Valid until the next `append` (which may move the storage).
    @inline(__always)
    func at(_ i: Int) -> UnsafeMutablePointer<AreaRecord> {
        precondition(i >= 0 && i < storage.count, "area id out of range")
        return storage.base + i
    }

    /// Add a record at id `count`.
    func append(_ r: AreaRecord) {
        let s = storage
        if s.count == s.capacity {
            let bigger = UnsafeMutablePointer<AreaRecord>.allocate(capacity: s.capacity * 2)
            bigger.moveInitialize(from: s.base, count: s.count)
            s.base.deallocate()
            s.base = bigger
            s.capacity *= 2
        }
        (s.base + s.count).initialize(to: r)
        s.count += 1
    }
}
