// The binary buddy free lists of one node (mm/page_alloc.c: __rmqueue_smallest, expand,
// __free_one_page). Free blocks are doubly linked through their head frame's metadata (the
// list in vmshim_page.h, shared with the slab), so taking and returning a block is O(MAX_ORDER)
// with no allocation. Callers hold the node lock.
#define _GNU_SOURCE
#include "vmshim_buddy.h"

#include <errno.h>
#include <stdlib.h>

vmshim_page *vmshim_meta_create(uint64_t nr) { return calloc(nr ? nr : 1, sizeof(vmshim_page)); }
void vmshim_meta_destroy(vmshim_page *meta) { free(meta); }

static void list_add(vmshim_zone *z, uint32_t idx, unsigned order) {
    vmshim_page *p = &z->meta[idx];
    p->flags = VMSHIM_PG_BUDDY;
    p->order = (uint8_t)order;
    p->owner = VMSHIM_OWNER_NONE;
    vmshim_list_push(z->meta, &z->free_head[order], idx);
    z->nr_free[order]++;
    z->free_pages += 1ULL << order;
}

static void list_del(vmshim_zone *z, uint32_t idx, unsigned order) {
    vmshim_list_unlink(z->meta, &z->free_head[order], idx);
    z->meta[idx].flags = 0;
    z->nr_free[order]--;
    z->free_pages -= 1ULL << order;
}

vmshim_zone *vmshim_zone_create(vmshim_page *meta, uint32_t nr_pages) {
    vmshim_zone *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    z->meta = meta;
    z->nr_pages = nr_pages;
    for (unsigned o = 0; o < VMSHIM_NR_ORDERS; o++) z->free_head[o] = VMSHIM_NIL;
    // Carve the node into naturally aligned blocks, largest first.
    uint32_t idx = 0;
    while (idx < nr_pages) {
        unsigned order = VMSHIM_NR_ORDERS - 1;
        while (order > 0 && ((idx & ((1u << order) - 1)) != 0 || idx + (1u << order) > nr_pages)) order--;
        list_add(z, idx, order);
        idx += 1u << order;
    }
    return z;
}

void vmshim_zone_destroy(vmshim_zone *zone) { free(zone); }

int64_t vmshim_zone_alloc(vmshim_zone *z, unsigned order) {
    if (order >= VMSHIM_NR_ORDERS) return -1;
    unsigned o = order;
    while (o < VMSHIM_NR_ORDERS && z->free_head[o] == VMSHIM_NIL) o++;
    if (o == VMSHIM_NR_ORDERS) return -1;
    uint32_t idx = z->free_head[o];
    list_del(z, idx, o);
    // Split: the upper half of each level goes back on the next lower list.
    while (o > order) {
        o--;
        list_add(z, idx + (1u << o), o);
    }
    vmshim_page *p = &z->meta[idx];
    p->flags = VMSHIM_PG_HEAD;
    p->order = (uint8_t)order;
    p->owner = VMSHIM_OWNER_PAGES;
    p->priv = 0;
    return idx;
}

// __free_one_page: put the aligned block idx of `order` (its head already cleared) on the free
// lists, merged with every free buddy.
static void free_block(vmshim_zone *z, uint32_t idx, unsigned order) {
    while (order < VMSHIM_NR_ORDERS - 1) {
        uint32_t buddy = idx ^ (1u << order);
        if (buddy >= z->nr_pages || buddy + (1u << order) > z->nr_pages) break;
        vmshim_page *b = &z->meta[buddy];
        if (b->flags != VMSHIM_PG_BUDDY || b->order != order) break;
        list_del(z, buddy, order);
        idx &= ~(1u << order);
        order++;
    }
    list_add(z, idx, order);
}

int vmshim_zone_free(vmshim_zone *z, uint32_t idx, unsigned order) {
    if (idx >= z->nr_pages || order >= VMSHIM_NR_ORDERS) return -EINVAL;
    vmshim_page *p = &z->meta[idx];
    if (p->flags != VMSHIM_PG_HEAD || p->order != order) return -EINVAL;
    p->flags = 0;
    p->owner = VMSHIM_OWNER_NONE;
    p->priv = 0;
    free_block(z, idx, order);
    return 0;
}

// Mark frame idx as the head of an allocated block of `order` held by `owner`.
static void hold(vmshim_zone *z, uint32_t idx, unsigned order, vmshim_owner owner) {
    vmshim_page *h = &z->meta[idx];
    h->flags = VMSHIM_PG_HEAD;
    h->order = (uint8_t)order;
    h->owner = owner;
    h->priv = 0;
}

int vmshim_zone_split(vmshim_zone *z, uint32_t idx, unsigned order, uint32_t keep) {
    if (idx >= z->nr_pages || order >= VMSHIM_NR_ORDERS || keep == 0 || keep > 1u << order) return -EINVAL;
    vmshim_page *p = &z->meta[idx];
    if (p->flags != VMSHIM_PG_HEAD || p->order != order) return -EINVAL;
    vmshim_owner owner = p->owner;
    // The kept frames, largest block first: each block starts at the sum of the larger ones, so
    // it is aligned to its own size (split_page makes every frame its own block; whole aligned
    // blocks keep the area's frames few to free and let them merge at once when they are).
    uint32_t off = 0;
    for (unsigned o = order + 1; o-- > 0;) {
        if (!(keep & (1u << o))) continue;
        hold(z, idx + off, o, owner);
        off += 1u << o;
    }
    // The tail, smallest block first, back on the free lists (make_alloc_exact's free_page of
    // each tail frame, which merge there the same way): off is aligned to each block in turn.
    for (unsigned o = 0; off < 1u << order; o++) {
        if (!(off & (1u << o))) continue;
        free_block(z, idx + off, o);
        off += 1u << o;
    }
    return 0;
}

int vmshim_zone_split_strided(vmshim_zone *z, uint32_t idx, unsigned order, uint32_t stride) {
    if (idx >= z->nr_pages || order >= VMSHIM_NR_ORDERS || stride == 0) return -EINVAL;
    vmshim_page *p = &z->meta[idx];
    if (p->flags != VMSHIM_PG_HEAD || p->order != order) return -EINVAL;
    vmshim_owner owner = p->owner;
    for (uint32_t off = 0; off < 1u << order; off++) {
        if (off % stride == 0) {
            hold(z, idx + off, 0, owner);
        } else {
            // Its buddy is held (a kept frame, or one of this block kept or freed next): it
            // merges only with other freed frames of the block, as free_block finds them.
            free_block(z, idx + off, 0);
        }
    }
    return 0;
}

uint32_t vmshim_zone_free_blocks(const vmshim_zone *z, unsigned min_order, uint32_t *idx_out,
                                 uint8_t *order_out, uint32_t max) {
    uint32_t n = 0;
    for (unsigned o = min_order; o < VMSHIM_NR_ORDERS; o++)
        for (uint32_t i = z->free_head[o]; i != VMSHIM_NIL && n < max; i = z->meta[i].next) {
            idx_out[n] = i;
            order_out[n++] = (uint8_t)o;
        }
    return n;
}

void vmshim_zone_counts(const vmshim_zone *z, uint64_t *out) {
    for (unsigned o = 0; o < VMSHIM_NR_ORDERS; o++) out[o] = z->nr_free[o];
}
