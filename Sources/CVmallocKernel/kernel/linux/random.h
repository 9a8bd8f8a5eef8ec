/* <linux/random.h> and <linux/prandom.h>: random numbers, over the system's UAPI header of the same
 * name (the RNDGETENTCNT ioctls). Mirrors those headers, 6.12 spellings and 6.1's prandom_u32_max.
 * The get_random_* integers come from a per-thread generator seeded once from getrandom(2) (test
 * modules call them in their hot loops: one syscall per number would be the benchmark);
 * get_random_bytes reads getrandom(2) itself. Ranges are unbiased (Lemire's rejection). */
#ifndef _VMALLOC_LINUX_RANDOM_H
#define _VMALLOC_LINUX_RANDOM_H

#include_next <linux/random.h>

#include <linux/types.h>
#include <linux/limits.h>

void get_random_bytes(void *buf, size_t len);
u64 get_random_u64(void);
u32 get_random_u32(void);
static inline u16 get_random_u16(void) { return (u16)get_random_u32(); }
static inline u8 get_random_u8(void) { return (u8)get_random_u32(); }
static inline unsigned long get_random_long(void) { return (unsigned long)get_random_u64(); }
static inline unsigned int get_random_int(void) { return get_random_u32(); }
/* Uniform in [0, ceil); 0 when ceil is 0, as the kernel's arithmetic gives. */
u32 get_random_u32_below(u32 ceil);
/* Uniform in [floor, ceil] (floor <= ceil). */
static inline u32 get_random_u32_inclusive(u32 floor, u32 ceil) {
    return floor + get_random_u32_below(ceil - floor + 1);
}
/* Uniform in (floor, U32_MAX]. */
static inline u32 get_random_u32_above(u32 floor) { return floor + 1 + get_random_u32_below(U32_MAX - floor); }
/* 6.1: uniform in [0, ep_ro). */
static inline u32 prandom_u32_max(u32 ep_ro) { return get_random_u32_below(ep_ro); }
static inline u32 prandom_u32(void) { return get_random_u32(); }

#endif
