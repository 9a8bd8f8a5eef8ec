/* <linux/overflow.h>: overflow-checked arithmetic on the compiler's __builtin_*_overflow, and
 * the saturating size helpers (a result that overflows is SIZE_MAX, which no allocator
 * satisfies, so `kmalloc(array_size(n, size))` fails instead of returning a short buffer).
 * Unlike the kernel, struct_size() does not fold to a constant expression for constant counts. */
#ifndef _VMALLOC_LINUX_OVERFLOW_H
#define _VMALLOC_LINUX_OVERFLOW_H

#include <linux/types.h>

/* true when a + b (a - b, a * b) does not fit *d; *d gets the wrapped result either way. */
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d) __builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)

static inline size_t size_mul(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

static inline size_t size_add(size_t a, size_t b)
{
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* SIZE_MAX stays SIZE_MAX, so a saturated size never comes back into range. */
static inline size_t size_sub(size_t a, size_t b)
{
    size_t r;
    if (a == SIZE_MAX || b == SIZE_MAX || __builtin_sub_overflow(a, b, &r))
        return SIZE_MAX;
    return r;
}

#define array_size(a, b) size_mul(a, b)
#define array3_size(a, b, c) size_mul(size_mul(a, b), c)

/* Bytes of `count` elements of p's flexible array member `member`. */
#define flex_array_size(p, member, count) size_mul(count, sizeof(*(p)->member))
/* Bytes of *p with `count` elements in its flexible array member `member`. */
#define struct_size(p, member, count) size_add(sizeof(*(p)), flex_array_size(p, member, count))
#define struct_size_t(type, member, count) struct_size((type *)NULL, member, count)

#endif
