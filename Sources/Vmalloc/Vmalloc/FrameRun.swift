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

    /// A 64-bit fingerprint of a frame list (FNV-1a over the pfns, seeded with the count): the
    /// key under which lazily unmapped `vm_map_ram` areas wait to be reused by the same frames,
    /// so a lookup hashes one word instead of the whole list. Equal lists have equal prints; a
    /// hit is still checked frame by frame.
    static func fingerprintSeed(_ count: Int) -> UInt64 { 0xcbf2_9ce4_8422_2325 ^ UInt64(count) }
    static func fingerprint(_ h: UInt64, _ pfn: Int) -> UInt64 { (h ^ UInt64(pfn)) &* 0x100_0000_01b3 }
    static func fingerprint(_ list: [Page]) -> UInt64 {
        list.reduce(fingerprintSeed(list.count)) { fingerprint($0, $1.pfn) }
    }
}
