import CShim

/// One kmalloc size class (`kmalloc-8` … `kmalloc-8k`, include/linux/slab.h `kmalloc_caches`):
/// objects of `size` bytes carved from slabs of 2^order frames, with a partial list per node and
/// per CPU shard so that CPUs allocate and free without a shared lock.
final class KmallocCache: Sendable {
    /// The partial and empty slabs of one (node, CPU shard), linked through the head frames'
    /// `next`/`prev` metadata; only touched with the shard's lock held.
    struct Shard {
        /// Slabs with free and used objects (`kmem_cache_node.partial`).
        var partial = VMSHIM_NIL
        /// Empty slabs kept for reuse, at most `SlabAllocator.keepEmpty`.
        var empty = VMSHIM_NIL
        var emptyCount = 0
        var slabs = 0
        var objects = 0
        var inuse = 0
    }

    let index: Int
    let name: String
    let size: Int
    /// The order slabs are made of when the page allocator has such blocks (`oo`).
    let order: Int
    /// The smallest order that holds one object, the fallback when memory is fragmented (`min`).
    let minOrder: Int
    let shards: [ShardLock]

    /// A shard's lock in its own heap cell, so the array of shards holds references.
    final class ShardLock: Sendable {
        let lock = Lock(Shard())
    }

    init(index: Int, size: Int, shards: Int) {
        self.index = index
        self.size = size
        name = size >= 1024 ? "kmalloc-\(size / 1024)k" : "kmalloc-\(size)"
        // Like SLUB's calculate_order: at least 8 objects per slab, at most order 3.
        let page = PhysicalMemory.pageSize
        var o = 0
        while o < 3 && (page << o) / size < 8 { o += 1 }
        order = o
        var m = 0
        while page << m < size { m += 1 }
        minOrder = m
        self.shards = (0..<shards).map { _ in ShardLock() }
    }

    func objects(order: Int) -> Int { (PhysicalMemory.pageSize << order) / size }
}
