import CShim
import Glibc

extension VMFlags {
    /// `VM_FLUSH_RESET_PERMS`: `vfree` resets the area's permissions and unmaps it at once.
    public static let flushResetPerms = VMFlags(rawValue: 0x100)
}

/// Access bits of pages, with the values of `PROT_READ`, `PROT_WRITE` and `PROT_EXEC`.
struct PagePerms: OptionSet, Sendable, Hashable {
    let rawValue: Int32
    static let read = PagePerms(rawValue: 1)
    static let write = PagePerms(rawValue: 2)
    static let exec = PagePerms(rawValue: 4)

    init(rawValue: Int32) { self.rawValue = rawValue }
    init(_ prot: PageProtection) {
        switch prot {
        case .readWrite: self = [.read, .write]
        case .readOnly: self = .read
        case .none: self = []
        }
    }

    /// The protection as the shim's `mprotect` takes it: a `PAGE_NONE` page stays inaccessible
    /// whatever else is set, as a PTE without its present bit does.
    var shim: (prot: vmshim_prot, exec: vmshim_exec) {
        guard contains(.read) else { return (VMSHIM_PROT_NONE, VMSHIM_NOEXEC) }
        let prot = contains(.write) ? VMSHIM_PROT_READ_WRITE : VMSHIM_PROT_READ
        return (prot, contains(.exec) ? VMSHIM_EXEC : VMSHIM_NOEXEC)
    }
}

/// Pages [page, page + count) of an area that share their access bits.
struct PermSpan: Sendable, Equatable {
    var page: Int
    var count: Int
    var perms: PagePerms
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
}

extension MemorySystem {
    /// `change_page_attr_set_clr` on whole pages of one live vmalloc or vmap area: mprotect of
    /// each span whose bits change, its VMA splits charged to the budget. 0, -EINVAL when the
    /// pages are not inside one area, -ENOMEM when the VMA budget or mprotect fails; on an error
    /// nothing changes.
    func setMemory(_ addr: UnsafeMutableRawPointer, _ numpages: Int, set: PagePerms, clear: PagePerms) -> Int32 {
        let page = PhysicalMemory.pageSize
        guard numpages >= 0, space.areas.contains(addr), Int(bitPattern: addr) % page == 0 else { return -EINVAL }
        let offset = addr - space.areas.base
        // The shard lock is held across mprotect so the area cannot be freed and its VA reused
        // by another owner between the check and the change.
        return space.areas.shard(of: offset).state.withLock { s -> Int32 in
            guard let id = s.live(containing: offset), s.records[Int(id)].kind != .vmMapRam else { return -EINVAL }
            var r = s.records[Int(id)]
            let first = (offset - r.offset) / page
            // Page indices count from the area's VA start; the owner's pages are the last of its class.
            guard first >= r.lead, numpages <= r.classPages - first else { return -EINVAL }
            let old = r.spans
            let new = r.spans(setting: set, clearing: clear, first: first, count: numpages)
            let delta = r.vmasAdded(by: new) - r.vmasAdded(by: r.permSpans)
            if delta > 0 && !space.mapper.vmas.charge(delta) { return -ENOMEM }
            if case .failure(let e) = protect(r, new, first: first, count: numpages) {
                _ = protect(r, old, first: first, count: numpages)
                if delta > 0 { space.mapper.vmas.release(delta) }
                return -e.rawValue
            }
            if delta < 0 { space.mapper.vmas.release(-delta) }
            r.permSpans = new
            r.vmaCost += delta
            s.records[Int(id)] = r
            return 0
        }
    }

    /// mprotect the part of each span inside pages [first, first + count), up to the first failure.
    private func protect(_ r: AreaRecord, _ spans: [PermSpan], first: Int, count: Int) -> Result<Void, Errno> {
        let page = PhysicalMemory.pageSize
        for s in r.covering(spans) {
            let a = max(s.page, first)
            let b = min(s.page + s.count, first + count)
            guard a < b else { continue }
            let (prot, exec) = s.perms.shim
            let done = Result(
                returned: vmshim_protect(space.areas.address(r.offset + a * page), (b - a) * page, prot, exec))
            if case .failure = done { return done }
        }
        return .success(())
    }

    /// Make `numpages` pages from `addr` read-only (`set_memory_ro`). 0, or -EINVAL unless they
    /// are whole pages of one live vmalloc or vmap area (nothing changes).
    public func set_memory_ro(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
        setMemory(addr, numpages, set: [], clear: .write)
    }
    /// Make pages writable again (`set_memory_rw`); errors as `set_memory_ro`.
    public func set_memory_rw(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
        setMemory(addr, numpages, set: .write, clear: [])
    }
    /// Make pages executable (`set_memory_x`); errors as `set_memory_ro`.
    public func set_memory_x(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
        setMemory(addr, numpages, set: .exec, clear: [])
    }
    /// Make pages non-executable (`set_memory_nx`); errors as `set_memory_ro`.
    public func set_memory_nx(_ addr: UnsafeMutableRawPointer, _ numpages: Int) -> Int32 {
        setMemory(addr, numpages, set: [], clear: .exec)
    }

    /// Mark the vmalloc or vmap area containing `addr` `VM_FLUSH_RESET_PERMS`
    /// (`set_vm_flush_reset_perms`): its `vfree`/`vunmap` then resets its permissions and unmaps
    /// it at once rather than lazily. An address outside such an area is reported and ignored.
    public func set_vm_flush_reset_perms(_ addr: UnsafeMutableRawPointer) {
        let offset = addr - space.areas.base
        let marked =
            space.areas.contains(addr)
            && space.areas.shard(of: offset).state.withLock { s in
                guard let id = s.live(containing: offset), s.records[Int(id)].kind != .vmMapRam else { return false }
                s.records[Int(id)].flags.insert(.flushResetPerms)
                return true
            }
        if !marked {
            log.warn("set_vm_flush_reset_perms(\(addr)): no vmalloc or vmap area there", site: "flush-reset-perms")
        }
    }
}
