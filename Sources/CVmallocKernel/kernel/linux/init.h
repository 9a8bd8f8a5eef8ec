/* <linux/init.h>: section markers and initcalls. Mirrors include/linux/init.h as it reads for a
 * module (MODULE defined): __init/__exit place nothing (a program has no init section to free),
 * and every initcall level is module_init. module_init(fn) and module_exit(fn) are complete
 * file-scope declarations, semicolon included, because modules write them without one; the
 * harness (vmalloc-module) finds them by these names and runs init, then exit when init returned 0. */
#ifndef _VMALLOC_LINUX_INIT_H
#define _VMALLOC_LINUX_INIT_H

#include <linux/compiler.h>

#define __init
#define __exit
#define __initdata
#define __initconst
#define __exitdata
#define __init_or_module
#define __ref
#define __refdata
#define __refconst
#define __meminit
#define __meminitdata

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

#define module_init(initfn) \
    extern const initcall_t __vmalloc_module_init; \
    const initcall_t __vmalloc_module_init = (initfn);
#define module_exit(exitfn) \
    extern const exitcall_t __vmalloc_module_exit; \
    const exitcall_t __vmalloc_module_exit = (exitfn);

#define early_initcall(fn) module_init(fn)
#define pure_initcall(fn) module_init(fn)
#define core_initcall(fn) module_init(fn)
#define postcore_initcall(fn) module_init(fn)
#define arch_initcall(fn) module_init(fn)
#define subsys_initcall(fn) module_init(fn)
#define fs_initcall(fn) module_init(fn)
#define rootfs_initcall(fn) module_init(fn)
#define device_initcall(fn) module_init(fn)
#define late_initcall(fn) module_init(fn)
#define late_initcall_sync(fn) module_init(fn)

#endif
