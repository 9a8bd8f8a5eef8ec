import ArgumentParser
import Foundation
import Glibc
import Vmalloc

/// `vmalloc-bench kvmalloc`: kvmalloc/kvfree around PAGE_SIZE … 1 MiB, on fresh memory and on
/// memory fragmented on purpose (a checkerboard of held order-0 frames, so no block above
/// order 0 exists), against glibc malloc/free in the same run. Reports which path served the
/// requests (kmalloc or the vmalloc fallback) and the median ops/s of the repeats.
struct KvmallocScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvmalloc",
        abstract: "kvmalloc/kvfree vs glibc malloc/free, on fresh and fragmented memory.")

    @Option(help: "Request sizes in bytes, comma-separated.")
    var sizes: String = "4096,8192,16384,65536,262144,1048576"

    @Option(help: "Allocations per repeat and size.")
    var ops: Int = 20000

    @Option(help: "Allocations held at once before they are all freed.")
    var batch: Int = 16

    @Option(help: "Repeats per measurement; the median is reported.")
    var repeats: Int = 5

    @Option(help: "MiB of page frames in the simulated node.")
    var memoryMiB: Int = 256

    @Flag(help: "A short run (fewer ops and repeats).")
    var quick = false

    mutating func run() throws {
        let sizeList = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizeList.isEmpty, sizeList.allSatisfy({ $0 > 0 }), ops > 0, batch > 0, repeats > 0 else {
            throw ValidationError("sizes, ops, batch and repeats must be positive")
        }
        let (opsPerRepeat, rounds) = quick ? (min(ops, 2000), min(repeats, 3)) : (ops, repeats)
        var config = MemorySystem.Configuration()
        config.nodes = 1
        config.memoryPerNode = memoryMiB << 20
        config.kswapd = false
        config.logger = BenchLog.logger
        let sys = try MemorySystem(config)
        print(
            "kvmalloc: \(opsPerRepeat) allocations per repeat in batches of \(batch), median of \(rounds) repeats, "
                + "\(memoryMiB) MiB node"
        )
        print("memory      size     kvmalloc ops/s  kmalloc  vmalloc   malloc ops/s   kvmalloc/malloc")
        for fragmented in [false, true] {
            let held = fragmented ? checkerboard(sys) : []
            for size in sizeList {
                let fallbackBefore = sys.vmstat()[.kvmallocVmallocFallback] ?? 0
                let kv: Double = median(
                    (0..<rounds).map { _ in
                        opsPerSecond(opsPerRepeat, batch: batch) {
                            sys.kvmalloc(size)
                        } free: {
                            sys.kvfree($0)
                        }
                    })
                let fallbacks = (sys.vmstat()[.kvmallocVmallocFallback] ?? 0) - fallbackBefore
                let vmallocShare = Double(fallbacks) / Double(opsPerRepeat * rounds)
                let libc: Double = median(
                    (0..<rounds).map { _ in
                        opsPerSecond(opsPerRepeat, batch: batch) {
                            malloc(size)
                        } free: {
                            Glibc.free($0)
                        }
                    })
                print(
                    pad(fragmented ? "fragmented" : "fresh", 10, alignLeft: true) + pad(String(size), 9)
                        + pad(String(format: "%.0f", kv), 19) + pad(percent(1 - vmallocShare), 9)
                        + pad(percent(vmallocShare), 9) + pad(String(format: "%.0f", libc), 15)
                        + pad(String(format: "%.2f", kv / libc), 18))
            }
            held.forEach { sys.__free_page($0) }
            sys.vm_unmap_aliases()
            sys.kmem_cache_shrink()
        }
    }

    /// Hold every frame, then free every other one: half the memory free, all of it order 0.
    private func checkerboard(_ sys: MemorySystem) -> [Page] {
        var all: [Page] = []
        while let p = sys.alloc_page(GFP_NOWAIT | __GFP_MEMALLOC) { all.append(p) }
        for p in all where p.pfn % 2 == 1 { sys.__free_page(p) }
        return all.filter { $0.pfn % 2 == 0 }
    }

    /// Allocate `batch` blocks (touching each), free them, until `count` allocations were made.
    private func opsPerSecond(
        _ count: Int, batch: Int, alloc: () -> UnsafeMutableRawPointer?,
        free: (UnsafeMutableRawPointer) -> Void
    ) -> Double {
        var live: [UnsafeMutableRawPointer] = []
        live.reserveCapacity(batch)
        let start = Self.now()
        var done = 0
        while done < count {
            for _ in 0..<min(batch, count - done) {
                guard let p = alloc() else { fatalError("allocation failed during the kvmalloc benchmark") }
                p.storeBytes(of: UInt8(truncatingIfNeeded: done), as: UInt8.self)
                live.append(p)
                done += 1
            }
            live.forEach(free)
            live.removeAll(keepingCapacity: true)
        }
        return Double(count) / (Double(Self.now() - start) / 1e9)
    }

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    private func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    private func percent(_ x: Double) -> String { String(format: "%.0f%%", x * 100) }
}
