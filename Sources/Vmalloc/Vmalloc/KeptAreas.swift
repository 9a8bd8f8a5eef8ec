/// Who keeps emptied vmalloc areas mapped for reuse instead of vfreeing them (the per-CPU
/// allocator's empty chunks). The VA space asks it to vfree them before it purges for a
/// shortage or reclaim (all of them) or free page reporting (those kept long enough), so that
/// purge gives back their frames and VA too.
protocol KeptAreas: AnyObject, Sendable {
    /// Vfree every kept area but those always kept (a shortage, reclaim); returns how many went.
    @discardableResult
    func releaseKeptAreas() -> Int
    /// Vfree the kept areas that have been kept long enough (free page reporting); how many
    /// went, and whether others are kept still, to be given back by a later pass.
    func releaseIdleKeptAreas() -> (released: Int, waiting: Bool)
}
