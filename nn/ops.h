/*
 * nn internals: the layer object, the context and the backend kernel table.
 * Included by the nn sources and backends only; models use nn/nn.h.
 */
#ifndef LVC_NN_OPS_H
#define LVC_NN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

typedef struct LvcPool LvcPool;

typedef enum LvcNnLayerKind {
    LVC_LAYER_CONV = 1,
    LVC_LAYER_CONVT,
    LVC_LAYER_GDN,
    LVC_LAYER_LINEAR,
    LVC_LAYER_QCONV,
} LvcNnLayerKind;

struct LvcNnLayer {
    LvcNnLayerKind kind;
    LvcConvParams p;            /* conv, convt, qconv (p.mask == mask) */
    uint8_t *mask;              /* owned copy, kh*kw bytes, or NULL */
    LvcQConvParams q;           /* qconv */
    LvcGdnKind gdn;             /* gdn */
    int c;                      /* gdn channels */
    int in, out;                /* linear */
    LvcNnAct act;               /* linear */
    float act_param;
    /* Host copies in PyTorch layout (masked taps zeroed). GDN: w = gamma,
     * b = beta. Always present: the ref kernels and host fallbacks read
     * them. */
    float *w, *b;
    int16_t *qw;                /* qconv weights widened to int16 */
    int32_t *qb;                /* qconv bias (zeros when none) */
    size_t wbytes;
    void *priv;                 /* backend data (packed / device copies) */
};

typedef struct LvcNnOps {
    /* Layers. */
    int (*conv)(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y);
    int (*convt)(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y);
    int (*gdn)(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y);
    int (*linear)(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y);
    int (*qconv)(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y);
    /* Called after the host copies of a new layer are filled (pack, upload,
     * reserve scratch) and before it is freed. May be NULL. */
    int (*layer_prepare)(LvcNn *nn, LvcNnLayer *l);
    void (*layer_release)(LvcNn *nn, LvcNnLayer *l);
    /* Elementwise and reindexing (shapes already validated). */
    int (*act)(LvcNn *nn, const LvcTensor *x, LvcTensor *y, LvcNnAct act, float param);
    int (*add)(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y);
    int (*mul)(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y);
    int (*scale)(LvcNn *nn, const LvcTensor *x, const float *s, const float *b,
                 LvcTensor *y);
    int (*upsample)(LvcNn *nn, const LvcTensor *x, int r, int bilinear, LvcTensor *y);
    int (*shuffle)(LvcNn *nn, const LvcTensor *x, int r, int inverse, LvcTensor *y);
    int (*copy)(LvcNn *nn, const LvcTensor *x, LvcTensor *y);
    int (*qadd)(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y);
    int (*requant)(LvcNn *nn, const LvcTensor *x, LvcTensor *y);
    int (*quantize)(LvcNn *nn, const LvcTensor *x, LvcTensor *y);
    int (*dequantize)(LvcNn *nn, const LvcTensor *x, LvcTensor *y);
    /* Backend memory. */
    void *(*mem_alloc)(LvcNn *nn, size_t size);
    void (*mem_free)(LvcNn *nn, void *p);
    int (*mem_write)(LvcNn *nn, void *dst, const void *src, size_t n);
    int (*mem_read)(LvcNn *nn, void *dst, const void *src, size_t n);
    int (*sync)(LvcNn *nn);
    void (*close)(LvcNn *nn);
} LvcNnOps;

struct LvcNn {
    LvcBackend backend;
    int threads;
    LvcNnOps ops;
    LvcPool *pool;              /* NULL when threads == 1 */
    /* Per-thread host scratch, 64-byte aligned, each scratch_size bytes. */
    uint8_t **scratch;
    size_t scratch_size;
    void *priv;                 /* backend context (cuda handles) */
    unsigned cpu_flags;         /* lvc_cpu_flags() when the context opened */
};

/* Grow every thread's scratch to at least bytes (called at layer creation,
 * never while running). */
int lvc_nn_reserve_scratch(LvcNn *nn, size_t bytes);

/* lvc_nn_parallel (nn.h) runs the kernels' jobs on the context's pool. */

/* Kernel tables. */
void lvc_nn_ref_init(LvcNnOps *ops);
int lvc_nn_cpu_init(LvcNn *nn);   /* LVC_ERR_BACKEND without OpenBLAS */
int lvc_nn_cuda_init(LvcNn *nn);  /* LVC_ERR_BACKEND without a device */
int lvc_nn_cuda_available(void);

/* Scalar helpers shared by the kernels (the normative integer rules). */
static inline int16_t lvc_nn_sat16(int64_t v)
{
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}
/* floor(v / 2^s + 1/2) for s >= 1; v for s == 0. */
static inline int64_t lvc_nn_round_shift(int64_t v, int s)
{
    return s > 0 ? (v + ((int64_t)1 << (s - 1))) >> s : v;
}
static inline int16_t lvc_nn_qact(int16_t y, LvcNnAct act, int param)
{
    switch (act) {
    case LVC_ACT_RELU:       return y < 0 ? 0 : y;
    case LVC_ACT_LEAKY_RELU: return y < 0 ? (int16_t)(y >> param) : y;
    case LVC_ACT_CLIP_RELU:  return y < 0 ? 0 : y > param ? (int16_t)param : y;
    default:                 return y;
    }
}

#endif /* LVC_NN_OPS_H */
