import CShim

extension PageAllocator {
    /// `alloc_pages_exact_nid` tried once, opportunistically: `pages` frames (at most 2^maxOrder)
    /// as one run of consecutive frames, out of the block of the order that covers them, whose
    /// tail goes back to the free lists at once. Held by `owner`, as aligned blocks largest first
    /// (each freed on its own with `free(pfn:order:)`). Nil, with nothing taken and no warning,
    /// unless such a block is free above the low watermark on a node of the zonelist of `node`
    /// (`NUMA_NO_NODE`: the local one; only `node` itself with `__GFP_THISNODE`): no drain, no
    /// reclaim, no wait, as the kernel's `__GFP_NORETRY` high-order try in
    /// `vm_area_alloc_pages`, so the caller falls back to smaller blocks where today's would.
    func allocExactOpportunistic(_ gfp: GFP, pages: Int, node: Int, owner: vmshim_owner) -> [(pfn: Int, order: Int)]? {
        let order = Int.bitWidth - (pages - 1).leadingZeroBitCount
        guard pages > 0, order <= Self.maxOrder else { return nil }
        guard
            let pfn = takeOpportunistic(
                gfp, node: node, { $0.takeExact(order: order, keep: pages, owner: owner, watermark: .low) })
        else { return nil }
        // The blocks `vmshim_zone_split` kept: the set bits of `pages`, largest first.
        var blocks: [(pfn: Int, order: Int)] = []
        blocks.reserveCapacity(pages.nonzeroBitCount)
        var at = pfn
        for o in stride(from: order, through: 0, by: -1) where pages & (1 << o) != 0 {
            blocks.append((at, o))
            at += 1 << o
        }
        return blocks
    }

    /// A block of 2^order frames tried once, opportunistically, as `allocExactOpportunistic`
    /// tries its block, held by `owner` as single frames every `stride` frames from its first,
    /// the others free again at once (`Zone.takeStrided`): each held frame is freed on its own
    /// with `free(pfn:order:)` at order 0. Returns the block's first pfn, or nil with nothing
    /// taken.
    func allocStridedOpportunistic(_ gfp: GFP, order: Int, stride: Int, node: Int, owner: vmshim_owner) -> Int? {
        guard order <= Self.maxOrder, stride > 0 else { return nil }
        return takeOpportunistic(
            gfp, node: node, { $0.takeStrided(order: order, stride: stride, owner: owner, watermark: .low) })
    }

    /// The first block `take` gets from a zone of the zonelist of `node`, each tried once: the
    /// opportunistic takes' walk (no drain, no reclaim, no wait), after `fail_page_alloc`'s
    /// chance to fail it (never a NOFAIL request).
    private func takeOpportunistic(_ gfp: GFP, node: Int, _ take: (Zone) -> Int?) -> Int? {
        if !gfp.contains(.noFail) && faults.shouldFail(.pageAlloc) { return nil }
        for n in nodeList(gfp, node: node).nodes {
            if let pfn = unretainedZones[n]._withUnsafeGuaranteedRef(take) { return pfn }
        }
        return nil
    }
}
