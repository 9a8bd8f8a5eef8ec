// Shrinkers under their kernel names (mm/shrinker.c): 6.12's shrinker_alloc/register/free and
// 6.1's register_shrinker/unregister_shrinker. Reclaim in the memory system calls the two
// trampolines below, which present its vmc_shrink_control to the shrinker's callbacks as the
// kernel's struct shrink_control. SHRINK_STOP and SHRINK_EMPTY go back unchanged as unsigned
// long: as Int their bit patterns are -1 and -2, the Swift side's Shrinker.stop and .empty.
#define _GNU_SOURCE
#include <linux/shrinker.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmalloc_abi.h>

static unsigned long count_trampoline(void *shrinker, vmc_shrink_control *vsc)
{
    struct shrinker *s = shrinker;
    struct shrink_control sc = {
        .gfp_mask = vsc->gfp_mask,
        .nid = vsc->nid,
        .nr_to_scan = vsc->nr_to_scan,
        .nr_scanned = vsc->nr_scanned,
    };

    return s->count_objects(s, &sc);
}

// Reclaim asks for up to SHRINK_BATCH objects per call. A shrinker that set a smaller `batch`
// gets its chunks of that size here, as the kernel's do_shrink_slab would hand them out; a
// larger batch cannot be honoured (reclaim decides how much to ask for).
static unsigned long scan_trampoline(void *shrinker, vmc_shrink_control *vsc)
{
    struct shrinker *s = shrinker;
    unsigned long batch = s->batch > 0 ? (unsigned long)s->batch : vsc->nr_to_scan;
    unsigned long total = vsc->nr_to_scan, scanned = 0, freed = 0;

    if (batch == 0)
        batch = 1;
    do {
        unsigned long n = total - scanned < batch ? total - scanned : batch;
        struct shrink_control sc = {.gfp_mask = vsc->gfp_mask, .nid = vsc->nid, .nr_to_scan = n, .nr_scanned = n};
        unsigned long ret = s->scan_objects(s, &sc);

        if (ret == SHRINK_STOP) {
            if (scanned == 0)
                return SHRINK_STOP;
            break;
        }
        freed += ret;
        // A callback that reports no progress in nr_scanned would make the kernel loop; stop.
        if (sc.nr_scanned == 0)
            break;
        scanned += sc.nr_scanned;
    } while (scanned < total);
    vsc->nr_scanned = scanned;
    return freed;
}

static char *format_name(const char *fmt, va_list ap)
{
    char *name = NULL;

    if (!fmt)
        return NULL;
    if (vasprintf(&name, fmt, ap) < 0)
        return NULL;
    return name;
}

// 0, or -ENOMEM when the memory system could not record it (the shrinker stays unregistered).
static int do_register(struct shrinker *s)
{
    s->__handle = vmc_shrinker_register(s, s->name ? s->name : "shrinker", s->seeks, count_trampoline,
                                        scan_trampoline);
    if (!s->__handle)
        return -ENOMEM;
    s->flags |= SHRINKER_REGISTERED;
    return 0;
}

static void do_unregister(struct shrinker *s)
{
    if (!(s->flags & SHRINKER_REGISTERED))
        return;
    vmc_shrinker_unregister(s->__handle);
    s->__handle = NULL;
    s->flags &= ~SHRINKER_REGISTERED;
}

struct shrinker *shrinker_alloc(unsigned int flags, const char *fmt, ...)
{
    struct shrinker *s = calloc(1, sizeof(*s));
    va_list ap;

    if (!s)
        return NULL;
    va_start(ap, fmt);
    s->name = format_name(fmt, ap);
    va_end(ap);
    // Only the caller's awareness flags are kept; REGISTERED is ours to set.
    s->flags = (flags & ~SHRINKER_REGISTERED) | SHRINKER_ALLOCATED;
    return s;
}

// The kernel's returns nothing and cannot fail (the shrinker's memory was allocated up front);
// a refusal here is reported, and the shrinker is simply never called.
void shrinker_register(struct shrinker *shrinker)
{
    if (do_register(shrinker))
        fprintf(stderr, "shrinker_register(%s): could not register\n", shrinker->name ? shrinker->name : "?");
}

void shrinker_free(struct shrinker *shrinker)
{
    if (!shrinker)
        return;
    do_unregister(shrinker);
    free(shrinker->name);
    free(shrinker);
}

int register_shrinker(struct shrinker *shrinker, const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    shrinker->name = format_name(fmt, ap);
    va_end(ap);
    shrinker->flags &= ~(SHRINKER_REGISTERED | SHRINKER_ALLOCATED);
    ret = do_register(shrinker);
    if (ret) {
        free(shrinker->name);
        shrinker->name = NULL;
    }
    return ret;
}

void unregister_shrinker(struct shrinker *shrinker)
{
    if (!(shrinker->flags & SHRINKER_REGISTERED))
        return;
    do_unregister(shrinker);
    free(shrinker->name);
    shrinker->name = NULL;
}
