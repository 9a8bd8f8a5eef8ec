/* <linux/moduleparam.h>: module parameters. Mirrors include/linux/moduleparam.h: module_param(name,
 * type, perm) for int, uint, hexint, long, ulong, short, ushort, byte, bool, invbool and charp
 * (the variable must have that type: a compile error otherwise, as the kernel's param_check_*),
 * module_param_named, MODULE_PARM_DESC. Each is a file-scope declaration that takes the user's
 * semicolon. A parameter is recorded in the section vmalloc_module_params, which the harness
 * (vmalloc-module) walks to set parameters from `key=value` arguments, as modprobe passes them. */
#ifndef _VMALLOC_LINUX_MODULEPARAM_H
#define _VMALLOC_LINUX_MODULEPARAM_H

#include <linux/types.h>
#include <linux/init.h>

/* The kernel's permission shorthands (include/linux/stat.h), octal as they are in the kernel. */
#ifndef S_IRUGO
#define S_IRWXUGO 00777
#define S_IALLUGO 07777
#define S_IRUGO 00444
#define S_IWUGO 00222
#define S_IXUGO 00111
#endif

enum vmalloc_param_type {
    VMALLOC_PARAM_int,
    VMALLOC_PARAM_uint,
    VMALLOC_PARAM_hexint,
    VMALLOC_PARAM_long,
    VMALLOC_PARAM_ulong,
    VMALLOC_PARAM_short,
    VMALLOC_PARAM_ushort,
    VMALLOC_PARAM_byte,
    VMALLOC_PARAM_bool,
    VMALLOC_PARAM_invbool,
    VMALLOC_PARAM_charp,
    /* <stdbool.h> makes bool a macro for _Bool (the kernel's bool is a typedef), so a module macro
     * that passes `bool` on to module_param, as test_vmalloc.c's __param does, arrives as _Bool. */
    VMALLOC_PARAM__Bool = VMALLOC_PARAM_bool,
};

/* The C type a parameter of each kind must have. */
typedef int __vmalloc_param_ctype_int;
typedef unsigned int __vmalloc_param_ctype_uint;
typedef unsigned int __vmalloc_param_ctype_hexint;
typedef long __vmalloc_param_ctype_long;
typedef unsigned long __vmalloc_param_ctype_ulong;
typedef short __vmalloc_param_ctype_short;
typedef unsigned short __vmalloc_param_ctype_ushort;
typedef unsigned char __vmalloc_param_ctype_byte;
typedef bool __vmalloc_param_ctype_bool;
typedef bool __vmalloc_param_ctype_invbool;
typedef bool __vmalloc_param_ctype__Bool;
typedef char *__vmalloc_param_ctype_charp;

/* One registered parameter; an array of these lies between __start_ and __stop_vmalloc_module_params. */
struct vmalloc_module_param {
    const char *name;
    void *value;
    enum vmalloc_param_type type;
};

/* `type` is pasted here, never passed on to another macro, where `bool` would expand to _Bool. */
#define module_param(name, type, perm) \
    __vmalloc_module_param(name, name, __vmalloc_param_ctype_##type, VMALLOC_PARAM_##type, #type, perm)
#define module_param_named(name, value, type, perm) \
    __vmalloc_module_param(name, value, __vmalloc_param_ctype_##type, VMALLOC_PARAM_##type, #type, perm)
#define module_param_unsafe(name, type, perm) \
    __vmalloc_module_param(name, name, __vmalloc_param_ctype_##type, VMALLOC_PARAM_##type, #type, perm)
#define __vmalloc_module_param(name, value, ctype, kind, typename, perm) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(value), ctype), \
                   "module_param " #name ": the variable is not of type " typename); \
    _Static_assert((perm) >= 0 && (perm) <= 0777, "module_param " #name ": bad permissions"); \
    static const struct vmalloc_module_param __vmalloc_param_##name \
        __attribute__((section("vmalloc_module_params"), used, aligned(__alignof__(struct vmalloc_module_param)))) \
        = { #name, &(value), kind }

/* Module information: tag/value pairs in the section vmalloc_module_info (the kernel's .modinfo),
 * which the harness prints for --help. */
struct vmalloc_module_info {
    const char *tag;
    const char *value;
};
#define __VMALLOC_MODULE_INFO(tag, info, id) __VMALLOC_MODULE_INFO_(tag, info, id)
#define __VMALLOC_MODULE_INFO_(tag, info, id) \
    static const struct vmalloc_module_info __vmalloc_modinfo_##id \
        __attribute__((section("vmalloc_module_info"), used, aligned(__alignof__(struct vmalloc_module_info)))) \
        = { tag, info }
/* The tag is stringified here, before any macro could expand it. */
#define MODULE_INFO(tag, info) __VMALLOC_MODULE_INFO(#tag, info, __COUNTER__)
/* Recorded as the kernel records it: tag "parm", value "name:description". */
#define MODULE_PARM_DESC(parm, desc) __VMALLOC_MODULE_INFO("parm", #parm ":" desc, __COUNTER__)

#endif
