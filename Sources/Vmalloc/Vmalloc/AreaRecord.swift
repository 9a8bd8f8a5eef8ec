/// One area of the vmalloc region (`struct vmap_area` + `struct vm_struct`).
struct AreaRecord: Sendable {
    var offset: Int
    var size: Int
    var requested: Int
    var nrPages: Int
    var flags: VMFlags
    var kind: AreaKind
    var caller: CallSite
    /// Frame blocks owned by the area (vmalloc only), as (pfn, order).
    var blocks: [(pfn: Int, order: Int)]
    var runs: [FrameRun]
    /// The node and alignment asked for; lazily freed areas are reused only for the same request.
    var node: Int
    var align: Int
    /// The next lazily freed area of the same reuse pool, or -1.
    var nextReusable: Int32 = -1
    var state: AreaState = .live
    /// The neighbours on the shard's lazy list (older, newer), or -1: an intrusive doubly linked
    /// list, so a reused area leaves it in O(1).
    var lazyPrev: Int32 = -1
    var lazyNext: Int32 = -1
    /// The address of the PTE table holding the area's first PTE (0: not known); lets vfree and
    /// reuse store the PTEs of a small area without walking the table.
    var leafTable: UInt = 0

    /// Mapped pages per node.
    func pagesPerNode(_ memory: PhysicalMemory) -> [Int] {
        var per = Array(repeating: 0, count: memory.nodeCount)
        for run in runs { per[memory.node(of: run.pfn)] += run.count }
        return per
    }

    /// The frames mapped, page by page.
    var frames: [Int] { runs.flatMap { run in (run.pfn..<(run.pfn + run.count)).map { $0 } } }
    var vmaCost: Int
    /// The protection the area was mapped with, and the spans `set_memory_*` changed ([]: none).
    var prot: PageProtection = .readWrite
    var permSpans: [PermSpan] = []

    /// The content of a vacant slot.
    static let vacant = AreaRecord(offset: 0, size: 0, requested: 0, nrPages: 0, flags: [], kind: .vmalloc,
                                   caller: CallSite(file: "", line: 0), blocks: [], runs: [], node: 0, align: 0,
                                   state: .vacant, vmaCost: 0)
}
