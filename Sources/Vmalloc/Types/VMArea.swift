/// What a live area is, as `find_vm_area` reports it (`struct vm_struct`).
public struct VMArea: CustomStringConvertible {
    /// First byte of the area.
    public let addr: UnsafeMutableRawPointer
    /// Bytes of the area including its guard page.
    public let size: Int
    /// Bytes the caller asked for.
    public let requestedSize: Int
    /// Pages mapped.
    public let nrPages: Int
    /// `VM_*` flags.
    public let flags: VMFlags
    /// Where it was allocated (`file:line`), or the API that created it.
    public let caller: String
    /// Mapped pages per node, indexed by node.
    public let pagesPerNode: [Int]
    public var description: String { "\(addr) size \(size) pages=\(nrPages) \(caller)" }
}
