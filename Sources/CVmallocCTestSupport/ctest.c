// Kernel-style C for the Swift cross-check tests (see the header).
#include "CVmallocCTestSupport.h"

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

uint32_t ctest_current_flags(void) { return current->flags; }
void ctest_set_current_flags(uint32_t flags) { current->flags = flags; }

uint32_t ctest_memalloc_save(int which) {
    switch (which) {
    case 0: return memalloc_nofs_save();
    case 1: return memalloc_noio_save();
    case 2: return memalloc_noreclaim_save();
    default: return memalloc_pin_save();
    }
}

void ctest_memalloc_restore(int which, uint32_t token) {
    switch (which) {
    case 0: memalloc_nofs_restore(token); break;
    case 1: memalloc_noio_restore(token); break;
    case 2: memalloc_noreclaim_restore(token); break;
    default: memalloc_pin_restore(token); break;
    }
}

uint32_t ctest_current_gfp_context(uint32_t gfp) { return current_gfp_context(gfp); }

#define GFP_ENTRY(name) { #name, name }
static const struct {
    const char *name;
    gfp_t value;
} gfp_table[] = {
    GFP_ENTRY(GFP_KERNEL), GFP_ENTRY(GFP_NOFS), GFP_ENTRY(GFP_NOIO), GFP_ENTRY(GFP_NOWAIT),
    GFP_ENTRY(GFP_ATOMIC), GFP_ENTRY(GFP_USER), GFP_ENTRY(GFP_KERNEL_ACCOUNT),
    GFP_ENTRY(__GFP_DMA), GFP_ENTRY(__GFP_HIGHMEM), GFP_ENTRY(__GFP_DMA32), GFP_ENTRY(__GFP_MOVABLE),
    GFP_ENTRY(__GFP_RECLAIMABLE), GFP_ENTRY(__GFP_HIGH), GFP_ENTRY(__GFP_IO), GFP_ENTRY(__GFP_FS),
    GFP_ENTRY(__GFP_ZERO), GFP_ENTRY(__GFP_DIRECT_RECLAIM), GFP_ENTRY(__GFP_KSWAPD_RECLAIM),
    GFP_ENTRY(__GFP_RECLAIM), GFP_ENTRY(__GFP_NOWARN), GFP_ENTRY(__GFP_RETRY_MAYFAIL), GFP_ENTRY(__GFP_NOFAIL),
    GFP_ENTRY(__GFP_NORETRY), GFP_ENTRY(__GFP_MEMALLOC), GFP_ENTRY(__GFP_NOMEMALLOC), GFP_ENTRY(__GFP_HARDWALL),
    GFP_ENTRY(__GFP_THISNODE), GFP_ENTRY(__GFP_ACCOUNT), GFP_ENTRY(__GFP_NOLOCKDEP),
};

size_t ctest_gfp_count(void) { return sizeof gfp_table / sizeof gfp_table[0]; }
const char *ctest_gfp_name(size_t i) { return gfp_table[i].name; }
uint32_t ctest_gfp_value(size_t i) { return gfp_table[i].value; }

uint32_t ctest_pf_value(int which) {
    static const uint32_t values[] = {PF_MEMALLOC, PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC_PIN};
    return values[which];
}

// The test names this function as vmalloc's caller: an optimised build would make the call a
// tail call, and the return address then the Swift test's (the kernel, built with frame
// pointers, keeps sibling calls out for the same reason).
__attribute__((disable_tail_calls)) void *ctest_vmalloc(unsigned long size) { return vmalloc(size); }
void *ctest_vmalloc_gfp(unsigned long size, uint32_t gfp) { return __vmalloc(size, gfp); }
void ctest_vfree(void *p) { vfree(p); }

long ctest_vmalloc_pfn(const void *p) {
    struct page *page = vmalloc_to_page(p);
    return page ? (long)page_to_pfn(page) : -1;
}

long ctest_alloc_page_pfn(uint8_t fill) {
    struct page *page = alloc_page(GFP_KERNEL);
    if (!page) return -1;
    memset(page_address(page), fill, PAGE_SIZE);
    return (long)page_to_pfn(page);
}

void ctest_free_page_pfn(long pfn) { __free_page(pfn_to_page(pfn)); }

void *ctest_vmap_pfns(const long *pfns, unsigned count, unsigned long flags) {
    struct page *pages[64];
    if (count > 64) return NULL;
    for (unsigned i = 0; i < count; i++) pages[i] = pfn_to_page(pfns[i]);
    return vmap(pages, count, flags, PAGE_KERNEL);
}

void ctest_vunmap(void *p) { vunmap(p); }

unsigned long ctest_nr_free_pages(void) { return nr_free_pages(); }
unsigned long ctest_totalram_pages(void) { return totalram_pages(); }
unsigned long ctest_vmalloc_nr_pages(void) { return vmalloc_nr_pages(); }

int ctest_percpu_roundtrip(size_t size, size_t align) {
    unsigned char __percpu *p = __alloc_percpu(size, align);
    int cpu, good = 0;
    if (!p) return -1;
    for_each_possible_cpu(cpu) memset(per_cpu_ptr(p, cpu), cpu + 1, size);
    for_each_possible_cpu(cpu) {
        unsigned char *copy = per_cpu_ptr(p, cpu);
        size_t i = 0;
        while (i < size && copy[i] == (unsigned char)(cpu + 1)) i++;
        if (i == size && ((uintptr_t)copy & (align - 1)) == 0) good++;
    }
    free_percpu(p);
    return good;
}
