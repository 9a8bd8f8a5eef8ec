/* <linux/limits.h>: the kernel's fixed-width limits (U8_MAX ... S64_MIN) over the system's UAPI
 * header of the same name, which glibc's <limits.h> includes (PATH_MAX, NAME_MAX). Mirrors
 * include/linux/limits.h and include/vdso/limits.h. */
#ifndef _VMALLOC_LINUX_LIMITS_H
#define _VMALLOC_LINUX_LIMITS_H

#include_next <linux/limits.h>

/* Literal values, not casts of each other: glibc's <limits.h> includes this header before it
 * defines INT_MAX and friends, so nothing here may depend on them. */
#define U8_MAX 0xff
#define S8_MAX 0x7f
#define S8_MIN (-S8_MAX - 1)
#define U16_MAX 0xffff
#define S16_MAX 0x7fff
#define S16_MIN (-S16_MAX - 1)
#define U32_MAX 0xffffffffU
#define S32_MAX 0x7fffffff
#define S32_MIN (-S32_MAX - 1)
#define U64_MAX 0xffffffffffffffffULL
#define S64_MAX 0x7fffffffffffffffLL
#define S64_MIN (-S64_MAX - 1)
#define PHYS_ADDR_MAX U64_MAX

#endif
