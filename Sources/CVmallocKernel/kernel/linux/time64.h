/* <linux/time64.h>: 64-bit seconds and the timespec built on them. Mirrors include/linux/time64.h. */
#ifndef _VMALLOC_LINUX_TIME64_H
#define _VMALLOC_LINUX_TIME64_H

#include <linux/types.h>

typedef s64 time64_t;
typedef u64 timeu64_t;

struct timespec64 {
    time64_t tv_sec;
    long tv_nsec;
};

#endif
