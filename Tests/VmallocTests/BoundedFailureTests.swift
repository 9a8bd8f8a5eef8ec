import Foundation
import Synchronization
import Testing

@testable import Vmalloc

/// A blocking allocation that cannot be satisfied fails in bounded time (the page allocator
/// section of docs/ARCHITECTURE.md), whatever other threads free meanwhile: progress is
/// judged by its own reclaim, as the kernel's `should_reclaim_retry` does. The time limits are
/// liveness bounds, far above what the allocator needs; they assert no performance.
@Suite(.serialized) struct BoundedFailureTests {
    /// One node with no free frame and a cache whose objects are all busy (its scans take a
    /// while and free nothing); another thread frees and re-takes frames without pause, so
    /// frees land during every reclaim pass. A plain GFP_KERNEL vmalloc and alloc_page still
    /// give up within seconds.
    @Test func hopelessAllocationFailsWhileOthersChurn() throws {
        let sys = try makeSystem(mib: 16, vmallocMiB: 256, log: LogCapture())
        let pinned = sys.registerShrinker(
            name: "pinned-cache", count: { _ in 1000 },
            scan: { _ in
                usleep(200)
                return 0
            })
        defer { pinned.unregister() }
        var held = drainAllFrames(sys)
        // Single frames to churn, so that the free count never climbs past the watermark.
        let big = try #require(held.firstIndex { $0.order >= 6 })
        sys.__free_pages(held[big].page, held[big].order)
        held.remove(at: big)
        var churn: [(page: Page, order: Int)] = []
        for _ in 0..<64 { churn.append((try #require(sys.alloc_pages(GFP_NOWAIT | __GFP_MEMALLOC, 0)), 0)) }
        held += drainAllFrames(sys)
        let stop = Counter()
        let churned = Counter()
        let group = DispatchGroup()
        let frames = churn
        group.enter()
        Thread {
            // Give up churning after 20 s so that a stalled allocator fails this test, not hangs it.
            let deadline = Printk.monotonicNs() + 20_000_000_000
            var mine = frames
            while stop.count == 0 && Printk.monotonicNs() < deadline {
                let b = mine.removeFirst()
                sys.__free_pages(b.page, b.order)
                if let p = sys.alloc_pages(GFP_NOWAIT | __GFP_MEMALLOC, b.order) { mine.append((p, b.order)) }
                churned.add()
            }
            for b in mine { sys.__free_pages(b.page, b.order) }
            group.leave()
        }.start()
        while churned.count < 1000 { usleep(100) }
        let start = Printk.monotonicNs()
        let p = sys.vmalloc(64 * 4096, GFP_KERNEL | __GFP_NOWARN)
        let page = sys.alloc_page(GFP_KERNEL | __GFP_NOWARN)
        let seconds = Double(Printk.monotonicNs() - start) / 1e9
        stop.add()
        group.wait()
        #expect(p == nil && page == nil)
        #expect(seconds < 10, "a hopeless allocation took \(seconds) s")
        for b in held { sys.__free_pages(b.page, b.order) }
        sys.vfree(p)
        if let page { sys.__free_page(page) }
        expectNothingLost(sys)
    }

    /// The scenario: two threads doing random vmalloc / vmalloc_node / kvmalloc /
    /// alloc_pages and frees with random masks on 2 nodes × 32 MiB with kswapd on, holding
    /// enough to run out often. It must finish in seconds, not stall for minutes.
    @Test func threadedRandomOperationsKeepTheirPace() throws {
        let sys = try makeSystem(nodes: 2, mib: 32, vmallocMiB: 256, kswapd: true, log: LogCapture())
        let masks: [GFP] = [
            GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOWAIT, GFP_ATOMIC, GFP_KERNEL | __GFP_NORETRY,
            GFP_KERNEL | __GFP_RETRY_MAYFAIL, GFP_NOFS | __GFP_NORETRY, GFP_KERNEL | __GFP_ZERO,
        ]
        let group = DispatchGroup()
        let failed = Counter()
        let start = Printk.monotonicNs()
        for t in 0..<2 {
            group.enter()
            Thread {
                var rng = SplitMix(seed: UInt64(t) &+ 0x5eed)
                var areas: [(p: UnsafeMutableRawPointer, kv: Bool, pages: Int)] = []
                var blocks: [(page: Page, order: Int)] = []
                var heldPages = 0
                for _ in 0..<2000 {
                    let gfp = masks[Int(rng.next() % UInt64(masks.count))] | __GFP_NOWARN
                    let op = rng.next() % 6
                    // Each thread holds up to 30 MiB of the 64, so the two run short often.
                    if op >= 4 || heldPages > 10_000 {
                        if !blocks.isEmpty && (areas.isEmpty || rng.next() % 2 == 0) {
                            let b = blocks.remove(at: Int(rng.next() % UInt64(blocks.count)))
                            sys.__free_pages(b.page, b.order)
                            heldPages -= 1 << b.order
                        } else if !areas.isEmpty {
                            let a = areas.remove(at: Int(rng.next() % UInt64(areas.count)))
                            if a.kv { sys.kvfree(a.p) } else { sys.vfree(a.p) }
                            heldPages -= a.pages
                        }
                        continue
                    }
                    let pages = 1 + Int(rng.next() % 512)
                    let before = areas.count
                    let blocksBefore = blocks.count
                    switch op {
                    case 0:
                        if let p = sys.vmalloc(pages * 4096, gfp) { areas.append((p, false, pages)) }
                    case 1:
                        if let p = sys.vmalloc_node(pages * 4096, Int(rng.next() % 2), gfp) {
                            areas.append((p, false, pages))
                        }
                    case 2:
                        if let p = sys.kvmalloc(pages * 4096, gfp) { areas.append((p, true, pages)) }
                    default:
                        let order = Int(rng.next() % 5)
                        if let pg = sys.alloc_pages(gfp, order) {
                            blocks.append((pg, order))
                            heldPages += 1 << order
                        }
                    }
                    if areas.count > before {
                        heldPages += pages
                    } else if blocks.count == blocksBefore {
                        failed.add()
                    }
                }
                for a in areas { if a.kv { sys.kvfree(a.p) } else { sys.vfree(a.p) } }
                for b in blocks { sys.__free_pages(b.page, b.order) }
                group.leave()
            }.start()
        }
        group.wait()
        let seconds = Double(Printk.monotonicNs() - start) / 1e9
        print("threadedRandomOperationsKeepTheirPace: \(seconds) s, \(failed.count) failed allocations")
        #expect(failed.count > 0, "the run never ran short of memory")
        #expect(seconds < 60, "the random-operations run took \(seconds) s")
        expectNothingLost(sys)
    }
}

/// A small seeded generator, so a run can be repeated.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
