/* The checks the C surface programs (Tests/CSurface/NAME.c) share: each CHECK prints one line saying
 * what held or what did not, and check_done() turns the tally into the exit status, so a program
 * exits 0 only if every check held. Output goes to stdout; the library's warnings go to stderr,
 * where scripts/c-test looks for them. */
#ifndef CSURFACE_CHECK_H
#define CSURFACE_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmalloc/proc.h>

static int check_passed, check_failed;

/* CHECK(cond, fmt, ...): fmt says what was checked, in words. */
#define CHECK(cond, ...)                                                                                \
    do {                                                                                                \
        if (cond) {                                                                                     \
            check_passed++;                                                                             \
            printf("  ok   ");                                                                          \
        } else {                                                                                        \
            check_failed++;                                                                             \
            printf("  FAIL %s:%d (%s) ", __FILE__, __LINE__, #cond);                                    \
        }                                                                                               \
        printf(__VA_ARGS__);                                                                            \
        printf("\n");                                                                                   \
        fflush(stdout);                                                                                 \
    } while (0)

/* CHECK_EQ(a, b, what): both sides printed as unsigned long when they differ. */
#define CHECK_EQ(a, b, what)                                                                            \
    do {                                                                                                \
        unsigned long check_a_ = (unsigned long)(a), check_b_ = (unsigned long)(b);                     \
        CHECK(check_a_ == check_b_, "%s (%lu == %lu)", what, check_a_, check_b_);                       \
    } while (0)

/* Capturing the library's warnings: it writes them to fd 2, so capture_begin() points fd 2 at a
 * temporary file and capture_end() puts stderr back, passes the captured text on to it (for
 * scripts/c-test to see too) and returns it. */
static char capture_text[16384];
static int capture_saved_fd = -1;
static FILE *capture_file;

static inline void capture_begin(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    capture_saved_fd = dup(2);
    dup2(fileno(capture_file), 2);
}

static inline const char *capture_end(void)
{
    size_t n;

    dup2(capture_saved_fd, 2);
    close(capture_saved_fd);
    rewind(capture_file);
    n = fread(capture_text, 1, sizeof(capture_text) - 1, capture_file);
    capture_text[n] = 0;
    fclose(capture_file);
    fputs(capture_text, stderr);
    return capture_text;
}

/* /proc views of the memory system ("vmallocinfo", "meminfo", ...). */
static inline const char *proc_text(const char *name)
{
    static char text[1 << 20];

    return vmalloc_proc_read(name, text, sizeof(text)) < 0 ? "" : text;
}

/* A /proc/meminfo field in kB (0 when absent). */
static inline unsigned long meminfo_kb(const char *field)
{
    const char *line = proc_text("meminfo");
    size_t len = strlen(field);

    for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
        if (strncmp(line, field, len) == 0 && line[len] == ':')
            return strtoul(line + len + 1, NULL, 10);
    return 0;
}

/* Pages the allocator keeps after everything is freed: page tables (never freed), the pages the
 * slab still holds, and per-CPU chunks (the kernel keeps an empty one as a spare and counts them
 * in meminfo's Percpu line). */
static inline unsigned long kept_pages(void)
{
    return (meminfo_kb("PageTables") + meminfo_kb("Slab") + meminfo_kb("Percpu")) / 4;
}

/* Nothing lost: once everything is freed and the lazy areas purged, the free pages plus the
 * pages the run added to what the allocator keeps (kept_pages) equal the free pages at the start. On failure
 * the /proc views show what is still held. */
#define CHECK_NOTHING_LOST(start_free, start_kept)                                                      \
    do {                                                                                                \
        unsigned long lost_free_ = nr_free_pages(), lost_kept_ = kept_pages() - (start_kept);           \
        CHECK(lost_free_ + lost_kept_ == (start_free),                                                  \
              "nothing lost: %lu free + %lu page-table/slab pages the run added == %lu free at the start", \
              lost_free_, lost_kept_, (unsigned long)(start_free));                                     \
        if (lost_free_ + lost_kept_ != (start_free))                                                    \
            printf("meminfo:\n%s", proc_text("meminfo")), printf("vmallocinfo:\n%s", proc_text("vmallocinfo")); \
    } while (0)

/* Copy the /proc/vmallocinfo line of the area starting at addr into line; false if none. */
static inline bool vmallocinfo_line(const void *addr, char *line, size_t len)
{
    const char *l = proc_text("vmallocinfo");

    for (; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strtoul(l, NULL, 16) == (unsigned long)addr) {
            size_t n = strcspn(l, "\n");

            n = n < len - 1 ? n : len - 1;
            memcpy(line, l, n);
            line[n] = 0;
            return true;
        }
    }
    snprintf(line, len, "(no line for %p)", addr);
    return false;
}

/* The exit status: 0 only when every check held. */
static inline int check_done(const char *program)
{
    printf("%s: %d checks passed, %d failed\n", program, check_passed, check_failed);
    fflush(stdout);
    return check_failed == 0 ? 0 : 1;
}

#endif
