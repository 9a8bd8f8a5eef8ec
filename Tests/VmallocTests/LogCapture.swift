import Foundation
import Logging
import Synchronization
import VmallocTestSupport

@testable import Vmalloc

/// A `Logger` backend that keeps every line, so tests read warnings as a configured logger
/// receives them (`Configuration.logger`).
final class LogCapture: Sendable {
    private let lines = Lock<[String]>([])

    var logger: Logger { LineLogHandler.logger(label: "vmalloc-test") { [self] in append($0) } }
    var all: [String] { lines.withLock { $0 } }
    func lines(containing s: String) -> [String] { all.filter { $0.contains(s) } }
    private func append(_ line: String) { lines.withLock { $0.append(line) } }
}

/// A small system whose warnings go to a `LogCapture`.
func makeLoggedSystem(nodes: Int = 1, mib: Int = 16, kswapd: Bool = false) throws -> (MemorySystem, LogCapture) {
    let capture = LogCapture()
    var c = MemorySystem.Configuration()
    c.nodes = nodes
    c.memoryPerNode = mib << 20
    c.vmallocSize = 256 << 20
    c.kswapd = kswapd
    c.logger = capture.logger
    return (try MemorySystem(c), capture)
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
