// The calling thread's task and its stack of open memalloc scope saves (vmshim_task.h).
#include "vmshim_task.h"

_Thread_local vmshim_task vmshim_current_task;

// Saves nest LIFO; 256 open saves on one thread is far past any real nesting.
static _Thread_local uint32_t scope_stack[256];
static _Thread_local int scope_depth;

int vmshim_scope_push(uint32_t token) {
    if (scope_depth >= 256) return -1;
    scope_stack[scope_depth++] = token;
    return 0;
}

int vmshim_scope_pop(uint32_t token) {
    if (scope_depth == 0) return -1;
    if (scope_stack[scope_depth - 1] != token) return -2;
    scope_depth--;
    return 0;
}
