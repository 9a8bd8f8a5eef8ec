#define _GNU_SOURCE
#include "CVmallocTestSupport.h"

#include <errno.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

int vmtest_count_vmas_in(const void *lo, const void *hi) {
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return -errno;
    int n = 0;
    char line[512];
    unsigned long a, b, last = 0;
    // /proc/self/maps is read in chunks with the mmap lock dropped between them, so a change
    // elsewhere in the process can repeat a line: lines are sorted, so count rising starts only.
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < (uintptr_t)hi && b > (uintptr_t)lo &&
            (n == 0 || a > last)) {
            last = a;
            n++;
        }
    fclose(f);
    return n;
}

int vmtest_page_node(void *addr) {
    void *pages[1] = {addr};
    int status[1] = {-1};
    if (move_pages(0, 1, pages, NULL, status, 0) != 0) return -errno;
    return status[0];
}

int vmtest_fork_and_write(void *addr) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        *(volatile char *)addr = 0x5a;
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return status;
}

int vmtest_is_readable(const void *addr) {
    char byte;
    struct iovec local = {&byte, 1}, remote = {(void *)addr, 1};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1;
}
