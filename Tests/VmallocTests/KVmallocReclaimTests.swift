import Synchronization
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct KVmallocReclaimTests {
    /// A GFP_NOFS kvmalloc on fragmented memory under pressure: its kmalloc attempt does no
    /// reclaim, and its vmalloc fallback (frames and page tables alike) reclaims without
    /// __GFP_FS, so a filesystem shrinker is asked but never with __GFP_FS.
    @Test func nofsKvmallocNeverEntersFSReclaimWithFS() throws {
        let sys = try makeSystem(mib: 16, minFreePages: 128)
        // Every frame held; the even ones are split between two caches, so whatever they give
        // back is order-0 frames without buddies: memory stays fragmented.
        var held: [Page] = []
        var fsFrames: [Page] = []
        var plainFrames: [Page] = []
        for p in holdAllFrames(sys) {
            if p.pfn % 2 == 1 {
                held.append(p)
            } else if p.pfn % 4 == 0 {
                fsFrames.append(p)
            } else {
                plainFrames.append(p)
            }
        }
        let fsCache = Lock(fsFrames)
        let plainCache = Lock(plainFrames)
        let fsMasks = Lock<[GFP]>([])
        let fs = sys.registerShrinker(
            name: "test-fs-cache",
            count: { _ in fsCache.withLock { $0.count } },
            scan: { sc in
                fsMasks.withLock { $0.append(sc.gfp) }
                // A filesystem cache must not be entered without __GFP_FS (super_cache_scan).
                guard sc.gfp.contains(.fs) else { return Shrinker.stop }
                let batch = fsCache.withLock { c in (0..<min(sc.nrToScan, c.count)).map { _ in c.removeLast() } }
                batch.forEach(sys.__free_page)
                return batch.count
            })
        let plain = sys.registerShrinker(
            name: "test-plain-cache",
            count: { _ in plainCache.withLock { $0.count } },
            scan: { sc in
                let batch = plainCache.withLock { c in (0..<min(sc.nrToScan, c.count)).map { _ in c.removeLast() } }
                batch.forEach(sys.__free_page)
                return batch.count
            })
        let p = try #require(sys.kvmalloc(64 << 10, GFP_NOFS))
        #expect(sys.is_vmalloc_addr(p))
        fill(p, 64 << 10, seed: 5)
        #expect(check(p, 64 << 10, seed: 5))
        let masks = fsMasks.withLock { $0 }
        #expect(!masks.isEmpty, "the allocation should have needed reclaim")
        #expect(masks.allSatisfy { !$0.contains(.fs) }, "FS shrinker entered with \(masks.filter { $0.contains(.fs) })")
        #expect(fsCache.withLock { $0.count } == fsFrames.count)
        sys.kvfree(p)
        fs.unregister()
        plain.unregister()
        held.forEach(sys.__free_page)
        fsCache.withLock { $0 }.forEach(sys.__free_page)
        plainCache.withLock { $0 }.forEach(sys.__free_page)
        sys.kmem_cache_shrink()
        expectNothingLost(sys)
    }
}
