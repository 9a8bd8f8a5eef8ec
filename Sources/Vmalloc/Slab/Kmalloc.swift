import CShim

// The kmalloc API (include/linux/slab.h, mm/slab_common.c) over the slab allocator: methods of
// a MemorySystem and free functions over `MemorySystem.shared`. The trailing `file`/`line`
// parameters name the call site in warnings, which are rate-limited per site.

extension MemorySystem {
    /// `kmalloc_node` for every entry point: size classes up to 8 KiB, whole blocks above.
    package func kmallocNode(_ size: Int, _ gfp: GFP, node: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        if size == 0 { return ZERO_SIZE_PTR }
        guard size > 0 else {
            log.warnOnce("kmalloc: invalid size \(size) from \(site)", site: "kmalloc-size@\(site)")
            return nil
        }
        guard memory.validNode(node, "kmalloc", log: log, site: "\(site)") else { return nil }
        if size <= SlabAllocator.maxCacheSize { return slab.allocate(slab.cache(for: size), gfp: gfp, node: node) }
        guard size <= SlabAllocator.maxSize else {
            if !gfp.contains(.noWarn) {
                log.warn(
                    "kmalloc: size \(size) exceeds KMALLOC_MAX_SIZE (\(SlabAllocator.maxSize)) (\(site))",
                    site: "kmalloc-max@\(site)")
            }
            return nil
        }
        return slab.allocateLarge(size, gfp: gfp, node: node)
    }

    /// `ZERO_OR_NULL_PTR`: nil or the `ZERO_SIZE_PTR` of a zero-byte kmalloc.
    static func isZeroOrNull(_ p: UnsafeRawPointer?) -> Bool { UInt(bitPattern: p) <= 16 }

    /// The refusal of a free or size query of something kmalloc did not hand out.
    func reportBadKmallocAddress(
        _ function: String, _ p: UnsafeRawPointer, _ error: SlabAllocator.SlabError, freed: Bool
    ) {
        let why = is_vmalloc_addr(p) ? "a vmalloc address: use vfree() or kvfree()" : error.reason
        log.warn("\(function)(\(p)): \(why)\(freed ? "; nothing freed" : "")", site: "bad-\(function)")
    }

    /// Allocate `size` bytes of physically contiguous memory in the direct map (`kmalloc`).
    /// Up to 8 KiB from the `kmalloc-*` caches, larger as a block of 2^n frames (up to 4 MiB).
    /// `kmalloc(0)` returns `ZERO_SIZE_PTR`.
    public func kmalloc(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kmallocNode(size, gfp, node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// Zeroed `kmalloc` (`kzalloc`).
    public func kzalloc(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kmallocNode(size, gfp.union(.zero), node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// `kmalloc` preferring memory of `node` (`kmalloc_node`).
    public func kmalloc_node(_ size: Int, _ gfp: GFP, _ node: Int, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kmallocNode(size, gfp, node: node, site: CallSite(file: file, line: line))
    }
    /// Free a kmalloc allocation (`kfree`); nil and `ZERO_SIZE_PTR` are no-ops. An address
    /// kmalloc did not hand out (vmalloc memory, an interior pointer, a double free) is reported
    /// and nothing changes.
    public func kfree(_ p: UnsafeMutableRawPointer?) {
        guard let p, !Self.isZeroOrNull(p) else { return }
        if case .failure(let e) = slab.freeObject(p) { reportBadKmallocAddress("kfree", p, e, freed: true) }
    }
    /// The usable size of a kmalloc allocation: its size class, or its block (`ksize`).
    /// 0 for nil and `ZERO_SIZE_PTR`; an address kmalloc did not hand out is reported, 0.
    public func ksize(_ p: UnsafeRawPointer?) -> Int {
        guard let p, !Self.isZeroOrNull(p) else { return 0 }
        switch slab.usableSize(UnsafeMutableRawPointer(mutating: p)) {
        case .success(let n): return n
        case .failure(let e):
            reportBadKmallocAddress("ksize", p, e, freed: false)
            return 0
        }
    }
    /// Resize a kmalloc allocation (`krealloc`): in place while the object's size class holds
    /// `size`, else a new allocation with the old content; size 0 frees and returns
    /// `ZERO_SIZE_PTR`. On failure p stays valid and nil is returned.
    public func krealloc(
        _ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        kreallocNode(p, size, gfp, site: CallSite(file: file, line: line))
    }

    package func kreallocNode(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
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

    /// Give every empty slab the kmalloc caches keep back to the page allocator; returns the
    /// frames freed. Mirrors `kmem_cache_shrink()` applied to each `kmalloc-*` cache.
    @discardableResult
    public func kmem_cache_shrink() -> Int { slab.shrink() }
}

/// `kmalloc` on `MemorySystem.shared`.
public func kmalloc(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.kmalloc(size, gfp, file: file, line: line)
}
/// `kzalloc` on `MemorySystem.shared`.
public func kzalloc(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.kzalloc(size, gfp, file: file, line: line)
}
/// `kmalloc_node` on `MemorySystem.shared`.
public func kmalloc_node(_ size: Int, _ gfp: GFP, _ node: Int, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.kmalloc_node(size, gfp, node, file: file, line: line)
}
/// `kfree` on `MemorySystem.shared`.
public func kfree(_ p: UnsafeMutableRawPointer?) { MemorySystem.shared.kfree(p) }
/// `ksize` on `MemorySystem.shared`.
public func ksize(_ p: UnsafeRawPointer?) -> Int { MemorySystem.shared.ksize(p) }
/// `krealloc` on `MemorySystem.shared`.
public func krealloc(
    _ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line
) -> UnsafeMutableRawPointer? {
    MemorySystem.shared.krealloc(p, size, gfp, file: file, line: line)
}
/// `kmem_cache_shrink` of every kmalloc cache on `MemorySystem.shared`.
@discardableResult
public func kmem_cache_shrink() -> Int { MemorySystem.shared.kmem_cache_shrink() }
/// `/proc/slabinfo` of `MemorySystem.shared`.
public func slabinfo() -> String { MemorySystem.shared.slabinfo() }
