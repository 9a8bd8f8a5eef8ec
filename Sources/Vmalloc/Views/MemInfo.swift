/// Memory figures of one node (`/sys/devices/system/node/nodeN/meminfo`), in bytes.
public struct NodeMemInfo: Sendable, Equatable {
    public var node: Int
    public var memTotal: Int
    public var memFree: Int
    /// Bytes of page-table pages on this node.
    public var pageTables: Int
    /// Bytes of slab pages and large kmalloc blocks on this node.
    public var slab: Int
}

/// `/proc/meminfo` figures, in bytes; `description` prints the kernel's lines (in kB).
public struct MemInfo: Sendable, CustomStringConvertible {
    /// Frames managed by the page allocator.
    public var memTotal: Int
    /// Frames no one owns: the buddy lists plus the frames of lazily freed areas awaiting purge.
    public var memFree: Int
    /// Bytes of the vmalloc region (`VmallocTotal`).
    public var vmallocTotal: Int
    /// Bytes of pages in live vmalloc areas (`VmallocUsed`).
    public var vmallocUsed: Int
    /// Bytes of page-table pages (`PageTables`).
    public var pageTables: Int
    /// Bytes of slab pages, large kmalloc blocks included (`Slab`).
    public var slab: Int
    /// Bytes of per-CPU chunks, every CPU's unit (`Percpu`). The chunks are vmalloc areas, so
    /// their pages count in `vmallocUsed` too; one empty chunk stays as a spare, as in the kernel.
    public var percpu: Int = 0
    /// Per node.
    public var nodes: [NodeMemInfo]
    /// How vmalloc guard pages are made on this kernel: true for guard markers
    /// (`MADV_GUARD_INSTALL`, Linux 6.13+: plain areas in size classes, one VMA each), false for
    /// `PROT_NONE` pages of the reservation (exact sizes). Not a line of the kernel's format.
    public var vmallocGuardMarkers: Bool

    public var description: String {
        func line(_ k: String, _ v: Int) -> String {
            let key = k + ":"
            let num = String(v / 1024)
            return pad(key, 16, alignLeft: true) + pad(num, 8) + " kB"
        }
        return [
            line("MemTotal", memTotal), line("MemFree", memFree), line("Slab", slab),
            line("PageTables", pageTables), line("VmallocTotal", vmallocTotal),
            line("VmallocUsed", vmallocUsed), line("VmallocChunk", 0), line("Percpu", percpu),
        ].joined(separator: "\n") + "\n"
    }
}
