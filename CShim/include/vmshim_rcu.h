// RCU for kvfree_rcu on liburcu's bulletproof flavour (urcu-bp): a reader thread registers
// itself on its first read lock, so callers need no rcu_register_thread ceremony.
#ifndef VMSHIM_RCU_H
#define VMSHIM_RCU_H

#include <stdint.h>

/// Enter a read-side critical section (rcu_read_lock); sections nest.
void vmshim_rcu_read_lock(void);
/// Leave one (rcu_read_unlock): 0, or -1 when the calling thread holds none (nothing changes).
int vmshim_rcu_read_unlock(void);
/// How deeply the calling thread's read-side sections nest.
int vmshim_rcu_depth(void);
/// Wait for a grace period: every reader that entered before the call has left.
void vmshim_synchronize_rcu(void);
/// A cookie for the grace periods that start from now (get_state_synchronize_rcu): once
/// `vmshim_poll_state_synchronize_rcu` says it has passed, every reader that was inside a
/// read-side section when it was taken has left. Starts nothing: someone must call
/// `vmshim_synchronize_rcu` after it.
uint64_t vmshim_get_state_synchronize_rcu(void);
/// The newest grace period known to have ended; read it through the poll below.
extern uint64_t vmshim_gp_completed;
/// Whether a full grace period has passed since `cookie` was taken (poll_state_synchronize_rcu).
/// Inline: every kvfree_rcu with a sealed batch polls.
static inline int vmshim_poll_state_synchronize_rcu(uint64_t cookie) {
    return __atomic_load_n(&vmshim_gp_completed, __ATOMIC_ACQUIRE) >= cookie;
}
/// Callback run after a grace period, on liburcu's call_rcu thread.
typedef void (*vmshim_rcu_fn)(void *ctx, void *ptr);
/// Queue fn(ctx, ptr) to run after a grace period (call_rcu). 0, or -ENOMEM.
int vmshim_call_rcu(vmshim_rcu_fn fn, void *ctx, void *ptr);
/// Wait until every callback queued before the call has run (rcu_barrier).
void vmshim_rcu_barrier(void);
/// rcu_barrier when callbacks are pending and the caller may wait for them: not inside a
/// read-side section (the grace period would wait for the caller) and not on the callback
/// thread (it would wait for itself). 1 when it waited, 0 when it could not or had nothing to do.
int vmshim_rcu_drain(void);

#endif
