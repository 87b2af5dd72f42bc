/* Persistent thread pool: workers spin briefly on a generation counter, then sleep on a condition variable.
 * The caller runs tasks too; tasks are claimed with an atomic counter. Every worker acknowledges every
 * generation, so the job description is never rewritten while a late worker could still read it. */
#include "qtop_kernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#if defined(__x86_64__)
#define CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_ITERS 20000

struct qtop_pool {
    int threads;
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t call_mu;       /* serializes concurrent parallel_for calls */
    /* job (written by the caller before publishing the generation) */
    qtop_task_fn fn;
    void *ctx;
    int64_t n;
    int64_t next;                  /* atomic */
    int acked;                     /* atomic: workers done with the current generation */
    unsigned gen;                  /* atomic */
    int stop;                      /* atomic */
};

typedef struct { qtop_pool *p; int index; } worker_arg;

static _Thread_local int tl_in_task = 0;
static _Thread_local int tl_thread = 0;

static void run_tasks(qtop_pool *p, int thread) {
    qtop_task_fn fn = p->fn;
    void *ctx = p->ctx;
    int64_t n = p->n;
    for (;;) {
        int64_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (i >= n) break;
        fn(ctx, i, thread);
    }
}

static void *worker_main(void *argp) {
    worker_arg a = *(worker_arg *)argp;
    free(argp);
    qtop_pool *p = a.p;
    unsigned seen = 0;
    tl_in_task = 1;
    tl_thread = a.index;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE)) == seen && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
            if (++spins < SPIN_ITERS) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&p->mu);
            while (__atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) == seen && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
                pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) break;
        seen = g;
        run_tasks(p, a.index);
        __atomic_fetch_add(&p->acked, 1, __ATOMIC_ACQ_REL);
    }
    return NULL;
}

qtop_pool *qtop_pool_create(int threads) {
    if (threads < 1) threads = 1;
    qtop_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->call_mu, NULL);
    p->tids = calloc((size_t)threads, sizeof(pthread_t));
    for (int i = 1; i < threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        a->p = p;
        a->index = i;
        if (pthread_create(&p->tids[i], NULL, worker_main, a) != 0) {
            free(a);
            p->threads = i;     /* run with what we have */
            break;
        }
    }
    return p;
}

void qtop_pool_destroy(qtop_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++) pthread_join(p->tids[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->call_mu);
    free(p->tids);
    free(p);
}

int qtop_pool_threads(const qtop_pool *p) { return p ? p->threads : 1; }

void qtop_parallel_for(qtop_pool *p, int64_t n, qtop_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (!p || p->threads <= 1 || n == 1 || tl_in_task) {
        int t = tl_in_task ? tl_thread : 0;
        for (int64_t i = 0; i < n; i++) fn(ctx, i, t);
        return;
    }
    pthread_mutex_lock(&p->call_mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    __atomic_store_n(&p->next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->acked, 0, __ATOMIC_RELAXED);
    pthread_mutex_lock(&p->mu);
    __atomic_fetch_add(&p->gen, 1, __ATOMIC_ACQ_REL);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);

    tl_in_task = 1;
    tl_thread = 0;
    run_tasks(p, 0);
    tl_in_task = 0;

    int workers = p->threads - 1, spins = 0;
    while (__atomic_load_n(&p->acked, __ATOMIC_ACQUIRE) < workers) {
        if (++spins < SPIN_ITERS) CPU_RELAX();
        else sched_yield();
    }
    pthread_mutex_unlock(&p->call_mu);
}
