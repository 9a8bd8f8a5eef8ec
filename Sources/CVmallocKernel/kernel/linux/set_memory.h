/* <linux/set_memory.h>: page permissions of vmalloc and vmap areas (x86's set_memory_*).
 * addr must be the start of a page inside one live area and numpages must not run past its
 * end; otherwise -EINVAL and nothing changes. Direct-map (kmalloc, alloc_pages) addresses are
 * refused the same way: the direct map stays read/write. */
#ifndef _VMALLOC_LINUX_SET_MEMORY_H
#define _VMALLOC_LINUX_SET_MEMORY_H

int set_memory_ro(unsigned long addr, int numpages);
int set_memory_rw(unsigned long addr, int numpages);
int set_memory_x(unsigned long addr, int numpages);
int set_memory_nx(unsigned long addr, int numpages);
/* Read-only and executable (6.2+). */
int set_memory_rox(unsigned long addr, int numpages);

#endif
