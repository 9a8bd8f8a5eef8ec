// The boundary between the kernel-spelled C layer (this target's .c files, compiled against the
// kernel-named headers in kernel/) and its implementation in Swift (target VmallocC, where each
// function below is an `@c @implementation`, so the compiler checks both sides agree).
//
// Plain C types only. The kernel headers are not visible to Swift: they shadow the system's UAPI
// headers of the same names, which Swift's own Glibc module includes. So every kernel type
// crosses as what it is underneath: `gfp_t` as uint32_t, `struct page *` as `void *` (an address
// in the frame metadata array, one per frame), a per-CPU pointer as the address of its unit 0.
// `caller` is the return address the kernel's wrappers pass down (__builtin_return_address(0));
// /proc/vmallocinfo prints it as symbol+0xoff/0xsize.
#ifndef VMALLOC_ABI_H
#define VMALLOC_ABI_H

#include <stddef.h>
#include <stdint.h>

/* ---- the vmalloc family (mm/vmalloc.c) ---- */

/// __vmalloc_node_range: `fix_flags` applies vmalloc_fix_flags first (as __vmalloc,
/// vmalloc_huge, vmalloc_array and vcalloc do); `huge` allows huge mappings (vmalloc_huge).
void *vmc_vmalloc_node(size_t size, size_t align, uint32_t gfp, int node, int fix_flags, int huge,
                       const void *caller);
/// vrealloc: content kept; size 0 frees.
void *vmc_vrealloc(void *p, size_t size, uint32_t gfp, const void *caller);
void vmc_vfree(const void *p);
void vmc_vfree_atomic(const void *p);
/// vmap of `count` frames (`pages`: struct page * values) with VM_* `flags` and `prot`
/// (0 PAGE_NONE, 1 PAGE_KERNEL_RO, 3 PAGE_KERNEL).
void *vmc_vmap(void *const *pages, unsigned int count, unsigned long flags, int prot, const void *caller);
void vmc_vunmap(const void *p);
void *vmc_vm_map_ram(void *const *pages, unsigned int count, int node, const void *caller);
void vmc_vm_unmap_ram(const void *p, unsigned int count);
/// The frame mapped at a vmalloc address (struct page *), or NULL.
void *vmc_vmalloc_to_page(const void *p);
int vmc_is_vmalloc_addr(const void *p);
void vmc_vm_unmap_aliases(void);

/// What find_vm_area tells about the live area containing an address.
typedef struct vmc_area_info {
    void *addr;             /* start of the area */
    unsigned long size;     /* with its guard page */
    unsigned long requested_size; /* what the caller asked for */
    unsigned long flags;    /* VM_* */
    unsigned int nr_pages;
    const void *caller;     /* the return address recorded at allocation, or NULL */
} vmc_area_info;
/// 1 and *out filled when p lies in a live area, else 0.
int vmc_find_vm_area(const void *p, vmc_area_info *out);

/// set_memory_ro/rw/x/nx: `which` 0 ro, 1 rw, 2 x, 3 nx. 0 or -EINVAL.
int vmc_set_memory(unsigned long addr, int numpages, int which);
void vmc_set_vm_flush_reset_perms(void *addr);

/* ---- pages (mm/page_alloc.c) ---- */

/// 2^order frames (struct page * of the first), or NULL. node: NUMA_NO_NODE (-1) or a node.
void *vmc_alloc_pages(uint32_t gfp, unsigned int order, int node);
void vmc_free_pages(void *page, unsigned int order);
/// Fill the NULL slots of pages[0..<nr] with single frames; returns how many slots are filled.
unsigned long vmc_alloc_pages_bulk(uint32_t gfp, int node, unsigned long nr, void **pages);
void *vmc_page_address(const void *page);
/// The struct page * of a direct-map address (virt_to_page), or NULL outside the direct map.
void *vmc_virt_to_page(const void *addr);
int vmc_page_to_nid(const void *page);
unsigned long vmc_page_to_pfn(const void *page);
void *vmc_pfn_to_page(unsigned long pfn);
/// Frames no one owns (MemFree in pages).
unsigned long vmc_nr_free_pages(void);
/// Frames the page allocator manages (MemTotal in pages: totalram_pages).
unsigned long vmc_totalram_pages(void);
/// Pages in live vmalloc areas (VmallocUsed in pages: vmalloc_nr_pages).
unsigned long vmc_vmalloc_nr_pages(void);
/// Number of nodes of the system.
int vmc_nr_node_ids(void);

/* ---- slab and kvmalloc (mm/slub.c, mm/util.c) ---- */

void *vmc_kmalloc(size_t size, uint32_t gfp, int node);
void vmc_kfree(const void *p);
size_t vmc_ksize(const void *p);
void *vmc_krealloc(const void *p, size_t size, uint32_t gfp);
void *vmc_kvmalloc(size_t size, uint32_t gfp, int node, const void *caller);
void *vmc_kvrealloc(const void *p, size_t size, uint32_t gfp, const void *caller);
void vmc_kvfree(const void *p);

/* ---- RCU frees (kernel/rcu/tree.c) ---- */

/// kvfree p after a grace period. `head` is the object's embedded rcu_head or NULL
/// (kvfree_rcu_mightsleep and 6.1's one-argument kvfree_rcu).
void vmc_kvfree_rcu(void *head, void *p);
void vmc_synchronize_rcu(void);
void vmc_rcu_barrier(void);
void vmc_rcu_read_lock(void);
void vmc_rcu_read_unlock(void);

/* ---- shrinkers (mm/shrinker.c) ---- */

/// The part of struct shrink_control reclaim fills in.
typedef struct vmc_shrink_control {
    uint32_t gfp_mask;
    int nid;
    unsigned long nr_to_scan;
    unsigned long nr_scanned;
} vmc_shrink_control;
/// count_objects / scan_objects of the C shrinker `shrinker`.
typedef unsigned long (*vmc_shrink_fn)(void *shrinker, vmc_shrink_control *sc);
/// shrinker_register: reclaim calls count(shrinker, sc) and scan(shrinker, sc) from now on.
/// Returns the handle for vmc_shrinker_unregister.
void *vmc_shrinker_register(void *shrinker, const char *name, int seeks, vmc_shrink_fn count,
                            vmc_shrink_fn scan);
/// shrinker_free: returns once no reclaim is inside the callbacks (unless called from one).
void vmc_shrinker_unregister(void *handle);

/* ---- per-CPU memory (mm/percpu.c) ---- */

/// __alloc_percpu: `size` zeroed bytes aligned to `align` in every possible CPU's unit.
/// Returns the address of unit 0's copy; NULL + warning for size 0, size above the unit
/// size, or align not a power of two <= PAGE_SIZE.
void *vmc_alloc_percpu(size_t size, size_t align);
void vmc_free_percpu(void *p);
/// Bytes from unit 0's copy to `cpu`'s copy (per_cpu_ptr adds it).
unsigned long vmc_per_cpu_offset(int cpu);
/// Possible CPUs (units per chunk).
int vmc_nr_cpu_ids(void);

/* ---- /proc views ---- */

/// Copies /proc/`name` of the system ("vmallocinfo", "meminfo", "buddyinfo", "slabinfo") into
/// buf (NUL-terminated, truncated to len) and returns the full length, or -1 for an unknown name.
long vmc_proc_read(const char *name, char *buf, size_t len);

#endif
