/// What the page allocator asks of reclaim (mm/vmscan.c as mm/page_alloc.c calls it): a
/// direct-reclaim pass, whether a pass can find more than the internal caches, the fs_reclaim
/// check of the locks an allocating thread holds, and each node's kswapd. Reclaim sits above the
/// allocator (shrinkers and kswapd allocate and free through it), so the allocator owns this
/// protocol and the reclaimer conforms; the system hands it over once built
/// (`PageAllocator.setReclaimer`). Called on the slow path only, and for the lock check only
/// while the thread holds a reclaim-tracked lock.
protocol PageReclaimer: AnyObject, Sendable {
    /// One direct-reclaim pass for an allocation with effective mask `gfp` over the zonelist
    /// `nodes` (`try_to_free_pages`); returns the frames it freed, the progress the retry policy
    /// looks at.
    func direct(gfp: GFP, order: Int, nodes: [Int]) -> Int

    /// Whether any shrinker is registered: without one, a pass that freed nothing leaves nothing
    /// reclaimable (the internal caches give back all they hold in every pass).
    var hasShrinkers: Bool { get }

    /// Check the reclaim-tracked locks this thread holds against an allocation with `gfp` under
    /// `scope` (`might_alloc` → `fs_reclaim_acquire`), naming `site` in a report.
    func checkHeldLocks(_ gfp: GFP, scope: ScopeFlags, site: @autoclosure () -> String)

    /// Ask `node`'s kswapd for a balancing run (`wakeup_kswapd`); the allocator calls it for the
    /// nodes of its zonelist that are below their low watermark.
    func wakeKswapd(node: Int)

    /// Whether `node`'s kswapd is reclaiming or about to: a round without own progress then
    /// sleeps longer, leaving it the CPU (`reclaim_throttle`).
    func isKswapdActive(node: Int) -> Bool
}
