// vmshim reclaim mechanism: a futex wait queue (waiters for freed frames, kswapd's sleep), the
// per-thread reclaim state (frames freed by this thread, the shrinker it is running) and the
// per-thread stack of held reclaim-tracked locks the fs_reclaim checker walks. Policy is Swift.
#ifndef VMSHIM_RECLAIM_H
#define VMSHIM_RECLAIM_H

#include <stdint.h>

#include "vmshim_base.h"

/* ---- wait queue: a sequence word that sleepers wait on with futex(2) ---- */

/// Opaque: a sequence counter and a count of sleepers.
typedef struct vmshim_waitq vmshim_waitq;
/// A new queue (NULL when out of memory); vmshim_waitq_destroy frees it.
vmshim_waitq *vmshim_waitq_create(void);
void vmshim_waitq_destroy(vmshim_waitq *q);
/// The current sequence; pass it to vmshim_waitq_wait to sleep until it changes.
uint32_t vmshim_waitq_seq(vmshim_waitq *q);
/// Bump the sequence and wake every sleeper (a futex syscall only when someone sleeps).
void vmshim_waitq_wake(vmshim_waitq *q);
/// Sleep while the sequence equals `seen`, at most timeout_ns. 0 when it changed (or a spurious
/// wakeup), -ETIMEDOUT when the time ran out.
int vmshim_waitq_wait(vmshim_waitq *q, uint32_t seen, uint64_t timeout_ns);

/* ---- per-thread reclaim state (current->reclaim_state, PF_KSWAPD) ---- */

/// Frames this thread has returned to the page allocator since it started: direct reclaim
/// reads it before and after a pass to learn what the pass freed (`reclaim_state->reclaimed`).
extern _Thread_local uint64_t vmshim_thread_freed_pages VMSHIM_SWIFT_HIDDEN;
static inline void vmshim_account_freed(uint64_t pages) { vmshim_thread_freed_pages += pages; }
static inline uint64_t vmshim_freed_pages(void) { return vmshim_thread_freed_pages; }

/// What this thread's reclaim is doing now: the running shrinker's id in the high 32 bits and
/// the effective mask it was called with in the low 32; 0 outside shrinkers. Returns the
/// previous value so calls can nest.
uint64_t vmshim_set_reclaim_context(uint64_t ctx);
uint64_t vmshim_reclaim_context(void);
/// Put back the value a vmshim_set_reclaim_context call returned, when the nested call ends.
void vmshim_restore_reclaim_context(uint64_t ctx);

/* ---- held reclaim-tracked locks of this thread (lockdep's held_locks) ---- */

/// How many tracked locks this thread holds; read it through vmshim_held_count.
extern _Thread_local int vmshim_held_depth VMSHIM_SWIFT_HIDDEN;
/// Record that this thread took lock `id`. 0, or -1 when more than 64 are held.
int vmshim_held_push(uint32_t id);
/// Forget the innermost hold of lock `id`. 0, or -1 when this thread does not hold it.
int vmshim_held_pop(uint32_t id);
/// How many tracked locks this thread holds (the allocator's cheap "anything to check?").
static inline int vmshim_held_count(void) { return vmshim_held_depth; }
/// The i-th held lock, outermost first.
uint32_t vmshim_held_at(int i);

#endif
