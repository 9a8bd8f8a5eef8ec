// The kvmalloc family (include/linux/slab.h, mm/util.c) as methods of a MemorySystem and as free
// functions over `MemorySystem.shared`; `file`/`line` name the caller in /proc/vmallocinfo and
// warnings.

extension MemorySystem {
    /// `kvmalloc_node` for the C surface, which names its caller by return address.
    package func kvmallocNode(_ size: Int, _ gfp: GFP, node: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        kv.kvmallocNode(size, gfp, node: node, site: site)
    }
    /// `kvrealloc` for the C surface.
    package func kvreallocNode(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        kv.kvreallocNode(p, size, gfp, site: site)
    }

    /// Allocate `size` bytes with kmalloc, falling back to vmalloc above a page when no
    /// contiguous block is at hand (`kvmalloc`). Free with `kvfree`.
    public func kvmalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kv.kvmallocNode(size, gfp, node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// Zeroed `kvmalloc` (`kvzalloc`).
    public func kvzalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kv.kvmallocNode(size, gfp.union(.zero), node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// `kvmalloc` preferring memory of `node` (`kvmalloc_node`).
    public func kvmalloc_node(_ size: Int, _ gfp: GFP, _ node: Int, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kv.kvmallocNode(size, gfp, node: node, site: CallSite(file: file, line: line))
    }
    /// `kvmalloc` of n elements of `size` bytes; nil when n * size overflows (`kvmalloc_array`).
    public func kvmalloc_array(
        _ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        guard let bytes = arraySize(n, size) else { return nil }
        return kv.kvmallocNode(bytes, gfp, node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// Zeroed `kvmalloc_array` (`kvcalloc`).
    public func kvcalloc(_ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kvmalloc_array(n, size, gfp.union(.zero), file: file, line: line)
    }
    /// Resize a kvmalloc allocation keeping its content (`kvrealloc`): vmalloc memory goes
    /// through `vrealloc`; kmalloc memory is resized with `krealloc` and, when that fails,
    /// moved to a fresh `kvmalloc` allocation (possibly vmalloc). On failure p stays valid.
    public func kvrealloc(
        _ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID,
        line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        kv.kvreallocNode(p, size, gfp, site: CallSite(file: file, line: line))
    }
    /// Free memory from the kvmalloc family (`kvfree`): vmalloc addresses go to `vfree`,
    /// others to `kfree`. nil is a no-op.
    public func kvfree(_ p: UnsafeMutableRawPointer?) { kv.kvfree(p) }
}

/// `kvmalloc` on `MemorySystem.shared`.
public func kvmalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.kvmalloc(size, gfp, file: file, line: line)
}
/// `kvzalloc` on `MemorySystem.shared`.
public func kvzalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.kvzalloc(size, gfp, file: file, line: line)
}
/// `kvmalloc_node` on `MemorySystem.shared`.
public func kvmalloc_node(_ size: Int, _ gfp: GFP, _ node: Int, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.kvmalloc_node(size, gfp, node, file: file, line: line)
}
/// `kvmalloc_array` on `MemorySystem.shared`.
public func kvmalloc_array(
    _ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line
) -> UnsafeMutableRawPointer? {
    MemorySystem.shared.kvmalloc_array(n, size, gfp, file: file, line: line)
}
/// `kvcalloc` on `MemorySystem.shared`.
public func kvcalloc(_ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
    -> UnsafeMutableRawPointer?
{
    MemorySystem.shared.kvcalloc(n, size, gfp, file: file, line: line)
}
/// `kvrealloc` on `MemorySystem.shared`.
public func kvrealloc(
    _ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line
) -> UnsafeMutableRawPointer? {
    MemorySystem.shared.kvrealloc(p, size, gfp, file: file, line: line)
}
/// `kvfree` on `MemorySystem.shared`.
public func kvfree(_ p: UnsafeMutableRawPointer?) { MemorySystem.shared.kvfree(p) }
