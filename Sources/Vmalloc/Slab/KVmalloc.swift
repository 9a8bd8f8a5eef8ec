import CShim

// The kvmalloc family (mm/util.c): physically contiguous memory when it is cheap to get,
// virtually contiguous memory otherwise. Methods of a MemorySystem and free functions over
// `MemorySystem.shared`; `file`/`line` name the caller in /proc/vmallocinfo and warnings.

extension MemorySystem {
    /// `kmalloc_gfp_adjust`: above a page the kmalloc attempt is opportunistic — no warning,
    /// no NOFAIL (the vmalloc fallback carries it) and no direct reclaim unless the caller
    /// asked to retry, since vmalloc can do with scattered frames what compaction would do.
    static func kmallocAttemptGFP(_ gfp: GFP, size: Int) -> GFP {
        guard size > PhysicalMemory.pageSize else { return gfp }
        var g = gfp.union(.noWarn).subtracting(.noFail)
        if !gfp.contains(.retryMayFail) { g = g.subtracting(.directReclaim).union(.noRetry) }
        return g
    }

    /// `kvmalloc_node`: everything kvmalloc-like lands here.
    package func kvmallocNode(_ size: Int, _ gfp: GFP, node: Int, site: CallSite) -> UnsafeMutableRawPointer? {
        // Sizes that cannot be meant: the kernel refuses them before trying anything.
        guard size <= Int(Int32.max) else {
            if !gfp.contains(.noWarn) {
                log.warnOnce("kvmalloc: size \(size) exceeds INT_MAX (\(site))", site: "kvmalloc-size@\(site)")
            }
            return nil
        }
        let p = kmallocNode(size, Self.kmallocAttemptGFP(gfp, size: size), node: node, site: site)
        if p != nil || size <= PhysicalMemory.pageSize { return p }
        guard node == NUMA_NO_NODE || (0..<memory.nodeCount).contains(node) else { return nil }
        allocator.stat.add(.kvmallocVmallocFallback)
        // VM_ALLOW_HUGE_VMAP only changes areas of 2 MiB and more here (their alignment);
        // leaving it off below keeps smaller areas eligible for lazy-area reuse.
        let flags: VMFlags = size >= 1 << 21 ? [.alloc, .allowHugeVmap] : .alloc
        return space.vmallocNodeRange(
            size, align: PhysicalMemory.pageSize, gfp: gfp, node: node, flags: flags, site: site)
    }

    /// Allocate `size` bytes with kmalloc, falling back to vmalloc above a page when no
    /// contiguous block is at hand (`kvmalloc`). Free with `kvfree`.
    public func kvmalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kvmallocNode(size, gfp, node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// Zeroed `kvmalloc` (`kvzalloc`).
    public func kvzalloc(_ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kvmallocNode(size, gfp.union(.zero), node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
    }
    /// `kvmalloc` preferring memory of `node` (`kvmalloc_node`).
    public func kvmalloc_node(_ size: Int, _ gfp: GFP, _ node: Int, file: StaticString = #fileID, line: UInt = #line)
        -> UnsafeMutableRawPointer?
    {
        kvmallocNode(size, gfp, node: node, site: CallSite(file: file, line: line))
    }
    /// `kvmalloc` of n elements of `size` bytes; nil when n * size overflows (`kvmalloc_array`).
    public func kvmalloc_array(
        _ n: Int, _ size: Int, _ gfp: GFP = .kernel, file: StaticString = #fileID, line: UInt = #line
    ) -> UnsafeMutableRawPointer? {
        let (bytes, overflow) = n.multipliedReportingOverflow(by: size)
        guard !overflow, n >= 0, size >= 0 else { return nil }
        return kvmallocNode(bytes, gfp, node: NUMA_NO_NODE, site: CallSite(file: file, line: line))
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
        kvreallocNode(p, size, gfp, site: CallSite(file: file, line: line))
    }
    /// `kvrealloc` for every entry point.
    package func kvreallocNode(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: GFP, site: CallSite)
        -> UnsafeMutableRawPointer?
    {
        if is_vmalloc_addr(p) { return vreallocNode(p, size, gfp, site: site) }
        // An address kmalloc did not hand out is reported by ksize and left alone.
        if let p, !Self.isZeroOrNull(p), ksize(p) == 0 { return nil }
        if let n = kreallocNode(p, size, Self.kmallocAttemptGFP(gfp, size: size), site: site) { return n }
        guard let n = kvmallocNode(size, gfp, node: NUMA_NO_NODE, site: site) else { return nil }
        if let p, !Self.isZeroOrNull(p) {
            // krealloc failed to grow p in place or move it: ksize(p) < size bytes to keep.
            vmshim_copy(n, p, ksize(p))
            kfree(p)
        }
        return n
    }
    /// Free memory from the kvmalloc family (`kvfree`): vmalloc addresses go to `vfree`,
    /// others to `kfree`. nil is a no-op.
    public func kvfree(_ p: UnsafeMutableRawPointer?) {
        if is_vmalloc_addr(p) { vfree(p) } else { kfree(p) }
    }
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
