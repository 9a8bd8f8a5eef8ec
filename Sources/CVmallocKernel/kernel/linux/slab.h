/* <linux/slab.h>: kmalloc, kvmalloc and kmem caches over the memory system's slab allocator.
 * 6.12's names and signatures without the *_noprof and bucket layers. Differences:
 * - kvrealloc takes 6.12's (p, size, gfp) and 6.1's (p, oldsize, newsize, gfp); the argument
 *   count picks the form.
 * - A kmem_cache is a named size and alignment over the kmalloc size classes: objects come
 *   from kmalloc, so /proc/slabinfo shows them under kmalloc-*, and the constructor runs on
 *   every allocation rather than once per slab object (an object freed in its constructed
 *   state is therefore constructed again, which such callers cannot tell apart).
 * - SLAB_* values are 6.12's on an x86_64 configuration with FAILSLAB, MEMCG and KFENCE; only
 *   SLAB_HWCACHE_ALIGN and SLAB_PANIC change anything here. SLAB_TYPESAFE_BY_RCU is not
 *   honoured: kmem_cache_free() frees at once, and kmalloc may reuse the memory for any type.
 * kfree_rcu() and kvfree_rcu() are in <linux/rcupdate.h>, as in the kernel. */
#ifndef _VMALLOC_LINUX_SLAB_H
#define _VMALLOC_LINUX_SLAB_H

#include <linux/gfp.h>
#include <linux/numa.h>
#include <linux/overflow.h>
#include <linux/types.h>

#define SLAB_CONSISTENCY_CHECKS ((slab_flags_t)0x00000001u)
#define SLAB_RED_ZONE ((slab_flags_t)0x00000002u)
#define SLAB_POISON ((slab_flags_t)0x00000004u)
#define SLAB_KMALLOC ((slab_flags_t)0x00000008u)
#define SLAB_HWCACHE_ALIGN ((slab_flags_t)0x00000010u)
#define SLAB_CACHE_DMA ((slab_flags_t)0x00000020u)
#define SLAB_CACHE_DMA32 ((slab_flags_t)0x00000040u)
#define SLAB_STORE_USER ((slab_flags_t)0x00000080u)
#define SLAB_PANIC ((slab_flags_t)0x00000100u)
#define SLAB_TYPESAFE_BY_RCU ((slab_flags_t)0x00000200u)
#define SLAB_TRACE ((slab_flags_t)0x00000400u)
#define SLAB_DEBUG_OBJECTS ((slab_flags_t)0u)
#define SLAB_NOLEAKTRACE ((slab_flags_t)0x00000800u)
#define SLAB_NO_MERGE ((slab_flags_t)0x00001000u)
#define SLAB_FAILSLAB ((slab_flags_t)0x00002000u)
#define SLAB_ACCOUNT ((slab_flags_t)0x00004000u)
#define SLAB_KASAN ((slab_flags_t)0u)
#define SLAB_NO_USER_FLAGS ((slab_flags_t)0x00008000u)
#define SLAB_SKIP_KFENCE ((slab_flags_t)0x00010000u)
#define SLAB_RECLAIM_ACCOUNT ((slab_flags_t)0x00020000u)
#define SLAB_TEMPORARY SLAB_RECLAIM_ACCOUNT
#define SLAB_MEM_SPREAD ((slab_flags_t)0u)

/* What kmalloc(0) returns: not NULL, never mapped, and accepted by kfree like NULL. */
#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)

#define ARCH_KMALLOC_MINALIGN __alignof__(unsigned long long)
#define ARCH_SLAB_MINALIGN __alignof__(unsigned long long)
#define KMALLOC_SHIFT_HIGH (PAGE_SHIFT + 1)
#define KMALLOC_SHIFT_MAX (PAGE_SHIFT + 10)
#define KMALLOC_MAX_SIZE (1UL << KMALLOC_SHIFT_MAX)
#define KMALLOC_MAX_CACHE_SIZE (1UL << KMALLOC_SHIFT_HIGH)
#define KMALLOC_MIN_SIZE 8

/* ---- kmalloc ---- */

void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kmalloc_node(size_t size, gfp_t flags, int node);
void *kzalloc_node(size_t size, gfp_t flags, int node);
/* The array forms return NULL when n * size overflows. */
void *kmalloc_array(size_t n, size_t size, gfp_t flags);
void *kmalloc_array_node(size_t n, size_t size, gfp_t flags, int node);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void *kcalloc_node(size_t n, size_t size, gfp_t flags, int node);
void *krealloc(const void *objp, size_t new_size, gfp_t flags) __must_check;
void *krealloc_array(void *p, size_t new_n, size_t new_size, gfp_t flags) __must_check;
void kfree(const void *objp);
/* kfree after zeroing the object's usable size. */
void kfree_sensitive(const void *objp);
size_t ksize(const void *objp);

/* ---- kvmalloc: kmalloc, or vmalloc when that fails or the size is above a page ---- */

void *kvmalloc_node(size_t size, gfp_t flags, int node);
void *kvmalloc(size_t size, gfp_t flags);
void *kvzalloc(size_t size, gfp_t flags);
void *kvzalloc_node(size_t size, gfp_t flags, int node);
void *kvmalloc_array_node(size_t n, size_t size, gfp_t flags, int node);
void *kvmalloc_array(size_t n, size_t size, gfp_t flags);
void *kvcalloc_node(size_t n, size_t size, gfp_t flags, int node);
void *kvcalloc(size_t n, size_t size, gfp_t flags);
/* 6.12: content kept up to the smaller size; size 0 frees. */
void *kvrealloc_noprof(const void *p, size_t size, gfp_t flags) __must_check;
/* 6.1: p itself when oldsize >= newsize, else a larger copy of its first oldsize bytes. */
void *__kvrealloc_oldsize(const void *p, size_t oldsize, size_t newsize, gfp_t flags) __must_check;
#define __vmalloc_kvrealloc_pick(_1, _2, _3, _4, name, ...) name
#define kvrealloc(...) \
    __vmalloc_kvrealloc_pick(__VA_ARGS__, __kvrealloc_oldsize, kvrealloc_noprof, , )(__VA_ARGS__)
void kvfree(const void *addr);
void kvfree_sensitive(const void *addr, size_t len);

/* ---- kmem caches ---- */

struct kmem_cache;

/* The less common arguments of 6.12's kmem_cache_create(name, size, args, flags). */
struct kmem_cache_args {
    unsigned int align;
    unsigned int useroffset;
    unsigned int usersize;
    unsigned int freeptr_offset;
    bool use_freeptr_offset;
    void (*ctor)(void *);
};

struct kmem_cache *__kmem_cache_create(const char *name, unsigned int size, unsigned int align, slab_flags_t flags,
                                       void (*ctor)(void *));
struct kmem_cache *__kmem_cache_create_args(const char *name, unsigned int object_size, struct kmem_cache_args *args,
                                            slab_flags_t flags);
struct kmem_cache *kmem_cache_create_usercopy(const char *name, unsigned int size, unsigned int align,
                                              slab_flags_t flags, unsigned int useroffset, unsigned int usersize,
                                              void (*ctor)(void *));

static inline struct kmem_cache *__kmem_cache_default_args(const char *name, unsigned int size,
                                                           struct kmem_cache_args *args, slab_flags_t flags)
{
    struct kmem_cache_args kmem_default_args = {0};
    (void)args;
    return __kmem_cache_create_args(name, size, &kmem_default_args, flags);
}

/* Both forms, as in 6.12: kmem_cache_create(name, size, align, flags, ctor) and
 * kmem_cache_create(name, size, args, flags) with args a struct kmem_cache_args * or NULL. */
#define kmem_cache_create(__name, __object_size, __args, ...)                                 \
    _Generic((__args),                                                                         \
        struct kmem_cache_args *: __kmem_cache_create_args,                                    \
        void *: __kmem_cache_default_args,                                                     \
        default: __kmem_cache_create)(__name, __object_size, __args, __VA_ARGS__)

#define KMEM_CACHE(__struct, __flags)                                                          \
    __kmem_cache_create(#__struct, sizeof(struct __struct), __alignof__(struct __struct), (__flags), NULL)

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags);
void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t flags, int node);
void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags);
void kmem_cache_free(struct kmem_cache *s, void *objp);
void kmem_cache_destroy(struct kmem_cache *s);
int kmem_cache_shrink(struct kmem_cache *s);
unsigned int kmem_cache_size(struct kmem_cache *s);

#endif
