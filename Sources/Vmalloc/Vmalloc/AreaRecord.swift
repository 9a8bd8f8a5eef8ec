import CShim

/// One area of the vmalloc region (`struct vmap_area` + `struct vm_struct`).
struct AreaRecord: Sendable {
    /// Where the area's VA starts (the key of the busy tree). Its owner starts `lead` pages later.
    var offset: Int
    /// The VA the area spans: its class's pages and the guard page.
    var size: Int
    var requested: Int
    /// The owner's pages (mapped, in the page table, in `VmallocUsed`).
    var nrPages: Int
    /// The frames the area holds and maps: `nrPages` rounded up to its `SizeClass` (or equal to
    /// it). The owner's pages are the last `nrPages` of them, so its guard is always page
    /// `classPages`; the `lead` pages before the owner stay mapped, with no PTE.
    var classPages: Int
    var flags: VMFlags
    var kind: AreaKind
    var caller: CallSite
    /// Frame blocks owned by the area (vmalloc only), as (pfn, order).
    var blocks: [(pfn: Int, order: Int)]
    var runs: [FrameRun]
    /// The page list a `vm_map_ram` area was made for ([] for any other area): its frames page
    /// by page, for a remap to compare and map (`maps`, `VmapShard.State.reviveMapRam`). The
    /// caller's own array, kept, not copied (arrays are copied on write).
    var mapRamList: [Page] = []
    /// The node asked for (`NUMA_NO_NODE`: any); lazily freed areas are reused only for a
    /// request of the same node.
    var node: Int
    /// The next lazily freed area of the same reuse pool, or -1.
    var nextReusable: Int32 = -1
    var state: AreaState = .live
    /// The next (newer) area on the shard's lazy list, or -1.
    var lazyNext: Int32 = -1
    /// The address of the PTE table holding the PTE of `offset` (0: not known); lets vfree and
    /// reuse store the PTEs of a small area without walking the table.
    var leafTable: UInt = 0
    /// The address of the PTE of `offset` when every page of the class maps one run of frames
    /// and all their PTEs lie in one PTE table (0 otherwise): reuse and vfree then store the
    /// owner's PTEs through it in one call, with no walk and no loop over the runs.
    var directPTE: UInt = 0
    /// The frame mapped at `offset` when `directPTE` is set (page k maps `directPfn + k`).
    var directPfn = 0

    /// The class's pages in front of the owner's (0 unless the area is of a `SizeClass`).
    var lead: Int { classPages - nrPages }

    /// Where the owner's pages start: the address vmalloc returned.
    var start: Int { offset + lead * PhysicalMemory.pageSize }

    /// Pages per node: the owner's pages of a live area, every frame of a lazily freed one.
    func pagesPerNode(_ memory: PhysicalMemory) -> [Int] {
        var per = Array(repeating: 0, count: memory.nodeCount)
        let first = state == .live ? lead : 0
        for run in runs where run.page + run.count > first {
            per[memory.node(of: run.pfn)] += run.page + run.count - max(run.page, first)
        }
        return per
    }

    /// The size the kernel would report (`vm_struct.size`): the owner's pages and the guard.
    var reportedSize: Int { size - lead * PhysicalMemory.pageSize }

    /// The frames mapped, page by page.
    var frames: [Int] { runs.flatMap { run in (run.pfn..<(run.pfn + run.count)).map { $0 } } }

    /// Whether `vm_map_ram` area `a` maps exactly `list`, page by page: `list` against its
    /// caller's list (`mapRamList`) — the same array buffer (a caller that keeps its list) in
    /// O(1), else one vectorised compare, with no work per run of frames. Static, on the record
    /// in its table, field by field: a method would copy the record (and retain its arrays).
    @inline(__always)
    static func maps(_ a: UnsafeMutablePointer<AreaRecord>, exactly list: [Page]) -> Bool {
        list.withUnsafeBufferPointer { l in
            a.pointee.mapRamList.withUnsafeBufferPointer { m in
                guard l.count == m.count else { return false }
                guard l.baseAddress != m.baseAddress else { return true }
                return vmshim_equal(l.baseAddress, m.baseAddress, l.count * MemoryLayout<Page>.stride)
            }
        }
    }
    var vmaCost: Int
    /// Whether the guard page is mapped with the last run and carries a guard marker (plain
    /// areas when the kernel has markers) rather than being a page of the reservation.
    var guardInMapping = false
    /// The protection the area was mapped with, and the spans `set_memory_*` changed ([]: none).
    var prot: PageProtection = .readWrite
    var permSpans: [PermSpan] = []
    /// The address of the page array a `VM_MAP_PUT_PAGES` vmap handed over with its pages (0:
    /// none), kept as bits so the record stays Sendable.
    var pageArray: UInt = 0

    /// The content of a vacant slot.
    static let vacant = AreaRecord(
        offset: 0, size: 0, requested: 0, nrPages: 0, classPages: 0, flags: [],
        kind: .vmalloc, caller: CallSite(file: "", line: 0), blocks: [], runs: [],
        node: 0, state: .vacant, vmaCost: 0)
}
