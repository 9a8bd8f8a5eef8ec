import CShim
import Foundation
import Testing
import VmallocTestSupport

@testable import Vmalloc

/// The system for one test: sparse memory, no kswapd, no free page reporting unless asked; the
/// knobs are `MemorySystem.Configuration`'s (memory in MiB). Warnings go to `log` when the test
/// reads them, else to stderr as printk's would.
func makeSystem(
    nodes: Int? = 1, mib: Int = 64, vmallocMiB: Int = 1024, kswapd: Bool = false,
    immediateUnmap: Bool = false, lazyMaxPages: Int? = nil,
    scope: PageTableScope = .fromCaller, minFreePages: Int? = nil,
    freePageReportingDelay: Duration? = nil, faultReports: Bool = false, maxMapCount: Int? = nil,
    faultInjection: [FaultSite: FaultAttributes] = [:], log: LogCapture? = nil
) throws(MemorySystemError) -> MemorySystem {
    var c = MemorySystem.Configuration()
    c.nodes = nodes
    c.memoryPerNode = mib << 20
    c.vmallocSize = vmallocMiB << 20
    c.kswapd = kswapd
    c.immediateUnmap = immediateUnmap
    c.lazyMaxPages = lazyMaxPages
    c.pageTableScope = scope
    c.minFreePages = minFreePages
    // Off unless a test asks: a purge at an arbitrary moment would make lazy-area tests racy.
    c.freePageReportingDelay = freePageReportingDelay
    c.faultReports = faultReports
    c.maxMapCount = maxMapCount
    c.faultInjection = faultInjection
    c.logger = log?.logger
    return try MemorySystem(c)
}

/// "Nothing lost": with everything freed and the lazy areas purged, every node's free frames
/// are its managed frames less the page-table and slab pages still held.
func expectNothingLost(_ sys: MemorySystem, sourceLocation: SourceLocation = #_sourceLocation) {
    sys.vm_unmap_aliases()
    let info = sys.meminfo()
    for n in info.nodes {
        if n.memFree != n.memTotal - n.pageTables - n.slab {
            print("expectNothingLost: node \(n.node) \(n) vmallocinfo: \(sys.vmallocinfo())")
        }
        let free = "free \(n.memFree / 4096) of \(n.memTotal / 4096) pages"
        let held = "\(n.pageTables / 4096) page-table pages, \(n.slab / 4096) slab pages"
        #expect(
            n.memFree == n.memTotal - n.pageTables - n.slab, "node \(n.node): \(free), \(held)",
            sourceLocation: sourceLocation)
    }
    #expect(info.vmallocUsed == 0, sourceLocation: sourceLocation)
    #expect(sys.vmallocinfo().isEmpty, "areas left: \(sys.vmallocinfo())", sourceLocation: sourceLocation)
}

/// Fill a range with a pattern derived from its index, and check it.
func fill(_ p: UnsafeMutableRawPointer, _ bytes: Int, seed: UInt8) {
    let b = p.assumingMemoryBound(to: UInt8.self)
    for i in stride(from: 0, to: bytes, by: 512) { b[i] = seed &+ UInt8(truncatingIfNeeded: i >> 9) }
}

func check(_ p: UnsafeRawPointer, _ bytes: Int, seed: UInt8) -> Bool {
    let b = p.assumingMemoryBound(to: UInt8.self)
    for i in stride(from: 0, to: bytes, by: 512) where b[i] != seed &+ UInt8(truncatingIfNeeded: i >> 9) {
        return false
    }
    return true
}

/// Frees left on the node, read without the lock.
func freePages(_ sys: MemorySystem, node: Int = 0) -> Int {
    sys.allocator.zones[node].freeCount.load(ordering: .relaxed)
}

/// Bring node 0's free frames to exactly `target` by taking frames into or releasing them from `cache`.
func setFree(_ sys: MemorySystem, to target: Int, using cache: FrameCache) {
    let free = freePages(sys)
    if free > target { cache.fill(limit: free - target) } else { cache.release(target - free) }
}

/// What `body` returns when run on a thread of its own (a new thread index).
func onNewThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let result = Lock<T?>(nil)
    let done = DispatchSemaphore(value: 0)
    Thread {
        let value = body()
        result.withLock { $0 = value }
        done.signal()
    }.start()
    done.wait()
    return result.withLock { $0! }
}
