import Glibc
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite struct VfreeAtomicTests {
    /// Polls for up to 2 s until `done` holds.
    static func within2s(_ done: () -> Bool) -> Bool {
        for _ in 0..<200 {
            if done() { return true }
            usleep(10_000)
        }
        return done()
    }

    @Test func freesWithinTwoSecondsNothingLost() throws {
        let sys = try makeSystem()
        let ps = (0..<16).compactMap { i in sys.vmalloc((i + 1) * 4096) }
        #expect(ps.count == 16)
        for p in ps { sys.vfree_atomic(p) }
        sys.vfree_atomic(nil)
        #expect(Self.within2s { ps.allSatisfy { sys.find_vm_area($0) == nil } })
        expectNothingLost(sys)
    }

    /// Called with the lock `vfree` would take on this very area held: it must not take it.
    @Test(.timeLimit(.minutes(1))) func takesNoLockVfreeTakes() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(2 * 4096))
        _ = sys.space.areas.withArea(containing: p - sys.space.areas.base) { _ in sys.vfree_atomic(p) }
        #expect(Self.within2s { sys.find_vm_area(p) == nil })
        expectNothingLost(sys)
    }

    /// A shrinker (reclaim context) may hand its vmalloc'ed cache back with vfree_atomic.
    @Test func fromAShrinker() throws {
        let sys = try makeSystem(mib: 16)
        let areas = (0..<8).compactMap { _ in sys.vmalloc(64 * 4096) }
        let cache = Locked(areas)
        let handle = sys.registerShrinker(
            name: "atomic-cache", count: { _ in cache.get { $0.count } * 64 },
            scan: { sc in
                let gone = cache.get { c in
                    let taken = c
                    c.removeAll()
                    return taken
                }
                for p in gone { sys.vfree_atomic(p) }
                sc.nrScanned = gone.count * 64
                return gone.count * 64
            })
        // Exhaust memory so reclaim runs the shrinker (NORETRY: one round of reclaim, then nil).
        var held: [Page] = []
        while let pg = sys.alloc_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN) { held.append(pg) }
        #expect(cache.get { $0.isEmpty })
        for pg in held { sys.__free_page(pg) }
        #expect(Self.within2s { areas.allSatisfy { sys.find_vm_area($0) == nil } })
        handle.unregister()
        expectNothingLost(sys)
    }
}

/// A value behind a lock that test closures can share.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private var mutex = pthread_mutex_t()
    init(_ v: T) {
        value = v
        pthread_mutex_init(&mutex, nil)
    }
    func get<R>(_ body: (inout T) -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body(&value)
    }
}
