/* The calling thread's task_struct (`current`) and schedule(). Mirrors include/asm-generic/current.h
 * and kernel/sched/core.c for what a process can have: the task is the allocator's thread-local
 * vmshim_task, so a flags bit set through current->flags is the scope word every allocation
 * reads, in C and Swift alike. */
#define _GNU_SOURCE
#include <linux/sched.h>

#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "vmshim_task.h"

/* struct task_struct is the kernel-spelled view of vmshim_task: the same bytes. */
_Static_assert(sizeof(struct task_struct) == sizeof(vmshim_task), "task_struct and vmshim_task differ in size");
_Static_assert(offsetof(struct task_struct, flags) == offsetof(vmshim_task, flags), "flags");
_Static_assert(offsetof(struct task_struct, pid) == offsetof(vmshim_task, pid), "pid");
_Static_assert(offsetof(struct task_struct, comm) == offsetof(vmshim_task, comm), "comm");
_Static_assert(sizeof(((struct task_struct *)0)->comm) == sizeof(((vmshim_task *)0)->comm), "comm size");
_Static_assert(offsetof(struct task_struct, __kthread) == offsetof(vmshim_task, kthread), "kthread");

struct task_struct *get_current(void) {
    struct task_struct *t = (struct task_struct *)vmshim_current();
    if (t->pid == 0) {
        t->pid = gettid();
        /* PR_GET_NAME writes at most 16 bytes, NUL included: comm's size. */
        if (prctl(PR_GET_NAME, t->comm, 0, 0, 0) != 0) t->comm[0] = 0;
    }
    return t;
}

void schedule(void) { sched_yield(); }
