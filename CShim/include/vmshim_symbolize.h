// Code addresses to names, as the kernel's %pS prints them: printk's %pS/%ps/%pB and
// vmallocinfo's caller column. In C because static functions are named only in the ELF .symtab
// of the object's file, which dladdr does not read.
#ifndef VMSHIM_SYMBOLIZE_H
#define VMSHIM_SYMBOLIZE_H

#include <stddef.h>

/// Writes "symbol+0xoff/0xsize" for the function containing the code address addr (static functions
/// too, from the ELF .symtab of the object's file), or "0x<hex>" when none does, into buf
/// (NUL-terminated, truncated to len). Returns the length written, or -EINVAL.
int vmshim_symbolize(const void *addr, char *buf, size_t len);

#endif
