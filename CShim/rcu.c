// Why a shim: liburcu spells its API as macros over flavour-prefixed symbols and wants an
// rcu_head embedded in the caller's object; Swift sees neither well. The nesting depth is kept
// here so an unbalanced unlock is caught before it corrupts liburcu's reader state.
#define _GNU_SOURCE
#include "vmshim_rcu.h"

#include <errno.h>
#include <stdlib.h>
#include <urcu-bp.h>

static _Thread_local int rcu_depth;

void vmshim_rcu_read_lock(void) {
    urcu_bp_read_lock();
    rcu_depth++;
}

int vmshim_rcu_read_unlock(void) {
    if (rcu_depth == 0) return -1;
    rcu_depth--;
    urcu_bp_read_unlock();
    return 0;
}

int vmshim_rcu_depth(void) { return rcu_depth; }

/* Polled grace periods (liburcu 0.14's get_state/poll_state_synchronize_rcu; 0.13 has none):
 * grace periods started through this shim are numbered in order, and vmshim_gp_completed is the
 * highest number known to have ended. A cookie names the first grace period to start after it was
 * taken; once that one, or any later one, has ended, so has a full grace period. */
static uint64_t gp_started;
uint64_t vmshim_gp_completed;

void vmshim_synchronize_rcu(void) {
    uint64_t gp = __atomic_add_fetch(&gp_started, 1, __ATOMIC_SEQ_CST);
    urcu_bp_synchronize_rcu();
    uint64_t done = __atomic_load_n(&vmshim_gp_completed, __ATOMIC_RELAXED);
    /* Concurrent callers end in any order: the highest number wins. Release pairs with the
     * acquire in vmshim_poll_state_synchronize_rcu, so frees made after a poll come after the
     * grace period (ThreadSanitizer cannot see liburcu's own ordering). */
    while (done < gp &&
           !__atomic_compare_exchange_n(&vmshim_gp_completed, &done, gp, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
    }
}

uint64_t vmshim_get_state_synchronize_rcu(void) { return __atomic_load_n(&gp_started, __ATOMIC_SEQ_CST) + 1; }

struct deferred {
    struct rcu_head head; /* first: call_rcu hands the callback this address */
    vmshim_rcu_fn fn;
    void *ctx;
    void *ptr;
};

/* Callbacks queued and not yet run, and whether this thread is running one. */
static uint64_t pending;
static _Thread_local int in_callback;

static void run_deferred(struct rcu_head *head) {
    struct deferred *d = (struct deferred *)head;
    /* Pairs with the release store in vmshim_call_rcu: liburcu's queue orders the hand-over,
     * but ThreadSanitizer cannot see inside liburcu, so the pair shows it the edge. */
    void *ptr = __atomic_load_n(&d->ptr, __ATOMIC_ACQUIRE);
    in_callback = 1;
    d->fn(d->ctx, ptr);
    in_callback = 0;
    free(d);
    __atomic_fetch_sub(&pending, 1, __ATOMIC_RELEASE);
}

int vmshim_call_rcu(vmshim_rcu_fn fn, void *ctx, void *ptr) {
    struct deferred *d = malloc(sizeof *d);
    if (!d) return -ENOMEM;
    d->fn = fn;
    d->ctx = ctx;
    __atomic_store_n(&d->ptr, ptr, __ATOMIC_RELEASE); /* last: run_deferred acquires it first */
    __atomic_fetch_add(&pending, 1, __ATOMIC_RELAXED);
    urcu_bp_call_rcu(&d->head, run_deferred);
    return 0;
}

int vmshim_rcu_drain(void) {
    if (__atomic_load_n(&pending, __ATOMIC_ACQUIRE) == 0 || rcu_depth > 0 || in_callback) return 0;
    urcu_bp_barrier();
    return 1;
}

void vmshim_rcu_barrier(void) { urcu_bp_barrier(); }
