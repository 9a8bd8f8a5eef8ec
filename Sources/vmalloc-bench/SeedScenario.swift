import ArgumentParser
import Synchronization
import Vmalloc
import VmallocTestSupport

/// `vmalloc-bench seed`: the rule of "mm/vmalloc: alloc GFP_NO{FS,IO} for vmalloc" made visible.
/// The same GFP_NOFS vmalloc workload runs under memory pressure twice — page tables mapped under
/// the caller's scope (`.fromCaller`, that commit's rule) and with the fixed GFP_KERNEL mask
/// (`.legacy`, the kernel before it) — and prints side by side how often
/// an FS-class shrinker was entered with __GFP_FS and what the fs_reclaim checker reported.
struct SeedScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "GFP_NOFS vmalloc under pressure: page tables with the caller's scope vs. a fixed GFP_KERNEL.")

    @Option(help: "vmalloc calls per run, each at a fresh 2 MiB span (so it needs a new page table).")
    var rounds = 8
    @Option(help: "Pages per vmalloc.")
    var pages = 64
    @Option(help: "MiB of page frames (one node).")
    var memoryMiB = 64

    func run() throws {
        let fixed = try SeedRun(scope: .fromCaller, rounds: rounds, pages: pages, memoryMiB: memoryMiB).run()
        let legacy = try SeedRun(scope: .legacy, rounds: rounds, pages: pages, memoryMiB: memoryMiB).run()
        print(
            "seed: \(rounds) × __vmalloc(\(pages * 4) KiB, GFP_NOFS) holding \"\(SeedRun.lockName)\", "
                + "free memory at the min watermark + the data pages, kswapd off")
        print("  " + pad("", 44, alignLeft: true) + pad("fromCaller", 12) + pad("legacy", 10))
        func row(_ name: String, _ f: Int, _ l: Int) {
            print("  " + pad(name, 44, alignLeft: true) + pad(f, 12) + pad(l, 10))
        }
        row("FS shrinker entered with __GFP_FS", fixed.fsEnteredWithFS, legacy.fsEnteredWithFS)
        row("FS shrinker skipped (mask lacks __GFP_FS)", fixed.fsSkipped, legacy.fsSkipped)
        row("other shrinker scan calls", fixed.otherCalls, legacy.otherCalls)
        row("direct reclaim passes", fixed.reclaimPasses, legacy.reclaimPasses)
        row("page-table pages allocated", fixed.tablePages, legacy.tablePages)
        row("vmalloc failures", fixed.failures, legacy.failures)
        row("fs_reclaim checker reports", fixed.reports.count, legacy.reports.count)
        for (name, result) in [("fromCaller", fixed), ("legacy", legacy)] {
            for r in result.reports { print("  \(name): \(r)") }
        }
    }
}

/// One run of the `seed` workload on a fresh single-node system.
struct SeedRun {
    static let lockName = "inode_hash_lock"
    static let minFreePages = 64

    let scope: PageTableScope
    let rounds: Int
    let pages: Int
    let memoryMiB: Int

    struct Result {
        var fsEnteredWithFS = 0
        var fsSkipped = 0
        var otherCalls = 0
        var reclaimPasses = 0
        var tablePages = 0
        var failures = 0
        var reports: [LockdepReport] = []
    }

    func run() throws -> Result {
        var c = MemorySystem.Configuration()
        c.nodes = 1
        c.memoryPerNode = memoryMiB << 20
        c.vmallocSize = 1 << 30
        c.kswapd = false
        c.pageTableScope = scope
        c.minFreePages = Self.minFreePages
        c.logger = BenchLog.logger
        let sys = try MemorySystem(c)

        // An inode cache whose shrinker needs the inode lock (a filesystem's), and a cache any
        // reclaim may shrink. The FS shrinker only declares the lock: taking it for real while
        // the workload holds it would deadlock under .legacy, which is the bug being shown.
        let lock = ReclaimTrackedLock(name: Self.lockName, 0)
        let fsCache = FrameCache(sys, name: "fs-inode-cache", requires: __GFP_FS)
        fsCache.shrinker.mightLock(lock)
        let anonCache = FrameCache(sys, name: "anon-cache")
        let total = sys.meminfo().memTotal / 4096
        fsCache.fill(limit: total / 4)
        anonCache.fill(limit: .max)

        let passes = sys.vmstat()[.directReclaimPasses] ?? 0
        let tables = sys.meminfo().pageTables
        var areas: [UnsafeMutableRawPointer] = []
        var failures = 0
        for _ in 0..<rounds {
            // The data pages come without reclaim; the new page table must come from reclaim.
            let free = sys.meminfo().memFree / 4096
            let target = Self.minFreePages + pages
            if free > target { anonCache.fill(limit: free - target) } else { anonCache.release(target - free) }
            let p = lock.withLock { _ in
                sys.__vmalloc_node(pages * 4096, align: 1 << 21, GFP_NOFS | __GFP_NOWARN, node: NUMA_NO_NODE)
            }
            if let p { areas.append(p) } else { failures += 1 }
        }
        let result = Result(
            fsEnteredWithFS: fsCache.entered(with: __GFP_FS), fsSkipped: fsCache.stats.skippedForGFP,
            otherCalls: anonCache.stats.calls,
            reclaimPasses: (sys.vmstat()[.directReclaimPasses] ?? 0) - passes,
            tablePages: (sys.meminfo().pageTables - tables) / 4096, failures: failures, reports: sys.lockdepReports)
        for p in areas { sys.vfree(p) }
        fsCache.close()
        anonCache.close()
        return result
    }
}
