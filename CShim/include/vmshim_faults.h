// Process hygiene around vmalloc memory, which needs async-signal-safe C: a forked child loses
// access to the regions (pthread_atfork), and an opt-in SIGSEGV handler turns faults in guard
// pages and freed areas into KASAN-like reports before the fault ends the process.
#ifndef VMSHIM_FAULTS_H
#define VMSHIM_FAULTS_H

#include <stddef.h>

/// Register a vmalloc region so that a forked child loses access to it: a pthread_atfork child
/// handler replaces every registered region with PROT_NONE (the frames are MAP_SHARED memfd
/// pages, which a child would otherwise silently share with its parent). 0, or -ENOSPC.
int vmshim_region_register(void *base, size_t len);
void vmshim_region_unregister(void *base);

/// Writes a report for a fault at addr into buf (is_write: 1 write, 0 read, -1 unknown) and
/// returns its length, or 0 when the fault is not one it recognises.
typedef int (*vmshim_fault_reporter)(void *addr, int is_write, char *buf, int len);
/// Install (once) a SIGSEGV handler that asks `reporter`, prints its report, then restores the
/// previous disposition so the fault repeats and ends the process (or reaches the previous
/// handler) exactly as it would have without us.
void vmshim_fault_reports_install(vmshim_fault_reporter reporter);

#endif
