extension PageAllocator {
    /// The `__GFP_NOFAIL` misuse checks that need no memory state (the kernel's `WARN_ON_ONCE`s
    /// in `__alloc_pages_slowpath` and `rmqueue`), warned once per call site. A mask that cannot
    /// block cannot wait for memory, so NOFAIL is dropped from it and the allocation may fail;
    /// above order 1 NOFAIL is kept but warned, since such blocks may never come back. The site is
    /// built only for a NOFAIL mask: the vmalloc fast path calls this on every allocation.
    func checkNofail(_ gfp: GFP, order: Int, site siteText: @autoclosure () -> String) -> GFP {
        guard gfp.contains(.noFail) else { return gfp }
        let site = siteText()
        guard gfp.allowsBlocking else {
            log.warnOnce(
                "WARNING: __GFP_NOFAIL with a mask that cannot block (\(gfp)): NOFAIL ignored, "
                    + "the allocation may fail (\(site))", site: "nofail-nowait@\(site)")
            return gfp.subtracting(.noFail)
        }
        if order > 1 {
            log.warnOnce(
                "WARNING: __GFP_NOFAIL allocation of order \(order) (\(gfp)): above order 1 it may "
                    + "wait for ever (\(site))", site: "nofail-order@\(site)")
        }
        return gfp
    }

    /// NOFAIL under `PF_MEMALLOC` (a shrinker, a noreclaim scope): it cannot reclaim and only
    /// waits for others to free memory (the kernel's `WARN_ON_ONCE(current->flags & PF_MEMALLOC)`).
    func warnNofailUnderMemalloc(_ gfp: GFP, site: String) {
        log.warnOnce(
            "WARNING: __GFP_NOFAIL under PF_MEMALLOC (\(gfp)): no reclaim possible, waiting for "
                + "memory to be freed (\(site))", site: "nofail-memalloc@\(site)")
    }
}
