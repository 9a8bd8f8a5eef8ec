/* <linux/mutex.h>: sleeping locks on pthread_mutex_t. Mirrors include/linux/mutex.h. */
#ifndef _VMALLOC_LINUX_MUTEX_H
#define _VMALLOC_LINUX_MUTEX_H

#include <pthread.h>
#include <linux/types.h>

struct mutex {
    pthread_mutex_t lock;
    int locked; /* what mutex_is_locked reads: a pthread mutex cannot be asked */
};

#define __MUTEX_INITIALIZER(name) { PTHREAD_MUTEX_INITIALIZER, 0 }
#define DEFINE_MUTEX(name) struct mutex name = __MUTEX_INITIALIZER(name)

static inline void mutex_init(struct mutex *m) {
    pthread_mutex_init(&m->lock, NULL);
    m->locked = 0;
}
static inline void mutex_destroy(struct mutex *m) { pthread_mutex_destroy(&m->lock); }
static inline void mutex_lock(struct mutex *m) {
    pthread_mutex_lock(&m->lock);
    __atomic_store_n(&m->locked, 1, __ATOMIC_RELAXED);
}
static inline int mutex_lock_interruptible(struct mutex *m) { return mutex_lock(m), 0; }
static inline int mutex_lock_killable(struct mutex *m) { return mutex_lock(m), 0; }
#define mutex_lock_nested(m, subclass) mutex_lock(m)
/* 1 when taken, 0 when someone holds it (the kernel's convention, not pthread's). */
static inline int mutex_trylock(struct mutex *m) {
    if (pthread_mutex_trylock(&m->lock) != 0) return 0;
    __atomic_store_n(&m->locked, 1, __ATOMIC_RELAXED);
    return 1;
}
static inline void mutex_unlock(struct mutex *m) {
    __atomic_store_n(&m->locked, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&m->lock);
}
static inline bool mutex_is_locked(struct mutex *m) { return __atomic_load_n(&m->locked, __ATOMIC_RELAXED); }

#endif
