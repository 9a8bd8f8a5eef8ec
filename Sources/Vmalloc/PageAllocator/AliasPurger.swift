/// Who unmaps lazily unmapped `vm_map_ram` areas when one of the frames they still map is
/// freed (the kernel's `vm_unmap_aliases` before a frame changes hands). The page allocator
/// calls it from `free` while any such alias exists, so a stale pointer never reaches a frame
/// someone else is about to own.
protocol AliasPurger: AnyObject, Sendable {
    /// Unmap every lazily unmapped alias now.
    func purgeAliases()
}

/// The purger as the page allocator keeps it: weakly, because the purger (the vmalloc space)
/// holds the page allocator; a strong reference back would be a cycle that outlives the system.
struct WeakAliasPurger: Sendable {
    weak let purger: (any AliasPurger)?
}
