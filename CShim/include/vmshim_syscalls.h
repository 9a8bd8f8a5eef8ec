// Thin wrappers over the system calls the allocator makes (memfd, mmap, mprotect, madvise,
// fallocate, mbind), each counted so the bench can report syscalls per operation. The shim has
// them so that Swift sees one errno policy instead of the global errno:
//  * a wrapper returns 0 (or a descriptor, a count) on success and -errno on failure;
//  * it retries EINTR where the call can be interrupted and restarted;
//  * it aborts with a message on errors only a bug can cause (EBADF, EFAULT, a failed munmap or
//    close of our own mapping or fd); functions that cannot fail without a bug return void.
#ifndef VMSHIM_SYSCALLS_H
#define VMSHIM_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>

/// memfd_create(MFD_CLOEXEC) + ftruncate: a sparse shmem object. Returns fd or -errno.
int vmshim_memfd(const char *name, uint64_t size);
/// close(2) of a descriptor we opened. Never retried (Linux frees the fd even on EINTR); aborts on
/// EBADF (a bug); other errors (EIO cannot happen for a memfd) are ignored, as close's man page
/// advises.
void vmshim_close(int fd);
/// A PROT_NONE, MAP_NORESERVE reservation of len bytes aligned to align, stored in *addr.
/// 0 or -errno (*addr is then NULL).
int vmshim_reserve(void **addr, size_t len, size_t align);
/// munmap(2) of a whole reservation made by vmshim_reserve. It splits no VMA, so it can fail
/// only through a bug (EINVAL): that aborts.
void vmshim_release(void *addr, size_t len);

/// Access rights of a mapping, as vmap takes them (PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_NONE).
typedef enum : uint8_t {
    VMSHIM_PROT_NONE = 0,       /* PROT_NONE: any access faults */
    VMSHIM_PROT_READ = 1,       /* PROT_READ */
    VMSHIM_PROT_READ_WRITE = 3, /* PROT_READ | PROT_WRITE */
} vmshim_prot;

/// Whether code may run from a mapping (set_memory_x / set_memory_nx): PROT_EXEC beside a
/// vmshim_prot. Ignored with VMSHIM_PROT_NONE, which stays inaccessible.
typedef enum : uint8_t {
    VMSHIM_NOEXEC = 0,
    VMSHIM_EXEC = 1, /* PROT_EXEC */
} vmshim_exec;

/// mmap(MAP_FIXED|MAP_SHARED, fd, off) with `prot`, optionally MAP_POPULATE. 0 or -errno.
int vmshim_map_shared(void *addr, size_t len, int fd, uint64_t off, vmshim_prot prot, int populate);
/// mmap(MAP_FIXED) of a PROT_NONE anonymous range over addr: unmaps and re-reserves. 0 or -errno.
int vmshim_map_none(void *addr, size_t len);
/// mprotect(2) to `prot`, with PROT_EXEC when `exec`. 0 or -errno.
int vmshim_protect(void *addr, size_t len, vmshim_prot prot, vmshim_exec exec);
/// madvise(2). 0 or -errno.
int vmshim_madvise(void *addr, size_t len, int advice);
/// madvise(MADV_GUARD_INSTALL): accesses to the range fault with SIGSEGV; the VMA is not split
/// and populated pages are zapped (a memfd keeps their content). Linux 6.13+. 0 or -errno.
int vmshim_guard_install(void *addr, size_t len);
/// 1 when guard markers work on a MAP_SHARED memfd mapping on this kernel, else 0.
int vmshim_guard_probe(void);
/// mbind(MPOL_BIND) of [addr, addr+len) to one real node (shared policy of a shmem object).
/// 0 or -errno.
int vmshim_mbind_node(void *addr, size_t len, int node, int max_node);
/// fallocate(PUNCH_HOLE|KEEP_SIZE): give frames' memory back to the OS. 0 or -errno.
int vmshim_punch(int fd, uint64_t off, uint64_t len);
/// Bytes of the file fd resident in memory (fstat st_blocks × 512), or -errno.
int64_t vmshim_resident_bytes(int fd);
/// Lines of /proc/self/maps: the process's VMA count, or -errno.
int vmshim_count_vmas(void);
/// /proc/sys/vm/max_map_count, or 65530 when it cannot be read.
int vmshim_max_map_count(void);
/// Syscalls made through this shim by all threads since start.
uint64_t vmshim_syscalls(void);
/// Syscalls made through this shim by the calling thread.
uint64_t vmshim_thread_syscalls(void);

#endif
