/* <linux/cpumask.h>: CPU counts and iteration. Mirrors include/linux/cpumask.h for what module code
 * uses: the possible CPUs are the allocator's per-CPU units (vmalloc's nr_cpu_ids, set by its
 * configuration), numbered 0 ..< nr_cpu_ids without holes; the online ones are as many of them as
 * the machine has online. */
#ifndef _VMALLOC_LINUX_CPUMASK_H
#define _VMALLOC_LINUX_CPUMASK_H

#include <linux/types.h>

unsigned int num_possible_cpus(void);
unsigned int num_online_cpus(void);
#define nr_cpu_ids num_possible_cpus()
#define num_present_cpus() num_possible_cpus()
#define cpu_possible(cpu) ((unsigned int)(cpu) < nr_cpu_ids)
#define cpu_present(cpu) cpu_possible(cpu)
#define cpu_online(cpu) ((unsigned int)(cpu) < num_online_cpus())

/* The cast lets `cpu` be int or unsigned int without a sign-compare warning. */
#define for_each_possible_cpu(cpu) for ((cpu) = 0; (cpu) < (__typeof__(cpu))nr_cpu_ids; (cpu)++)
#define for_each_present_cpu(cpu) for_each_possible_cpu(cpu)
#define for_each_online_cpu(cpu) for ((cpu) = 0; (cpu) < (__typeof__(cpu))num_online_cpus(); (cpu)++)

#endif
