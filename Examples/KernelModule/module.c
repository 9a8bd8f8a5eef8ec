/*
 * fsdemo: the allocation discipline of a filesystem-like driver, as a module for the vmalloc
 * module harness. It shows what GFP_NOFS, the memalloc_*_save() scopes and __GFP_NOFAIL are for,
 * and what the rule of the kernel commit "mm/vmalloc: alloc GFP_NO{FS,IO} for vmalloc"
 * (page-table allocations inside vmalloc obey the caller's NOFS/NOIO) changes.
 *
 * The driver keeps two caches:
 *   - a metadata cache of blocks (a kmem_cache object holding one data page each) on a list
 *     protected by fs_lock, "the filesystem lock". Its shrinker takes fs_lock, so it may only run
 *     from reclaim that is allowed to enter the filesystem (__GFP_FS); without __GFP_FS it
 *     returns SHRINK_STOP, as super_cache_scan() does;
 *   - a clean-page cache (an array of pages) behind its own lock, which any reclaim may shrink.
 *
 * With memory tight (the clean cache grows with GFP_NOWAIT until the allocator refuses), it
 *   1. holds fs_lock and makes GFP_NOFS vmallocs (a journal buffer each, in a fresh 2 MiB range
 *      so the page tables for it must be allocated too) and a GFP_NOFS | __GFP_NOFAIL kvmalloc;
 *   2. inside memalloc_noio_save()/restore() makes plain GFP_KERNEL allocations (vmalloc,
 *      kmalloc, alloc_page with __GFP_NOFAIL), as a block driver's I/O path would.
 * Its shrinkers count every entry that came from its own NOFS/NOIO allocations with __GFP_FS
 * (resp. __GFP_IO or __GFP_FS) still set in sc->gfp_mask: reclaim that could take fs_lock from
 * inside fs_lock. A real kernel could deadlock there; this shrinker sees that its own thread holds
 * fs_lock, reports it as lockdep would (a possible circular locking dependency) and backs off.
 *
 * Expected: 0 such entries. With VMALLOC_PAGE_TABLE_SCOPE=legacy (page tables reclaim as
 * GFP_KERNEL, as before that commit) the NOFS vmallocs enter the metadata shrinker with __GFP_FS
 * and the count is above 0; the NOIO section stays clean in both modes, because the scope
 * applies to every allocation of the thread, page tables included.
 *
 * Run with VMALLOC_NODES=1 VMALLOC_MEMORY_PER_NODE=64M VMALLOC_KSWAPD=0 (see README.md).
 */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

static unsigned int rounds = 8;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "GFP_NOFS journal buffers to allocate under fs_lock (2 MiB each)");

static unsigned int metadata_blocks = 1024;
module_param(metadata_blocks, uint, 0444);
MODULE_PARM_DESC(metadata_blocks, "blocks in the metadata cache");

#define JOURNAL_PAGES 512 /* 2 MiB: each journal buffer crosses into a page table of its own */
#define MAX_ROUNDS 32

struct fs_block {
    struct list_head lru;
    struct page *page;
};

static struct kmem_cache *block_cache;

/* The filesystem lock and the metadata cache it protects. */
static DEFINE_MUTEX(fs_lock);
static struct task_struct *fs_lock_owner;
static LIST_HEAD(metadata_lru);
static unsigned long nr_metadata;

/* The clean-page cache, droppable by any reclaim. */
static DEFINE_MUTEX(clean_lock);
static struct page **clean_pages;
static unsigned long nr_clean, max_clean;

static struct shrinker *metadata_shrinker, *clean_shrinker;

/* What the current thread's allocations are constrained to, as the driver declares it. */
#define CONSTRAINED_NOFS 1
#define CONSTRAINED_NOIO 2
static __thread int constrained;

static atomic_long_t bad_reclaim_entries = ATOMIC_LONG_INIT(0);
static atomic_long_t fs_lock_recursions = ATOMIC_LONG_INIT(0);
static atomic_long_t constrained_entries = ATOMIC_LONG_INIT(0);

static void fs_lock_acquire(void)
{
    mutex_lock(&fs_lock);
    fs_lock_owner = current;
}

static void fs_lock_release(void)
{
    fs_lock_owner = NULL;
    mutex_unlock(&fs_lock);
}

/* An entry into one of our shrinkers: count it when our own constrained allocation brought
 * reclaim here with the very bits it promised not to use. */
static void note_entry(struct shrink_control *sc)
{
    if (!constrained)
        return;
    atomic_long_inc(&constrained_entries);
    if (((constrained & CONSTRAINED_NOFS) && (sc->gfp_mask & __GFP_FS)) ||
        ((constrained & CONSTRAINED_NOIO) && (sc->gfp_mask & (__GFP_IO | __GFP_FS))))
        atomic_long_inc(&bad_reclaim_entries);
}

static struct fs_block *new_block(gfp_t gfp)
{
    struct fs_block *b = kmem_cache_alloc(block_cache, gfp);

    if (!b)
        return NULL;
    b->page = alloc_page(gfp);
    if (!b->page) {
        kmem_cache_free(block_cache, b);
        return NULL;
    }
    return b;
}

static void free_block(struct fs_block *b)
{
    __free_page(b->page);
    kmem_cache_free(block_cache, b);
}

/* Free up to n clean pages; the caller holds clean_lock. */
static unsigned long drop_clean(unsigned long n)
{
    unsigned long freed = 0;

    while (freed < n && nr_clean > 0) {
        __free_page(clean_pages[--nr_clean]);
        freed++;
    }
    return freed;
}

/* Free up to n blocks from the tail of lru; the caller holds its lock. */
static unsigned long drop_blocks(struct list_head *lru, unsigned long *nr, unsigned long n)
{
    unsigned long freed = 0;

    while (freed < n && !list_empty(lru)) {
        struct fs_block *b = list_last_entry(lru, struct fs_block, lru);

        list_del(&b->lru);
        free_block(b);
        (*nr)--;
        freed++;
    }
    return freed;
}

/* Reclaim that may enter the filesystem (__GFP_FS) reached the shrinker that takes fs_lock,
 * on a thread holding fs_lock: what lockdep reports as a possible deadlock, whether or not this
 * pass gets as far as taking the lock. True when that is the case. */
static bool fs_lock_dependency(struct shrink_control *sc)
{
    if (!(sc->gfp_mask & __GFP_FS) || READ_ONCE(fs_lock_owner) != current)
        return false;
    if (atomic_long_inc_return(&fs_lock_recursions) == 1)
        pr_warn("fsdemo: WARNING: possible circular locking dependency detected: reclaim with mode 0x%x "
                "entered the metadata shrinker, which takes fs_lock, from an allocation made while "
                "holding fs_lock\n", sc->gfp_mask);
    return true;
}

static unsigned long metadata_count(struct shrinker *s, struct shrink_control *sc)
{
    (void)s;
    note_entry(sc);
    fs_lock_dependency(sc);
    return READ_ONCE(nr_metadata) ?: SHRINK_EMPTY;
}

static unsigned long metadata_scan(struct shrinker *s, struct shrink_control *sc)
{
    unsigned long freed;

    (void)s;
    note_entry(sc);
    if (!(sc->gfp_mask & __GFP_FS))
        return SHRINK_STOP;
    /* On a thread holding fs_lock, mutex_lock(&fs_lock) would never return. */
    if (fs_lock_dependency(sc))
        return SHRINK_STOP;
    fs_lock_acquire();
    freed = drop_blocks(&metadata_lru, &nr_metadata, sc->nr_to_scan);
    fs_lock_release();
    return freed;
}

static unsigned long clean_count(struct shrinker *s, struct shrink_control *sc)
{
    (void)s;
    note_entry(sc);
    return READ_ONCE(nr_clean) ?: SHRINK_EMPTY;
}

static unsigned long clean_scan(struct shrinker *s, struct shrink_control *sc)
{
    unsigned long freed;

    (void)s;
    note_entry(sc);
    mutex_lock(&clean_lock);
    freed = drop_clean(sc->nr_to_scan);
    mutex_unlock(&clean_lock);
    return freed;
}

/* Grow the clean cache with GFP_NOWAIT until the allocator refuses (memory is then tight: free
 * pages sit at the min watermark), then give back `room` pages for the next allocation. */
static void tighten(unsigned long room)
{
    struct page *page;

    mutex_lock(&clean_lock);
    while (nr_clean < max_clean && (page = alloc_page(GFP_NOWAIT | __GFP_NOWARN)))
        clean_pages[nr_clean++] = page;
    drop_clean(room);
    mutex_unlock(&clean_lock);
}

static struct shrinker *start_shrinker(const char *name, unsigned long (*count)(struct shrinker *,
                                                                                 struct shrink_control *),
                                       unsigned long (*scan)(struct shrinker *, struct shrink_control *))
{
    struct shrinker *s = shrinker_alloc(0, "fsdemo-%s", name);

    if (!s)
        return NULL;
    s->count_objects = count;
    s->scan_objects = scan;
    s->seeks = DEFAULT_SEEKS;
    shrinker_register(s);
    return s;
}

static int __init fsdemo_init(void)
{
    void *journal[MAX_ROUNDS] = {0};
    void *nofail_buf, *noio_area, *noio_small;
    struct page *noio_page;
    unsigned long bad_nofs, entries_nofs;
    unsigned int i, noio, allocated = 0;

    if (rounds == 0 || rounds > MAX_ROUNDS) {
        pr_err("fsdemo: rounds must be 1..%d\n", MAX_ROUNDS);
        return -EINVAL;
    }
    max_clean = totalram_pages();
    clean_pages = kvmalloc_array(max_clean, sizeof(*clean_pages), GFP_KERNEL);
    block_cache = kmem_cache_create("fsdemo_block", sizeof(struct fs_block), 0, 0, NULL);
    metadata_shrinker = start_shrinker("metadata", metadata_count, metadata_scan);
    clean_shrinker = start_shrinker("clean", clean_count, clean_scan);
    if (!clean_pages || !block_cache || !metadata_shrinker || !clean_shrinker) {
        shrinker_free(metadata_shrinker);
        shrinker_free(clean_shrinker);
        kmem_cache_destroy(block_cache);
        kvfree(clean_pages);
        return -ENOMEM;
    }

    fs_lock_acquire();
    for (i = 0; i < metadata_blocks; i++) {
        struct fs_block *b = new_block(GFP_KERNEL);

        if (!b)
            break;
        list_add(&b->lru, &metadata_lru);
        nr_metadata++;
    }
    fs_lock_release();
    pr_info("fsdemo: %lu metadata blocks cached, %lu pages free\n", nr_metadata, nr_free_pages());

    /* 1. Under fs_lock: GFP_NOFS promises reclaim will not re-enter the filesystem. */
    for (i = 0; i < rounds; i++) {
        tighten(JOURNAL_PAGES);
        fs_lock_acquire();
        constrained = CONSTRAINED_NOFS;
        journal[i] = __vmalloc(JOURNAL_PAGES * PAGE_SIZE, GFP_NOFS);
        constrained = 0;
        fs_lock_release();
        if (journal[i]) {
            memset(journal[i], 0, JOURNAL_PAGES * PAGE_SIZE);
            allocated++;
        }
    }
    tighten(0);
    fs_lock_acquire();
    constrained = CONSTRAINED_NOFS;
    nofail_buf = kvmalloc(16 * PAGE_SIZE, GFP_NOFS | __GFP_NOFAIL);
    constrained = 0;
    fs_lock_release();
    bad_nofs = atomic_long_read(&bad_reclaim_entries);
    entries_nofs = atomic_long_read(&constrained_entries);

    /* 2. An I/O path: everything inside the NOIO section acts as GFP_NOIO, page tables too. */
    tighten(JOURNAL_PAGES);
    noio = memalloc_noio_save();
    constrained = CONSTRAINED_NOIO;
    noio_area = vmalloc(JOURNAL_PAGES * PAGE_SIZE);
    noio_small = kmalloc(2048, GFP_KERNEL);
    noio_page = alloc_page(GFP_KERNEL | __GFP_NOFAIL);
    constrained = 0;
    memalloc_noio_restore(noio);

    pr_info("fsdemo: GFP_NOFS journal buffers under fs_lock: %u of %u allocated\n", allocated, rounds);
    pr_info("fsdemo: GFP_NOFS | __GFP_NOFAIL kvmalloc: %s; NOIO section: vmalloc %s, kmalloc %s, "
            "NOFAIL page %s\n", nofail_buf ? "ok" : "NULL", noio_area ? "ok" : "NULL",
            noio_small ? "ok" : "NULL", noio_page ? "ok" : "NULL");
    pr_info("fsdemo: shrinker entries from the NOFS section: %lu, from the NOIO section: %lu\n", entries_nofs,
            atomic_long_read(&constrained_entries) - entries_nofs);
    pr_info("fsdemo: FS/IO reclaim entered from its own NOFS/NOIO allocations: %ld (NOFS %lu, NOIO %ld)\n",
            atomic_long_read(&bad_reclaim_entries), bad_nofs, atomic_long_read(&bad_reclaim_entries) - bad_nofs);
    if (atomic_long_read(&bad_reclaim_entries) > 0)
        pr_info("fsdemo: entries into the fs_lock shrinker from under fs_lock: %ld; a kernel could deadlock\n",
                atomic_long_read(&fs_lock_recursions));

    if (noio_page)
        __free_page(noio_page);
    kfree(noio_small);
    vfree(noio_area);
    kvfree(nofail_buf);
    for (i = 0; i < rounds; i++)
        vfree(journal[i]);
    return 0;
}

static void __exit fsdemo_exit(void)
{
    shrinker_free(metadata_shrinker);
    shrinker_free(clean_shrinker);
    fs_lock_acquire();
    drop_blocks(&metadata_lru, &nr_metadata, ~0UL);
    fs_lock_release();
    mutex_lock(&clean_lock);
    drop_clean(~0UL);
    mutex_unlock(&clean_lock);
    kvfree(clean_pages);
    kmem_cache_destroy(block_cache);
    vm_unmap_aliases();
    pr_info("fsdemo: unloaded, %lu pages free\n", nr_free_pages());
}

module_init(fsdemo_init);
module_exit(fsdemo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("GFP_NOFS, NOIO scopes and __GFP_NOFAIL in a filesystem-like driver");
