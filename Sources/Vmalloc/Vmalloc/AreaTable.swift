/// The area records of one shard, indexed by id, in storage the fast path reaches through a
/// pointer: reading or writing one field of one record costs no uniqueness check and no copy
/// (an `Array` checks uniqueness on every write through `records[i].field`).
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

    /// The record with id `id` (0 ≤ id < count), checked once: the only way to a record, read
    /// or written in place through the pointer, so a path that touches several fields pays one
    /// check and copies nothing. The pointer is valid until the next `append`, which may move
    /// the storage: hold it only within one critical section of the owning shard, and never
    /// across a call that stores a new record.
    @inline(__always)
    func at(_ id: Int32) -> UnsafeMutablePointer<AreaRecord> {
        precondition(id >= 0 && Int(id) < storage.count, "area id out of range")
        return storage.base + Int(id)
    }

    /// `at` without the range check, for an id the shard's own bookkeeping handed out (a reuse
    /// pool's head, the id of an owner start): those name stored records by construction, and
    /// the fast paths take one per operation. Same validity rules for the pointer as `at`.
    @inline(__always)
    func at(trusted id: Int32) -> UnsafeMutablePointer<AreaRecord> {
        storage.base + Int(truncatingIfNeeded: id)
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
