/* <linux/atomic.h>: atomic_t, atomic_long_t and atomic64_t operations, and cmpxchg/xchg, on the
 * compiler's __atomic builtins. Mirrors include/linux/atomic.h and Documentation/atomic_t.txt for
 * ordering: read/set and the void operations are relaxed; operations that return a value are
 * fully ordered; _relaxed/_acquire/_release variants say so. */
#ifndef _VMALLOC_LINUX_ATOMIC_H
#define _VMALLOC_LINUX_ATOMIC_H

#include <linux/types.h>
#include <linux/compiler.h>

#define ATOMIC_INIT(i) { (i) }
#define ATOMIC_LONG_INIT(i) { (i) }
#define ATOMIC64_INIT(i) { (i) }

/* cmpxchg returns the old value; it stored `new` only when that equals `old`. */
#define cmpxchg(ptr, old, new) ({ \
    __typeof__(*(ptr)) __vm_old = (old); \
    __atomic_compare_exchange_n((ptr), &__vm_old, (new), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    __vm_old; })
#define cmpxchg_relaxed(ptr, old, new) ({ \
    __typeof__(*(ptr)) __vm_old = (old); \
    __atomic_compare_exchange_n((ptr), &__vm_old, (new), false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
    __vm_old; })
/* true when it stored; otherwise *oldp is updated to the value seen. */
#define try_cmpxchg(ptr, oldp, new) \
    __atomic_compare_exchange_n((ptr), (oldp), (new), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define xchg(ptr, v) __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST)
#define xchg_relaxed(ptr, v) __atomic_exchange_n((ptr), (v), __ATOMIC_RELAXED)
#define cmpxchg64(ptr, old, new) cmpxchg(ptr, old, new)

/* The same operation set for each of the three types: prefix, type, value type. */
#define __VM_ATOMIC_OPS(pfx, atype, T) \
    static inline T pfx##_read(const atype *v) { return __atomic_load_n(&v->counter, __ATOMIC_RELAXED); } \
    static inline T pfx##_read_acquire(const atype *v) { return __atomic_load_n(&v->counter, __ATOMIC_ACQUIRE); } \
    static inline void pfx##_set(atype *v, T i) { __atomic_store_n(&v->counter, i, __ATOMIC_RELAXED); } \
    static inline void pfx##_set_release(atype *v, T i) { __atomic_store_n(&v->counter, i, __ATOMIC_RELEASE); } \
    static inline void pfx##_add(T i, atype *v) { __atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED); } \
    static inline void pfx##_sub(T i, atype *v) { __atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED); } \
    static inline void pfx##_inc(atype *v) { __atomic_fetch_add(&v->counter, 1, __ATOMIC_RELAXED); } \
    static inline void pfx##_dec(atype *v) { __atomic_fetch_sub(&v->counter, 1, __ATOMIC_RELAXED); } \
    static inline void pfx##_and(T i, atype *v) { __atomic_fetch_and(&v->counter, i, __ATOMIC_RELAXED); } \
    static inline void pfx##_or(T i, atype *v) { __atomic_fetch_or(&v->counter, i, __ATOMIC_RELAXED); } \
    static inline void pfx##_xor(T i, atype *v) { __atomic_fetch_xor(&v->counter, i, __ATOMIC_RELAXED); } \
    static inline void pfx##_andnot(T i, atype *v) { __atomic_fetch_and(&v->counter, ~i, __ATOMIC_RELAXED); } \
    static inline T pfx##_add_return(T i, atype *v) { return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_sub_return(T i, atype *v) { return __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_inc_return(atype *v) { return __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_dec_return(atype *v) { return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_add_return_relaxed(T i, atype *v) { \
        return __atomic_add_fetch(&v->counter, i, __ATOMIC_RELAXED); \
    } \
    static inline T pfx##_inc_return_relaxed(atype *v) { \
        return __atomic_add_fetch(&v->counter, 1, __ATOMIC_RELAXED); \
    } \
    static inline T pfx##_dec_return_relaxed(atype *v) { \
        return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_RELAXED); \
    } \
    static inline T pfx##_fetch_add(T i, atype *v) { return __atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_fetch_sub(T i, atype *v) { return __atomic_fetch_sub(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_fetch_inc(atype *v) { return __atomic_fetch_add(&v->counter, 1, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_fetch_dec(atype *v) { return __atomic_fetch_sub(&v->counter, 1, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_fetch_and(T i, atype *v) { \
        return __atomic_fetch_and(&v->counter, i, __ATOMIC_SEQ_CST); \
    } \
    static inline T pfx##_fetch_or(T i, atype *v) { return __atomic_fetch_or(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_fetch_xor(T i, atype *v) { \
        return __atomic_fetch_xor(&v->counter, i, __ATOMIC_SEQ_CST); \
    } \
    static inline T pfx##_fetch_add_relaxed(T i, atype *v) { \
        return __atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED); \
    } \
    static inline bool pfx##_add_negative(T i, atype *v) { return pfx##_add_return(i, v) < 0; } \
    static inline bool pfx##_sub_and_test(T i, atype *v) { return pfx##_sub_return(i, v) == 0; } \
    static inline bool pfx##_dec_and_test(atype *v) { return pfx##_dec_return(v) == 0; } \
    static inline bool pfx##_inc_and_test(atype *v) { return pfx##_inc_return(v) == 0; } \
    static inline T pfx##_xchg(atype *v, T i) { return __atomic_exchange_n(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline T pfx##_cmpxchg(atype *v, T old, T new) { \
        __atomic_compare_exchange_n(&v->counter, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
        return old; \
    } \
    static inline bool pfx##_try_cmpxchg(atype *v, T *old, T new) { \
        return __atomic_compare_exchange_n(&v->counter, old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    } \
    /* Adds a unless the value is u; returns the value seen before. */ \
    static inline T pfx##_fetch_add_unless(atype *v, T a, T u) { \
        T c = pfx##_read(v); \
        while (c != u && !pfx##_try_cmpxchg(v, &c, c + a)) { } \
        return c; \
    } \
    static inline bool pfx##_add_unless(atype *v, T a, T u) { return pfx##_fetch_add_unless(v, a, u) != u; } \
    static inline bool pfx##_inc_not_zero(atype *v) { return pfx##_add_unless(v, 1, 0); } \
    /* Decrements unless that goes below 0; returns the decremented value (negative: not stored). */ \
    static inline T pfx##_dec_if_positive(atype *v) { \
        T c = pfx##_read(v); \
        while (c - 1 >= 0 && !pfx##_try_cmpxchg(v, &c, c - 1)) { } \
        return c - 1; \
    }

__VM_ATOMIC_OPS(atomic, atomic_t, int)
__VM_ATOMIC_OPS(atomic_long, atomic_long_t, long)
__VM_ATOMIC_OPS(atomic64, atomic64_t, s64)

#endif
