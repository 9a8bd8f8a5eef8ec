import CShim

/// A wait queue (`wait_queue_head_t` + `wake_up_all`): threads sleep until someone wakes the
/// queue or a timeout passes. Waiters take `sequence` first and sleep only while it is
/// unchanged, so a wake between the two is never lost.
final class WaitQueue: Sendable {
    // The C queue: a sequence word behind a futex. Its address never changes.
    // Unchecked Sendable: an opaque C pointer whose queue is only used through atomics and futex calls.
    private struct Handle: @unchecked Sendable {
        let q: OpaquePointer
    }
    private let handle: Handle

    init() {
        guard let q = vmshim_waitq_create() else { fatalError("swift-vmalloc: out of memory for a wait queue") }
        handle = Handle(q: q)
    }

    deinit { vmshim_waitq_destroy(handle.q) }

    /// The queue's sequence now; pass it to `wait(since:timeoutNs:)`.
    var sequence: UInt32 { vmshim_waitq_seq(handle.q) }

    /// Wake every sleeper (`wake_up_all`).
    func wakeAll() { vmshim_waitq_wake(handle.q) }

    /// Sleep until the queue is woken after `seen` was read, or `timeoutNs` passes. True when woken.
    @discardableResult
    func wait(since seen: UInt32, timeoutNs: UInt64) -> Bool {
        if case .failure = Result(returned: vmshim_waitq_wait(handle.q, seen, timeoutNs)) { return false }
        return true
    }
}
