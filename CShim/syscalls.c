// Thin syscall wrappers: each returns -errno (never sets a global the caller must read) and is
// counted, so the bench can report syscalls per operation. EINTR is retried where it can occur.
#define _GNU_SOURCE
#include "vmshim.h"

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t syscall_count;
static _Thread_local uint64_t thread_syscall_count;

static inline void count(void) {
    __atomic_fetch_add(&syscall_count, 1, __ATOMIC_RELAXED);
    thread_syscall_count++;
}

uint64_t vmshim_syscalls(void) { return __atomic_load_n(&syscall_count, __ATOMIC_RELAXED); }
uint64_t vmshim_thread_syscalls(void) { return thread_syscall_count; }

int vmshim_memfd(const char *name, uint64_t size) {
    count();
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) return -errno;
    count();
    if (ftruncate(fd, (off_t)size) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int vmshim_close(int fd) {
    count();
    return close(fd) == 0 ? 0 : -errno;
}

void *vmshim_reserve(size_t len, size_t align, int *err) {
    if (align < VMSHIM_PAGE_SIZE) align = VMSHIM_PAGE_SIZE;
    size_t span = len + align - VMSHIM_PAGE_SIZE;
    count();
    uint8_t *p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        *err = errno;
        return NULL;
    }
    // Trim the slack on both sides so the reservation starts aligned.
    uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = start - (uintptr_t)p, tail = span - head - len;
    if (head) { count(); munmap(p, head); }
    if (tail) { count(); munmap((void *)(start + len), tail); }
    return (void *)start;
}

int vmshim_release(void *addr, size_t len) {
    count();
    return munmap(addr, len) == 0 ? 0 : -errno;
}

int vmshim_map_shared(void *addr, size_t len, int fd, uint64_t off, int prot, int populate) {
    count();
    int flags = MAP_FIXED | MAP_SHARED | (populate ? MAP_POPULATE : 0);
    void *p = mmap(addr, len, prot == 1 ? PROT_READ : PROT_READ | PROT_WRITE, flags, fd, (off_t)off);
    return p == MAP_FAILED ? -errno : 0;
}

int vmshim_map_none(void *addr, size_t len) {
    count();
    void *p = mmap(addr, len, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? -errno : 0;
}

int vmshim_madvise(void *addr, size_t len, int advice) {
    count();
    return madvise(addr, len, advice) == 0 ? 0 : -errno;
}

int vmshim_mbind_node(void *addr, size_t len, int node, int max_node) {
    unsigned long mask[16];
    memset(mask, 0, sizeof mask);
    if (node < 0 || node >= (int)(sizeof mask * 8)) return -EINVAL;
    mask[node / (8 * sizeof(unsigned long))] |= 1UL << (node % (8 * sizeof(unsigned long)));
    count();
    long r = mbind(addr, len, MPOL_BIND, mask, (unsigned long)max_node + 2, 0);
    return r == 0 ? 0 : -errno;
}

int vmshim_punch(int fd, uint64_t off, uint64_t len) {
    int r;
    do {
        count();
        r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
    } while (r != 0 && errno == EINTR);
    return r == 0 ? 0 : -errno;
}

int vmshim_page_node(void *addr) {
    void *pages[1] = {addr};
    int status[1] = {-1};
    count();
    if (move_pages(0, 1, pages, NULL, status, 0) != 0) return -errno;
    return status[0];
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

int vmshim_count_vmas_in(const void *lo, const void *hi) {
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return -errno;
    int n = 0;
    char line[512];
    unsigned long a, b, last = 0;
    // /proc/self/maps is read in chunks with the mmap lock dropped between them, so a change
    // elsewhere in the process can repeat a line: lines are sorted, so count rising starts only.
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < (uintptr_t)hi && b > (uintptr_t)lo && (n == 0 || a > last)) {
            last = a;
            n++;
        }
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

int vmshim_cpu(void) { return sched_getcpu(); }

static unsigned next_thread_index;
static _Thread_local unsigned thread_index_plus_one;

unsigned vmshim_thread_index(void) {
    if (!thread_index_plus_one)
        thread_index_plus_one = __atomic_fetch_add(&next_thread_index, 1, __ATOMIC_RELAXED) + 1;
    return thread_index_plus_one - 1;
}
const char *vmshim_comm(void) { return program_invocation_short_name; }

void vmshim_log_line(const char *line) {
    size_t n = strlen(line);
    char buf[1024];
    if (n > sizeof buf - 2) n = sizeof buf - 2;
    memcpy(buf, line, n);
    buf[n++] = '\n';
    ssize_t w;
    do { w = write(2, buf, n); } while (w < 0 && errno == EINTR);
}

void vmshim_zero(void *p, size_t len) { memset(p, 0, len); }
void vmshim_copy(void *dst, const void *src, size_t len) { memmove(dst, src, len); }

_Thread_local uint32_t vmshim_thread_flags;
static _Thread_local uint32_t scope_stack[256];
static _Thread_local int scope_depth;

int vmshim_scope_push(uint32_t token) {
    if (scope_depth >= 256) return -1;
    scope_stack[scope_depth++] = token;
    return 0;
}

int vmshim_scope_pop(uint32_t token) {
    if (scope_depth == 0) return -1;
    if (scope_stack[scope_depth - 1] != token) return -2;
    scope_depth--;
    return 0;
}

int vmshim_protect(void *addr, size_t len, int prot) {
    count();
    return mprotect(addr, len, prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) == 0 ? 0 : -errno;
}
