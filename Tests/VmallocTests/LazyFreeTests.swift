import CShim
import Foundation
import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// `vfree` hands the frames back at once, as the kernel's does: only the mapping of a lazily
/// freed area lingers, so `MemFree`, and any allocation — `GFP_NOWAIT` included, which may not
/// reclaim — gets its frames without a shrinker being called.
@Suite(.serialized) struct LazyFreeTests {
    @Test func gfpNowaitGetsEveryFreedPageBackWithoutAShrinker() throws {
        // 32 MiB, of which a cache holds all but ~12 MiB: the freed 8 MiB is most of what is left.
        let sys = try makeSystem(mib: 32, minFreePages: 64)
        let cache = FrameCache(sys, name: "unrelated-cache")
        cache.fill(limit: sys.meminfo().memFree / 4096 - 3072)
        let before = sys.meminfo()
        let p = try #require(sys.vmalloc(8 << 20))
        for i in stride(from: 0, to: 8 << 20, by: 4096) { p.storeBytes(of: 1, toByteOffset: i, as: UInt8.self) }
        sys.vfree(p)
        // Only the page-table pages the area needed stay taken (they are never freed).
        let after = sys.meminfo()
        #expect(
            after.memFree == before.memFree - (after.pageTables - before.pageTables),
            "MemFree counts the lazily freed area's frames at once")

        var got: [Page] = []
        while got.count < 2048, let page = sys.alloc_page(GFP_NOWAIT) { got.append(page) }
        #expect(got.count == 2048, "GFP_NOWAIT got \(got.count) of the 2048 freed pages")
        #expect(cache.stats.calls == 0, "no shrinker was called")
        #expect(cache.count > 0)
        #expect(sys.vmstat()[.lazyDrains, default: 0] >= 1)
        for page in got { sys.__free_page(page) }
        cache.close()
        expectNothingLost(sys)
    }

    /// `lazy_max_pages`: 32 MiB of pages × `fls(num_online_cpus())`.
    @Test(arguments: [(1, 1), (2, 2), (3, 2), (4, 3), (16, 5)])
    func lazyMaxPagesScalesWithFlsOfTheCPUs(cpus: Int, fls: Int) {
        #expect(VmapAreas.lazyMaxPages(cpus: cpus) == fls * (32 << 20) / 4096)
    }

    /// The default threshold of a system large enough not to cap it (a quarter of its frames).
    @Test func defaultLazyThresholdIsTheKernels() throws {
        let sys = try makeSystem(mib: 1024)
        let cpus = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
        let fls = Int.bitWidth - cpus.leadingZeroBitCount
        #expect(sys.space.areas.lazyMaxPages == min(fls * (32 << 20) / 4096, sys.meminfo().memTotal / 4096 / 4))
        #expect(cpus > 1 || sys.space.areas.lazyMaxPages == 8192)
    }

    @Test func lazyFreeKeepsFramesUntilPurge() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let before = sys.meminfo()
        let p = try #require(sys.vmalloc(16 * 4096))
        let pfn = try #require(sys.vmalloc_to_pfn(p))
        sys.vfree(p)
        // Freed: the table no longer maps it, the frames are counted free but not reusable by others.
        #expect(sys.vmalloc_to_pfn(p) == nil)
        #expect(sys.find_vm_area(p) == nil)
        #expect(sys.vmallocinfo().contains("unpurged vm_area"))
        #expect(sys.meminfo().memFree == before.memFree - (sys.meminfo().pageTables - before.pageTables))
        let held = try #require(sys.alloc_pages(.kernel, 0))
        #expect(held.pfn != pfn)
        sys.__free_page(held)
        sys.vm_unmap_aliases()
        #expect(!sys.vmallocinfo().contains("unpurged"))
        expectNothingLost(sys)
    }

    /// align_shift_alloc_test's last steps ask for alignments larger than the whole region: no
    /// purge can make room for them, so they fail without unmapping every lazily freed area.
    @Test(arguments: [1 << 40, 1 << 62])
    func anAlignmentNoShardCanHoldFailsWithoutAPurge(align: Int) throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let p = try #require(sys.vmalloc(16 * 4096))
        sys.vfree(p)
        let purges = sys.vmstat()[.lazyPurges, default: 0]
        #expect(sys.__vmalloc_node(4096, align: align, .kernel.union(.noWarn), node: NUMA_NO_NODE) == nil)
        #expect(sys.vmstat()[.lazyPurges, default: 0] == purges, "nothing was purged")
        #expect(sys.vmallocinfo().contains("unpurged vm_area"))
        // An alignment the region can hold still succeeds.
        let q = try #require(sys.__vmalloc_node(4096, align: 1 << 21, .kernel, node: NUMA_NO_NODE))
        #expect(Int(bitPattern: q) % (1 << 21) == 0)
        sys.vfree(q)
        sys.vm_unmap_aliases()
        expectNothingLost(sys)
    }

    /// A free past its shard's share of the lazy threshold decays the shard's small pools
    /// (`decay_va_pool_node`) down to about half the share instead of unmapping them all; the
    /// areas left are reused with no syscall, a loop of vmalloc and vfree then never purges,
    /// even after another thread's shard has filled too, and a full purge (`vm_unmap_aliases`)
    /// still takes everything.
    @Test func thresholdPurgeKeepsHalfTheShareAndAChurningLoopNeverPurges() throws {
        let sys = try makeSystem(vmallocMiB: 4096, lazyMaxPages: 64)
        let areas = sys.space.areas
        let share = max(64 / areas.shardCount, 1)
        let ps = try (0..<100).map { _ in try #require(sys.vmalloc(4096)) }
        for p in ps { sys.vfree(p) }
        let purged = sys.vmstat()[.lazyPurges, default: 0]
        #expect(purged > 0 && purged < 100, "purged \(purged) of 100")
        #expect(areas.lazyPages >= share / 2 && areas.lazyPages <= share, "\(areas.lazyPages) pages held")
        // Another thread (its own home shard where there are two) fills its shard as well: a
        // region-wide count would now put this thread's shard past the threshold on every free.
        onNewThread {
            let qs = (0..<share).compactMap { _ in sys.vmalloc(4096) }
            for q in qs { sys.vfree(q) }
        }
        let reusedBefore = sys.vmstat()[.vmallocLazyReuse, default: 0]
        let purgesBefore = sys.vmstat()[.lazyPurges, default: 0]
        let syscalls = vmshim_thread_syscalls()
        for _ in 0..<1000 {
            let q = try #require(sys.vmalloc(4096))
            q.storeBytes(of: 7, as: Int.self)
            sys.vfree(q)
        }
        #expect(vmshim_thread_syscalls() == syscalls)
        #expect(sys.vmstat()[.lazyPurges, default: 0] == purgesBefore, "the loop purged")
        #expect(sys.vmstat()[.vmallocLazyReuse, default: 0] == reusedBefore + 1000)
        sys.vm_unmap_aliases()
        #expect(areas.lazyPages == 0)
        #expect(!sys.vmallocinfo().contains("unpurged"))
        expectNothingLost(sys)
    }

    @Test func lazyAreaReuseSkipsSyscalls() throws {
        let sys = try makeSystem(lazyMaxPages: 1 << 20)
        let p = try #require(sys.vmalloc(8 * 4096))
        sys.vfree(p)
        let before = vmshim_thread_syscalls()
        let q = try #require(sys.vmalloc(8 * 4096))
        #expect(vmshim_thread_syscalls() == before)
        #expect(sys.vmalloc_to_page(q) != nil)
        q.storeBytes(of: 7, as: Int.self)
        sys.vfree(q)
        expectNothingLost(sys)
    }
}
