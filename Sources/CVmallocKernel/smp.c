/* CPU numbers for <linux/cpumask.h> and <linux/smp.h>. Mirrors kernel/smp.c and the cpumask
 * counters: the possible CPUs are the allocator's per-CPU units, so per_cpu_ptr(p, cpu) is valid for
 * every cpu these hand out. */
#define _GNU_SOURCE
#include <linux/cpumask.h>
#include <linux/smp.h>

#include <unistd.h>

#include "vmalloc_abi.h"
#include "vmshim_thread.h"

unsigned int num_possible_cpus(void) { return (unsigned int)vmc_nr_cpu_ids(); }

unsigned int num_online_cpus(void) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned int possible = num_possible_cpus();
    return online < 1 ? 1 : (unsigned long)online < possible ? (unsigned int)online : possible;
}

int raw_smp_processor_id(void) {
    int cpu = vmshim_cpu();
    int n = vmc_nr_cpu_ids();
    /* The machine may have more CPUs than the allocator was configured with: fold them in. */
    return cpu < 0 ? 0 : cpu % n;
}
