/* <linux/compiler.h>: the compiler helpers kernel code uses without including anything (barrier,
 * the sparse annotations are in <linux/types.h>). Mirrors include/linux/compiler.h. */
#ifndef _VMALLOC_LINUX_COMPILER_H
#define _VMALLOC_LINUX_COMPILER_H

#include <linux/types.h>

#define barrier() __asm__ __volatile__("" : : : "memory")
#define __same_type(a, b) __builtin_types_compatible_p(__typeof__(a), __typeof__(b))
/* 0, or a compile error when a is a pointer rather than an array (ARRAY_SIZE's guard). */
#define __must_be_array(a) (sizeof(struct { int : (-!!__same_type((a), &(a)[0])); }))
#ifndef __cold
#define __cold __attribute__((cold))
#endif
#ifndef __pure
#define __pure __attribute__((pure))
#endif
#ifndef __aligned
#define __aligned(x) __attribute__((aligned(x)))
#endif
#ifndef __packed
#define __packed __attribute__((packed))
#endif
#ifndef __used
#define __used __attribute__((used))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#ifndef __noreturn
#define __noreturn __attribute__((noreturn))
#endif
#ifndef fallthrough
#define fallthrough __attribute__((fallthrough))
#endif
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(cond)]))
#define BUILD_BUG_ON_MSG(cond, msg) BUILD_BUG_ON(cond)
#define BUILD_BUG_ON_ZERO(e) ((int)(sizeof(struct { int : (-!!(e)); })))
#define static_assert(expr, ...) _Static_assert(expr, #expr)

#endif
