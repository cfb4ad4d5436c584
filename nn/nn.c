/*
 * nn: context, tensors, shape validation, layer creation and dispatch to the
 * backend kernel table. Kernels live in nn/ref, nn/cpu, nn/cuda.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "common/mem.h"
#include "common/thread.h"
#include "nn/ops.h"

/* ------------------------------------------------------------ tensors */

static int valid_dims(int c, int h, int w)
{
    uint64_t n;
    if (c < 1 || h < 1 || w < 1 || c > LVC_NN_MAX_DIM || h > LVC_NN_MAX_DIM ||
        w > LVC_NN_MAX_DIM || (uint64_t)h * (uint64_t)w > LVC_NN_MAX_PLANE)
        return 0;
    n = (uint64_t)c * (uint64_t)h * (uint64_t)w;
    /* 4-byte elements must stay addressable on 32-bit hosts too. */
    return n <= LVC_NN_MAX_ELEMS && n <= SIZE_MAX / 4;
}

static int valid_tensor(const LvcTensor *t)
{
    return t && t->data && valid_dims(t->c, t->h, t->w) &&
           (t->dtype == LVC_NN_F32 || t->dtype == LVC_NN_I16) &&
           (t->dtype == LVC_NN_F32 || (t->frac >= 0 && t->frac <= 30));
}

static int same_shape(const LvcTensor *a, const LvcTensor *b)
{
    return a->c == b->c && a->h == b->h && a->w == b->w && a->dtype == b->dtype;
}

int lvc_tensor_channels(const LvcTensor *t, int c0, int nc, LvcTensor *view)
{
    if (!valid_tensor(t) || !view || c0 < 0 || nc < 1 || c0 > t->c - nc)
        return LVC_ERR_INVALID_ARG;
    *view = *t;
    view->c = nc;
    view->data = (uint8_t *)t->data +
                 (size_t)c0 * t->h * t->w * lvc_nn_dtype_size(t->dtype);
    return 0;
}

/* ------------------------------------------------------------ context */

const char *lvc_nn_backend_name(LvcBackend backend)
{
    switch (backend) {
    case LVC_BACKEND_AUTO: return "auto";
    case LVC_BACKEND_REF:  return "ref";
    case LVC_BACKEND_CPU:  return "cpu";
    case LVC_BACKEND_CUDA: return "cuda";
    }
    return "unknown";
}

int lvc_nn_backend_available(LvcBackend backend)
{
    switch (backend) {
    case LVC_BACKEND_AUTO:
    case LVC_BACKEND_REF:  return 1;
    case LVC_BACKEND_CPU:  return LVC_HAVE_OPENBLAS;
    case LVC_BACKEND_CUDA: return lvc_nn_cuda_available();
    }
    return 0;
}

static void *host_alloc(LvcNn *nn, size_t size)
{
    (void)nn;
    return lvc_aligned_malloc(size ? size : 1, 64);
}

static void host_free(LvcNn *nn, void *p)
{
    (void)nn;
    lvc_aligned_free(p);
}

static int host_copy(LvcNn *nn, void *dst, const void *src, size_t n)
{
    (void)nn;
    if (n)
        memmove(dst, src, n);
    return 0;
}

static int host_sync(LvcNn *nn)
{
    (void)nn;
    return 0;
}

int lvc_nn_open(LvcNn **pnn, LvcBackend backend, int threads)
{
    LvcNn *nn;
    int ret;

    if (!pnn)
        return LVC_ERR_INVALID_ARG;
    *pnn = NULL;
    if (threads < 0 || backend < LVC_BACKEND_AUTO || backend > LVC_BACKEND_CUDA)
        return LVC_ERR_INVALID_ARG;
    if (threads == 0)
        threads = lvc_cpu_count();
    if (threads > 256)
        threads = 256;

    nn = lvc_calloc(1, sizeof(*nn));
    if (!nn)
        return LVC_ERR_NOMEM;
    nn->threads = threads;
    nn->scratch = lvc_calloc((size_t)threads, sizeof(*nn->scratch));
    if (!nn->scratch) {
        ret = LVC_ERR_NOMEM;
        goto error;
    }
    if (threads > 1 && (ret = lvc_pool_create(&nn->pool, threads)) < 0)
        goto error;

    lvc_nn_ref_init(&nn->ops);
    nn->ops.mem_alloc = host_alloc;
    nn->ops.mem_free = host_free;
    nn->ops.mem_write = host_copy;
    nn->ops.mem_read = host_copy;
    nn->ops.sync = host_sync;
    nn->backend = LVC_BACKEND_REF;

    if (backend == LVC_BACKEND_AUTO) {
        /* Prefer a GPU, then the CPU backend; failures fall through. */
        if (lvc_nn_cuda_available() && lvc_nn_cuda_init(nn) == 0)
            nn->backend = LVC_BACKEND_CUDA;
        else if (lvc_nn_cpu_init(nn) == 0)
            nn->backend = LVC_BACKEND_CPU;
    } else if (backend == LVC_BACKEND_CPU) {
        if ((ret = lvc_nn_cpu_init(nn)) < 0)
            goto error;
        nn->backend = LVC_BACKEND_CPU;
    } else if (backend == LVC_BACKEND_CUDA) {
        if ((ret = lvc_nn_cuda_init(nn)) < 0)
            goto error;
        nn->backend = LVC_BACKEND_CUDA;
    }
    *pnn = nn;
    return 0;

error:
    lvc_nn_close(&nn);
    return ret;
}

void lvc_nn_close(LvcNn **pnn)
{
    LvcNn *nn;

    if (!pnn || !*pnn)
        return;
    nn = *pnn;
    if (nn->ops.close)
        nn->ops.close(nn);
    if (nn->scratch)
        for (int i = 0; i < nn->threads; i++)
            lvc_aligned_free(nn->scratch[i]);
    lvc_free(nn->scratch);
    lvc_pool_destroy(&nn->pool);
    lvc_free(nn);
    *pnn = NULL;
}

LvcBackend lvc_nn_backend(const LvcNn *nn)
{
    return nn ? nn->backend : LVC_BACKEND_REF;
}

int lvc_nn_threads(const LvcNn *nn)
{
    return nn ? nn->threads : 1;
}

int lvc_nn_open_worker(LvcNn **w, const LvcNn *nn)
{
    if (!w)
        return LVC_ERR_INVALID_ARG;
    *w = NULL;
    if (!nn)
        return LVC_ERR_INVALID_ARG;
    if (nn->backend != LVC_BACKEND_REF && nn->backend != LVC_BACKEND_CPU)
        return LVC_ERR_BACKEND;
    /* A copy of nn's kernel table and CPU flags (what its layers were
     * prepared for), one thread, no pool, its own scratch. Host backends
     * keep no per-context state (priv) and need no re-initialisation. */
    LvcNn *k = lvc_calloc(1, sizeof(*k));
    if (!k)
        return LVC_ERR_NOMEM;
    k->backend = nn->backend;
    k->threads = 1;
    k->ops = nn->ops;
    k->cpu_flags = nn->cpu_flags;
    k->scratch = lvc_calloc(1, sizeof(*k->scratch));
    int ret = k->scratch ? lvc_nn_reserve_scratch(k, nn->scratch_size) : LVC_ERR_NOMEM;
    if (ret < 0) {
        lvc_nn_close(&k);
        return ret;
    }
    *w = k;
    return 0;
}

size_t lvc_nn_scratch_bytes(const LvcNn *nn)
{
    return nn ? nn->scratch_size * (size_t)nn->threads : 0;
}

int lvc_nn_reserve_scratch(LvcNn *nn, size_t bytes)
{
    if (bytes <= nn->scratch_size)
        return 0;
    bytes = (bytes + 63) & ~(size_t)63;
    for (int i = 0; i < nn->threads; i++) {
        uint8_t *p = lvc_aligned_malloc(bytes, 64);
        if (!p)
            return LVC_ERR_NOMEM;
        lvc_aligned_free(nn->scratch[i]);
        nn->scratch[i] = p;
    }
    nn->scratch_size = bytes;
    return 0;
}

void lvc_nn_parallel(LvcNn *nn, int njobs, void (*fn)(void *arg, int job, int thread),
                     void *arg)
{
    if (njobs <= 0)
        return;
    if (!nn->pool || njobs == 1) {
        for (int j = 0; j < njobs; j++)
            fn(arg, j, 0);
        return;
    }
    lvc_pool_run(nn->pool, njobs, fn, arg);
}

int lvc_nn_tensor_alloc(LvcNn *nn, LvcTensor *t, int c, int h, int w,
                        LvcNnDType dtype, int frac)
{
    if (!t)
        return LVC_ERR_INVALID_ARG;
    memset(t, 0, sizeof(*t));
    if (!nn || !valid_dims(c, h, w) || (dtype != LVC_NN_F32 && dtype != LVC_NN_I16))
        return LVC_ERR_INVALID_ARG;
    t->c = c;
    t->h = h;
    t->w = w;
    t->dtype = dtype;
    t->frac = frac;
    t->data = nn->ops.mem_alloc(nn, lvc_tensor_bytes(t));
    if (!t->data) {
        memset(t, 0, sizeof(*t));
        return LVC_ERR_NOMEM;
    }
    return 0;
}

void lvc_nn_tensor_free(LvcNn *nn, LvcTensor *t)
{
    if (!nn || !t)
        return;
    if (t->data)
        nn->ops.mem_free(nn, t->data);
    memset(t, 0, sizeof(*t));
}

int lvc_nn_tensor_write(LvcNn *nn, LvcTensor *t, const void *host)
{
    if (!nn || !valid_tensor(t) || !host)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.mem_write(nn, t->data, host, lvc_tensor_bytes(t));
}

int lvc_nn_tensor_read(LvcNn *nn, const LvcTensor *t, void *host)
{
    if (!nn || !valid_tensor(t) || !host)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.mem_read(nn, host, t->data, lvc_tensor_bytes(t));
}

int lvc_nn_sync(LvcNn *nn)
{
    if (!nn)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.sync(nn);
}

/* ------------------------------------------------------------ plan */

typedef struct PlanEntry {
    int c, h, w, frac, first, last;
    LvcNnDType dtype;
    size_t bytes, offset;
} PlanEntry;

struct LvcNnPlan {
    PlanEntry *e;
    int n, cap;
    int placed;     /* offsets valid for the first n entries */
    size_t peak;
};

struct LvcNnWorkspace {
    uint8_t *base;
    size_t bytes;
    PlanEntry *e;
    int n;
};

int lvc_nn_plan_create(LvcNnPlan **plan)
{
    if (!plan)
        return LVC_ERR_INVALID_ARG;
    *plan = lvc_calloc(1, sizeof(**plan));
    return *plan ? 0 : LVC_ERR_NOMEM;
}

void lvc_nn_plan_free(LvcNnPlan **plan)
{
    if (!plan || !*plan)
        return;
    lvc_free((*plan)->e);
    lvc_freep(plan);
}

int lvc_nn_plan_add(LvcNnPlan *plan, int c, int h, int w, LvcNnDType dtype,
                    int frac, int first, int last)
{
    PlanEntry *e;

    if (!plan || !valid_dims(c, h, w) || first < 0 || last < first ||
        (dtype != LVC_NN_F32 && dtype != LVC_NN_I16))
        return LVC_ERR_INVALID_ARG;
    if (plan->n == plan->cap) {
        int cap = plan->cap ? plan->cap * 2 : 16;
        void *p;
        if (cap > (1 << 20))
            return LVC_ERR_LIMIT;
        p = lvc_realloc(plan->e, (size_t)cap * sizeof(*plan->e));
        if (!p)
            return LVC_ERR_NOMEM;
        plan->e = p;
        plan->cap = cap;
    }
    e = &plan->e[plan->n];
    memset(e, 0, sizeof(*e));
    e->c = c; e->h = h; e->w = w; e->dtype = dtype; e->frac = frac;
    e->first = first; e->last = last;
    /* Round every tensor to 64 bytes so each starts cache/SIMD aligned. */
    e->bytes = ((size_t)c * h * w * lvc_nn_dtype_size(dtype) + 63) & ~(size_t)63;
    plan->placed = 0;
    return plan->n++;
}

/* Greedy by size (as TFLite's arena planner): place tensors from largest
 * to smallest at the lowest offset that does not collide with an already
 * placed tensor whose lifetime overlaps. O(n^2 log n), n is small. */
static int plan_place(LvcNnPlan *plan)
{
    int n = plan->n;
    int *order, *live;
    size_t peak = 0;

    if (plan->placed)
        return 0;
    order = lvc_malloc_array((size_t)n + 1, sizeof(int));
    live = lvc_malloc_array((size_t)n + 1, sizeof(int));
    if (!order || !live) {
        lvc_free(order);
        lvc_free(live);
        return LVC_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++)
        order[i] = i;
    /* Insertion sort by size descending, id ascending: deterministic. */
    for (int i = 1; i < n; i++) {
        int v = order[i], j = i - 1;
        while (j >= 0 && plan->e[order[j]].bytes < plan->e[v].bytes)
            order[j + 1] = order[j], j--;
        order[j + 1] = v;
    }
    for (int k = 0; k < n; k++) {
        PlanEntry *e = &plan->e[order[k]];
        int nl = 0;
        size_t off = 0;
        /* Conflicting placed tensors, sorted by offset. */
        for (int m = 0; m < k; m++) {
            const PlanEntry *o = &plan->e[order[m]];
            if (o->first <= e->last && e->first <= o->last) {
                int j = nl++;
                while (j > 0 && plan->e[live[j - 1]].offset > o->offset)
                    live[j] = live[j - 1], j--;
                live[j] = order[m];
            }
        }
        for (int j = 0; j < nl; j++) {
            const PlanEntry *o = &plan->e[live[j]];
            if (off + e->bytes <= o->offset)
                break;
            if (o->offset + o->bytes > off)
                off = o->offset + o->bytes;
        }
        e->offset = off;
        if (off + e->bytes > peak)
            peak = off + e->bytes;
    }
    lvc_free(order);
    lvc_free(live);
    plan->peak = peak;
    plan->placed = 1;
    return 0;
}

size_t lvc_nn_plan_peak(LvcNnPlan *plan)
{
    if (!plan || plan_place(plan) < 0)
        return 0;
    return plan->peak;
}

int lvc_nn_workspace_create(LvcNn *nn, LvcNnPlan *plan, LvcNnWorkspace **pws)
{
    LvcNnWorkspace *ws;
    int ret;

    if (!pws)
        return LVC_ERR_INVALID_ARG;
    *pws = NULL;
    if (!nn || !plan)
        return LVC_ERR_INVALID_ARG;
    if ((ret = plan_place(plan)) < 0)
        return ret;
    ws = lvc_calloc(1, sizeof(*ws));
    if (!ws)
        return LVC_ERR_NOMEM;
    ws->n = plan->n;
    ws->bytes = plan->peak;
    ws->e = lvc_malloc_array((size_t)plan->n + 1, sizeof(*ws->e));
    ws->base = nn->ops.mem_alloc(nn, plan->peak);
    if (!ws->e || !ws->base) {
        lvc_nn_workspace_free(nn, &ws);
        return LVC_ERR_NOMEM;
    }
    if (plan->n)
        memcpy(ws->e, plan->e, (size_t)plan->n * sizeof(*ws->e));
    *pws = ws;
    return 0;
}

void lvc_nn_workspace_free(LvcNn *nn, LvcNnWorkspace **pws)
{
    LvcNnWorkspace *ws;

    if (!pws || !*pws)
        return;
    ws = *pws;
    if (ws->base && nn)
        nn->ops.mem_free(nn, ws->base);
    lvc_free(ws->e);
    lvc_freep(pws);
}

int lvc_nn_workspace_tensor(const LvcNnWorkspace *ws, int id, LvcTensor *t)
{
    const PlanEntry *e;

    if (!ws || !t || id < 0 || id >= ws->n)
        return LVC_ERR_INVALID_ARG;
    e = &ws->e[id];
    t->data = ws->base + e->offset;
    t->c = e->c;
    t->h = e->h;
    t->w = e->w;
    t->dtype = e->dtype;
    t->frac = e->frac;
    return 0;
}

size_t lvc_nn_workspace_bytes(const LvcNnWorkspace *ws)
{
    return ws ? ws->bytes : 0;
}

/* ------------------------------------------------------------ params */

void lvc_conv_params_init(LvcConvParams *p, int cin, int cout, int kh, int kw)
{
    memset(p, 0, sizeof(*p));
    p->cin = cin;
    p->cout = cout;
    p->kh = kh;
    p->kw = kw;
    p->stride_h = p->stride_w = 1;
    p->dil_h = p->dil_w = 1;
    p->groups = 1;
}

void lvc_conv_params_pad(LvcConvParams *p, int pad_h, int pad_w)
{
    p->pad_top = p->pad_bottom = pad_h;
    p->pad_left = p->pad_right = pad_w;
}

int lvc_nn_mask_checkerboard(uint8_t *mask, int k)
{
    if (!mask || k < 1 || k > LVC_NN_MAX_KERNEL || !(k & 1))
        return LVC_ERR_INVALID_ARG;
    for (int y = 0; y < k; y++)
        for (int x = 0; x < k; x++)
            mask[y * k + x] = (uint8_t)((y + x) & 1);
    return 0;
}

int lvc_nn_mask_causal(uint8_t *mask, int k, int include_centre)
{
    if (!mask || k < 1 || k > LVC_NN_MAX_KERNEL || !(k & 1))
        return LVC_ERR_INVALID_ARG;
    for (int y = 0; y < k; y++)
        for (int x = 0; x < k; x++)
            mask[y * k + x] = (uint8_t)(y < k / 2 || (y == k / 2 && x < k / 2) ||
                                        (include_centre && y == k / 2 && x == k / 2));
    return 0;
}

static int valid_conv_params(const LvcConvParams *p, int transposed)
{
    if (!p || p->cin < 1 || p->cout < 1 || p->cin > LVC_NN_MAX_DIM ||
        p->cout > LVC_NN_MAX_DIM || p->kh < 1 || p->kw < 1 ||
        p->kh > LVC_NN_MAX_KERNEL || p->kw > LVC_NN_MAX_KERNEL ||
        p->stride_h < 1 || p->stride_w < 1 || p->stride_h > LVC_NN_MAX_KERNEL ||
        p->stride_w > LVC_NN_MAX_KERNEL || p->dil_h < 1 || p->dil_w < 1 ||
        p->dil_h > LVC_NN_MAX_KERNEL || p->dil_w > LVC_NN_MAX_KERNEL ||
        p->groups < 1 || p->cin % p->groups || p->cout % p->groups ||
        p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 ||
        p->pad_right < 0 || p->pad_top > 4096 || p->pad_bottom > 4096 ||
        p->pad_left > 4096 || p->pad_right > 4096)
        return 0;
    /* Bound the dot-product length (keeps the exact-integer GEMM path of the
     * cpu backend exact: K * 2^30 < 2^53). */
    if ((int64_t)(p->cin / p->groups) * p->kh * p->kw > (1 << 22))
        return 0;
    if (transposed) {
        if (p->pad_top != p->pad_bottom || p->pad_left != p->pad_right || p->mask)
            return 0;
        if (p->out_pad_h < 0 || p->out_pad_w < 0 ||
            (p->out_pad_h >= p->stride_h && p->out_pad_h >= p->dil_h) ||
            (p->out_pad_w >= p->stride_w && p->out_pad_w >= p->dil_w))
            return 0;
    } else if (p->out_pad_h || p->out_pad_w) {
        return 0;
    }
    if ((unsigned)p->act > LVC_ACT_CLIP_RELU)
        return 0;
    return 1;
}

int lvc_conv_out_shape(const LvcConvParams *p, int h, int w, int *oh, int *ow)
{
    int64_t eh, ew;

    if (!valid_conv_params(p, 0) || h < 1 || w < 1 || !oh || !ow)
        return LVC_ERR_INVALID_ARG;
    eh = (int64_t)h + p->pad_top + p->pad_bottom - (int64_t)p->dil_h * (p->kh - 1) - 1;
    ew = (int64_t)w + p->pad_left + p->pad_right - (int64_t)p->dil_w * (p->kw - 1) - 1;
    if (eh < 0 || ew < 0)
        return LVC_ERR_DIMENSIONS;
    *oh = (int)(eh / p->stride_h + 1);
    *ow = (int)(ew / p->stride_w + 1);
    return 0;
}

int lvc_convt_out_shape(const LvcConvParams *p, int h, int w, int *oh, int *ow)
{
    int64_t eh, ew;

    if (!valid_conv_params(p, 1) || h < 1 || w < 1 || !oh || !ow)
        return LVC_ERR_INVALID_ARG;
    eh = (int64_t)(h - 1) * p->stride_h - 2 * p->pad_top +
         (int64_t)p->dil_h * (p->kh - 1) + p->out_pad_h + 1;
    ew = (int64_t)(w - 1) * p->stride_w - 2 * p->pad_left +
         (int64_t)p->dil_w * (p->kw - 1) + p->out_pad_w + 1;
    if (eh < 1 || ew < 1 || eh > LVC_NN_MAX_DIM || ew > LVC_NN_MAX_DIM)
        return LVC_ERR_DIMENSIONS;
    *oh = (int)eh;
    *ow = (int)ew;
    return 0;
}

/* ------------------------------------------------------------ layers */

static void layer_destroy(LvcNn *nn, LvcNnLayer *l)
{
    if (!l)
        return;
    if (l->priv && nn && nn->ops.layer_release)
        nn->ops.layer_release(nn, l);
    lvc_free(l->w);
    lvc_free(l->b);
    lvc_free(l->qw);
    lvc_free(l->qb);
    lvc_free(l->mask);
    lvc_free(l);
}

void lvc_nn_layer_free(LvcNn *nn, LvcNnLayer **layer)
{
    if (!layer || !*layer)
        return;
    layer_destroy(nn, *layer);
    *layer = NULL;
}

size_t lvc_nn_layer_weight_bytes(const LvcNnLayer *layer)
{
    return layer ? layer->wbytes : 0;
}

static int layer_finish(LvcNn *nn, LvcNnLayer *l, LvcNnLayer **out)
{
    int ret = 0;

    if (nn->ops.layer_prepare && (ret = nn->ops.layer_prepare(nn, l)) < 0) {
        layer_destroy(nn, l);
        return ret;
    }
    *out = l;
    return 0;
}

/* Copy conv params and mask; zero the masked taps of w (n = weights per
 * tap plane count). */
static int copy_conv(LvcNnLayer *l, const LvcConvParams *p)
{
    l->p = *p;
    l->p.mask = NULL;
    if (p->mask) {
        size_t taps = (size_t)p->kh * p->kw;
        l->mask = lvc_malloc(taps);
        if (!l->mask)
            return LVC_ERR_NOMEM;
        for (size_t i = 0; i < taps; i++)
            l->mask[i] = p->mask[i] != 0;
        l->p.mask = l->mask;
    }
    return 0;
}

static void apply_mask_f32(float *w, size_t planes, const uint8_t *mask, size_t taps)
{
    if (!mask)
        return;
    for (size_t i = 0; i < planes; i++)
        for (size_t t = 0; t < taps; t++)
            if (!mask[t])
                w[i * taps + t] = 0.0f;
}

static int conv_common_create(LvcNn *nn, const LvcConvParams *p, const float *weight,
                              const float *bias, LvcNnLayer **layer, int transposed)
{
    LvcNnLayer *l;
    size_t nw, taps;
    int ret;

    if (!layer)
        return LVC_ERR_INVALID_ARG;
    *layer = NULL;
    if (!nn || !valid_conv_params(p, transposed) || !weight)
        return LVC_ERR_INVALID_ARG;
    if (p->act == LVC_ACT_CLIP_RELU)    /* integer-only activation */
        return LVC_ERR_INVALID_ARG;
    taps = (size_t)p->kh * p->kw;
    /* Both layouts hold cin * cout / groups planes of kh*kw. */
    nw = (size_t)p->cin * (p->cout / p->groups) * taps;
    l = lvc_calloc(1, sizeof(*l));
    if (!l)
        return LVC_ERR_NOMEM;
    l->kind = transposed ? LVC_LAYER_CONVT : LVC_LAYER_CONV;
    if ((ret = copy_conv(l, p)) < 0)
        goto error;
    l->w = lvc_malloc_array(nw, sizeof(float));
    l->b = lvc_calloc((size_t)p->cout, sizeof(float));
    if (!l->w || !l->b) {
        ret = LVC_ERR_NOMEM;
        goto error;
    }
    memcpy(l->w, weight, nw * sizeof(float));
    if (bias)
        memcpy(l->b, bias, (size_t)p->cout * sizeof(float));
    apply_mask_f32(l->w, nw / taps, l->mask, taps);
    l->wbytes = (nw + (size_t)p->cout) * sizeof(float);
    return layer_finish(nn, l, layer);

error:
    layer_destroy(nn, l);
    return ret;
}

int lvc_nn_conv_create(LvcNn *nn, const LvcConvParams *p, const float *weight,
                       const float *bias, LvcNnLayer **layer)
{
    return conv_common_create(nn, p, weight, bias, layer, 0);
}

int lvc_nn_convt_create(LvcNn *nn, const LvcConvParams *p, const float *weight,
                        const float *bias, LvcNnLayer **layer)
{
    return conv_common_create(nn, p, weight, bias, layer, 1);
}

int lvc_nn_gdn_create(LvcNn *nn, LvcGdnKind kind, int c, const float *beta,
                      const float *gamma, LvcNnLayer **layer)
{
    LvcNnLayer *l;

    if (!layer)
        return LVC_ERR_INVALID_ARG;
    *layer = NULL;
    if (!nn || c < 1 || c > 4096 || !beta || !gamma ||
        (unsigned)kind > LVC_IGDN_SIMPLE)
        return LVC_ERR_INVALID_ARG;
    l = lvc_calloc(1, sizeof(*l));
    if (!l)
        return LVC_ERR_NOMEM;
    l->kind = LVC_LAYER_GDN;
    l->gdn = kind;
    l->c = c;
    l->w = lvc_malloc_array((size_t)c * c, sizeof(float));
    l->b = lvc_malloc_array((size_t)c, sizeof(float));
    if (!l->w || !l->b) {
        layer_destroy(nn, l);
        return LVC_ERR_NOMEM;
    }
    memcpy(l->w, gamma, (size_t)c * c * sizeof(float));
    memcpy(l->b, beta, (size_t)c * sizeof(float));
    l->wbytes = ((size_t)c * c + c) * sizeof(float);
    return layer_finish(nn, l, layer);
}

int lvc_nn_linear_create(LvcNn *nn, int in, int out, const float *weight,
                         const float *bias, LvcNnAct act, float act_param,
                         LvcNnLayer **layer)
{
    LvcNnLayer *l;

    if (!layer)
        return LVC_ERR_INVALID_ARG;
    *layer = NULL;
    if (!nn || in < 1 || out < 1 || in > LVC_NN_MAX_DIM || out > LVC_NN_MAX_DIM ||
        !weight || (unsigned)act > LVC_ACT_SIGMOID)
        return LVC_ERR_INVALID_ARG;
    l = lvc_calloc(1, sizeof(*l));
    if (!l)
        return LVC_ERR_NOMEM;
    l->kind = LVC_LAYER_LINEAR;
    l->in = in;
    l->out = out;
    l->act = act;
    l->act_param = act_param;
    l->w = lvc_malloc_array((size_t)in * out, sizeof(float));
    l->b = lvc_calloc((size_t)out, sizeof(float));
    if (!l->w || !l->b) {
        layer_destroy(nn, l);
        return LVC_ERR_NOMEM;
    }
    memcpy(l->w, weight, (size_t)in * out * sizeof(float));
    if (bias)
        memcpy(l->b, bias, (size_t)out * sizeof(float));
    l->wbytes = ((size_t)in * out + out) * sizeof(float);
    return layer_finish(nn, l, layer);
}

int lvc_nn_qconv_create(LvcNn *nn, const LvcQConvParams *q, const void *weight,
                        const int32_t *bias, LvcNnLayer **layer)
{
    LvcNnLayer *l;
    size_t nw, taps;
    int ret, s;

    if (!layer)
        return LVC_ERR_INVALID_ARG;
    *layer = NULL;
    if (!nn || !q || !weight)
        return LVC_ERR_INVALID_ARG;
    {
        LvcConvParams p = q->conv;
        p.act = LVC_ACT_NONE;
        if (!valid_conv_params(&p, 0))
            return LVC_ERR_INVALID_ARG;
    }
    s = q->fa_in + q->fw - q->fa_out;
    if ((q->wbits != 8 && q->wbits != 16) || q->fw < 0 || q->fw > 30 ||
        q->fa_in < 0 || q->fa_in > 30 || q->fa_out < 0 || q->fa_out > 30 ||
        s < 0 || s > 62)
        return LVC_ERR_INVALID_ARG;
    switch (q->act) {
    case LVC_ACT_NONE:
    case LVC_ACT_RELU:
        break;
    case LVC_ACT_LEAKY_RELU:
        if (q->act_param < 0 || q->act_param > 15)
            return LVC_ERR_INVALID_ARG;
        break;
    case LVC_ACT_CLIP_RELU:
        if (q->act_param < 0 || q->act_param > 32767)
            return LVC_ERR_INVALID_ARG;
        break;
    default:
        return LVC_ERR_INVALID_ARG;
    }
    taps = (size_t)q->conv.kh * q->conv.kw;
    nw = (size_t)q->conv.cin / q->conv.groups * q->conv.cout * taps;
    l = lvc_calloc(1, sizeof(*l));
    if (!l)
        return LVC_ERR_NOMEM;
    l->kind = LVC_LAYER_QCONV;
    l->q = *q;
    l->q.conv.act = LVC_ACT_NONE;
    l->q.conv.mask = NULL;
    if ((ret = copy_conv(l, &q->conv)) < 0)
        goto error;
    l->p.act = LVC_ACT_NONE;
    l->q.conv = l->p;
    l->qw = lvc_malloc_array(nw, sizeof(int16_t));
    l->qb = lvc_calloc((size_t)q->conv.cout, sizeof(int32_t));
    if (!l->qw || !l->qb) {
        ret = LVC_ERR_NOMEM;
        goto error;
    }
    for (size_t i = 0; i < nw; i++)
        l->qw[i] = q->wbits == 8 ? ((const int8_t *)weight)[i]
                                 : ((const int16_t *)weight)[i];
    if (l->mask)
        for (size_t i = 0; i < nw; i++)
            if (!l->mask[i % taps])
                l->qw[i] = 0;
    if (bias)
        memcpy(l->qb, bias, (size_t)q->conv.cout * sizeof(int32_t));
    l->wbytes = nw * (size_t)(q->wbits / 8) + (size_t)q->conv.cout * 4;
    return layer_finish(nn, l, layer);

error:
    layer_destroy(nn, l);
    return ret;
}

/* ------------------------------------------------------------ forward */

int lvc_nn_forward(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    int oh, ow, ret;

    if (!nn || !l || !valid_tensor(x) || !valid_tensor(y) || x->data == y->data)
        return LVC_ERR_INVALID_ARG;
    switch (l->kind) {
    case LVC_LAYER_CONV:
    case LVC_LAYER_CONVT:
        if (x->dtype != LVC_NN_F32 || y->dtype != LVC_NN_F32 ||
            x->c != l->p.cin || y->c != l->p.cout)
            return LVC_ERR_INVALID_ARG;
        ret = l->kind == LVC_LAYER_CONV ? lvc_conv_out_shape(&l->p, x->h, x->w, &oh, &ow)
                                        : lvc_convt_out_shape(&l->p, x->h, x->w, &oh, &ow);
        if (ret < 0)
            return ret;
        if (y->h != oh || y->w != ow)
            return LVC_ERR_INVALID_ARG;
        return l->kind == LVC_LAYER_CONV ? nn->ops.conv(nn, l, x, y)
                                         : nn->ops.convt(nn, l, x, y);
    case LVC_LAYER_GDN:
        if (x->dtype != LVC_NN_F32 || !same_shape(x, y) || x->c != l->c)
            return LVC_ERR_INVALID_ARG;
        return nn->ops.gdn(nn, l, x, y);
    case LVC_LAYER_LINEAR:
        if (x->dtype != LVC_NN_F32 || y->dtype != LVC_NN_F32 || x->c != 1 ||
            y->c != 1 || x->w != l->in || y->w != l->out || y->h != x->h)
            return LVC_ERR_INVALID_ARG;
        return nn->ops.linear(nn, l, x, y);
    case LVC_LAYER_QCONV:
        if (x->dtype != LVC_NN_I16 || y->dtype != LVC_NN_I16 ||
            x->frac != l->q.fa_in || x->c != l->p.cin || y->c != l->p.cout)
            return LVC_ERR_INVALID_ARG;
        if ((ret = lvc_conv_out_shape(&l->p, x->h, x->w, &oh, &ow)) < 0)
            return ret;
        if (y->h != oh || y->w != ow)
            return LVC_ERR_INVALID_ARG;
        y->frac = l->q.fa_out;
        return nn->ops.qconv(nn, l, x, y);
    }
    return LVC_ERR_INVALID_ARG;
}

/* ------------------------------------------------------------ elementwise */

int lvc_nn_act(LvcNn *nn, const LvcTensor *x, LvcTensor *y, LvcNnAct act, float param)
{
    if (!nn || !valid_tensor(x) || !valid_tensor(y) || !same_shape(x, y) ||
        x->dtype != LVC_NN_F32 || (unsigned)act > LVC_ACT_SIGMOID)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.act(nn, x, y, act, param);
}

static int check_binary_f32(const LvcNn *nn, const LvcTensor *a, const LvcTensor *b,
                            const LvcTensor *y)
{
    return nn && valid_tensor(a) && valid_tensor(b) && valid_tensor(y) &&
           same_shape(a, b) && same_shape(a, y) && a->dtype == LVC_NN_F32;
}

int lvc_nn_add(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    if (!check_binary_f32(nn, a, b, y))
        return LVC_ERR_INVALID_ARG;
    return nn->ops.add(nn, a, b, y);
}

int lvc_nn_mul(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    if (!check_binary_f32(nn, a, b, y))
        return LVC_ERR_INVALID_ARG;
    return nn->ops.mul(nn, a, b, y);
}

int lvc_nn_scale(LvcNn *nn, const LvcTensor *x, const float *scale,
                 const float *bias, LvcTensor *y)
{
    if (!nn || !valid_tensor(x) || !valid_tensor(y) || !same_shape(x, y) ||
        x->dtype != LVC_NN_F32 || !scale)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.scale(nn, x, scale, bias, y);
}

static int upsample(LvcNn *nn, const LvcTensor *x, int r, int bilinear, LvcTensor *y)
{
    if (!nn || !valid_tensor(x) || !valid_tensor(y) || x->dtype != LVC_NN_F32 ||
        y->dtype != LVC_NN_F32 || r < 1 || r > 64 || y->c != x->c ||
        (int64_t)y->h != (int64_t)x->h * r || (int64_t)y->w != (int64_t)x->w * r ||
        x->data == y->data)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.upsample(nn, x, r, bilinear, y);
}

int lvc_nn_upsample_nearest(LvcNn *nn, const LvcTensor *x, int r, LvcTensor *y)
{
    return upsample(nn, x, r, 0, y);
}

int lvc_nn_upsample_bilinear(LvcNn *nn, const LvcTensor *x, int r, LvcTensor *y)
{
    return upsample(nn, x, r, 1, y);
}

static int shuffle(LvcNn *nn, const LvcTensor *x, int r, int inverse, LvcTensor *y)
{
    const LvcTensor *big, *small;

    if (!nn || !valid_tensor(x) || !valid_tensor(y) || x->dtype != y->dtype ||
        r < 1 || r > 64 || x->data == y->data)
        return LVC_ERR_INVALID_ARG;
    big = inverse ? x : y;    /* spatially large side */
    small = inverse ? y : x;
    if ((int64_t)small->c != (int64_t)big->c * r * r ||
        (int64_t)big->h != (int64_t)small->h * r ||
        (int64_t)big->w != (int64_t)small->w * r)
        return LVC_ERR_INVALID_ARG;
    y->frac = x->frac;
    return nn->ops.shuffle(nn, x, r, inverse, y);
}

int lvc_nn_pixel_shuffle(LvcNn *nn, const LvcTensor *x, int r, LvcTensor *y)
{
    return shuffle(nn, x, r, 0, y);
}

int lvc_nn_pixel_unshuffle(LvcNn *nn, const LvcTensor *x, int r, LvcTensor *y)
{
    return shuffle(nn, x, r, 1, y);
}

int lvc_nn_copy(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    if (!nn || !valid_tensor(x) || !valid_tensor(y) || !same_shape(x, y))
        return LVC_ERR_INVALID_ARG;
    y->frac = x->frac;
    if (x->data == y->data)
        return 0;
    return nn->ops.copy(nn, x, y);
}

int lvc_nn_concat(LvcNn *nn, const LvcTensor *const *xs, int n, LvcTensor *y)
{
    int c = 0, ret;

    if (!nn || !xs || n < 1 || !valid_tensor(y))
        return LVC_ERR_INVALID_ARG;
    for (int i = 0; i < n; i++) {
        if (!valid_tensor(xs[i]) || xs[i]->h != y->h || xs[i]->w != y->w ||
            xs[i]->dtype != y->dtype || xs[i]->c > y->c - c ||
            (y->dtype == LVC_NN_I16 && xs[i]->frac != xs[0]->frac))
            return LVC_ERR_INVALID_ARG;
        c += xs[i]->c;
    }
    if (c != y->c)
        return LVC_ERR_INVALID_ARG;
    c = 0;
    for (int i = 0; i < n; i++) {
        LvcTensor v = *y;
        lvc_tensor_channels(y, c, xs[i]->c, &v);
        /* An input already in place (written into a view) needs no copy. */
        if (v.data != xs[i]->data && (ret = nn->ops.copy(nn, xs[i], &v)) < 0)
            return ret;
        c += xs[i]->c;
    }
    y->frac = xs[0]->frac;
    return 0;
}

int lvc_nn_qadd(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    if (!nn || !valid_tensor(a) || !valid_tensor(b) || !valid_tensor(y) ||
        !same_shape(a, b) || !same_shape(a, y) || a->dtype != LVC_NN_I16)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.qadd(nn, a, b, y);
}

int lvc_nn_requant(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    if (!nn || !valid_tensor(x) || !valid_tensor(y) || !same_shape(x, y) ||
        x->dtype != LVC_NN_I16)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.requant(nn, x, y);
}

int lvc_nn_quantize(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    if (!nn || !valid_tensor(x) || !valid_tensor(y) || x->dtype != LVC_NN_F32 ||
        y->dtype != LVC_NN_I16 || x->c != y->c || x->h != y->h || x->w != y->w)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.quantize(nn, x, y);
}

int lvc_nn_dequantize(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    if (!nn || !valid_tensor(x) || !valid_tensor(y) || x->dtype != LVC_NN_I16 ||
        y->dtype != LVC_NN_F32 || x->c != y->c || x->h != y->h || x->w != y->w)
        return LVC_ERR_INVALID_ARG;
    return nn->ops.dequantize(nn, x, y);
}
