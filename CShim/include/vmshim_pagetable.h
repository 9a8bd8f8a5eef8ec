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
// Runs of PTEs are stored sixteen bytes (two entries) at a time on x86-64: there every store is
// a release store (TSO), and an aligned 16-byte store writes each of its 8-byte halves whole (an
// x86-64 assumption, not a C11 guarantee: in C11 terms the plain stores race with the readers'
// acquire loads), so a reader's acquire load of an entry sees all or nothing of it and everything
// stored before it; the release fence keeps the compiler from moving earlier stores past the
// run. ThreadSanitizer does not see vector stores: a C file of the shim built with it (the page
// table's walks that cross PTE tables) takes the release-store loops instead. Swift's importer
// reads `__has_feature(thread_sanitizer)` as 0 even in a TSan build, so code inlined into Swift
// keeps the vector stores there, as TSan never saw those either.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VMSHIM_PTE_TSAN 1
#endif
#endif
#if defined(__SSE2__) && defined(__x86_64__) && !defined(VMSHIM_PTE_TSAN)
#include <immintrin.h>
#define VMSHIM_PTE_SSE2 1
#else
#define VMSHIM_PTE_SSE2 0
#endif

/// Whether the CPU has AVX2 and the OS saves its registers, found once when the shim loads: runs
/// of sixteen entries or more then go four entries per 32-byte store (each 8-byte entry of an
/// aligned vector store is written whole, as above), half the stores and adds of two-entry ones.
extern int vmshim_pte_avx2 VMSHIM_SWIFT_HIDDEN;
#if VMSHIM_PTE_SSE2
/// `vmshim_pte_set_many` with AVX2, for runs of sixteen entries or more.
static inline __attribute__((noinline, target("avx2"))) void vmshim_pte_set_avx2(uint64_t *e, uint64_t v,
                                                                                 uint64_t count) {
    const uint64_t step = 1ULL << VMSHIM_PAGE_SHIFT;
    uint64_t k = 0;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (; ((uintptr_t)(e + k) & 31) != 0; k++, v += step) __atomic_store_n(&e[k], v, __ATOMIC_RELEASE);
    // Four independent lanes of four entries: sixteen entries per round.
    __m256i x0 = _mm256_set_epi64x((long long)(v + 3 * step), (long long)(v + 2 * step), (long long)(v + step),
                                   (long long)v);
    const __m256i four = _mm256_set1_epi64x((long long)(4 * step));
    __m256i x1 = _mm256_add_epi64(x0, four);
    __m256i x2 = _mm256_add_epi64(x1, four);
    __m256i x3 = _mm256_add_epi64(x2, four);
    const __m256i sixteen = _mm256_set1_epi64x((long long)(16 * step));
    for (; k + 16 <= count; k += 16) {
        _mm256_store_si256((__m256i *)(e + k), x0);
        _mm256_store_si256((__m256i *)(e + k + 4), x1);
        _mm256_store_si256((__m256i *)(e + k + 8), x2);
        _mm256_store_si256((__m256i *)(e + k + 12), x3);
        x0 = _mm256_add_epi64(x0, sixteen);
        x1 = _mm256_add_epi64(x1, sixteen);
        x2 = _mm256_add_epi64(x2, sixteen);
        x3 = _mm256_add_epi64(x3, sixteen);
    }
    for (; k + 4 <= count; k += 4) {
        _mm256_store_si256((__m256i *)(e + k), x0);
        x0 = _mm256_add_epi64(x0, four);
    }
    for (v = (uint64_t)_mm256_extract_epi64(x0, 0); k < count; k++, v += step) {
        __atomic_store_n(&e[k], v, __ATOMIC_RELEASE);
    }
}
/// `vmshim_pte_clear_many` with AVX2, for runs of sixteen entries or more.
static inline __attribute__((noinline, target("avx2"))) void vmshim_pte_clear_avx2(uint64_t *e, uint64_t count) {
    uint64_t k = 0;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (; ((uintptr_t)(e + k) & 31) != 0; k++) __atomic_store_n(&e[k], 0, __ATOMIC_RELEASE);
    const __m256i z = _mm256_setzero_si256();
    for (; k + 32 <= count; k += 32) {
        _mm256_store_si256((__m256i *)(e + k), z);
        _mm256_store_si256((__m256i *)(e + k + 4), z);
        _mm256_store_si256((__m256i *)(e + k + 8), z);
        _mm256_store_si256((__m256i *)(e + k + 12), z);
        _mm256_store_si256((__m256i *)(e + k + 16), z);
        _mm256_store_si256((__m256i *)(e + k + 20), z);
        _mm256_store_si256((__m256i *)(e + k + 24), z);
        _mm256_store_si256((__m256i *)(e + k + 28), z);
    }
    for (; k + 4 <= count; k += 4) _mm256_store_si256((__m256i *)(e + k), z);
    for (; k < count; k++) __atomic_store_n(&e[k], 0, __ATOMIC_RELEASE);
}
#endif

/// Set `count` entries of one PTE table from t[i] on (all within the table) to consecutive
/// frames from pfn. Each entry is a release store, so a reader that loads it with acquire
/// (`vmshim_pt_lookup`) sees everything written before. One entry, the common vmalloc of one
/// page, is a single store; runs of sixteen or more go four entries per store with AVX2, runs
/// of eight or more two entries per store (see above), or one per store unrolled by four;
/// shorter ones one per store.
static inline void vmshim_pte_set_many(uint64_t *e, uint64_t v, uint64_t count);
static inline __attribute__((always_inline)) void vmshim_pte_set(uint64_t *t, uint64_t i, uint64_t pfn,
                                                                 uint64_t count) {
    uint64_t *e = t + i;
    uint64_t v = (pfn << VMSHIM_PAGE_SHIFT) | 1ULL;
    if (__builtin_expect(count == 1, 1)) {
        __atomic_store_n(e, v, __ATOMIC_RELEASE);
        return;
    }
    vmshim_pte_set_many(e, v, count);
}
/// `vmshim_pte_set` of a run other than one entry, from e on, the first entry `v`: out of line,
/// so that where the one-entry store inlines (vmalloc's reuse) no loop comes with it.
static inline __attribute__((noinline)) void vmshim_pte_set_many(uint64_t *e, uint64_t v, uint64_t count) {
    const uint64_t step = 1ULL << VMSHIM_PAGE_SHIFT;
    uint64_t k = 0;
#if VMSHIM_PTE_SSE2
    // A short run (a few pages, none when empty) takes the one-entry stores at the end: cheaper
    // than setting the lanes up.
    if (count >= 16 && vmshim_pte_avx2) {
        vmshim_pte_set_avx2(e, v, count);
        return;
    }
    if (count >= 8) {
        __atomic_thread_fence(__ATOMIC_RELEASE);
        if ((uintptr_t)e & 8) {
            __atomic_store_n(e, v, __ATOMIC_RELEASE);
            k = 1;
            v += step;
        }
        // Four independent lanes of two entries: eight entries per round.
        __m128i x0 = _mm_set_epi64x((long long)(v + step), (long long)v);
        const __m128i two = _mm_set1_epi64x((long long)(2 * step));
        __m128i x1 = _mm_add_epi64(x0, two);
        __m128i x2 = _mm_add_epi64(x1, two);
        __m128i x3 = _mm_add_epi64(x2, two);
        const __m128i eight = _mm_set1_epi64x((long long)(8 * step));
        for (; k + 8 <= count; k += 8) {
            _mm_store_si128((__m128i *)(e + k), x0);
            _mm_store_si128((__m128i *)(e + k + 2), x1);
            _mm_store_si128((__m128i *)(e + k + 4), x2);
            _mm_store_si128((__m128i *)(e + k + 6), x3);
            x0 = _mm_add_epi64(x0, eight);
            x1 = _mm_add_epi64(x1, eight);
            x2 = _mm_add_epi64(x2, eight);
            x3 = _mm_add_epi64(x3, eight);
        }
        for (; k + 2 <= count; k += 2) {
            _mm_store_si128((__m128i *)(e + k), x0);
            x0 = _mm_add_epi64(x0, two);
        }
        v = (uint64_t)_mm_cvtsi128_si64(x0);
    }
#else
    for (; k + 4 <= count; k += 4, v += 4 * step) {
        __atomic_store_n(&e[k], v, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 1], v + step, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 2], v + 2 * step, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 3], v + 3 * step, __ATOMIC_RELEASE);
    }
#endif
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
/// as in `vmshim_pte_set`.
static inline void vmshim_pte_clear_many(uint64_t *e, uint64_t count);
static inline __attribute__((always_inline)) void vmshim_pte_clear(uint64_t *t, uint64_t i, uint64_t count) {
    uint64_t *e = t + i;
    if (__builtin_expect(count == 1, 1)) {
        __atomic_store_n(e, 0, __ATOMIC_RELEASE);
        return;
    }
    vmshim_pte_clear_many(e, count);
}
/// `vmshim_pte_clear` of a run other than one entry, from e on: out of line, as
/// `vmshim_pte_set_many`.
static inline __attribute__((noinline)) void vmshim_pte_clear_many(uint64_t *e, uint64_t count) {
    uint64_t k = 0;
#if VMSHIM_PTE_SSE2
    // A short run (a few pages, none when empty) takes the one-entry stores at the end, as in
    // `vmshim_pte_set_many`.
    if (count >= 16 && vmshim_pte_avx2) {
        vmshim_pte_clear_avx2(e, count);
        return;
    }
    if (count >= 8) {
        __atomic_thread_fence(__ATOMIC_RELEASE);
        if ((uintptr_t)e & 8) {
            __atomic_store_n(e, 0, __ATOMIC_RELEASE);
            k = 1;
        }
        const __m128i z = _mm_setzero_si128();
        for (; k + 16 <= count; k += 16) {
            _mm_store_si128((__m128i *)(e + k), z);
            _mm_store_si128((__m128i *)(e + k + 2), z);
            _mm_store_si128((__m128i *)(e + k + 4), z);
            _mm_store_si128((__m128i *)(e + k + 6), z);
            _mm_store_si128((__m128i *)(e + k + 8), z);
            _mm_store_si128((__m128i *)(e + k + 10), z);
            _mm_store_si128((__m128i *)(e + k + 12), z);
            _mm_store_si128((__m128i *)(e + k + 14), z);
        }
        for (; k + 2 <= count; k += 2) _mm_store_si128((__m128i *)(e + k), z);
    }
#else
    for (; k + 4 <= count; k += 4) {
        __atomic_store_n(&e[k], 0, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 1], 0, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 2], 0, __ATOMIC_RELEASE);
        __atomic_store_n(&e[k + 3], 0, __ATOMIC_RELEASE);
    }
#endif
    for (; k < count; k++) __atomic_store_n(&e[k], 0, __ATOMIC_RELEASE);
}

#endif
