import CShim

// RCU (include/linux/rcupdate.h) on liburcu's bulletproof flavour: frees wait for a real grace
// period.

extension MemorySystem {
    /// `kvfree` p after a grace period (`kvfree_rcu_mightsleep`): every reader inside
    /// `rcu_read_lock` when it is called may keep using the memory until it leaves. nil is a
    /// no-op. p waits in its CPU's batch; a thread of the system frees the batch after a grace
    /// period.
    public func kvfree_rcu(_ p: UnsafeMutableRawPointer?) { kv.kvfreeRCU(p) }

    /// Wait for a grace period (`synchronize_rcu`). Inside a read-side section it would wait
    /// for itself: a precondition failure.
    public func synchronize_rcu() {
        precondition(vmshim_rcu_depth() == 0, "synchronize_rcu() inside rcu_read_lock(): it would wait for itself")
        vmshim_synchronize_rcu()
    }

    /// Wait until every `kvfree_rcu` queued before the call has freed its memory (`rcu_barrier`).
    /// Not inside a read-side section (a precondition failure).
    public func rcu_barrier() {
        precondition(vmshim_rcu_depth() == 0, "rcu_barrier() inside rcu_read_lock(): it would wait for itself")
        kv.rcuBarrier()
    }
}

/// Enter an RCU read-side critical section (`rcu_read_lock`); sections nest. Memory passed to
/// `kvfree_rcu` after entry stays valid until the matching `rcu_read_unlock`. The thread
/// registers with liburcu on first use. Synchronous only: a task may change threads at an await.
@available(*, noasync)
public func rcu_read_lock() { vmshim_rcu_read_lock() }

/// Leave an RCU read-side critical section (`rcu_read_unlock`). Without a matching
/// `rcu_read_lock` on this thread: a precondition failure.
@available(*, noasync)
public func rcu_read_unlock() {
    precondition(vmshim_rcu_read_unlock() == 0, "rcu_read_unlock() without a matching rcu_read_lock() on this thread")
}
