/* <linux/jiffies.h>: jiffies and their conversions. Mirrors include/linux/jiffies.h with HZ = 1000
 * (CONFIG_HZ_1000): a jiffy is a millisecond, so msecs_to_jiffies is exact and msleep(1) means one
 * jiffy, as on most desktop and server configurations. `jiffies` reads CLOCK_MONOTONIC. */
#ifndef _VMALLOC_LINUX_JIFFIES_H
#define _VMALLOC_LINUX_JIFFIES_H

#include <limits.h>
#include <linux/types.h>
#include <linux/timex.h>

/* glibc's <sys/param.h> defines HZ as 100 (the old USER_HZ); the kernel's own HZ wins here, and the
 * UAPI <asm/param.h> leaves an existing HZ alone, so either include order gives 1000. */
#undef HZ
#define HZ 1000
#define MAX_JIFFY_OFFSET ((LONG_MAX >> 1) - 1)
#define MAX_SCHEDULE_TIMEOUT LONG_MAX

/* Milliseconds since an arbitrary start, as the kernel's jiffies_64. */
u64 get_jiffies_64(void);
#define jiffies ((unsigned long)get_jiffies_64())
#define jiffies_64 get_jiffies_64()

#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)
#define time_after_eq(a, b) ((long)((a) - (b)) >= 0)
#define time_before_eq(a, b) time_after_eq(b, a)
#define time_in_range(a, b, c) (time_after_eq(a, b) && time_before_eq(a, c))
#define time_after64(a, b) ((s64)((b) - (a)) < 0)
#define time_before64(a, b) time_after64(b, a)
#define time_is_before_jiffies(a) time_after(jiffies, a)
#define time_is_after_jiffies(a) time_before(jiffies, a)

static inline unsigned int jiffies_to_msecs(unsigned long j) { return (unsigned int)j; }
static inline unsigned int jiffies_to_usecs(unsigned long j) { return (unsigned int)(j * 1000); }
static inline u64 jiffies_to_nsecs(unsigned long j) { return (u64)j * 1000000; }
static inline unsigned long msecs_to_jiffies(unsigned int m) { return m; }
/* Rounded up, as the kernel does: a wait of 1 us still waits a jiffy. */
static inline unsigned long usecs_to_jiffies(unsigned int u) { return (u + 999) / 1000; }
static inline unsigned long nsecs_to_jiffies(u64 n) { return (unsigned long)((n + 999999) / 1000000); }
#define secs_to_jiffies(s) ((unsigned long)(s) * HZ)

#endif
