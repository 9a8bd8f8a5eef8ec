import CShim

// Lock order: each figure takes the locks it reads one at a time (shard, zone, page-table
// `perNode`, slab shard locks), never two together, so it cannot deadlock with the allocator.

/// The `/proc` files of one system (fs/proc, and the `s_show`s of mm/vmalloc.c and
/// mm/slab_common.c): read-only views over every subsystem, computed when asked.
struct ProcFS: Sendable {
    let memory: PhysicalMemory
    let allocator: PageAllocator
    let space: VmallocSpace
    let slab: SlabAllocator
    let percpu: PerCPUAllocator

    /// `/proc/meminfo`.
    func meminfo() -> MemInfo {
        let page = PhysicalMemory.pageSize
        // Lazy vmalloc areas hold frames no one owns; lazy vm_map_ram areas map their caller's.
        let (vmallocPages, lazyPerNode) = space.areas.usage(memory)
        let tables = space.pageTable.pagesPerNode
        let slabFrames = slab.framesPerNode
        let nodes = allocator.zones.map { z in
            NodeMemInfo(
                node: z.node, memTotal: z.managed * page,
                memFree: (z.freeCount.load(ordering: .relaxed) + lazyPerNode[z.node]) * page,
                pageTables: tables[z.node] * page, slab: slabFrames[z.node] * page)
        }
        return MemInfo(
            memTotal: nodes.reduce(0) { $0 + $1.memTotal },
            memFree: nodes.reduce(0) { $0 + $1.memFree },
            vmallocTotal: space.areas.regionSize,
            vmallocUsed: vmallocPages * page,
            pageTables: nodes.reduce(0) { $0 + $1.pageTables },
            slab: nodes.reduce(0) { $0 + $1.slab },
            percpu: percpu.bytes, nodes: nodes, vmallocGuardMarkers: space.mapper.guardMarkers)
    }

    /// `/proc/vmallocinfo`: one line per area, lazily freed ones as "unpurged vm_area".
    func vmallocinfo() -> String {
        var lines: [String] = []
        for r in space.areas.snapshot() {
            if r.state == .live {
                let start = UInt(bitPattern: space.areas.address(r.start))
                let size = r.reportedSize
                var l = "0x\(Format.hex(start))-0x\(Format.hex(start + UInt(size))) \(pad(size, 7))"
                switch r.kind {
                case .vmMapRam:
                    l += " vm_map_ram"
                case .vmap, .vmalloc:
                    l += " \(r.caller) pages=\(r.nrPages) \(r.kind == .vmap ? "vmap" : "vmalloc")"
                    if r.flags.contains(.userMap) { l += " user" }
                    if r.kind == .vmalloc && r.flags.contains(.allowHugeVmap) {
                        l += " huge:\(VmallocSpace.hugeMapping)"
                    }
                    for (n, c) in r.pagesPerNode(memory).enumerated() where c > 0 { l += " N\(n)=\(c)" }
                }
                lines.append(l)
            } else {
                let start = UInt(bitPattern: space.areas.address(r.offset))
                lines.append(
                    "0x\(Format.hex(start))-0x\(Format.hex(start + UInt(r.size))) \(pad(r.size, 7)) unpurged vm_area"
                )
            }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// `/proc/slabinfo` (version 2.1) of the kmalloc caches, largest first as the kernel lists
    /// them. SLUB has no tunables and counts every slab as active, as here.
    func slabinfo() -> String {
        var lines = [
            "slabinfo - version: 2.1",
            "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> "
                + ": tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>",
        ]
        for cache in slab.caches.reversed() {
            let t = slab.totals(cache)
            let name = cache.name + String(repeating: " ", count: max(0, 17 - cache.name.count))
            lines.append(
                "\(name) \(pad(t.inuse, 6)) \(pad(t.objects, 6)) \(pad(cache.size, 6))"
                    + " \(pad(cache.objects(order: cache.order), 4)) \(pad(1 << cache.order, 4))"
                    + " : tunables    0    0    0 : slabdata \(pad(t.slabs, 6)) \(pad(t.slabs, 6))      0"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `/proc/buddyinfo`: free blocks per order, per node.
    func buddyinfo() -> String {
        allocator.zones.map { z in
            "Node \(z.node), zone   Normal " + z.blockCounts.map { pad($0, 6) }.joined(separator: " ")
        }.joined(separator: "\n") + "\n"
    }

    /// `/proc/vmstat`-style counters of this system.
    func vmstat() -> [VMStatItem: Int] {
        var out = Dictionary(uniqueKeysWithValues: VMStatItem.allCases.map { ($0, allocator.stat[$0]) })
        // Counted per shard, under the shard lock the fast path holds anyway.
        out[.vmallocLazyReuse, default: 0] += space.areas.reused
        return out
    }

    /// Failed allocations by the mask the caller passed (page allocations and vmalloc), the
    /// breakdown behind `alloc_failures` and `vmalloc_failures`.
    func allocationFailuresByMask() -> [GFP: Int] {
        Dictionary(uniqueKeysWithValues: allocator.stat.failures.map { (GFP(rawValue: $0.key), $0.value) })
    }
}
