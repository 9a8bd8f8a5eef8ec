/// Size classes of plain page-aligned vmalloc areas, used when the kernel has guard markers
/// (`MADV_GUARD_INSTALL`): an area holds and maps the frames of its class, its owner's pages
/// come last — the returned address is `lead` pages into the area — and the page after the
/// class carries the guard marker, so the guard sits exactly at the requested end for every
/// owner without ever moving. A lazily freed area then serves any request of its class with no
/// syscall — mixed sizes reuse mapped memory — and areas need no PROT_NONE split to get a guard.
///
/// Why the owner sits at the end rather than at the start: a guard that followed the owner's
/// end would be a marker installed on a page an earlier owner may have touched, and installing
/// a marker zaps that page's PTE, a TLB shootdown interrupting every other CPU that runs this
/// process — two threads then ran at a third of one.
///
/// Because the guard follows the owner whatever its size, an area also serves a smaller request
/// of another class: the shard's hot area, the one freed last, is tried first
/// (`VmapShard.State.reuseHot`), so a loop of mixed sizes keeps touching the same frames.
///
/// Accounting (the kernel's figures stay exact): `nrPages`, `pages=` in vmallocinfo, PTEs,
/// `VmallocUsed` and `vmalloc_to_page` cover the requested pages only. The frames in front of
/// the owner (the lead: at most a quarter of the class, or within the shard's
/// `VmapAreas.hotSlackBudget` for a hot area's smaller owner) are held by the area: they are
/// not free, so they count neither in `MemFree` nor in `VmallocUsed`; `VmapAreas.slackPages`
/// says how many there are. Once the area is freed every frame of its class is lazily freed.
enum SizeClass {
    /// Requests above this many pages get exact areas (the reuse pools' direct range).
    static let maxPages = VmapAreas.smallPoolPages

    /// The class of `pages` pages: exact up to 6, then four classes per doubling (7–8 → 8,
    /// 9–10 → 10, …, 17–20 → 20, …, 65–80 → 80, …), exact again above `maxPages`.
    @inline(__always)
    static func pages(for pages: Int) -> Int {
        guard pages > 6, pages <= maxPages else { return pages }
        let high = 1 << (Int.bitWidth - 1 - (pages - 1).leadingZeroBitCount)  // largest power of two < pages
        let step = max(high / 4, 2)
        return (pages + step - 1) / step * step
    }
}
