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

void vmshim_synchronize_rcu(void) { urcu_bp_synchronize_rcu(); }

struct deferred {
    struct rcu_head head; /* first: call_rcu hands the callback this address */
    vmshim_rcu_fn fn;
    void *ctx;
    void *ptr;
};

static void run_deferred(struct rcu_head *head) {
    struct deferred *d = (struct deferred *)head;
    d->fn(d->ctx, d->ptr);
    free(d);
}

int vmshim_call_rcu(vmshim_rcu_fn fn, void *ctx, void *ptr) {
    struct deferred *d = malloc(sizeof *d);
    if (!d) return -ENOMEM;
    d->fn = fn;
    d->ctx = ctx;
    d->ptr = ptr;
    urcu_bp_call_rcu(&d->head, run_deferred);
    return 0;
}

void vmshim_rcu_barrier(void) { urcu_bp_barrier(); }
