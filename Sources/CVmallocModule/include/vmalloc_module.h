/* What the module harness (module.c) reads from the module it is linked into: the functions
 * module_init/module_exit name (<linux/init.h>) and the linker-made bounds of the sections that
 * module_param, MODULE_PARM_DESC and the MODULE_* tags fill (<linux/moduleparam.h>). All weak: a
 * module may have no exit, no init (loading then succeeds, as in the kernel), no parameters or tags
 * (no section, both bounds NULL). */
#ifndef VMALLOC_MODULE_H
#define VMALLOC_MODULE_H

#include <linux/init.h>
#include <linux/moduleparam.h>

extern const initcall_t __vmalloc_module_init __attribute__((weak));
extern const exitcall_t __vmalloc_module_exit __attribute__((weak));

extern const struct vmalloc_module_param __start_vmalloc_module_params[] __attribute__((weak));
extern const struct vmalloc_module_param __stop_vmalloc_module_params[] __attribute__((weak));
extern const struct vmalloc_module_info __start_vmalloc_module_info[] __attribute__((weak));
extern const struct vmalloc_module_info __stop_vmalloc_module_info[] __attribute__((weak));

#endif
