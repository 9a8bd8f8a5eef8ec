// The vmalloc family under its kernel names (mm/vmalloc.c): one-line wrappers over the ABI.
// Each entry point passes the flags the kernel's does (whether vmalloc_fix_flags applies, huge
// mappings, the default mask) and its caller's return address, which /proc/vmallocinfo prints.
#define _GNU_SOURCE
#include <linux/mm.h>
#include <linux/vmalloc.h>

#include <vmalloc_abi.h>

// The address the caller of the kernel-named function will return to: its own call site.
#define CALLER __builtin_return_address(0)

void *vmalloc(unsigned long size) { return vmc_vmalloc_node(size, 1, GFP_KERNEL, NUMA_NO_NODE, 0, 0, CALLER); }

void *vzalloc(unsigned long size)
{
    return vmc_vmalloc_node(size, 1, GFP_KERNEL | __GFP_ZERO, NUMA_NO_NODE, 0, 0, CALLER);
}

// The kernel's also marks the area VM_USERMAP for remap_vmalloc_range, which does not exist here.
void *vmalloc_user(unsigned long size)
{
    return vmc_vmalloc_node(size, 1, GFP_KERNEL | __GFP_ZERO, NUMA_NO_NODE, 0, 0, CALLER);
}

void *vmalloc_node(unsigned long size, int node) { return vmc_vmalloc_node(size, 1, GFP_KERNEL, node, 0, 0, CALLER); }

void *vzalloc_node(unsigned long size, int node)
{
    return vmc_vmalloc_node(size, 1, GFP_KERNEL | __GFP_ZERO, node, 0, 0, CALLER);
}

// GFP_VMALLOC32: the DMA32 zone bit is accepted and ignored (one zone per node).
void *vmalloc_32(unsigned long size)
{
    return vmc_vmalloc_node(size, 1, GFP_DMA32 | GFP_KERNEL, NUMA_NO_NODE, 0, 0, CALLER);
}

void *vmalloc_32_user(unsigned long size)
{
    return vmc_vmalloc_node(size, 1, GFP_DMA32 | GFP_KERNEL | __GFP_ZERO, NUMA_NO_NODE, 0, 0, CALLER);
}

// __vmalloc, vmalloc_huge and the array forms take any mask from their callers, so the kernel
// masks them to GFP_VMALLOC_SUPPORTED (vmalloc_fix_flags); the other entry points fix the mask.
void *__vmalloc(unsigned long size, gfp_t gfp_mask)
{
    return vmc_vmalloc_node(size, 1, gfp_mask, NUMA_NO_NODE, 1, 0, CALLER);
}

void *__vmalloc_node(unsigned long size, unsigned long align, gfp_t gfp_mask, int node, const void *caller)
{
    return vmc_vmalloc_node(size, align, gfp_mask, node, 0, 0, caller);
}

void *vmalloc_huge(unsigned long size, gfp_t gfp_mask)
{
    return vmc_vmalloc_node(size, 1, gfp_mask, NUMA_NO_NODE, 1, 1, CALLER);
}

void *__vmalloc_array(size_t n, size_t size, gfp_t flags)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_vmalloc_node(bytes, 1, flags, NUMA_NO_NODE, 1, 0, CALLER);
}

void *vmalloc_array(size_t n, size_t size)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_vmalloc_node(bytes, 1, GFP_KERNEL, NUMA_NO_NODE, 1, 0, CALLER);
}

void *__vcalloc(size_t n, size_t size, gfp_t flags)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_vmalloc_node(bytes, 1, flags | __GFP_ZERO, NUMA_NO_NODE, 1, 0, CALLER);
}

void *vcalloc(size_t n, size_t size)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmc_vmalloc_node(bytes, 1, GFP_KERNEL | __GFP_ZERO, NUMA_NO_NODE, 1, 0, CALLER);
}

void *vrealloc(const void *p, size_t size, gfp_t flags) { return vmc_vrealloc((void *)p, size, flags, CALLER); }

void vfree(const void *addr) { vmc_vfree(addr); }

void vfree_atomic(const void *addr) { vmc_vfree_atomic(addr); }

// struct page * values cross the ABI unchanged: they are frame-metadata addresses on both sides.
void *vmap(struct page **pages, unsigned int count, unsigned long flags, pgprot_t prot)
{
    return vmc_vmap((void *const *)pages, count, flags, (int)pgprot_val(prot), CALLER);
}

void vunmap(const void *addr) { vmc_vunmap(addr); }

void *vm_map_ram(struct page **pages, unsigned int count, int node)
{
    return vmc_vm_map_ram((void *const *)pages, count, node, CALLER);
}

void vm_unmap_ram(const void *mem, unsigned int count) { vmc_vm_unmap_ram(mem, count); }

void vm_unmap_aliases(void) { vmc_vm_unmap_aliases(); }

struct page *vmalloc_to_page(const void *addr) { return vmc_vmalloc_to_page(addr); }

// 0 for an address that maps no frame (the kernel would compute from a NULL page).
unsigned long vmalloc_to_pfn(const void *addr)
{
    void *page = vmc_vmalloc_to_page(addr);

    return page ? vmc_page_to_pfn(page) : 0;
}

bool is_vmalloc_addr(const void *x) { return vmc_is_vmalloc_addr(x) != 0; }

// The kernel hands out its own vm_struct; the memory system keeps areas in its own form, so the
// answer is a copy in a per-thread struct, overwritten by the thread's next call. `pages` is
// NULL: the frames are reachable through vmalloc_to_page() on each page of the area.
struct vm_struct *find_vm_area(const void *addr)
{
    static _Thread_local struct vm_struct area;
    vmc_area_info info;

    if (!vmc_find_vm_area(addr, &info))
        return NULL;
    area = (struct vm_struct){
        .addr = info.addr,
        .size = info.size,
        .flags = info.flags,
        .nr_pages = info.nr_pages,
        .requested_size = info.requested_size,
        .caller = info.caller,
    };
    return &area;
}

void set_vm_flush_reset_perms(void *addr) { vmc_set_vm_flush_reset_perms(addr); }
