/* The kernel's string helpers for <linux/string.h>. Mirrors lib/string.c (strscpy) and mm/util.c
 * (kstrdup, kstrndup, kmemdup): the copies are kmalloc memory from the allocator, freed with kfree. */
#include <linux/errno.h>
#include <linux/string.h>

#include "vmalloc_abi.h"

ssize_t sized_strscpy(char *dst, const char *src, size_t size) {
    if (size == 0) return -E2BIG;
    size_t len = strnlen(src, size);
    if (len == size) { /* does not fit: keep what does, NUL-terminated */
        memcpy(dst, src, size - 1);
        dst[size - 1] = 0;
        return -E2BIG;
    }
    memcpy(dst, src, len + 1);
    return (ssize_t)len;
}

ssize_t sized_strscpy_pad(char *dst, const char *src, size_t size) {
    ssize_t n = sized_strscpy(dst, src, size);
    if (n >= 0) memset(dst + n + 1, 0, size - (size_t)n - 1);
    return n;
}

void *kmemdup(const void *src, size_t len, gfp_t gfp) {
    void *p = vmc_kmalloc(len, gfp, -1);
    if (p) memcpy(p, src, len);
    return p;
}

char *kmemdup_nul(const char *s, size_t len, gfp_t gfp) {
    if (!s) return NULL;
    char *p = vmc_kmalloc(len + 1, gfp, -1);
    if (p) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

char *kstrdup(const char *s, gfp_t gfp) { return s ? kmemdup(s, strlen(s) + 1, gfp) : NULL; }

char *kstrndup(const char *s, size_t max, gfp_t gfp) { return s ? kmemdup_nul(s, strnlen(s, max), gfp) : NULL; }

const char *kstrdup_const(const char *s, gfp_t gfp) { return kstrdup(s, gfp); }

void kfree_const(const void *x) { vmc_kfree(x); }
