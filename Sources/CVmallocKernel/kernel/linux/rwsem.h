/* <linux/rwsem.h>: reader-writer semaphores on pthread_rwlock_t. Mirrors include/linux/rwsem.h.
 * glibc's default rwlock prefers readers (the kernel's rwsem hands off to a waiting writer); code
 * that relies on writer fairness for progress should not rely on it here. */
#ifndef _VMALLOC_LINUX_RWSEM_H
#define _VMALLOC_LINUX_RWSEM_H

#include <pthread.h>
#include <linux/types.h>
#include <linux/atomic.h> /* as the kernel's rwsem.h: its users expect it */

struct rw_semaphore {
    pthread_rwlock_t lock;
};

#define __RWSEM_INITIALIZER(name) { PTHREAD_RWLOCK_INITIALIZER }
#define DECLARE_RWSEM(name) struct rw_semaphore name = __RWSEM_INITIALIZER(name)

static inline void init_rwsem(struct rw_semaphore *sem) { pthread_rwlock_init(&sem->lock, NULL); }
static inline void down_read(struct rw_semaphore *sem) { pthread_rwlock_rdlock(&sem->lock); }
static inline int down_read_killable(struct rw_semaphore *sem) { return down_read(sem), 0; }
static inline int down_read_interruptible(struct rw_semaphore *sem) { return down_read(sem), 0; }
static inline int down_read_trylock(struct rw_semaphore *sem) { return pthread_rwlock_tryrdlock(&sem->lock) == 0; }
static inline void up_read(struct rw_semaphore *sem) { pthread_rwlock_unlock(&sem->lock); }
static inline void down_write(struct rw_semaphore *sem) { pthread_rwlock_wrlock(&sem->lock); }
static inline int down_write_killable(struct rw_semaphore *sem) { return down_write(sem), 0; }
static inline int down_write_trylock(struct rw_semaphore *sem) { return pthread_rwlock_trywrlock(&sem->lock) == 0; }
static inline void up_write(struct rw_semaphore *sem) { pthread_rwlock_unlock(&sem->lock); }
/* pthreads cannot turn a write lock into a read lock atomically: another writer may slip in
 * between, which a caller of downgrade_write must tolerate here. */
static inline void downgrade_write(struct rw_semaphore *sem) {
    pthread_rwlock_unlock(&sem->lock);
    pthread_rwlock_rdlock(&sem->lock);
}

#endif
