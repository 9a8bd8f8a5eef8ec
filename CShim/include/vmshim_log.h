// printk's console: a whole line in one write(2), so lines from several threads do not
// interleave, and the program's name, which the kernel prints as `comm` in reports (glibc's
// program_invocation_short_name needs _GNU_SOURCE, which only .c files define).
#ifndef VMSHIM_LOG_H
#define VMSHIM_LOG_H

/// The program's short name, as the kernel prints `comm` in reports.
const char *vmshim_comm(void);
/// Write one line to stderr with a single write(2) (printk's console). Best effort: a closed
/// stderr loses the line, nothing else.
void vmshim_log_line(const char *line);

#endif
