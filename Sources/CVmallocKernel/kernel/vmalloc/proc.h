/* <vmalloc/proc.h>: what the kernel would show in /proc for this process's memory system. Not a
 * kernel header: a C program here has no /proc/vmallocinfo of its own to read, so it asks. */
#ifndef _VMALLOC_PROC_H
#define _VMALLOC_PROC_H

#include <stddef.h>

/* Copies the text of /proc/`name` ("vmallocinfo", "meminfo", "buddyinfo", "slabinfo") into buf,
 * NUL-terminated and truncated to len bytes, and returns its full length (call again with a
 * larger buffer when it is len or more), or -1 for an unknown name. */
long vmalloc_proc_read(const char *name, char *buf, size_t len);

#endif
