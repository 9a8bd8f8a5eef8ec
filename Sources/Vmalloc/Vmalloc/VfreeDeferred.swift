import Synchronization

/// `vfree_atomic`'s deferred frees (mm/vmalloc.c `vfree_deferred`): a lock-free list (the
/// kernel's llist) drained by one worker thread (its work item), started on first use.
/// Unchecked Sendable: the nodes behind `head` are handed over whole by its atomic exchanges.
final class VfreeDeferred: @unchecked Sendable {
    struct Node {
        var next: UnsafeMutablePointer<Node>?
        let system: Unmanaged<MemorySystem>
        let pointer: UnsafeMutableRawPointer
    }

    static let shared = VfreeDeferred()

    private let head = Atomic<UnsafeMutablePointer<Node>?>(nil)
    /// Woken when the list goes from empty to non-empty; a wake takes no lock (a futex syscall
    /// only when the worker sleeps).
    private let wake = WaitQueue()

    private init() {
        DetachedThread.run(name: "vfree_deferred") { VfreeDeferred.shared.work() }
    }

    /// `llist_add` of p, then `schedule_work` when the list was empty. The system is retained
    /// until the worker has freed p.
    func push(_ p: UnsafeMutableRawPointer, _ system: MemorySystem) {
        let node = UnsafeMutablePointer<Node>.allocate(capacity: 1)
        node.initialize(to: Node(next: nil, system: .passRetained(system), pointer: p))
        var seen = head.load(ordering: .relaxed)
        while true {
            node.pointee.next = seen
            let (done, now) = head.compareExchange(expected: seen, desired: node, ordering: .releasing)
            if done { break }
            seen = now
        }
        if seen == nil { wake.wakeAll() }
    }

    /// The work item: take the whole list at once (`llist_del_all`, so no ABA) and vfree each.
    private func work() -> Never {
        while true {
            // Read the sequence before looking at the list, so a push in between is not missed.
            let seen = wake.sequence
            var node = head.exchange(nil, ordering: .acquiring)
            if node == nil { wake.wait(since: seen, timeoutNs: 1_000_000_000) }
            while let n = node {
                node = n.pointee.next
                let system = n.pointee.system.takeRetainedValue()
                system.vfree(n.pointee.pointer)
                n.deinitialize(count: 1)
                n.deallocate()
            }
        }
    }
}

extension MemorySystem {
    /// Free a vmalloc area from any context (`vfree_atomic`): takes none of the locks `vfree`
    /// takes; the free runs soon after on a worker thread. nil is a no-op; a pointer `vfree`
    /// would refuse is reported by the worker and changes nothing.
    public func vfree_atomic(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        VfreeDeferred.shared.push(p, self)
    }
}
