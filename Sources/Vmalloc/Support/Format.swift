/// The kernel's fixed-width number formats, for the /proc views and the fault reports.
enum Format {
    /// `%016lx`: 16 hex digits, zero-padded.
    static func hex(_ v: UInt) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }

    /// `%*lu`: right-aligned in `width` columns.
    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
