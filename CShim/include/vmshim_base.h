// What every vmshim header shares: the page geometry the shim and Swift agree on, and the
// marker that keeps a thread-local out of Swift's reach (Swift reads and writes it through the
// static inline accessor beside it, so its layout stays the shim's business).
#ifndef VMSHIM_BASE_H
#define VMSHIM_BASE_H

#define VMSHIM_PAGE_SHIFT 12
#define VMSHIM_PAGE_SIZE 4096UL
#define VMSHIM_NR_ORDERS 11 /* orders 0 ... 10, MAX_PAGE_ORDER = 10 */
#define VMSHIM_NIL 0xffffffffu

/// On a `_Thread_local` the inline accessors need in the header: C sees it, Swift does not.
/// Compilers without clang's availability attribute (gcc, for the C surface) only see C.
#if defined(__has_attribute)
#if __has_attribute(availability)
#define VMSHIM_SWIFT_HIDDEN __attribute__((availability(swift, unavailable, message = "use its accessor")))
#endif
#endif
#ifndef VMSHIM_SWIFT_HIDDEN
#define VMSHIM_SWIFT_HIDDEN
#endif

#endif
