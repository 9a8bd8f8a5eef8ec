/* <linux/kthread.h>: kernel threads, here pthreads. Mirrors include/linux/kthread.h. A thread made
 * by kthread_create waits for wake_up_process before it runs its function; kthread_run does both.
 * The task_struct pointer stays valid until kthread_stop, even when the function has returned
 * (the thread waits for kthread_stop, which returns the function's result, or -EINTR when the
 * thread was stopped before it ever ran). */
#ifndef _VMALLOC_LINUX_KTHREAD_H
#define _VMALLOC_LINUX_KTHREAD_H

#include <linux/types.h>
#include <linux/err.h>
#include <linux/sched.h>

/* A new thread named after namefmt (its comm keeps 15 bytes), not yet running threadfn(data);
 * ERR_PTR(-ENOMEM) or ERR_PTR(-EAGAIN) when no thread could be made. node is a hint only. */
struct task_struct *kthread_create_on_node(int (*threadfn)(void *data), void *data, int node,
                                           const char *namefmt, ...) __attribute__((format(printf, 4, 5)));
#define kthread_create(threadfn, data, namefmt, ...) \
    kthread_create_on_node(threadfn, data, -1, namefmt, ##__VA_ARGS__)
#define kthread_run(threadfn, data, namefmt, ...) ({ \
    struct task_struct *__vm_k = kthread_create(threadfn, data, namefmt, ##__VA_ARGS__); \
    if (!IS_ERR(__vm_k)) wake_up_process(__vm_k); \
    __vm_k; })

/* Lets a kthread_create'd thread start; 1 when this call woke it, 0 when it was already running. */
int wake_up_process(struct task_struct *task);
/* Asks the thread to stop, wakes it, waits for its function to return and the thread to end. */
int kthread_stop(struct task_struct *task);
/* True in a kthread once kthread_stop has been called on it; false in any other thread. */
bool kthread_should_stop(void);
/* kthread_stop's task pointer is ours to the end here (no refcount), so this is kthread_stop. */
#define kthread_stop_put(task) kthread_stop(task)
/* The data passed to kthread_create, for the calling kthread (NULL elsewhere). */
void *kthread_data(struct task_struct *task);

#endif
