import CShim
import Synchronization

/// The software page table of the vmalloc region (arch page tables, mm/memory.c's
/// `vmap_pages_range`): four levels of 512 entries whose table pages are frames of the page
/// allocator. Like the kernel's, its table pages are allocated with a fixed `GFP_KERNEL` mask,
/// whatever the vmalloc caller asked for — only the scope in force (`current_gfp_context`)
/// can constrain them, so vmalloc maps under a scope inferred from its caller's mask
/// (`VmallocSpace.mappingScope`).
/// Unchecked Sendable: the direct-map pointer is fixed; table entries are read and written atomically in C.
final class PageTable: @unchecked Sendable {
    /// The mask every table page is allocated with (`pte_alloc_kernel`, `pmd_alloc`...).
    static let tableGFP: GFP = [.kernel, .zero]

    private let memory: PhysicalMemory
    /// Where table pages come from.
    private let allocator: PageAllocator
    private let faults: FaultInjector
    private let direct: UnsafeMutablePointer<UInt8>
    let rootPfn: Int
    /// Table pages held per node, root included (`PageTables` in meminfo).
    private let perNode: Lock<[Int]>

    init?(allocator: PageAllocator, faults: FaultInjector) {
        self.allocator = allocator
        self.faults = faults
        memory = allocator.memory
        direct = memory.directBase.assumingMemoryBound(to: UInt8.self)
        guard let root = allocator.allocate(Self.tableGFP, order: 0, node: 0, owner: VMSHIM_OWNER_PAGETABLE)
        else { return nil }
        rootPfn = root.pfn
        var per = Array(repeating: 0, count: memory.nodeCount)
        per[memory.node(of: root.pfn)] = 1
        perNode = Lock(per)
    }

    /// Table pages held on each node.
    var pagesPerNode: [Int] { perNode.withLock { $0 } }

    /// Allocate every table the range [offset, offset + count pages) needs. False when a table
    /// page could not be had; tables installed so far stay (they are never freed, as in the
    /// kernel's vmalloc space, so a concurrent walker never sees one disappear).
    func populate(offset: Int, count: Int) -> Bool {
        let span = 1 << 21  // one PTE table maps 2 MiB
        var off = offset
        let end = offset + count * PhysicalMemory.pageSize
        while off < end {
            while true {
                let level = vmshim_pt_missing(direct, UInt64(rootPfn), UInt64(off))
                if level == 0 { break }
                guard !faults.shouldFail(.pageTableAlloc),
                    let page = allocator.allocate(
                        Self.tableGFP, order: 0, node: NUMA_NO_NODE,
                        owner: VMSHIM_OWNER_PAGETABLE, site: "pte_alloc")
                else { return false }
                if vmshim_pt_install(direct, UInt64(rootPfn), UInt64(off), level, UInt64(page.pfn)) == 1 {
                    perNode.withLock { $0[memory.node(of: page.pfn)] += 1 }
                } else {
                    allocator.free(pfn: page.pfn, order: 0)  // another thread installed it first
                }
            }
            off = (off / span + 1) * span
        }
        return true
    }

    /// Map `count` pages from offset to consecutive frames from pfn (tables must exist).
    func set(offset: Int, pfn: Int, count: Int) {
        vmshim_pt_set_run(direct, UInt64(rootPfn), UInt64(offset), UInt64(pfn), UInt64(count))
    }

    /// Map the part of `run` of the area at `base` that belongs to its owner — the pages from
    /// `first` on; the lead of its class stays unmapped — through `leaf`, the PTE table of `base`
    /// (or 0). The tables must exist. One run at a time: callers reading a record in place must
    /// not pass its runs array (that retains it).
    @inline(__always)
    func mapOwner(_ run: FrameRun, from first: Int, base: Int, leaf: UInt) {
        guard run.page + run.count > first else { return }
        let page = max(run.page, first)
        set(
            leaf: leaf, of: base, offset: base + page * PhysicalMemory.pageSize, pfn: run.pfn + page - run.page,
            count: run.page + run.count - page)
    }

    /// Unmap `count` pages from offset.
    func clear(offset: Int, count: Int) {
        vmshim_pt_clear(direct, UInt64(rootPfn), UInt64(offset), UInt64(count))
    }

    /// The address of the PTE table covering offset, 0 when it is missing. Table pages are never
    /// freed, so an area keeps this for its life (`AreaRecord.leafTable`).
    func leaf(offset: Int) -> UInt {
        UInt(bitPattern: vmshim_pt_leaf(direct, UInt64(rootPfn), UInt64(offset)))
    }

    /// The address of the PTE of `offset` in `leaf`, the PTE table of `offset` (or 0), when the
    /// PTEs of all `count` pages from offset lie in that table; 0 otherwise.
    static func directPTE(leaf: UInt, offset: Int, count: Int) -> UInt {
        guard leaf != 0, inLeaf(of: offset, offset, count) else { return 0 }
        return leaf + UInt((offset >> Int(VMSHIM_PAGE_SHIFT)) & 511) * UInt(MemoryLayout<UInt64>.stride)
    }

    /// Whether the PTE table of `base` also holds the PTEs of [offset, offset + count pages).
    @inline(__always)
    private static func inLeaf(of base: Int, _ offset: Int, _ count: Int) -> Bool {
        // One PTE table maps 512 pages: 2 MiB.
        let shift = Int(VMSHIM_PAGE_SHIFT)
        return base >> (shift + 9) == offset >> (shift + 9) && ((offset >> shift) & 511) + count <= 512
    }

    /// `set`, through `leaf`, the PTE table of `base`, when the pages all lie in it (no walk).
    @inline(__always)
    func set(leaf: UInt, of base: Int, offset: Int, pfn: Int, count: Int) {
        if let t = UnsafeMutablePointer<UInt64>(bitPattern: leaf), Self.inLeaf(of: base, offset, count) {
            let i = (offset >> Int(VMSHIM_PAGE_SHIFT)) & 511
            vmshim_pte_set(t, UInt64(i), UInt64(pfn), UInt64(count))
        } else {
            set(offset: offset, pfn: pfn, count: count)
        }
    }

    /// Map `count` pages from `offset`, the start of an area whose PTE table is `leaf` (or 0),
    /// to the frames of `pfns`, in order (tables must exist): through `leaf` when they all lie
    /// in it, else by walks.
    @inline(__always)
    func set(leaf: UInt, offset: Int, pfns: UnsafePointer<Int64>, count: Int) {
        if let t = UnsafeMutablePointer<UInt64>(bitPattern: leaf), Self.inLeaf(of: offset, offset, count) {
            vmshim_pte_set_list(t + ((offset >> Int(VMSHIM_PAGE_SHIFT)) & 511), pfns, UInt64(count))
        } else {
            vmshim_pt_set_list(direct, UInt64(rootPfn), UInt64(offset), pfns, UInt64(count))
        }
    }

    /// `clear`, through `leaf`, the PTE table of `base`, when the pages all lie in it.
    @inline(__always)
    func clear(leaf: UInt, of base: Int, offset: Int, count: Int) {
        if let t = UnsafeMutablePointer<UInt64>(bitPattern: leaf), Self.inLeaf(of: base, offset, count) {
            let i = (offset >> Int(VMSHIM_PAGE_SHIFT)) & 511
            vmshim_pte_clear(t, UInt64(i), UInt64(count))
        } else {
            clear(offset: offset, count: count)
        }
    }

    /// The frame mapped at offset (`vmalloc_to_pfn`), or nil.
    func lookup(offset: Int) -> Int? {
        let pfn = vmshim_pt_lookup(direct, UInt64(rootPfn), UInt64(offset))
        return pfn < 0 ? nil : Int(pfn)
    }
}
