// memset and memmove over raw memory for Swift callers (__GFP_ZERO, krealloc, vrealloc): one
// libc call on untyped bytes, with no memory binding to state and no Foundation to import.
#ifndef VMSHIM_MEMORY_H
#define VMSHIM_MEMORY_H

#include <stddef.h>

/// memset(p, 0, len).
void vmshim_zero(void *p, size_t len);
/// memmove(dst, src, len): the ranges may overlap.
void vmshim_copy(void *dst, const void *src, size_t len);

#endif
