// vmshim: the mechanism under swift-vmalloc, one header per concept. Policy lives in Swift.
//
// The boundary is sealed: protections and owners cross it as C enums, packed frame metadata is
// read and written only through static inline accessors, thread-locals only through inline
// accessors (Swift cannot name the variables), and syscall wrappers follow one errno policy
// (vmshim_syscalls.h). This umbrella includes them all, for C code that wants the whole shim.
#ifndef VMSHIM_H
#define VMSHIM_H

#include "vmshim_base.h"
#include "vmshim_buddy.h"
#include "vmshim_faults.h"
#include "vmshim_log.h"
#include "vmshim_memory.h"
#include "vmshim_page.h"
#include "vmshim_pagetable.h"
#include "vmshim_rcu.h"
#include "vmshim_reclaim.h"
#include "vmshim_symbolize.h"
#include "vmshim_syscalls.h"
#include "vmshim_task.h"
#include "vmshim_thread.h"

#endif
