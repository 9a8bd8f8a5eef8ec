/// An internal cache that gives frames back under memory pressure: the lazily freed vmalloc
/// areas, the slab's kept empty slabs. Unlike a registered shrinker it is asked first on every
/// reclaim pass and needs no count: `reclaim` frees what it can at once.
protocol ReclaimSource: AnyObject, Sendable {
    /// Return cached frames to the page allocator; returns how many were freed.
    @discardableResult
    func reclaim() -> Int
}
