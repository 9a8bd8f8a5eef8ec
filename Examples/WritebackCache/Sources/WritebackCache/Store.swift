import Glibc
import Synchronization
import Vmalloc

/// A persistent key-value store of fixed 64-byte records in one file, direct-mapped by key, with
/// a page cache of 64 KiB blocks in vmalloc memory. Dirty blocks reach the file when the writer
/// needs room, at `sync()`, or when memory reclaim calls the store's shrinker: an FS-class
/// shrinker (`requires: __GFP_FS`) that takes the store's lock, as a filesystem's does.
final class Store: Sendable {
    static let blockSize = 64 << 10
    static let recordSize = 64
    static let recordsPerBlock = blockSize / recordSize

    /// What the lock protects: the cached blocks and which of them are dirty.
    struct Cache: ~Copyable {
        var blocks: [Int: UnsafeMutableRawPointer] = [:]
        var isDirty: [Bool]
        /// Blocks dirtied since their last writeback, in the order they were dirtied. It grows
        /// on the write path, under the lock, inside a NOFS scope.
        var dirtyList: VmallocArray<Int32>
        var writebacksByShrinker = 0
        var writebacksByWriter = 0
    }

    let system: MemorySystem
    let capacity: Int
    private let fd: Int32
    private let lock: ReclaimTrackedLock<Cache>
    private let shrinker = Mutex<ShrinkerHandle?>(nil)

    /// Open (creating if needed) the store file at `path` with room for `capacity` keys.
    init(path: String, capacity: Int, system: MemorySystem) throws {
        self.system = system
        self.capacity = capacity
        fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw StoreError.io("open \(path)", errno) }
        let blocks = (capacity + Self.recordsPerBlock - 1) / Self.recordsPerBlock
        guard ftruncate(fd, off_t(blocks * Self.blockSize)) == 0 else { throw StoreError.io("ftruncate", errno) }
        lock = ReclaimTrackedLock(
            name: "store_lock",
            Cache(
                isDirty: Array(repeating: false, count: blocks),
                dirtyList: try VmallocArray(capacity: 16, system: system)))
        let handle = system.registerShrinker(
            name: "writeback-cache", requires: __GFP_FS,
            count: { [weak self] _ in self?.cachedPages ?? Shrinker.empty },
            scan: { [weak self] sc in self?.shrink(pages: sc.nrToScan) ?? Shrinker.stop })
        // Tell the checker up front that reclaim takes this lock, as lockdep learns it the
        // first time the shrinker runs: reports then come from the first bad allocation on.
        handle.mightLock(lock)
        shrinker.withLock { $0 = handle }
    }

    /// Write every dirty block back, drop the cache, unregister the shrinker and close the file.
    func close() throws {
        shrinker.withLock { $0?.unregister() }
        try lock.withLock { (c: inout sending Cache) throws(StoreError) in
            for b in Array(c.blocks.keys) { try evict(b, &c) }
        }
        guard fsync(fd) == 0, Glibc.close(fd) == 0 else { throw StoreError.io("close", errno) }
    }

    /// Store `value` under `key`. Runs under the store lock: every allocation here must stay out
    /// of FS reclaim, whose shrinker would wait for this very lock.
    func put(_ key: Int, _ value: UInt64) throws {
        precondition(key >= 0 && key < capacity, "key \(key) outside 0..<\(capacity)")
        try lock.withLock { (c: inout sending Cache) throws(StoreError) in
            let b = key / Self.recordsPerBlock
            let block = try cached(b, &c)
            let record = block + (key % Self.recordsPerBlock) * Self.recordSize
            for word in 0..<(Self.recordSize / 8) {
                record.storeBytes(of: value &+ UInt64(word) &* 0x9E37_79B9, toByteOffset: word * 8, as: UInt64.self)
            }
            guard !c.isDirty[b] else { return }
            c.isDirty[b] = true
            // The scope API: whatever this appends allocates as GFP_NOFS, in either page-table mode.
            do {
                try withMemallocScope(.noFS) { try c.dirtyList.append(Int32(b)) }
            } catch {
                throw .outOfMemory("dirty list")
            }
        }
    }

    /// The value under `key`, or nil if the record was never written (or is torn).
    func get(_ key: Int) throws -> UInt64? {
        precondition(key >= 0 && key < capacity, "key \(key) outside 0..<\(capacity)")
        return try lock.withLock { (c: inout sending Cache) throws(StoreError) -> UInt64? in
            let block = try cached(key / Self.recordsPerBlock, &c)
            let record = UnsafeRawPointer(block + (key % Self.recordsPerBlock) * Self.recordSize)
            let value = record.load(as: UInt64.self)
            for word in 1..<(Self.recordSize / 8)
            where record.load(fromByteOffset: word * 8, as: UInt64.self) != value &+ UInt64(word) &* 0x9E37_79B9 {
                return nil
            }
            return value == 0 ? nil : value
        }
    }

    /// Write back every dirty block, oldest first, keeping them cached.
    func sync() throws {
        try lock.withLock { (c: inout sending Cache) throws(StoreError) in
            for i in 0..<c.dirtyList.count where c.isDirty[Int(c.dirtyList[i])] {
                try writeBack(Int(c.dirtyList[i]), &c)
            }
            c.dirtyList.removeAll()
        }
    }

    /// How often the shrinker and the writer wrote a block back.
    var writebacks: (shrinker: Int, writer: Int) {
        lock.withLock { c in (c.writebacksByShrinker, c.writebacksByWriter) }
    }

    /// The shrinker's counters: calls, frees, and passes that skipped it for lack of __GFP_FS.
    var shrinkerStats: ShrinkerStats? { shrinker.withLock { $0?.stats } }

    private var cachedPages: Int { lock.withLock { c in c.blocks.count * (Self.blockSize / 4096) } }

    /// The block's cache page, read from the file if it is not cached. The block itself is
    /// allocated with an explicit GFP_NOFS mask, not under a scope: vmalloc maps under the scope
    /// its mask implies, so its page tables, whose allocators take no mask, obey the mask too (the
    /// rule of "mm/vmalloc: alloc GFP_NO{FS,IO} for vmalloc").
    private func cached(_ b: Int, _ c: inout Cache) throws(StoreError) -> UnsafeMutableRawPointer {
        if let p = c.blocks[b] { return p }
        var p = system.__vmalloc(Self.blockSize, GFP_NOFS | __GFP_NORETRY | __GFP_NOWARN)
        // Without FS reclaim the writer makes room itself: it holds the lock, so it may write back.
        while p == nil, let victim = c.blocks.keys.first {
            try evict(victim, &c)
            c.writebacksByWriter += 1
            p = system.__vmalloc(Self.blockSize, GFP_NOFS | __GFP_NORETRY | __GFP_NOWARN)
        }
        guard let p else { throw .outOfMemory("block \(b)") }
        guard pread(fd, p, Self.blockSize, off_t(b * Self.blockSize)) == Self.blockSize else {
            system.vfree(p)
            throw .io("pread block \(b)", errno)
        }
        c.blocks[b] = p
        return p
    }

    private func writeBack(_ b: Int, _ c: inout Cache) throws(StoreError) {
        guard let p = c.blocks[b] else { return }
        guard pwrite(fd, p, Self.blockSize, off_t(b * Self.blockSize)) == Self.blockSize else {
            throw .io("pwrite block \(b)", errno)
        }
        c.isDirty[b] = false
    }

    private func evict(_ b: Int, _ c: inout Cache) throws(StoreError) {
        if c.isDirty[b] { try writeBack(b, &c) }
        system.vfree(c.blocks.removeValue(forKey: b))
    }

    /// The shrinker's scan: called from reclaim on an allocating thread (never one in a NOFS
    /// scope or with a NOFS mask), it takes the store lock and writes back and frees blocks.
    private func shrink(pages: Int) -> Int {
        lock.withLock { (c: inout sending Cache) -> Int in
            var freed = 0
            while freed < pages, let b = c.blocks.keys.first {
                guard (try? evict(b, &c)) != nil else { return Shrinker.stop }
                c.writebacksByShrinker += 1
                freed += Self.blockSize / 4096
            }
            return freed
        }
    }
}

/// What went wrong in the store.
enum StoreError: Error {
    case io(String, Int32)
    case outOfMemory(String)
}
