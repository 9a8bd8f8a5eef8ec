import Foundation
import Synchronization
import VmallocTestSupport

@testable import Vmalloc

/// Take every free frame of the system, reserves included, one frame at a time.
func holdAllFrames(_ sys: MemorySystem) -> [Page] {
    var held: [Page] = []
    while let p = sys.alloc_page(GFP_NOWAIT | __GFP_MEMALLOC) { held.append(p) }
    return held
}

/// Take every free frame, reserves included, without blocking; the blocks and their orders.
func drainAllFrames(_ sys: MemorySystem) -> [(page: Page, order: Int)] {
    var held: [(page: Page, order: Int)] = []
    for order in stride(from: PageAllocator.maxOrder, through: 0, by: -1) {
        while let p = sys.alloc_pages(GFP_NOWAIT | __GFP_MEMALLOC, order) { held.append((p, order)) }
    }
    return held
}

/// When a `freeLater` thread began freeing (monotonic ns; 0 until then).
final class Stamp: Sendable {
    let ns = Atomic<UInt64>(0)
}

/// Free `held` on another thread after `delayMs`; `group` is left when everything is freed.
func freeLater(_ sys: MemorySystem, _ held: [(page: Page, order: Int)], delayMs: UInt32)
    -> (group: DispatchGroup, started: Stamp)
{
    let group = DispatchGroup()
    let stamp = Stamp()
    group.enter()
    Thread {
        usleep(delayMs * 1000)
        stamp.ns.store(Printk.monotonicNs(), ordering: .sequentiallyConsistent)
        for b in held { sys.__free_pages(b.page, b.order) }
        group.leave()
    }.start()
    return (group, stamp)
}
