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
/// Clear `count` PTEs from off (tables that are missing are skipped).
void vmshim_pt_clear(uint8_t *direct, uint64_t root_pfn, uint64_t off, uint64_t count);
/// The frame mapped at off, or -1.
int64_t vmshim_pt_lookup(uint8_t *direct, uint64_t root_pfn, uint64_t off);
/// The PTE table covering off, or NULL when a level is missing. Tables never move or go away,
/// so an area may keep the pointer and map or clear its pages without the walk (the fast path).
uint64_t *vmshim_pt_leaf(uint8_t *direct, uint64_t root_pfn, uint64_t off);
/// Set `count` entries of one PTE table from index i to consecutive frames from pfn
/// (i + count <= 512).
static inline void vmshim_pte_set(uint64_t *t, uint64_t i, uint64_t pfn, uint64_t count) {
    for (uint64_t k = 0; k < count; k++)
        __atomic_store_n(&t[i + k], ((pfn + k) << VMSHIM_PAGE_SHIFT) | 1ULL, __ATOMIC_RELEASE);
}
/// Clear `count` entries of one PTE table from index i (i + count <= 512).
static inline void vmshim_pte_clear(uint64_t *t, uint64_t i, uint64_t count) {
    for (uint64_t k = 0; k < count; k++) __atomic_store_n(&t[i + k], 0, __ATOMIC_RELEASE);
}

#endif
