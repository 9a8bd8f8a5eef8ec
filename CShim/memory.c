// memset and memmove for Swift callers on raw memory, and the run check (vmshim_memory.h).
#include "vmshim_memory.h"

#include <string.h>

void vmshim_zero(void *p, size_t len) { memset(p, 0, len); }
void vmshim_copy(void *dst, const void *src, size_t len) { memmove(dst, src, len); }

// The same loop twice, built for the baseline and for AVX2 (four words a vector), chosen per call
// from the CPU's features: a load and a bit test. Not `target_clones`: its ifunc resolver runs
// while the loader relocates, before ThreadSanitizer's runtime is up, and a TSan build
// instruments it and crashes.
static inline __attribute__((always_inline)) bool words_are_run(const void *words, size_t n, int64_t first) {
    const int64_t *w = words;
    uint64_t diff = 0;
    for (size_t k = 0; k < n; k++) diff |= (uint64_t)w[k] ^ ((uint64_t)first + k);
    return diff == 0;
}

__attribute__((target("avx2"))) static bool words_are_run_avx2(const void *words, size_t n, int64_t first) {
    return words_are_run(words, n, first);
}

bool vmshim_words_are_run(const void *words, size_t n, int64_t first) {
    return __builtin_cpu_supports("avx2") ? words_are_run_avx2(words, n, first) : words_are_run(words, n, first);
}
