// Thin syscall wrappers (vmshim_syscalls.h): each returns 0 or a value on success and -errno on
// failure (never sets a global the caller must read), and is counted, so the bench can report
// syscalls per operation.
//
// Errno policy (every wrapper follows it; Swift never drops a result):
//  * EINTR is retried by calls that can be interrupted and restarted: fallocate (and log.c's write). close is
//    never retried (Linux releases the descriptor even when it reports EINTR); mmap, munmap,
//    madvise, mbind and memfd_create do not return EINTR.
//  * EBADF and EFAULT mean a descriptor or pointer we passed is wrong: a bug in this library,
//    never a condition to handle. The wrapper aborts with a message naming the call (die()).
//    So does a failed munmap or close of a mapping or descriptor we own (vmshim_release,
//    vmshim_close), which the caller could not undo anyway.
//  * Anything else (ENOMEM, EINVAL from a kernel limit, EPERM, ENOSYS ...) is returned as -errno:
//    Swift decides (fail the allocation, throw from init, warn and go on).
#define _GNU_SOURCE
#include "vmshim_syscalls.h"

#include "vmshim_base.h"
#include "vmshim_log.h"

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t syscall_count;
static _Thread_local uint64_t thread_syscall_count;

static inline void count(void) {
    __atomic_fetch_add(&syscall_count, 1, __ATOMIC_RELAXED);
    thread_syscall_count++;
}

/// Abort on an error only a bug can cause, naming the call (the errno policy above).
static void die(const char *call, int e) {
    char msg[160];
    snprintf(msg, sizeof msg, "vmshim: %s failed: %s (errno %d): a bug in swift-vmalloc", call, strerror(e), e);
    vmshim_log_line(msg);
    abort();
}

/// Return -e, or abort when e is a programmer error (EBADF, EFAULT).
static int fail(const char *call, int e) {
    if (e == EBADF || e == EFAULT) die(call, e);
    return -e;
}

uint64_t vmshim_syscalls(void) { return __atomic_load_n(&syscall_count, __ATOMIC_RELAXED); }
uint64_t vmshim_thread_syscalls(void) { return thread_syscall_count; }

int vmshim_memfd(const char *name, uint64_t size) {
    count();
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) return fail("memfd_create", errno);
    count();
    if (ftruncate(fd, (off_t)size) != 0) {
        int e = errno;
        vmshim_close(fd);
        return fail("ftruncate", e);
    }
    return fd;
}

void vmshim_close(int fd) {
    count();
    if (close(fd) != 0 && errno == EBADF) die("close", EBADF);
}

int vmshim_reserve(void **addr, size_t len, size_t align) {
    *addr = NULL;
    if (align < VMSHIM_PAGE_SIZE) align = VMSHIM_PAGE_SIZE;
    size_t span = len + align - VMSHIM_PAGE_SIZE;
    count();
    uint8_t *p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return fail("mmap(reservation)", errno);
    // Trim the slack on both sides so the reservation starts aligned. Trimming the ends of a
    // fresh mapping splits nothing else; if it failed, the slack would only stay reserved.
    uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = start - (uintptr_t)p, tail = span - head - len;
    if (head) { count(); if (munmap(p, head) != 0) die("munmap(reservation head)", errno); }
    if (tail) { count(); if (munmap((void *)(start + len), tail) != 0) die("munmap(reservation tail)", errno); }
    *addr = (void *)start;
    return 0;
}

void vmshim_release(void *addr, size_t len) {
    count();
    if (munmap(addr, len) != 0) die("munmap", errno);
}

static int mmap_prot(vmshim_prot prot) {
    switch (prot) {
    case VMSHIM_PROT_NONE: return PROT_NONE;
    case VMSHIM_PROT_READ: return PROT_READ;
    case VMSHIM_PROT_READ_WRITE: return PROT_READ | PROT_WRITE;
    }
    die("mmap_prot(unknown protection)", EINVAL);
    return PROT_NONE;
}

int vmshim_map_shared(void *addr, size_t len, int fd, uint64_t off, vmshim_prot prot, int populate) {
    int mprot = mmap_prot(prot);
    count();
    // MAP_POPULATE cannot fault in what may not be read.
    int flags = MAP_FIXED | MAP_SHARED | (populate && prot != VMSHIM_PROT_NONE ? MAP_POPULATE : 0);
    void *p = mmap(addr, len, mprot, flags, fd, (off_t)off);
    return p == MAP_FAILED ? fail("mmap", errno) : 0;
}

int vmshim_map_none(void *addr, size_t len) {
    count();
    void *p = mmap(addr, len, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? fail("mmap(PROT_NONE)", errno) : 0;
}

int vmshim_madvise(void *addr, size_t len, int advice) {
    count();
    return madvise(addr, len, advice) == 0 ? 0 : fail("madvise", errno);
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

int vmshim_guard_install(void *addr, size_t len) {
    count();
    return madvise(addr, len, MADV_GUARD_INSTALL) == 0 ? 0 : fail("madvise(MADV_GUARD_INSTALL)", errno);
}

int vmshim_guard_probe(void) {
    // What the region needs: a marker on a populated page of a MAP_SHARED memfd mapping, and
    // its removal. Older kernels answer EINVAL; nothing here is counted (init only).
    long page = sysconf(_SC_PAGESIZE);
    int fd = memfd_create("vmshim-guard-probe", MFD_CLOEXEC);
    if (fd < 0) return 0;
    int ok = 0;
    if (ftruncate(fd, page) == 0) {
        void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
        if (p != MAP_FAILED) {
            ok = madvise(p, (size_t)page, MADV_GUARD_INSTALL) == 0 && madvise(p, (size_t)page, MADV_GUARD_REMOVE) == 0;
            if (munmap(p, (size_t)page) != 0) die("munmap(guard probe)", errno);
        }
    }
    if (close(fd) != 0) die("close(guard probe)", errno);
    return ok;
}

int vmshim_mbind_node(void *addr, size_t len, int node, int max_node) {
    unsigned long mask[16];
    memset(mask, 0, sizeof mask);
    if (node < 0 || node >= (int)(sizeof mask * 8)) return -EINVAL;
    mask[node / (8 * sizeof(unsigned long))] |= 1UL << (node % (8 * sizeof(unsigned long)));
    count();
    long r = mbind(addr, len, MPOL_BIND, mask, (unsigned long)max_node + 2, 0);
    return r == 0 ? 0 : fail("mbind", errno);
}

int vmshim_punch(int fd, uint64_t off, uint64_t len) {
    int r;
    do {
        count();
        r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
    } while (r != 0 && errno == EINTR);
    return r == 0 ? 0 : fail("fallocate", errno);
}

int vmshim_count_vmas(void) {
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return -errno;
    int n = 0;
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < got; i++) n += buf[i] == '\n';
    fclose(f);
    return n;
}

int vmshim_max_map_count(void) {
    FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
    int v = 65530;
    if (f) {
        if (fscanf(f, "%d", &v) != 1) v = 65530;
        fclose(f);
    }
    return v;
}

int vmshim_protect(void *addr, size_t len, vmshim_prot prot, vmshim_exec exec) {
    int mprot = mmap_prot(prot) | (exec == VMSHIM_EXEC && prot != VMSHIM_PROT_NONE ? PROT_EXEC : 0);
    count();
    return mprotect(addr, len, mprot) == 0 ? 0 : fail("mprotect", errno);
}
