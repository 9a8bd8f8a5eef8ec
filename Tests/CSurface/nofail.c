/* nofail.c — __GFP_NOFAIL under real pressure: a hog takes every free frame (below the
 * watermarks, through the noreclaim scope), there is no shrinker, so reclaim can free nothing;
 * a second thread gives the hog's frames back after DELAY_MS. vmalloc, kvmalloc and
 * alloc_pages(order 0) with __GFP_NOFAIL must neither return NULL nor give up: each returns
 * non-NULL, and only once the frames came back (it waited at least DELAY_MS). A control with
 * __GFP_NORETRY in the same state fails at once, so the pressure is real. NOFAIL with a mask
 * that cannot block (GFP_NOWAIT) is the kernel's WARN_ON_ONCE. Run with VMALLOC_NODES=1,
 * VMALLOC_MEMORY_PER_NODE=16M, VMALLOC_KSWAPD=0. */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

#define DELAY_MS 300

static struct page **hog;
static unsigned long nr_hog;

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take every free frame, the reserves below the min watermark included. */
static void hog_everything(void)
{
    unsigned int flags = memalloc_noreclaim_save();
    struct page *page;

    while ((page = alloc_page((GFP_KERNEL & ~__GFP_KSWAPD_RECLAIM) | __GFP_NOWARN)))
        hog[nr_hog++] = page;
    memalloc_noreclaim_restore(flags);
}

static void *give_back_later(void *arg)
{
    struct timespec delay = {0, DELAY_MS * 1000000L};

    (void)arg;
    nanosleep(&delay, NULL);
    while (nr_hog > 0)
        __free_page(hog[--nr_hog]);
    return NULL;
}

/* Run `alloc` with no memory left while a thread gives it back after DELAY_MS. */
static void *under_pressure(const char *what, void *(*alloc)(void), void (*release)(void *))
{
    pthread_t freer;
    long start;
    void *p;
    void *control;

    hog_everything();
    CHECK_EQ(nr_free_pages(), 0, "the hog holds every frame");
    control = __vmalloc(16 * PAGE_SIZE, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
    CHECK(control == NULL, "control: a __GFP_NORETRY vmalloc fails in this state");
    vfree(control);
    start = now_ms();
    pthread_create(&freer, NULL, give_back_later, NULL);
    p = alloc();
    pthread_join(freer, NULL);
    CHECK(p != NULL, "%s returned memory", what);
    CHECK(now_ms() - start >= DELAY_MS - 20, "%s waited for the frames to come back (%ld ms)", what,
          now_ms() - start);
    if (p)
        release(p);
    return p;
}

static void *nofail_vmalloc(void) { return __vmalloc(64 * PAGE_SIZE, GFP_KERNEL | __GFP_NOFAIL); }
static void *nofail_kvmalloc(void) { return kvmalloc(64 * PAGE_SIZE, GFP_KERNEL | __GFP_NOFAIL); }
static void *nofail_page(void) { return alloc_pages(GFP_KERNEL | __GFP_NOFAIL, 0); }
static void *nofail_nofs_vmalloc(void) { return __vmalloc(8 * PAGE_SIZE, GFP_NOFS | __GFP_NOFAIL); }
static void release_page(void *page) { __free_pages(page, 0); }
static void release_vmalloc(void *p) { vfree(p); }
static void release_kvmalloc(void *p) { kvfree(p); }

int main(void)
{
    const char *warned;
    void *p;

    hog = calloc(totalram_pages(), sizeof(*hog));
    if (!hog)
        return 1;
    printf("nofail: %lu pages, giving them back after %d ms each time\n", totalram_pages(), DELAY_MS);
    under_pressure("__vmalloc(64 pages, GFP_KERNEL | __GFP_NOFAIL)", nofail_vmalloc, release_vmalloc);
    under_pressure("kvmalloc(64 pages, GFP_KERNEL | __GFP_NOFAIL)", nofail_kvmalloc, release_kvmalloc);
    under_pressure("alloc_pages(GFP_KERNEL | __GFP_NOFAIL, 0)", nofail_page, release_page);
    under_pressure("__vmalloc(8 pages, GFP_NOFS | __GFP_NOFAIL)", nofail_nofs_vmalloc, release_vmalloc);

    capture_begin();
    p = alloc_pages(GFP_NOWAIT | __GFP_NOFAIL, 0);
    warned = capture_end();
    CHECK(strstr(warned, "__GFP_NOFAIL with a mask that cannot block") != NULL,
          "alloc_pages(GFP_NOWAIT | __GFP_NOFAIL) warns that NOFAIL cannot hold for a mask that cannot block");
    if (p)
        __free_pages(p, 0);
    capture_begin();
    p = __vmalloc(4 * PAGE_SIZE, GFP_NOWAIT | __GFP_NOFAIL);
    warned = capture_end();
    CHECK(strstr(warned, "__GFP_NOFAIL with a mask that cannot block") != NULL,
          "__vmalloc(GFP_NOWAIT | __GFP_NOFAIL) warns likewise");
    vfree(p);
    free(hog);
    return check_done("nofail");
}
