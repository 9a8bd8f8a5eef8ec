/// A run of consecutive frames mapped at consecutive addresses: one `mmap`.
struct FrameRun: Sendable {
    var page: Int  // index of the first page within the area
    var pfn: Int
    var count: Int
}
