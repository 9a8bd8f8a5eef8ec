/* <linux/completion.h>: completions. Mirrors include/linux/completion.h and kernel/sched/completion.c:
 * complete() lets one waiter through (or the next one to wait), complete_all() every waiter for good
 * until reinit_completion(). Timeouts are in jiffies (<linux/jiffies.h>). */
#ifndef _VMALLOC_LINUX_COMPLETION_H
#define _VMALLOC_LINUX_COMPLETION_H

#include <pthread.h>
#include <linux/types.h>
#include <linux/jiffies.h>

struct completion {
    unsigned int done;    /* completions not yet consumed; UINT_MAX after complete_all */
    pthread_mutex_t lock;
    pthread_cond_t wait;
};

#define COMPLETION_INITIALIZER(work) { 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER }
#define COMPLETION_INITIALIZER_ONSTACK(work) COMPLETION_INITIALIZER(work)
#define DECLARE_COMPLETION(work) struct completion work = COMPLETION_INITIALIZER(work)
#define DECLARE_COMPLETION_ONSTACK(work) DECLARE_COMPLETION(work)

void init_completion(struct completion *x);
void reinit_completion(struct completion *x);
void complete(struct completion *x);
void complete_all(struct completion *x);
void wait_for_completion(struct completion *x);
/* 0 when the timeout passed, else the jiffies left (at least 1). */
unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout);
/* No signals reach a waiter here: these always return as the plain waits do. */
int wait_for_completion_interruptible(struct completion *x);
int wait_for_completion_killable(struct completion *x);
long wait_for_completion_interruptible_timeout(struct completion *x, unsigned long timeout);
long wait_for_completion_killable_timeout(struct completion *x, unsigned long timeout);
/* Consumes a completion if one is there, without waiting. */
bool try_wait_for_completion(struct completion *x);
/* True when no waiter would block (a completion is pending). */
bool completion_done(struct completion *x);

#endif
