/* <linux/math64.h> and <asm-generic/div64.h>: do_div and the 64-bit division helpers. Mirrors those
 * headers: do_div(n, base) divides the u64 lvalue n by the u32 base in place and evaluates to the
 * remainder. */
#ifndef _VMALLOC_LINUX_MATH64_H
#define _VMALLOC_LINUX_MATH64_H

#include <linux/types.h>

#define do_div(n, base) ({ \
    u32 __vm_base = (base); \
    u32 __vm_rem = (u32)((n) % __vm_base); \
    (n) = (n) / __vm_base; \
    __vm_rem; })

static inline u64 div_u64_rem(u64 dividend, u32 divisor, u32 *remainder) {
    *remainder = (u32)(dividend % divisor);
    return dividend / divisor;
}
static inline u64 div_u64(u64 dividend, u32 divisor) { return dividend / divisor; }
static inline s64 div_s64(s64 dividend, s32 divisor) { return dividend / divisor; }
static inline u64 div64_u64(u64 dividend, u64 divisor) { return dividend / divisor; }
static inline s64 div64_s64(s64 dividend, s64 divisor) { return dividend / divisor; }
static inline u64 div64_u64_rem(u64 dividend, u64 divisor, u64 *remainder) {
    *remainder = dividend % divisor;
    return dividend / divisor;
}
#define div64_ul(x, y) div64_u64((x), (y))
#define DIV64_U64_ROUND_UP(ll, d) ({ u64 __vm_d = (d); div64_u64((ll) + __vm_d - 1, __vm_d); })

#endif
