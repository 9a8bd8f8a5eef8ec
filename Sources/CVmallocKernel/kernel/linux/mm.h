/* <linux/mm.h>: pages and addresses. struct page is opaque (see <linux/mm_types.h>);
 * page_address() and virt_to_page() convert between a frame's page and its direct-map address,
 * and pfn_to_page()/page_to_pfn() between page and frame number, through calls rather than the
 * kernel's vmemmap arithmetic. nr_free_pages() is MemFree in pages and totalram_pages() MemTotal.
 * THREAD_SIZE and THREAD_ALIGN are x86_64's without KASAN (16 KiB). Like the kernel's, this
 * header brings in <linux/gfp.h>, <linux/slab.h>, <linux/shrinker.h>, <linux/overflow.h>,
 * <linux/percpu.h> and <linux/sched.h>. */
#ifndef _VMALLOC_LINUX_MM_H
#define _VMALLOC_LINUX_MM_H

#include <linux/gfp.h>
#include <linux/mm_types.h>
#include <linux/numa.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/types.h>

_Static_assert(sizeof(struct page) == 16, "struct page is one 16-byte frame-metadata slot");

#define __VMALLOC_ALIGN_MASK(x, mask) (((x) + (mask)) & ~(mask))
#define __VMALLOC_ALIGN(x, a) __VMALLOC_ALIGN_MASK(x, (__typeof__(x))(a) - 1)
#define PAGE_ALIGN(addr) __VMALLOC_ALIGN(addr, PAGE_SIZE)
#define PAGE_ALIGN_DOWN(addr) ((addr) & (__typeof__(addr))PAGE_MASK)
#define PAGE_ALIGNED(addr) (((unsigned long)(addr) & (PAGE_SIZE - 1)) == 0)
#define offset_in_page(p) ((unsigned long)(p) & ~PAGE_MASK)

#define PFN_ALIGN(x) (((unsigned long)(x) + (PAGE_SIZE - 1)) & PAGE_MASK)
#define PFN_UP(x) (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)
#define PFN_PHYS(x) ((phys_addr_t)(x) << PAGE_SHIFT)

#ifndef THREAD_SIZE
#define THREAD_SIZE_ORDER 2
#define THREAD_SIZE (PAGE_SIZE << THREAD_SIZE_ORDER)
#endif
#ifndef THREAD_ALIGN
#define THREAD_ALIGN THREAD_SIZE
#endif

/* The smallest order whose block holds `size` bytes (asm-generic/getorder.h). */
static inline int get_order(unsigned long size)
{
    if (size <= PAGE_SIZE)
        return 0;
    return (int)(sizeof(unsigned long) * 8) - __builtin_clzl((size - 1) >> PAGE_SHIFT);
}

/* The direct-map address of a frame. */
void *page_address(const struct page *page);
#define lowmem_page_address(page) page_address(page)
/* The page of a direct-map address (kmalloc, __get_free_pages memory); NULL outside it. */
struct page *virt_to_page(const void *addr);
#define virt_addr_valid(addr) (virt_to_page(addr) != NULL)
int page_to_nid(const struct page *page);
unsigned long page_to_pfn(const struct page *page);
struct page *pfn_to_page(unsigned long pfn);
#define page_to_virt(page) page_address(page)

/* Frames no one owns, as MemFree (the kernel's is a macro over the vmstat counter). */
unsigned long nr_free_pages(void);
/* Frames of all nodes, as MemTotal. */
unsigned long totalram_pages(void);

bool is_vmalloc_addr(const void *x);
/* No modules area here: the vmalloc region is the only one. */
static inline bool is_vmalloc_or_module_addr(const void *x) { return is_vmalloc_addr(x); }

#endif
