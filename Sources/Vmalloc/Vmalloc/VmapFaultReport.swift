extension VmapAreas: FaultReporter {
    /// The KASAN-like text for a fault in the region, or nil when it is neither in a guard page
    /// nor in a freed area.
    func faultReport(at faultAddress: UnsafeRawPointer, isWrite: Int32) -> String? {
        let offset = faultAddress - UnsafeRawPointer(base)
        let page = PhysicalMemory.pageSize
        let found: (kind: String, where: String, r: FreedArea)?? = shard(of: offset).state.withLockIfAvailable { s in
            func live(_ e: RangeTree.Entry) -> FreedArea {
                let r = s.records[Int(e.value)]
                return FreedArea(offset: r.start, size: r.reportedSize, requested: r.requested, caller: r.caller)
            }
            // In a live area's guard page: the overflow of that area, or the underflow of the
            // next one, whichever lies nearer.
            // A lazily freed area counts as absent: a fault in its guard page is a use after free.
            if let id = s.live(containing: offset), let e = s.busy.floor(offset) {
                let r = s.records[Int(id)]
                guard offset >= r.start + r.nrPages * page else { return nil }
                let right = offset - (r.start + r.requested)
                var next = s.busy.ceiling(offset)
                while let n = next, s.records[Int(n.value)].state != .live { next = s.busy.ceiling(n.end) }
                if let next, s.records[Int(next.value)].start - offset <= right {
                    let left = s.records[Int(next.value)].start - offset
                    return ("vmalloc-out-of-bounds", "\(left) bytes to the left of", live(next))
                }
                return ("vmalloc-out-of-bounds", "\(right) bytes to the right of", live(e))
            }
            if let f = s.freedNewestFirst.first(where: { offset >= $0.offset && offset < $0.offset + $0.size }) {
                return ("vmalloc-use-after-free", "\(offset - f.offset) bytes inside of freed", f)
            }
            return nil
        }
        guard let hit = found ?? nil else { return nil }
        let start = UInt(bitPattern: address(hit.r.offset))
        let at = UInt(bitPattern: address(offset))
        let access = isWrite == 1 ? "Write" : isWrite == 0 ? "Read" : "Access"
        let rule = String(repeating: "=", count: 66)
        let region = "[0x\(Format.hex(start)), 0x\(Format.hex(start + UInt(hit.r.requested))))"
        return """
            \(rule)
            BUG: KASAN: \(hit.kind) at addr 0x\(Format.hex(at))
            \(access) at addr 0x\(Format.hex(at)) by task \(PageAllocator.comm)
            The buggy address is located \(hit.where)
             \(hit.r.requested)-byte region \(region)
            The buggy address belongs to the virtual mapping at
             [0x\(Format.hex(start)), 0x\(Format.hex(start + UInt(hit.r.size)))) created by:
             \(hit.r.caller)
            \(rule)

            """
    }
}
