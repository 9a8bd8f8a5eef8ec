// memset, memmove and memcmp for Swift callers on raw memory (vmshim_memory.h).
#include "vmshim_memory.h"

#include <string.h>

void vmshim_zero(void *p, size_t len) { memset(p, 0, len); }
void vmshim_copy(void *dst, const void *src, size_t len) { memmove(dst, src, len); }

bool vmshim_equal(const void *a, const void *b, size_t len) { return memcmp(a, b, len) == 0; }
