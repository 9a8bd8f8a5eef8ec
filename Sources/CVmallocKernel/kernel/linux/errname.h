/* <linux/errname.h>: the symbolic name of an errno value. Mirrors include/linux/errname.h and
 * lib/errname.c: errname(-EAGAIN) is "-EAGAIN", errname(EAGAIN) is "EAGAIN", NULL when unknown. */
#ifndef _VMALLOC_LINUX_ERRNAME_H
#define _VMALLOC_LINUX_ERRNAME_H

const char *errname(int err);

#endif
