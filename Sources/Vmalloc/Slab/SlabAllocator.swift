import CShim
import Glibc
import Synchronization

// Lock order: one cache shard lock (`KmallocCache.ShardLock`) at a time, never nested. The page
// allocator (new slabs, freeing empty ones) is called with no shard lock held, because reclaim
// shrinks these shards (`reclaim()` takes them one by one).

/// `ZERO_SIZE_PTR`: what `kmalloc(0)` returns. Not nil, never mapped (any access faults), and
/// `kfree`/`kvfree`/`ksize` accept it as the kernel's `ZERO_OR_NULL_PTR` does.
nonisolated(unsafe) public let ZERO_SIZE_PTR = UnsafeMutableRawPointer(bitPattern: 16)!

/// The kmalloc slab allocator (mm/slub.c, mm/slab_common.c): size classes carved from frames of
/// the direct map, and larger requests served as whole blocks of the page allocator.
///
/// A slab's head frame metadata holds its state: `next`/`prev` link it on its shard's list,
/// its free-object index and objects in use, its cache index and CPU shard are packed fields read
/// and written through the shim's accessors (`vmshim_slab_*`); its node is the frame's.
/// Tail frames carry the owner and their head's pfn (`vmshim_tail_head`). Free objects are linked through
/// their first two bytes (the next free index), as SLUB keeps its free pointer in the object.
/// A bitmap with one bit per 8 bytes of the direct map marks live objects, so a bad `kfree`
/// (interior pointer, double free) is caught and refused instead of corrupting a free list.
/// Unchecked Sendable: raw metadata and bitmap pointers; a slab's words are touched only under its shard lock.
final class SlabAllocator: @unchecked Sendable {
    /// `KMALLOC_MAX_CACHE_SIZE`: larger requests take whole blocks of frames.
    static let maxCacheSize = 2 * PhysicalMemory.pageSize
    /// `KMALLOC_MAX_SIZE`: the largest block of the page allocator.
    static let maxSize = PhysicalMemory.pageSize << PageAllocator.maxOrder
    static let sizes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]
    /// Empty slabs a shard keeps instead of returning them at once (`min_partial`).
    static let keepEmpty = 1

    let caches: [KmallocCache]
    /// CPU shards per node; the shard of a slab is fixed when it is made.
    let cpuShards: Int
    let memory: PhysicalMemory
    private let allocator: PageAllocator
    let log: Printk
    /// The vmalloc space, to name the mistake when one of its addresses reaches `kfree`.
    let space: VmallocSpace
    private let meta: UnsafeMutablePointer<vmshim_page>
    private let live: UnsafeMutablePointer<UInt64>
    /// Frames held by slabs and large kmalloc blocks, per node (`NR_SLAB_UNRECLAIMABLE_B`).
    private let nodeFrames: [Counter]
    /// `kmalloc_size_index`: the cache of each size up to 192, by (size - 1) / 8.
    private let smallIndex: [Int]

    /// What an address passed to `kfree`/`ksize` turned out to be.
    private enum Located {
        case object(head: Int, cache: KmallocCache, index: Int)
        case large(pfn: Int, order: Int)
        case bad(SlabError)
    }

    /// Why an address is not a live kmalloc allocation: the one error the slab reports.
    struct SlabError: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    init?(allocator: PageAllocator, log: Printk, space: VmallocSpace) {
        let memory = allocator.memory
        // Calloc'ed, so untouched parts stay unbacked zero pages: 1/64 of the direct map, virtual.
        guard let bits = calloc(memory.totalPages * PhysicalMemory.pageSize / 512, 8) else { return nil }
        live = bits.assumingMemoryBound(to: UInt64.self)
        self.memory = memory
        self.allocator = allocator
        self.log = log
        self.space = space
        meta = memory.meta
        let cpus = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
        // The shard index must fit the 4 bits the slab's metadata keeps for it.
        let shards = min(cpus, 16)
        cpuShards = shards
        caches = Self.sizes.enumerated().map {
            KmallocCache(index: $0.offset, size: $0.element, shards: memory.nodeCount * shards)
        }
        nodeFrames = (0..<memory.nodeCount).map { _ in Counter() }
        smallIndex = (0..<24).map { i in Self.sizes.firstIndex { $0 >= (i + 1) * 8 }! }
    }

    deinit { Glibc.free(live) }

    /// The cache for a request of `size` bytes, 1 … `maxCacheSize` (`kmalloc_slab`).
    func cache(for size: Int) -> KmallocCache {
        if size <= 192 { return caches[smallIndex[(size - 1) >> 3]] }
        // Powers of two from 256 (index 7): ceil(log2(size)) - 1.
        let log2 = Int.bitWidth - (size - 1).leadingZeroBitCount
        return caches[log2 - 1]
    }

    /// Frames held by slabs and large kmalloc blocks on each node.
    var framesPerNode: [Int] { nodeFrames.map(\.count) }

    // MARK: allocation

    /// `slab_alloc_node`: an object from this CPU's shard of the node, or from a new slab.
    func allocate(_ cache: KmallocCache, gfp: GFP, node: Int) -> UnsafeMutableRawPointer? {
        let cpu = max(Int(vmshim_cpu()), 0) % cpuShards
        let home = node == NUMA_NO_NODE ? memory.localNode : node
        let p: UnsafeMutableRawPointer
        if let q = cache.shards[home * cpuShards + cpu].lock.withLock({ take(&$0, cache) }) {
            p = q
        } else {
            // No lock is held while the page allocator may reclaim: reclaim shrinks these shards.
            guard let head = newSlab(cache, gfp: gfp, node: node, cpu: cpu) else { return nil }
            let objects = cache.objects(order: Int(meta[head].order))
            p = cache.shards[memory.node(of: head) * cpuShards + cpu].lock.withLock { s in
                s.slabs += 1
                s.objects += objects
                push(&s.partial, head)
                return take(&s, cache)!
            }
        }
        if gfp.contains(.zero) { vmshim_zero(p, cache.size) }
        return p
    }

    /// Pop an object from the first partial (else empty) slab of a shard; marks it live.
    private func take(_ s: inout KmallocCache.Shard, _ cache: KmallocCache) -> UnsafeMutableRawPointer? {
        if s.partial == VMSHIM_NIL {
            guard s.empty != VMSHIM_NIL else { return nil }
            let head = Int(s.empty)
            unlink(&s.empty, head)
            s.emptyCount -= 1
            push(&s.partial, head)
        }
        let head = Int(s.partial)
        let m = meta + head
        let index = Int(vmshim_slab_free_index(m))
        let inuse = Int(vmshim_slab_inuse(m)) + 1
        let p = memory.address(of: head) + index * cache.size
        vmshim_slab_set_objects(m, UInt32(p.load(as: UInt16.self)), UInt32(inuse))
        if inuse == cache.objects(order: Int(m.pointee.order)) { unlink(&s.partial, head) }
        s.inuse += 1
        let (word, bit) = liveBit(p)
        live[word] |= bit
        return p
    }

    /// `allocate_slab`: the preferred order without reclaim or warnings first, then the
    /// smallest order that fits an object with the caller's mask.
    private func newSlab(_ cache: KmallocCache, gfp: GFP, node: Int, cpu: Int) -> Int? {
        let owner = VMSHIM_OWNER_SLAB
        let mask = gfp.subtracting(.zero)
        var page: Page?
        if cache.order > cache.minOrder {
            var light = mask.union([.noWarn, .noRetry]).subtracting(.noFail)
            if light.allowsBlocking { light = light.union(.noMemalloc).subtracting(.reclaim) }
            page = allocator.allocate(light, order: cache.order, node: node, owner: owner, site: "kmalloc")
        }
        let block = page ?? allocator.allocate(mask, order: cache.minOrder, node: node, owner: owner, site: "kmalloc")
        guard let head = block?.pfn else { return nil }
        let order = Int(meta[head].order)
        let objects = cache.objects(order: order)
        let base = memory.address(of: head)
        for i in 0..<objects {
            let next = i + 1 < objects ? UInt32(i + 1) : VMSHIM_SLAB_NO_OBJECT
            (base + i * cache.size).storeBytes(of: UInt16(next), as: UInt16.self)
        }
        let m = meta + head
        vmshim_slab_set_objects(m, 0, 0)
        vmshim_slab_set_cache_shard(m, UInt32(cache.index), UInt32(cpu))
        m.pointee.next = VMSHIM_NIL
        m.pointee.prev = VMSHIM_NIL
        markTails(head, order: order, owner: owner)
        nodeFrames[memory.node(of: head)].add(1 << order)
        return head
    }

    /// `kmalloc_large_node`: a whole block of frames for requests above `maxCacheSize`.
    func allocateLarge(_ size: Int, gfp: GFP, node: Int) -> UnsafeMutableRawPointer? {
        let pagesNeeded = (size + PhysicalMemory.pageSize - 1) / PhysicalMemory.pageSize
        let order = Int.bitWidth - (pagesNeeded - 1).leadingZeroBitCount
        let owner = VMSHIM_OWNER_LARGE_KMALLOC
        guard let page = allocator.allocate(gfp, order: order, node: node, owner: owner, site: "kmalloc") else {
            return nil
        }
        markTails(page.pfn, order: order, owner: owner)
        nodeFrames[memory.node(of: page.pfn)].add(1 << order)
        return memory.address(of: page.pfn)
    }

    /// Tail frames name their head, so any address inside the block finds it.
    private func markTails(_ head: Int, order: Int, owner: vmshim_owner) {
        for pfn in head + 1..<head + (1 << order) {
            meta[pfn].owner = owner
            vmshim_tail_set_head(meta + pfn, UInt32(head))
        }
    }

    /// Return a block to the page allocator, tails cleared first.
    private func release(_ head: Int, order: Int) {
        for pfn in head + 1..<head + (1 << order) {
            meta[pfn].owner = VMSHIM_OWNER_NONE
            vmshim_tail_set_head(meta + pfn, 0)
        }
        nodeFrames[memory.node(of: head)].subtract(1 << order)
        allocator.free(pfn: head, order: order)
    }

    // MARK: free

    /// `kfree`: the object is returned, or the error says why nothing was freed.
    func freeObject(_ p: UnsafeMutableRawPointer) -> Result<Void, SlabError> {
        switch locate(p) {
        case .bad(let error):
            return .failure(error)
        case .large(let pfn, let order):
            release(pfn, order: order)
            return .success(())
        case .object(let head, let cache, let index):
            let shard = cache.shards[memory.node(of: head) * cpuShards + Int(vmshim_slab_shard(meta + head))]
            let freed: Result<Bool, SlabError> = shard.lock.withLock { s in
                let (word, bit) = liveBit(p)
                guard live[word] & bit != 0 else {
                    return .failure(SlabError("double free or free of an unallocated \(cache.name) object"))
                }
                live[word] &= ~bit
                return .success(put(&s, cache, head: head, index: index))
            }
            switch freed {
            case .success(let discard):
                if discard { release(head, order: Int(meta[head].order)) }
                return .success(())
            case .failure(let e):
                return .failure(e)
            }
        }
    }

    /// Push an object back on its slab; true when the slab is now empty and not kept.
    private func put(_ s: inout KmallocCache.Shard, _ cache: KmallocCache, head: Int, index: Int) -> Bool {
        let m = meta + head
        let objects = cache.objects(order: Int(m.pointee.order))
        let inuse = Int(vmshim_slab_inuse(m))
        let next = UInt16(vmshim_slab_free_index(m))
        (memory.address(of: head) + index * cache.size).storeBytes(of: next, as: UInt16.self)
        vmshim_slab_set_objects(m, UInt32(index), UInt32(inuse - 1))
        s.inuse -= 1
        if inuse == objects { push(&s.partial, head) }
        guard inuse == 1 else { return false }
        unlink(&s.partial, head)
        if s.emptyCount < Self.keepEmpty {
            push(&s.empty, head)
            s.emptyCount += 1
            return false
        }
        s.slabs -= 1
        s.objects -= objects
        return true
    }

    /// The usable size of a live object or block (`ksize`), or the reason p is not one.
    func usableSize(_ p: UnsafeMutableRawPointer) -> Result<Int, SlabError> {
        switch locate(p) {
        case .bad(let error):
            return .failure(error)
        case .large(_, let order):
            return .success(PhysicalMemory.pageSize << order)
        case .object(let head, let cache, _):
            let shard = cache.shards[memory.node(of: head) * cpuShards + Int(vmshim_slab_shard(meta + head))]
            let isLive = shard.lock.withLock { _ in
                let (word, bit) = liveBit(p)
                return live[word] & bit != 0
            }
            return isLive ? .success(cache.size) : .failure(SlabError("not an allocated \(cache.name) object"))
        }
    }

    /// Find the slab object or large block p names, from the frame metadata alone.
    private func locate(_ p: UnsafeMutableRawPointer) -> Located {
        guard let pfn = memory.pfn(ofDirect: p) else { return .bad(SlabError("not a kmalloc address")) }
        // Field by field: a head's priv and links change under its shard lock, not held here;
        // a tail's priv (its head) is fixed while the block is allocated.
        let owner = meta[pfn].owner
        guard owner == VMSHIM_OWNER_SLAB || owner == VMSHIM_OWNER_LARGE_KMALLOC else {
            return .bad(SlabError("not a kmalloc address"))
        }
        let head = vmshim_page_is_head(meta + pfn) != 0 ? pfn : Int(vmshim_tail_head(meta + pfn))
        guard isHead(head, owner: owner, covering: pfn) else { return .bad(SlabError("not a kmalloc address")) }
        if owner == VMSHIM_OWNER_LARGE_KMALLOC {
            guard p == memory.address(of: head) else {
                return .bad(SlabError("not the start of a large kmalloc block"))
            }
            return .large(pfn: head, order: Int(meta[head].order))
        }
        let cacheIndex = Int(vmshim_slab_cache(meta + head))
        guard cacheIndex < caches.count else { return .bad(SlabError("not a kmalloc address")) }
        let cache = caches[cacheIndex]
        let offset = p - memory.address(of: head)
        guard offset % cache.size == 0, offset / cache.size < cache.objects(order: Int(meta[head].order)) else {
            return .bad(SlabError("not the start of a \(cache.name) object"))
        }
        return .object(head: head, cache: cache, index: offset / cache.size)
    }

    private func isHead(_ head: Int, owner: vmshim_owner, covering pfn: Int) -> Bool {
        memory.isValid(head) && vmshim_page_is_head(meta + head) != 0 && meta[head].owner == owner
            && head <= pfn && pfn < head + (1 << Int(meta[head].order))
    }

    private func liveBit(_ p: UnsafeRawPointer) -> (word: Int, bit: UInt64) {
        let granule = (p - UnsafeRawPointer(memory.directBase)) >> 3
        return (granule >> 6, 1 << UInt64(granule & 63))
    }

    // MARK: lists

    /// The shard lists are the shim's one free-list implementation (`vmshim_list_*`), linked
    /// through the head frames' metadata like the buddy lists.
    private func push(_ list: inout UInt32, _ pfn: Int) { vmshim_list_push(meta, &list, UInt32(pfn)) }

    private func unlink(_ list: inout UInt32, _ pfn: Int) { vmshim_list_unlink(meta, &list, UInt32(pfn)) }

    // MARK: shrinking and figures

    /// `kmem_cache_shrink` of every cache: give the kept empty slabs back. Returns frames freed.
    func shrink() -> Int {
        var freed = 0
        for cache in caches {
            for shard in cache.shards {
                var heads: [Int] = []
                shard.lock.withLock { s in
                    while s.empty != VMSHIM_NIL {
                        let head = Int(s.empty)
                        unlink(&s.empty, head)
                        s.objects -= cache.objects(order: Int(meta[head].order))
                        heads.append(head)
                    }
                    s.slabs -= heads.count
                    s.emptyCount = 0
                }
                for head in heads {
                    let order = Int(meta[head].order)
                    release(head, order: order)
                    freed += 1 << order
                }
            }
        }
        return freed
    }

    /// One cache's totals over its shards: (slabs, objects, objects in use).
    func totals(_ cache: KmallocCache) -> (slabs: Int, objects: Int, inuse: Int) {
        cache.shards.reduce((0, 0, 0)) { t, shard in
            shard.lock.withLock { s in (t.0 + s.slabs, t.1 + s.objects, t.2 + s.inuse) }
        }
    }
}

extension SlabAllocator: ReclaimSource {
    /// Reclaim gives the kept empty slabs back (`kmem_cache_shrink`).
    func reclaim() -> Int { shrink() }
}
