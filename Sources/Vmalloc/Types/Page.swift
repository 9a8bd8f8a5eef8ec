/// A page frame, named by its page frame number (`struct page` / `pfn`).
public struct Page: Hashable, Sendable, CustomStringConvertible {
    /// The page frame number: node n's frames are a contiguous range of pfns.
    public let pfn: Int
    /// The frame with this number.
    public init(pfn: Int) { self.pfn = pfn }
    public var description: String { "pfn:\(pfn)" }
}
