import CShim
import Synchronization

/// A mutex that the fs_reclaim checker follows (a lock with a lockdep class). Take it in a
/// shrinker, or declare it with `ShrinkerHandle.mightLock`, and any allocation made while
/// holding it that could enter that shrinker's reclaim is reported: reclaim would then wait for
/// a lock its own caller holds, the deadlock `GFP_NOFS` and the scope API exist to prevent.
///
/// The kernel models this with a fake `fs_reclaim` lock that the page allocator acquires for
/// masks that may reclaim (`fs_reclaim_acquire`) and that reclaim holds while it runs.
public final class ReclaimTrackedLock<Value: ~Copyable>: Sendable {
    /// The name reports print (the lock class name).
    public let name: String
    let id: UInt32
    private let mutex: Lock<Value>

    /// A lock named `name` protecting `initialValue`.
    public init(name: String, _ initialValue: consuming sending Value) {
        self.name = name
        id = ReclaimLockdep.shared.newLock(name: name)
        mutex = Lock(initialValue)
    }

    deinit { ReclaimLockdep.shared.forget(lock: id) }

    /// Run `body` with the lock held (`Mutex.withLock`), recording the hold on this thread and,
    /// inside a shrinker, that this shrinker takes the lock (`lock_acquire`).
    public func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        let ctx = vmshim_reclaim_context()
        if ctx != 0 {
            ReclaimLockdep.shared.shrinkerTakes(
                lock: id, shrinker: UInt32(ctx >> 32), gfp: GFP(rawValue: UInt32(truncatingIfNeeded: ctx)))
        }
        precondition(
            vmshim_held_push(id) == 0, "ReclaimTrackedLock \(name): more than 64 tracked locks held by one thread")
        defer { vmshim_held_pop(id) }
        return try mutex.withLock(body)
    }
}

/// One dependency the checker found: an allocation that may enter a reclaim which takes a lock
/// the allocating thread holds.
public struct LockdepReport: Sendable, Equatable, CustomStringConvertible {
    /// The held lock.
    public let lock: String
    /// The shrinker that takes it.
    public let shrinker: String
    /// Where the allocation was made (`file:line` for vmalloc, the allocator's step otherwise).
    public let site: String
    /// The allocation's effective mask.
    public let gfp: GFP
    /// The bits a mask needs to enter that shrinker's reclaim (e.g. `__GFP_FS`).
    public let reclaimClass: GFP

    /// One line in the spirit of lockdep's "possible circular locking dependency" splat.
    public var description: String {
        "WARNING: possible circular locking dependency detected: allocation at \(site) with mode:\(gfp.modeString) "
            + "holds \"\(lock)\", which shrinker \"\(shrinker)\" takes in reclaim "
            + "(\(reclaimClass.isEmpty ? "any" : reclaimClass.description)) "
            + "that this allocation may enter; use a NOFS/NOIO scope around the lock"
    }
}

/// The fs_reclaim checker: which locks which shrinkers take, which allocations hold which
/// locks, and the reports. Process-wide like lockdep; records carry their system's id because
/// an allocation can only enter the reclaim of its own system.
final class ReclaimLockdep: Sendable {
    static let shared = ReclaimLockdep()

    private struct ShrinkerInfo {
        let system: Int
        let name: String
        let requires: GFP
        let log: Printk
        let stat: VMStat
    }
    /// Allocations seen holding a lock are keyed by system and the reclaim bits of their mask;
    /// the first one of each kind is kept (its site and full mask) for reports.
    private struct HoldKey: Hashable {
        let system: Int
        let bits: GFP
    }
    private struct Hold {
        let site: String
        let gfp: GFP
    }
    private struct Pair: Hashable {
        let lock: UInt32
        let shrinker: UInt32
    }
    private struct State {
        var nextLock: UInt32 = 1
        var locks: [UInt32: String] = [:]
        var shrinkers: [UInt32: ShrinkerInfo] = [:]
        /// lock → shrinker → the mask bits under which the shrinker was seen taking it.
        var takenBy: [UInt32: [UInt32: GFP]] = [:]
        var holds: [UInt32: [HoldKey: Hold]] = [:]
        var reported: Set<Pair> = []
        var reports: [Int: [LockdepReport]] = [:]
    }
    private let state = Lock(State())
    /// The bits that decide which shrinkers a reclaim may enter.
    private static let reclaimBits: GFP = [.fs, .io]

    func newLock(name: String) -> UInt32 {
        state.withLock { s in
            let id = s.nextLock
            s.nextLock &+= 1
            s.locks[id] = name
            return id
        }
    }

    func forget(lock: UInt32) {
        state.withLock { s in
            s.locks[lock] = nil
            s.takenBy[lock] = nil
            s.holds[lock] = nil
        }
    }

    func register(shrinker: UInt32, name: String, requires: GFP, system: Int, log: Printk, stat: VMStat) {
        state.withLock {
            $0.shrinkers[shrinker] = ShrinkerInfo(system: system, name: name, requires: requires, log: log, stat: stat)
        }
    }

    func unregister(shrinker: UInt32) {
        state.withLock { $0.shrinkers[shrinker] = nil }
    }

    /// Drop what a system left: its holds and reports (its shrinkers unregister themselves).
    func forget(system: Int) {
        state.withLock { s in
            s.reports[system] = nil
            for (lock, holds) in s.holds { s.holds[lock] = holds.filter { $0.key.system != system } }
        }
    }

    func reports(system: Int) -> [LockdepReport] { state.withLock { $0.reports[system] ?? [] } }

    /// A shrinker takes `lock` when called with `gfp` (seen, or declared with its `requires`).
    /// What it needs to be entered is the least of what it was seen with; allocations already
    /// seen holding the lock with such a mask are reported now (lockdep is order-blind).
    func shrinkerTakes(lock: UInt32, shrinker: UInt32, gfp: GFP) {
        let emit: [(LockdepReport, ShrinkerInfo)] = state.withLock { s in
            guard let info = s.shrinkers[shrinker], s.locks[lock] != nil else { return [] }
            let seen = gfp.intersection(Self.reclaimBits).union(info.requires)
            let need = s.takenBy[lock]?[shrinker].map { $0.intersection(seen) } ?? seen
            s.takenBy[lock, default: [:]][shrinker] = need
            return (s.holds[lock] ?? [:]).compactMap { key, h in
                guard key.system == info.system, h.gfp.isSuperset(of: need) else { return nil }
                return Self.report(&s, lock: lock, shrinker: shrinker, site: h.site, gfp: h.gfp, need: need).map {
                    ($0, info)
                }
            }
        }
        for (r, info) in emit {
            info.stat.add(.lockdepReports)
            info.log.warn(r.description, site: "lockdep")
        }
    }

    /// An allocation that may reclaim, made while this thread holds tracked locks.
    func allocation(gfp: GFP, system: Int, site: String, log: Printk, stat: VMStat) {
        let held = (0..<Int(vmshim_held_count())).map { vmshim_held_at(Int32($0)) }
        let emit: [LockdepReport] = state.withLock { s in
            var out: [LockdepReport] = []
            for lock in held where s.locks[lock] != nil {
                let key = HoldKey(system: system, bits: gfp.intersection(Self.reclaimBits))
                if s.holds[lock]?[key] == nil { s.holds[lock, default: [:]][key] = Hold(site: site, gfp: gfp) }
                for (shrinker, need) in s.takenBy[lock] ?? [:] {
                    guard let info = s.shrinkers[shrinker], info.system == system, gfp.isSuperset(of: need) else {
                        continue
                    }
                    if let r = Self.report(&s, lock: lock, shrinker: shrinker, site: site, gfp: gfp, need: need) {
                        out.append(r)
                    }
                }
            }
            return out
        }
        for r in emit {
            stat.add(.lockdepReports)
            log.warn(r.description, site: "lockdep")
        }
    }

    /// Record a report once per (lock, shrinker), as lockdep reports a dependency chain once.
    private static func report(_ s: inout State, lock: UInt32, shrinker: UInt32, site: String, gfp: GFP, need: GFP)
        -> LockdepReport?
    {
        guard let info = s.shrinkers[shrinker], let name = s.locks[lock],
            s.reported.insert(Pair(lock: lock, shrinker: shrinker)).inserted
        else { return nil }
        let r = LockdepReport(lock: name, shrinker: info.name, site: site, gfp: gfp, reclaimClass: need)
        s.reports[info.system, default: []].append(r)
        return r
    }
}
