// Facts about the calling thread and the process that Swift cannot read well or cheaply: the
// thread's name (the glibc call needs _GNU_SOURCE, which only .c files define), its CPU, a small
// stable index that picks its home shard, and whether ThreadSanitizer is on.
#ifndef VMSHIM_THREAD_H
#define VMSHIM_THREAD_H

#include "vmshim_base.h"

/// Name the calling thread (its `comm`, at most 15 bytes kept), for ps, gdb and perf.
void vmshim_thread_set_name(const char *name);
/// The CPU the calling thread runs on (sched_getcpu), or -1.
int vmshim_cpu(void);

/// The calling thread's index + 1, 0 before its first vmshim_thread_index().
extern _Thread_local unsigned vmshim_thread_index_plus_one VMSHIM_SWIFT_HIDDEN;
/// Hands the calling thread its index (the slow path of vmshim_thread_index).
unsigned vmshim_thread_index_first(void);
/// A small number for the calling thread, handed out in order of first call (0, 1, 2, ...) and
/// stable for the thread's life: a home shard that does not move when the thread migrates.
/// Inline: it is read on every vmalloc, and after the first call it is one thread-local load.
static inline unsigned vmshim_thread_index(void) {
    unsigned i = vmshim_thread_index_plus_one;
    return i ? i - 1 : vmshim_thread_index_first();
}

/// 1 when this library was built with ThreadSanitizer (`Lock` then shows TSan its ordering).
extern const int vmshim_tsan;

#endif
