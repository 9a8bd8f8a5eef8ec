/// A run of consecutive frames mapped at consecutive addresses: one `mmap`.
struct FrameRun: Sendable {
    var page: Int  // index of the first page within the area
    var pfn: Int
    var count: Int
}

extension FrameRun {
    /// Add `count` frames from `pfn`, mapped from page `page` of the area on, to `runs`: they
    /// lengthen the last run when they follow its frames on the same node (one `mmap` maps one
    /// node's memfd), else they start a run. The one place runs are merged.
    static func append(pfn: Int, count: Int, page: Int, to runs: inout [FrameRun], memory: PhysicalMemory) {
        if let last = runs.last, last.pfn + last.count == pfn, memory.node(of: last.pfn) == memory.node(of: pfn) {
            runs[runs.count - 1].count += count
        } else {
            runs.append(FrameRun(page: page, pfn: pfn, count: count))
        }
    }
}
