// The reclaim side of the kernel-spelled API (mm/shrinker.c's registration, lockdep's
// fs_reclaim reports, mm/page_reporting.c): each method forwards to the subsystem that owns the
// state, and each free function acts on `MemorySystem.shared`.

extension MemorySystem {
    /// Register a cache's reclaim callbacks (`shrinker_alloc` + `shrinker_register`).
    ///
    /// - `requires`: gfp bits the effective mask must carry for this shrinker to be called at
    ///   all, e.g. `__GFP_FS` for a filesystem cache; passes without them skip it and count the
    ///   skip. Without it, `count`/`scan` see the mask in `ShrinkControl.gfp` and decide.
    /// - `seeks`: cost to recreate an object (`DEFAULT_SEEKS` = 2); higher scans less, 0 scans
    ///   half the cache each pass.
    /// - `count`: objects that could be freed now; 0 or `Shrinker.empty` to be skipped.
    /// - `scan`: free up to `nrToScan` objects, return how many were freed, or `Shrinker.stop`.
    ///
    /// The callbacks run on the reclaiming thread under the noreclaim scope: what they allocate
    /// never recurses into reclaim and may use the reserves below the min watermark.
    public func registerShrinker(
        name: String, requires: GFP = [], seeks: Int = DEFAULT_SEEKS,
        count: @escaping @Sendable (ShrinkControl) -> Int,
        scan: @escaping @Sendable (inout ShrinkControl) -> Int
    ) -> ShrinkerHandle {
        reclaim.register(name: name, requires: requires, seeks: seeks, count: count, scan: scan)
    }

    /// What the fs_reclaim checker reported for this system, oldest first (lockdep's splats,
    /// kept for tests and diagnostics).
    public var lockdepReports: [LockdepReport] { reclaim.lockdepReports }

    /// Give the memory of large free blocks back to the OS (mm/page_reporting.c, which reports
    /// free pages to a hypervisor): each free block of at least 2 MiB (`pageblock_order`) is
    /// punched out of its node's memfd, so the process's RSS drops; the frames stay free and are
    /// faulted in again, zeroed, when next used. Returns the bytes released. A failed
    /// `fallocate` leaves that block resident (and free) and moves on.
    @discardableResult
    public func reportFreePages() -> Int { allocator.reportFreePages() }

    /// Bytes of frames resident in the node memfds: what the host counts as this system's
    /// `Shmem`. Free frames stay resident until reported (`reportFreePages`), which the free page
    /// reporter does by itself after a burst of frees (`Configuration.freePageReportingDelay`).
    public func residentBytes() -> Int { memory.residentBytes() }
}

/// `registerShrinker` on `MemorySystem.shared`.
public func registerShrinker(
    name: String, requires: GFP = [], seeks: Int = DEFAULT_SEEKS,
    count: @escaping @Sendable (ShrinkControl) -> Int,
    scan: @escaping @Sendable (inout ShrinkControl) -> Int
) -> ShrinkerHandle {
    MemorySystem.shared.registerShrinker(name: name, requires: requires, seeks: seeks, count: count, scan: scan)
}
