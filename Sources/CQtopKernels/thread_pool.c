/* Persistent thread pool.
 *
 * A job is published by bumping a generation in `ctrl` (high 32 bits: generation, odd = open; low 32 bits: number
 * of workers inside the job). A worker joins with a CAS that increments the inside-count only while the generation
 * it saw is still open, claims tasks from an atomic counter, and leaves with a decrement. The caller runs tasks too,
 * waits until every task has completed, closes the job (generation becomes even, so no late worker can join) and
 * waits only for workers already inside. Descheduled or sleeping workers therefore never delay a call: on a busy
 * machine the caller simply runs more of the tasks itself. Idle workers spin briefly, then sleep on a condvar. */
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

#define SPIN_ITERS 4000

struct qtop_pool {
    int threads;
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t call_mu;       /* serializes concurrent parallel_for calls */
    qtop_task_fn fn;               /* job, stable while the generation is open or workers are inside */
    void *ctx;
    int64_t n;
    int64_t next;                  /* atomic: next task index */
    int64_t done;                  /* atomic: completed tasks */
    uint64_t ctrl;                 /* atomic: generation << 32 | workers inside */
    int sleepers;                  /* atomic */
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
        int64_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_ACQ_REL);
        if (i >= n) break;
        fn(ctx, i, thread);
        __atomic_fetch_add(&p->done, 1, __ATOMIC_ACQ_REL);
    }
}

/* Joins the open job of generation `gen` if it is still open; returns 1 when the worker ran it. */
static int try_join(qtop_pool *p, uint64_t c, int thread) {
    for (;;) {
        uint32_t gen = (uint32_t)(c >> 32);
        if (!(gen & 1)) return 0;
        if (__atomic_compare_exchange_n(&p->ctrl, &c, c + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) break;
        if ((uint32_t)(c >> 32) != gen) return 0;    /* closed or replaced meanwhile */
    }
    run_tasks(p, thread);
    __atomic_fetch_sub(&p->ctrl, 1, __ATOMIC_ACQ_REL);
    return 1;
}

static void *worker_main(void *argp) {
    worker_arg a = *(worker_arg *)argp;
    free(argp);
    qtop_pool *p = a.p;
    uint32_t seen = 0;
    tl_in_task = 1;
    tl_thread = a.index;
    for (;;) {
        int spins = 0;
        uint64_t c;
        for (;;) {
            if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) return NULL;
            c = __atomic_load_n(&p->ctrl, __ATOMIC_ACQUIRE);
            uint32_t gen = (uint32_t)(c >> 32);
            if ((gen & 1) && gen != seen) break;
            if (++spins < SPIN_ITERS) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&p->mu);
            __atomic_fetch_add(&p->sleepers, 1, __ATOMIC_SEQ_CST);
            for (;;) {
                uint64_t c2 = __atomic_load_n(&p->ctrl, __ATOMIC_SEQ_CST);
                uint32_t g2 = (uint32_t)(c2 >> 32);
                if (((g2 & 1) && g2 != seen) || __atomic_load_n(&p->stop, __ATOMIC_SEQ_CST)) break;
                pthread_cond_wait(&p->cv, &p->mu);
            }
            __atomic_fetch_sub(&p->sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        seen = (uint32_t)(c >> 32);
        try_join(p, c, a.index);
    }
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
    __atomic_store_n(&p->stop, 1, __ATOMIC_SEQ_CST);
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

/* Per-OS-thread scratch (grown on demand, freed at thread exit). A task uses it for its whole duration and
 * kernels never nest, so handles stay safe to run concurrently from several streams. */
typedef struct { void *p; size_t cap; } tls_buf;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static void tls_free(void *v) {
    tls_buf *b = v;
    free(b->p);
    free(b);
}
static void tls_init(void) { pthread_key_create(&tls_key, tls_free); }

void *qtop__tls_scratch(size_t bytes) {
    pthread_once(&tls_once, tls_init);
    tls_buf *b = pthread_getspecific(tls_key);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return NULL;
        pthread_setspecific(tls_key, b);
    }
    if (b->cap < bytes) {
        free(b->p);
        size_t cap = bytes + (bytes >> 2) + 4096;
        b->p = NULL;
        if (posix_memalign(&b->p, 64, cap) != 0) { b->p = NULL; b->cap = 0; return NULL; }
        b->cap = cap;
    }
    return b->p;
}

/* Upper bound (exclusive) of the thread index a task run through this pool can see, including the nested
 * case (a call from inside a task runs inline with the caller's index). Kernels size per-thread scratch with it. */
int qtop__pool_thread_bound(const qtop_pool *p) {
    int t = qtop_pool_threads(p);
    if (tl_in_task && tl_thread + 1 > t) t = tl_thread + 1;
    return t;
}

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
    __atomic_store_n(&p->done, 0, __ATOMIC_RELAXED);
    /* open: generation + 1 (odd); no worker can be inside a closed generation */
    uint64_t c = __atomic_load_n(&p->ctrl, __ATOMIC_ACQUIRE);
    uint64_t open = ((c >> 32) + 1) << 32;
    __atomic_store_n(&p->ctrl, open, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }

    tl_in_task = 1;
    tl_thread = 0;
    run_tasks(p, 0);
    tl_in_task = 0;

    int spins = 0;
    while (__atomic_load_n(&p->done, __ATOMIC_ACQUIRE) < n) {
        if (++spins < SPIN_ITERS) CPU_RELAX();
        else sched_yield();
    }
    /* close: generation + 1 (even), keeping the inside-count, then wait for the workers inside to leave */
    c = __atomic_load_n(&p->ctrl, __ATOMIC_ACQUIRE);
    while (!__atomic_compare_exchange_n(&p->ctrl, &c, c + (1ull << 32), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    }
    spins = 0;
    while ((uint32_t)__atomic_load_n(&p->ctrl, __ATOMIC_ACQUIRE) != 0) {
        if (++spins < SPIN_ITERS) CPU_RELAX();
        else sched_yield();
    }
    pthread_mutex_unlock(&p->call_mu);
}
