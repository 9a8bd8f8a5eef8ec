import CShim

// The `/proc` files and the frame audit's view as methods of a MemorySystem; the free functions
// over `MemorySystem.shared` sit beside the calls they describe (KernelAPI, SlabAPI).

extension MemorySystem {
    /// `/proc/meminfo`: memory figures of the whole system and per node.
    public func meminfo() -> MemInfo { proc.meminfo() }
    /// `/proc/vmallocinfo`: one line per area, lazily freed ones as "unpurged vm_area".
    public func vmallocinfo() -> String { proc.vmallocinfo() }
    /// `/proc/slabinfo` (version 2.1) of the kmalloc caches, largest first as the kernel lists them.
    public func slabinfo() -> String { proc.slabinfo() }
    /// `/proc/buddyinfo`: free blocks per order, per node.
    public func buddyinfo() -> String { proc.buddyinfo() }
    /// `/proc/vmstat`-style counters of this system.
    public func vmstat() -> [VMStatItem: Int] { proc.vmstat() }
    /// Failed allocations by the mask the caller passed (page allocations and vmalloc), the
    /// breakdown behind `alloc_failures` and `vmalloc_failures`.
    public func allocationFailuresByMask() -> [GFP: Int] { proc.allocationFailuresByMask() }

    /// Lend the metadata of every frame of `node` (`struct page`s) and the node's free-page count,
    /// read under the zone lock so the buddy lists cannot change meanwhile. For checkers outside
    /// the library (the frame audit of the tests and the stress run) that must not trust the
    /// counters alone.
    package func withFrameMetadata<R>(node: Int, _ body: (UnsafeBufferPointer<vmshim_page>, _ freePages: Int) -> R) -> R
    {
        allocator.withFrameMetadata(node: node, body)
    }

    /// Nodes of this system.
    package var nodeCount: Int { memory.nodeCount }
}
