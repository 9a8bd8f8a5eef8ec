import CShim
import Synchronization

/// The opt-in guard-page diagnostics (`Configuration.faultReports`): a SIGSEGV in a guard page
/// or in a freed area of a registered system prints a KASAN-like report, then the process dies
/// with SIGSEGV as before. Faults anywhere else pass through untouched.
enum FaultReports {
    typealias Reporter = @Sendable (_ address: UnsafeRawPointer, _ isWrite: Int32) -> String?

    private struct Region {
        let start: UInt
        let end: UInt
        let report: Reporter
    }
    private static let regions = Lock<[UInt: Region]>([:])

    static func register(base: UnsafeRawPointer, size: Int, _ report: @escaping Reporter) {
        let start = UInt(bitPattern: base)
        regions.withLock { $0[start] = Region(start: start, end: start + UInt(size), report: report) }
        vmshim_fault_reports_install(handler)
    }

    static func unregister(base: UnsafeRawPointer) {
        _ = regions.withLock { $0.removeValue(forKey: UInt(bitPattern: base)) }
    }

    // Runs in the signal handler. It only ever *tries* the locks, so a fault taken while one is
    // held (by this or a frozen thread) passes through instead of deadlocking. Building the
    // text allocates; that is tolerated because the process is about to die anyway.
    private static let handler: vmshim_fault_reporter = { addr, isWrite, buf, len in
        guard let addr, let buf else { return 0 }
        let a = UInt(bitPattern: addr)
        let found = regions.withLockIfAvailable { r in r.values.first { a >= $0.start && a < $0.end } } ?? nil
        guard let region = found, let text = region.report(UnsafeRawPointer(addr), isWrite) else { return 0 }
        let bytes = Array(text.utf8.prefix(Int(len)))
        for (i, b) in bytes.enumerated() { buf[i] = CChar(bitPattern: b) }
        return Int32(bytes.count)
    }
}

extension VmapAreas {
    /// The KASAN-like text for a fault at `offset` of the region, or nil when it is neither in
    /// a guard page nor in a freed area.
    func faultReport(offset: Int, isWrite: Int32) -> String? {
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
        let region = "[0x\(MemorySystem.hex(start)), 0x\(MemorySystem.hex(start + UInt(hit.r.requested))))"
        return """
            \(rule)
            BUG: KASAN: \(hit.kind) at addr 0x\(MemorySystem.hex(at))
            \(access) at addr 0x\(MemorySystem.hex(at)) by task \(PageAllocator.comm)
            The buggy address is located \(hit.where)
             \(hit.r.requested)-byte region \(region)
            The buggy address belongs to the virtual mapping at
             [0x\(MemorySystem.hex(start)), 0x\(MemorySystem.hex(start + UInt(hit.r.size)))) created by:
             \(hit.r.caller)
            \(rule)

            """
    }
}
