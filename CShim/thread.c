// Facts about the calling thread (vmshim_thread.h): its name for the library's own threads
// (kswapd, deferred-free workers), its CPU and its stable index. The glibc calls need
// _GNU_SOURCE, which only .c files define.
#define _GNU_SOURCE
#include "vmshim_thread.h"

#include <pthread.h>
#include <sched.h>

void vmshim_thread_set_name(const char *name) {
    char comm[16];
    size_t i = 0;
    for (; name[i] && i < sizeof comm - 1; i++) comm[i] = name[i];
    comm[i] = 0;
    // Cosmetic (ps, gdb, perf): a failure changes nothing else, so its result is not needed.
    (void)pthread_setname_np(pthread_self(), comm);
}

int vmshim_cpu(void) { return sched_getcpu(); }

static unsigned next_thread_index;
_Thread_local unsigned vmshim_thread_index_plus_one;

unsigned vmshim_thread_index_first(void) {
    vmshim_thread_index_plus_one = __atomic_fetch_add(&next_thread_index, 1, __ATOMIC_RELAXED) + 1;
    return vmshim_thread_index_plus_one - 1;
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VMSHIM_TSAN 1
#endif
#endif
#ifndef VMSHIM_TSAN
#define VMSHIM_TSAN 0
#endif
const int vmshim_tsan = VMSHIM_TSAN;
