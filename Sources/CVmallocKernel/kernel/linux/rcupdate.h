/* <linux/rcupdate.h>: read-side critical sections, grace periods and deferred frees over the
 * memory system's RCU (liburcu). rcu_read_lock() sections nest and must be left on the thread
 * that entered them. call_rcu() callbacks run on a callback thread after a grace period, in
 * queue order; rcu_barrier() waits for every call_rcu() callback and kvfree_rcu() free queued
 * before it. kfree_rcu and kvfree_rcu take 6.12's two-argument form and 6.1's one-argument
 * form (= kvfree_rcu_mightsleep), told apart by argument count. Differences: no RCU flavours
 * (bh, sched, tasks, SRCU) and no lockdep checks in rcu_dereference_check(). */
#ifndef _VMALLOC_LINUX_RCUPDATE_H
#define _VMALLOC_LINUX_RCUPDATE_H

#include <stddef.h>
#include <linux/types.h>

void rcu_read_lock(void);
void rcu_read_unlock(void);
/* Wait until every read-side section that began before the call has ended. */
void synchronize_rcu(void);
#define synchronize_rcu_expedited() synchronize_rcu()
/* Wait until every call_rcu() callback and RCU free queued before the call has run. */
void rcu_barrier(void);
#define kvfree_rcu_barrier() rcu_barrier()
/* Run func(head) after a grace period, on the RCU callback thread. */
void call_rcu(struct rcu_head *head, rcu_callback_t func);
#define call_rcu_hurry(head, func) call_rcu(head, func)

/* kvfree(ptr) after a grace period. head: ptr's embedded rcu_head, or NULL when ptr has none
 * (then the caller may sleep). */
void kvfree_call_rcu(struct rcu_head *head, void *ptr);

#define __is_kvfree_rcu_offset(offset) ((offset) < 4096)

#define kvfree_rcu_arg_2(ptr, rhf)                                                             \
    do {                                                                                       \
        __typeof__(ptr) ___p = (ptr);                                                          \
        _Static_assert(__is_kvfree_rcu_offset(offsetof(__typeof__(*(ptr)), rhf)),             \
                       "the rcu_head must lie in the object's first 4096 bytes");              \
        if (___p)                                                                              \
            kvfree_call_rcu(&((___p)->rhf), (void *)(___p));                                   \
    } while (0)

#define kvfree_rcu_arg_1(ptr)                                                                  \
    do {                                                                                       \
        __typeof__(ptr) ___p = (ptr);                                                          \
        if (___p)                                                                              \
            kvfree_call_rcu(NULL, (void *)(___p));                                             \
    } while (0)

#define __vmalloc_kvfree_rcu_pick(_1, _2, name, ...) name
/* kvfree_rcu(ptr, rhf) (6.12) or kvfree_rcu(ptr) (6.1); kfree_rcu likewise. */
#define kvfree_rcu(...) __vmalloc_kvfree_rcu_pick(__VA_ARGS__, kvfree_rcu_arg_2, kvfree_rcu_arg_1, )(__VA_ARGS__)
#define kfree_rcu(...) kvfree_rcu(__VA_ARGS__)
#define kvfree_rcu_mightsleep(ptr) kvfree_rcu_arg_1(ptr)
#define kfree_rcu_mightsleep(ptr) kvfree_rcu_arg_1(ptr)

/* Publishing and reading RCU-protected pointers: release store, dependent (acquire) load. */
#define rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rcu_dereference_raw(p) rcu_dereference(p)
#define rcu_dereference_check(p, c) rcu_dereference(p)
#define rcu_dereference_protected(p, c) (p)
#define rcu_access_pointer(p) READ_ONCE(p)
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v) WRITE_ONCE(p, v)
#define RCU_INITIALIZER(v) (v)
#define rcu_replace_pointer(rcu_ptr, ptr, c) __atomic_exchange_n(&(rcu_ptr), (ptr), __ATOMIC_ACQ_REL)

/* No RCU debugging: every context may be a reader. */
#define rcu_read_lock_held() 1
#define rcu_read_lock_bh() rcu_read_lock()
#define rcu_read_unlock_bh() rcu_read_unlock()
#define rcu_read_lock_sched() rcu_read_lock()
#define rcu_read_unlock_sched() rcu_read_unlock()

#endif
