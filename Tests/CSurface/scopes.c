/* scopes.c — the allocation scopes of <linux/sched/mm.h> (6.12) from C: memalloc_nofs/noio/
 * noreclaim/pin/flags save and restore return only the bits they newly set, so nested sections
 * restore correctly; current_gfp_context() applies the scope; a PF_MEMALLOC_NOIO bit set directly
 * in current->flags (as bcachefs does) constrains a real allocation's reclaim exactly as the API
 * does, and the scope word is per thread (a second pthread neither sees nor is constrained by it).
 *
 * The reclaim checks fill memory to the min watermark with a cache of pages whose shrinker
 * records the mask reclaim called it with, then make one GFP_KERNEL allocation that must reclaim.
 * Each constrained case has an unconstrained control beside it, so a library that ignored the
 * flags word would fail. Run with VMALLOC_NODES=1, VMALLOC_MEMORY_PER_NODE=64M, VMALLOC_KSWAPD=0. */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/shrinker.h>

#include <pthread.h>
#include <stdlib.h>

#include "check.h"

static struct page **cached;
static unsigned long nr_cached, cap_cached;
static gfp_t last_mask;
static unsigned long entries;

static unsigned long cache_count(struct shrinker *s, struct shrink_control *sc)
{
    (void)s;
    last_mask = sc->gfp_mask;
    entries++;
    return nr_cached ? nr_cached : SHRINK_EMPTY;
}

static unsigned long cache_scan(struct shrinker *s, struct shrink_control *sc)
{
    unsigned long freed = 0;

    (void)s;
    last_mask = sc->gfp_mask;
    while (freed < sc->nr_to_scan && nr_cached > 0) {
        __free_page(cached[--nr_cached]);
        freed++;
    }
    return freed;
}

/* Fill memory down to the min watermark, then make one GFP_KERNEL page allocation, which has to
 * reclaim; returns the mask the shrinker saw (0 if reclaim never reached it). */
static gfp_t reclaim_mask_of_one_allocation(void)
{
    struct page *page;

    while (nr_cached < cap_cached && (page = alloc_page(GFP_NOWAIT | __GFP_NOWARN)))
        cached[nr_cached++] = page;
    entries = 0;
    last_mask = 0;
    page = alloc_page(GFP_KERNEL);
    if (page)
        __free_page(page);
    return entries ? last_mask : 0;
}

struct other_thread {
    unsigned int flags_seen;
    gfp_t context_seen;
    gfp_t reclaim_seen;
};

static void *other_thread_fn(void *arg)
{
    struct other_thread *t = arg;

    t->flags_seen = current->flags;
    t->context_seen = current_gfp_context(GFP_KERNEL);
    t->reclaim_seen = reclaim_mask_of_one_allocation();
    return NULL;
}

int main(void)
{
    unsigned int a, b, c;
    struct shrinker *shrinker;
    struct other_thread other = {0};
    pthread_t thread;
    gfp_t seen;

    printf("scopes: save/restore tokens and nesting\n");
    CHECK_EQ(current->flags & (PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO | PF_MEMALLOC | PF_MEMALLOC_PIN), 0,
             "a fresh thread has no scope bits");
    a = memalloc_nofs_save();
    CHECK_EQ(a, PF_MEMALLOC_NOFS, "memalloc_nofs_save returns PF_MEMALLOC_NOFS when it sets it");
    CHECK_EQ(current_gfp_context(GFP_KERNEL), GFP_NOFS, "current_gfp_context(GFP_KERNEL) is GFP_NOFS in NOFS");
    b = memalloc_nofs_save();
    CHECK_EQ(b, 0, "a nested memalloc_nofs_save returns 0 (already set)");
    memalloc_nofs_restore(b);
    CHECK(current->flags & PF_MEMALLOC_NOFS, "the inner restore leaves the outer NOFS section in force");
    c = memalloc_noio_save();
    CHECK_EQ(c, PF_MEMALLOC_NOIO, "memalloc_noio_save inside NOFS returns PF_MEMALLOC_NOIO");
    CHECK_EQ(current_gfp_context(GFP_KERNEL), GFP_NOIO, "NOIO wins over NOFS: GFP_KERNEL becomes GFP_NOIO");
    CHECK_EQ(current_gfp_context(GFP_KERNEL | __GFP_ZERO), GFP_NOIO | __GFP_ZERO, "other bits are kept");
    memalloc_noio_restore(c);
    CHECK_EQ(current_gfp_context(GFP_KERNEL), GFP_NOFS, "after the NOIO restore the NOFS section is back");
    memalloc_nofs_restore(a);
    CHECK_EQ(current_gfp_context(GFP_KERNEL), GFP_KERNEL, "after the outer restore GFP_KERNEL is GFP_KERNEL");
    CHECK_EQ(current->flags & PF_MEMALLOC_NOFS, 0, "the outer restore clears PF_MEMALLOC_NOFS");

    a = memalloc_noreclaim_save();
    CHECK_EQ(a, PF_MEMALLOC, "memalloc_noreclaim_save returns PF_MEMALLOC");
    CHECK_EQ(memalloc_noreclaim_save(), 0, "a nested memalloc_noreclaim_save returns 0");
    memalloc_noreclaim_restore(a);
    CHECK_EQ(current->flags & PF_MEMALLOC, 0, "memalloc_noreclaim_restore clears PF_MEMALLOC");

    a = memalloc_pin_save();
    CHECK_EQ(a, PF_MEMALLOC_PIN, "memalloc_pin_save returns PF_MEMALLOC_PIN");
    CHECK_EQ(current_gfp_context(GFP_KERNEL | __GFP_MOVABLE), GFP_KERNEL, "the PIN scope drops __GFP_MOVABLE");
    memalloc_pin_restore(a);
    CHECK_EQ(current_gfp_context(GFP_KERNEL | __GFP_MOVABLE), GFP_KERNEL | __GFP_MOVABLE,
             "__GFP_MOVABLE is back after memalloc_pin_restore");

    a = memalloc_nofs_save();
    b = memalloc_flags_save(PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO);
    CHECK_EQ(b, PF_MEMALLOC_NOIO, "memalloc_flags_save returns only the bits it set (NOIO, not NOFS)");
    memalloc_flags_restore(b);
    CHECK_EQ(current->flags & (PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO), PF_MEMALLOC_NOFS,
             "memalloc_flags_restore clears exactly those bits");
    memalloc_nofs_restore(a);

    printf("scopes: the flags word constrains real reclaim\n");
    cap_cached = totalram_pages();
    cached = calloc(cap_cached, sizeof(*cached));
    shrinker = shrinker_alloc(0, "scopes-cache");
    CHECK(cached && shrinker, "a page cache with a shrinker");
    if (!cached || !shrinker)
        return check_done("scopes");
    shrinker->count_objects = cache_count;
    shrinker->scan_objects = cache_scan;
    shrinker->seeks = DEFAULT_SEEKS;
    shrinker_register(shrinker);

    seen = reclaim_mask_of_one_allocation();
    CHECK((seen & (__GFP_FS | __GFP_IO)) == (__GFP_FS | __GFP_IO),
          "control: GFP_KERNEL reclaim outside any scope enters the shrinker with __GFP_FS|__GFP_IO (0x%x)", seen);

    current->flags |= PF_MEMALLOC_NOIO;
    seen = reclaim_mask_of_one_allocation();
    current->flags &= ~PF_MEMALLOC_NOIO;
    CHECK(seen && !(seen & (__GFP_FS | __GFP_IO)),
          "PF_MEMALLOC_NOIO set directly in current->flags: reclaim runs without __GFP_IO|__GFP_FS (0x%x)", seen);

    a = memalloc_nofs_save();
    seen = reclaim_mask_of_one_allocation();
    CHECK(seen && !(seen & __GFP_FS) && (seen & __GFP_IO),
          "memalloc_nofs_save: reclaim runs without __GFP_FS, with __GFP_IO (0x%x)", seen);

    printf("scopes: the flags are per thread\n");
    b = memalloc_noio_save();
    CHECK(pthread_create(&thread, NULL, other_thread_fn, &other) == 0, "a second pthread starts");
    pthread_join(thread, NULL);
    memalloc_noio_restore(b);
    memalloc_nofs_restore(a);
    CHECK_EQ(other.flags_seen & (PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO), 0,
             "the other thread's current->flags has none of this thread's scope bits");
    CHECK_EQ(other.context_seen, GFP_KERNEL, "the other thread's current_gfp_context(GFP_KERNEL) is GFP_KERNEL");
    CHECK((other.reclaim_seen & (__GFP_FS | __GFP_IO)) == (__GFP_FS | __GFP_IO),
          "the other thread's reclaim runs with __GFP_FS|__GFP_IO while this one is in NOIO (0x%x)",
          other.reclaim_seen);

    shrinker_free(shrinker);
    while (nr_cached > 0)
        __free_page(cached[--nr_cached]);
    free(cached);
    return check_done("scopes");
}
