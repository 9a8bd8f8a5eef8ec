// The kmalloc API (include/linux/slab.h) as methods of a MemorySystem and as free functions over
// `MemorySystem.shared`. The trailing `file`/`line` parameters name the call site in warnings,
// which are rate-limited per site.

extension MemorySystem {
    /// `kmalloc_node` for the C surface, which names its caller by return address.
    package func kmallocNode(_ size: Int, _ gfp: GFP, node: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        slab.kmallocNode(size, gfp, node: node, site: site)
    }
    /// `krealloc` for the C surface.
    package func kreallocNode(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        slab.kreallocNode(p, size, gfp, site: site)
    }

    /// Allocate `size` bytes of physically contiguous memory in the direct map (`kmalloc`).
    /// Up to 8 KiB from the `kmalloc-*` caches, larger as a block of 2^n frames (up to 4 MiB).
    /// `kmalloc(0)` returns `ZERO_SIZE_PTR`.
    public func kmalloc(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        slab.kmallocNode(size, gfp, node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// Zeroed `kmalloc` (`kzalloc`).
    public func kzalloc(_ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        slab.kmallocNode(size, gfp.union(.zero), node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// `kmalloc` preferring memory of `node` (`kmalloc_node`).
    public func kmalloc_node(_ size: Int, _ gfp: GFP, _ node: Int, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        slab.kmallocNode(size, gfp, node: node, site: CallSite(file: file, line: line))
    }
    /// Free a kmalloc allocation (`kfree`); nil and `ZERO_SIZE_PTR` are no-ops. An address
    /// kmalloc did not hand out (vmalloc memory, an interior pointer, a double free) is reported
    /// and nothing changes.
    public func kfree(_ p: UnsafeMutableRawPointer?) {
        slab.kfree(p)
    }
    /// The usable size of a kmalloc allocation: its size class, or its block (`ksize`).
    /// 0 for nil and `ZERO_SIZE_PTR`; an address kmalloc did not hand out is reported, 0.
    public func ksize(_ p: UnsafeRawPointer?) -> Int {
        slab.ksize(p)
    }
    /// Resize a kmalloc allocation (`krealloc`): in place while the object's size class holds
    /// `size`, else a new allocation with the old content; size 0 frees and returns
    /// `ZERO_SIZE_PTR`. On failure p stays valid and nil is returned.
    public func krealloc(
        _ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        slab.kreallocNode(p, size, gfp, site: CallSite(file: file, line: line))
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
