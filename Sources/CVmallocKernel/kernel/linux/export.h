/* <linux/export.h>: EXPORT_SYMBOL and friends. Mirrors include/linux/export.h. A program has one
 * symbol namespace, so an export is only a redeclaration (it still fails to compile when the symbol
 * is not declared, as in the kernel); each needs the user's semicolon. */
#ifndef _VMALLOC_LINUX_EXPORT_H
#define _VMALLOC_LINUX_EXPORT_H

#define EXPORT_SYMBOL(sym) extern __typeof__(sym) sym
#define EXPORT_SYMBOL_GPL(sym) extern __typeof__(sym) sym
#define EXPORT_SYMBOL_NS(sym, ns) extern __typeof__(sym) sym
#define EXPORT_SYMBOL_NS_GPL(sym, ns) extern __typeof__(sym) sym

#endif
