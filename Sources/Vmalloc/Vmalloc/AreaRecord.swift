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
}
