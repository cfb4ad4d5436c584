/*
 * nn — the neural transform layer.
 *
 * Tensors
 *   Batch 1, planar CHW, contiguous: element (c, y, x) of a tensor t lives at
 *   ((T *)t->data)[((size_t)c * t->h + y) * t->w + x]. Two element types:
 *   LVC_NN_F32 (float) for the float transforms (g_a, g_s) and LVC_NN_I16
 *   (int16_t fixed point, value = a / 2^frac) for the integer networks that
 *   decide probabilities (see doc/integer-nn.md, normative). A channel range
 *   of a tensor is again a contiguous tensor (lvc_tensor_channels), so concat
 *   and split along channels can be free when the producer writes into a view.
 *
 *   Tensor memory belongs to the backend: host memory for ref/cpu, device
 *   memory for cuda. Move data in and out with lvc_nn_tensor_write/read;
 *   never dereference t->data of a cuda tensor on the host.
 *
 * Context and backends
 *   An LvcNn holds the backend's kernel table (LvcNnOps, nn/ops.h), a thread
 *   pool and per-thread scratch. The table is filled with the ref kernels and
 *   then overridden by cpu or cuda ones (dav1d style). Scratch is sized when
 *   layers are created, so running a layer never allocates.
 *
 * Layers
 *   Layers with weights (conv, transposed conv, GDN, linear, qconv) are
 *   created once from host weights in PyTorch layouts; the layer copies (and
 *   for some backends repacks or uploads) them, so the caller's buffers may be
 *   released after create. Running a layer does not modify it: one layer may
 *   be run from several threads on different tensors only if each thread has
 *   its own LvcNn (scratch is per context).
 *
 * Workspace
 *   LvcNnPlan collects the activation tensors of a network with their
 *   lifetimes (first and last step using them) and assigns offsets in one
 *   block (greedy by size, tensors alive at the same step never overlap);
 *   LvcNnWorkspace is that block allocated by the backend.
 *
 * Results
 *   Float kernels follow PyTorch semantics (cross-correlation, zero padding,
 *   floor output sizes). The ref backend sums in the fixed order documented
 *   in nn/ref/ref.c; cpu and cuda agree with ref within
 *   |out - ref| <= 1e-5 * (|b| + sum |x*w|) + 1e-6 per element (tests/nn),
 *   and cpu results do not depend on the thread count (work is split by
 *   shape only). Integer kernels are bit-exact on every backend and thread
 *   count.
 *
 * Errors: every int function returns 0 or a negative LvcError
 * (LVC_ERR_INVALID_ARG for inconsistent shapes, LVC_ERR_NOMEM,
 * LVC_ERR_BACKEND when a backend is not available).
 */
#ifndef LVC_NN_NN_H
#define LVC_NN_NN_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"

/* ------------------------------------------------------------ tensors */

typedef enum LvcNnDType {
    LVC_NN_F32 = 0,
    LVC_NN_I16 = 1,
} LvcNnDType;

typedef struct LvcTensor {
    void *data;        /* CHW contiguous; owned by a workspace or by
                        * lvc_nn_tensor_alloc, never by the descriptor */
    int c, h, w;
    LvcNnDType dtype;
    int frac;          /* I16 only: fractional bits (value = a / 2^frac) */
} LvcTensor;

/* Limits on shapes accepted by every op (guard size arithmetic): each
 * dimension, h*w (an int in the kernels and BLAS), and c*h*w. */
#define LVC_NN_MAX_DIM     65536
#define LVC_NN_MAX_PLANE   0x7fffffff
#define LVC_NN_MAX_ELEMS   ((uint64_t)1 << 34)
#define LVC_NN_MAX_KERNEL  64

static inline size_t lvc_tensor_elems(const LvcTensor *t)
{
    return (size_t)t->c * (size_t)t->h * (size_t)t->w;
}
static inline size_t lvc_nn_dtype_size(LvcNnDType dt)
{
    return dt == LVC_NN_I16 ? 2 : 4;
}
static inline size_t lvc_tensor_bytes(const LvcTensor *t)
{
    return lvc_tensor_elems(t) * lvc_nn_dtype_size(t->dtype);
}

/* A descriptor of channels [c0, c0 + nc) of t (same memory, no copy). */
int lvc_tensor_channels(const LvcTensor *t, int c0, int nc, LvcTensor *view);

/* ------------------------------------------------------------ context */

typedef struct LvcNn LvcNn;

/* Open a context for a backend. threads: 0 = number of cores, 1 = no pool.
 * LVC_BACKEND_AUTO picks cuda when a GPU is present, else cpu (else ref when
 * built without OpenBLAS). Explicitly asking for an unavailable backend
 * returns LVC_ERR_BACKEND. On success *nn is owned by the caller (close with
 * lvc_nn_close); on failure *nn is NULL. */
int lvc_nn_open(LvcNn **nn, LvcBackend backend, int threads);
/* Releases the context and sets *nn to NULL; safe on NULL. Layers,
 * workspaces and tensors of the context must be released before. */
void lvc_nn_close(LvcNn **nn);
/* The backend actually used (never AUTO), and the thread count. */
LvcBackend lvc_nn_backend(const LvcNn *nn);
int lvc_nn_threads(const LvcNn *nn);
/* A single-thread context of nn's backend whose scratch fits every layer
 * created on nn so far, so those layers may run on it: several threads can
 * each run them on their own tensors (e.g. one entropy tile each). Host
 * backends only (ref, cpu); LVC_ERR_BACKEND for cuda, whose layers belong
 * to nn's device context. On failure *w is NULL. Close with lvc_nn_close
 * before nn's layers are released. */
int lvc_nn_open_worker(LvcNn **w, const LvcNn *nn);
/* Run fn(arg, job, thread) once for every job in [0, njobs) on nn's thread
 * pool (inline without one); thread in [0, lvc_nn_threads(nn)) names the
 * thread. Order and thread of the jobs are not fixed. */
void lvc_nn_parallel(LvcNn *nn, int njobs, void (*fn)(void *arg, int job, int thread),
                     void *arg);
/* Host scratch held by the context (all threads), for memory reports. */
size_t lvc_nn_scratch_bytes(const LvcNn *nn);
/* 1 if the backend could be opened in this process (cheap after the first
 * call). */
int lvc_nn_backend_available(LvcBackend backend);
const char *lvc_nn_backend_name(LvcBackend backend);

/* Standalone tensor in backend memory (for inputs, outputs and tests). On
 * success t->data is owned by the caller (lvc_nn_tensor_free); on failure t
 * is zeroed. Contents are uninitialised. frac is stored as given. */
int lvc_nn_tensor_alloc(LvcNn *nn, LvcTensor *t, int c, int h, int w,
                        LvcNnDType dtype, int frac);
void lvc_nn_tensor_free(LvcNn *nn, LvcTensor *t);
/* Copy lvc_tensor_bytes(t) bytes between host memory and the tensor. */
int lvc_nn_tensor_write(LvcNn *nn, LvcTensor *t, const void *host);
int lvc_nn_tensor_read(LvcNn *nn, const LvcTensor *t, void *host);
/* Wait for queued device work (no-op on host backends). */
int lvc_nn_sync(LvcNn *nn);

/* ------------------------------------------------------------ workspace */

typedef struct LvcNnPlan LvcNnPlan;
typedef struct LvcNnWorkspace LvcNnWorkspace;

int lvc_nn_plan_create(LvcNnPlan **plan);
void lvc_nn_plan_free(LvcNnPlan **plan);
/* Declare a tensor used from step first to step last (inclusive; steps are
 * any increasing numbering of the network's ops). Returns its id (>= 0) or
 * a negative LvcError. */
int lvc_nn_plan_add(LvcNnPlan *plan, int c, int h, int w, LvcNnDType dtype,
                    int frac, int first, int last);
/* Bytes the workspace needs (computes the placement; callable any time). */
size_t lvc_nn_plan_peak(LvcNnPlan *plan);
/* Allocate the block for a plan in backend memory. The plan may be freed
 * afterwards. On success *ws is owned by the caller. */
int lvc_nn_workspace_create(LvcNn *nn, LvcNnPlan *plan, LvcNnWorkspace **ws);
void lvc_nn_workspace_free(LvcNn *nn, LvcNnWorkspace **ws);
/* Descriptor of tensor id (memory owned by the workspace). */
int lvc_nn_workspace_tensor(const LvcNnWorkspace *ws, int id, LvcTensor *t);
size_t lvc_nn_workspace_bytes(const LvcNnWorkspace *ws);

/* ------------------------------------------------------------ activations */

typedef enum LvcNnAct {
    LVC_ACT_NONE = 0,
    LVC_ACT_RELU,
    LVC_ACT_LEAKY_RELU,   /* float: slope = param; int: slope 2^-param */
    LVC_ACT_GELU,         /* float only, erf form */
    LVC_ACT_SIGMOID,      /* float only */
    LVC_ACT_CLIP_RELU,    /* int only: min(max(y, 0), param) */
} LvcNnAct;

/* ------------------------------------------------------------ float layers */

typedef struct LvcConvParams {
    int cin, cout;
    int kh, kw;
    int stride_h, stride_w;          /* >= 1 */
    /* Zero padding. For convs: added rows/cols on each side (asymmetric
     * allowed). For transposed convs: PyTorch's padding (pad_top must equal
     * pad_bottom, pad_left must equal pad_right) and output_padding. */
    int pad_top, pad_bottom, pad_left, pad_right;
    int out_pad_h, out_pad_w;        /* transposed only, < max(stride, dil) */
    int dil_h, dil_w;                /* >= 1 */
    int groups;                      /* divides cin and cout */
    /* Optional spatial mask (kh*kw bytes, row-major, nonzero = tap used):
     * masked convolutions (PixelCNN / checkerboard context). NULL = none. */
    const uint8_t *mask;
    LvcNnAct act;                    /* fused activation after bias */
    float act_param;                 /* leaky slope */
} LvcConvParams;

/* Defaults: stride 1, dilation 1, groups 1, no padding, no mask, no act. */
void lvc_conv_params_init(LvcConvParams *p, int cin, int cout, int kh, int kw);
/* "same" symmetric padding for odd kernels: pad = dil*(k-1)/2 each side. */
void lvc_conv_params_pad(LvcConvParams *p, int pad_h, int pad_w);

/* Spatial masks for masked convolutions (k*k bytes, row-major, 1 = tap
 * used). Checkerboard (He et al. 2021): taps with (ky + kx) odd, so the
 * centre and same-colour neighbours are excluded. Causal (PixelCNN raster
 * order): rows above the centre, and the centre row left of the centre;
 * type B also keeps the centre. k must be odd, 1..LVC_NN_MAX_KERNEL. */
int lvc_nn_mask_checkerboard(uint8_t *mask, int k);
int lvc_nn_mask_causal(uint8_t *mask, int k, int include_centre);

/* Output shape of a conv / transposed conv for an input h x w. */
int lvc_conv_out_shape(const LvcConvParams *p, int h, int w, int *oh, int *ow);
int lvc_convt_out_shape(const LvcConvParams *p, int h, int w, int *oh, int *ow);

typedef struct LvcNnLayer LvcNnLayer;

/* conv2d: weight [cout][cin/groups][kh][kw], bias [cout] or NULL. */
int lvc_nn_conv_create(LvcNn *nn, const LvcConvParams *p, const float *weight,
                       const float *bias, LvcNnLayer **layer);
/* Transposed conv2d: weight [cin][cout/groups][kh][kw] (PyTorch), bias
 * [cout] or NULL. The mask is not supported (LVC_ERR_INVALID_ARG). */
int lvc_nn_convt_create(LvcNn *nn, const LvcConvParams *p, const float *weight,
                        const float *bias, LvcNnLayer **layer);

typedef enum LvcGdnKind {
    LVC_GDN = 0,        /* y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2) */
    LVC_IGDN,           /* y_i = x_i * sqrt(beta_i + sum_j gamma_ij x_j^2) */
    LVC_GDN_SIMPLE,     /* y_i = x_i / (beta_i + sum_j gamma_ij |x_j|) */
    LVC_IGDN_SIMPLE,    /* y_i = x_i * (beta_i + sum_j gamma_ij |x_j|) */
} LvcGdnKind;
/* beta [c], gamma [c][c] (row i = output channel; CompressAI's effective,
 * already reparametrized values). */
int lvc_nn_gdn_create(LvcNn *nn, LvcGdnKind kind, int c, const float *beta,
                      const float *gamma, LvcNnLayer **layer);

/* Linear: y[n][o] = b[o] + sum_i W[o][i] x[n][i]; weight row-major [out][in]
 * (PyTorch). Inputs are 1 x rows x in tensors (c=1, h=rows, w=in), outputs
 * 1 x rows x out. A per-pixel MLP over a CHW image is a 1x1 conv instead. */
int lvc_nn_linear_create(LvcNn *nn, int in, int out, const float *weight,
                         const float *bias, LvcNnAct act, float act_param,
                         LvcNnLayer **layer);

/* Run a layer (float layers and qconv): y must have the output shape and
 * dtype and must not overlap x. Shapes: lvc_conv_out_shape /
 * lvc_convt_out_shape; GDN keeps the shape; linear maps 1 x rows x in to
 * 1 x rows x out. */
int lvc_nn_forward(LvcNn *nn, const LvcNnLayer *layer, const LvcTensor *x,
                   LvcTensor *y);
void lvc_nn_layer_free(LvcNn *nn, LvcNnLayer **layer);
/* Bytes of weights held by the layer (for reporting). */
size_t lvc_nn_layer_weight_bytes(const LvcNnLayer *layer);

/* ------------------------------------------------------ float elementwise */

/* y = act(x); y may equal x (in place). */
int lvc_nn_act(LvcNn *nn, const LvcTensor *x, LvcTensor *y, LvcNnAct act,
               float param);
/* y = a + b, y = a * b (same shapes); y may alias a or b. */
int lvc_nn_add(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y);
int lvc_nn_mul(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y);
/* y[c] = x[c] * scale[c] + (bias ? bias[c] : 0); host vectors of x->c
 * floats (gain vectors); y may equal x. */
int lvc_nn_scale(LvcNn *nn, const LvcTensor *x, const float *scale,
                 const float *bias, LvcTensor *y);
/* Upsampling by integer factors (PyTorch nn.Upsample, scale_factor r,
 * align_corners=False). */
int lvc_nn_upsample_nearest(LvcNn *nn, const LvcTensor *x, int r, LvcTensor *y);
int lvc_nn_upsample_bilinear(LvcNn *nn, const LvcTensor *x, int r, LvcTensor *y);

/* -------------------------------------------------- dtype-generic reindex */

/* PyTorch pixel_shuffle (C*r*r, H, W) -> (C, H*r, W*r) and pixel_unshuffle;
 * F32 or I16 (frac is carried over). */
int lvc_nn_pixel_shuffle(LvcNn *nn, const LvcTensor *x, int r, LvcTensor *y);
int lvc_nn_pixel_unshuffle(LvcNn *nn, const LvcTensor *x, int r, LvcTensor *y);
/* y = concat(xs[0..n-1]) along channels (same h, w, dtype; I16 inputs must
 * share frac). Split is lvc_tensor_channels (+ lvc_nn_copy if a copy is
 * needed). */
int lvc_nn_concat(LvcNn *nn, const LvcTensor *const *xs, int n, LvcTensor *y);
int lvc_nn_copy(LvcNn *nn, const LvcTensor *x, LvcTensor *y);

/* ------------------------------------------------------------ integer ops
 * Normative arithmetic: doc/integer-nn.md. Bit-exact on every backend. */

typedef struct LvcQConvParams {
    LvcConvParams conv;    /* act/act_param of conv are ignored */
    int wbits;             /* 8 (weights int8) or 16 (int16) */
    int fw;                /* weight fractional bits */
    int fa_in, fa_out;     /* activation fractional bits in / out;
                            * s = fa_in + fw - fa_out in [0, 62] */
    LvcNnAct act;          /* NONE, RELU, LEAKY_RELU (k), CLIP_RELU (c) */
    int act_param;         /* k (0..15) for leaky, c (0..32767) for clip */
} LvcQConvParams;

/* weight: int8_t or int16_t [cout][cin/groups][kh][kw] by wbits; bias
 * int32 [cout] with fa_in + fw fractional bits, or NULL. */
int lvc_nn_qconv_create(LvcNn *nn, const LvcQConvParams *p, const void *weight,
                        const int32_t *bias, LvcNnLayer **layer);
/* lvc_nn_forward runs it: x I16 with frac == fa_in, y I16 (frac set to
 * fa_out). */

/* y = a + b with a, b at their own frac; result at y->frac (exact rules in
 * doc/integer-nn.md). y may alias a or b. */
int lvc_nn_qadd(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y);
/* Requantize x to y->frac (round half up on right shifts, saturating). */
int lvc_nn_requant(LvcNn *nn, const LvcTensor *x, LvcTensor *y);
/* Float <-> fixed conversions for glue code (not on the determinism path
 * unless the float input is exactly representable): y = sat(floor(x*2^f+.5)).
 */
int lvc_nn_quantize(LvcNn *nn, const LvcTensor *x, LvcTensor *y);
int lvc_nn_dequantize(LvcNn *nn, const LvcTensor *x, LvcTensor *y);

/* ------------------------------------------------------------ composites */

/* Simplified attention block of Cheng et al. 2020 (CompressAI
 * AttentionBlock(N)):
 *   RU(t)  = relu(t + conv1x1(relu(conv3x3(relu(conv1x1(t))))))
 *            with widths N -> N/2 -> N/2 -> N
 *   a = RU(RU(RU(x))); b = conv1x1(RU(RU(RU(x))))
 *   y = x + a * sigmoid(b)
 * Weights in CompressAI state-dict order: conv_a.{0,1,2}.conv.{0,2,4}
 * weight and bias, then conv_b.{0,1,2}.conv.{0,2,4}, then conv_b.3. */
typedef struct LvcAttnWeights {
    const float *a_w[3][3], *a_b[3][3];   /* [unit][conv] */
    const float *b_w[3][3], *b_b[3][3];
    const float *b_out_w, *b_out_b;       /* conv1x1 N -> N */
} LvcAttnWeights;

typedef struct LvcNnAttn LvcNnAttn;
int lvc_nn_attn_create(LvcNn *nn, int n, const LvcAttnWeights *w,
                       LvcNnAttn **attn);
/* x and y are N x H x W F32, distinct. Temporaries come from the context
 * (allocated on the first call for a given size, then reused). */
int lvc_nn_attn_forward(LvcNn *nn, LvcNnAttn *attn, const LvcTensor *x,
                        LvcTensor *y);
void lvc_nn_attn_free(LvcNn *nn, LvcNnAttn **attn);

#endif /* LVC_NN_NN_H */
