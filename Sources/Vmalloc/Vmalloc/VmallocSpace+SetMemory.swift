import CShim
import Glibc

extension VMFlags {
    /// `VM_FLUSH_RESET_PERMS`: `vfree` resets the area's permissions and unmaps it at once.
    public static let flushResetPerms = VMFlags(rawValue: 0x100)
}

extension AreaRecord {
    /// The access bits page by page, as spans covering the area.
    var spans: [PermSpan] { covering(permSpans) }

    /// `permSpans`-style spans ([]: unchanged) as spans covering the area's mapping: its class's
    /// pages and, when it is mapped with them, the guard page (a change that stops short of
    /// them splits the VMA there too).
    func covering(_ spans: [PermSpan]) -> [PermSpan] {
        let mapped = classPages + (guardInMapping ? 1 : 0)
        return spans.isEmpty ? [PermSpan(page: 0, count: mapped, perms: PagePerms(prot))] : spans
    }

    /// The spans once `set` is added to and `clear` taken from pages [first, first + count),
    /// equal neighbours merged; [] when every page is back to the protection it was mapped with.
    func spans(setting set: PagePerms, clearing clear: PagePerms, first: Int, count: Int) -> [PermSpan] {
        var out: [PermSpan] = []
        func append(_ s: PermSpan) {
            guard s.count > 0 else { return }
            if let last = out.last, last.perms == s.perms { out[out.count - 1].count += s.count } else { out.append(s) }
        }
        for s in spans {
            let a = max(s.page, first)
            let b = min(s.page + s.count, first + count)
            guard a < b else {
                append(s)
                continue
            }
            append(PermSpan(page: s.page, count: a - s.page, perms: s.perms))
            append(PermSpan(page: a, count: b - a, perms: s.perms.union(set).subtracting(clear)))
            append(PermSpan(page: b, count: s.page + s.count - b, perms: s.perms))
        }
        return out.count == 1 && out[0].perms == PagePerms(prot) ? [] : out
    }

    /// VMAs that changes of access bits add: a change between two pages of one run splits the
    /// run's VMA, one between two runs splits nothing (they are separate VMAs already).
    func vmasAdded(by spans: [PermSpan]) -> Int {
        let runStarts = Set(runs.map(\.page))
        return spans.dropFirst().reduce(0) { $0 + (runStarts.contains($1.page) ? 0 : 1) }
    }

    /// `change_page_attr_set_clr` on pages [first, first + count) of this area (page indices
    /// from its VA start): mprotect of each span whose bits change through `mapper`, its VMA
    /// splits charged to the budget. 0, -EINVAL unless the pages lie inside the owner's, -ENOMEM
    /// when the VMA budget or mprotect fails; on an error nothing changes. Called by
    /// `VmapAreas.protect` on the record in place, under its shard's lock.
    mutating func changePerms(set: PagePerms, clear: PagePerms, first: Int, count: Int, mapper: VmapMapper) -> Int32 {
        // The owner's pages are the last of its class.
        guard first >= lead, count <= classPages - first else { return -EINVAL }
        let old = spans
        let new = spans(setting: set, clearing: clear, first: first, count: count)
        let delta = vmasAdded(by: new) - vmasAdded(by: permSpans)
        if delta > 0 && !mapper.vmas.charge(delta) { return -ENOMEM }
        if case .failure(let e) = mapper.protect(self, new, first: first, count: count) {
            _ = mapper.protect(self, old, first: first, count: count)
            if delta > 0 { mapper.vmas.release(delta) }
            return -e.rawValue
        }
        if delta < 0 { mapper.vmas.release(-delta) }
        permSpans = new
        vmaCost += delta
        return 0
    }
}

extension VmallocSpace {
    /// `set_memory_*`: `set` added to and `clear` taken from the access bits of `numpages`
    /// pages from `addr`, whole pages of one live vmalloc or vmap area
    /// (`AreaRecord.changePerms`). 0, -EINVAL when they are not, -ENOMEM when the VMA budget or
    /// mprotect fails; on an error nothing changes.
    func setMemory(_ addr: UnsafeMutableRawPointer, _ numpages: Int, set: PagePerms, clear: PagePerms) -> Int32 {
        guard numpages >= 0, areas.contains(addr), Int(bitPattern: addr) % PhysicalMemory.pageSize == 0 else {
            return -EINVAL
        }
        return areas.protect(offset: addr - areas.base, pages: numpages, set: set, clear: clear)
    }

    /// `set_vm_flush_reset_perms`: mark the vmalloc or vmap area containing `addr`
    /// `VM_FLUSH_RESET_PERMS`, so that its `vfree`/`vunmap` resets its permissions and unmaps it
    /// at once rather than lazily. An address outside such an area is reported and ignored.
    func setFlushResetPerms(_ addr: UnsafeMutableRawPointer) {
        let marked = areas.contains(addr) && areas.setFlushResetPerms(containing: addr - areas.base)
        if !marked {
            log.warn("set_vm_flush_reset_perms(\(addr)): no vmalloc or vmap area there", site: "flush-reset-perms")
        }
    }
}
