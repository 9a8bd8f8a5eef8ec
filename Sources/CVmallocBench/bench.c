// The benchmark's C helpers (see include/CVmallocBench.h), outside the library.
#define _GNU_SOURCE
#include "CVmallocBench.h"

#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const char *vmbench_libc_version(void) { return gnu_get_libc_version(); }

void *vmbench_mremap(void *addr, size_t old_len, size_t new_len) {
    void *p = mremap(addr, old_len, new_len, MREMAP_MAYMOVE);
    return p == MAP_FAILED ? NULL : p;
}

int vmbench_memfd(size_t len) {
    int fd = memfd_create("vmalloc-bench", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)len) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int census_filter_installed;

// One filter for the whole process (TSYNC): every syscall stops for the tracer (RET_TRACE).
static void census_install_filter(void) {
    struct sock_filter trace_all[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE)};
    struct sock_fprog prog = {.len = 1, .filter = trace_all};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0)
        census_filter_installed = 1;
}

void vmbench_census_mark(void) {
    if (!census_filter_installed && getenv(VMBENCH_CENSUS_ENV)) census_install_filter();
    syscall(SYS_close, VMBENCH_MARK_FD);
}

// The tracee stops itself before exec so the tracer can set its options first; threads it
// clones are traced too and start with a SIGSTOP that is swallowed here. Only seccomp stops
// are counted: they begin when the child's first mark installs the filter.
int64_t vmbench_census(const char *path, char *const argv[], char *const envp[], int out_fd,
                       int *exit_status, uint64_t *by_nr, uint32_t nr_slots) {
    *exit_status = -1;
    size_t n = 0;
    while (envp[n]) n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env) return -ENOMEM;
    memcpy(env, envp, n * sizeof *env);
    env[n] = VMBENCH_CENSUS_ENV "=1";
    pid_t pid = fork();
    if (pid < 0) {
        free(env);
        return -errno;
    }
    if (pid == 0) {
        if (dup2(out_fd, STDOUT_FILENO) < 0) _exit(125);
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(126);
        raise(SIGSTOP);
        execve(path, argv, env);
        _exit(127);
    }
    free(env);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -errno;
    if (!WIFSTOPPED(status)) return -ECHILD;
    long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
    if (ptrace(PTRACE_SETOPTIONS, pid, 0, opts) != 0) {
        int e = errno;
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -e;
    }
    ptrace(PTRACE_CONT, pid, 0, 0);
    int64_t count = 0;
    int marks = 0;
    for (;;) {
        pid_t t = waitpid(-1, &status, __WALL);
        if (t < 0) {
            if (errno == EINTR) continue;
            break; /* ECHILD: the tracee and all its threads are gone */
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (t == pid) *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int sig = WSTOPSIG(status), inject = 0;
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
            struct __ptrace_syscall_info info;
            if (ptrace(PTRACE_GET_SYSCALL_INFO, t, sizeof info, &info) > 0 &&
                info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
                if (info.seccomp.nr == SYS_close && (int)info.seccomp.args[0] == VMBENCH_MARK_FD)
                    marks++;
                else if (marks == 1) {
                    count++;
                    if (info.seccomp.nr < nr_slots) by_nr[info.seccomp.nr]++;
                }
            }
        } else if (sig != SIGTRAP && sig != SIGSTOP) {
            inject = sig; /* a real signal: deliver it */
        }
        ptrace(PTRACE_CONT, t, 0, inject);
    }
    return marks >= 2 ? count : -EPROTO;
}

// The syscalls an allocator or this bench may make, by the architecture's own numbers (the
// SYS_* macros), so the census can be reported by name on any architecture.
#define VMBENCH_SYSCALLS(X)                                                                       \
    X(read) X(write) X(close) X(fstat) X(mmap) X(mprotect) X(munmap) X(brk) X(rt_sigaction)        \
    X(rt_sigprocmask) X(ioctl) X(madvise) X(mremap) X(getpid) X(clone) X(clone3) X(exit)           \
    X(exit_group) X(futex) X(sched_yield) X(sched_getaffinity) X(set_tid_address) X(clock_gettime) \
    X(clock_nanosleep) X(nanosleep) X(mbind) X(set_mempolicy) X(get_mempolicy) X(move_pages)       \
    X(fallocate) X(memfd_create) X(ftruncate) X(getcpu) X(openat) X(getrandom) X(prctl) X(gettid)  \
    X(tgkill) X(rseq) X(getrusage) X(sysinfo) X(pread64) X(lseek) X(mlock) X(munlock) X(uname)     \
    X(newfstatat) X(set_robust_list) X(statx) X(sigaltstack) X(wait4) X(kill) X(poll) X(ppoll)

const char *vmbench_syscall_name(uint32_t nr) {
    switch (nr) {
#define VMBENCH_CASE(name)                                                                        \
    case SYS_##name:                                                                               \
        return #name;
        VMBENCH_SYSCALLS(VMBENCH_CASE)
#undef VMBENCH_CASE
    default:
        return NULL;
    }
}
