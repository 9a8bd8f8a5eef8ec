// The binary buddy free lists of one node (mm/page_alloc.c's mechanism: __rmqueue_smallest,
// expand, __free_one_page). In C because taking and returning a block is the page allocator's
// hot loop; the policy around it (watermarks, GFP, reclaim) is Swift. Callers hold the node lock.
#ifndef VMSHIM_BUDDY_H
#define VMSHIM_BUDDY_H

#include <stdint.h>

#include "vmshim_page.h"

/// One node's buddy free lists over `nr_pages` frames whose metadata starts at `meta`.
typedef struct vmshim_zone {
    vmshim_page *meta;
    uint32_t nr_pages;
    uint32_t free_head[VMSHIM_NR_ORDERS];
    uint64_t nr_free[VMSHIM_NR_ORDERS];
    uint64_t free_pages;
} vmshim_zone;

/// A zone whose frames are all free, in blocks of the highest order that fits. NULL on failure.
vmshim_zone *vmshim_zone_create(vmshim_page *meta, uint32_t nr_pages);
void vmshim_zone_destroy(vmshim_zone *zone);
/// Take a block of 2^order frames; returns its first frame's index in the zone, or -1.
int64_t vmshim_zone_alloc(vmshim_zone *zone, unsigned order);
/// Return a block taken by vmshim_zone_alloc, merging with free buddies. 0, or -EINVAL when
/// idx does not head an allocated block of that order (double free, wrong order): nothing changes.
int vmshim_zone_free(vmshim_zone *zone, uint32_t idx, unsigned order);
/// `split_page` and the tail free of `alloc_pages_exact` (mm/page_alloc.c: make_alloc_exact): of the
/// allocated block idx of `order`, keep the first `keep` frames (1 ... 2^order) as allocated
/// aligned blocks, largest first, each headed with the block's owner, and return the rest to the
/// free lists as aligned blocks, merging with free buddies (the accounting of vmshim_zone_free).
/// 0, or -EINVAL when idx does not head an allocated block of that order or keep is out of range.
int vmshim_zone_split(vmshim_zone *zone, uint32_t idx, unsigned order, uint32_t keep);
/// `split_page` keeping every `stride`-th frame: of the allocated block idx of `order`, the frames
/// at offsets 0, stride, 2 × stride … stay held, each its own order-0 block headed with the
/// block's owner, and the others go back to the free lists (the accounting of vmshim_zone_free).
/// vmalloc's batch of one-page areas maps the whole block with one mmap and needs only the frames
/// that are not under a guard. 0, or -EINVAL when idx does not head an allocated block of that
/// order or stride is 0.
int vmshim_zone_split_strided(vmshim_zone *zone, uint32_t idx, unsigned order, uint32_t stride);
/// Up to `max` free blocks of order ≥ min_order: their first frame's index and order.
/// Returns how many were written.
uint32_t vmshim_zone_free_blocks(const vmshim_zone *zone, unsigned min_order, uint32_t *idx_out,
                                 uint8_t *order_out, uint32_t max);
/// Free blocks of each order, for /proc/buddyinfo (out has VMSHIM_NR_ORDERS slots).
void vmshim_zone_counts(const vmshim_zone *zone, uint64_t *out);
static inline uint64_t vmshim_zone_free_pages(const vmshim_zone *zone) { return zone->free_pages; }

#endif
