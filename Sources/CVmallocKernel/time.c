/* jiffies and the delays of <linux/delay.h>. Mirrors kernel/time/timer.c (msleep, usleep_range)
 * and include/asm-generic/delay.h (ndelay spins). Sleeps are absolute CLOCK_MONOTONIC deadlines, so
 * a signal handler that interrupts one does not shorten it. */
#define _GNU_SOURCE
#include <linux/delay.h>
#include <linux/jiffies.h>

#include <errno.h>
#include <time.h>

static u64 mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

u64 get_jiffies_64(void) { return mono_ns() / 1000000; } /* HZ is 1000 */

static void sleep_ns(u64 ns) {
    u64 end = mono_ns() + ns;
    struct timespec at = { (time_t)(end / 1000000000ULL), (long)(end % 1000000000ULL) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) { }
}

void msleep(unsigned int msecs) { sleep_ns((u64)msecs * 1000000); }

unsigned long msleep_interruptible(unsigned int msecs) {
    msleep(msecs);
    return 0;
}

/* The kernel may wake anywhere in [min, max] to batch timers; the earliest is as good here. */
void usleep_range(unsigned long min, unsigned long max) {
    (void)max;
    sleep_ns((u64)min * 1000);
}

void usleep_range_idle(unsigned long min, unsigned long max) { usleep_range(min, max); }

void fsleep(unsigned long usecs) { sleep_ns((u64)usecs * 1000); }

/* The kernel's cpu_relax(): tells the core this is a spin loop. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

void ndelay(unsigned long nsecs) {
    u64 end = mono_ns() + nsecs;
    while (mono_ns() < end) cpu_relax();
}
