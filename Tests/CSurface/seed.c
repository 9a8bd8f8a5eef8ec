/* seed.c — the rule of the kernel commit "mm/vmalloc: alloc GFP_NO{FS,IO} for vmalloc" (page-table
 * allocations honour the caller's GFP_NOFS/NOIO) seen from C, as a filesystem would hit it.
 *
 * A filesystem-like cache of pages has a shrinker that, like super_cache_scan(), returns
 * SHRINK_STOP when sc->gfp_mask lacks __GFP_FS; an anonymous cache beside it may be shrunk by any
 * reclaim. The program plays the filesystem: while "holding a filesystem lock" (a per-thread
 * flag, not a memalloc scope: the rule is about the mask passed in) it makes GFP_NOFS vmallocs.
 * Before each one, free memory is brought to exactly the min watermark plus the pages the data
 * needs (fill with an allocation that cannot reclaim, which stops at the min watermark, then give
 * back exactly that many), so the data pages come without reclaim and the page-table pages of the
 * fresh 2 MiB range must come from direct reclaim. Reclaim runs on the allocating thread (kswapd
 * is off), so the shrinker sees the flag.
 *
 * Under the legacy scope (VMALLOC_PAGE_TABLE_SCOPE=legacy, the kernel before that commit) the page
 * tables reclaim as GFP_KERNEL and enter the filesystem's shrinker with __GFP_FS from inside its
 * own NOFS section: the recursion that deadlocks a real filesystem. Under the caller's scope (the
 * default) they map under a NOFS scope and the count is 0. Usage: seed fixed|legacy — the outcome
 * to expect. Run with VMALLOC_NODES=1, VMALLOC_MEMORY_PER_NODE=64M, VMALLOC_KSWAPD=0. */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/shrinker.h>
#include <linux/vmalloc.h>

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define ROUNDS 8
#define AREA_PAGES 512 /* 2 MiB + its guard page: every area crosses into a PTE table of its own */
#define FS_CACHE_PAGES 1024

/* Set while the thread holds "the filesystem lock" and allocates with GFP_NOFS. */
static __thread bool in_fs_section;

struct frame_cache {
    const char *name;
    bool fs; /* a filesystem cache: scan needs __GFP_FS */
    struct page **pages;
    unsigned long nr, cap;
    struct shrinker *shrinker;
    /* Entries (count_objects or scan_objects) from inside the NOFS section, by mask. */
    unsigned long entered_with_fs, entered_without_fs, freed_in_section;
};

static struct frame_cache fs_cache = {.name = "seed-fs-inode-cache", .fs = true};
static struct frame_cache anon_cache = {.name = "seed-anon-cache"};

static void note_entry(struct frame_cache *c, const struct shrink_control *sc)
{
    if (!in_fs_section)
        return;
    if (sc->gfp_mask & __GFP_FS)
        c->entered_with_fs++;
    else
        c->entered_without_fs++;
}

static unsigned long cache_count(struct shrinker *s, struct shrink_control *sc)
{
    struct frame_cache *c = s->private_data;

    note_entry(c, sc);
    return c->nr ? c->nr : SHRINK_EMPTY;
}

static unsigned long cache_scan(struct shrinker *s, struct shrink_control *sc)
{
    struct frame_cache *c = s->private_data;
    unsigned long freed = 0;

    note_entry(c, sc);
    if (c->fs && !(sc->gfp_mask & __GFP_FS))
        return SHRINK_STOP;
    while (freed < sc->nr_to_scan && c->nr > 0) {
        __free_page(c->pages[--c->nr]);
        freed++;
    }
    if (in_fs_section)
        c->freed_in_section += freed;
    return freed;
}

static void cache_init(struct frame_cache *c, unsigned long cap)
{
    c->pages = calloc(cap, sizeof(*c->pages));
    c->cap = cap;
    c->shrinker = shrinker_alloc(0, "%s", c->name);
    CHECK(c->pages && c->shrinker, "shrinker_alloc(\"%s\") gives a shrinker", c->name);
    if (!c->pages || !c->shrinker)
        exit(check_done("seed"));
    c->shrinker->count_objects = cache_count;
    c->shrinker->scan_objects = cache_scan;
    c->shrinker->seeks = DEFAULT_SEEKS;
    c->shrinker->private_data = c;
    shrinker_register(c->shrinker);
}

/* Take pages with a mask that cannot reclaim until `limit` or the allocator refuses: it refuses
 * when free memory is at the min watermark. */
static unsigned long cache_fill(struct frame_cache *c, unsigned long limit)
{
    unsigned long got = 0;
    struct page *page;

    while (got < limit && c->nr < c->cap && (page = alloc_page(GFP_NOWAIT | __GFP_NOWARN))) {
        c->pages[c->nr++] = page;
        got++;
    }
    return got;
}

static void cache_release(struct frame_cache *c, unsigned long n)
{
    while (n-- > 0 && c->nr > 0)
        __free_page(c->pages[--c->nr]);
}

int main(int argc, char **argv)
{
    bool expect_bug = argc > 1 && strcmp(argv[1], "legacy") == 0;
    void *areas[ROUNDS];
    unsigned long start_free = nr_free_pages();
    int r;

    if (argc != 2 || (!expect_bug && strcmp(argv[1], "fixed") != 0)) {
        fprintf(stderr, "usage: %s fixed|legacy\n", argv[0]);
        return 2;
    }
    printf("seed: expecting the %s page-table scope; %lu pages free\n", argv[1], start_free);

    cache_init(&fs_cache, FS_CACHE_PAGES);
    cache_init(&anon_cache, totalram_pages());
    CHECK_EQ(cache_fill(&fs_cache, FS_CACHE_PAGES), FS_CACHE_PAGES, "the filesystem cache holds its pages");

    for (r = 0; r < ROUNDS; r++) {
        unsigned long free_at_min;

        cache_fill(&anon_cache, ~0UL);
        free_at_min = nr_free_pages();
        cache_release(&anon_cache, AREA_PAGES);
        in_fs_section = true;
        areas[r] = __vmalloc(AREA_PAGES * PAGE_SIZE, GFP_NOFS);
        in_fs_section = false;
        CHECK(areas[r] != NULL, "round %d: __vmalloc(2 MiB, GFP_NOFS) with %lu pages free at the watermark", r,
              free_at_min);
        if (areas[r])
            memset(areas[r], 0x5a, AREA_PAGES * PAGE_SIZE);
    }

    printf("seed: from inside the NOFS section, the filesystem shrinker was entered %lu times with __GFP_FS "
           "and %lu times without; the anonymous cache %lu times (%lu pages freed)\n",
           fs_cache.entered_with_fs, fs_cache.entered_without_fs,
           anon_cache.entered_with_fs + anon_cache.entered_without_fs, anon_cache.freed_in_section);
    CHECK(anon_cache.freed_in_section > 0, "the NOFS vmallocs reclaimed (the test provoked reclaim)");
    if (expect_bug) {
        CHECK(fs_cache.entered_with_fs > 0,
              "legacy: page tables reclaimed as GFP_KERNEL and entered the filesystem shrinker with __GFP_FS "
              "from its own NOFS section (the recursion the caller's scope prevents)");
    } else {
        CHECK_EQ(fs_cache.entered_with_fs, 0,
                 "no filesystem-shrinker entry with __GFP_FS from inside a GFP_NOFS vmalloc");
        CHECK(fs_cache.entered_without_fs > 0, "reclaim for the NOFS vmallocs reached the filesystem shrinker "
                                               "without __GFP_FS (it returned SHRINK_STOP)");
    }

    for (r = 0; r < ROUNDS; r++)
        vfree(areas[r]);
    shrinker_free(fs_cache.shrinker);
    shrinker_free(anon_cache.shrinker);
    cache_release(&fs_cache, fs_cache.nr);
    cache_release(&anon_cache, anon_cache.nr);
    vm_unmap_aliases();
    /* The page-table pages stay (vmalloc never frees them); everything else comes back. */
    CHECK(nr_free_pages() + ROUNDS * 2 + 4 >= start_free && nr_free_pages() <= start_free,
          "every page came back but the page tables (%lu free, %lu at the start)", nr_free_pages(), start_free);
    free(fs_cache.pages);
    free(anon_cache.pages);
    return check_done("seed");
}
