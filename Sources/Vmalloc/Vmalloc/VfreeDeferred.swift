import Synchronization

/// `vfree_atomic`'s deferred frees (mm/vmalloc.c `vfree_deferred`): a lock-free list (the
/// kernel's llist) drained by one worker thread (its work item), started on first use.
/// Unchecked Sendable: the nodes behind `head` are handed over whole by its atomic exchanges.
final class VfreeDeferred: @unchecked Sendable {
    /// What the worker frees a pointer with: the system's whole `vfree`, which also frees what
    /// a `VM_MAP_PUT_PAGES` area handed over (the page array is kvfreed, above this layer).
    protocol Target: AnyObject, Sendable {
        /// Free the vmalloc or vmap area starting at p, or report it as `vfree` does.
        func vfree(_ p: UnsafeMutableRawPointer?)
    }

    /// One deferred free: the pointer and the target that frees it (retained by the node).
    struct Node {
        var next: UnsafeMutablePointer<Node>?
        let target: any Target
        let pointer: UnsafeMutableRawPointer
    }

    /// The one list and worker of the process, shared by every system.
    static let shared = VfreeDeferred()

    private let head = Atomic<UnsafeMutablePointer<Node>?>(nil)
    /// Woken when the list goes from empty to non-empty; a wake takes no lock (a futex syscall
    /// only when the worker sleeps).
    private let wake = WaitQueue()

    private init() {
        DetachedThread.run(name: "vfree_deferred") { VfreeDeferred.shared.work() }
    }

    /// `llist_add` of p, then `schedule_work` when the list was empty; nil is a no-op. The
    /// target is retained until the worker has freed p.
    func push(_ p: UnsafeMutableRawPointer?, to target: any Target) {
        guard let p else { return }
        let node = UnsafeMutablePointer<Node>.allocate(capacity: 1)
        node.initialize(to: Node(next: nil, target: target, pointer: p))
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
                n.pointee.target.vfree(n.pointee.pointer)
                n.deinitialize(count: 1)
                n.deallocate()
            }
        }
    }
}
