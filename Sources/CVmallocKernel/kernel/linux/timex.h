/* <linux/timex.h>: get_cycles(), the cycle counter test modules time themselves with. Mirrors
 * include/linux/timex.h and arch/x86/include/asm/tsc.h. The system's UAPI header of this name is
 * not pulled in: its struct timeval collides with glibc's <sys/time.h> in either order, and glibc
 * offers struct timex in <sys/timex.h>. */
#ifndef _VMALLOC_LINUX_TIMEX_H
#define _VMALLOC_LINUX_TIMEX_H

#include <time.h>

typedef unsigned long long cycles_t;

/* The TSC on x86-64, the virtual counter on arm64, nanoseconds of CLOCK_MONOTONIC elsewhere. */
static inline cycles_t get_cycles(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    cycles_t c;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(c));
    return c;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (cycles_t)ts.tv_sec * 1000000000ULL + (cycles_t)ts.tv_nsec;
#endif
}

#endif
