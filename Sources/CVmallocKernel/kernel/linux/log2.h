/* <linux/log2.h> and <linux/bitops.h>'s bit scans: fls, __fls, ffs, __ffs, fls64, ilog2,
 * is_power_of_2, roundup/rounddown_pow_of_two, order_base_2. Mirrors include/linux/log2.h and
 * include/asm-generic/bitops/{fls,__fls,ffs,fls64}.h: fls/ffs count bits from 1 and return 0 for 0;
 * __fls/__ffs count from 0 and are undefined for 0, as in the kernel. */
#ifndef _VMALLOC_LINUX_LOG2_H
#define _VMALLOC_LINUX_LOG2_H

#include <linux/types.h>
#include <strings.h>

#ifndef BITS_PER_LONG
#define BITS_PER_LONG (8 * (int)sizeof(long))
#endif
#define BITS_PER_LONG_LONG 64
#define BITS_PER_BYTE 8

static inline int fls(unsigned int x) { return x ? 32 - __builtin_clz(x) : 0; }
static inline int fls64(u64 x) { return x ? 64 - __builtin_clzll(x) : 0; }
static inline unsigned long __fls(unsigned long x) { return BITS_PER_LONG - 1 - __builtin_clzl(x); }
static inline int fls_long(unsigned long x) { return x ? (int)__fls(x) + 1 : 0; }
/* ffs itself is glibc's (<strings.h>): same meaning, and a second definition would collide. */
static inline unsigned long __ffs(unsigned long x) { return __builtin_ctzl(x); }
static inline unsigned int __ffs64(u64 x) { return __builtin_ctzll(x); }

static inline __attribute__((const)) bool is_power_of_2(unsigned long n) { return n != 0 && (n & (n - 1)) == 0; }

/* ilog2 of 0 is undefined in the kernel too (it returns -1 there at run time; so does this). */
#define ilog2(n) ((int)(sizeof(n) <= 4 ? fls((u32)(n)) - 1 : fls64((u64)(n)) - 1))
#define roundup_pow_of_two(n) ((unsigned long)((n) <= 1 ? 1UL : 1UL << fls_long((unsigned long)(n) - 1)))
#define rounddown_pow_of_two(n) ((unsigned long)(1UL << (fls_long((unsigned long)(n)) - 1)))
#define order_base_2(n) ((n) > 1 ? ilog2((n) - 1) + 1 : 0)

#endif
