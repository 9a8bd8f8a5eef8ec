/* <linux/vmalloc.h>: the vmalloc family over the memory system's vmalloc region.
 * Signatures and VM_* values are 6.12's, without the *_noprof layer. Differences:
 * find_vm_area() returns a copy of the area's description in a per-thread struct vm_struct
 * (valid until that thread's next find_vm_area; `pages` and `next` are NULL, `phys_addr` 0);
 * vmap() takes PAGE_KERNEL, PAGE_KERNEL_RO or PAGE_NONE; get_vm_area(), remap_vmalloc_range()
 * and vread_iter() do not exist. */
#ifndef _VMALLOC_LINUX_VMALLOC_H
#define _VMALLOC_LINUX_VMALLOC_H

#include <linux/gfp.h>
#include <linux/mm_types.h>
#include <linux/numa.h>
#include <linux/overflow.h>
#include <linux/types.h>

#define VM_IOREMAP 0x00000001
#define VM_ALLOC 0x00000002
#define VM_MAP 0x00000004
#define VM_USERMAP 0x00000008
#define VM_DMA_COHERENT 0x00000010
#define VM_UNINITIALIZED 0x00000020
#define VM_NO_GUARD 0x00000040
#define VM_KASAN 0x00000080
#define VM_FLUSH_RESET_PERMS 0x00000100
#define VM_MAP_PUT_PAGES 0x00000200
#define VM_ALLOW_HUGE_VMAP 0x00000400
#define VM_DEFER_KMEMLEAK 0
#define VM_SPARSE 0x00001000

#define IOREMAP_MAX_ORDER (7 + PAGE_SHIFT)

struct vm_struct {
    struct vm_struct *next;
    void *addr;
    unsigned long size; /* with the guard page, unless VM_NO_GUARD */
    unsigned long flags;
    struct page **pages;
    unsigned int nr_pages;
    phys_addr_t phys_addr;
    const void *caller;
    unsigned long requested_size;
};

/* The bytes of an area without its guard page. */
static inline size_t get_vm_area_size(const struct vm_struct *area)
{
    if (!(area->flags & VM_NO_GUARD))
        return area->size - PAGE_SIZE;
    return area->size;
}

void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void *vmalloc_user(unsigned long size);
void *vmalloc_node(unsigned long size, int node);
void *vzalloc_node(unsigned long size, int node);
void *vmalloc_32(unsigned long size);
void *vmalloc_32_user(unsigned long size);
void *__vmalloc(unsigned long size, gfp_t gfp_mask);
void *__vmalloc_node(unsigned long size, unsigned long align, gfp_t gfp_mask, int node, const void *caller);
void *vmalloc_huge(unsigned long size, gfp_t gfp_mask);
void *__vmalloc_array(size_t n, size_t size, gfp_t flags);
void *vmalloc_array(size_t n, size_t size);
void *__vcalloc(size_t n, size_t size, gfp_t flags);
void *vcalloc(size_t n, size_t size);
void *vrealloc(const void *p, size_t size, gfp_t flags) __must_check;

void vfree(const void *addr);
void vfree_atomic(const void *addr);

void *vmap(struct page **pages, unsigned int count, unsigned long flags, pgprot_t prot);
void vunmap(const void *addr);
void *vm_map_ram(struct page **pages, unsigned int count, int node);
void vm_unmap_ram(const void *mem, unsigned int count);
void vm_unmap_aliases(void);

struct vm_struct *find_vm_area(const void *addr);
struct page *vmalloc_to_page(const void *addr);
unsigned long vmalloc_to_pfn(const void *addr);
bool is_vmalloc_addr(const void *x);
#define is_ioremap_addr(x) is_vmalloc_addr(x)

/* Mark the area holding addr VM_FLUSH_RESET_PERMS: vfree makes it read/write and unmaps it at
 * once instead of leaving a lazily purged alias. */
void set_vm_flush_reset_perms(void *addr);

/* Frames mapped in vmalloc areas (VmallocUsed in pages). */
unsigned long vmalloc_nr_pages(void);

#endif
