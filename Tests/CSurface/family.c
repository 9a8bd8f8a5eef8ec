/* family.c — the allocation families of the C surface, each checked for what a kernel caller
 * relies on: vmalloc/vzalloc/vmalloc_node/vzalloc_node/__vmalloc/__vmalloc_node (alignment)/
 * vmalloc_huge/vmalloc_array/vcalloc/vrealloc; vmap of alloc_page'd frames (one frame seen at two
 * addresses), VM_MAP_PUT_PAGES, vm_map_ram; alloc_pages_bulk{,_array}; kmalloc and friends;
 * kvmalloc and friends (both kvrealloc forms); kmem_cache with a ctor and alignment; the RCU frees;
 * per-CPU memory; set_memory_ro/rw; the address queries; struct page identity; the caller shown
 * in /proc/vmallocinfo; and, at the end, nothing lost: free pages back where they started once
 * the page tables and slab pages the run left are counted. */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/set_memory.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

static bool all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != v)
            return false;
    return true;
}

static void pattern(void *p, size_t n, unsigned seed)
{
    unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seed + i * 7);
}

static bool has_pattern(const void *p, size_t n, unsigned seed)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(seed + i * 7))
            return false;
    return true;
}

/* Whether writing to p faults (a read-only or unmapped page). Tried in this process, with a
 * SIGSEGV handler that jumps back: a forked child would not do, as the library's mappings need
 * not survive fork. */
static sigjmp_buf fault_jump;

static void on_fault(int sig)
{
    (void)sig;
    siglongjmp(fault_jump, 1);
}

static bool write_faults(void *p)
{
    struct sigaction sa = {.sa_handler = on_fault}, old;
    volatile bool faulted = false;

    sigaction(SIGSEGV, &sa, &old);
    if (sigsetjmp(fault_jump, 1) == 0)
        *(volatile char *)p = *(volatile char *)p;
    else
        faulted = true;
    sigaction(SIGSEGV, &old, NULL);
    return faulted;
}

static void vmalloc_family(void)
{
    const size_t n = 5 * PAGE_SIZE + 100;
    char *p;
    struct vm_struct *area;

    printf("family: the vmalloc family\n");
    p = vmalloc(n);
    CHECK(p && is_vmalloc_addr(p), "vmalloc(5 pages + 100) gives a vmalloc address");
    pattern(p, n, 1);
    CHECK(has_pattern(p, n, 1), "every byte of it holds what was written");
    area = find_vm_area(p);
    CHECK(area && area->addr == p && area->nr_pages == 6 && area->size == 7 * PAGE_SIZE,
          "find_vm_area: the area starts at p, 6 pages, size with the guard page 7 pages");
    CHECK(find_vm_area(p + 3 * PAGE_SIZE) && find_vm_area(p + 3 * PAGE_SIZE)->addr == p,
          "find_vm_area of an interior address finds the same area");
    p = vrealloc(p, 20 * PAGE_SIZE, GFP_KERNEL);
    CHECK(p && has_pattern(p, n, 1), "vrealloc to 20 pages keeps the content");
    p = vrealloc(p, 2 * PAGE_SIZE, GFP_KERNEL);
    CHECK(p && has_pattern(p, 2 * PAGE_SIZE, 1), "vrealloc down to 2 pages keeps the first 2 pages");
    vfree(p);
    CHECK(!find_vm_area(p), "after vfree no area holds the address");

    p = vzalloc(3 * PAGE_SIZE);
    CHECK(p && all_bytes(p, 3 * PAGE_SIZE, 0), "vzalloc is zeroed");
    vfree(p);
    p = vmalloc_node(3 * PAGE_SIZE, 0);
    CHECK(p && page_to_nid(vmalloc_to_page(p)) == 0, "vmalloc_node(.., 0) takes its pages on node 0");
    vfree(p);
    p = vzalloc_node(3 * PAGE_SIZE, 0);
    CHECK(p && all_bytes(p, 3 * PAGE_SIZE, 0), "vzalloc_node is zeroed");
    vfree(p);
    p = __vmalloc(3 * PAGE_SIZE, GFP_KERNEL | __GFP_ZERO);
    CHECK(p && all_bytes(p, 3 * PAGE_SIZE, 0), "__vmalloc(GFP_KERNEL | __GFP_ZERO) is zeroed");
    vfree(p);
    p = __vmalloc_node(3 * PAGE_SIZE, 1UL << 20, GFP_KERNEL, NUMA_NO_NODE, __builtin_return_address(0));
    CHECK(p && ((uintptr_t)p & ((1UL << 20) - 1)) == 0, "__vmalloc_node with align 1 MiB is 1 MiB aligned");
    vfree(p);
    p = vmalloc_huge(4UL << 20, GFP_KERNEL);
    CHECK(p != NULL, "vmalloc_huge(4 MiB)");
    if (p) {
        memset(p, 0x33, 4UL << 20);
        CHECK(all_bytes(p, 4UL << 20, 0x33), "vmalloc_huge memory is writable throughout");
    }
    vfree(p);
    p = vmalloc_array(1000, 24);
    CHECK(p != NULL, "vmalloc_array(1000, 24)");
    vfree(p);
    CHECK(vmalloc_array(SIZE_MAX / 8, 16) == NULL, "vmalloc_array with n * size overflowing is NULL");
    p = vcalloc(1000, 24);
    CHECK(p && all_bytes(p, 24000, 0), "vcalloc(1000, 24) is zeroed");
    vfree(p);
    CHECK(vcalloc(SIZE_MAX / 8, 16) == NULL, "vcalloc with n * size overflowing is NULL");
}

static void vmap_family(void)
{
    struct page *pages[4] = {0};
    struct page **owned;
    unsigned long before;
    char *v;
    int i;

    printf("family: vmap, VM_MAP_PUT_PAGES, vm_map_ram\n");
    for (i = 0; i < 4; i++)
        pages[i] = alloc_page(GFP_KERNEL);
    CHECK(pages[0] && pages[1] && pages[2] && pages[3], "alloc_page x4");
    v = vmap(pages, 4, VM_MAP, PAGE_KERNEL);
    CHECK(v && is_vmalloc_addr(v), "vmap of 4 pages gives a vmalloc address");
    if (v) {
        for (i = 0; i < 4; i++)
            pattern(v + i * PAGE_SIZE, PAGE_SIZE, 10 + i);
        for (i = 0; i < 4; i++) {
            CHECK(has_pattern(page_address(pages[i]), PAGE_SIZE, 10 + i),
                  "page %d: what was written through the vmap address reads back through page_address", i);
            CHECK(vmalloc_to_page(v + i * PAGE_SIZE) == pages[i],
                  "vmalloc_to_page(vmap address + %d pages) is the struct page handed to vmap", i);
        }
        CHECK(find_vm_area(v) && (find_vm_area(v)->flags & VM_MAP), "the vmap area carries VM_MAP");
        vunmap(v);
        CHECK(!find_vm_area(v), "vunmap removes the area");
        CHECK(has_pattern(page_address(pages[2]), PAGE_SIZE, 12), "the pages stay the caller's after vunmap");
    }
    v = vm_map_ram(pages, 4, NUMA_NO_NODE);
    CHECK(v && is_vmalloc_addr(v), "vm_map_ram of 4 pages");
    if (v) {
        pattern(v, 4 * PAGE_SIZE, 20);
        CHECK(has_pattern(page_address(pages[3]), PAGE_SIZE, (unsigned char)(20 + 3 * PAGE_SIZE * 7)),
              "what was written through vm_map_ram reads back through page_address");
        vm_unmap_ram(v, 4);
    }
    for (i = 0; i < 4; i++)
        __free_page(pages[i]);

    /* VM_MAP_PUT_PAGES: vfree gives the pages and the kvmalloc'd array back, as in the kernel. */
    owned = kvmalloc_array(4, sizeof(*owned), GFP_KERNEL | __GFP_ZERO);
    CHECK(owned != NULL, "a kvmalloc'd page array for VM_MAP_PUT_PAGES");
    if (!owned)
        return;
    vm_unmap_aliases();
    before = nr_free_pages();
    CHECK_EQ(alloc_pages_bulk_array(GFP_KERNEL, 4, owned), 4, "alloc_pages_bulk_array fills the 4 slots");
    v = vmap(owned, 4, VM_MAP | VM_MAP_PUT_PAGES, PAGE_KERNEL);
    CHECK(v != NULL, "vmap with VM_MAP_PUT_PAGES");
    CHECK_EQ(nr_free_pages(), before - 4, "the 4 pages are in use while mapped");
    vfree(v);
    vm_unmap_aliases();
    CHECK_EQ(nr_free_pages(), before, "vfree of a VM_MAP_PUT_PAGES area gives its pages back");
}

static void page_family(void)
{
    struct page *bulk[8] = {0};
    struct page *block, *keep;
    int i, distinct = 1;

    printf("family: pages\n");
    keep = alloc_page(GFP_KERNEL);
    bulk[3] = keep;
    CHECK_EQ(alloc_pages_bulk_array(GFP_KERNEL, 8, bulk), 8, "alloc_pages_bulk_array fills the NULL slots of 8");
    CHECK(bulk[3] == keep, "a slot already filled is left as it was");
    for (i = 0; i < 8; i++)
        if (i != 3)
            __free_page(bulk[i]);
    memset(bulk, 0, sizeof(bulk));
    CHECK_EQ(alloc_pages_bulk(GFP_KERNEL, 8, bulk), 8, "alloc_pages_bulk fills 8 slots");
    for (i = 1; i < 8; i++)
        distinct &= bulk[i] && bulk[i] != bulk[i - 1];
    CHECK(distinct, "with distinct pages");
    for (i = 0; i < 8; i++)
        __free_page(bulk[i]);
    __free_page(keep);

    block = alloc_pages(GFP_KERNEL, 2);
    CHECK(block != NULL, "alloc_pages(order 2)");
    if (!block)
        return;
    CHECK(page_to_pfn(block + 1) == page_to_pfn(block) + 1 && page_to_pfn(block + 3) == page_to_pfn(block) + 3,
          "struct page arithmetic: page_to_pfn(page + k) == page_to_pfn(page) + k");
    CHECK((char *)page_address(block + 1) == (char *)page_address(block) + PAGE_SIZE,
          "page_address(page + 1) is the next frame's direct-map address");
    CHECK(virt_to_page((char *)page_address(block) + 2 * PAGE_SIZE + 5) == block + 2,
          "virt_to_page of a direct-map address inside the block is that frame's page");
    CHECK(pfn_to_page(page_to_pfn(block)) == block, "pfn_to_page(page_to_pfn(page)) == page");
    __free_pages(block, 2);
}

static void slab_family(void)
{
    char *p, *q;
    int *arr;

    printf("family: kmalloc\n");
    p = kmalloc(100, GFP_KERNEL);
    CHECK(p && !is_vmalloc_addr(p) && virt_to_page(p), "kmalloc(100) is direct-map memory");
    CHECK(ksize(p) >= 100, "ksize(kmalloc(100)) >= 100 (%zu)", ksize(p));
    pattern(p, 100, 3);
    q = krealloc(p, 3000, GFP_KERNEL);
    CHECK(q && has_pattern(q, 100, 3), "krealloc to 3000 bytes keeps the content");
    kfree(q);
    p = kzalloc(500, GFP_KERNEL);
    CHECK(p && all_bytes(p, 500, 0), "kzalloc is zeroed");
    kfree(p);
    arr = kcalloc(64, sizeof(int), GFP_KERNEL);
    CHECK(arr && all_bytes(arr, 64 * sizeof(int), 0), "kcalloc is zeroed");
    kfree(arr);
    CHECK(kcalloc(SIZE_MAX / 2, 4, GFP_KERNEL) == NULL, "kcalloc with n * size overflowing is NULL");
    kfree(NULL);
}

static void kvmalloc_family(void)
{
    char *p, *q;

    printf("family: kvmalloc\n");
    p = kvmalloc(64, GFP_KERNEL);
    CHECK(p && !is_vmalloc_addr(p), "kvmalloc(64) comes from kmalloc");
    kvfree(p);
    p = kvmalloc(3UL << 20, GFP_KERNEL);
    CHECK(p != NULL, "kvmalloc(3 MiB)");
    pattern(p, 3UL << 20, 4);
    q = kvrealloc(p, 3UL << 20, 5UL << 20, GFP_KERNEL);
    CHECK(q && has_pattern(q, 3UL << 20, 4), "kvrealloc(p, oldsize, newsize, gfp) (6.1) keeps the content");
    p = kvrealloc(q, 7UL << 20, GFP_KERNEL);
    CHECK(p && has_pattern(p, 3UL << 20, 4), "kvrealloc(p, size, gfp) (6.12) keeps the content");
    kvfree(p);
    p = kvzalloc(2 * PAGE_SIZE, GFP_KERNEL);
    CHECK(p && all_bytes(p, 2 * PAGE_SIZE, 0), "kvzalloc is zeroed");
    kvfree(p);
    p = kvmalloc_array(1000, 100, GFP_KERNEL);
    CHECK(p != NULL, "kvmalloc_array(1000, 100)");
    kvfree(p);
    CHECK(kvmalloc_array(SIZE_MAX / 4, 8, GFP_KERNEL) == NULL, "kvmalloc_array overflowing is NULL");
    p = kvcalloc(1000, 100, GFP_KERNEL);
    CHECK(p && all_bytes(p, 100000, 0), "kvcalloc is zeroed");
    kvfree(p);
    CHECK(kvcalloc(SIZE_MAX / 4, 8, GFP_KERNEL) == NULL, "kvcalloc overflowing is NULL");
    kvfree(NULL);
}

struct cached_obj {
    unsigned magic;
    char payload[200];
};

static void cached_obj_ctor(void *obj) { ((struct cached_obj *)obj)->magic = 0xfeedf00d; }

static void kmem_cache_family(void)
{
    struct kmem_cache *cache;
    struct cached_obj *objs[50];
    bool ctor_ran = true, aligned = true;
    int i;

    printf("family: kmem_cache\n");
    cache = kmem_cache_create("family_cached_obj", sizeof(struct cached_obj), 256, 0, cached_obj_ctor);
    CHECK(cache != NULL, "kmem_cache_create with a ctor and 256-byte alignment");
    if (!cache)
        return;
    for (i = 0; i < 50; i++) {
        objs[i] = kmem_cache_alloc(cache, GFP_KERNEL);
        ctor_ran &= objs[i] && objs[i]->magic == 0xfeedf00d;
        aligned &= objs[i] && ((uintptr_t)objs[i] & 255) == 0;
    }
    CHECK(ctor_ran, "every object from kmem_cache_alloc was constructed by the ctor");
    CHECK(aligned, "every object is 256-byte aligned");
    for (i = 0; i < 50; i++)
        kmem_cache_free(cache, objs[i]);
    kmem_cache_destroy(cache);
}

struct rcu_obj {
    long value;
    struct rcu_head rcu;
    char rest[8 * 4096];
};

static void rcu_family(void)
{
    struct rcu_obj *a = vmalloc(sizeof(*a)), *b = kvmalloc(sizeof(*a), GFP_KERNEL);
    char *c = vmalloc(5 * PAGE_SIZE);

    printf("family: RCU frees\n");
    CHECK(a && b && c, "three objects to free after a grace period");
    rcu_read_lock();
    kvfree_rcu(a, rcu);
    kvfree_rcu_mightsleep(c);
    CHECK(find_vm_area(a) && find_vm_area(a)->addr == (void *)a,
          "inside rcu_read_lock the object given to kvfree_rcu(p, rhf) is still allocated");
    rcu_read_unlock();
    kvfree_rcu(b);
    rcu_barrier();
    CHECK(!find_vm_area(a), "after rcu_barrier kvfree_rcu(p, rhf) freed its object");
    CHECK(!find_vm_area(c), "after rcu_barrier kvfree_rcu_mightsleep(p) freed its object");
}

struct pcpu_stat {
    long hits;
    long misses;
};

static void percpu_family(void)
{
    struct pcpu_stat __percpu *stats = alloc_percpu(struct pcpu_stat);
    char __percpu *big = __alloc_percpu(512, 256);
    bool zeroed = true, independent = true, this_is_one = false;
    int cpu;

    printf("family: per-CPU memory\n");
    CHECK(stats && big, "alloc_percpu(struct) and __alloc_percpu(512, 256)");
    if (!stats || !big)
        return;
    CHECK(((uintptr_t)big & 255) == 0, "__alloc_percpu(512, 256) is 256-byte aligned");
    for_each_possible_cpu(cpu) {
        struct pcpu_stat *s = per_cpu_ptr(stats, cpu);

        zeroed &= s->hits == 0 && s->misses == 0 && all_bytes(per_cpu_ptr(big, cpu), 512, 0);
        s->hits = cpu * 10 + 1;
        memset(per_cpu_ptr(big, cpu), cpu + 1, 512);
    }
    for_each_possible_cpu(cpu) {
        independent &= per_cpu_ptr(stats, cpu)->hits == cpu * 10 + 1 && all_bytes(per_cpu_ptr(big, cpu), 512, cpu + 1);
        this_is_one |= this_cpu_ptr(stats) == per_cpu_ptr(stats, cpu);
    }
    CHECK(zeroed, "every CPU's copy starts zeroed");
    CHECK(independent, "each CPU's copy keeps its own value (%d possible CPUs)", nr_cpu_ids);
    CHECK(this_is_one, "this_cpu_ptr is one of the per_cpu_ptr copies");
    free_percpu(stats);
    free_percpu(big);
}

static void set_memory_family(void)
{
    char *p = vmalloc(4 * PAGE_SIZE);
    long on_stack;

    printf("family: set_memory_ro/rw\n");
    CHECK(p != NULL, "vmalloc(4 pages)");
    if (!p)
        return;
    p[PAGE_SIZE] = 42;
    CHECK_EQ(set_memory_ro((unsigned long)p + PAGE_SIZE, 2), 0, "set_memory_ro of pages 1-2");
    CHECK(p[PAGE_SIZE] == 42, "read-only pages still read");
    CHECK(write_faults(p + PAGE_SIZE), "a write to a read-only page faults");
    CHECK(!write_faults(p), "a write to page 0 (left read-write) does not");
    CHECK_EQ(set_memory_rw((unsigned long)p + PAGE_SIZE, 2), 0, "set_memory_rw of pages 1-2");
    p[PAGE_SIZE] = 43;
    CHECK(p[PAGE_SIZE] == 43, "writable again");
    CHECK(set_memory_ro((unsigned long)&on_stack & PAGE_MASK, 1) == -EINVAL, "set_memory_ro outside an area: -EINVAL");
    CHECK(set_memory_ro((unsigned long)p, 9) == -EINVAL, "set_memory_ro past the area's end: -EINVAL");
    vfree(p);
}

static void address_queries(void)
{
    long on_stack;
    char *k = kmalloc(64, GFP_KERNEL);
    char *v = vmalloc(PAGE_SIZE);

    printf("family: address queries\n");
    CHECK(is_vmalloc_addr(v) && !is_vmalloc_addr(k) && !is_vmalloc_addr(&on_stack),
          "is_vmalloc_addr: vmalloc yes, kmalloc no, stack no");
    CHECK(vmalloc_to_page(v) && vmalloc_to_pfn(v) == page_to_pfn(vmalloc_to_page(v)),
          "vmalloc_to_pfn agrees with vmalloc_to_page");
    CHECK(page_address(vmalloc_to_page(v)) != (void *)v, "a vmalloc page also has its own direct-map address");
    vfree(v);
    kfree(k);
}

/* Callers as /proc/vmallocinfo names them. Both functions are static and not inlined: the name
 * must come from the program's own symbol table, not from exported symbols. */
static noinline void *alloc_for_my_caller(unsigned long size)
{
    return __vmalloc_node(size, 1, GFP_KERNEL, NUMA_NO_NODE, __builtin_return_address(0));
}

/* Each touches what it got after the call, so the compiler cannot make the call a tail jump
 * (which would leave callers() as the return address). */
static noinline char *static_family_caller(void)
{
    char *p = alloc_for_my_caller(3 * PAGE_SIZE);

    if (p)
        p[0] = 1;
    return p;
}

static noinline char *static_plain_vmalloc(void)
{
    char *p = vmalloc(2 * PAGE_SIZE);

    if (p)
        p[0] = 1;
    return p;
}

static void callers(void)
{
    char *a = static_family_caller(), *b = static_plain_vmalloc();
    char line[512];

    printf("family: callers in /proc/vmallocinfo\n");
    CHECK(a && b, "two areas from static functions");
    CHECK(vmallocinfo_line(a, line, sizeof(line)) && strstr(line, " static_family_caller+0x") &&
              strstr(line, "/0x"),
          "__vmalloc_node(..., __builtin_return_address(0)) shows its caller: %s", line);
    CHECK(vmallocinfo_line(b, line, sizeof(line)) && strstr(line, " static_plain_vmalloc+0x") &&
              strstr(line, "/0x"),
          "a plain vmalloc shows the static function that called it: %s", line);
    vfree(a);
    vfree(b);
}

int main(void)
{
    unsigned long start_free, start_kept;

    vm_unmap_aliases();
    start_free = nr_free_pages();
    start_kept = kept_pages();
    printf("family: %lu pages free, %lu kept by page tables and slabs\n", start_free, start_kept);

    vmalloc_family();
    vmap_family();
    page_family();
    slab_family();
    kvmalloc_family();
    kmem_cache_family();
    rcu_family();
    percpu_family();
    set_memory_family();
    address_queries();
    callers();

    rcu_barrier();
    vm_unmap_aliases();
    CHECK_NOTHING_LOST(start_free, start_kept);
    return check_done("family");
}
