/* <linux/mm_types.h>: struct page, the page-size constants and pgprot_t.
 * struct page is opaque here: each frame has one 16-byte metadata slot in the memory system's
 * frame array (the kernel's vmemmap), so pages compare by pointer and `page + 1` is the next
 * frame's page, but none of the kernel's fields (flags, _refcount, mapping ...) exist.
 * pgprot_t carries the protection vmap() takes: 0 none, 1 read, 3 read/write. */
#ifndef _VMALLOC_LINUX_MM_TYPES_H
#define _VMALLOC_LINUX_MM_TYPES_H

#include <linux/types.h>

#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#endif
#ifndef PAGE_MASK
#define PAGE_MASK (~(PAGE_SIZE - 1))
#endif

struct page {
    unsigned long __opaque[2];
};

typedef struct {
    unsigned long pgprot;
} pgprot_t;
#define pgprot_val(x) ((x).pgprot)
#define __pgprot(x) ((pgprot_t){(x)})

#define PAGE_NONE __pgprot(0)
#define PAGE_KERNEL_RO __pgprot(1)
#define PAGE_KERNEL __pgprot(3)

#endif
