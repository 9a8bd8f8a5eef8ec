import CShim
import Glibc

/// The mmap engine of the vmalloc region (mm/vmalloc.c's `vmap_pages_range` as real mappings):
/// it reserves the region as one PROT_NONE mapping, maps runs of frames into it and returns
/// ranges to PROT_NONE, installs guard markers, changes protections for `set_memory_*`, and
/// keeps the VMA budget every mapping is charged to. It knows nothing of areas, shards or free
/// VA: `VmapAreas` decides where an area goes, the mapper makes it real.
/// Unchecked Sendable: `base` is a raw pointer fixed at init; the budget is atomic.
final class VmapMapper: @unchecked Sendable {
    /// The start of the reservation, 2 MiB-aligned.
    let base: UnsafeMutableRawPointer
    /// Bytes of the reservation (whole pages).
    let size: Int
    /// Whether owners' pages are populated when mapped (`MAP_POPULATE` or
    /// `MADV_POPULATE_WRITE`): no page fault on first touch.
    let populate: Bool
    /// Whether this kernel has guard markers on memfd mappings (`MADV_GUARD_INSTALL`, Linux
    /// 6.13+): then a plain area's guard page lives in its own mapping and areas come in size
    /// classes (`SizeClass`); else areas are exact and the guard is a page of the reservation.
    let guardMarkers: Bool
    /// The VMAs this region's mappings cost (`vm.max_map_count`).
    let vmas: VMABudget
    private let memory: PhysicalMemory
    private let faults: FaultInjector

    /// Reserve a region of `c.regionSize` bytes (rounded down to pages: 4 MiB … 64 TiB).
    init(_ c: VmallocSpace.Configuration, memory: PhysicalMemory, log: Printk, faults: FaultInjector)
        throws(MemorySystemError)
    {
        let size = c.regionSize / PhysicalMemory.pageSize * PhysicalMemory.pageSize
        guard size >= 1 << 22, size <= 1 << 46 else {
            throw .invalidConfiguration("vmallocSize must be 4 MiB...64 TiB, got \(c.regionSize)")
        }
        var reserved: UnsafeMutableRawPointer?
        if case .failure(let e) = Result(returned: vmshim_reserve(&reserved, size, 1 << 21)) {
            throw .systemCallFailed("mmap(vmalloc region, \(size) bytes)", errno: e.rawValue)
        }
        let b = reserved!
        base = b
        self.size = size
        self.memory = memory
        self.faults = faults
        populate = c.populate
        guardMarkers = vmshim_guard_probe() == 1
        vmas = VMABudget(limit: c.maxMapCount ?? Int.max)
        // A forked child must not silently share this region's MAP_SHARED frames.
        if case .failure = Result(returned: vmshim_region_register(b, size)) {
            log.warnOnce(
                "vmalloc: too many regions for fork hygiene: a forked child keeps access to this one",
                site: "region-register")
        }
    }

    deinit {
        vmshim_region_unregister(base)
        vmas.release(vmas.used.load(ordering: .relaxed))
        vmshim_release(base, size)
    }

    /// mmap each run at its place (one syscall per run). With `guardPage`, the last run's mmap
    /// reaches one page further (the memfd page after its frames, never populated) and that page
    /// gets a guard marker: the guard lives in the area's own VMA instead of splitting the
    /// reservation, and it never moves (owners of a class area end at its class's end). Only
    /// pages from `populateFrom` on (the owner's) are populated: a class's lead stays
    /// unpopulated, taking no memory until an owner uses it. On failure what was mapped is
    /// unmapped again.
    func mapRuns(
        offset: Int, runs: [FrameRun], prot: PageProtection, guardPage: Bool = false, populateFrom: Int = 0
    ) -> Result<Void, Errno> {
        let page = PhysicalMemory.pageSize
        for (i, run) in runs.enumerated() {
            let guarded = guardPage && i == runs.count - 1
            let skipped = min(max(populateFrom - run.page, 0), run.count)
            let filled = populate ? run.count - skipped : 0
            // One mmap with MAP_POPULATE when the whole run is the owner's; else populate after.
            let whole = filled == run.count && !guarded
            let at = base + offset + run.page * page
            var mapped = Result(
                returned: faults.shouldFail(.mmap)
                    ? -ENOMEM
                    : vmshim_map_shared(
                        at, (run.count + (guarded ? 1 : 0)) * page,
                        memory.fd(of: run.pfn), memory.fileOffset(of: run.pfn),
                        prot.shim, whole ? 1 : 0))
            if case .success = mapped, !whole {
                if guarded { mapped = Result(returned: vmshim_guard_install(at + run.count * page, page)) }
                if case .success = mapped, filled > 0 {
                    mapped = Result(returned: vmshim_madvise(at + skipped * page, filled * page, MADV_POPULATE_WRITE))
                }
                if case .failure = mapped {
                    unmap(offset: offset + run.page * page, bytes: (run.count + (guarded ? 1 : 0)) * page)
                }
            }
            if case .failure(let e) = mapped {
                for done in runs[..<i] { unmap(offset: offset + done.page * page, bytes: done.count * page) }
                return .failure(e)
            }
        }
        return .success(())
    }

    /// A batch of `count` one-page areas back to back from offset (`VmallocSpace.vmallocBatch`),
    /// each its page and its guard page: one `mmap` of the 2 × `count` consecutive frames from
    /// pfn (one node's) and a marker on every second page, so the frames under the markers,
    /// which are not the areas', stay unreachable here. With `populate`, each area's page is
    /// populated on its own (one `madvise` each: a populate fails on a marker), so a later owner
    /// of a pooled one takes no fault either. On failure what was mapped is unmapped.
    func mapOnePageBatch(offset: Int, pfn: Int, count: Int) -> Result<Void, Errno> {
        let page = PhysicalMemory.pageSize
        let at = base + offset
        let bytes = 2 * count * page
        let mapped = Result(
            returned: vmshim_map_shared(
                at, bytes, memory.fd(of: pfn), memory.fileOffset(of: pfn), PageProtection.readWrite.shim, 0))
        guard case .success = mapped else { return mapped }
        for i in 0..<count {
            let area = at + 2 * i * page
            var done = Result(returned: vmshim_guard_install(area + page, page))
            if case .success = done, populate {
                done = Result(returned: vmshim_madvise(area, page, MADV_POPULATE_WRITE))
            }
            if case .failure(let e) = done {
                unmap(offset: offset, bytes: bytes)
                return .failure(e)
            }
        }
        return .success(())
    }

    /// Return [offset, offset + bytes) to the PROT_NONE reservation.
    func unmap(offset: Int, bytes: Int) {
        // Replacing a mapping inside our own reservation cannot fail short of address-space
        // corruption; carrying on would hand out VA that still maps old frames.
        if case .failure(let e) = Result(returned: vmshim_map_none(base + offset, bytes)) {
            preconditionFailure("mmap(PROT_NONE) over a vmalloc range failed: \(e)")
        }
    }

    /// Return the areas of `batch` (in address order) to the reservation, adjacent ones in one
    /// syscall: a purge's unmap, the TLB flush of the kernel's `__purge_vmap_area_lazy`.
    func unmap(_ batch: [AreaRecord]) {
        var i = 0
        while i < batch.count {
            var end = batch[i].offset + batch[i].size
            var j = i + 1
            while j < batch.count && batch[j].offset == end {
                end += batch[j].size
                j += 1
            }
            unmap(offset: batch[i].offset, bytes: end - batch[i].offset)
            i = j
        }
    }

    /// mprotect the part of each of `spans` (an area's pages, `AreaRecord.covering`) inside
    /// pages [first, first + count) of the area `r`, up to the first failure.
    func protect(_ r: AreaRecord, _ spans: [PermSpan], first: Int, count: Int) -> Result<Void, Errno> {
        let page = PhysicalMemory.pageSize
        for s in r.covering(spans) {
            let a = max(s.page, first)
            let b = min(s.page + s.count, first + count)
            guard a < b else { continue }
            let (prot, exec) = s.perms.shim
            let done = Result(returned: vmshim_protect(base + r.offset + a * page, (b - a) * page, prot, exec))
            if case .failure = done { return done }
        }
        return .success(())
    }

    /// With guard markers, the reservation pieces are charged from the free ranges of each shard
    /// beyond its first (a shard starts as one range): a change of a shard's free tree took its
    /// range count from `before` to `after`. Without markers every area's cost already counts
    /// the piece its guard splits off.
    func countPieces(from before: Int, to after: Int) {
        guard guardMarkers else { return }
        let delta = max(after - 1, 0) - max(before - 1, 0)
        if delta > 0 { vmas.add(delta) } else if delta < 0 { vmas.release(-delta) }
    }
}
