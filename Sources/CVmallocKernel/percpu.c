// Dynamic per-CPU memory under its kernel names (mm/percpu.c): wrappers over the ABI, whose
// per-CPU pointer is the address of unit 0's copy.
#define _GNU_SOURCE
#include <linux/percpu.h>

#include <vmalloc_abi.h>

void __percpu *__alloc_percpu(size_t size, size_t align) { return vmc_alloc_percpu(size, align); }

// The ABI's per-CPU allocation takes no mask: the memory is always zeroed (__GFP_ZERO is
// implied), and a caller passing GFP_NOWAIT or GFP_ATOMIC is not kept from blocking.
void __percpu *__alloc_percpu_gfp(size_t size, size_t align, gfp_t gfp)
{
    (void)gfp;
    return vmc_alloc_percpu(size, align);
}

void free_percpu(void __percpu *__pdata)
{
    if (__pdata)
        vmc_free_percpu(__pdata);
}

unsigned long __vmalloc_per_cpu_offset(int cpu) { return vmc_per_cpu_offset(cpu); }
