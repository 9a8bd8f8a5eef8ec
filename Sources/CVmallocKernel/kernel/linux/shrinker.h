/* <linux/shrinker.h>: reclaim callbacks. 6.12's shrinker_alloc/shrinker_register/shrinker_free
 * and 6.1's register_shrinker/unregister_shrinker (for code ported from 6.1) both exist.
 * Differences: struct shrinker keeps only the fields a shrinker's owner sets or reads (no
 * refcount, list, memcg id or deferred counts; reclaim's own state lives in the memory system);
 * memcg is always NULL in struct shrink_control; SHRINKER_MEMCG_AWARE and SHRINKER_NONSLAB are
 * accepted and change nothing. Reclaim asks scan_objects for at most SHRINK_BATCH (128) objects
 * per call; a smaller `batch` splits that into calls of `batch` objects, a larger one is not
 * honoured. */
#ifndef _VMALLOC_LINUX_SHRINKER_H
#define _VMALLOC_LINUX_SHRINKER_H

#include <linux/types.h>

struct mem_cgroup;

struct shrink_control {
    gfp_t gfp_mask;          /* the effective mask of the allocation that reclaims */
    int nid;                 /* the node being reclaimed (NUMA-aware shrinkers) */
    unsigned long nr_to_scan; /* objects to scan in this call */
    unsigned long nr_scanned; /* objects scanned; scan_objects may lower it */
    struct mem_cgroup *memcg; /* always NULL: no memory cgroups */
};

/* From scan_objects: nothing more can be freed in this reclaim pass. */
#define SHRINK_STOP (~0UL)
/* From count_objects: the cache is empty. */
#define SHRINK_EMPTY (~0UL - 1)

struct shrinker {
    unsigned long (*count_objects)(struct shrinker *, struct shrink_control *sc);
    unsigned long (*scan_objects)(struct shrinker *, struct shrink_control *sc);
    long batch;  /* objects per scan_objects call, 0: SHRINK_BATCH */
    int seeks;   /* cost of recreating an object; DEFAULT_SEEKS if unsure */
    unsigned flags;
    void *private_data;

    /* The memory system's: the name given at allocation or registration, and the handle
     * registration returned. */
    char *name;
    void *__handle;
};

#define DEFAULT_SEEKS 2
#define SHRINK_BATCH 128

/* 6.12 flag values. */
#define SHRINKER_REGISTERED (1u << 0)
#define SHRINKER_ALLOCATED (1u << 1)
#define SHRINKER_NUMA_AWARE (1u << 2)
#define SHRINKER_MEMCG_AWARE (1u << 3)
#define SHRINKER_NONSLAB (1u << 4)

/* A zeroed shrinker named by the printf-style format, or NULL. */
struct shrinker *shrinker_alloc(unsigned int flags, const char *fmt, ...) __printf(2, 3);
/* Reclaim calls the shrinker's callbacks from now on. */
void shrinker_register(struct shrinker *shrinker);
/* Unregister (waiting for callbacks in progress on other threads) and free; NULL is a no-op. */
void shrinker_free(struct shrinker *shrinker);

/* 6.1: register a shrinker the caller owns (often static). 0, or -ENOMEM. */
int register_shrinker(struct shrinker *shrinker, const char *fmt, ...) __printf(2, 3);
void unregister_shrinker(struct shrinker *shrinker);

#endif
