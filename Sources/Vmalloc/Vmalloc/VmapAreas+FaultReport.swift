extension VmapAreas {
    /// Where a fault in the region hit, as a KASAN report names it; `of` is the area the report
    /// names (a live one, or a remembered freed one).
    enum FaultSite {
        /// In the guard page after a live area, `bytes` past the end of its requested size.
        case overflow(bytes: Int, of: FreedArea)
        /// In the guard page of a live area, nearer the next live area: `bytes` before its start.
        case underflow(bytes: Int, of: FreedArea)
        /// Inside a recently freed area, `bytes` from its start.
        case useAfterFree(bytes: Int, of: FreedArea)
    }
}

extension VmapAreas: FaultReporter {
    /// The KASAN-like text for a fault in the region, or nil when it is neither in a guard page
    /// nor in a freed area.
    func faultReport(at faultAddress: UnsafeRawPointer, isWrite: Int32) -> String? {
        let offset = faultAddress - UnsafeRawPointer(base)
        guard let site = faultSite(at: offset) else { return nil }
        let (kind, place, area): (String, String, FreedArea) =
            switch site {
            case .overflow(let n, let a): ("vmalloc-out-of-bounds", "\(n) bytes to the right of", a)
            case .underflow(let n, let a): ("vmalloc-out-of-bounds", "\(n) bytes to the left of", a)
            case .useAfterFree(let n, let a): ("vmalloc-use-after-free", "\(n) bytes inside of freed", a)
            }
        let start = UInt(bitPattern: address(area.offset))
        let at = UInt(bitPattern: address(offset))
        let access = isWrite == 1 ? "Write" : isWrite == 0 ? "Read" : "Access"
        let rule = String(repeating: "=", count: 66)
        let region = "[0x\(Format.hex(start)), 0x\(Format.hex(start + UInt(area.requested))))"
        return """
            \(rule)
            BUG: KASAN: \(kind) at addr 0x\(Format.hex(at))
            \(access) at addr 0x\(Format.hex(at)) by task \(PageAllocator.comm)
            The buggy address is located \(place)
             \(area.requested)-byte region \(region)
            The buggy address belongs to the virtual mapping at
             [0x\(Format.hex(start)), 0x\(Format.hex(start + UInt(area.size)))) created by:
             \(area.caller)
            \(rule)

            """
    }
}
