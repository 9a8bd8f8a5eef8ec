/* badinput.c — bad input from C: frees of what was never allocated (a wild pointer, an interior
 * pointer, a double free, the wrong family, a stack address), bogus pages, illegal per-CPU
 * requests, vmalloc(0), a bad alignment, a node out of range. The kernel would crash or corrupt
 * itself on most of these; here each must leave the program running, change no free-page count,
 * and print the kernel's warning or one naming the right call. Each case captures the library's
 * warnings (check.h) and checks the expected text in them. */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <stdint.h>
#include <string.h>

#include "check.h"

static unsigned long free_before;
static const char *case_name;

static void begin(const char *name)
{
    case_name = name;
    fprintf(stderr, "badinput case %s:\n", name);
    capture_begin();
    free_before = nr_free_pages();
}

/* End the case: the captured text must contain `expected`; the free page count must not move. */
static void expect(const char *expected)
{
    unsigned long free_after = nr_free_pages();
    const char *captured = capture_end();

    CHECK(strstr(captured, expected) != NULL, "%s: warns \"%s\"", case_name, expected);
    CHECK_EQ(free_after, free_before, "  and no free page count changed");
}

int main(void)
{
    long on_stack[4];
    void *wild = (void *)(uintptr_t)0x5a5a5a5a000UL;
    char *v, *v2, *k, *k2, *mapped;
    struct page *page;
    void *pcpu;
    unsigned long start_free;

    vm_unmap_aliases();
    start_free = nr_free_pages();
    printf("badinput: %lu pages free\n", start_free);
    v = vmalloc(4 * PAGE_SIZE);
    v2 = vmalloc(4 * PAGE_SIZE);
    k = kmalloc(128, GFP_KERNEL);
    k2 = kmalloc(128, GFP_KERNEL);
    page = alloc_page(GFP_KERNEL);
    CHECK(v && v2 && k && k2 && page, "the live allocations the bad frees aim beside");
    if (!v || !v2 || !k || !k2 || !page)
        return check_done("badinput");
    mapped = vm_map_ram(&page, 1, NUMA_NO_NODE);
    vfree(v2);
    kfree(k2);

    begin("vfree(wild pointer)");
    vfree(wild);
    expect("Trying to vfree() nonexistent vm area");
    begin("vfree(interior pointer)");
    vfree(v + PAGE_SIZE);
    expect("Trying to vfree() nonexistent vm area");
    begin("vfree(unaligned interior pointer)");
    vfree(v + 1);
    expect("Trying to vfree() nonexistent vm area");
    begin("vfree(already freed) (double free)");
    vfree(v2);
    expect("Trying to vfree() nonexistent vm area");
    begin("vfree(kmalloc pointer)");
    vfree(k);
    expect("Trying to vfree() nonexistent vm area");
    begin("vfree(stack address)");
    vfree(on_stack);
    expect("Trying to vfree() nonexistent vm area");

    begin("kfree(vmalloc pointer)");
    kfree(v);
    expect("use vfree()");
    begin("kfree(wild pointer)");
    kfree(wild);
    expect("kfree(");
    begin("kfree(interior pointer)");
    kfree(k + 8);
    expect("kfree(");
    begin("kfree(already freed) (double free)");
    kfree(k2);
    expect("kfree(");
    begin("kfree(stack address)");
    kfree(on_stack);
    expect("kfree(");

    begin("kvfree(wild pointer)");
    kvfree(wild);
    expect("kfree(");
    begin("kvfree(already freed vmalloc pointer)");
    kvfree(v2);
    expect("Trying to vfree() nonexistent vm area");

    begin("vunmap(wild pointer)");
    vunmap(wild);
    expect("Trying to vunmap() nonexistent vm area");
    begin("vunmap(vmalloc area)");
    vunmap(v);
    expect("use vfree()");
    begin("vm_unmap_ram(wild pointer)");
    vm_unmap_ram(wild, 1);
    expect("vm_unmap_ram");
    begin("vm_unmap_ram(vmalloc area)");
    vm_unmap_ram(v, 4);
    expect("vm_unmap_ram");

    begin("__free_pages(bogus page)");
    __free_pages((struct page *)on_stack, 0);
    expect("Bad page state");

    begin("__alloc_percpu(0, 4)");
    pcpu = __alloc_percpu(0, 4);
    CHECK(pcpu == NULL, "__alloc_percpu(0, 4) is NULL");
    expect("illegal size");
    begin("__alloc_percpu(64 MiB, 8)");
    pcpu = __alloc_percpu(64UL << 20, 8);
    CHECK(pcpu == NULL, "__alloc_percpu(64 MiB, 8) is NULL");
    expect("illegal size");
    begin("__alloc_percpu(16, 3)");
    pcpu = __alloc_percpu(16, 3);
    CHECK(pcpu == NULL, "__alloc_percpu(16, align 3) is NULL");
    expect("illegal size");
    begin("__alloc_percpu(16, 8192)");
    pcpu = __alloc_percpu(16, 8192);
    CHECK(pcpu == NULL, "__alloc_percpu(16, align 8192) is NULL");
    expect("illegal size");
    begin("free_percpu(wild pointer)");
    free_percpu(wild);
    expect("free_percpu");

    begin("vmalloc(0)");
    CHECK(vmalloc(0) == NULL, "vmalloc(0) is NULL");
    expect("invalid size");
    begin("__vmalloc_node(align 3)");
    CHECK(__vmalloc_node(PAGE_SIZE, 3, GFP_KERNEL, NUMA_NO_NODE, __builtin_return_address(0)) == NULL,
          "__vmalloc_node with alignment 3 is NULL");
    expect("not a power of two");
    begin("vmalloc_node(node 99)");
    CHECK(vmalloc_node(PAGE_SIZE, 99) == NULL, "vmalloc_node(.., 99) is NULL");
    expect("out of range");

    printf("badinput: the program still runs; the live allocations are intact\n");
    memset(v, 7, 4 * PAGE_SIZE);
    memset(k, 7, 128);
    memset(mapped, 7, PAGE_SIZE);
    CHECK(((char *)page_address(page))[100] == 7, "the vm_map_ram'd page is still mapped and still ours");
    vm_unmap_ram(mapped, 1);
    __free_page(page);
    vfree(v);
    kfree(k);
    vm_unmap_aliases();
    CHECK(nr_free_pages() <= start_free && nr_free_pages() + 8 >= start_free,
          "after the good frees the pages are back (%lu free, %lu at the start, slab and page tables aside)",
          nr_free_pages(), start_free);
    return check_done("badinput");
}
