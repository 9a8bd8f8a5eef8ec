// memset and memmove over raw memory for Swift callers (__GFP_ZERO, krealloc, vrealloc): one
// libc call on untyped bytes, with no memory binding to state and no Foundation to import. And
// one hot loop that wants wider vectors than the build's baseline (vm_map_ram's reuse check).
#ifndef VMSHIM_MEMORY_H
#define VMSHIM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// memset(p, 0, len).
void vmshim_zero(void *p, size_t len);
/// memmove(dst, src, len): the ranges may overlap.
void vmshim_copy(void *dst, const void *src, size_t len);
/// Whether the k-th 64-bit word at `words` is first + k for every k < n: whether a stretch of a
/// page list (pfns) is one run of consecutive frames. No branch per word, so it vectorises; an
/// AVX2 build of the loop runs where the CPU has AVX2.
bool vmshim_words_are_run(const void *words, size_t n, int64_t first);

#endif
