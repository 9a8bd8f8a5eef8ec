import Synchronization

/// vmstat-style event counters (mm/vmstat.c, `/proc/vmstat`). Only slow paths count, so the
/// fast paths stay free of shared cache lines.
public enum VMStatItem: Int, CaseIterable, Sendable {
    /// Allocations that entered direct reclaim (`allocstall`).
    case allocstall
    /// Direct reclaim passes run.
    case directReclaimPasses
    /// Pages freed by direct reclaim (`pgsteal_direct`).
    case pgstealDirect
    /// Times a sleeping kswapd was woken (`kswapd_wakeups`).
    case kswapdWakeups
    /// Reclaim passes kswapd ran (`pageoutrun`).
    case kswapdPasses
    /// Pages freed by kswapd (`pgsteal_kswapd`).
    case pgstealKswapd
    /// Shrinker `scan` calls.
    case shrinkerCalls
    /// Shrinkers skipped because the effective mask lacked bits they require.
    case shrinkerSkippedGFP
    /// Shrinker calls skipped because `count` reported nothing to free.
    case shrinkerSkippedEmpty
    /// Shrinker `scan` calls that answered stop (`SHRINK_STOP`).
    case shrinkerStops
    /// NOFAIL allocations that had to wait and retry.
    case nofailRetries
    /// Page allocations that failed.
    case allocFailures
    /// vmalloc allocations that failed.
    case vmallocFailures
    /// Lazily freed vmalloc areas purged (`purge_vmap_area_lazy`).
    case lazyPurges
    /// Allocations that found the buddy lists short and took the frames of lazily freed areas
    /// (the drain before the slow path).
    case lazyDrains
    /// vmalloc requests served by reusing a lazily freed area (no syscall).
    case vmallocLazyReuse
    /// kvmalloc requests that fell back to vmalloc.
    case kvmallocVmallocFallback
    /// Reports of the fs_reclaim checker (`lockdepReports()`).
    case lockdepReports

    /// The `/proc/vmstat` key.
    public var name: String {
        switch self {
        case .allocstall: "allocstall"
        case .directReclaimPasses: "direct_reclaim_passes"
        case .pgstealDirect: "pgsteal_direct"
        case .kswapdWakeups: "kswapd_wakeups"
        case .kswapdPasses: "pageoutrun"
        case .pgstealKswapd: "pgsteal_kswapd"
        case .shrinkerCalls: "shrinker_calls"
        case .shrinkerSkippedGFP: "shrinker_skipped_gfp"
        case .shrinkerSkippedEmpty: "shrinker_skipped_empty"
        case .shrinkerStops: "shrinker_stops"
        case .nofailRetries: "nofail_retries"
        case .allocFailures: "alloc_failures"
        case .vmallocFailures: "vmalloc_failures"
        case .lazyPurges: "vmap_lazy_purges"
        case .lazyDrains: "vmap_lazy_drains"
        case .vmallocLazyReuse: "vmalloc_lazy_reuse"
        case .kvmallocVmallocFallback: "kvmalloc_vmalloc_fallback"
        case .lockdepReports: "lockdep_reports"
        }
    }
}

/// The counters of one system, plus allocation failures by mask.
final class VMStat: Sendable {
    private let counters = VMStatItem.allCases.map { _ in Counter() }
    /// Keyed by the raw mask bits: the counters sit below the layer that defines the mask type.
    private let failuresByMask = Lock<[UInt32: Int]>([:])

    func add(_ item: VMStatItem, _ n: Int = 1) { counters[item.rawValue].add(n) }
    subscript(_ item: VMStatItem) -> Int { counters[item.rawValue].count }

    func countFailure(mask: UInt32) { failuresByMask.withLock { $0[mask, default: 0] += 1 } }
    var failures: [UInt32: Int] { failuresByMask.withLock { $0 } }
}
