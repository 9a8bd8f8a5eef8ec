/* threads.c — concurrency through the C surface: kernel threads (kthread_run, kthread_should_stop,
 * kthread_stop returning the thread's result) and pthreads allocate and free with vmalloc,
 * kvmalloc, vm_map_ram and per-CPU memory at once, each checking that what it wrote stays its own
 * (a pattern per thread and round), started together by a completion and counted with atomics.
 * At the end every page is back: nothing lost to a race. */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <pthread.h>

#include "check.h"

#define NR_KTHREADS 3
#define NR_PTHREADS 3
#define PTHREAD_ROUNDS 300

static DECLARE_COMPLETION(go);
static atomic_t started = ATOMIC_INIT(0);
static atomic_t rounds = ATOMIC_INIT(0);
static atomic_t corrupted = ATOMIC_INIT(0);
static atomic_t failed = ATOMIC_INIT(0);

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 64)
        p[i] = (unsigned char)(seed + i / 64);
}

static bool intact(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 64)
        if (p[i] != (unsigned char)(seed + i / 64))
            return false;
    return true;
}

/* One round of every family; `seed` differs per thread and round. */
static void one_round(unsigned seed)
{
    size_t vsize = (1 + seed % 17) * PAGE_SIZE, ksize = 100 + (seed % 5) * 3000;
    unsigned char *v = vmalloc(vsize), *k = kvmalloc(ksize, GFP_KERNEL), *ram = NULL;
    struct page *pages[3] = {0};
    long __percpu *counter = alloc_percpu(long);
    int cpu;

    if (alloc_pages_bulk_array(GFP_KERNEL, 3, pages) == 3)
        ram = vm_map_ram(pages, 3, NUMA_NO_NODE);
    if (!v || !k || !ram || !counter) {
        atomic_inc(&failed);
    } else {
        fill(v, vsize, seed);
        fill(k, ksize, seed + 1);
        fill(ram, 3 * PAGE_SIZE, seed + 2);
        for_each_possible_cpu(cpu)
            *per_cpu_ptr(counter, cpu) = (long)seed + cpu;
        if (!intact(v, vsize, seed) || !intact(k, ksize, seed + 1) || !intact(ram, 3 * PAGE_SIZE, seed + 2))
            atomic_inc(&corrupted);
        for_each_possible_cpu(cpu)
            if (*per_cpu_ptr(counter, cpu) != (long)seed + cpu)
                atomic_inc(&corrupted);
        if (!intact(page_address(pages[1]), PAGE_SIZE, seed + 2 + PAGE_SIZE / 64))
            atomic_inc(&corrupted);
    }
    if (ram)
        vm_unmap_ram(ram, 3);
    for (int i = 0; i < 3; i++)
        if (pages[i])
            __free_page(pages[i]);
    free_percpu(counter);
    kvfree(k);
    vfree(v);
    atomic_inc(&rounds);
}

static int kthread_fn(void *data)
{
    unsigned id = (unsigned)(unsigned long)data, n = 0;

    atomic_inc(&started);
    wait_for_completion(&go);
    while (!kthread_should_stop())
        one_round(id * 100003 + n++);
    return (int)n;
}

static void *pthread_fn(void *data)
{
    unsigned id = (unsigned)(unsigned long)data;
    unsigned int nofs = memalloc_nofs_save();

    atomic_inc(&started);
    wait_for_completion(&go);
    for (unsigned n = 0; n < PTHREAD_ROUNDS; n++)
        one_round(id * 100003 + n);
    memalloc_nofs_restore(nofs);
    return NULL;
}

int main(void)
{
    struct task_struct *kthreads[NR_KTHREADS];
    pthread_t pthreads[NR_PTHREADS];
    unsigned long start_free, start_kept;
    int i, all_ran = 1;

    vm_unmap_aliases();
    start_free = nr_free_pages();
    start_kept = kept_pages();
    printf("threads: %d kthreads and %d pthreads, %lu pages free\n", NR_KTHREADS, NR_PTHREADS, start_free);
    for (i = 0; i < NR_KTHREADS; i++) {
        kthreads[i] = kthread_run(kthread_fn, (void *)(unsigned long)(i + 1), "csurface-%d", i);
        CHECK(!IS_ERR(kthreads[i]), "kthread_run csurface-%d", i);
        if (IS_ERR(kthreads[i]))
            return check_done("threads");
    }
    for (i = 0; i < NR_PTHREADS; i++)
        pthread_create(&pthreads[i], NULL, pthread_fn, (void *)(unsigned long)(NR_KTHREADS + i + 1));
    while (atomic_read(&started) < NR_KTHREADS + NR_PTHREADS)
        schedule();
    complete_all(&go);
    for (i = 0; i < NR_PTHREADS; i++)
        pthread_join(pthreads[i], NULL);
    for (i = 0; i < NR_KTHREADS; i++) {
        int n = kthread_stop(kthreads[i]);

        printf("threads: kthread %d ran %d rounds\n", i, n);
        all_ran &= n > 0;
    }
    CHECK(all_ran, "kthread_stop returned each kthread's round count, every one > 0");
    CHECK_EQ(atomic_read(&rounds) >= NR_PTHREADS * PTHREAD_ROUNDS, 1, "every pthread round ran");
    CHECK_EQ(atomic_read(&failed), 0, "no allocation failed");
    CHECK_EQ(atomic_read(&corrupted), 0, "no thread saw another's writes in its memory");
    rcu_barrier();
    vm_unmap_aliases();
    CHECK_NOTHING_LOST(start_free, start_kept);
    return check_done("threads");
}
