import CShim

extension PageAllocator {
    /// Lend the metadata of every frame of `node` (`struct page`s) and the node's free-page count,
    /// read under the zone lock so the buddy lists cannot change meanwhile. For checkers outside
    /// the library (the frame audit of the tests and the stress run) that must not trust the
    /// counters alone.
    func withFrameMetadata<R>(node: Int, _ body: (UnsafeBufferPointer<vmshim_page>, _ freePages: Int) -> R) -> R {
        let z = zones[node]
        return z.lock.withLock { _ in
            body(
                UnsafeBufferPointer(start: memory.meta + z.firstPfn, count: z.managed),
                z.freeCount.load(ordering: .relaxed))
        }
    }
}
