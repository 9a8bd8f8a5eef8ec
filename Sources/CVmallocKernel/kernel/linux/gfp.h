/* <linux/gfp.h>: the page allocator's entry points over the memory system's buddy allocator.
 * As in 6.12 except: the *_noprof and memory-policy variants do not exist; alloc_pages_bulk()
 * takes the 6.14+ three-argument form (gfp, nr, page_array) and alloc_pages_bulk_array() the
 * 6.1/6.12 one, both filling only the NULL slots of the array and returning how many slots are
 * filled; there are no folios and no page lists. */
#ifndef _VMALLOC_LINUX_GFP_H
#define _VMALLOC_LINUX_GFP_H

#include <linux/gfp_types.h>
#include <linux/mm_types.h>
#include <linux/numa.h>
#include <linux/types.h>

#define GFP_MOVABLE_MASK (__GFP_RECLAIMABLE | __GFP_MOVABLE)
#define GFP_MOVABLE_SHIFT 3

/* Whether an allocation with this mask may sleep (only __GFP_DIRECT_RECLAIM allows it). */
static inline bool gfpflags_allow_blocking(const gfp_t gfp_flags)
{
    return !!(gfp_flags & __GFP_DIRECT_RECLAIM);
}

/* The mask for an allocation nested inside one made with `flags` (6.12 gfp_nested_mask). */
static inline gfp_t gfp_nested_mask(gfp_t flags)
{
    return (flags & (GFP_KERNEL | GFP_ATOMIC | __GFP_NOLOCKDEP)) | (__GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN);
}

/* 2^order physically contiguous frames, or NULL. `nid` NUMA_NO_NODE: the caller's node. */
struct page *alloc_pages(gfp_t gfp, unsigned int order);
struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order);
struct page *__alloc_pages_node(int nid, gfp_t gfp, unsigned int order);
#define alloc_page(gfp_mask) alloc_pages(gfp_mask, 0)

/* Fill the NULL slots of page_array[0 .. nr_pages) with single frames; returns how many of the
 * slots are filled afterwards (fewer than nr_pages when memory ran short). */
unsigned long alloc_pages_bulk_array_node(gfp_t gfp, int nid, unsigned long nr_pages, struct page **page_array);
unsigned long alloc_pages_bulk_array(gfp_t gfp, unsigned long nr_pages, struct page **page_array);
#define alloc_pages_bulk(gfp, nr_pages, page_array) alloc_pages_bulk_array(gfp, nr_pages, page_array)
#define alloc_pages_bulk_node(gfp, nid, nr_pages, page_array) \
    alloc_pages_bulk_array_node(gfp, nid, nr_pages, page_array)

/* The direct-map address of 2^order new frames, or 0. */
unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order);
unsigned long get_zeroed_page(gfp_t gfp_mask);
#define __get_free_page(gfp_mask) __get_free_pages((gfp_mask), 0)

void __free_pages(struct page *page, unsigned int order);
/* Free by direct-map address (as __get_free_pages returned it); 0 is a no-op. */
void free_pages(unsigned long addr, unsigned int order);
#define __free_page(page) __free_pages((page), 0)
#define free_page(addr) free_pages((addr), 0)

#endif
