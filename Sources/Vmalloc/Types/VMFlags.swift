/// Flags of a vmalloc-space area (`VM_*` in include/linux/vmalloc.h).
public struct VMFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    /// Flags from raw `VM_*` bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `VM_IOREMAP`.
    public static let ioremap = VMFlags(rawValue: 0x1)
    /// `VM_ALLOC`: frames allocated by vmalloc.
    public static let alloc = VMFlags(rawValue: 0x2)
    /// `VM_MAP`: frames supplied by the caller of vmap.
    public static let map = VMFlags(rawValue: 0x4)
    /// `VM_USERMAP`: suitable for remap_vmalloc_range.
    public static let userMap = VMFlags(rawValue: 0x8)
    /// `VM_NO_GUARD`: no guard page after the area (vmap clears it with a warning).
    public static let noGuard = VMFlags(rawValue: 0x40)
    /// `VM_MAP_PUT_PAGES`: vmap takes the pages over; `vfree` of the area frees each of them
    /// (as `__free_page`), `vunmap` does not.
    public static let mapPutPages = VMFlags(rawValue: 0x200)
    /// `VM_ALLOW_HUGE_VMAP`: may be mapped with huge (2 MiB) alignment.
    public static let allowHugeVmap = VMFlags(rawValue: 0x400)
}
