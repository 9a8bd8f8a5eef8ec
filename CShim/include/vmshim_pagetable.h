// The software page table over the vmalloc region: 4 levels of 512 entries, as on x86-64
// (vmalloc_to_page, the vmap page walk). In C because the walk and the PTE stores are hot loops
// that need plain atomics on raw table memory.
//
// Table pages live in the direct map (`direct` + pfn * PAGE_SIZE). An entry is pfn << 12 | 1.
// `off` is the byte offset of an address within the vmalloc region.
#ifndef VMSHIM_PAGETABLE_H
#define VMSHIM_PAGETABLE_H

#include <stdint.h>

#include "vmshim_base.h"

/// Which table on the walk to `off` is missing: 3 (PUD), 2 (PMD), 1 (PTE), or 0 when all exist.
int vmshim_pt_missing(uint8_t *direct, uint64_t root_pfn, uint64_t off);
/// Install a zeroed table page `pfn` as the level-`level` table covering off. 1 when installed,
/// 0 when another thread installed one first (the caller frees its page).
int vmshim_pt_install(uint8_t *direct, uint64_t root_pfn, uint64_t off, int level, uint64_t pfn);
/// Set `count` PTEs from off to consecutive frames starting at pfn. Tables must exist.
void vmshim_pt_set_run(uint8_t *direct, uint64_t root_pfn, uint64_t off, uint64_t pfn, uint64_t count);
/// Set `count` PTEs from off to the frames of `pfns`, in order. Tables must exist.
void vmshim_pt_set_list(uint8_t *direct, uint64_t root_pfn, uint64_t off, const int64_t *pfns, uint64_t count);
/// Clear `count` PTEs from off (tables that are missing are skipped).
void vmshim_pt_clear(uint8_t *direct, uint64_t root_pfn, uint64_t off, uint64_t count);
/// The frame mapped at off, or -1.
int64_t vmshim_pt_lookup(uint8_t *direct, uint64_t root_pfn, uint64_t off);
/// The PTE table covering off, or NULL when a level is missing. Tables never move or go away,
/// so an area may keep the pointer and map or clear its pages without the walk (the fast path).
uint64_t *vmshim_pt_leaf(uint8_t *direct, uint64_t root_pfn, uint64_t off);
/// Set `count` entries of one PTE table from t[i] on (all within the table) to consecutive
/// frames from pfn. Each entry is a release store, so a reader that loads it with acquire
/// (`vmshim_pt_lookup`) sees everything written before; on x86-64 a release store is a plain
/// `mov`, so the cost is the loop, which is unrolled by four. One entry, the common vmalloc of
/// one page, is a single store.
static inline void vmshim_pte_set(uint64_t *t, uint64_t i, uint64_t pfn, uint64_t count) {
    uint64_t *e = t + i;
    uint64_t v = (pfn << VMSHIM_PAGE_SHIFT) | 1ULL;
    const uint64_t step = 1ULL << VMSHIM_PAGE_SHIFT;
    if (__builtin_expect(count == 1, 1)) {
        __atomic_store_n(e, v, __ATOMIC_RELEASE);
        return;
    }
    uint64_t k = 0;
    for (; k + 4 <= count; k += 4, v += 4 * step) {
        __atomic_store_n(&e[k], v, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 1], v + step, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 2], v + 2 * step, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 3], v + 3 * step, __ATOMIC_RELEASE);
    }
    for (; k < count; k++, v += step) __atomic_store_n(&e[k], v, __ATOMIC_RELEASE);
}
/// Set `count` entries of one PTE table from t[0] (within the table) to the frames of `pfns`,
/// in order (a `vm_map_ram` page list: no work per run of consecutive frames), with release
/// stores unrolled as in `vmshim_pte_set`.
static inline void vmshim_pte_set_list(uint64_t *t, const int64_t *pfns, uint64_t count) {
    uint64_t k = 0;
    for (; k + 4 <= count; k += 4) {
        __atomic_store_n(&t[k], ((uint64_t)pfns[k] << VMSHIM_PAGE_SHIFT) | 1ULL, __ATOMIC_RELEASE);
        __atomic_store_n(&t[k + 1], ((uint64_t)pfns[k + 1] << VMSHIM_PAGE_SHIFT) | 1ULL, __ATOMIC_RELEASE);
        __atomic_store_n(&t[k + 2], ((uint64_t)pfns[k + 2] << VMSHIM_PAGE_SHIFT) | 1ULL, __ATOMIC_RELEASE);
        __atomic_store_n(&t[k + 3], ((uint64_t)pfns[k + 3] << VMSHIM_PAGE_SHIFT) | 1ULL, __ATOMIC_RELEASE);
    }
    for (; k < count; k++) __atomic_store_n(&t[k], ((uint64_t)pfns[k] << VMSHIM_PAGE_SHIFT) | 1ULL, __ATOMIC_RELEASE);
}
/// Clear `count` entries of one PTE table from t[i] (within the table), with release stores
/// unrolled as in `vmshim_pte_set`.
static inline void vmshim_pte_clear(uint64_t *t, uint64_t i, uint64_t count) {
    uint64_t *e = t + i;
    if (__builtin_expect(count == 1, 1)) {
        __atomic_store_n(e, 0, __ATOMIC_RELEASE);
        return;
    }
    uint64_t k = 0;
    for (; k + 4 <= count; k += 4) {
        __atomic_store_n(&e[k], 0, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 1], 0, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 2], 0, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 3], 0, __ATOMIC_RELEASE);
    }
    for (; k < count; k++) __atomic_store_n(&e[k], 0, __ATOMIC_RELEASE);
}

#endif
