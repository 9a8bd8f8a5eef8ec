import CShim
import CVmallocTestSupport
import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct SetMemoryTests {
    /// ro then rw of the middle of one run: the run's VMA splits in three and merges again,
    /// the budget follows, contents stay.
    @Test func setMemoryRwRestoresAndTheBudgetFollowsTheSplits() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(4 * 4096))
        let record = try #require(sys.space.areas.area(containing: p - sys.space.areas.base))
        try #require(record.runs.count == 1)
        fill(p, 4 * 4096, seed: 3)
        let used = sys.space.mapper.vmas.used.load(ordering: .relaxed)
        #expect(vmtest_count_vmas_in(p, p + 4 * 4096) == 1)
        #expect(sys.set_memory_ro(p + 4096, 2) == 0)
        #expect(vmtest_count_vmas_in(p, p + 4 * 4096) == 3)
        #expect(sys.space.mapper.vmas.used.load(ordering: .relaxed) == used + 2)
        #expect(check(p, 4 * 4096, seed: 3))
        #expect(sys.set_memory_x(p + 4096, 1) == 0)  // ro+x, ro, rw pages: one VMA more
        #expect(vmtest_count_vmas_in(p, p + 4 * 4096) == 4)
        #expect(sys.space.mapper.vmas.used.load(ordering: .relaxed) == used + 3)
        #expect(sys.set_memory_nx(p + 4096, 1) == 0)
        #expect(sys.set_memory_rw(p + 4096, 2) == 0)
        #expect(vmtest_count_vmas_in(p, p + 4 * 4096) == 1)
        #expect(sys.space.mapper.vmas.used.load(ordering: .relaxed) == used)
        fill(p, 4 * 4096, seed: 9)
        #expect(check(p, 4 * 4096, seed: 9))
        sys.vfree(p)
        expectNothingLost(sys)
    }

    /// With guard markers the guard page is mapped with the area: a change up to the area's end
    /// splits it off, and the budget counts that VMA too (it stays an upper bound).
    @Test func setMemoryUpToTheEndChargesTheGuardSplit() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(4 * 4096))
        let used = sys.space.mapper.vmas.used.load(ordering: .relaxed)
        let before = vmtest_count_vmas_in(p, p + 5 * 4096)
        #expect(sys.set_memory_ro(p, 4) == 0)
        let added = Int(vmtest_count_vmas_in(p, p + 5 * 4096) - before)
        #expect(sys.space.mapper.vmas.used.load(ordering: .relaxed) - used >= added)
        #expect(sys.set_memory_rw(p, 4) == 0)
        #expect(sys.space.mapper.vmas.used.load(ordering: .relaxed) == used)
        sys.vfree(p)
        expectNothingLost(sys)
    }

    @Test func pagesOutsideOneLiveAreaAreEinval() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(4 * 4096))
        let q = try #require(sys.vmalloc(4096))
        let freed = try #require(sys.vmalloc(4096))
        sys.vfree(freed)
        let page = try #require(sys.alloc_page(.kernel))
        let ram = try #require(sys.vm_map_ram([page]))
        let heap = try #require(malloc(4096))
        defer { free(heap) }
        let used = sys.space.mapper.vmas.used.load(ordering: .relaxed)
        let einval = -Int32(EINVAL)
        #expect(sys.set_memory_ro(p + 1, 1) == einval)  // not page-aligned
        #expect(sys.set_memory_ro(p, 5) == einval)  // past the end
        #expect(sys.set_memory_ro(p + 3 * 4096, 2) == einval)  // from inside, past the end
        #expect(sys.set_memory_ro(p + 4 * 4096, 1) == einval)  // the guard page
        #expect(sys.set_memory_ro(p, -1) == einval)
        #expect(sys.set_memory_x(freed, 1) == einval)  // freed
        #expect(sys.set_memory_ro(ram, 1) == einval)  // vm_map_ram: not a vmalloc or vmap area
        #expect(sys.set_memory_ro(heap, 1) == einval)  // outside the region
        #expect(sys.space.mapper.vmas.used.load(ordering: .relaxed) == used)
        // Nothing changed: every page still writable.
        fill(p, 4 * 4096, seed: 1)
        fill(q, 4096, seed: 2)
        #expect(check(p, 4 * 4096, seed: 1) && check(q, 4096, seed: 2))
        sys.vfree(p)
        sys.vfree(q)
        sys.vm_unmap_ram(ram, 1)
        sys.__free_page(page)
        expectNothingLost(sys)
    }

    @Test func vmapAreasTakeSetMemoryToo() throws {
        let sys = try makeSystem()
        let pages = (0..<3).compactMap { _ in sys.alloc_page(.kernel) }
        let p = try #require(sys.vmap(pages))
        #expect(sys.set_memory_ro(p, 3) == 0)
        #expect(sys.set_memory_rw(p, 3) == 0)
        p.storeBytes(of: 5, as: UInt8.self)
        #expect(sys.page_address(pages[0]).load(as: UInt8.self) == 5)
        sys.vunmap(p)
        for pg in pages { sys.__free_page(pg) }
        expectNothingLost(sys)
    }

    /// VM_FLUSH_RESET_PERMS: the read-only area is unmapped at vfree (not left lazily), and the
    /// allocations that take its addresses and frames next are writable.
    @Test func flushResetPermsLeavesLaterAreasWritable() async {
        await #expect(processExitsWith: .success) {
            let sys = try! makeSystem()
            let p = sys.vmalloc(3 * 4096)!
            precondition(sys.set_memory_ro(p, 3) == 0)
            sys.set_vm_flush_reset_perms(p)
            precondition(sys.find_vm_area(p)!.flags.contains(.flushResetPerms))
            let free0 = sys.meminfo().memFree
            sys.vfree(p)
            precondition(!sys.vmallocinfo().contains("unpurged"), "left lazily: \(sys.vmallocinfo())")
            precondition(sys.meminfo().memFree == free0 + 3 * 4096, "frames not back at once")
            let again = (0..<8).map { _ in sys.vmalloc(3 * 4096)! }
            precondition(again.contains(p), "the range was not reused")
            for q in again { fill(q, 3 * 4096, seed: 4) }
            for q in again { sys.vfree(q) }
        }
    }

    /// A VM_FLUSH_RESET_PERMS area whose size class is larger than the request (7 pages in an
    /// 8-page class, the owner after a one-page lead) leaves at vfree with nothing behind: the
    /// busy entry keyed by the area's start goes too, so the range serves later areas cleanly.
    @Test func flushResetPermsAreaWithALeadLeavesNothingBehind() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(7 * 4096))
        // The lead exists only with guard markers (size classes); without, this is a plain case.
        if sys.space.mapper.guardMarkers { #expect(sys.space.areas.slackPages == 1) }
        sys.set_vm_flush_reset_perms(p)
        sys.vfree(p)
        #expect(sys.find_vm_area(p) == nil)
        #expect(sys.vmallocinfo().isEmpty, "left behind: \(sys.vmallocinfo())")
        let again = (0..<16).compactMap { _ in sys.vmalloc(7 * 4096) }
        #expect(again.count == 16)
        for q in again { fill(q, 7 * 4096, seed: 5) }
        for q in again { #expect(check(q, 7 * 4096, seed: 5)) }
        #expect(sys.vmallocinfo().split(separator: "\n").count == 16)
        for q in again { sys.vfree(q) }
        expectNothingLost(sys)
    }

    /// Without the flag the area is freed lazily, and the reuse fast path must not revive it
    /// read-only for the next vmalloc of the same size.
    @Test func lazilyFreedReadOnlyAreaIsNotHandedOutReadOnly() async {
        await #expect(processExitsWith: .success) {
            let sys = try! makeSystem()
            let p = sys.vmalloc(3 * 4096)!
            precondition(sys.set_memory_ro(p, 3) == 0)
            sys.vfree(p)
            let q = sys.vmalloc(3 * 4096)!
            fill(q, 3 * 4096, seed: 6)
            sys.vfree(q)
            sys.vm_unmap_aliases()
            let r = sys.vmalloc(3 * 4096)!  // after the purge the range may come back: writable
            fill(r, 3 * 4096, seed: 7)
            sys.vfree(r)
        }
    }
}
