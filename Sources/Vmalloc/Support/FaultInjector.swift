import Glibc
import Synchronization

/// Where a failure can be injected (lib/fault-inject.c: `fail_page_alloc`, `failslab`, ...).
public enum FaultSite: String, CaseIterable, Sendable, Hashable {
    /// The page allocator (`fail_page_alloc`); skips `__GFP_NOFAIL` requests, as the kernel does.
    case pageAlloc
    /// Page-table page allocation inside the mapping step (`pte_alloc_kernel`).
    case pageTableAlloc
    /// Virtual address allocation (`alloc_vmap_area`).
    case vmapArea
    /// The shim's `mmap` of a run of frames.
    case mmap
    /// The shim's `mbind` placing a node's frames (when a system is built).
    case mbind
    /// The shim's `fallocate(PUNCH_HOLE)` returning free frames to the OS.
    case fallocate
}

/// When an injection site fails: the kernel's fault_attr knobs.
public struct FaultAttributes: Sendable, Hashable {
    /// Percent chance (0...100) that an eligible call fails.
    public var probability: Int
    /// Only every interval-th call is eligible (1: every call).
    public var interval: Int
    /// Failures left to inject; -1 for no limit.
    public var times: Int
    /// Eligible calls to let through before the first failure.
    public var space: Int

    /// Fail `probability` percent of every `interval`-th call, at most `times` times.
    public init(probability: Int = 100, interval: Int = 1, times: Int = -1, space: Int = 0) {
        self.probability = probability
        self.interval = interval
        self.times = times
        self.space = space
    }
}

/// Per-site failure injection of one system (`should_fail()`). The hot paths pay one
/// relaxed atomic load while nothing is armed.
final class FaultInjector: Sendable {
    private struct SiteState {
        var attributes: FaultAttributes
        var calls = 0
        var injected = 0
        var rng = SystemRandomNumberGenerator()
    }
    private let armed = Atomic<Int>(0)
    private let sites: Lock<[FaultSite: SiteState]>

    init(_ initial: [FaultSite: FaultAttributes]) {
        sites = Lock(initial.mapValues { SiteState(attributes: $0) })
        armed.store(initial.count, ordering: .relaxed)
    }

    /// Arm (or with nil, disarm) a site; the call and failure counts start again.
    func set(_ site: FaultSite, _ attributes: FaultAttributes?) {
        let n = sites.withLock { s in
            s[site] = attributes.map { SiteState(attributes: $0) }
            return s.count
        }
        armed.store(n, ordering: .relaxed)
    }

    /// Whether any site is armed: a path that only saves work (vmalloc's batch of areas) stays
    /// off then, so that each injected failure meets the path its test expects.
    var isArmed: Bool { armed.load(ordering: .relaxed) != 0 }

    /// Whether this call at `site` must fail.
    func shouldFail(_ site: FaultSite) -> Bool {
        guard armed.load(ordering: .relaxed) != 0 else { return false }
        return sites.withLock { s in
            guard var st = s[site], st.attributes.times != 0 else { return false }
            defer { s[site] = st }
            st.calls += 1
            if st.calls <= st.attributes.space { return false }
            if st.attributes.interval > 1 && st.calls % st.attributes.interval != 0 { return false }
            if st.attributes.probability < 100 && Int.random(in: 0..<100, using: &st.rng) >= st.attributes.probability {
                return false
            }
            if st.attributes.times > 0 { st.attributes.times -= 1 }
            st.injected += 1
            return true
        }
    }

    /// Failures injected at a site since it was armed.
    func injected(_ site: FaultSite) -> Int { sites.withLock { $0[site]?.injected ?? 0 } }
}
