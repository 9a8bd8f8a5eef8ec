// What the tests need from C and the library does not: facts about the process read from the
// kernel (VMAs in a range, the NUMA node of a page, whether an address reads) and a fork whose
// child touches memory, to show that vmalloc memory is not silently shared with a child. Kept
// out of the library's shim.
#ifndef CVMALLOC_TEST_SUPPORT_H
#define CVMALLOC_TEST_SUPPORT_H

/// VMAs of this process that overlap [lo, hi) (lines of /proc/self/maps), or -errno.
int vmtest_count_vmas_in(const void *lo, const void *hi);
/// The real NUMA node that holds the page at addr (a move_pages query), or -errno.
int vmtest_page_node(void *addr);
/// Fork; the child writes one byte at addr and exits 0. Returns the child's wait status, or -errno.
int vmtest_fork_and_write(void *addr);
/// Whether the byte at addr can be read, asked of the kernel (`process_vm_readv` on this
/// process), so an unmapped or PROT_NONE address answers 0 instead of faulting.
int vmtest_is_readable(const void *addr);

#endif
