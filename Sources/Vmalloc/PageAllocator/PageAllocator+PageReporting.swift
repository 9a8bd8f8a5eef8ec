import CShim

// Lock order: one zone lock at a time; under it only fallocate (no other lock, no allocation),
// so a block cannot be handed out while its memory is punched.

extension PageAllocator {
    /// Give the memory of large free blocks back to the OS (mm/page_reporting.c, which reports
    /// free pages to a hypervisor): each free block of at least 2 MiB (`pageblock_order`) is
    /// punched out of its node's memfd, so the process's RSS drops; the frames stay free and are
    /// faulted in again, zeroed, when next used. Returns the bytes released. A failed
    /// `fallocate` leaves that block resident (and free) and moves on.
    @discardableResult
    func reportFreePages() -> Int {
        let pageblockOrder = 9
        var released = 0
        for z in zones {
            z.lock.withLock { l in
                let max = UInt32(z.managed >> pageblockOrder) + 1
                var idx = [UInt32](repeating: 0, count: Int(max))
                var ord = [UInt8](repeating: 0, count: Int(max))
                let n = vmshim_zone_free_blocks(l.zone, UInt32(pageblockOrder), &idx, &ord, max)
                // Under the zone lock: a block punched while someone allocates it would lose data.
                for i in 0..<Int(n) {
                    let pfn = z.firstPfn + Int(idx[i])
                    let bytes = PhysicalMemory.pageSize << Int(ord[i])
                    guard !faults.shouldFail(.fallocate) else { continue }
                    let punched = Result(
                        returned: vmshim_punch(memory.fd(of: pfn), memory.fileOffset(of: pfn), UInt64(bytes)))
                    if case .success = punched { released += bytes }
                }
            }
        }
        return released
    }

    /// Free page reporting's pass, after frees paused (`afterPause`) or while areas kept for
    /// reuse wait to be kept long enough: vfree those kept long enough and purge the lazily
    /// freed areas (through the `AliasPurger`), so their frames are free, then report every
    /// large free block. A pass that only waits for kept areas purges and reports nothing until
    /// one goes: a loop that reuses its areas without freeing frames keeps them. True while
    /// kept areas wait for a later pass.
    @discardableResult
    func giveBackFreeMemory(afterPause: Bool) -> Bool {
        let (purged, waiting) = purgeIdleAliases(afterPause: afterPause)
        if purged { reportFreePages() }
        return waiting
    }
}
