/* <linux/sched.h>: struct task_struct and `current`, over the system's UAPI header of the same
 * name (CLONE_* and SCHED_* constants). `current` is the calling thread's task; its `flags` word
 * is the one every allocation reads, so a PF_MEMALLOC_* bit set here directly is honoured as the
 * memalloc_*_save() calls are, by C and Swift code alike. */
#ifndef _VMALLOC_LINUX_SCHED_H
#define _VMALLOC_LINUX_SCHED_H

#include_next <linux/sched.h>

#include <linux/types.h>

#define PF_MEMALLOC 0x00000800
#define PF_KSWAPD 0x00020000
#define PF_MEMALLOC_NOFS 0x00040000
#define PF_MEMALLOC_NOIO 0x00080000
#define PF_MEMALLOC_PIN 0x10000000

#define TASK_COMM_LEN 16

/* The layout of the allocator's per-thread task (vmshim_task), checked by the C layer. */
struct task_struct {
    unsigned int flags;
    pid_t pid;
    char comm[TASK_COMM_LEN];
    void *__kthread;
};

/* The calling thread's task (the kernel's get_current()); pid and comm are filled on first use. */
struct task_struct *get_current(void);
#define current get_current()

/* Give up the CPU (sched_yield); the kernel's cond_resched() is the same here. */
void schedule(void);
#define cond_resched() schedule()

#endif
