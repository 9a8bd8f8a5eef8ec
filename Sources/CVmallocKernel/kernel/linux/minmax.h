/* <linux/minmax.h>: min/max/clamp and swap. Mirrors include/linux/minmax.h: each argument is
 * evaluated once; min/max/clamp refuse a signed/unsigned mix (the kernel's rule: such a comparison
 * goes wrong silently), min_t/max_t/clamp_t cast first. */
#ifndef _VMALLOC_LINUX_MINMAX_H
#define _VMALLOC_LINUX_MINMAX_H

#include <linux/compiler.h>

/* As 6.12's __types_ok: both sides of the same signedness once promoted (so `int` beside `long` is
 * fine, `int` beside `unsigned long` is an error), or either side a constant (`min(size, 4096)`). */
#define __vm_is_signed(x) ((__typeof__((x) + 0))-1 < (__typeof__((x) + 0))1)
#define __vm_cmp_ok(a, b) \
    (__vm_is_signed(a) == __vm_is_signed(b) || __builtin_constant_p(a) || __builtin_constant_p(b))
#define __vm_cmp(op, x, y, ux, uy) ({ \
    __typeof__(x) ux = (x); \
    __typeof__(y) uy = (y); \
    (void)sizeof(char[1 - 2 * !__vm_cmp_ok(x, y)]); \
    ux op uy ? ux : uy; })
#define __vm_uniq(p) __vm_uniq2(p, __COUNTER__)
#define __vm_uniq2(p, n) __vm_uniq3(p, n)
#define __vm_uniq3(p, n) __vm_##p##n

#define min(x, y) __vm_cmp(<, x, y, __vm_uniq(a), __vm_uniq(b))
#define max(x, y) __vm_cmp(>, x, y, __vm_uniq(a), __vm_uniq(b))
#define min3(x, y, z) min((__typeof__(x))min(x, y), z)
#define max3(x, y, z) max((__typeof__(x))max(x, y), z)
#define min_t(type, x, y) min((type)(x), (type)(y))
#define max_t(type, x, y) max((type)(x), (type)(y))
#define clamp(val, lo, hi) min((__typeof__(val))max(val, lo), hi)
#define clamp_t(type, val, lo, hi) min_t(type, max_t(type, val, lo), hi)
#define clamp_val(val, lo, hi) clamp_t(__typeof__(val), val, lo, hi)
#define umin(x, y) min_t(unsigned long long, x, y)
#define umax(x, y) max_t(unsigned long long, x, y)
#define min_not_zero(x, y) ({ \
    __typeof__(x) __vm_mnz_x = (x); \
    __typeof__(y) __vm_mnz_y = (y); \
    __vm_mnz_x == 0 ? __vm_mnz_y : (__vm_mnz_y == 0 ? __vm_mnz_x : min(__vm_mnz_x, __vm_mnz_y)); })
#define swap(a, b) do { \
        __typeof__(a) __vm_swap_tmp = (a); \
        (a) = (b); \
        (b) = __vm_swap_tmp; \
    } while (0)

#endif
