/* <linux/spinlock.h>: spinlocks and rwlocks. Mirrors include/linux/spinlock.h. Both are pthread
 * locks that sleep when contended: a userspace thread holding a spinning lock can be preempted
 * (the kernel disables preemption), and spinning on a descheduled holder wastes whole time slices.
 * The _irq/_irqsave/_bh forms are the plain ones (no interrupts here); flags is still written. */
#ifndef _VMALLOC_LINUX_SPINLOCK_H
#define _VMALLOC_LINUX_SPINLOCK_H

#include <pthread.h>
#include <linux/types.h>
#include <linux/preempt.h>
#include <linux/irqflags.h>

typedef struct spinlock {
    pthread_mutex_t lock;
} spinlock_t;
typedef struct {
    pthread_rwlock_t lock;
} rwlock_t;

#define __SPIN_LOCK_UNLOCKED(name) { PTHREAD_MUTEX_INITIALIZER }
#define DEFINE_SPINLOCK(name) spinlock_t name = __SPIN_LOCK_UNLOCKED(name)
#define __RW_LOCK_UNLOCKED(name) { PTHREAD_RWLOCK_INITIALIZER }
#define DEFINE_RWLOCK(name) rwlock_t name = __RW_LOCK_UNLOCKED(name)

static inline void spin_lock_init(spinlock_t *l) { pthread_mutex_init(&l->lock, NULL); }
static inline void spin_lock(spinlock_t *l) { pthread_mutex_lock(&l->lock); }
static inline void spin_unlock(spinlock_t *l) { pthread_mutex_unlock(&l->lock); }
static inline int spin_trylock(spinlock_t *l) { return pthread_mutex_trylock(&l->lock) == 0; }
static inline int spin_is_locked(spinlock_t *l) {
    if (pthread_mutex_trylock(&l->lock) != 0) return 1;
    pthread_mutex_unlock(&l->lock);
    return 0;
}
#define spin_lock_nested(l, subclass) spin_lock(l)
#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
#define spin_lock_bh(l) spin_lock(l)
#define spin_unlock_bh(l) spin_unlock(l)
#define spin_lock_irqsave(l, flags) do { local_irq_save(flags); spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { spin_unlock(l); local_irq_restore(flags); } while (0)
#define spin_trylock_irqsave(l, flags) ({ local_irq_save(flags); spin_trylock(l); })
#define assert_spin_locked(l) ((void)(l))
#define lockdep_assert_held(l) ((void)(l))

static inline void rwlock_init(rwlock_t *l) { pthread_rwlock_init(&l->lock, NULL); }
static inline void read_lock(rwlock_t *l) { pthread_rwlock_rdlock(&l->lock); }
static inline void read_unlock(rwlock_t *l) { pthread_rwlock_unlock(&l->lock); }
static inline void write_lock(rwlock_t *l) { pthread_rwlock_wrlock(&l->lock); }
static inline void write_unlock(rwlock_t *l) { pthread_rwlock_unlock(&l->lock); }
static inline int read_trylock(rwlock_t *l) { return pthread_rwlock_tryrdlock(&l->lock) == 0; }
static inline int write_trylock(rwlock_t *l) { return pthread_rwlock_trywrlock(&l->lock) == 0; }
#define read_lock_irq(l) read_lock(l)
#define read_unlock_irq(l) read_unlock(l)
#define write_lock_irq(l) write_lock(l)
#define write_unlock_irq(l) write_unlock(l)
#define read_lock_bh(l) read_lock(l)
#define read_unlock_bh(l) read_unlock(l)
#define write_lock_bh(l) write_lock(l)
#define write_unlock_bh(l) write_unlock(l)
#define read_lock_irqsave(l, flags) do { local_irq_save(flags); read_lock(l); } while (0)
#define read_unlock_irqrestore(l, flags) do { read_unlock(l); local_irq_restore(flags); } while (0)
#define write_lock_irqsave(l, flags) do { local_irq_save(flags); write_lock(l); } while (0)
#define write_unlock_irqrestore(l, flags) do { write_unlock(l); local_irq_restore(flags); } while (0)

#endif
