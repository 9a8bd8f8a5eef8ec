/* The module harness (vmalloc-module): `main` for a kernel-style module, as insmod/modprobe and the
 * module loader (kernel/module/main.c, kernel/params.c) would drive it. Arguments are `key=value`
 * (a bool may be given as `key` alone, meaning true); each sets the module_param of that name, or
 * the program refuses to start, naming it, as modprobe does. Then module_init's function runs, and
 * when it returns 0, module_exit's (if the module has one). Exit status: 0 when init returned 0,
 * 1 when it failed (printed as "init returned -EAGAIN"), 2 for a bad parameter. */
#define _GNU_SOURCE
#include "vmalloc_module.h"

#include <linux/errname.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *progname;

/* Names match with '-' and '_' alike, as the kernel's parameq(). */
static bool param_eq(const char *a, const char *b, size_t blen) {
    size_t i = 0;
    for (; i < blen && a[i]; i++) {
        char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
        if (x != y) return false;
    }
    return i == blen && a[i] == 0;
}

static const struct vmalloc_module_param *find_param(const char *name, size_t len) {
    for (const struct vmalloc_module_param *p = __start_vmalloc_module_params; p < __stop_vmalloc_module_params; p++)
        if (param_eq(p->name, name, len)) return p;
    return NULL;
}

/* The whole string as a number, base as the kernel's kstrto* with base 0 (0x hex, 0 octal); a
 * trailing newline is allowed, as there; no leading space, no sign on an unsigned value. */
static bool parse_signed(const char *s, long long min, long long max, long long *out) {
    if (!*s || isspace((unsigned char)*s)) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (*end == '\n') end++;
    if (errno || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

static bool parse_unsigned(const char *s, unsigned long long max, unsigned long long *out) {
    if (*s == '+') s++;
    if (!*s || isspace((unsigned char)*s) || *s == '-' || *s == '+') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end == '\n') end++;
    if (errno || *end || v > max) return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out) {
    static const char *const yes[] = { "y", "yes", "1", "true", "on" };
    static const char *const no[] = { "n", "no", "0", "false", "off" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = true, true;
        if (strcasecmp(s, no[i]) == 0) return *out = false, true;
    }
    return false;
}

/* Sets p from val (NULL: the key was given alone). false when val does not parse for p's type. */
static bool set_param(const struct vmalloc_module_param *p, const char *val) {
    long long s;
    unsigned long long u;
    bool b;
    if (!val) { /* `key` alone: true for a bool, as the kernel's param_set_bool(NULL) */
        if (p->type != VMALLOC_PARAM_bool && p->type != VMALLOC_PARAM_invbool) return false;
        val = "1";
    }
    switch (p->type) {
    case VMALLOC_PARAM_int:
        if (!parse_signed(val, INT_MIN, INT_MAX, &s)) return false;
        *(int *)p->value = (int)s;
        return true;
    case VMALLOC_PARAM_long:
        if (!parse_signed(val, LONG_MIN, LONG_MAX, &s)) return false;
        *(long *)p->value = (long)s;
        return true;
    case VMALLOC_PARAM_short:
        if (!parse_signed(val, SHRT_MIN, SHRT_MAX, &s)) return false;
        *(short *)p->value = (short)s;
        return true;
    case VMALLOC_PARAM_uint:
    case VMALLOC_PARAM_hexint:
        if (!parse_unsigned(val, UINT_MAX, &u)) return false;
        *(unsigned int *)p->value = (unsigned int)u;
        return true;
    case VMALLOC_PARAM_ulong:
        if (!parse_unsigned(val, ULONG_MAX, &u)) return false;
        *(unsigned long *)p->value = (unsigned long)u;
        return true;
    case VMALLOC_PARAM_ushort:
        if (!parse_unsigned(val, USHRT_MAX, &u)) return false;
        *(unsigned short *)p->value = (unsigned short)u;
        return true;
    case VMALLOC_PARAM_byte:
        if (!parse_unsigned(val, UCHAR_MAX, &u)) return false;
        *(unsigned char *)p->value = (unsigned char)u;
        return true;
    case VMALLOC_PARAM_bool:
    case VMALLOC_PARAM_invbool:
        if (!parse_bool(val, &b)) return false;
        *(bool *)p->value = p->type == VMALLOC_PARAM_invbool ? !b : b;
        return true;
    case VMALLOC_PARAM_charp:
        *(char **)p->value = (char *)val; /* argv lives as long as the program */
        return true;
    }
    return false;
}

static const char *const type_names[] = {
    [VMALLOC_PARAM_int] = "int", [VMALLOC_PARAM_uint] = "uint", [VMALLOC_PARAM_hexint] = "hexint",
    [VMALLOC_PARAM_long] = "long", [VMALLOC_PARAM_ulong] = "ulong", [VMALLOC_PARAM_short] = "short",
    [VMALLOC_PARAM_ushort] = "ushort", [VMALLOC_PARAM_byte] = "byte", [VMALLOC_PARAM_bool] = "bool",
    [VMALLOC_PARAM_invbool] = "invbool", [VMALLOC_PARAM_charp] = "charp",
};

/* The current value, as modinfo and /sys/module/.../parameters show it. */
static void print_value(FILE *f, const struct vmalloc_module_param *p) {
    switch (p->type) {
    case VMALLOC_PARAM_int: fprintf(f, "%d", *(int *)p->value); break;
    case VMALLOC_PARAM_uint: fprintf(f, "%u", *(unsigned int *)p->value); break;
    case VMALLOC_PARAM_hexint: fprintf(f, "0x%x", *(unsigned int *)p->value); break;
    case VMALLOC_PARAM_long: fprintf(f, "%ld", *(long *)p->value); break;
    case VMALLOC_PARAM_ulong: fprintf(f, "%lu", *(unsigned long *)p->value); break;
    case VMALLOC_PARAM_short: fprintf(f, "%hd", *(short *)p->value); break;
    case VMALLOC_PARAM_ushort: fprintf(f, "%hu", *(unsigned short *)p->value); break;
    case VMALLOC_PARAM_byte: fprintf(f, "%hhu", *(unsigned char *)p->value); break;
    case VMALLOC_PARAM_bool: fputs(*(bool *)p->value ? "Y" : "N", f); break;
    case VMALLOC_PARAM_invbool: fputs(*(bool *)p->value ? "N" : "Y", f); break;
    case VMALLOC_PARAM_charp: fputs(*(char **)p->value ? *(char **)p->value : "(null)", f); break;
    }
}

/* modinfo's view: the module's tags, then each parameter with its type, default and description. */
static void usage(FILE *f) {
    fprintf(f, "usage: %s [param=value ...]\n", progname);
    for (const struct vmalloc_module_info *i = __start_vmalloc_module_info; i < __stop_vmalloc_module_info; i++)
        if (strcmp(i->tag, "parm") != 0) fprintf(f, "%s: %s\n", i->tag, i->value);
    for (const struct vmalloc_module_param *p = __start_vmalloc_module_params; p < __stop_vmalloc_module_params; p++) {
        fprintf(f, "parm: %s (%s, now ", p->name, type_names[p->type]);
        print_value(f, p);
        fputs(")", f);
        size_t n = strlen(p->name);
        for (const struct vmalloc_module_info *i = __start_vmalloc_module_info; i < __stop_vmalloc_module_info; i++)
            if (strcmp(i->tag, "parm") == 0 && strncmp(i->value, p->name, n) == 0 && i->value[n] == ':')
                fprintf(f, ": %s", i->value + n + 1);
        fputs("\n", f);
    }
}

int main(int argc, char **argv) {
    progname = argc > 0 ? (strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]) : "module";
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        size_t keylen = eq ? (size_t)(eq - arg) : strlen(arg);
        const struct vmalloc_module_param *p = find_param(arg, keylen);
        if (!p) {
            fprintf(stderr, "%s: unknown parameter '%.*s'\n", progname, (int)keylen, arg);
            return 2;
        }
        if (!set_param(p, eq ? eq + 1 : NULL)) {
            if (eq)
                fprintf(stderr, "%s: invalid value '%s' for parameter '%s'\n", progname, eq + 1, p->name);
            else
                fprintf(stderr, "%s: parameter '%s' needs a value\n", progname, p->name);
            return 2;
        }
    }
    int ret = &__vmalloc_module_init && __vmalloc_module_init ? __vmalloc_module_init() : 0;
    if (ret != 0) {
        const char *name = ret < 0 ? errname(ret) : NULL;
        if (name)
            fprintf(stderr, "init returned %s\n", name);
        else
            fprintf(stderr, "init returned %d\n", ret);
        return 1;
    }
    if (&__vmalloc_module_exit && __vmalloc_module_exit) __vmalloc_module_exit();
    return 0;
}
