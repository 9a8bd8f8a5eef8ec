// The calling thread's task (the kernel's `current`): its flags word carries the PF_MEMALLOC_*
// scope bits every allocation reads, so it is a thread-local read inline, one load on the
// allocation path. The C surface's `struct task_struct` has this layout (checked there), and the
// stack of open memalloc_*_save() tokens beside it catches restores out of order.
#ifndef VMSHIM_TASK_H
#define VMSHIM_TASK_H

#include <stdint.h>

#include "vmshim_base.h"

/// The kernel's PF_* values, so C code that sets a bit directly (`current->flags |=
/// PF_MEMALLOC_NOIO`, as bcachefs does) is honoured like memalloc_noio_save().
enum {
    VMSHIM_PF_MEMALLOC = 0x800,
    VMSHIM_PF_KSWAPD = 0x20000,
    VMSHIM_PF_MEMALLOC_NOFS = 0x40000,
    VMSHIM_PF_MEMALLOC_NOIO = 0x80000,
    VMSHIM_PF_MEMALLOC_PIN = 0x10000000,
};
/// One thread's task_struct. The C surface's `struct task_struct` has this layout (checked
/// there), and `current` is the calling thread's copy.
typedef struct vmshim_task {
    uint32_t flags;  /* PF_*: the scope word every allocation reads */
    int32_t pid;     /* the thread id, filled on first use of `current` */
    char comm[16];   /* the thread name, likewise */
    void *kthread;   /* the kthread record when kthread_run started this thread, else NULL */
} vmshim_task;
/// The calling thread's task; reach it through vmshim_current() and the flags accessors.
extern _Thread_local vmshim_task vmshim_current_task VMSHIM_SWIFT_HIDDEN;
/// The calling thread's task (get_current() of the C surface).
static inline vmshim_task *vmshim_current(void) { return &vmshim_current_task; }
static inline uint32_t vmshim_flags_get(void) { return vmshim_current_task.flags; }
static inline void vmshim_flags_set(uint32_t f) { vmshim_current_task.flags = f; }

/// Record a save token on this thread's stack (saves nest LIFO). 0, or -1 when too deep.
int vmshim_scope_push(uint32_t token);
/// Pop the token a restore hands back. 0 when it is the top of this thread's stack, -1 when
/// this thread has no open save (restore on another thread, or twice), -2 when it is not the top.
int vmshim_scope_pop(uint32_t token);

#endif
