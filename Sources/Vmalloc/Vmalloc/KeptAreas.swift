/// Who keeps emptied vmalloc areas mapped for reuse instead of vfreeing them (the per-CPU
/// allocator's empty chunks). The VA space asks it to vfree them before it purges for a
/// shortage, reclaim or free page reporting, so that purge gives back their frames and VA too.
protocol KeptAreas: AnyObject, Sendable {
    /// Vfree every kept area but those always kept; returns how many went.
    @discardableResult
    func releaseKeptAreas() -> Int
}
