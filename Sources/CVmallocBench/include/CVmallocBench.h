// CVmallocBench: what the benchmark needs from C and Swift cannot call or do cheaply: a variadic
// syscall (mremap), memfd frames for the mmap peer's vm_map_ram analogue, a monotonic clock read
// inlined into the timing loop, and a ptrace syscall census of a child process (the only way to
// count the syscalls that glibc, jemalloc or mimalloc make on their own, with no kernel tracing).
#ifndef VMBENCH_H
#define VMBENCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/// CLOCK_MONOTONIC in nanoseconds (vDSO; no syscall).
static inline uint64_t vmbench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/// CLOCK_THREAD_CPUTIME_ID in nanoseconds: CPU time the calling thread got.
static inline uint64_t vmbench_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/// gnu_get_libc_version(), whose header the Glibc module does not import.
const char *vmbench_libc_version(void);
/// mremap(MREMAP_MAYMOVE). NULL on failure.
void *vmbench_mremap(void *addr, size_t old_len, size_t new_len);
/// memfd_create(MFD_CLOEXEC) + ftruncate(len). fd, or -errno.
int vmbench_memfd(size_t len);

/// The fd a census marker closes: an impossible one, so the close fails with EBADF at once.
#define VMBENCH_MARK_FD (-7734)
/// Set in a census child's environment; only there does a mark install the census filter.
#define VMBENCH_CENSUS_ENV "VMBENCH_CENSUS"
/// Mark the start (first call) or end (second call) of the span a census counts. In a census
/// child the first mark also installs, on every thread, a seccomp filter that reports each
/// later syscall to the tracer; before it the child runs untraced (setup costs nothing).
void vmbench_census_mark(void);
/// Run path with argv/envp (plus VMBENCH_CENSUS=1) under ptrace, its stdout on out_fd, and
/// count the system calls all its threads enter between its two census marks. Returns the
/// count, or -errno when tracing failed (-EPROTO: the child never marked twice).
/// *exit_status: the child's exit code (128 + signal when killed). by_nr[n] counts the calls of
/// syscall number n (numbers at or past nr_slots are counted in the total only).
int64_t vmbench_census(const char *path, char *const argv[], char *const envp[], int out_fd,
                       int *exit_status, uint64_t *by_nr, uint32_t nr_slots);

/// The name of syscall number nr on this architecture (without the SYS_ prefix), or NULL when
/// the census does not know it (it is then reported as "nr_N").
const char *vmbench_syscall_name(uint32_t nr);

#endif
