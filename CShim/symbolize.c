// Code addresses to names, as the kernel's %pS prints them ("symbol+0xoff/0xsize"): vmallocinfo's
// caller column and printk's %pS/%ps/%pB need it. The shim does it because dladdr sees only
// exported (dynamic) symbols, while the callers worth naming are often static functions of the
// program, which only the ELF .symtab of its file lists. Lookups are rare (a /proc read, a
// warning), so the symbol table is searched linearly; each object's file is mapped once.
#define _GNU_SOURCE
#include "vmshim_symbolize.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/// One loaded object's file, mapped read-only; `syms` NULL when it has no usable .symtab.
struct symfile {
    struct symfile *next;
    uintptr_t base;         /* load bias (dlpi_addr) */
    const char *path;       /* as dl_iterate_phdr names it ("" for the main program) */
    void *map;
    size_t map_len;
    const ElfW(Sym) *syms;
    size_t nsyms;
    const char *strtab;
    size_t strtab_len;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct symfile *cache;              /* guarded by cache_lock */
static unsigned long long cache_subs;      /* dlpi_subs when the cache was filled: a dlclose empties it */

struct find_object {
    uintptr_t addr;
    uintptr_t base;
    const char *path;
    unsigned long long subs;
    int found;
};

static int find_object_cb(struct dl_phdr_info *info, size_t size, void *arg) {
    struct find_object *f = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) f->subs = info->dlpi_subs;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (f->addr >= start && f->addr < start + ph->p_memsz) {
            f->base = info->dlpi_addr;
            f->path = info->dlpi_name;
            f->found = 1;
            return 1;
        }
    }
    return 0;
}

/// Map the file and find its .symtab and the string table it links to. Leaves s->syms NULL on
/// any inconsistency: a file we cannot trust names nothing.
static void symfile_load(struct symfile *s) {
    const char *file = s->path[0] ? s->path : "/proc/self/exe";
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(ElfW(Ehdr))) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            s->map = map;
            s->map_len = (size_t)st.st_size;
        }
    }
    close(fd);
    if (!s->map) return;
    const unsigned char *base = s->map;
    const ElfW(Ehdr) *eh = s->map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shentsize != sizeof(ElfW(Shdr))) return;
    if (eh->e_shoff == 0 || eh->e_shoff > s->map_len ||
        (size_t)eh->e_shnum > (s->map_len - eh->e_shoff) / sizeof(ElfW(Shdr)))
        return;
    const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(base + eh->e_shoff);
    for (ElfW(Half) i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
        const ElfW(Shdr) *str = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > s->map_len || sh[i].sh_size > s->map_len - sh[i].sh_offset) return;
        if (str->sh_offset > s->map_len || str->sh_size > s->map_len - str->sh_offset) return;
        s->syms = (const ElfW(Sym) *)(base + sh[i].sh_offset);
        s->nsyms = sh[i].sh_size / sizeof(ElfW(Sym));
        s->strtab = (const char *)(base + str->sh_offset);
        s->strtab_len = str->sh_size;
        return;
    }
}

static void cache_clear(void) {
    while (cache) {
        struct symfile *s = cache;
        cache = s->next;
        if (s->map) munmap(s->map, s->map_len);
        free((void *)s->path);
        free(s);
    }
}

/// The cached file of the object at `base`, loading it on first use; NULL when out of memory.
static struct symfile *symfile_get(uintptr_t base, const char *path, unsigned long long subs) {
    if (subs != cache_subs) {
        cache_clear();
        cache_subs = subs;
    }
    for (struct symfile *s = cache; s; s = s->next)
        if (s->base == base && strcmp(s->path, path) == 0) return s;
    struct symfile *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->path = strdup(path);
    if (!s->path) {
        free(s);
        return NULL;
    }
    s->base = base;
    symfile_load(s);
    s->next = cache;
    cache = s;
    return s;
}

/// The function in .symtab containing addr: its name, start and size. 0 when none.
static int symtab_lookup(uintptr_t addr, const char **name, uintptr_t *start, size_t *size) {
    struct find_object f = { .addr = addr };
    dl_iterate_phdr(find_object_cb, &f);
    if (!f.found) return 0;
    int found = 0;
    pthread_mutex_lock(&cache_lock);
    struct symfile *s = symfile_get(f.base, f.path, f.subs);
    uintptr_t rel = addr - f.base;
    for (size_t i = 0; s && s->syms && i < s->nsyms; i++) {
        const ElfW(Sym) *sym = &s->syms[i];
        if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_shndx == SHN_UNDEF) continue;
        if (rel < sym->st_value || rel - sym->st_value >= sym->st_size) continue;
        if (sym->st_name >= s->strtab_len) continue;
        *name = s->strtab + sym->st_name;
        *start = f.base + sym->st_value;
        *size = sym->st_size;
        found = 1;
        break;
    }
    if (found) {
        // Copied while the lock is held: once it is released, a dlclose may unmap the table.
        static _Thread_local char copy[256];
        size_t n = strnlen(*name, s->strtab_len - ((size_t)(*name - s->strtab)));
        if (n >= sizeof copy) n = sizeof copy - 1;
        memcpy(copy, *name, n);
        copy[n] = 0;
        *name = copy;
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

int vmshim_symbolize(const void *addr, char *buf, size_t len) {
    uintptr_t a = (uintptr_t)addr;
    const char *name = NULL;
    uintptr_t start = 0;
    size_t size = 0;
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) && info.dli_sname && sym &&
        a >= (uintptr_t)info.dli_saddr && a - (uintptr_t)info.dli_saddr < sym->st_size) {
        name = info.dli_sname;
        start = (uintptr_t)info.dli_saddr;
        size = sym->st_size;
    } else if (!symtab_lookup(a, &name, &start, &size)) {
        name = NULL;
    }
    int n = name ? snprintf(buf, len, "%s+0x%lx/0x%lx", name, (unsigned long)(a - start), (unsigned long)size)
                 : snprintf(buf, len, "0x%lx", (unsigned long)a);
    if (n < 0) return -EINVAL;
    return len == 0 ? 0 : (int)((size_t)n < len ? (size_t)n : len - 1);
}
