/* <linux/sched/mm.h>: the allocation scopes. As in 6.12, each is a bit of current->flags that
 * current_gfp_context() applies to every allocation the thread makes, C or Swift alike (the
 * flags word is the memory system's per-thread scope word). save() sets the bit and returns
 * only the bits it newly set; restore() clears exactly those, so scopes nest. The memory
 * cgroup and mm_struct reference calls of the kernel's header do not exist. */
#ifndef _VMALLOC_LINUX_SCHED_MM_H
#define _VMALLOC_LINUX_SCHED_MM_H

#include <linux/gfp.h>
#include <linux/sched.h>
#include <linux/types.h>

/* The mask an allocation with `flags` really uses in the current scope: NOIO drops __GFP_IO
 * and __GFP_FS, NOFS drops __GFP_FS, PIN drops __GFP_MOVABLE. */
static inline gfp_t current_gfp_context(gfp_t flags)
{
    unsigned int pflags = READ_ONCE(current->flags);

    if (unlikely(pflags & (PF_MEMALLOC_NOIO | PF_MEMALLOC_NOFS | PF_MEMALLOC_PIN))) {
        if (pflags & PF_MEMALLOC_NOIO)
            flags &= ~(__GFP_IO | __GFP_FS);
        else if (pflags & PF_MEMALLOC_NOFS)
            flags &= ~__GFP_FS;
        if (pflags & PF_MEMALLOC_PIN)
            flags &= ~__GFP_MOVABLE;
    }
    return flags;
}

/* Set the PF_* bits `flags`; returns those that were not set before. */
static inline unsigned int memalloc_flags_save(unsigned int flags)
{
    unsigned int oldflags = ~current->flags & flags;

    current->flags |= flags;
    return oldflags;
}

/* Clear the bits a memalloc_flags_save() returned. */
static inline void memalloc_flags_restore(unsigned int flags)
{
    current->flags &= ~flags;
}

/* Allocations act as GFP_NOIO until the matching restore. */
static inline unsigned int memalloc_noio_save(void) { return memalloc_flags_save(PF_MEMALLOC_NOIO); }
static inline void memalloc_noio_restore(unsigned int flags) { memalloc_flags_restore(flags); }

/* Allocations act as GFP_NOFS until the matching restore. */
static inline unsigned int memalloc_nofs_save(void) { return memalloc_flags_save(PF_MEMALLOC_NOFS); }
static inline void memalloc_nofs_restore(unsigned int flags) { memalloc_flags_restore(flags); }

/* PF_MEMALLOC: no direct reclaim, access to the reserves below the min watermark. */
static inline unsigned int memalloc_noreclaim_save(void) { return memalloc_flags_save(PF_MEMALLOC); }
static inline void memalloc_noreclaim_restore(unsigned int flags) { memalloc_flags_restore(flags); }

/* Allocations lose __GFP_MOVABLE until the matching restore. */
static inline unsigned int memalloc_pin_save(void) { return memalloc_flags_save(PF_MEMALLOC_PIN); }
static inline void memalloc_pin_restore(unsigned int flags) { memalloc_flags_restore(flags); }

/* No lockdep here: the Swift side's fs_reclaim checker watches real allocations instead. */
static inline void fs_reclaim_acquire(gfp_t gfp_mask) { (void)gfp_mask; }
static inline void fs_reclaim_release(gfp_t gfp_mask) { (void)gfp_mask; }

#endif
