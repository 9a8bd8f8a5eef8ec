/* <linux/ktime.h> and <linux/timekeeping.h>: ktime_t, nanoseconds of CLOCK_MONOTONIC (ktime_get)
 * or CLOCK_REALTIME (ktime_get_real), and its arithmetic. Mirrors those headers. */
#ifndef _VMALLOC_LINUX_KTIME_H
#define _VMALLOC_LINUX_KTIME_H

#include <time.h>
#include <linux/types.h>
#include <linux/jiffies.h>
#include <linux/time64.h>

#define NSEC_PER_USEC 1000L
#define NSEC_PER_MSEC 1000000L
#define NSEC_PER_SEC 1000000000L
#define USEC_PER_MSEC 1000L
#define USEC_PER_SEC 1000000L
#define MSEC_PER_SEC 1000L
#define KTIME_MAX ((s64)~((u64)1 << 63))

static inline ktime_t __vm_ktime_clock(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (ktime_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}
static inline ktime_t ktime_get(void) { return __vm_ktime_clock(CLOCK_MONOTONIC); }
static inline ktime_t ktime_get_real(void) { return __vm_ktime_clock(CLOCK_REALTIME); }
static inline ktime_t ktime_get_boottime(void) { return __vm_ktime_clock(CLOCK_BOOTTIME); }
static inline u64 ktime_get_ns(void) { return (u64)ktime_get(); }
static inline u64 ktime_get_real_ns(void) { return (u64)ktime_get_real(); }
static inline u64 ktime_get_boottime_ns(void) { return (u64)ktime_get_boottime(); }
static inline u64 ktime_get_mono_fast_ns(void) { return (u64)ktime_get(); }
static inline time64_t ktime_get_seconds(void) { return ktime_get() / NSEC_PER_SEC; }
static inline time64_t ktime_get_real_seconds(void) { return ktime_get_real() / NSEC_PER_SEC; }

#define ktime_set(secs, nsecs) ((ktime_t)(secs) * NSEC_PER_SEC + (ktime_t)(nsecs))
#define ktime_sub(lhs, rhs) ((lhs) - (rhs))
#define ktime_add(lhs, rhs) ((lhs) + (rhs))
#define ktime_add_ns(kt, nsval) ((kt) + (nsval))
#define ktime_sub_ns(kt, nsval) ((kt) - (nsval))
#define ktime_add_us(kt, usec) ktime_add_ns(kt, (u64)(usec) * NSEC_PER_USEC)
#define ktime_add_ms(kt, msec) ktime_add_ns(kt, (u64)(msec) * NSEC_PER_MSEC)
static inline int ktime_compare(const ktime_t a, const ktime_t b) { return a < b ? -1 : a > b; }
static inline bool ktime_after(const ktime_t a, const ktime_t b) { return a > b; }
static inline bool ktime_before(const ktime_t a, const ktime_t b) { return a < b; }
static inline s64 ktime_to_ns(const ktime_t kt) { return kt; }
static inline s64 ktime_to_us(const ktime_t kt) { return kt / NSEC_PER_USEC; }
static inline s64 ktime_to_ms(const ktime_t kt) { return kt / NSEC_PER_MSEC; }
static inline ktime_t ns_to_ktime(u64 ns) { return (ktime_t)ns; }
static inline ktime_t us_to_ktime(u64 us) { return (ktime_t)(us * NSEC_PER_USEC); }
static inline ktime_t ms_to_ktime(u64 ms) { return (ktime_t)(ms * NSEC_PER_MSEC); }
static inline s64 ktime_us_delta(const ktime_t later, const ktime_t earlier) { return ktime_to_us(later - earlier); }
static inline s64 ktime_ms_delta(const ktime_t later, const ktime_t earlier) { return ktime_to_ms(later - earlier); }
static inline struct timespec64 ktime_to_timespec64(const ktime_t kt) {
    struct timespec64 ts = { kt / NSEC_PER_SEC, kt % NSEC_PER_SEC };
    if (ts.tv_nsec < 0) {
        ts.tv_sec--;
        ts.tv_nsec += NSEC_PER_SEC;
    }
    return ts;
}

#endif
