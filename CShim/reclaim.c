// Reclaim mechanism: futex wait queue and per-thread reclaim/lockdep state (see
// vmshim_reclaim.h). A futex rather than a condition variable: a waker pays one atomic add and
// one load when nobody sleeps. The page allocator's free count (Swift's EventCount) calls the
// wake only when a sleeper has announced itself, so a frame free with nobody waiting does not
// even pay that add on this queue's shared line.
#define _GNU_SOURCE
#include "vmshim_reclaim.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct vmshim_waitq {
    _Atomic uint32_t seq;
    _Atomic uint32_t sleepers;
};

vmshim_waitq *vmshim_waitq_create(void) { return calloc(1, sizeof(vmshim_waitq)); }
void vmshim_waitq_destroy(vmshim_waitq *q) { free(q); }
uint32_t vmshim_waitq_seq(vmshim_waitq *q) { return atomic_load(&q->seq); }

void vmshim_waitq_wake(vmshim_waitq *q) {
    atomic_fetch_add(&q->seq, 1);
    // seq_cst on both sides: either the sleeper sees the new seq or we see the sleeper.
    if (atomic_load(&q->sleepers) != 0)
        syscall(SYS_futex, &q->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int vmshim_waitq_wait(vmshim_waitq *q, uint32_t seen, uint64_t timeout_ns) {
    struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u), .tv_nsec = (long)(timeout_ns % 1000000000u)};
    atomic_fetch_add(&q->sleepers, 1);
    int rc = 0;
    if (atomic_load(&q->seq) == seen) {
        long r = syscall(SYS_futex, &q->seq, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
        if (r < 0 && errno == ETIMEDOUT) rc = -ETIMEDOUT;
    }
    atomic_fetch_sub(&q->sleepers, 1);
    return rc;
}

_Thread_local uint64_t vmshim_thread_freed_pages;
static _Thread_local uint64_t reclaim_context;

uint64_t vmshim_set_reclaim_context(uint64_t ctx) {
    uint64_t old = reclaim_context;
    reclaim_context = ctx;
    return old;
}
void vmshim_restore_reclaim_context(uint64_t ctx) { reclaim_context = ctx; }
uint64_t vmshim_reclaim_context(void) { return reclaim_context; }

#define HELD_MAX 64
_Thread_local int vmshim_held_depth;
static _Thread_local uint32_t held[HELD_MAX];

int vmshim_held_push(uint32_t id) {
    if (vmshim_held_depth >= HELD_MAX) return -1;
    held[vmshim_held_depth++] = id;
    return 0;
}

int vmshim_held_pop(uint32_t id) {
    for (int i = vmshim_held_depth - 1; i >= 0; i--) {
        if (held[i] != id) continue;
        for (int j = i; j + 1 < vmshim_held_depth; j++) held[j] = held[j + 1];
        vmshim_held_depth--;
        return 0;
    }
    return -1;
}

uint32_t vmshim_held_at(int i) { return i >= 0 && i < vmshim_held_depth ? held[i] : 0; }
