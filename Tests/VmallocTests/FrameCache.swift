import Synchronization
import Testing
@testable import Vmalloc

/// Page frames a test holds: taken under the noreclaim scope (reserves included), given back
/// directly. On its own it is memory no reclaim can get back; `FrameCache` puts a shrinker on it.
final class HeldFrames: Sendable {
    let sys: MemorySystem
    private let frames = Lock<[Page]>([])

    init(_ sys: MemorySystem) { self.sys = sys }

    var count: Int { frames.withLock { $0.count } }

    /// Take frames until `limit` or memory runs out.
    func fill(limit: Int = .max) {
        withMemallocScope(.noReclaim) {
            var got: [Page] = []
            while got.count < limit, let p = sys.alloc_page(GFP_KERNEL & ~__GFP_KSWAPD_RECLAIM | __GFP_NOWARN) { got.append(p) }
            frames.withLock { $0 += got }
        }
    }

    /// Give `n` frames back.
    func release(_ n: Int) {
        let out = frames.withLock { f in
            let k = min(n, f.count)
            defer { f.removeLast(k) }
            return Array(f.suffix(k))
        }
        for p in out { sys.__free_page(p) }
    }
}

/// A cache whose objects are page frames from `alloc_pages`, with a shrinker that frees them:
/// the stand-in for a filesystem's inode cache or a driver's buffer pool in reclaim tests.
/// It records the mask of every `count` and `scan` call, so tests can see which reclaim entered it.
final class FrameCache: Sendable {
    let sys: MemorySystem
    private let frames: HeldFrames
    private let entryMasks = Lock<[GFP]>([])
    private let handle = Lock<ShrinkerHandle?>(nil)
    /// Taken by `scan` when set (a shrinker that needs a filesystem lock).
    private let lock: ReclaimTrackedLock<Int>?

    init(_ sys: MemorySystem, name: String, requires: GFP = [], lock: ReclaimTrackedLock<Int>? = nil) {
        self.sys = sys
        self.lock = lock
        frames = HeldFrames(sys)
        let h = sys.registerShrinker(name: name, requires: requires,
                                     count: { [weak self] sc in self?.countObjects(sc) ?? Shrinker.empty },
                                     scan: { [weak self] sc in self?.scan(&sc) ?? Shrinker.stop })
        handle.withLock { $0 = h }
    }

    var count: Int { frames.count }
    var stats: ShrinkerStats { handle.withLock { $0!.stats } }
    var shrinker: ShrinkerHandle { handle.withLock { $0! } }
    /// The effective masks of the `count` and `scan` calls so far.
    var masks: [GFP] { entryMasks.withLock { $0 } }
    /// Calls into the shrinker whose mask carried `bits`.
    func entered(with bits: GFP) -> Int { masks.filter { $0.isSuperset(of: bits) }.count }

    /// Take frames under the noreclaim scope (reserves included) until `limit` or memory runs out.
    func fill(limit: Int = .max) { frames.fill(limit: limit) }

    /// Give `n` frames back directly (not through reclaim).
    func release(_ n: Int) { frames.release(n) }

    private func countObjects(_ sc: ShrinkControl) -> Int {
        entryMasks.withLock { $0.append(sc.gfp) }
        return count
    }

    private func scan(_ sc: inout ShrinkControl) -> Int {
        entryMasks.withLock { $0.append(sc.gfp) }
        if let lock { lock.withLock { $0 += 1 } }
        let before = count
        release(sc.nrToScan)
        return before - count
    }

    /// Unregister the shrinker and free every frame.
    func close() {
        handle.withLock { $0?.unregister() }
        release(.max)
    }
}

/// Frees left on the node, read without the lock.
func freePages(_ sys: MemorySystem, node: Int = 0) -> Int { sys.pages.zones[node].freeCount.load(ordering: .relaxed) }

/// Bring node 0's free frames to exactly `target` by taking frames into or releasing them from `cache`.
func setFree(_ sys: MemorySystem, to target: Int, using cache: FrameCache) {
    let free = freePages(sys)
    if free > target { cache.fill(limit: free - target) } else { cache.release(target - free) }
}
