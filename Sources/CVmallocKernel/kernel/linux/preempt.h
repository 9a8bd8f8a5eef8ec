/* <linux/preempt.h>: preemption control and context tests. Mirrors include/linux/preempt.h. A
 * pthread cannot stop the scheduler, and code here never runs in interrupt context, so the
 * controls are compiler barriers (they still order memory accesses for the compiler, as in the
 * kernel) and the tests answer "task context". */
#ifndef _VMALLOC_LINUX_PREEMPT_H
#define _VMALLOC_LINUX_PREEMPT_H

#include <linux/compiler.h>

#define preempt_disable() barrier()
#define preempt_enable() barrier()
#define preempt_enable_no_resched() barrier()
#define preempt_disable_notrace() barrier()
#define preempt_enable_notrace() barrier()
#define migrate_disable() barrier()
#define migrate_enable() barrier()
#define preempt_count() 0
#define preemptible() 1
#define in_atomic() 0
#define in_interrupt() 0
#define in_irq() 0
#define in_hardirq() 0
#define in_softirq() 0
#define in_serving_softirq() 0
#define in_nmi() 0
#define in_task() 1

#endif
