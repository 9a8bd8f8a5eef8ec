/// The kernel's fixed-width hex format, for the /proc views and the fault reports (`pad` does
/// the decimal widths).
enum Format {
    /// `%016lx`: 16 hex digits, zero-padded.
    static func hex(_ v: UInt) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }
}
