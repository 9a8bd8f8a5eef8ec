import Synchronization

/// Direct reclaim (mm/vmscan.c): what an allocation that found no frames may do to free some.
/// It runs under the noreclaim scope (`PF_MEMALLOC`), so allocations made while reclaiming
/// never recurse into reclaim and may use the reserves below the min watermark.
final class Reclaimer: Sendable {
    /// Something that frees frames on demand and says how many it freed.
    typealias Source = @Sendable () -> Int

    private let sources = Mutex<[Source]>([])
    private let stat: VMStat

    init(stat: VMStat) { self.stat = stat }

    /// Register an internal cache that gives frames back under pressure (lazy vmap areas).
    func addSource(_ source: @escaping Source) { sources.withLock { $0.append(source) } }

    /// One direct-reclaim pass for an allocation with effective mask `gfp`; returns the number
    /// of frames freed (the "progress" the retry policy looks at).
    func direct(gfp: GFP, order: Int, nodes: [Int]) -> Int {
        stat.add(.directReclaimPasses)
        let list = sources.withLock { $0 }
        let freed = withThreadScope(.memalloc) { list.reduce(0) { $0 + $1() } }
        stat.add(.pgstealDirect, freed)
        return freed
    }
}
