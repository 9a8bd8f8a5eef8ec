/* The checks the C surface programs (Tests/CSurface/*.c) share: each CHECK prints one line saying
 * what held or what did not, and check_done() turns the tally into the exit status, so a program
 * exits 0 only if every check held. Output goes to stdout; the library's warnings go to stderr,
 * where scripts/c-test looks for them. */
#ifndef CSURFACE_CHECK_H
#define CSURFACE_CHECK_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* The exit status: 0 only when every check held. */
static inline int check_done(const char *program)
{
    printf("%s: %d checks passed, %d failed\n", program, check_passed, check_failed);
    fflush(stdout);
    return check_failed == 0 ? 0 : 1;
}

#endif
