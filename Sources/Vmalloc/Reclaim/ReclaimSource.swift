/// An internal cache that gives frames back under memory pressure: the lazily freed vmalloc
/// areas, the slab's kept empty slabs. Unlike a registered shrinker it is asked first on every
/// reclaim pass and needs no count: `reclaim` frees what it can at once.
protocol ReclaimSource: AnyObject, Sendable {
    /// Return cached frames to the page allocator; returns how many were freed.
    @discardableResult
    func reclaim() -> Int
}

/// A reclaim source as the reclaimer keeps it: weakly, because the source (vmalloc space,
/// slab) holds the page allocator, which owns the reclaimer; a strong reference back would
/// keep a `MemorySystem`'s parts alive after the system is gone.
struct WeakReclaimSource: Sendable {
    weak let source: (any ReclaimSource)?
}
