import CShim
import Synchronization

/// One node's frames (a `struct zone`): the buddy free lists behind a lock, and watermarks.
final class Zone: Sendable {
    /// The C free lists; only touched with `lock` held.
    /// Unchecked Sendable: a C pointer, dereferenced only with the zone lock held.
    struct Lists: @unchecked Sendable {
        let zone: UnsafeMutablePointer<vmshim_zone>
    }

    let node: Int
    let firstPfn: Int
    let managed: Int
    let minPages: Int
    let lowPages: Int
    let highPages: Int
    /// The lock and the free count share a line on purpose: both are written by every take
    /// and give, under the lock, so one line moves between the threads that use the zone.
    let lock: Lock<Lists>
    /// Free frames, readable without the lock (watermark checks, meminfo): the free lists' count,
    /// stored by whoever changed them, under the lock (a plain store: the lock orders the writers).
    let freeCount: Atomic<Int>

    init?(node: Int, memory: PhysicalMemory, minFreePages: Int?) {
        self.node = node
        firstPfn = memory.firstPfn(of: node)
        managed = memory.pagesPerNode
        guard let z = vmshim_zone_create(memory.meta + firstPfn, UInt32(managed)) else { return nil }
        lock = Lock(Lists(zone: z))
        freeCount = Atomic(managed)
        // min_free_kbytes = sqrt(lowmem_kbytes * 16), at least 128 KiB; low and high sit
        // above it by a quarter and a half (or 0.1% of the node, whichever is more).
        let kb = Double(managed * PhysicalMemory.pageSize / 1024)
        let minDefault = max(Int((kb * 16).squareRoot()) / 4, 32)
        let m = min(minFreePages ?? minDefault, managed / 4)
        let gap = max(m / 4, managed / 1000)
        minPages = m
        lowPages = m + gap
        highPages = m + 2 * gap
    }

    deinit { lock.withLock { vmshim_zone_destroy($0.zone) } }

    func threshold(_ w: Watermark) -> Int {
        switch w {
        case .low: lowPages
        case .min: minPages
        case .minHalf: minPages / 2
        case .none: 0
        }
    }

    /// Take a block of 2^order frames if that leaves the watermark free; returns its pfn.
    func take(order: Int, watermark: Watermark) -> Int? { take(order: order, watermark: watermark) { _, _ in } }

    /// Take the block of 2^order frames that covers `keep` frames (`alloc_pages_exact`) if that
    /// leaves the watermark free, marked as held by `owner`, and give its tail back at once
    /// (`vmshim_zone_split`): the first `keep` frames stay held as aligned blocks. Returns the pfn.
    /// The tail counts as never taken, not as freed (no `vmshim_account_freed`, no free event):
    /// it was free before the call, so neither reclaim progress nor a waiter gains by it.
    func takeExact(order: Int, keep: Int, owner: vmshim_owner, watermark: Watermark) -> Int? {
        // Cannot fail: idx heads the block of that order just taken, and keep is in range.
        take(order: order, owner: owner, watermark: watermark) {
            _ = vmshim_zone_split($0, $1, UInt32(order), UInt32(keep))
        }
    }

    /// Take a block of 2^order frames if that leaves the watermark free, held by `owner` as
    /// single frames every `stride` frames from its first, the others given back at once
    /// (`vmshim_zone_split_strided`; like `takeExact`'s tail, never counted as taken). Returns
    /// the pfn.
    func takeStrided(order: Int, stride: Int, owner: vmshim_owner, watermark: Watermark) -> Int? {
        // Cannot fail: idx heads the block of that order just taken, and stride is positive.
        take(order: order, owner: owner, watermark: watermark) {
            _ = vmshim_zone_split_strided($0, $1, UInt32(order), UInt32(stride))
        }
    }

    /// Take a block of 2^order frames if that leaves the watermark free, held by `owner`, and
    /// let `split` give part of it back under the same lock hold (`takeExact`, `takeStrided`).
    private func take(
        order: Int, owner: vmshim_owner, watermark: Watermark,
        split: (UnsafeMutablePointer<vmshim_zone>, UInt32) -> Void
    ) -> Int? {
        take(order: order, watermark: watermark) { zone, idx in
            zone.pointee.meta[Int(idx)].owner = owner
            split(zone, idx)
        }
    }

    /// Take a block of 2^order frames if that leaves the watermark free, and let `taken` change
    /// it (by its index in the zone) under the same lock hold; returns its pfn.
    @inline(__always)
    private func take(
        order: Int, watermark: Watermark, _ taken: (UnsafeMutablePointer<vmshim_zone>, UInt32) -> Void
    ) -> Int? {
        let need = 1 << order
        let mark = threshold(watermark)
        if freeCount.load(ordering: .relaxed) - need < mark { return nil }
        return lock.withLock { l in
            guard Int(vmshim_zone_free_pages(l.zone)) - need >= mark else { return nil }
            let idx = vmshim_zone_alloc(l.zone, UInt32(order))
            guard idx >= 0 else { return nil }
            taken(l.zone, UInt32(idx))
            freeCount.store(Int(vmshim_zone_free_pages(l.zone)), ordering: .relaxed)
            return firstPfn + Int(idx)
        }
    }

    /// Return a block; false when pfn does not head an allocated block of that order.
    func give(pfn: Int, order: Int) -> Bool {
        lock.withLock { l in
            let freed = Result(returned: vmshim_zone_free(l.zone, UInt32(pfn - firstPfn), UInt32(order)))
            guard case .success = freed else { return false }
            freeCount.store(Int(vmshim_zone_free_pages(l.zone)), ordering: .relaxed)
            return true
        }
    }

    /// Free blocks per order (`/proc/buddyinfo`).
    var blockCounts: [Int] {
        lock.withLock { l in
            var out = [UInt64](repeating: 0, count: Int(VMSHIM_NR_ORDERS))
            out.withUnsafeMutableBufferPointer { vmshim_zone_counts(l.zone, $0.baseAddress) }
            return out.map { Int($0) }
        }
    }
}
