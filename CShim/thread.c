// Thread naming for the library's own threads (kswapd, deferred-free workers): the glibc call
// needs _GNU_SOURCE, which only .c files define.
#define _GNU_SOURCE
#include "vmshim.h"

#include <pthread.h>

void vmshim_thread_set_name(const char *name) {
    char comm[16];
    size_t i = 0;
    for (; name[i] && i < sizeof comm - 1; i++) comm[i] = name[i];
    comm[i] = 0;
    // Cosmetic (ps, gdb, perf): a failure changes nothing else, so its result is not needed.
    (void)pthread_setname_np(pthread_self(), comm);
}
