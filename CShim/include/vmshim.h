// vmshim: the mechanism under swift-vmalloc. Syscall wrappers that return -errno, the buddy
// free lists and the software page table (hot loops that profit from C), and the thread-local
// scope word (PF_MEMALLOC_* of the kernel's task_struct). Policy lives in Swift.
//
// The boundary is sealed: protections and owners cross it as the C enums below, packed frame
// metadata is read and written only through the static inline accessors here, and errors follow
// one policy (see the top of syscalls.c): a wrapper retries EINTR where the call can be
// interrupted, aborts with a message on errors only a bug can cause (EBADF, EFAULT, a failed
// munmap or close of our own mapping or fd), and returns any other failure as -errno for Swift to
// handle. Functions that cannot fail without a bug return void.
#ifndef VMSHIM_H
#define VMSHIM_H

#include <stddef.h>
#include <stdint.h>

#define VMSHIM_PAGE_SHIFT 12
#define VMSHIM_PAGE_SIZE 4096UL
#define VMSHIM_NR_ORDERS 11 /* orders 0 ... 10, MAX_PAGE_ORDER = 10 */
#define VMSHIM_NIL 0xffffffffu

/* ---- syscalls (each counted; see vmshim_syscalls) ---- */

/// memfd_create(MFD_CLOEXEC) + ftruncate: a sparse shmem object. Returns fd or -errno.
int vmshim_memfd(const char *name, uint64_t size);
/// close(2) of a descriptor we opened. Never retried (Linux frees the fd even on EINTR); aborts on
/// EBADF (a bug); other errors (EIO cannot happen for a memfd) are ignored, as close's man page
/// advises.
void vmshim_close(int fd);
/// A PROT_NONE, MAP_NORESERVE reservation of len bytes aligned to align. NULL + *err on failure.
void *vmshim_reserve(size_t len, size_t align, int *err);
/// munmap(2) of a whole reservation made by vmshim_reserve. It splits no VMA, so it can fail
/// only through a bug (EINVAL): that aborts.
void vmshim_release(void *addr, size_t len);

/// Access rights of a mapping, as vmap takes them (PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_NONE).
typedef enum : uint8_t {
    VMSHIM_PROT_NONE = 0,       /* PROT_NONE: any access faults */
    VMSHIM_PROT_READ = 1,       /* PROT_READ */
    VMSHIM_PROT_READ_WRITE = 3, /* PROT_READ | PROT_WRITE */
} vmshim_prot;

/// mmap(MAP_FIXED|MAP_SHARED, fd, off) with `prot`, optionally MAP_POPULATE. 0 or -errno.
int vmshim_map_shared(void *addr, size_t len, int fd, uint64_t off, vmshim_prot prot, int populate);
/// mmap(MAP_FIXED) of a PROT_NONE anonymous range over addr: unmaps and re-reserves. 0 or -errno.
int vmshim_map_none(void *addr, size_t len);
/// mprotect(2) with prot bits 1 read, 2 write, 4 exec (PROT_*). 0 or -errno.
int vmshim_protect(void *addr, size_t len, int prot);
/// madvise(2). 0 or -errno.
int vmshim_madvise(void *addr, size_t len, int advice);
/// madvise(MADV_GUARD_INSTALL): accesses to the range fault with SIGSEGV; the VMA is not split
/// and populated pages are zapped (a memfd keeps their content). Linux 6.13+. 0 or -errno.
int vmshim_guard_install(void *addr, size_t len);
/// 1 when guard markers work on a MAP_SHARED memfd mapping on this kernel, else 0.
int vmshim_guard_probe(void);
/// mbind(MPOL_BIND) of [addr, addr+len) to one real node (shared policy of a shmem object).
int vmshim_mbind_node(void *addr, size_t len, int node, int max_node);
/// fallocate(PUNCH_HOLE|KEEP_SIZE): give frames' memory back to the OS. 0 or -errno.
int vmshim_punch(int fd, uint64_t off, uint64_t len);
/// Lines of /proc/self/maps: the process's VMA count, or -errno.
int vmshim_count_vmas(void);
/// /proc/sys/vm/max_map_count, or 65530 when it cannot be read.
int vmshim_max_map_count(void);
/// Syscalls made through this shim by all threads since start.
uint64_t vmshim_syscalls(void);
/// Syscalls made through this shim by the calling thread.
uint64_t vmshim_thread_syscalls(void);

/* ---- frame metadata and buddy free lists (mm/page_alloc.c mechanism) ---- */

/// A frame's `flags`: it heads a free block (on a buddy list) or an allocated one.
enum { VMSHIM_PG_BUDDY = 1, VMSHIM_PG_HEAD = 2 };

/// Who holds an allocated block (a frame's `owner`).
typedef enum : uint8_t {
    VMSHIM_OWNER_NONE = 0,
    VMSHIM_OWNER_PAGES = 1,     /* alloc_pages caller */
    VMSHIM_OWNER_VMALLOC = 2,   /* frames of a vmalloc area */
    VMSHIM_OWNER_PAGETABLE = 3, /* software page-table pages */
    VMSHIM_OWNER_SLAB = 4,      /* kmalloc slabs */
    VMSHIM_OWNER_LARGE_KMALLOC = 5,
} vmshim_owner;

/// Per-frame metadata: 16 bytes per 4 KiB frame (struct page). next/prev link free blocks;
/// once allocated they and `priv` belong to the owner (slab, vmalloc, page table).
typedef struct vmshim_page {
    uint32_t next;
    uint32_t prev;
    uint32_t priv;
    uint8_t order; /* order of the block this frame heads */
    uint8_t flags; /* VMSHIM_PG_* */
    vmshim_owner owner; /* who holds an allocated block */
    uint8_t spare;
} vmshim_page;

/* ---- the one free-list implementation: blocks doubly linked through their head frame's
 * next/prev (the buddy lists in buddy.c, the slab partial and empty lists in Swift) ---- */

/// Put block `idx` at the front of the list whose first index is *head (VMSHIM_NIL: empty).
static inline void vmshim_list_push(vmshim_page *meta, uint32_t *head, uint32_t idx) {
    meta[idx].prev = VMSHIM_NIL;
    meta[idx].next = *head;
    if (*head != VMSHIM_NIL) meta[*head].prev = idx;
    *head = idx;
}

/// Take block `idx` off the list whose first index is *head; its links are cleared.
static inline void vmshim_list_unlink(vmshim_page *meta, uint32_t *head, uint32_t idx) {
    uint32_t next = meta[idx].next, prev = meta[idx].prev;
    if (prev != VMSHIM_NIL) meta[prev].next = next;
    else *head = next;
    if (next != VMSHIM_NIL) meta[next].prev = prev;
    meta[idx].next = meta[idx].prev = VMSHIM_NIL;
}

/* ---- packed metadata fields: read and written only through these accessors ---- */

/// Whether the frame heads an allocated block (its order and owner are valid).
static inline int vmshim_page_is_head(const vmshim_page *p) { return p->flags == VMSHIM_PG_HEAD; }

/// A slab's free-list head when it has no free object.
#define VMSHIM_SLAB_NO_OBJECT 0xffffu
/// A slab head's `priv`: the index of its first free object (low 16 bits) ...
static inline uint32_t vmshim_slab_free_index(const vmshim_page *p) { return p->priv & 0xffffu; }
/// ... and its objects in use (high 16 bits).
static inline uint32_t vmshim_slab_inuse(const vmshim_page *p) { return p->priv >> 16; }
static inline void vmshim_slab_set_objects(vmshim_page *p, uint32_t free_index, uint32_t inuse) {
    p->priv = inuse << 16 | (free_index & 0xffffu);
}
/// A slab head's `spare`: its kmalloc cache index (high 4 bits) and CPU shard (low 4 bits).
static inline unsigned vmshim_slab_cache(const vmshim_page *p) { return p->spare >> 4; }
static inline unsigned vmshim_slab_shard(const vmshim_page *p) { return p->spare & 15u; }
static inline void vmshim_slab_set_cache_shard(vmshim_page *p, unsigned cache, unsigned shard) {
    p->spare = (uint8_t)(cache << 4 | (shard & 15u));
}
/// A tail frame of a slab or large kmalloc block: `priv` is its head's pfn.
static inline uint32_t vmshim_tail_head(const vmshim_page *p) { return p->priv; }
static inline void vmshim_tail_set_head(vmshim_page *p, uint32_t head) { p->priv = head; }


/// One node's buddy free lists over `nr_pages` frames whose metadata starts at `meta`.
typedef struct vmshim_zone {
    vmshim_page *meta;
    uint32_t nr_pages;
    uint32_t free_head[VMSHIM_NR_ORDERS];
    uint64_t nr_free[VMSHIM_NR_ORDERS];
    uint64_t free_pages;
} vmshim_zone;

/// calloc'ed metadata for nr frames (NULL on failure); vmshim_meta_destroy frees it.
vmshim_page *vmshim_meta_create(uint64_t nr);
void vmshim_meta_destroy(vmshim_page *meta);
/// A zone whose frames are all free, in blocks of the highest order that fits. NULL on failure.
vmshim_zone *vmshim_zone_create(vmshim_page *meta, uint32_t nr_pages);
void vmshim_zone_destroy(vmshim_zone *zone);
/// Take a block of 2^order frames; returns its first frame's index in the zone, or -1.
int64_t vmshim_zone_alloc(vmshim_zone *zone, unsigned order);
/// Return a block taken by vmshim_zone_alloc, merging with free buddies. 0, or -EINVAL when
/// idx does not head an allocated block of that order (double free, wrong order): nothing changes.
int vmshim_zone_free(vmshim_zone *zone, uint32_t idx, unsigned order);
/// Up to `max` free blocks of order ≥ min_order: their first frame's index and order.
/// Returns how many were written.
uint32_t vmshim_zone_free_blocks(const vmshim_zone *zone, unsigned min_order, uint32_t *idx_out,
                                 uint8_t *order_out, uint32_t max);
/// Free blocks of each order, for /proc/buddyinfo (out has VMSHIM_NR_ORDERS slots).
void vmshim_zone_counts(const vmshim_zone *zone, uint64_t *out);
static inline uint64_t vmshim_zone_free_pages(const vmshim_zone *zone) { return zone->free_pages; }

/* ---- software page table: 4 levels of 512 entries (arch page tables) ---- */

/// Table pages live in the direct map (`direct` + pfn * PAGE_SIZE). An entry is pfn << 12 | 1.
/// `off` is the byte offset of an address within the vmalloc region.
/// Which table on the walk to `off` is missing: 3 (PUD), 2 (PMD), 1 (PTE), or 0 when all exist.
int vmshim_pt_missing(uint8_t *direct, uint64_t root_pfn, uint64_t off);
/// Install a zeroed table page `pfn` as the level-`level` table covering off. 1 when installed,
/// 0 when another thread installed one first (the caller frees its page).
int vmshim_pt_install(uint8_t *direct, uint64_t root_pfn, uint64_t off, int level, uint64_t pfn);
/// Set `count` PTEs from off to consecutive frames starting at pfn. Tables must exist.
void vmshim_pt_set_run(uint8_t *direct, uint64_t root_pfn, uint64_t off, uint64_t pfn, uint64_t count);
/// Clear `count` PTEs from off (tables that are missing are skipped).
void vmshim_pt_clear(uint8_t *direct, uint64_t root_pfn, uint64_t off, uint64_t count);
/// The frame mapped at off, or -1.
int64_t vmshim_pt_lookup(uint8_t *direct, uint64_t root_pfn, uint64_t off);
/// The PTE table covering off, or NULL when a level is missing. Tables never move or go away,
/// so an area may keep the pointer and map or clear its pages without the walk (the fast path).
uint64_t *vmshim_pt_leaf(uint8_t *direct, uint64_t root_pfn, uint64_t off);
/// Set `count` entries of one PTE table from index i to consecutive frames from pfn
/// (i + count <= 512).
static inline void vmshim_pte_set(uint64_t *t, uint64_t i, uint64_t pfn, uint64_t count) {
    for (uint64_t k = 0; k < count; k++)
        __atomic_store_n(&t[i + k], ((pfn + k) << VMSHIM_PAGE_SHIFT) | 1ULL, __ATOMIC_RELEASE);
}
/// Clear `count` entries of one PTE table from index i (i + count <= 512).
static inline void vmshim_pte_clear(uint64_t *t, uint64_t i, uint64_t count) {
    for (uint64_t k = 0; k < count; k++) __atomic_store_n(&t[i + k], 0, __ATOMIC_RELEASE);
}

/// Bytes of the file fd resident in memory (fstat st_blocks × 512), or -errno.
int64_t vmshim_resident_bytes(int fd);

/* ---- process facts ---- */
/// Name the calling thread (its `comm`, at most 15 bytes kept), for ps, gdb and perf.
void vmshim_thread_set_name(const char *name);
/// The CPU the calling thread runs on (sched_getcpu), or -1.
int vmshim_cpu(void);
extern _Thread_local unsigned vmshim_thread_index_plus_one;
unsigned vmshim_thread_index_first(void);
/// A small number for the calling thread, handed out in order of first call (0, 1, 2, ...) and
/// stable for the thread's life: a home shard that does not move when the thread migrates.
/// Inline: it is read on every vmalloc, and after the first call it is one thread-local load.
static inline unsigned vmshim_thread_index(void) {
    unsigned i = vmshim_thread_index_plus_one;
    return i ? i - 1 : vmshim_thread_index_first();
}
/// 1 when this library was built with ThreadSanitizer (`Lock` then shows TSan its ordering).
extern const int vmshim_tsan;
/// The program's short name, as the kernel prints `comm` in reports.
const char *vmshim_comm(void);
/// Write one line to stderr with a single write(2) (printk's console).
void vmshim_log_line(const char *line);

/* ---- fork hygiene and fault reports ---- */

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

/* ---- memory helpers ---- */
void vmshim_zero(void *p, size_t len);
void vmshim_copy(void *dst, const void *src, size_t len);

/* ---- the current task: its flags word is the kernel's current->flags ---- */

/// The kernel's PF_* values, so C code that sets a bit directly (`current->flags |=
/// PF_MEMALLOC_NOIO`, as bcachefs does) is honoured like memalloc_noio_save().
enum {
    VMSHIM_PF_MEMALLOC = 0x800,
    VMSHIM_PF_KSWAPD = 0x20000,
    VMSHIM_PF_MEMALLOC_NOFS = 0x40000,
    VMSHIM_PF_MEMALLOC_NOIO = 0x80000,
    VMSHIM_PF_MEMALLOC_PIN = 0x10000000,
};
/// One thread's task_struct. The C surface's `struct task_struct` has this layout (checked
/// there), and `current` is the calling thread's copy.
typedef struct vmshim_task {
    uint32_t flags;  /* PF_*: the scope word every allocation reads */
    int32_t pid;     /* the thread id, filled on first use of `current` */
    char comm[16];   /* the thread name, likewise */
    void *kthread;   /* the kthread record when kthread_run started this thread, else NULL */
} vmshim_task;
extern _Thread_local vmshim_task vmshim_current_task;
static inline uint32_t vmshim_flags_get(void) { return vmshim_current_task.flags; }
static inline void vmshim_flags_set(uint32_t f) { vmshim_current_task.flags = f; }
/// Record a save token on this thread's stack (saves nest LIFO). 0, or -1 when too deep.
int vmshim_scope_push(uint32_t token);
/// Pop the token a restore hands back. 0 when it is the top of this thread's stack, -1 when
/// this thread has no open save (restore on another thread, or twice), -2 when it is not the top.
int vmshim_scope_pop(uint32_t token);

/* ---- reclaim mechanism: wait queues, per-thread reclaim and held-lock state ---- */
#include "vmshim_reclaim.h"

/* ---- symbols: %pS for printk and vmallocinfo's caller column ---- */

/// Writes "symbol+0xoff/0xsize" for the function containing the code address addr (static functions
/// too, from the ELF .symtab of the object's file), or "0x<hex>" when none does, into buf
/// (NUL-terminated, truncated to len). Returns the length written, or -EINVAL.
int vmshim_symbolize(const void *addr, char *buf, size_t len);

#endif
