import Vmalloc

/// Page frames a test or a stress run holds outside any shrinker: memory no reclaim can get back.
/// `FrameCache` puts a shrinker on such a set.
public final class HeldFrames: Sendable {
    public let sys: MemorySystem
    private let frames = Lock<[Page]>([])

    /// An empty set of frames of `sys`.
    public init(_ sys: MemorySystem) { self.sys = sys }

    /// Frames held now.
    public var count: Int { frames.withLock { $0.count } }

    /// Take frames until `limit` or memory runs out. With `reserves` the frames are taken under
    /// the noreclaim scope, below the min watermark and without waking kswapd, so a test can
    /// bring free memory to exactly zero; without, `GFP_NOWAIT` stops at the min watermark.
    /// Returns how many were taken.
    @discardableResult
    public func fill(limit: Int = .max, reserves: Bool = true) -> Int {
        var got: [Page] = []
        if reserves {
            withMemallocScope(.noReclaim) {
                while got.count < limit, let p = sys.alloc_page(GFP_KERNEL & ~__GFP_KSWAPD_RECLAIM | __GFP_NOWARN) {
                    got.append(p)
                }
            }
        } else {
            while got.count < limit, let p = sys.alloc_page(GFP_NOWAIT) { got.append(p) }
        }
        frames.withLock { $0 += got }
        return got.count
    }

    /// Give up to `n` frames back to the page allocator; returns how many.
    @discardableResult
    public func release(_ n: Int) -> Int {
        let out = frames.withLock { f in
            let k = min(n, f.count)
            defer { f.removeLast(k) }
            return Array(f.suffix(k))
        }
        for p in out { sys.__free_page(p) }
        return out.count
    }
}

/// A cache whose objects are page frames, with a shrinker that frees them: the stand-in for a
/// filesystem's inode cache or a driver's buffer pool in tests, the stress run and the bench.
///
/// It records the effective mask of every `count` and `scan` call, so a caller can see which
/// reclaim entered it. A filesystem-class cache (`checks: __GFP_FS`) tests the mask itself and
/// returns `Shrinker.stop` without those bits, as the kernel's `super_cache_scan` does; it also
/// counts a *violation* whenever it is entered with those bits by an operation whose declared
/// constraint (`FrameCache.$constraint`) lacks them — the recursion that vmalloc's mapping under
/// the caller's scope prevents.
public final class FrameCache: Sendable {
    /// The mask the current operation is constrained to, declared by the code under test (a stress
    /// worker under `withMemallocScope(.noFS)` declares `GFP_NOFS`). Reclaim on behalf of others
    /// (kswapd) runs on its own thread with the default, `GFP_KERNEL`.
    @TaskLocal public static var constraint: GFP = GFP_KERNEL

    public let sys: MemorySystem
    private let frames: HeldFrames
    private let checks: GFP
    private let allocatesInScan: Bool
    private let entries = Lock<[GFP: Int]>([:])
    private let violationCount = Counter()
    private let scanCount = Counter()
    private let handle = Lock<ShrinkerHandle?>(nil)
    /// Taken by `scan` when set (a shrinker that needs a filesystem lock).
    private let lock: ReclaimTrackedLock<Int>?

    /// Register a shrinker named `name` over an empty cache. `requires` is declared to reclaim
    /// (the shrinker is then skipped for masks without those bits); `checks` is tested by the
    /// shrinker itself. `allocatesInScan`: each scan also kmallocs and frees scratch memory, as
    /// real shrinkers do (under `PF_MEMALLOC` that must never recurse into reclaim).
    public init(
        _ sys: MemorySystem, name: String, requires: GFP = [], checks: GFP = [],
        lock: ReclaimTrackedLock<Int>? = nil, allocatesInScan: Bool = false
    ) {
        self.sys = sys
        self.checks = checks
        self.lock = lock
        self.allocatesInScan = allocatesInScan
        frames = HeldFrames(sys)
        let h = sys.registerShrinker(
            name: name, requires: requires,
            count: { [weak self] sc in self?.countObjects(sc) ?? Shrinker.empty },
            scan: { [weak self] sc in self?.scan(&sc) ?? Shrinker.stop })
        handle.withLock { $0 = h }
    }

    /// Frames cached now.
    public var count: Int { frames.count }
    /// The shrinker's statistics (calls, freed, skipped for the mask).
    public var stats: ShrinkerStats { shrinker.stats }
    /// The registered shrinker.
    public var shrinker: ShrinkerHandle { handle.withLock { $0! } }
    /// The distinct effective masks of the `count` and `scan` calls so far.
    public var masks: [GFP] { entries.withLock { $0.keys.sorted { $0.rawValue < $1.rawValue } } }
    /// Calls into the shrinker whose mask carried `bits`.
    public func entered(with bits: GFP) -> Int {
        entries.withLock { $0.reduce(0) { $0 + ($1.key.isSuperset(of: bits) ? $1.value : 0) } }
    }
    /// Entries with the `checks` bits on behalf of an operation constrained not to use them.
    public var violations: Int { violationCount.count }
    /// `scan` calls so far.
    public var scans: Int { scanCount.count }

    /// Take frames into the cache (see `HeldFrames.fill`); returns how many.
    @discardableResult
    public func fill(limit: Int = .max, reserves: Bool = true) -> Int { frames.fill(limit: limit, reserves: reserves) }

    /// Give up to `n` frames back directly (not through reclaim); returns how many.
    @discardableResult
    public func release(_ n: Int) -> Int { frames.release(n) }

    private func record(_ gfp: GFP) {
        entries.withLock { $0[gfp, default: 0] += 1 }
        if !checks.isEmpty && gfp.isSuperset(of: checks) && !Self.constraint.isSuperset(of: checks) {
            violationCount.add()
        }
    }

    private func countObjects(_ sc: ShrinkControl) -> Int {
        record(sc.gfp)
        return count
    }

    private func scan(_ sc: inout ShrinkControl) -> Int {
        record(sc.gfp)
        scanCount.add()
        guard sc.gfp.isSuperset(of: checks) else { return Shrinker.stop }
        if let lock { lock.withLock { $0 += 1 } }
        let scratch = allocatesInScan ? sys.kmalloc(64, GFP_KERNEL) : nil
        let freed = release(sc.nrToScan)
        sys.kfree(scratch)
        sc.nrScanned = freed
        return freed
    }

    /// Unregister the shrinker and free every frame.
    public func close() {
        handle.withLock { $0?.unregister() }
        release(.max)
    }
}
