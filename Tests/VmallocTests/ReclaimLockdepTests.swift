import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite(.serialized) struct ReclaimLockdepTests {
    /// The shrinker is seen taking the lock in reclaim; later allocations that hold the lock are
    /// reported only when their effective mask could enter that shrinker.
    @Test func reportsLockHeldAcrossReclaimingAllocation() throws {
        let log = LogCapture()
        let sys = try makeSystem(minFreePages: 16, log: log)
        let lock = ReclaimTrackedLock(name: "inode_hash_lock", 0)
        let cache = FrameCache(sys, name: "fs-inode-cache", requires: __GFP_FS, lock: lock)
        cache.fill()
        // Reclaim for a GFP_KERNEL allocation enters the FS shrinker, which takes the lock.
        let page = try #require(sys.alloc_page(GFP_KERNEL))
        #expect(cache.stats.calls > 0)
        cache.release(1024)  // room, so nothing below reclaims (it would deadlock on the lock)
        #expect(sys.lockdepReports.isEmpty)

        lock.withLock { _ in
            withMemallocScope(.noFS) { sys.vfree(sys.vmalloc(4096, GFP_KERNEL)) }
            withMemallocScope(.noReclaim) { sys.vfree(sys.vmalloc(4096, GFP_KERNEL)) }
            sys.vfree(sys.vmalloc(4096, GFP_NOFS))
            sys.vfree(sys.vmalloc(4096, GFP_KERNEL | __GFP_NOLOCKDEP))
            sys.vfree(sys.__vmalloc(4096, GFP_NOWAIT))
        }
        #expect(sys.lockdepReports.isEmpty, "\(sys.lockdepReports)")

        lock.withLock { _ in sys.vfree(sys.vmalloc(4096, GFP_KERNEL)) }
        let r = try #require(sys.lockdepReports.first)
        #expect(sys.lockdepReports.count == 1)
        #expect(r.lock == "inode_hash_lock")
        #expect(r.shrinker == "fs-inode-cache")
        #expect(r.site.hasPrefix("VmallocTests/ReclaimLockdepTests.swift:"))
        #expect(r.gfp == GFP_KERNEL)
        #expect(r.reclaimClass.contains(__GFP_FS))
        #expect(sys.vmstat()[.lockdepReports]! == 1)
        #expect(
            log.all.contains {
                $0.contains("possible circular locking dependency") && $0.contains("inode_hash_lock")
            })

        sys.__free_page(page)
        cache.close()
        expectNothingLost(sys)
    }

    /// Lockdep is order-blind: an allocation seen holding the lock first is reported once a
    /// shrinker declares it takes the lock. Other systems' shrinkers do not count.
    @Test func declaredDependencyReportsEarlierAllocations() throws {
        let sys = try makeSystem()
        let other = try makeSystem()
        let lock = ReclaimTrackedLock(name: "journal_lock", 0)
        let journal = sys.registerShrinker(
            name: "journal-cache", requires: __GFP_FS, count: { _ in 0 }, scan: { _ in 0 })
        let foreign = other.registerShrinker(name: "foreign-cache", count: { _ in 0 }, scan: { _ in 0 })
        foreign.mightLock(lock)
        lock.withLock { _ in
            sys.vfree(sys.vmalloc(4096, GFP_NOFS))
            sys.vfree(sys.vmalloc(8192, GFP_KERNEL))
        }
        #expect(sys.lockdepReports.isEmpty)
        #expect(other.lockdepReports.isEmpty)
        journal.mightLock(lock)
        let r = try #require(sys.lockdepReports.first)
        #expect(sys.lockdepReports.count == 1)
        #expect(r.shrinker == "journal-cache")
        #expect(r.gfp == GFP_KERNEL)
        #expect(r.site.hasPrefix("VmallocTests/ReclaimLockdepTests.swift:"))
        #expect(other.lockdepReports.isEmpty)
        journal.unregister()
        foreign.unregister()
        expectNothingLost(sys)
    }

    /// A kernel-style shrinker without `requires:` that checks the mask itself: it was only seen
    /// taking the lock under FS reclaim, so only FS-capable allocations are reported.
    @Test func learnedClassIsTheMaskTheShrinkerWasSeenWith() throws {
        let sys = try makeSystem(minFreePages: 16)
        let lock = ReclaimTrackedLock(name: "xfs_ilock", 0)
        let cache = FrameCache(sys, name: "xfs-inode-cache", lock: lock)
        cache.fill()
        let page = try #require(sys.alloc_page(GFP_KERNEL))
        cache.release(1024)
        lock.withLock { _ in sys.vfree(sys.vmalloc(4096, GFP_NOFS)) }
        #expect(sys.lockdepReports.isEmpty)
        lock.withLock { _ in sys.vfree(sys.vmalloc(4096, GFP_KERNEL)) }
        #expect(sys.lockdepReports.map(\.reclaimClass) == [__GFP_IO | __GFP_FS])
        sys.__free_page(page)
        cache.close()
        expectNothingLost(sys)
    }
}
