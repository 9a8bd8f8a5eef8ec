/* <linux/gfp_types.h>: the allocation-mask bits. Values are the 6.12 kernel's on x86_64 with
 * CONFIG_LOCKDEP and CONFIG_SLAB_OBJ_EXT on (CONFIG_KASAN_HW_TAGS is arm64's, so its two bits are
 * 0 and take no bit number), as the Swift GFP type has them, so masks print as in kernel logs.
 * Zone and mobility bits, __GFP_WRITE, __GFP_COMP and the KASAN tag bits are accepted and
 * ignored (one zone per node, no tags). */
#ifndef _VMALLOC_LINUX_GFP_TYPES_H
#define _VMALLOC_LINUX_GFP_TYPES_H

#include <linux/types.h>

#define ___GFP_DMA 0x01u
#define ___GFP_HIGHMEM 0x02u
#define ___GFP_DMA32 0x04u
#define ___GFP_MOVABLE 0x08u
#define ___GFP_RECLAIMABLE 0x10u
#define ___GFP_HIGH 0x20u
#define ___GFP_IO 0x40u
#define ___GFP_FS 0x80u
#define ___GFP_ZERO 0x100u
/* 0x200u is unused in 6.12 */
#define ___GFP_DIRECT_RECLAIM 0x400u
#define ___GFP_KSWAPD_RECLAIM 0x800u
#define ___GFP_WRITE 0x1000u
#define ___GFP_NOWARN 0x2000u
#define ___GFP_RETRY_MAYFAIL 0x4000u
#define ___GFP_NOFAIL 0x8000u
#define ___GFP_NORETRY 0x10000u
#define ___GFP_MEMALLOC 0x20000u
#define ___GFP_COMP 0x40000u
#define ___GFP_NOMEMALLOC 0x80000u
#define ___GFP_HARDWALL 0x100000u
#define ___GFP_THISNODE 0x200000u
#define ___GFP_ACCOUNT 0x400000u
#define ___GFP_ZEROTAGS 0x800000u
#define ___GFP_SKIP_ZERO 0u
#define ___GFP_SKIP_KASAN 0u
#define ___GFP_NOLOCKDEP 0x1000000u
#define ___GFP_NO_OBJ_EXT 0x2000000u
#define ___GFP_LAST_BIT 26

/* Zone modifiers (one zone per node here: accepted, no effect). */
#define __GFP_DMA ((gfp_t)___GFP_DMA)
#define __GFP_HIGHMEM ((gfp_t)___GFP_HIGHMEM)
#define __GFP_DMA32 ((gfp_t)___GFP_DMA32)
#define __GFP_MOVABLE ((gfp_t)___GFP_MOVABLE)
#define GFP_ZONEMASK (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE)

/* Placement hints. */
#define __GFP_RECLAIMABLE ((gfp_t)___GFP_RECLAIMABLE)
#define __GFP_WRITE ((gfp_t)___GFP_WRITE)
#define __GFP_HARDWALL ((gfp_t)___GFP_HARDWALL)
#define __GFP_THISNODE ((gfp_t)___GFP_THISNODE)
#define __GFP_ACCOUNT ((gfp_t)___GFP_ACCOUNT)
#define __GFP_NO_OBJ_EXT ((gfp_t)___GFP_NO_OBJ_EXT)

/* Access to reserves. */
#define __GFP_HIGH ((gfp_t)___GFP_HIGH)
#define __GFP_MEMALLOC ((gfp_t)___GFP_MEMALLOC)
#define __GFP_NOMEMALLOC ((gfp_t)___GFP_NOMEMALLOC)

/* Reclaim: what an allocation may do to find memory. */
#define __GFP_IO ((gfp_t)___GFP_IO)
#define __GFP_FS ((gfp_t)___GFP_FS)
#define __GFP_DIRECT_RECLAIM ((gfp_t)___GFP_DIRECT_RECLAIM)
#define __GFP_KSWAPD_RECLAIM ((gfp_t)___GFP_KSWAPD_RECLAIM)
#define __GFP_RECLAIM ((gfp_t)(___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM))
#define __GFP_RETRY_MAYFAIL ((gfp_t)___GFP_RETRY_MAYFAIL)
#define __GFP_NOFAIL ((gfp_t)___GFP_NOFAIL)
#define __GFP_NORETRY ((gfp_t)___GFP_NORETRY)

/* Action modifiers. */
#define __GFP_NOWARN ((gfp_t)___GFP_NOWARN)
#define __GFP_COMP ((gfp_t)___GFP_COMP)
#define __GFP_ZERO ((gfp_t)___GFP_ZERO)
#define __GFP_ZEROTAGS ((gfp_t)___GFP_ZEROTAGS)
#define __GFP_SKIP_ZERO ((gfp_t)___GFP_SKIP_ZERO)
#define __GFP_SKIP_KASAN ((gfp_t)___GFP_SKIP_KASAN)
#define __GFP_NOLOCKDEP ((gfp_t)___GFP_NOLOCKDEP)

#define __GFP_BITS_SHIFT ___GFP_LAST_BIT
#define __GFP_BITS_MASK ((gfp_t)((1u << __GFP_BITS_SHIFT) - 1))

/* The usual combinations. */
#define GFP_ATOMIC (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT (__GFP_KSWAPD_RECLAIM | __GFP_NOWARN)
#define GFP_NOIO (__GFP_RECLAIM)
#define GFP_NOFS (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_DMA __GFP_DMA
#define GFP_DMA32 __GFP_DMA32
#define GFP_HIGHUSER (GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN)
#define GFP_TRANSHUGE_LIGHT ((GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM)
#define GFP_TRANSHUGE (GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM)

#endif
