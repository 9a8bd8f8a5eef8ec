/* <linux/delay.h>: sleeping and busy-waiting delays. Mirrors include/linux/delay.h: msleep and
 * friends sleep at least the time asked (a kthread_stop does not cut them short, as in the
 * kernel); udelay/ndelay/mdelay spin on the clock, as they do in the kernel. */
#ifndef _VMALLOC_LINUX_DELAY_H
#define _VMALLOC_LINUX_DELAY_H

#include <linux/types.h>

void msleep(unsigned int msecs);
/* Returns the milliseconds left when a signal ends the sleep early; no signal does here, so 0. */
unsigned long msleep_interruptible(unsigned int msecs);
void usleep_range(unsigned long min, unsigned long max);
void usleep_range_idle(unsigned long min, unsigned long max);
void fsleep(unsigned long usecs);
static inline void ssleep(unsigned int seconds) { msleep(seconds * 1000); }
void ndelay(unsigned long nsecs);
static inline void udelay(unsigned long usecs) { ndelay(usecs * 1000); }
static inline void mdelay(unsigned long msecs) { ndelay(msecs * 1000000); }

#endif
