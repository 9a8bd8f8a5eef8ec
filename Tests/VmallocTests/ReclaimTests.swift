import Foundation
import Synchronization
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// Frames held outside any shrinker: memory no reclaim can get back.
func hogAllMemory(_ sys: MemorySystem) -> HeldFrames {
    let held = HeldFrames(sys)
    held.fill()
    return held
}

func elapsedMs(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
}

@Suite(.serialized) struct ReclaimTests {
    @Test func nofailWaitsForAnotherThreadToFree() throws {
        let sys = try makeSystem(minFreePages: 16)
        let hog = hogAllMemory(sys)
        #expect(freePages(sys) == 0)
        // Without NOFAIL: bounded no-progress rounds, then nil with a report.
        var plain: UnsafeMutableRawPointer?
        let plainMs = elapsedMs { plain = sys.vmalloc(16 * 4096, GFP_KERNEL) }
        #expect(plain == nil)
        #expect(plainMs < 2000)
        #expect(sys.vmstat()[.vmallocFailures]! >= 1)
        #expect(sys.allocationFailuresByMask()[GFP_KERNEL, default: 0] >= 1)

        let released = Counter()
        let freer = Thread {
            usleep(200_000)
            released.add()
            hog.release(64)
        }
        freer.start()
        var p: UnsafeMutableRawPointer?
        let ms = elapsedMs { p = sys.vmalloc(16 * 4096, GFP_KERNEL | __GFP_NOFAIL) }
        let area = try #require(p)
        #expect(released.count == 1)
        #expect(ms >= 150)
        #expect(sys.vmstat()[.nofailRetries]! > 0)
        fill(area, 16 * 4096, seed: 3)
        #expect(check(area, 16 * 4096, seed: 3))
        sys.vfree(area)
        hog.release(.max)
        expectNothingLost(sys)
    }

    @Test func nowaitUnderPressureCallsNoShrinkerAndReturnsPromptly() throws {
        let sys = try makeSystem(minFreePages: 16)
        let cache = FrameCache(sys, name: "anon-cache")
        cache.fill()
        let stalls = sys.vmstat()[.allocstall]!
        for mask in [GFP_NOWAIT, GFP_ATOMIC | __GFP_NOWARN, GFP_NOWAIT | __GFP_NOFAIL] {
            var p: UnsafeMutableRawPointer?
            let ms = elapsedMs { p = sys.__vmalloc(8 * 4096, mask) }
            #expect(p == nil, "\(mask)")
            #expect(ms < 100, "\(mask) took \(ms) ms")
            #expect(sys.alloc_pages(mask, 0) == nil)
        }
        #expect(cache.stats.calls == 0)
        #expect(cache.masks.isEmpty)
        #expect(sys.vmstat()[.allocstall]! == stalls)
        cache.close()
        expectNothingLost(sys)
    }

    @Test func noretryMakesAtMostOneReclaimPass() throws {
        let sys = try makeSystem(minFreePages: 16)
        let hog = hogAllMemory(sys)
        // A cache that says it has objects but frees none: every pass makes no progress.
        let stubborn = sys.registerShrinker(name: "pinned-cache", count: { _ in 1000 }, scan: { _ in 0 })
        var passes = sys.vmstat()[.directReclaimPasses]!
        #expect(sys.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0) == nil)
        #expect(sys.vmstat()[.directReclaimPasses]! - passes == 1)
        #expect(stubborn.stats.calls > 0)

        passes = sys.vmstat()[.directReclaimPasses]!
        #expect(sys.__vmalloc(8 * 4096, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN) == nil)
        #expect(sys.vmstat()[.directReclaimPasses]! - passes <= 1)

        // The default mask retries: more than one pass before it gives up.
        passes = sys.vmstat()[.directReclaimPasses]!
        #expect(sys.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) == nil)
        #expect(sys.vmstat()[.directReclaimPasses]! - passes == PageAllocator.maxReclaimRetries)
        stubborn.unregister()
        hog.release(.max)
        expectNothingLost(sys)
    }

    @Test func costlyOrdersGiveUpUnlessRetryMayFail() throws {
        let sys = try makeSystem(minFreePages: 16)
        let hog = hogAllMemory(sys)
        // Frees one frame per scan call: progress every pass, an order-5 block only after many.
        let trickle = sys.registerShrinker(
            name: "trickle", count: { _ in 1 },
            scan: { sc in
                hog.release(1)
                sc.nrScanned = 1
                return 1
            })
        var passes = sys.vmstat()[.directReclaimPasses]!
        #expect(sys.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 5) == nil)  // costly: one pass
        #expect(sys.vmstat()[.directReclaimPasses]! - passes == 1)

        passes = sys.vmstat()[.directReclaimPasses]!
        let block = try #require(sys.alloc_pages(GFP_KERNEL | __GFP_RETRY_MAYFAIL, 5))
        #expect(
            sys.vmstat()[.directReclaimPasses]! - passes > 1, "RETRY_MAYFAIL kept retrying while reclaim progressed")
        trickle.unregister()

        // Without progress RETRY_MAYFAIL gives up after the bounded rounds.
        let rest = hogAllMemory(sys)
        let stubborn = sys.registerShrinker(name: "pinned-cache", count: { _ in 1000 }, scan: { _ in 0 })
        passes = sys.vmstat()[.directReclaimPasses]!
        #expect(sys.alloc_pages(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN, 5) == nil)
        #expect(sys.vmstat()[.directReclaimPasses]! - passes == PageAllocator.maxReclaimRetries)
        stubborn.unregister()
        sys.__free_pages(block, 5)
        rest.release(.max)
        hog.release(.max)
        expectNothingLost(sys)
    }

    @Test func shrinkerScanFollowsDoShrinkSlab() throws {
        let sys = try makeSystem(minFreePages: 16)
        let cache = FrameCache(sys, name: "big-cache")
        cache.fill()
        let before = cache.count
        // One pass asks for SWAP_CLUSTER_MAX frames; scans come in batches of at most 128.
        let freed = sys.reclaim.shrink(gfp: GFP_KERNEL, node: 0, target: 32)
        #expect(freed >= 32)
        #expect(freed <= 2 * SHRINK_BATCH)
        #expect(before - cache.count == freed)
        #expect(cache.stats.freed == freed)

        // Shrinker.stop ends the shrinker's pass; unregistered shrinkers are never called again.
        let stops = Counter()
        let stopper = sys.registerShrinker(
            name: "stopper", count: { _ in 10_000 },
            scan: { _ in
                stops.add()
                return Shrinker.stop
            })
        _ = sys.reclaim.shrink(gfp: GFP_KERNEL, node: 0, target: .max)
        #expect(stops.count >= 1)
        #expect(stops.count <= Reclaimer.defPriority + 1)  // at most one call per priority
        #expect(sys.vmstat()[.shrinkerStops]! == stops.count)
        stopper.unregister()
        let calls = stopper.stats.calls
        _ = sys.reclaim.shrink(gfp: GFP_KERNEL, node: 0, target: .max)
        #expect(stopper.stats.calls == calls)
        cache.close()
        expectNothingLost(sys)
    }

    @Test func shrinkersRunUnderNoReclaimAndMayUseReserves() throws {
        let sys = try makeSystem(minFreePages: 16)
        let hog = hogAllMemory(sys)
        hog.release(8)  // below the min watermark: only PF_MEMALLOC may take these
        let got = Lock<[Page]>([])
        let scopes = Lock<[GFP]>([])
        let h = sys.registerShrinker(
            name: "allocating-shrinker", count: { _ in 1 },
            scan: { sc in
                scopes.withLock { $0.append(current_gfp_context(GFP_KERNEL)) }
                if let p = sys.alloc_page(GFP_KERNEL) { got.withLock { $0.append(p) } }
                return 0
            })
        #expect(sys.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0) == nil)
        #expect(got.withLock { $0.count } == 1, "the shrinker's allocation used the reserve")
        #expect(sys.vmstat()[.directReclaimPasses]! == 1, "and did not recurse into reclaim")
        h.unregister()
        for p in got.withLock({ $0 }) { sys.__free_page(p) }
        hog.release(.max)
        expectNothingLost(sys)
    }

    @Test func kswapdFreesFSCachesForNOFSAllocations() throws {
        // Without kswapd a GFP_NOFS allocation cannot touch the FS cache and fails.
        let alone = try makeSystem(kswapd: false, minFreePages: 16)
        let aloneCache = FrameCache(alone, name: "fs-inode-cache", requires: __GFP_FS)
        aloneCache.fill()
        #expect(alone.__vmalloc(64 * 4096, GFP_NOFS | __GFP_NOWARN) == nil)
        #expect(aloneCache.stats.skippedForGFP > 0)
        #expect(aloneCache.masks.isEmpty)
        aloneCache.close()
        expectNothingLost(alone)

        let sys = try makeSystem(kswapd: true, minFreePages: 16)
        let fsCache = FrameCache(sys, name: "fs-inode-cache", requires: __GFP_FS)
        fsCache.fill()
        let cached = fsCache.count
        let p = try #require(sys.__vmalloc(64 * 4096, GFP_NOFS))
        #expect(sys.vmstat()[.kswapdWakeups]! > 0)
        #expect(sys.vmstat()[.pgstealKswapd]! > 0)
        #expect(fsCache.count < cached)
        #expect(fsCache.masks.allSatisfy { $0 == GFP_KERNEL }, "only kswapd (GFP_KERNEL) entered it")
        sys.vfree(p)
        fsCache.close()
        expectNothingLost(sys)
    }

    @Test func kswapdRestoresTheHighWatermark() throws {
        let sys = try makeSystem(kswapd: true, minFreePages: 16)
        let cache = FrameCache(sys, name: "anon-cache")
        cache.fill()
        let zone = sys.allocator.zones[0]
        // GFP_NOWAIT never reclaims itself but wakes kswapd (which may already have freed
        // frames by the time it retries the min watermark).
        let page = sys.alloc_page(GFP_NOWAIT)
        #expect(sys.vmstat()[.kswapdWakeups]! == 1)
        #expect(sys.vmstat()[.directReclaimPasses]! == 0)
        let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
        while freePages(sys) < zone.highPages && DispatchTime.now().uptimeNanoseconds < deadline { usleep(1000) }
        #expect(freePages(sys) >= zone.highPages)
        #expect(cache.masks.allSatisfy { $0 == GFP_KERNEL })
        if let page { sys.__free_page(page) }
        cache.close()
        expectNothingLost(sys)
    }

    @Test func kswapdThreadsStopWithTheSystem() throws {
        weak var weakSys: MemorySystem?
        do {
            let sys = try makeSystem(nodes: 2, mib: 16, kswapd: true)
            weakSys = sys
            #expect(sys.reclaim.kswapd.count == 2)
        }
        #expect(weakSys == nil, "a kswapd thread kept the system alive")
    }
}
