/// Who unmaps the lazily freed and lazily unmapped areas of the vmalloc space (the kernel's
/// `vm_unmap_aliases`). The page allocator calls it from `free` while a lazily unmapped
/// `vm_map_ram` area may still map a frame being freed, so a stale pointer never reaches a frame
/// someone else is about to own; from `allocate` when the buddy lists fall short, because a
/// lazily freed area's frames count as free memory (`MemFree`) and any allocation, `GFP_NOWAIT`
/// included, may have them — as the kernel drains its per-CPU page lists before reclaim; and
/// from free page reporting, so those frames are free before the free blocks are punched out.
protocol AliasPurger: AnyObject, Sendable {
    /// Unmap every lazily freed or unmapped area now; returns the frames that came back.
    @discardableResult
    func purgeAliases() -> Int
    /// Free page reporting's purge: vfree the areas kept for reuse (`KeptAreas`) that have been
    /// kept long enough, then unmap every lazily freed area if frees paused (`afterPause`) or
    /// some kept area went. Whether it purged, and whether kept areas wait for a later pass.
    func purgeIdleAliases(afterPause: Bool) -> (purged: Bool, waiting: Bool)
    /// Unmap every lazily unmapped `vm_map_ram` area that may still map a frame (`free`'s
    /// case), with the other lazily freed areas of its shard; returns the frames that came back.
    @discardableResult
    func purgeLingeringAliases() -> Int
}
