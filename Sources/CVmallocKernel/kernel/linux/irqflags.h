/* <linux/irqflags.h>: interrupt masking. Mirrors include/linux/irqflags.h. A process takes no
 * interrupts, so these are compiler barriers; `flags` is still written, as code reads it back. */
#ifndef _VMALLOC_LINUX_IRQFLAGS_H
#define _VMALLOC_LINUX_IRQFLAGS_H

#include <linux/compiler.h>

#define local_irq_enable() barrier()
#define local_irq_disable() barrier()
#define local_irq_save(flags) do { (flags) = 0; barrier(); } while (0)
#define local_irq_restore(flags) do { (void)(flags); barrier(); } while (0)
#define irqs_disabled() 0
#define local_bh_disable() barrier()
#define local_bh_enable() barrier()

#endif
