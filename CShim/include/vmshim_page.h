// Per-frame metadata (the kernel's struct page) and the one free-list implementation over it.
// In the shim because the buddy lists in C and the slab lists in Swift link blocks through the
// same 16-byte record, and its packed fields must be read and written one way: only through the
// static inline accessors here, never by raw masks at the call sites.
#ifndef VMSHIM_PAGE_H
#define VMSHIM_PAGE_H

#include <stdint.h>

#include "vmshim_base.h"

/// A frame's `flags`: it heads a free block (on a buddy list) or an allocated one.
enum { VMSHIM_PG_BUDDY = 1, VMSHIM_PG_HEAD = 2 };

/// Who holds an allocated block (a frame's `owner`).
typedef enum : uint8_t {
    VMSHIM_OWNER_NONE = 0,
    VMSHIM_OWNER_PAGES = 1,     /* alloc_pages caller */
    VMSHIM_OWNER_VMALLOC = 2,   /* frames of a vmalloc area */
    VMSHIM_OWNER_PAGETABLE = 3, /* software page-table pages */
    VMSHIM_OWNER_SLAB = 4,      /* kmalloc slabs */
    VMSHIM_OWNER_LARGE_KMALLOC = 5,
} vmshim_owner;

/// Per-frame metadata: 16 bytes per 4 KiB frame (struct page). next/prev link free blocks;
/// once allocated they and `priv` belong to the owner (slab, vmalloc, page table).
typedef struct vmshim_page {
    uint32_t next;
    uint32_t prev;
    uint32_t priv;
    uint8_t order; /* order of the block this frame heads */
    uint8_t flags; /* VMSHIM_PG_* */
    vmshim_owner owner; /* who holds an allocated block */
    uint8_t spare;
} vmshim_page;

/// calloc'ed metadata for nr frames (NULL on failure); vmshim_meta_destroy frees it.
vmshim_page *vmshim_meta_create(uint64_t nr);
void vmshim_meta_destroy(vmshim_page *meta);

/* ---- the one free-list implementation: blocks doubly linked through their head frame's
 * next/prev (the buddy lists in buddy.c, the slab partial and empty lists in Swift) ---- */

/// Put block `idx` at the front of the list whose first index is *head (VMSHIM_NIL: empty).
static inline void vmshim_list_push(vmshim_page *meta, uint32_t *head, uint32_t idx) {
    meta[idx].prev = VMSHIM_NIL;
    meta[idx].next = *head;
    if (*head != VMSHIM_NIL) meta[*head].prev = idx;
    *head = idx;
}

/// Take block `idx` off the list whose first index is *head; its links are cleared.
static inline void vmshim_list_unlink(vmshim_page *meta, uint32_t *head, uint32_t idx) {
    uint32_t next = meta[idx].next, prev = meta[idx].prev;
    if (prev != VMSHIM_NIL) meta[prev].next = next;
    else *head = next;
    if (next != VMSHIM_NIL) meta[next].prev = prev;
    meta[idx].next = meta[idx].prev = VMSHIM_NIL;
}

/* ---- packed metadata fields: read and written only through these accessors ---- */

/// Whether the frame heads an allocated block (its order and owner are valid).
static inline int vmshim_page_is_head(const vmshim_page *p) { return p->flags == VMSHIM_PG_HEAD; }

/// A slab's free-list head when it has no free object.
#define VMSHIM_SLAB_NO_OBJECT 0xffffu
/// A slab head's `priv`: the index of its first free object (low 16 bits) ...
static inline uint32_t vmshim_slab_free_index(const vmshim_page *p) { return p->priv & 0xffffu; }
/// ... and its objects in use (high 16 bits).
static inline uint32_t vmshim_slab_inuse(const vmshim_page *p) { return p->priv >> 16; }
static inline void vmshim_slab_set_objects(vmshim_page *p, uint32_t free_index, uint32_t inuse) {
    p->priv = inuse << 16 | (free_index & 0xffffu);
}
/// A slab head's `spare`: its kmalloc cache index (high 4 bits) and CPU shard (low 4 bits).
static inline unsigned vmshim_slab_cache(const vmshim_page *p) { return p->spare >> 4; }
static inline unsigned vmshim_slab_shard(const vmshim_page *p) { return p->spare & 15u; }
static inline void vmshim_slab_set_cache_shard(vmshim_page *p, unsigned cache, unsigned shard) {
    p->spare = (uint8_t)(cache << 4 | (shard & 15u));
}
/// A tail frame of a slab or large kmalloc block: `priv` is its head's pfn.
static inline uint32_t vmshim_tail_head(const vmshim_page *p) { return p->priv; }
static inline void vmshim_tail_set_head(vmshim_page *p, uint32_t head) { p->priv = head; }

#endif
