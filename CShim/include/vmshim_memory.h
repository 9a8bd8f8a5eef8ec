// memset, memmove and memcmp over raw memory for Swift callers (__GFP_ZERO, krealloc, vrealloc,
// vm_map_ram's reuse check): one libc call on untyped bytes, with no memory binding to state and
// no Foundation to import.
#ifndef VMSHIM_MEMORY_H
#define VMSHIM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// memset(p, 0, len).
void vmshim_zero(void *p, size_t len);
/// memmove(dst, src, len): the ranges may overlap.
void vmshim_copy(void *dst, const void *src, size_t len);
/// Whether the `len` bytes at a and at b are equal (memcmp: vectorised by libc).
bool vmshim_equal(const void *a, const void *b, size_t len);

#endif
