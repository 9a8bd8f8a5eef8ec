// RCU under its kernel names (kernel/rcu/tree.c, mm/slab_common.c's kvfree_call_rcu): read-side
// sections, grace periods and RCU frees are the memory system's (liburcu underneath); call_rcu's
// callbacks are queued here and run on one callback thread, because the ABI frees memory after
// a grace period but does not call arbitrary functions.
//
// Lock order: rcu_cb.lock is a leaf; it is never held while waiting for a grace period or while
// a callback runs, so callbacks may call call_rcu() again.
#define _GNU_SOURCE
#include <linux/rcupdate.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmalloc_abi.h>

void rcu_read_lock(void) { vmc_rcu_read_lock(); }

void rcu_read_unlock(void) { vmc_rcu_read_unlock(); }

void synchronize_rcu(void) { vmc_synchronize_rcu(); }

void kvfree_call_rcu(struct rcu_head *head, void *ptr) { vmc_kvfree_rcu(head, ptr); }

static struct {
    pthread_mutex_t lock;
    pthread_cond_t more;   /* callbacks were queued */
    pthread_cond_t done;   /* a batch of callbacks has run */
    struct rcu_head *head; /* queued, not yet taken by the thread, in call order */
    struct rcu_head **tail;
    unsigned long queued;  /* callbacks ever queued */
    unsigned long invoked; /* callbacks ever run */
    int started;
} rcu_cb = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .more = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .tail = &rcu_cb.head,
};

// Take everything queued, wait one grace period (every reader that could see those objects has
// then left its section), run the batch in order, and tell rcu_barrier() how far it got.
static void *rcu_cb_thread(void *arg)
{
    (void)arg;
    for (;;) {
        struct rcu_head *list;
        unsigned long n = 0;

        pthread_mutex_lock(&rcu_cb.lock);
        while (!rcu_cb.head)
            pthread_cond_wait(&rcu_cb.more, &rcu_cb.lock);
        list = rcu_cb.head;
        rcu_cb.head = NULL;
        rcu_cb.tail = &rcu_cb.head;
        pthread_mutex_unlock(&rcu_cb.lock);

        vmc_synchronize_rcu();
        while (list) {
            struct rcu_head *next = list->next;

            list->func(list);
            list = next;
            n++;
        }

        pthread_mutex_lock(&rcu_cb.lock);
        rcu_cb.invoked += n;
        pthread_cond_broadcast(&rcu_cb.done);
        pthread_mutex_unlock(&rcu_cb.lock);
    }
    return NULL;
}

// Called with rcu_cb.lock held. The thread blocks every signal: they belong to the program's
// own threads.
static void rcu_cb_start(void)
{
    pthread_t thread;
    sigset_t all, old;
    int err;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&thread, NULL, rcu_cb_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        fprintf(stderr, "call_rcu: cannot start the RCU callback thread (error %d)\n", err);
        abort();
    }
    pthread_setname_np(thread, "rcu_callback");
    pthread_detach(thread);
    rcu_cb.started = 1;
}

void call_rcu(struct rcu_head *head, rcu_callback_t func)
{
    head->func = func;
    head->next = NULL;
    pthread_mutex_lock(&rcu_cb.lock);
    if (!rcu_cb.started)
        rcu_cb_start();
    *rcu_cb.tail = head;
    rcu_cb.tail = &head->next;
    rcu_cb.queued++;
    pthread_cond_signal(&rcu_cb.more);
    pthread_mutex_unlock(&rcu_cb.lock);
}

// Must not be called from a call_rcu callback: it would wait for the thread it runs on.
void rcu_barrier(void)
{
    unsigned long target;

    pthread_mutex_lock(&rcu_cb.lock);
    target = rcu_cb.queued;
    while (rcu_cb.invoked < target)
        pthread_cond_wait(&rcu_cb.done, &rcu_cb.lock);
    pthread_mutex_unlock(&rcu_cb.lock);
    // Callbacks may have queued RCU frees of their own; wait for those and every earlier one.
    vmc_rcu_barrier();
}
