// The /proc views for C programs (<vmalloc/proc.h>): the Swift side renders them.
#include <vmalloc/proc.h>

#include "vmalloc_abi.h"

long vmalloc_proc_read(const char *name, char *buf, size_t len) { return vmc_proc_read(name, buf, len); }
