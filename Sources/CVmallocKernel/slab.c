// kmalloc, kvmalloc and kmem caches under their kernel names (mm/slab_common.c, mm/slub.c,
// mm/util.c): wrappers over the ABI. The array forms check n * size here, as the kernel's
// inline helpers do, and return NULL on overflow.
#define _GNU_SOURCE
#include <linux/slab.h>
#include <linux/mm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmalloc_abi.h>

#define CALLER __builtin_return_address(0)

/* ---- kmalloc ---- */

void *kmalloc(size_t size, gfp_t flags) { return vmc_kmalloc(size, flags, NUMA_NO_NODE); }

void *kzalloc(size_t size, gfp_t flags) { return vmc_kmalloc(size, flags | __GFP_ZERO, NUMA_NO_NODE); }

void *kmalloc_node(size_t size, gfp_t flags, int node) { return vmc_kmalloc(size, flags, node); }

void *kzalloc_node(size_t size, gfp_t flags, int node) { return vmc_kmalloc(size, flags | __GFP_ZERO, node); }

void *kmalloc_array_node(size_t n, size_t size, gfp_t flags, int node)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_kmalloc(bytes, flags, node);
}

void *kmalloc_array(size_t n, size_t size, gfp_t flags) { return kmalloc_array_node(n, size, flags, NUMA_NO_NODE); }

void *kcalloc(size_t n, size_t size, gfp_t flags)
{
    return kmalloc_array_node(n, size, flags | __GFP_ZERO, NUMA_NO_NODE);
}

void *kcalloc_node(size_t n, size_t size, gfp_t flags, int node)
{
    return kmalloc_array_node(n, size, flags | __GFP_ZERO, node);
}

void *krealloc(const void *objp, size_t new_size, gfp_t flags) { return vmc_krealloc(objp, new_size, flags); }

void *krealloc_array(void *p, size_t new_n, size_t new_size, gfp_t flags)
{
    size_t bytes;

    if (check_mul_overflow(new_n, new_size, &bytes))
        return NULL;
    return vmc_krealloc(p, bytes, flags);
}

void kfree(const void *objp) { vmc_kfree(objp); }

size_t ksize(const void *objp) { return vmc_ksize(objp); }

// Zero through a volatile pointer so that the compiler cannot drop the stores as dead before
// the free (the kernel's memzero_explicit).
static void memzero_explicit(void *s, size_t count)
{
    memset(s, 0, count);
    __asm__ __volatile__("" : : "r"(s) : "memory");
}

void kfree_sensitive(const void *objp)
{
    if (ZERO_OR_NULL_PTR(objp))
        return;
    // ksize reports (and returns 0 for) a pointer kmalloc did not hand out; kfree then refuses it.
    memzero_explicit((void *)objp, vmc_ksize(objp));
    vmc_kfree(objp);
}

/* ---- kvmalloc ---- */

void *kvmalloc_node(size_t size, gfp_t flags, int node) { return vmc_kvmalloc(size, flags, node, CALLER); }

void *kvmalloc(size_t size, gfp_t flags) { return vmc_kvmalloc(size, flags, NUMA_NO_NODE, CALLER); }

void *kvzalloc(size_t size, gfp_t flags) { return vmc_kvmalloc(size, flags | __GFP_ZERO, NUMA_NO_NODE, CALLER); }

void *kvzalloc_node(size_t size, gfp_t flags, int node)
{
    return vmc_kvmalloc(size, flags | __GFP_ZERO, node, CALLER);
}

void *kvmalloc_array_node(size_t n, size_t size, gfp_t flags, int node)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_kvmalloc(bytes, flags, node, CALLER);
}

void *kvmalloc_array(size_t n, size_t size, gfp_t flags)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_kvmalloc(bytes, flags, NUMA_NO_NODE, CALLER);
}

void *kvcalloc_node(size_t n, size_t size, gfp_t flags, int node)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_kvmalloc(bytes, flags | __GFP_ZERO, node, CALLER);
}

void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_kvmalloc(bytes, flags | __GFP_ZERO, NUMA_NO_NODE, CALLER);
}

void *kvrealloc_noprof(const void *p, size_t size, gfp_t flags) { return vmc_kvrealloc(p, size, flags, CALLER); }

// 6.1's form never shrinks: a request no larger than the old size keeps the buffer as it is.
void *__kvrealloc_oldsize(const void *p, size_t oldsize, size_t newsize, gfp_t flags)
{
    if (oldsize >= newsize)
        return (void *)p;
    return vmc_kvrealloc(p, newsize, flags, CALLER);
}

void kvfree(const void *addr) { vmc_kvfree(addr); }

void kvfree_sensitive(const void *addr, size_t len)
{
    if (!addr)
        return;
    memzero_explicit((void *)addr, len);
    vmc_kvfree(addr);
}

/* ---- kmem caches ---- */

// A cache is a size and alignment over the kmalloc size classes. Objects of a class lie at
// multiples of the class size from a page-aligned slab, so a power-of-two class is aligned to its
// size, kmalloc-96 to 32 and kmalloc-192 to 64, and blocks above 8 KiB are page-aligned buddy
// blocks. Rounding the object size up to a multiple of the alignment is therefore enough: a size
// that is a multiple of `align` and lands in kmalloc-96 (or -192) cannot have `align` above 32
// (or 64), and one in a power-of-two class has `align` at most the class size.
struct kmem_cache {
    char *name;
    unsigned int object_size; /* as asked */
    unsigned int size;        /* what each object takes from kmalloc */
    unsigned int align;
    slab_flags_t flags;
    void (*ctor)(void *);
};

static struct kmem_cache *cache_fail(const char *name, slab_flags_t flags, const char *why)
{
    fprintf(stderr, "kmem_cache_create(%s) failed: %s\n", name ? name : "(null)", why);
    if (flags & SLAB_PANIC)
        abort();
    return NULL;
}

static struct kmem_cache *cache_create(const char *name, unsigned int size, unsigned int align, slab_flags_t flags,
                                       void (*ctor)(void *))
{
    struct kmem_cache *s;
    unsigned long rounded;

    if (!name)
        return cache_fail(name, flags, "no name");
    if (size == 0 || size > KMALLOC_MAX_SIZE)
        return cache_fail(name, flags, "object size 0 or above KMALLOC_MAX_SIZE");
    if (align & (align - 1))
        return cache_fail(name, flags, "alignment not a power of two");
    // SLAB_HWCACHE_ALIGN: a cache line, halved while the object fits twice (calculate_alignment).
    if (flags & SLAB_HWCACHE_ALIGN) {
        unsigned int ralign = 64;

        while (size <= ralign / 2)
            ralign /= 2;
        if (ralign > align)
            align = ralign;
    }
    if (align < ARCH_SLAB_MINALIGN)
        align = ARCH_SLAB_MINALIGN;
    rounded = ((unsigned long)size + align - 1) & ~((unsigned long)align - 1);
    if (rounded > KMALLOC_MAX_SIZE)
        return cache_fail(name, flags, "aligned object size above KMALLOC_MAX_SIZE");

    // The cache descriptor is bookkeeping of this layer, not memory of the system.
    s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strdup(name))) {
        free(s);
        return cache_fail(name, flags, "out of memory");
    }
    s->object_size = size;
    s->size = (unsigned int)rounded;
    s->align = align;
    s->flags = flags;
    s->ctor = ctor;
    return s;
}

struct kmem_cache *__kmem_cache_create(const char *name, unsigned int size, unsigned int align, slab_flags_t flags,
                                       void (*ctor)(void *))
{
    return cache_create(name, size, align, flags, ctor);
}

struct kmem_cache *__kmem_cache_create_args(const char *name, unsigned int object_size, struct kmem_cache_args *args,
                                            slab_flags_t flags)
{
    return cache_create(name, object_size, args ? args->align : 0, flags, args ? args->ctor : NULL);
}

// No usercopy hardening here: the whitelist is accepted and not enforced.
struct kmem_cache *kmem_cache_create_usercopy(const char *name, unsigned int size, unsigned int align,
                                              slab_flags_t flags, unsigned int useroffset, unsigned int usersize,
                                              void (*ctor)(void *))
{
    (void)useroffset;
    (void)usersize;
    return cache_create(name, size, align, flags, ctor);
}

void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t flags, int node)
{
    void *p = vmc_kmalloc(s->size, flags, node);

    if (p && s->ctor)
        s->ctor(p);
    return p;
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags) { return kmem_cache_alloc_node(s, flags, NUMA_NO_NODE); }

void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags)
{
    return kmem_cache_alloc_node(s, flags | __GFP_ZERO, NUMA_NO_NODE);
}

void kmem_cache_free(struct kmem_cache *s, void *objp)
{
    (void)s;
    vmc_kfree(objp);
}

// Objects still allocated stay valid kmalloc memory (kfree frees them); the kernel would
// complain about them and leak the cache.
void kmem_cache_destroy(struct kmem_cache *s)
{
    if (!s)
        return;
    free(s->name);
    free(s);
}

int kmem_cache_shrink(struct kmem_cache *s)
{
    (void)s;
    return 0;
}

unsigned int kmem_cache_size(struct kmem_cache *s) { return s->object_size; }
