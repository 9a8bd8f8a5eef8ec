import Foundation  // Thread: stress workers and the watchdog are real OS threads
import Synchronization
import Vmalloc

/// A bounded stress run of the whole family under memory pressure, in the spirit of the
/// kernel's `lib/test_vmalloc.c` stress mode plus reclaim: threads mix vmalloc/vfree, kvmalloc,
/// vmap, alloc_pages and NOFAIL calls under every supported mask and scope, while caches with
/// shrinkers (which themselves allocate and free) keep free memory near the watermarks and
/// kswapd runs. A watchdog ends the process if nothing progresses (a deadlock). Checked: no
/// NOFAIL call returns nil, no FS-class shrinker is entered with `__GFP_FS` from a NOFS/NOIO
/// context, and every frame is back at the end.
public enum StressTest {
    /// How hard and how long to push.
    public struct Options: Sendable {
        /// Worker threads.
        public var threads = 4
        /// Seconds to run.
        public var seconds = 5.0
        /// Nodes of the system under test.
        public var nodes = 2
        /// Bytes of frames per node: small, so the caches push memory to the watermarks.
        public var memoryPerNode = 32 << 20
        /// Seconds without progress after which the watchdog declares a deadlock.
        public var watchdogSeconds = 30.0
        /// Defaults: 4 threads for 5 seconds on 2 nodes of 32 MiB.
        public init() {}
    }

    /// What a run did and found.
    public struct Report: Sendable, CustomStringConvertible {
        public var threads: Int
        public var seconds: Double
        /// Operations completed (allocations, frees, maps...).
        public var operations: Int
        /// Allocations that returned nil (allowed for masks that may fail).
        public var failedAllocations: Int
        /// NOFAIL calls made, and how many returned nil (must be 0).
        public var nofailCalls: Int
        public var nofailNil: Int
        /// Times an FS-class shrinker was entered with `__GFP_FS` from a NOFS/NOIO context (must be 0).
        public var fsViolations: Int
        /// Times an IO-class shrinker was entered with `__GFP_IO` from a NOIO context (must be 0).
        public var ioViolations: Int
        /// Shrinker scan calls and kswapd wakeups seen.
        public var shrinkerCalls: Int
        public var kswapdWakeups: Int
        public var directReclaimPasses: Int
        /// Frames missing after everything was freed (must be 0), and whether the frame
        /// metadata still tiled memory exactly.
        public var lostPages: Int
        public var consistent: Bool

        /// Whether every check held.
        public var passed: Bool {
            nofailNil == 0 && fsViolations == 0 && ioViolations == 0 && lostPages == 0 && consistent
        }

        public var description: String {
            """
            stress: \(threads) threads, \(String(format: "%.1f", seconds)) s, \(operations) operations \
            (\(Int(Double(operations) / max(seconds, 0.001))) ops/s), \(failedAllocations) allowed failures
              NOFAIL calls \(nofailCalls), nil \(nofailNil); \
            FS shrinker entered with __GFP_FS from NOFS/NOIO: \(fsViolations); \
            IO shrinker with __GFP_IO from NOIO: \(ioViolations)
              shrinker scans \(shrinkerCalls), direct reclaim passes \(directReclaimPasses), \
            kswapd wakeups \(kswapdWakeups)
              frames lost after cleanup: \(lostPages), metadata consistent: \(consistent) => \(passed ? "PASS" : "FAIL")
            """
        }
    }

    private static let masks: [GFP] = [
        GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOWAIT, GFP_ATOMIC, GFP_KERNEL | __GFP_NORETRY,
        GFP_NOFS | __GFP_RETRY_MAYFAIL, GFP_KERNEL | __GFP_ZERO, GFP_NOIO | __GFP_NOWARN,
    ]
    private static let scopes: [MemallocScope?] = [nil, nil, .noFS, .noIO]

    /// Run the stress test. Throws only when the system under test cannot be built.
    public static func run(_ options: Options) throws -> Report {
        var config = MemorySystem.Configuration()
        config.nodes = options.nodes
        config.memoryPerNode = options.memoryPerNode
        config.vmallocSize = 4 << 30
        config.kswapd = true
        config.lazyMaxPages = 256
        let sys = try MemorySystem(config)
        let caches = [
            FrameCache(sys, name: "stress-fs", checks: __GFP_FS, allocatesInScan: true),
            FrameCache(sys, name: "stress-io", checks: __GFP_IO, allocatesInScan: true),
            FrameCache(sys, name: "stress-plain", allocatesInScan: true),
        ]
        let counts = Counters()
        let running = Atomic<Int>(options.threads)
        let deadline = Date().addingTimeInterval(options.seconds)
        let start = Date()

        let watchdog = Thread {
            var last = -1
            var since = Date()
            while running.load(ordering: .acquiring) > 0 {
                Thread.sleep(forTimeInterval: 0.2)
                let now = counts.ops.count
                if now != last {
                    last = now
                    since = Date()
                } else if Date().timeIntervalSince(since) > options.watchdogSeconds {
                    fatalError(
                        "stress watchdog: no operation completed for \(options.watchdogSeconds) s (deadlock?)\n"
                            + "\(sys.meminfo())\(sys.vmstat())"
                    )
                }
            }
        }
        watchdog.start()

        let done = DispatchGroup()
        for t in 0..<options.threads {
            done.enter()
            Thread {
                var worker = Worker(sys: sys, caches: caches, counts: counts, seed: UInt64(t + 1))
                worker.run(until: deadline)
                running.subtract(1, ordering: .releasing)
                done.leave()
            }.start()
        }
        done.wait()
        let elapsed = Date().timeIntervalSince(start)
        while running.load(ordering: .acquiring) > 0 { Thread.sleep(forTimeInterval: 0.01) }

        caches.forEach { $0.close() }
        _ = sys.kmem_cache_shrink()
        sys.vm_unmap_aliases()
        let info = sys.meminfo()
        let lost = info.nodes.reduce(0) { $0 + ($1.memTotal - $1.pageTables - $1.slab - $1.memFree) } / 4096
        let stat = sys.vmstat()
        return Report(
            threads: options.threads, seconds: elapsed, operations: counts.ops.count,
            failedAllocations: counts.failed.count, nofailCalls: counts.nofail.count,
            nofailNil: counts.nofailNil.count, fsViolations: caches[0].violations,
            ioViolations: caches[1].violations,
            shrinkerCalls: caches.reduce(0) { $0 + $1.scans },
            kswapdWakeups: stat[.kswapdWakeups] ?? 0, directReclaimPasses: stat[.directReclaimPasses] ?? 0,
            lostPages: lost, consistent: sys.audit().consistent)
    }

    /// Counters shared by the workers.
    final class Counters: Sendable {
        let ops = Counter()
        let failed = Counter()
        let nofail = Counter()
        let nofailNil = Counter()
    }

    /// One thread's mix of operations, each under a mask and a scope drawn at random.
    private struct Worker {
        enum Held {
            case vmalloc(UnsafeMutableRawPointer, Int)
            case kvmalloc(UnsafeMutableRawPointer)
            case pages(Page, Int)
            case vmap(UnsafeMutableRawPointer, Page)
        }

        let sys: MemorySystem
        let caches: [FrameCache]
        let counts: Counters
        var rng: SplitMix64
        var held: [Held] = []

        init(sys: MemorySystem, caches: [FrameCache], counts: Counters, seed: UInt64) {
            self.sys = sys
            self.caches = caches
            self.counts = counts
            rng = SplitMix64(seed: seed)
        }

        mutating func run(until deadline: Date) {
            var n = 0
            while n % 64 != 0 || Date() < deadline {
                n += 1
                let mask = StressTest.masks[rng.next(StressTest.masks.count)]
                let scope = StressTest.scopes[rng.next(StressTest.scopes.count)]
                let ok = constrained(mask, scope) { $0.step(mask) }
                if !ok { counts.failed.add() }
                counts.ops.add()
                if held.count > 48 { release(held.remove(at: rng.next(held.count))) }
            }
            held.forEach(release)
        }

        /// Run body with the scope set and the resulting constraint recorded for the shrinkers.
        private mutating func constrained(_ mask: GFP, _ scope: MemallocScope?, _ body: (inout Worker) -> Bool) -> Bool
        {
            var effective = mask
            if scope == .noIO { effective.subtract([.io, .fs]) }
            if scope == .noFS { effective.subtract(.fs) }
            return FrameCache.$constraint.withValue(effective) {
                guard let scope else { return body(&self) }
                return withMemallocScope(scope) { body(&self) }
            }
        }

        private mutating func step(_ mask: GFP) -> Bool {
            switch rng.next(10) {
            case 0, 1:
                let size = (rng.next(32) + 1) * 4096 - rng.next(4096)
                guard let p = sys.__vmalloc(size, mask | __GFP_NOWARN) else { return false }
                p.storeBytes(of: UInt8(size & 0xff), toByteOffset: size - 1, as: UInt8.self)
                held.append(.vmalloc(p, size))
            case 2:
                let size = 64 << rng.next(12)
                guard let p = sys.kvmalloc(size, mask | __GFP_NOWARN) else { return false }
                p.storeBytes(of: 1, as: UInt8.self)
                held.append(.kvmalloc(p))
            case 3:
                let order = rng.next(3)
                guard let p = sys.alloc_pages(mask | __GFP_NOWARN, order) else { return false }
                held.append(.pages(p, order))
            case 4:
                guard let p = sys.alloc_pages(mask | __GFP_NOWARN, 0) else { return false }
                guard let v = sys.vmap([p, p]) else {
                    sys.__free_page(p)
                    return false
                }
                v.storeBytes(of: 7, as: UInt8.self)
                held.append(.vmap(v, p))
            case 5, 6:
                caches[rng.next(caches.count)].fill(limit: 64, reserves: false)
            case 7:
                // NOFAIL needs a blocking mask; vmalloc never fails it.
                guard mask.allowsBlocking else { return true }
                counts.nofail.add()
                guard
                    let p = sys.__vmalloc(
                        (rng.next(4) + 1) * 4096, mask.subtracting([.noRetry, .retryMayFail]) | __GFP_NOFAIL)
                else {
                    counts.nofailNil.add()
                    return false
                }
                held.append(.vmalloc(p, 4096))
            default:
                if !held.isEmpty { release(held.remove(at: rng.next(held.count))) }
            }
            return true
        }

        private func release(_ h: Held) {
            switch h {
            case .vmalloc(let p, _): sys.vfree(p)
            case .kvmalloc(let p): sys.kvfree(p)
            case .pages(let p, let o): sys.__free_pages(p, o)
            case .vmap(let v, let p):
                sys.vunmap(v)
                sys.__free_page(p)
            }
        }
    }
}
