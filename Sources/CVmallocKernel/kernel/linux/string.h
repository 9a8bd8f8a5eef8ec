/* <linux/string.h>: the C string functions plus the kernel's own (strscpy, kstrdup, kmemdup ...),
 * over the system's UAPI header of the same name. Mirrors include/linux/string.h. The k* copies are
 * kmalloc memory: free them with kfree. */
#ifndef _VMALLOC_LINUX_STRING_H
#define _VMALLOC_LINUX_STRING_H

#include_next <linux/string.h>

#include <string.h>
#include <linux/types.h>
#include <linux/compiler.h>

/* Copies src into dst[0..<size) NUL-terminated; returns its length, or -E2BIG when truncated. */
ssize_t sized_strscpy(char *dst, const char *src, size_t size);
/* As sized_strscpy, and fills the rest of dst with NULs. */
ssize_t sized_strscpy_pad(char *dst, const char *src, size_t size);
/* strscpy(dst, src) takes dst's array size; strscpy(dst, src, size) an explicit one (6.12). */
#define __vm_strscpy_pick(_1, _2, _3, name, ...) name
#define __vm_strscpy2(dst, src) sized_strscpy(dst, src, sizeof(dst) + __must_be_array(dst))
#define __vm_strscpy3(dst, src, size) sized_strscpy(dst, src, size)
#define strscpy(...) __vm_strscpy_pick(__VA_ARGS__, __vm_strscpy3, __vm_strscpy2, )(__VA_ARGS__)
#define __vm_strscpy_pad2(dst, src) sized_strscpy_pad(dst, src, sizeof(dst) + __must_be_array(dst))
#define __vm_strscpy_pad3(dst, src, size) sized_strscpy_pad(dst, src, size)
#define strscpy_pad(...) __vm_strscpy_pick(__VA_ARGS__, __vm_strscpy_pad3, __vm_strscpy_pad2, )(__VA_ARGS__)

char *kstrdup(const char *s, gfp_t gfp) __attribute__((malloc));
/* No .rodata to share here: always a copy; kfree_const frees it. */
const char *kstrdup_const(const char *s, gfp_t gfp);
void kfree_const(const void *x);
char *kstrndup(const char *s, size_t max, gfp_t gfp) __attribute__((malloc));
void *kmemdup(const void *src, size_t len, gfp_t gfp) __attribute__((malloc));
char *kmemdup_nul(const char *s, size_t len, gfp_t gfp) __attribute__((malloc));

/* A memset the compiler may not drop even when the memory is dead afterwards (secrets). */
static inline void memzero_explicit(void *s, size_t count) {
    memset(s, 0, count);
    __asm__ __volatile__("" : : "r"(s) : "memory");
}

#endif
