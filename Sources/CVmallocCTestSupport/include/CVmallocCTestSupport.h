// Kernel-style C that the Swift tests call to cross-check the C surface against the Swift API
// in one process: scopes entered on either side, pages and callers as each side sees them.
// Plain C types only, like the surface's ABI (the kernel headers shadow UAPI names).
#ifndef CVMALLOC_CTEST_SUPPORT_H
#define CVMALLOC_CTEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// current->flags, read and written directly as kernel code does.
uint32_t ctest_current_flags(void);
void ctest_set_current_flags(uint32_t flags);
/// The <linux/sched/mm.h> calls, as C code makes them.
uint32_t ctest_memalloc_save(int which); /* 0 nofs, 1 noio, 2 noreclaim, 3 pin */
void ctest_memalloc_restore(int which, uint32_t token);
uint32_t ctest_current_gfp_context(uint32_t gfp);
/// The C headers' constants, in the order ctest_gfp_names lists them.
size_t ctest_gfp_count(void);
const char *ctest_gfp_name(size_t i);
uint32_t ctest_gfp_value(size_t i);
/// The C headers' PF_* values: PF_MEMALLOC, PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC_PIN.
uint32_t ctest_pf_value(int which);
/// vmalloc and vfree called from C (this function is the caller vmallocinfo names).
void *ctest_vmalloc(unsigned long size);
void *ctest_vmalloc_gfp(unsigned long size, uint32_t gfp);
void ctest_vfree(void *p);
/// page_to_pfn(vmalloc_to_page(p)), or -1.
long ctest_vmalloc_pfn(const void *p);
/// A page from alloc_page, written through page_address; its pfn, or -1.
long ctest_alloc_page_pfn(uint8_t fill);
void ctest_free_page_pfn(long pfn);
/// vmap of the pages with these pfns (PAGE_KERNEL); vunmap.
void *ctest_vmap_pfns(const long *pfns, unsigned count, unsigned long flags);
void ctest_vunmap(void *p);
/// nr_free_pages(), totalram_pages(), vmalloc_nr_pages().
unsigned long ctest_nr_free_pages(void);
unsigned long ctest_totalram_pages(void);
unsigned long ctest_vmalloc_nr_pages(void);
/// A per-CPU allocation of `size` bytes, each CPU's copy filled with its CPU number; returns
/// how many copies read back right (nr_cpu_ids when all), -1 when the allocation failed.
int ctest_percpu_roundtrip(size_t size, size_t align);

#endif
