/* <linux/sprintf.h>: the kernel's formatting calls that glibc lacks, with printk's pointer
 * extensions (%pS, %px, %pe ...). Mirrors include/linux/sprintf.h. snprintf/sprintf stay glibc's
 * (the names are taken), so kernel code that prints %pS into a buffer should use scnprintf. */
#ifndef _VMALLOC_LINUX_SPRINTF_H
#define _VMALLOC_LINUX_SPRINTF_H

#include <stdarg.h>
#include <linux/types.h>

/* Write at most size bytes including the NUL; return the characters written (not counting it). */
int scnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vscnprintf(char *buf, size_t size, const char *fmt, va_list args) __attribute__((format(printf, 3, 0)));
/* A kmalloc'd formatted string (free with kfree), or NULL. */
char *kasprintf(gfp_t gfp, const char *fmt, ...) __attribute__((format(printf, 2, 3), malloc));
char *kvasprintf(gfp_t gfp, const char *fmt, va_list args) __attribute__((format(printf, 2, 0), malloc));

#endif
