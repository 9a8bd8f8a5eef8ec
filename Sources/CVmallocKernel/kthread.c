/* Kernel threads as pthreads. Mirrors kernel/kthread.c: a new thread parks until wake_up_process;
 * if kthread_stop comes first, its function never runs and kthread_stop returns -EINTR. A thread
 * whose function has returned stays until kthread_stop, so the task_struct pointer kthread_run
 * handed out (the thread's own vmshim_current_task) is valid until then, as in the kernel, where
 * the task is pinned until kthread_stop. */
#define _GNU_SOURCE
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmshim_task.h"
#include "vmshim_thread.h"

/* One kthread; the lock and condition guard every field but those set before the thread starts. */
struct kthread {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    int (*threadfn)(void *data);
    void *data;
    char name[TASK_COMM_LEN];
    struct task_struct *task; /* the thread's own task, published once it runs */
    bool woken;
    bool should_stop;         /* also read without the lock by kthread_should_stop */
    bool exited;              /* threadfn returned (or was skipped): result is final */
    int result;
};

static void *kthread_main(void *arg) {
    struct kthread *k = arg;
    vmshim_thread_set_name(k->name);
    struct task_struct *self = get_current(); /* after the rename, so comm is the kthread's name */
    self->__kthread = k;
    pthread_mutex_lock(&k->lock);
    k->task = self;
    pthread_cond_broadcast(&k->cond);
    while (!k->woken && !k->should_stop) pthread_cond_wait(&k->cond, &k->lock);
    bool run = !k->should_stop;
    pthread_mutex_unlock(&k->lock);

    int result = run ? k->threadfn(k->data) : -EINTR;

    pthread_mutex_lock(&k->lock);
    k->result = result;
    k->exited = true;
    pthread_cond_broadcast(&k->cond);
    while (!k->should_stop) pthread_cond_wait(&k->cond, &k->lock);
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

struct task_struct *kthread_create_on_node(int (*threadfn)(void *data), void *data, int node, const char *namefmt,
                                           ...) {
    (void)node; /* a placement hint: memory placement follows the allocator's own policy */
    struct kthread *k = calloc(1, sizeof *k);
    if (!k) return ERR_PTR(-ENOMEM);
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->cond, NULL);
    k->threadfn = threadfn;
    k->data = data;
    va_list ap;
    va_start(ap, namefmt);
    vsnprintf(k->name, sizeof k->name, namefmt, ap);
    va_end(ap);
    int err = pthread_create(&k->thread, NULL, kthread_main, k);
    if (err) {
        pthread_cond_destroy(&k->cond);
        pthread_mutex_destroy(&k->lock);
        free(k);
        return ERR_PTR(err == EAGAIN ? -EAGAIN : -ENOMEM);
    }
    pthread_mutex_lock(&k->lock);
    while (!k->task) pthread_cond_wait(&k->cond, &k->lock);
    struct task_struct *task = k->task;
    pthread_mutex_unlock(&k->lock);
    return task;
}

int wake_up_process(struct task_struct *task) {
    struct kthread *k = task->__kthread;
    if (!k) return 0; /* not a kthread: nothing of ours is parked */
    pthread_mutex_lock(&k->lock);
    int woke = !k->woken;
    k->woken = true;
    pthread_cond_broadcast(&k->cond);
    pthread_mutex_unlock(&k->lock);
    return woke;
}

int kthread_stop(struct task_struct *task) {
    struct kthread *k = task->__kthread;
    if (!k) return -EINVAL;
    pthread_mutex_lock(&k->lock);
    __atomic_store_n(&k->should_stop, true, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&k->cond);
    while (!k->exited) pthread_cond_wait(&k->cond, &k->lock);
    int result = k->result;
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cond);
    pthread_mutex_destroy(&k->lock);
    free(k);
    return result;
}

bool kthread_should_stop(void) {
    struct kthread *k = vmshim_current()->kthread;
    return k && __atomic_load_n(&k->should_stop, __ATOMIC_ACQUIRE);
}

void *kthread_data(struct task_struct *task) {
    struct kthread *k = task->__kthread;
    return k ? k->data : NULL;
}
