import Foundation
import Synchronization
import Testing
import VmallocTestSupport

@testable import Vmalloc

@Suite(.serialized) struct RCUTests {
    /// A reader inside rcu_read_lock before kvfree_rcu keeps the area live and intact until it
    /// leaves; rcu_barrier then sees it freed.
    @Test func aReaderKeepsTheMemoryUntilItLeaves() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(3 * 4096))
        fill(p, 3 * 4096, seed: 11)
        let free0 = sys.meminfo().memFree
        let reader = Reader(holding: p, 3 * 4096, seed: 11)
        sys.kvfree_rcu(p)
        usleep(200_000)
        #expect(sys.find_vm_area(p) != nil, "freed under a reader")
        #expect(sys.meminfo().memFree == free0)
        #expect(check(p, 3 * 4096, seed: 11))
        #expect(reader.leaveAndCheck())
        sys.rcu_barrier()
        #expect(sys.find_vm_area(p) == nil, "not freed after rcu_barrier")
        expectNothingLost(sys)
    }

    /// The freeing CPU's own later kvfree_rcu calls free its full batches once their grace
    /// period has passed: a flood after p, which seals p's batch and the next ones and keeps
    /// polling them, must not free p while a reader that entered before is still inside.
    @Test func aReaderKeepsAFullBatchFromItsOwnCPU() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(4096))
        fill(p, 4096, seed: 12)
        let reader = Reader(holding: p, 4096, seed: 12)
        sys.kvfree_rcu(p)
        for round in 0..<20 {
            for _ in 0..<RCUFreeBatches.capacity { sys.kvfree_rcu(sys.kmalloc(64, .kernel)) }
            if round % 5 == 4 { usleep(10_000) }  // time for any grace period that could end
        }
        #expect(sys.find_vm_area(p) != nil, "freed under a reader")
        #expect(check(p, 4096, seed: 12))
        #expect(reader.leaveAndCheck())
        sys.rcu_barrier()
        #expect(sys.find_vm_area(p) == nil, "not freed after rcu_barrier")
        expectNothingLost(sys)
    }

    @Test func kmallocMemoryAndNilToo() throws {
        let sys = try makeSystem()
        let small = try #require(sys.kmalloc(100, .kernel))
        let large = try #require(sys.kvmalloc(64 << 10))
        sys.kvfree_rcu(small)
        sys.kvfree_rcu(large)
        sys.kvfree_rcu(nil)
        sys.synchronize_rcu()
        sys.rcu_barrier()
        #expect(!sys.is_vmalloc_addr(large) || sys.find_vm_area(large) == nil)
        expectNothingLost(sys)
    }

    /// kvfree_rcu batches its frees per CPU; a batch that is not full still goes to RCU after a
    /// short delay, so a lone free comes back without anyone calling rcu_barrier.
    @Test func aLoneFreeComesBackWithoutABarrier() throws {
        let sys = try makeSystem()
        let p = try #require(sys.vmalloc(2 * 4096))
        sys.kvfree_rcu(p)
        let deadline = Date().addingTimeInterval(10)
        while sys.find_vm_area(p) != nil && Date() < deadline { usleep(1000) }
        #expect(sys.find_vm_area(p) == nil, "a batch that is not full was never queued")
        expectNothingLost(sys)
    }

    /// More frees than a batch holds, from two threads: after the barrier every one of them is
    /// freed, the full batches and the partial rest alike (that full batches go without one is
    /// `aFloodComesBackWithoutABarrier`'s).
    @Test func fullBatchesAndTheRestAreAllFreed() throws {
        let sys = try makeSystem()
        let count = 3 * RCUFreeBatches.capacity + 7
        let failed = Counter()
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                for i in 0..<count {
                    let p = i % 2 == 0 ? sys.kmalloc(64, .kernel) : sys.vmalloc(4096)
                    // kvfree_rcu(nil) does nothing: a failed allocation would test nothing.
                    if p == nil { failed.add() }
                    sys.kvfree_rcu(p)
                }
            }
        }
        group.wait()
        #expect(failed.count == 0)
        sys.rcu_barrier()
        expectNothingLost(sys)
    }

    /// A flood of kvfree_rcu comes back through the monitor, one grace period per round, with no
    /// barrier: the areas it frees are there for the next vmallocs to reuse. A VA shortage's
    /// drain (`drainDeferredFrees`) waits for the frees it hands over.
    @Test func aFloodComesBackWithoutABarrier() throws {
        let sys = try makeSystem()
        let ps = try (0..<(4 * RCUFreeBatches.capacity)).map { _ in try #require(sys.vmalloc(4096)) }
        for p in ps { sys.kvfree_rcu(p) }
        let deadline = Date().addingTimeInterval(10)
        while ps.contains(where: { sys.find_vm_area($0) != nil }) && Date() < deadline { usleep(1000) }
        #expect(!ps.contains(where: { sys.find_vm_area($0) != nil }), "a handed batch was never freed")
        let q = try #require(sys.vmalloc(4096))
        sys.kvfree_rcu(q)
        sys.space.drainDeferredFrees()
        #expect(sys.find_vm_area(q) == nil, "the drain returned before the free")
        expectNothingLost(sys)
    }

    @available(*, noasync)
    @Test func nestedSectionsBalance() {
        rcu_read_lock()
        rcu_read_lock()
        rcu_read_unlock()
        rcu_read_unlock()
        synchronize_rcu()  // outside any section again: returns
    }

    @Test func unbalancedUnlockIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) { Self.unlockUnbalanced() }
    }

    static func unlockUnbalanced() { rcu_read_unlock() }

    static func synchronizeInsideAReader() {
        rcu_read_lock()
        synchronize_rcu()
    }

    @Test func synchronizeInsideAReaderIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) { Self.synchronizeInsideAReader() }
    }
}

/// A thread inside `rcu_read_lock` that holds `bytes` bytes filled with `seed` from before the
/// test frees them until `leaveAndCheck`, and checks them as it leaves.
final class Reader: Sendable {
    private let entered = Atomic<Bool>(false)
    private let leave = Atomic<Bool>(false)
    private let done = Atomic<Bool>(false)
    private let intact = Atomic<Bool>(false)

    /// Starts the reader and returns once it is inside its read-side section.
    init(holding p: UnsafeMutableRawPointer, _ bytes: Int, seed: UInt8) {
        let addr = Int(bitPattern: p)
        Thread { [self] in
            rcu_read_lock()  // no registration: the thread registers on first use
            entered.store(true, ordering: .releasing)
            while !leave.load(ordering: .acquiring) { usleep(1000) }
            intact.store(check(UnsafeRawPointer(bitPattern: addr)!, bytes, seed: seed), ordering: .relaxed)
            rcu_read_unlock()
            done.store(true, ordering: .releasing)
        }.start()
        while !entered.load(ordering: .acquiring) { usleep(1000) }
    }

    /// Lets the reader leave and waits for it: whether the bytes were intact when it left.
    func leaveAndCheck() -> Bool {
        leave.store(true, ordering: .releasing)
        while !done.load(ordering: .acquiring) { usleep(1000) }
        return intact.load(ordering: .relaxed)
    }
}
