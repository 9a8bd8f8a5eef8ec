import Synchronization

/// What reclaim asks of a shrinker (`struct shrink_control`).
public struct ShrinkControl: Sendable {
    /// The effective mask of the allocation that is reclaiming: its own mask with the thread's
    /// and task's scopes applied (`sc->gfp_mask`). kswapd reclaims with `GFP_KERNEL`.
    public let gfp: GFP
    /// The node being reclaimed (`sc->nid`).
    public let node: Int
    /// Objects `scan` should look at in this call (at most `SHRINK_BATCH`; `sc->nr_to_scan`).
    public var nrToScan: Int
    /// Objects `scan` looked at; starts equal to `nrToScan` and may be changed by `scan`
    /// (`sc->nr_scanned`).
    public var nrScanned: Int
}

/// From a shrinker's `scan`: stop calling it in this reclaim pass (include/linux/shrinker.h).
public let SHRINK_STOP = -1
/// From a shrinker's `count`: the cache is empty, skip it; 0 means the same.
public let SHRINK_EMPTY = -2
/// Objects per `scan` call: reclaim hands a shrinker at most this many at once.
public let SHRINK_BATCH = 128
/// The cost of recreating a cached object that `registerShrinker`'s `seeks` defaults to: higher
/// scans less, 0 scans half the cache each pass.
public let DEFAULT_SEEKS = 2

/// The shrinker callbacks' return constants under the Swift API's names: `Shrinker.stop` is
/// `SHRINK_STOP`, `Shrinker.empty` is `SHRINK_EMPTY`.
public enum Shrinker {
    /// `SHRINK_STOP`.
    public static let stop = SHRINK_STOP
    /// `SHRINK_EMPTY`.
    public static let empty = SHRINK_EMPTY
}

/// What one shrinker has done so far.
public struct ShrinkerStats: Sendable, Equatable {
    /// `scan` calls.
    public var calls: Int
    /// Objects `scan` reported freed.
    public var freed: Int
    /// Reclaim passes that skipped the shrinker because their effective mask lacked bits it
    /// requires (e.g. a GFP_NOFS allocation and an FS-class shrinker).
    public var skippedForGFP: Int
}

/// A registered shrinker (the kernel's `struct shrinker *` from `shrinker_alloc` +
/// `shrinker_register`). Reclaim keeps calling it until `unregister()`.
///
/// The system holds the callbacks until then: a callback that captures the `MemorySystem`
/// keeps it alive, so unregister before dropping the system (as a module unregisters its
/// shrinkers on exit).
public final class ShrinkerHandle: Sendable {
    let entry: ShrinkerEntry
    private let reclaimer: Reclaimer

    init(entry: ShrinkerEntry, reclaimer: Reclaimer) {
        self.entry = entry
        self.reclaimer = reclaimer
    }

    /// The name given at registration.
    public var name: String { entry.name }

    /// Stop calling this shrinker; returns once no reclaim is inside its callbacks any more
    /// (unless called from one of them). Idempotent. Mirrors `shrinker_free()`.
    public func unregister() { reclaimer.unregister(entry) }

    /// Calls, objects freed and gfp skips so far.
    public var stats: ShrinkerStats {
        ShrinkerStats(
            calls: entry.calls.load(ordering: .relaxed), freed: entry.freed.load(ordering: .relaxed),
            skippedForGFP: entry.skippedForGFP.load(ordering: .relaxed))
    }

    /// Declare that this shrinker takes `lock` whenever it runs, before it ever has: the
    /// fs_reclaim checker then reports allocations that hold `lock` and could enter this
    /// shrinker. Mirrors priming lockdep with `fs_reclaim_acquire(); might_lock(); fs_reclaim_release()`.
    public func mightLock<Value: ~Copyable>(_ lock: ReclaimTrackedLock<Value>) {
        ReclaimLockdep.shared.shrinkerTakes(lock: lock.id, shrinker: entry.id, gfp: entry.requires)
    }
}

/// One registered shrinker: callbacks, the kernel's deferred scan count, statistics.
final class ShrinkerEntry: Sendable {
    typealias Count = @Sendable (ShrinkControl) -> Int
    typealias Scan = @Sendable (inout ShrinkControl) -> Int

    private static let nextID = Atomic<UInt32>(1)

    let id: UInt32
    let name: String
    let requires: GFP
    let seeks: Int
    let count: Count
    let scan: Scan
    /// Work a pass could not do, carried to the next (`nr_deferred`).
    let nrDeferred = Atomic<Int>(0)
    let calls = Atomic<Int>(0)
    let freed = Atomic<Int>(0)
    let skippedForGFP = Atomic<Int>(0)
    let registered = Atomic<Bool>(true)
    /// Reclaim passes inside the callbacks now (what `unregister` waits for, like SRCU).
    let inFlight = Atomic<Int>(0)

    init(name: String, requires: GFP, seeks: Int, count: @escaping Count, scan: @escaping Scan) {
        id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.name = name
        self.requires = requires
        self.seeks = seeks
        self.count = count
        self.scan = scan
    }
}
