// Process hygiene around vmalloc memory: forked children lose access to the regions, and an
// opt-in SIGSEGV handler turns faults in guard pages and freed areas into KASAN-like reports.
#define _GNU_SOURCE
#include "vmshim_faults.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_REGIONS 256

// Slots are claimed and cleared with atomics: the atfork child handler must read them without
// taking a lock that another (now vanished) thread may have held at fork time.
static struct {
    uintptr_t base;
    size_t len;
} regions[MAX_REGIONS];
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void child_after_fork(void) {
    for (int i = 0; i < MAX_REGIONS; i++) {
        uintptr_t b = __atomic_load_n(&regions[i].base, __ATOMIC_ACQUIRE);
        size_t len = __atomic_load_n(&regions[i].len, __ATOMIC_ACQUIRE);
        if (b && len)
            mmap((void *)b, len, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    }
}

static void install_atfork(void) { pthread_atfork(NULL, NULL, child_after_fork); }

int vmshim_region_register(void *base, size_t len) {
    pthread_once(&atfork_once, install_atfork);
    for (int i = 0; i < MAX_REGIONS; i++) {
        uintptr_t expected = 0;
        if (__atomic_compare_exchange_n(&regions[i].base, &expected, (uintptr_t)base, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            __atomic_store_n(&regions[i].len, len, __ATOMIC_RELEASE);
            return 0;
        }
    }
    return -ENOSPC;
}

void vmshim_region_unregister(void *base) {
    for (int i = 0; i < MAX_REGIONS; i++)
        if (__atomic_load_n(&regions[i].base, __ATOMIC_ACQUIRE) == (uintptr_t)base) {
            __atomic_store_n(&regions[i].len, 0, __ATOMIC_RELEASE);
            __atomic_store_n(&regions[i].base, 0, __ATOMIC_RELEASE);
        }
}

static vmshim_fault_reporter fault_reporter;
static struct sigaction previous_action;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static void on_segv(int sig, siginfo_t *info, void *context) {
    (void)sig;
    int is_write = -1;
#if defined(__x86_64__)
    // Bit 1 of the page-fault error code: the access was a write.
    ucontext_t *uc = context;
    is_write = (uc->uc_mcontext.gregs[REG_ERR] & 2) ? 1 : 0;
#else
    (void)context;
#endif
    static char report[4096];
    int n = fault_reporter ? fault_reporter(info->si_addr, is_write, report, (int)sizeof report) : 0;
    if (n > 0) {
        ssize_t w;
        do { w = write(2, report, (size_t)n); } while (w < 0 && errno == EINTR);
    }
    // Put the previous disposition back and return: the access repeats and dies with SIGSEGV
    // as before (or meets the handler that was there before ours).
    sigaction(SIGSEGV, &previous_action, NULL);
}

static void install_handler(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_action);
}

void vmshim_fault_reports_install(vmshim_fault_reporter reporter) {
    __atomic_store_n(&fault_reporter, reporter, __ATOMIC_RELEASE);
    pthread_once(&handler_once, install_handler);
}

