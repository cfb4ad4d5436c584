#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "lvc/lvc.h"
#include "common/mem.h"
#include "common/thread.h"

#define MAX_THREADS 256

typedef struct Worker {
    LvcPool *pool;
    int index;
    pthread_t tid;
} Worker;

struct LvcPool {
    int nthreads;
    int nstarted;           /* workers actually running */
    Worker *workers;

    pthread_mutex_t run_lock; /* serialises lvc_pool_run callers */
    pthread_mutex_t lock;
    pthread_cond_t start_cv;
    pthread_cond_t done_cv;
    uint64_t generation;    /* bumped for every run; workers wait for a change */
    int quit;
    int active;             /* workers not yet finished with this generation */

    LvcPoolFn fn;
    void *arg;
    int njobs;
    atomic_int next_job;
};

/* The pool (if any) whose job this thread is running, to catch nested runs. */
static _Thread_local const LvcPool *tls_pool;
static _Thread_local int tls_thread;

static void do_jobs(LvcPool *p, int thread)
{
    for (;;) {
        int j = atomic_fetch_add_explicit(&p->next_job, 1, memory_order_relaxed);
        if (j >= p->njobs)
            break;
        p->fn(p->arg, j, thread);
    }
}

static void *worker_main(void *opaque)
{
    Worker *w = opaque;
    LvcPool *p = w->pool;
    uint64_t seen = 0;
    tls_pool = p;
    tls_thread = w->index;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->generation == seen && !p->quit)
            pthread_cond_wait(&p->start_cv, &p->lock);
        if (p->quit)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        do_jobs(p, w->index);
        pthread_mutex_lock(&p->lock);
        if (--p->active == 0)
            pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int lvc_pool_create(LvcPool **pool, int nthreads)
{
    *pool = NULL;
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    LvcPool *p = lvc_calloc(1, sizeof(*p));
    if (!p)
        return LVC_ERR_NOMEM;
    p->nthreads = nthreads;
    if (nthreads > 1) {
        p->workers = lvc_calloc((size_t)nthreads - 1, sizeof(*p->workers));
        if (!p->workers) {
            lvc_free(p);
            return LVC_ERR_NOMEM;
        }
    }
    pthread_mutex_init(&p->run_lock, NULL);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->start_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    for (int i = 0; i < nthreads - 1; i++) {
        Worker *w = &p->workers[i];
        w->pool = p;
        w->index = i + 1;
        if (pthread_create(&w->tid, NULL, worker_main, w)) {
            lvc_pool_destroy(&p);
            return LVC_ERR_NOMEM;
        }
        p->nstarted++;
    }
    *pool = p;
    return 0;
}

int lvc_pool_threads(const LvcPool *pool)
{
    return pool ? pool->nthreads : 1;
}

int lvc_pool_run(LvcPool *pool, int njobs, LvcPoolFn fn, void *arg)
{
    if (njobs < 0 || !fn)
        return LVC_ERR_INVALID_ARG;
    if (!pool || pool->nstarted == 0 || njobs == 1 || tls_pool == pool) {
        int t = tls_pool == pool && pool ? tls_thread : 0;
        for (int j = 0; j < njobs; j++)
            fn(arg, j, t);
        return 0;
    }
    if (njobs == 0)
        return 0;
    pthread_mutex_lock(&pool->run_lock);
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->arg = arg;
    pool->njobs = njobs;
    atomic_store_explicit(&pool->next_job, 0, memory_order_relaxed);
    pool->active = pool->nstarted;
    pool->generation++;
    pthread_cond_broadcast(&pool->start_cv);
    pthread_mutex_unlock(&pool->lock);

    const LvcPool *saved = tls_pool;
    int saved_thread = tls_thread;
    tls_pool = pool;
    tls_thread = 0;
    do_jobs(pool, 0);
    tls_pool = saved;
    tls_thread = saved_thread;

    pthread_mutex_lock(&pool->lock);
    while (pool->active > 0)
        pthread_cond_wait(&pool->done_cv, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    pthread_mutex_unlock(&pool->run_lock);
    return 0;
}

void lvc_pool_destroy(LvcPool **pool)
{
    LvcPool *p = *pool;
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->quit = 1;
    pthread_cond_broadcast(&p->start_cv);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nstarted; i++)
        pthread_join(p->workers[i].tid, NULL);
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->start_cv);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->run_lock);
    lvc_free(p->workers);
    lvc_free(p);
    *pool = NULL;
}

int lvc_cpu_count(void)
{
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > 4096 ? 4096 : (int)n;
}
