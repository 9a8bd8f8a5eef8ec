// The software page table over the vmalloc region: 4 levels of 512 8-byte entries, each table a
// frame of the page allocator reached through the direct map, as on x86-64. Readers walk it
// without locks (vmalloc_to_page must be cheap); table pages are installed with a CAS and, as in
// the kernel's vmalloc space, never freed, so a walker can never reach a recycled table.
#define _GNU_SOURCE
#include "vmshim_pagetable.h"

#include <cpuid.h>
#include <stddef.h>

int vmshim_pte_avx2;

/* AVX2 in CPUID leaf 7, and the YMM state enabled by the OS (OSXSAVE, then XCR0's SSE and AVX
   bits): without the latter the instructions fault even where the CPU has them. */
__attribute__((constructor)) static void detect_avx2(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX)) return;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    vmshim_pte_avx2 = (b & bit_AVX2) != 0;
#endif
}

#define PT_PRESENT 1ULL
#define PT_BITS 9
#define PT_MASK 511ULL

static inline uint64_t *table_of(uint8_t *direct, uint64_t entry) {
    return (uint64_t *)(direct + (entry & ~0xfffULL));
}

static inline unsigned index_at(uint64_t off, int level) {
    /* level 4 = root (PGD), 1 = PTE table */
    return (unsigned)((off >> (VMSHIM_PAGE_SHIFT + PT_BITS * (level - 1))) & PT_MASK);
}

static inline uint64_t load(uint64_t *e) { return __atomic_load_n(e, __ATOMIC_ACQUIRE); }

/* The PTE table covering off, or NULL when a level is missing. */
static uint64_t *pte_table(uint8_t *direct, uint64_t root_pfn, uint64_t off) {
    uint64_t *t = (uint64_t *)(direct + (root_pfn << VMSHIM_PAGE_SHIFT));
    for (int level = 4; level > 1; level--) {
        uint64_t e = load(&t[index_at(off, level)]);
        if (!(e & PT_PRESENT)) return NULL;
        t = table_of(direct, e);
    }
    return t;
}

int vmshim_pt_missing(uint8_t *direct, uint64_t root_pfn, uint64_t off) {
    uint64_t *t = (uint64_t *)(direct + (root_pfn << VMSHIM_PAGE_SHIFT));
    for (int level = 4; level > 1; level--) {
        uint64_t e = load(&t[index_at(off, level)]);
        if (!(e & PT_PRESENT)) return level - 1;
        t = table_of(direct, e);
    }
    return 0;
}

int vmshim_pt_install(uint8_t *direct, uint64_t root_pfn, uint64_t off, int level, uint64_t pfn) {
    uint64_t *t = (uint64_t *)(direct + (root_pfn << VMSHIM_PAGE_SHIFT));
    for (int l = 4; l > level + 1; l--) {
        uint64_t e = load(&t[index_at(off, l)]);
        if (!(e & PT_PRESENT)) return 0;
        t = table_of(direct, e);
    }
    uint64_t expected = 0, entry = (pfn << VMSHIM_PAGE_SHIFT) | PT_PRESENT;
    return __atomic_compare_exchange_n(&t[index_at(off, level + 1)], &expected, entry, 0,
                                       __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

void vmshim_pt_set_run(uint8_t *direct, uint64_t root_pfn, uint64_t off, uint64_t pfn, uint64_t count) {
    while (count) {
        uint64_t *t = pte_table(direct, root_pfn, off);
        unsigned i = index_at(off, 1);
        uint64_t n = 512 - i < count ? 512 - i : count;
        if (t) vmshim_pte_set(t, i, pfn, n);
        off += n << VMSHIM_PAGE_SHIFT;
        pfn += n;
        count -= n;
    }
}

void vmshim_pt_set_list(uint8_t *direct, uint64_t root_pfn, uint64_t off, const int64_t *pfns, uint64_t count) {
    while (count) {
        uint64_t *t = pte_table(direct, root_pfn, off);
        unsigned i = index_at(off, 1);
        uint64_t n = 512 - i < count ? 512 - i : count;
        if (t) vmshim_pte_set_list(t + i, pfns, n);
        off += n << VMSHIM_PAGE_SHIFT;
        pfns += n;
        count -= n;
    }
}

void vmshim_pt_clear(uint8_t *direct, uint64_t root_pfn, uint64_t off, uint64_t count) {
    while (count) {
        uint64_t *t = pte_table(direct, root_pfn, off);
        unsigned i = index_at(off, 1);
        uint64_t n = 512 - i < count ? 512 - i : count;
        if (t) vmshim_pte_clear(t, i, n);
        off += n << VMSHIM_PAGE_SHIFT;
        count -= n;
    }
}

uint64_t *vmshim_pt_leaf(uint8_t *direct, uint64_t root_pfn, uint64_t off) {
    return pte_table(direct, root_pfn, off);
}

int64_t vmshim_pt_lookup(uint8_t *direct, uint64_t root_pfn, uint64_t off) {
    uint64_t *t = pte_table(direct, root_pfn, off);
    if (!t) return -1;
    uint64_t e = load(&t[index_at(off, 1)]);
    return (e & PT_PRESENT) ? (int64_t)(e >> VMSHIM_PAGE_SHIFT) : -1;
}
