// printk's console and the program's name (vmshim_log.h). Logging is best effort: a closed
// stderr loses the line, nothing else.
#define _GNU_SOURCE
#include "vmshim_log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

const char *vmshim_comm(void) { return program_invocation_short_name; }

void vmshim_log_line(const char *line) {
    size_t n = strlen(line);
    char buf[1024];
    if (n > sizeof buf - 2) n = sizeof buf - 2;
    memcpy(buf, line, n);
    buf[n++] = '\n';
    ssize_t w;
    do { w = write(2, buf, n); } while (w < 0 && errno == EINTR);
}
