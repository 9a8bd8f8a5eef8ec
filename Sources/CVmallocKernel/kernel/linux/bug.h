/* <linux/bug.h> and <asm-generic/bug.h>: BUG, WARN and friends. Mirrors those headers: WARN_ON(c)
 * evaluates to !!c and, when true, prints to stderr the first line of the kernel's report,
 * "WARNING: CPU: n PID: p at file:line caller+0xoff/0xsize"; BUG prints "kernel BUG at
 * file:line!" and aborts. */
#ifndef _VMALLOC_LINUX_BUG_H
#define _VMALLOC_LINUX_BUG_H

#include <linux/compiler.h>

/* Prints the WARNING line; the _printk form prints the formatted message before it, as the
 * kernel's WARN() does. */
void __vm_warn_at(const char *file, int line) __attribute__((cold));
void __vm_warn_printk_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), cold));
/* Prints "kernel BUG at file:line!" and aborts. */
void __vm_bug_at(const char *file, int line) __attribute__((noreturn, cold));

#define BUG() __vm_bug_at(__FILE__, __LINE__)
#define BUG_ON(cond) do { if (unlikely(cond)) BUG(); } while (0)
#define WARN_ON(cond) ({ \
    int __vm_ret_warn_on = !!(cond); \
    if (unlikely(__vm_ret_warn_on)) __vm_warn_at(__FILE__, __LINE__); \
    unlikely(__vm_ret_warn_on); })
#define WARN(cond, fmt, ...) ({ \
    int __vm_ret_warn_on = !!(cond); \
    if (unlikely(__vm_ret_warn_on)) __vm_warn_printk_at(__FILE__, __LINE__, fmt, ##__VA_ARGS__); \
    unlikely(__vm_ret_warn_on); })
#define WARN_ON_ONCE(cond) ({ \
    static bool __vm_warned; \
    int __vm_ret_warn_once = !!(cond); \
    if (unlikely(__vm_ret_warn_once) && !__atomic_exchange_n(&__vm_warned, true, __ATOMIC_RELAXED)) \
        __vm_warn_at(__FILE__, __LINE__); \
    unlikely(__vm_ret_warn_once); })
#define WARN_ONCE(cond, fmt, ...) ({ \
    static bool __vm_warned; \
    int __vm_ret_warn_once = !!(cond); \
    if (unlikely(__vm_ret_warn_once) && !__atomic_exchange_n(&__vm_warned, true, __ATOMIC_RELAXED)) \
        __vm_warn_printk_at(__FILE__, __LINE__, fmt, ##__VA_ARGS__); \
    unlikely(__vm_ret_warn_once); })
#define WARN_ON_SMP(cond) WARN_ON(cond)
#define BUILD_BUG() BUILD_BUG_ON(1)

#endif
