/* <linux/kernel.h>: the grab bag kernel code expects from one include (array and alignment
 * helpers, limits, min/max, bit scans, do_div, BUG/WARN, printk, might_sleep), over the system's
 * UAPI header of the same name. Mirrors include/linux/kernel.h and the headers it pulls in
 * (align.h, math.h, container_of.h, array_size.h). */
#ifndef _VMALLOC_LINUX_KERNEL_H
#define _VMALLOC_LINUX_KERNEL_H

#include_next <linux/kernel.h>

#include <limits.h>
#include <stdarg.h>
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/bug.h>
#include <linux/printk.h>
#include <linux/sprintf.h>

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]) + __must_be_array(arr))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define container_of_const(ptr, type, member) container_of(ptr, type, member)

#define ALIGN(x, a) (((x) + ((__typeof__(x))(a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define PTR_ALIGN(p, a) ((__typeof__(p))ALIGN((unsigned long)(p), (a)))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define DIV_ROUND_UP_ULL(ll, d) ({ unsigned long long __vm_ll = (ll); __vm_ll += (d) - 1; __vm_ll / (d); })
#define DIV_ROUND_CLOSEST(x, d) (((x) + ((d) / 2)) / (d))
/* glibc's <sys/param.h> has a roundup with the same meaning; the kernel's replaces it. */
#undef roundup
#define roundup(x, y) ({ __typeof__(y) __vm_y = (y); (((x) + (__vm_y - 1)) / __vm_y) * __vm_y; })
#define rounddown(x, y) ({ __typeof__(x) __vm_x = (x); __vm_x - (__vm_x % (y)); })
#define round_up(x, y) ((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#define round_down(x, y) ((x) & ~((__typeof__(x))((y) - 1)))
#define abs_diff(a, b) ({ __typeof__(a) __vm_a = (a); __typeof__(b) __vm_b = (b); \
    __vm_a > __vm_b ? __vm_a - __vm_b : __vm_b - __vm_a; })
#define upper_32_bits(n) ((u32)(((n) >> 16) >> 16))
#define lower_32_bits(n) ((u32)((n) & 0xffffffff))

#define STACK_MAGIC 0xdeadbeef
#define REPEAT_BYTE(x) ((~0ul / 0xff) * (x))

/* Nothing checks sleeping in atomic context here: a pthread may always sleep. */
#define might_sleep() do { } while (0)
#define might_sleep_if(cond) do { (void)(cond); } while (0)
#define might_resched() do { } while (0)

#endif
