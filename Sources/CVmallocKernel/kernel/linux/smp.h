/* <linux/smp.h>: which CPU the caller runs on. Mirrors include/linux/smp.h: smp_processor_id() is
 * below nr_cpu_ids (the allocator's possible CPUs, which may be fewer than the machine's: the CPU
 * sched_getcpu reports is folded into that range), so it indexes per-CPU data safely. */
#ifndef _VMALLOC_LINUX_SMP_H
#define _VMALLOC_LINUX_SMP_H

#include <linux/preempt.h>
#include <linux/cpumask.h>

int raw_smp_processor_id(void);
#define smp_processor_id() raw_smp_processor_id()
#define get_cpu() ({ preempt_disable(); smp_processor_id(); })
#define put_cpu() preempt_enable()
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define mb() smp_mb()
#define rmb() smp_rmb()
#define wmb() smp_wmb()
#define smp_store_release(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define smp_load_acquire(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define smp_mb__before_atomic() smp_mb()
#define smp_mb__after_atomic() smp_mb()

#endif
