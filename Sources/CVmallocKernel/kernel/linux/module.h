/* <linux/module.h>: what a module includes to be one: module_init/module_exit (<linux/init.h>),
 * module_param (<linux/moduleparam.h>), EXPORT_SYMBOL (<linux/export.h>) and the MODULE_* tags,
 * over the system's UAPI header of the same name. Mirrors include/linux/module.h. The tags are
 * file-scope declarations taking the user's semicolon; the harness shows them for --help. */
#ifndef _VMALLOC_LINUX_MODULE_H
#define _VMALLOC_LINUX_MODULE_H

#include_next <linux/module.h>

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/init.h>
#include <linux/moduleparam.h>
#include <linux/export.h>
#include <linux/kernel.h>
/* What the kernel's module.h brings in through its own includes (list.h directly; atomic.h through
 * refcount.h; ktime.h through kmod.h, workqueue.h and timer.h), and modules count on. */
#include <linux/list.h>
#include <linux/atomic.h>
#include <linux/ktime.h>

/* A program is its own module: there is no struct module to point to. */
struct module;
#define THIS_MODULE ((struct module *)0)
#ifndef KBUILD_MODNAME
#define KBUILD_MODNAME "module"
#endif

#define MODULE_LICENSE(_license) MODULE_INFO(license, _license)
#define MODULE_AUTHOR(_author) MODULE_INFO(author, _author)
#define MODULE_DESCRIPTION(_description) MODULE_INFO(description, _description)
#define MODULE_VERSION(_version) MODULE_INFO(version, _version)
#define MODULE_ALIAS(_alias) MODULE_INFO(alias, _alias)
#define MODULE_SOFTDEP(_softdep) MODULE_INFO(softdep, _softdep)
#define MODULE_FIRMWARE(_firmware) MODULE_INFO(firmware, _firmware)
#define MODULE_IMPORT_NS(_ns) MODULE_INFO(import_ns, #_ns)
#define MODULE_DEVICE_TABLE(type, name) extern __typeof__(name) name

static inline bool try_module_get(struct module *module) { return (void)module, true; }
static inline void module_put(struct module *module) { (void)module; }
#define __module_get(module) ((void)(module))

#endif
