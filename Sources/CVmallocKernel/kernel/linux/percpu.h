/* <linux/percpu.h>: dynamic per-CPU memory over the memory system's per-CPU chunks. A per-CPU
 * pointer is the address of unit 0's copy; per_cpu_ptr() adds the distance to the given CPU's
 * copy. Differences: no static DEFINE_PER_CPU variables; the gfp of alloc_percpu_gfp() only
 * chooses zeroing, which is always done; this_cpu_ptr() uses the CPU the thread runs on now
 * (a thread can move: the this_cpu_* read-modify-write operations are atomic for that reason,
 * unlike the kernel's, which rely on disabled preemption). */
#ifndef _VMALLOC_LINUX_PERCPU_H
#define _VMALLOC_LINUX_PERCPU_H

#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/smp.h>
#include <linux/types.h>

#define PCPU_MIN_ALLOC_SHIFT 2
#define PCPU_MIN_ALLOC_SIZE (1 << PCPU_MIN_ALLOC_SHIFT)

/* size zeroed bytes aligned to align in every possible CPU's unit; NULL + a warning for size 0,
 * a size above the unit size, or align not a power of two <= PAGE_SIZE. */
void __percpu *__alloc_percpu(size_t size, size_t align);
void __percpu *__alloc_percpu_gfp(size_t size, size_t align, gfp_t gfp);
void free_percpu(void __percpu *__pdata);

#define alloc_percpu_gfp(type, gfp) \
    ((__typeof__(type) __percpu *)__alloc_percpu_gfp(sizeof(type), __alignof__(type), gfp))
#define alloc_percpu(type) ((__typeof__(type) __percpu *)__alloc_percpu(sizeof(type), __alignof__(type)))
#define alloc_percpu_noprof(type) alloc_percpu(type)

/* Bytes from unit 0's copy to cpu's (the kernel's __per_cpu_offset[cpu]). */
unsigned long __vmalloc_per_cpu_offset(int cpu);
#define per_cpu_offset(cpu) __vmalloc_per_cpu_offset(cpu)

#define per_cpu_ptr(ptr, cpu) ((__typeof__(ptr))((unsigned long)(ptr) + per_cpu_offset(cpu)))
#define raw_cpu_ptr(ptr) per_cpu_ptr(ptr, raw_smp_processor_id())
#define this_cpu_ptr(ptr) raw_cpu_ptr(ptr)
#define get_cpu_ptr(ptr) this_cpu_ptr(ptr)
#define put_cpu_ptr(ptr) do { (void)(ptr); } while (0)

#define this_cpu_read(pcp) READ_ONCE(*raw_cpu_ptr(&(pcp)))
#define this_cpu_write(pcp, val) WRITE_ONCE(*raw_cpu_ptr(&(pcp)), val)
#define this_cpu_add(pcp, val) ((void)__atomic_fetch_add(raw_cpu_ptr(&(pcp)), (val), __ATOMIC_RELAXED))
#define this_cpu_sub(pcp, val) ((void)__atomic_fetch_sub(raw_cpu_ptr(&(pcp)), (val), __ATOMIC_RELAXED))
#define this_cpu_inc(pcp) this_cpu_add(pcp, 1)
#define this_cpu_dec(pcp) this_cpu_sub(pcp, 1)
#define this_cpu_add_return(pcp, val) __atomic_add_fetch(raw_cpu_ptr(&(pcp)), (val), __ATOMIC_RELAXED)
#define this_cpu_inc_return(pcp) this_cpu_add_return(pcp, 1)
#define __this_cpu_read(pcp) this_cpu_read(pcp)
#define __this_cpu_write(pcp, val) this_cpu_write(pcp, val)
#define __this_cpu_add(pcp, val) this_cpu_add(pcp, val)
#define __this_cpu_inc(pcp) this_cpu_inc(pcp)
#define __this_cpu_dec(pcp) this_cpu_dec(pcp)
#define raw_cpu_read(pcp) this_cpu_read(pcp)
#define raw_cpu_write(pcp, val) this_cpu_write(pcp, val)

#endif
