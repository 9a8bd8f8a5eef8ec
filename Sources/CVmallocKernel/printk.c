/* printk, the pr_* family's backend, and the kernel's formatting calls (scnprintf, kasprintf).
 * Mirrors kernel/printk/printk.c and lib/vsprintf.c. glibc's vsnprintf does the standard
 * conversions, but it must never see the kernel's pointer extensions (%pS would print a pointer
 * and a stray 'S'), so the format is walked here: each conversion takes its argument with the
 * va_arg type its length modifier and conversion call for, and standard ones go to snprintf one
 * at a time. Messages reach stderr in one write(2) each, without their KERN_* level. */
#define _GNU_SOURCE
#include <linux/bug.h>
#include <linux/err.h>
#include <linux/errname.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sprintf.h>

#include <ctype.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmalloc_abi.h"
#include "vmshim_symbolize.h"
#include "vmshim_thread.h"

/* The kernel's record size: a longer message is cut, as there. */
#define LINE_MAX_BYTES 1024

/* Output into buf[0..<size); len counts everything produced, so it can exceed size (snprintf's rule). */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, const char *s, size_t n) {
    if (o->len < o->size) {
        size_t room = o->size - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

/* `s` padded to `width` (on the left unless `left`), as %s would be. */
static void put_padded(struct out *o, const char *s, int width, bool left) {
    size_t n = strlen(s);
    size_t pad = width > 0 && (size_t)width > n ? (size_t)width - n : 0;
    if (left) put(o, s, n);
    for (size_t i = 0; i < pad; i++) put(o, " ", 1);
    if (!left) put(o, s, n);
}

/* snprintf of one standard conversion `spec` straight into the output. */
__attribute__((format(printf, 2, 3))) static void put_spec(struct out *o, const char *spec, ...) {
    char *at = o->len < o->size ? o->buf + o->len : NULL;
    size_t room = at ? o->size - o->len : 0;
    va_list ap;
    va_start(ap, spec);
    int n = vsnprintf(at, room, spec, ap);
    va_end(ap);
    if (n > 0) o->len += (size_t)n;
}

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_J, LEN_Z, LEN_T, LEN_BIG_L };

static void format(struct out *o, const char *fmt, va_list *ap);

/* %pS/%ps/%pB of a code address. %pB names a return address: it symbolizes addr - 1 (the call,
 * which may be the function's last instruction) and reports the offset of addr itself. */
static void symbol_string(char *s, size_t len, const void *addr, char kind) {
    if (kind != 'B') {
        vmshim_symbolize(addr, s, len);
    } else {
        char tmp[256];
        vmshim_symbolize((const char *)addr - 1, tmp, sizeof tmp);
        char *plus = strstr(tmp, "+0x");
        char *slash = plus ? strchr(plus, '/') : NULL;
        if (plus && slash) {
            *plus = 0;
            snprintf(s, len, "%s+0x%lx%s", tmp, strtoul(plus + 3, NULL, 16) + 1, slash);
        } else {
            snprintf(s, len, "0x%lx", (unsigned long)(uintptr_t)addr);
        }
    }
    if (kind == 's') s[strcspn(s, "+")] = 0;
}

/* The kernel's %p extensions; fmt points just past the 'p'. Returns fmt past the extension letters,
 * which, as in the kernel, are all the alphanumeric characters that follow. */
static const char *pointer(struct out *o, const char *fmt, void *p, int width, bool left) {
    char s[300];
    switch (*fmt) {
    case 'S': case 's': case 'B': case 'F': case 'f':
        symbol_string(s, sizeof s, p, *fmt == 'F' ? 'S' : *fmt == 'f' ? 's' : *fmt);
        break;
    case 'e':
        if (IS_ERR(p) && errname((int)PTR_ERR(p)))
            snprintf(s, sizeof s, "%s", errname((int)PTR_ERR(p)));
        else if (IS_ERR(p))
            snprintf(s, sizeof s, "%ld", PTR_ERR(p));
        else
            snprintf(s, sizeof s, "%016lx", (unsigned long)(uintptr_t)p);
        break;
    case 'a':
        if (p)
            snprintf(s, sizeof s, "0x%016llx", (unsigned long long)*(const phys_addr_t *)p);
        else
            snprintf(s, sizeof s, "(null)");
        break;
    case 'V':
        if (p) {
            const struct va_format *vaf = p;
            va_list ap;
            va_copy(ap, *vaf->va);
            format(o, vaf->fmt, &ap);
            va_end(ap);
            while (isalnum((unsigned char)*fmt)) fmt++;
            return fmt;
        }
        snprintf(s, sizeof s, "(null)");
        break;
    default: /* x, K, plain %p and extensions not done here: the raw value, zero-padded as %px */
        snprintf(s, sizeof s, "%016lx", (unsigned long)(uintptr_t)p);
        break;
    }
    put_padded(o, s, width, left);
    while (isalnum((unsigned char)*fmt)) fmt++;
    return fmt;
}

/* One conversion's argument, by its C type, handed to snprintf with the * width and precision. */
#define EMIT(T) do { \
        T v_ = va_arg(*ap, T); \
        if (star_w && star_p) put_spec(o, spec, w, pr, v_); \
        else if (star_w) put_spec(o, spec, w, v_); \
        else if (star_p) put_spec(o, spec, pr, v_); \
        else put_spec(o, spec, v_); \
    } while (0)

static void format(struct out *o, const char *fmt, va_list *ap) {
    while (*fmt) {
        if (*fmt != '%') {
            const char *pct = strchrnul(fmt, '%');
            put(o, fmt, (size_t)(pct - fmt));
            fmt = pct;
            continue;
        }
        const char *start = fmt++;
        if (*fmt == '%') {
            put(o, "%", 1);
            fmt++;
            continue;
        }
        bool left = false;
        while (*fmt && strchr("-+ #0'", *fmt)) left |= *fmt++ == '-';
        bool star_w = false, star_p = false;
        int w = 0, pr = 0, width = 0;
        if (*fmt == '*') {
            star_w = true;
            w = va_arg(*ap, int);
            width = w < 0 ? -w : w; /* a negative * width means left-justified, as in printf */
            left |= w < 0;
            fmt++;
        } else {
            while (isdigit((unsigned char)*fmt)) width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') {
                star_p = true;
                pr = va_arg(*ap, int);
                fmt++;
            } else {
                while (isdigit((unsigned char)*fmt)) fmt++;
            }
        }
        enum length len = LEN_NONE;
        switch (*fmt) {
        case 'h': len = fmt[1] == 'h' ? LEN_HH : LEN_H; fmt += len == LEN_HH ? 2 : 1; break;
        case 'l': len = fmt[1] == 'l' ? LEN_LL : LEN_L; fmt += len == LEN_LL ? 2 : 1; break;
        case 'q': len = LEN_LL; fmt++; break;
        case 'j': len = LEN_J; fmt++; break;
        case 'z': case 'Z': len = LEN_Z; fmt++; break;
        case 't': len = LEN_T; fmt++; break;
        case 'L': len = LEN_BIG_L; fmt++; break;
        }
        char conv = *fmt;
        if (!conv) { /* a lone '%' at the end: printed as it is */
            put(o, start, (size_t)(fmt - start));
            break;
        }
        fmt++;
        char spec[40];
        size_t speclen = (size_t)(fmt - start);
        if (speclen >= sizeof spec || conv == 'p' || conv == 'n') {
            if (conv == 'p') {
                fmt = pointer(o, fmt, va_arg(*ap, void *), width, left);
            } else if (conv == 'n') {
                (void)va_arg(*ap, void *); /* the kernel ignores %n too */
            } else {
                put(o, start, speclen);
            }
            continue;
        }
        memcpy(spec, start, speclen);
        spec[speclen] = 0;
        /* 'Z' is the kernel's old spelling of 'z'; glibc knows only 'z'. */
        char *big_z = strchr(spec, 'Z');
        if (big_z) *big_z = 'z';
        switch (conv) {
        case 'd': case 'i':
            switch (len) {
            case LEN_L: EMIT(long); break;
            case LEN_LL: EMIT(long long); break;
            case LEN_J: EMIT(intmax_t); break;
            case LEN_Z: EMIT(ssize_t); break;
            case LEN_T: EMIT(ptrdiff_t); break;
            default: EMIT(int); break; /* hh and h arrive promoted to int */
            }
            break;
        case 'u': case 'o': case 'x': case 'X':
            switch (len) {
            case LEN_L: EMIT(unsigned long); break;
            case LEN_LL: EMIT(unsigned long long); break;
            case LEN_J: EMIT(uintmax_t); break;
            case LEN_Z: EMIT(size_t); break;
            case LEN_T: EMIT(ptrdiff_t); break;
            default: EMIT(unsigned int); break;
            }
            break;
        case 'c':
            EMIT(int);
            break;
        case 's':
            EMIT(const char *);
            break;
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
            if (len == LEN_BIG_L) EMIT(long double);
            else EMIT(double);
            break;
        default: /* not a conversion: the text as written, as the kernel prints it */
            put(o, start, speclen);
            break;
        }
    }
}

/* Formats into buf (NUL-terminated when size > 0); returns the full length, as vsnprintf. */
static size_t format_into(char *buf, size_t size, const char *fmt, va_list args) {
    struct out o = { buf, size, 0 };
    va_list ap;
    va_copy(ap, args);
    format(&o, fmt, &ap);
    va_end(ap);
    if (size) buf[o.len < size ? o.len : size - 1] = 0;
    return o.len;
}

int vscnprintf(char *buf, size_t size, const char *fmt, va_list args) {
    size_t n = format_into(buf, size, fmt, args);
    if (size == 0) return 0;
    return (int)(n < size ? n : size - 1);
}

int scnprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vscnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

char *kvasprintf(gfp_t gfp, const char *fmt, va_list args) {
    size_t n = format_into(NULL, 0, fmt, args);
    char *s = vmc_kmalloc(n + 1, gfp, -1);
    if (s) format_into(s, n + 1, fmt, args);
    return s;
}

char *kasprintf(gfp_t gfp, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = kvasprintf(gfp, fmt, ap);
    va_end(ap);
    return s;
}

/* Whether the last message left its line open (no newline yet): pr_cont continues it, anything
 * else ends it first, as the kernel ends an open record when a new one begins. */
static bool line_open;

static void write_all(const char *s, size_t n) {
    while (n) {
        ssize_t w = write(2, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return; /* stderr closed or full: the message is lost, nothing else */
        s += w;
        n -= (size_t)w;
    }
}

int vprintk(const char *fmt, va_list args) {
    bool cont = false;
    /* Each level marker is KERN_SOH and one character; "c" is KERN_CONT. */
    while (fmt[0] == KERN_SOH_ASCII && fmt[1]) {
        cont |= fmt[1] == 'c';
        fmt += 2;
    }
    char line[LINE_MAX_BYTES + 2];
    size_t at = 0;
    bool was_open = __atomic_load_n(&line_open, __ATOMIC_RELAXED);
    if (was_open && !cont) line[at++] = '\n';
    size_t n = format_into(line + at, LINE_MAX_BYTES, fmt, args);
    if (n >= LINE_MAX_BYTES) { /* cut: end the line, so the next message starts on its own */
        n = LINE_MAX_BYTES - 1;
        line[at + n++] = '\n';
    }
    at += n;
    __atomic_store_n(&line_open, n > 0 ? line[at - 1] != '\n' : was_open && cont, __ATOMIC_RELAXED);
    write_all(line, at);
    return (int)n;
}

int printk(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

int __vm_ratelimit(struct ratelimit_state *rs) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    pthread_mutex_lock(&lock);
    if (rs->begin_ns == 0 || now - rs->begin_ns >= 5000000000LL) {
        rs->begin_ns = now;
        rs->printed = 0;
    }
    int ok = rs->printed < 10;
    if (ok) rs->printed++;
    pthread_mutex_unlock(&lock);
    return ok;
}

void dump_stack(void) {
    void *frames[64];
    int n = backtrace(frames, 64);
    struct task_struct *t = current;
    printk(KERN_DEFAULT "CPU: %d PID: %d Comm: %.16s\nCall Trace:\n", vmshim_cpu(), t->pid, t->comm);
    for (int i = 1; i < n; i++) printk(KERN_DEFAULT " %pB\n", frames[i]);
}

void __vm_warn_at(const char *file, int line) {
    printk(KERN_WARNING "WARNING: CPU: %d PID: %d at %s:%d %pS\n", vmshim_cpu(), current->pid, file, line,
           __builtin_return_address(0));
}

void __vm_warn_printk_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk(KERN_WARNING "WARNING: CPU: %d PID: %d at %s:%d %pS\n", vmshim_cpu(), current->pid, file, line,
           __builtin_return_address(0));
}

void __vm_bug_at(const char *file, int line) {
    printk(KERN_EMERG "kernel BUG at %s:%d!\n", file, line);
    abort();
}
