import CShim

// The kmalloc entry points (include/linux/slab.h, mm/slab_common.c) over the slab allocator:
// argument checks, the size-class or whole-block choice, and the refusal of addresses kmalloc
// did not hand out. `site` names the caller in warnings, which are rate-limited per site.

extension SlabAllocator {
    /// `kmalloc_node` for every entry point: size classes up to 8 KiB, whole blocks above.
    func kmallocNode(_ size: Int, _ gfp: GFP, node: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        if size == 0 { return ZERO_SIZE_PTR }
        guard size > 0 else {
            log.warnOnce("kmalloc: invalid size \(size) from \(site)", site: "kmalloc-size@\(site)")
            return nil
        }
        guard memory.validNode(node, "kmalloc", log: log, site: "\(site)") else { return nil }
        if size <= SlabAllocator.maxCacheSize { return allocate(cache(for: size), gfp: gfp, node: node) }
        guard size <= SlabAllocator.maxSize else {
            if !gfp.contains(.noWarn) {
                log.warn(
                    "kmalloc: size \(size) exceeds KMALLOC_MAX_SIZE (\(SlabAllocator.maxSize)) (\(site))",
                    site: "kmalloc-max@\(site)")
            }
            return nil
        }
        return allocateLarge(size, gfp: gfp, node: node)
    }

    /// `kfree`: nil and `ZERO_SIZE_PTR` are no-ops; an address kmalloc did not hand out (vmalloc
    /// memory, an interior pointer, a double free) is reported and nothing changes.
    func kfree(_ p: UnsafeMutableRawPointer?) {
        guard let p, !Self.isZeroOrNull(p) else { return }
        if case .failure(let e) = freeObject(p) { reportBadKmallocAddress("kfree", p, e, freed: true) }
    }

    /// `ksize`: the object's size class or its block; 0 for nil, `ZERO_SIZE_PTR` and (reported)
    /// an address kmalloc did not hand out.
    func ksize(_ p: UnsafeRawPointer?) -> Int {
        guard let p, !Self.isZeroOrNull(p) else { return 0 }
        switch usableSize(UnsafeMutableRawPointer(mutating: p)) {
        case .success(let n): return n
        case .failure(let e):
            reportBadKmallocAddress("ksize", p, e, freed: false)
            return 0
        }
    }

    /// `ZERO_OR_NULL_PTR`: nil or the `ZERO_SIZE_PTR` of a zero-byte kmalloc.
    static func isZeroOrNull(_ p: UnsafeRawPointer?) -> Bool { UInt(bitPattern: p) <= 16 }

    /// The refusal of a free or size query of something kmalloc did not hand out.
    func reportBadKmallocAddress(
        _ function: String, _ p: UnsafeRawPointer, _ error: SlabAllocator.SlabError, freed: Bool
    ) {
        let why = space.contains(p) ? "a vmalloc address: use vfree() or kvfree()" : error.reason
        log.warn("\(function)(\(p)): \(why)\(freed ? "; nothing freed" : "")", site: "bad-\(function)")
    }

    /// `krealloc`: in place while the object's size class holds `size`, else a new allocation
    /// with the old content; size 0 frees and returns `ZERO_SIZE_PTR`. On failure p stays valid.
    func kreallocNode(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        if size == 0 {
            kfree(p)
            return ZERO_SIZE_PTR
        }
        // The kernel's size_t makes a negative size huge: it fails rather than fit the object.
        guard size > 0 else {
            log.warnOnce("krealloc: invalid size \(size) from \(site)", site: "krealloc-size@\(site)")
            return nil
        }
        guard let p, !Self.isZeroOrNull(p) else { return kmallocNode(size, gfp, node: NUMA_NO_NODE, site: site) }
        let old = ksize(p)
        guard old > 0 else { return nil }
        if size <= old { return p }
        guard let n = kmallocNode(size, gfp, node: NUMA_NO_NODE, site: site) else { return nil }
        vmshim_copy(n, p, old)
        kfree(p)
        return n
    }
}
