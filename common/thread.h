/*
 * A fixed pool of worker threads running blocking parallel-for loops.
 */
#ifndef LVC_COMMON_THREAD_H
#define LVC_COMMON_THREAD_H

typedef struct LvcPool LvcPool;

/* One job: job in [0, njobs), thread in [0, lvc_pool_threads(pool)) names
 * the thread running it (for per-thread scratch buffers). */
typedef void (*LvcPoolFn)(void *arg, int job, int thread);

/* Create a pool of nthreads threads in all: the caller of lvc_pool_run is
 * thread 0 and nthreads-1 workers are started. nthreads <= 1 starts none
 * (runs are inline). nthreads is clamped to 256. On success *pool is owned
 * by the caller (lvc_pool_destroy); on failure *pool is NULL and
 * LVC_ERR_NOMEM is returned. */
int lvc_pool_create(LvcPool **pool, int nthreads);

/* Run fn(arg, j, t) once for every j in [0, njobs) and return when all are
 * done. Jobs are handed out dynamically, so their order and thread are not
 * fixed: results must not depend on them. pool may be NULL (inline run).
 * Calls from several threads are serialised. A job that calls lvc_pool_run
 * on the pool running it gets an inline run instead of a deadlock.
 * Returns 0, or LVC_ERR_INVALID_ARG if njobs < 0 or fn is NULL. */
int lvc_pool_run(LvcPool *pool, int njobs, LvcPoolFn fn, void *arg);

/* Total threads of the pool (1 for NULL). */
int lvc_pool_threads(const LvcPool *pool);

/* Joins the workers, frees the pool and sets *pool to NULL. Safe on NULL. */
void lvc_pool_destroy(LvcPool **pool);

/* Number of CPUs this process may run on (>= 1). */
int lvc_cpu_count(void);

#endif /* LVC_COMMON_THREAD_H */
