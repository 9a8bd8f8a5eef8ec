/* Completions. Mirrors kernel/sched/completion.c: `done` counts complete() calls not yet consumed by
 * a waiter; complete_all() sets it to UINT_MAX, which waiters never consume. Waits time out on
 * CLOCK_MONOTONIC (pthread_cond_clockwait), so a wall-clock change cannot stretch or cut them. */
#define _GNU_SOURCE
#include <linux/completion.h>

#include <errno.h>
#include <limits.h>
#include <time.h>

void init_completion(struct completion *x) {
    x->done = 0;
    pthread_mutex_init(&x->lock, NULL);
    pthread_cond_init(&x->wait, NULL);
}

void reinit_completion(struct completion *x) {
    pthread_mutex_lock(&x->lock);
    x->done = 0;
    pthread_mutex_unlock(&x->lock);
}

void complete(struct completion *x) {
    pthread_mutex_lock(&x->lock);
    if (x->done != UINT_MAX) x->done++;
    pthread_cond_signal(&x->wait);
    pthread_mutex_unlock(&x->lock);
}

void complete_all(struct completion *x) {
    pthread_mutex_lock(&x->lock);
    x->done = UINT_MAX;
    pthread_cond_broadcast(&x->wait);
    pthread_mutex_unlock(&x->lock);
}

static void consume(struct completion *x) {
    if (x->done != UINT_MAX) x->done--;
}

void wait_for_completion(struct completion *x) {
    pthread_mutex_lock(&x->lock);
    while (!x->done) pthread_cond_wait(&x->wait, &x->lock);
    consume(x);
    pthread_mutex_unlock(&x->lock);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout) {
    if (timeout >= (unsigned long)MAX_SCHEDULE_TIMEOUT) { /* the kernel's "no timeout" */
        wait_for_completion(x);
        return (unsigned long)MAX_SCHEDULE_TIMEOUT;
    }
    long long deadline = now_ms() + (long long)timeout; /* HZ is 1000: a jiffy is a millisecond */
    struct timespec at = { (time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000 };
    unsigned long left = 0;
    pthread_mutex_lock(&x->lock);
    while (!x->done && pthread_cond_clockwait(&x->wait, &x->lock, CLOCK_MONOTONIC, &at) != ETIMEDOUT) { }
    if (x->done) {
        consume(x);
        long long rest = deadline - now_ms();
        left = rest > 0 ? (unsigned long)rest : 1; /* done in time: at least 1 */
    }
    pthread_mutex_unlock(&x->lock);
    return left;
}

int wait_for_completion_interruptible(struct completion *x) {
    wait_for_completion(x);
    return 0;
}

int wait_for_completion_killable(struct completion *x) {
    wait_for_completion(x);
    return 0;
}

long wait_for_completion_interruptible_timeout(struct completion *x, unsigned long timeout) {
    return (long)wait_for_completion_timeout(x, timeout);
}

long wait_for_completion_killable_timeout(struct completion *x, unsigned long timeout) {
    return (long)wait_for_completion_timeout(x, timeout);
}

bool try_wait_for_completion(struct completion *x) {
    pthread_mutex_lock(&x->lock);
    bool got = x->done != 0;
    if (got) consume(x);
    pthread_mutex_unlock(&x->lock);
    return got;
}

bool completion_done(struct completion *x) {
    pthread_mutex_lock(&x->lock);
    bool done = x->done != 0;
    pthread_mutex_unlock(&x->lock);
    return done;
}
