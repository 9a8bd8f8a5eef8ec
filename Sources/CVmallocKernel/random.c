/* get_random_* for <linux/random.h>. Mirrors drivers/char/random.c's interface, not its design:
 * test modules draw numbers in their hot loops, so the integers come from a per-thread splitmix64
 * generator seeded once from getentropy (the kernel's batched per-CPU ChaCha plays the same role);
 * get_random_bytes, used for keys and seeds, reads the system's generator every time. A forked child
 * reseeds, so it does not repeat its parent's numbers. */
#define _GNU_SOURCE
#include <linux/random.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned fork_generation; /* bumped in each forked child; a thread reseeds when it changes */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static _Thread_local u64 state;
static _Thread_local unsigned seeded_generation; /* fork_generation + 1 once seeded */

static void forked_child(void) { fork_generation++; }
static void register_atfork(void) { pthread_atfork(NULL, NULL, forked_child); }

void get_random_bytes(void *buf, size_t len) {
    unsigned char *p = buf;
    while (len) {
        size_t n = len < 256 ? len : 256; /* getentropy's limit per call */
        /* It fails only where getrandom(2) is missing (Linux < 3.17), which this library does not
         * run on; the kernel's get_random_bytes cannot fail, so neither may this. */
        if (getentropy(p, n) != 0) {
            fputs("get_random_bytes: getentropy failed\n", stderr);
            abort();
        }
        p += n;
        len -= n;
    }
}

u64 get_random_u64(void) {
    if (__builtin_expect(seeded_generation != fork_generation + 1, 0)) {
        pthread_once(&atfork_once, register_atfork);
        get_random_bytes(&state, sizeof state);
        seeded_generation = fork_generation + 1;
    }
    u64 z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

u32 get_random_u32(void) { return (u32)(get_random_u64() >> 32); }

/* Lemire's multiply-and-reject, as the kernel's __get_random_u32_below: the high half of
 * ceil * r is uniform once the few low halves below 2^32 mod ceil are redrawn. */
u32 get_random_u32_below(u32 ceil) {
    u64 mult = (u64)ceil * get_random_u32();
    if ((u32)mult < ceil) {
        u32 bound = -ceil % ceil;
        while ((u32)mult < bound) mult = (u64)ceil * get_random_u32();
    }
    return (u32)(mult >> 32);
}
