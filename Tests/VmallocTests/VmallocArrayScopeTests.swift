import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite(.serialized) struct VmallocArrayScopeTests {
    /// Growth inside `withMemallocScope(.noFS)` is a NOFS allocation: reclaim for it runs (the
    /// plain cache gives frames back) but skips the filesystem shrinker instead of entering it
    /// with __GFP_FS, and holding that shrinker's lock across it is no lockdep report.
    @Test func growthInsideNoFSScopeNeverEntersFSReclaim() throws {
        let sys = try makeSystem(mib: 16, minFreePages: 128)
        let lock = ReclaimTrackedLock(name: "store_lock", 0)
        // The lock is declared, not taken, by the shrinker: a growth that did enter it would be
        // reported by lockdep and seen in its masks instead of deadlocking the test.
        let fsCache = FrameCache(sys, name: "fs-page-cache", requires: __GFP_FS)
        let plainCache = FrameCache(sys, name: "plain-cache")
        fsCache.shrinker.mightLock(lock)
        do {
            var a = try VmallocArray<UInt64>(system: sys)
            plainCache.fill(limit: 2048)
            fsCache.fill()
            try lock.withLock { _ in
                try withMemallocScope(.noFS) {
                    for i in 0..<(256 << 10) { try a.append(UInt64(i)) }
                }
            }
            #expect(a.count == 256 << 10 && a[12345] == 12345)
            #expect(plainCache.count < 2048, "the growth should have needed reclaim")
        }
        #expect(fsCache.stats.skippedForGFP > 0, "reclaim should have met the FS shrinker")
        #expect(fsCache.entered(with: __GFP_FS) == 0, "FS shrinker entered with \(fsCache.masks)")
        #expect(sys.lockdepReports.isEmpty, "\(sys.lockdepReports)")
        fsCache.close()
        plainCache.close()
        sys.kmem_cache_shrink()
        expectNothingLost(sys)
    }
}
