import CShim
import Glibc

/// Huge vmalloc areas (`VM_ALLOW_HUGE_VMAP`, `vmalloc_huge`): order-9 frames in 2 MiB-aligned VA.
extension VmallocSpace {
    /// Pages of one PMD-sized block (2 MiB).
    static let hugeBlockPages = 512

    /// `nrPages` (a multiple of 512) as order-9 blocks, or nil (nothing kept) as soon as one is
    /// missing. As `vm_area_alloc_pages` does for high orders, NOFAIL is dropped; a failure is
    /// quiet and cheap (NORETRY) because the caller falls back to order 0.
    func allocHugeFrames(_ nrPages: Int, gfp: GFP, node: Int) -> [(pfn: Int, order: Int)]? {
        let order = Self.hugeBlockPages.trailingZeroBitCount
        let mask = gfp.subtracting(.noFail).union([.noWarn, .noRetry])
        var blocks: [(pfn: Int, order: Int)] = []
        for _ in 0..<(nrPages / Self.hugeBlockPages) {
            guard let p = allocator.allocate(mask, order: order, node: node, owner: VMSHIM_OWNER_VMALLOC) else {
                freeBlocks(blocks)
                return nil
            }
            blocks.append((p.pfn, order))
        }
        return blocks
    }

    /// How the host maps a huge area's 2 MiB blocks, from its shmem THP setting
    /// (/sys/kernel/mm/transparent_hugepage/shmem_enabled): "pmd" where it gives shmem objects
    /// huge pages unasked (always, within_size, force), "pte" otherwise (never, deny, advise:
    /// the frames' memfd is not advised). `vmallocinfo` prints it as `huge:pmd` / `huge:pte`.
    static let hugeMapping: String = {
        guard let f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "re") else { return "pte" }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 256)
        guard fgets(&buf, Int32(buf.count), f) != nil else { return "pte" }
        let line = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The active choice is the bracketed one: "always within_size advise [never] deny force".
        guard let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"), open < close else {
            return "pte"
        }
        let active = line[line.index(after: open)..<close]
        return ["always", "within_size", "force"].contains(active) ? "pmd" : "pte"
    }()
}
