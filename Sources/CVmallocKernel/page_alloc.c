// The page allocator and page/address conversions under their kernel names (mm/page_alloc.c,
// the vmemmap macros of asm/page.h, mm/show_mem.c's counters): one-line wrappers over the ABI.
#define _GNU_SOURCE
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/vmalloc.h>

#include <stdio.h>

#include <vmalloc_abi.h>

// page + 1 must be the next frame's page, as in the kernel's vmemmap: the opaque struct page is
// exactly one frame-metadata slot (CShim's vmshim_page, 16 bytes), and a page is one 4 KiB frame
// (VMSHIM_PAGE_SIZE). vmshim_page.h is not included to check it directly: its fixed-type enums need
// C23 or clang, and this layer also builds with older gcc.
_Static_assert(sizeof(struct page) == 16, "struct page must be one 16-byte vmshim_page");
_Static_assert(PAGE_SIZE == 4096, "PAGE_SIZE must be the frame size");

struct page *alloc_pages(gfp_t gfp, unsigned int order) { return vmc_alloc_pages(gfp, order, NUMA_NO_NODE); }

struct page *alloc_pages_node(int nid, gfp_t gfp, unsigned int order) { return vmc_alloc_pages(gfp, order, nid); }

struct page *__alloc_pages_node(int nid, gfp_t gfp, unsigned int order) { return vmc_alloc_pages(gfp, order, nid); }

unsigned long alloc_pages_bulk_array_node(gfp_t gfp, int nid, unsigned long nr_pages, struct page **page_array)
{
    return vmc_alloc_pages_bulk(gfp, nid, nr_pages, (void **)page_array);
}

unsigned long alloc_pages_bulk_array(gfp_t gfp, unsigned long nr_pages, struct page **page_array)
{
    return vmc_alloc_pages_bulk(gfp, NUMA_NO_NODE, nr_pages, (void **)page_array);
}

// Frames from here are always in the direct map, so __GFP_HIGHMEM (which the kernel refuses
// here because highmem has no permanent address) needs no masking.
unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order)
{
    void *page = vmc_alloc_pages(gfp_mask, order, NUMA_NO_NODE);

    return page ? (unsigned long)vmc_page_address(page) : 0;
}

unsigned long get_zeroed_page(gfp_t gfp_mask) { return __get_free_pages(gfp_mask | __GFP_ZERO, 0); }

void __free_pages(struct page *page, unsigned int order) { vmc_free_pages(page, order); }

// The kernel BUGs on an address outside the direct map; here it is refused with a message and
// nothing changes, as every bad free is: a caller's mistake must not take the program down.
void free_pages(unsigned long addr, unsigned int order)
{
    void *page;

    if (addr == 0)
        return;
    page = vmc_virt_to_page((const void *)addr);
    if (!page) {
        fprintf(stderr, "free_pages(0x%lx): not a direct-map address%s; nothing freed\n", addr,
                vmc_is_vmalloc_addr((const void *)addr) ? " (a vmalloc address: use vfree())" : "");
        return;
    }
    vmc_free_pages(page, order);
}

void *page_address(const struct page *page) { return vmc_page_address(page); }

struct page *virt_to_page(const void *addr) { return vmc_virt_to_page(addr); }

int page_to_nid(const struct page *page) { return vmc_page_to_nid(page); }

unsigned long page_to_pfn(const struct page *page) { return vmc_page_to_pfn(page); }

struct page *pfn_to_page(unsigned long pfn) { return vmc_pfn_to_page(pfn); }

unsigned long nr_free_pages(void) { return vmc_nr_free_pages(); }

unsigned int __vmalloc_nr_node_ids(void) { return (unsigned int)vmc_nr_node_ids(); }

unsigned long totalram_pages(void) { return vmc_totalram_pages(); }

unsigned long vmalloc_nr_pages(void) { return vmc_vmalloc_nr_pages(); }
