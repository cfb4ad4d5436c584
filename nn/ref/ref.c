/*
 * nn/ref: the reference kernels, portable C, the ground truth for every
 * other backend.
 *
 * Summation order (fixed; the project compiles with -ffp-contract=off, so no
 * fused multiply-add is formed):
 *  - conv2d: for each output element, acc = bias, then for each input channel
 *    of its group in increasing order, for ky then kx increasing, for taps
 *    inside the input (padding taps are skipped, not added as 0):
 *    acc += x * w. Then the fused activation.
 *  - transposed conv2d (gather form): for each output element, acc = bias,
 *    then for each input channel of its group increasing, ky, kx increasing,
 *    for taps that land on an input sample: acc += x * w.
 *  - GDN: n = beta_i, then for j increasing n += gamma_ij * x_j^2
 *    (simplified: * |x_j|); y = x_i / sqrtf(n) (inverse: x_i * sqrtf(n);
 *    simplified: x_i / n and x_i * n).
 *  - linear: acc = b_o, then for i increasing acc += W_oi * x_i.
 * Jobs are split over output channels only, so the thread count never
 * changes a result. Integer kernels accumulate exactly in int64.
 */
#include <math.h>
#include <string.h>

#include "nn/ops.h"

static inline float act_f32(float v, LvcNnAct act, float param)
{
    switch (act) {
    case LVC_ACT_RELU:       return v > 0.0f ? v : 0.0f;
    case LVC_ACT_LEAKY_RELU: return v >= 0.0f ? v : v * param;
    case LVC_ACT_GELU:       return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case LVC_ACT_SIGMOID:    return 1.0f / (1.0f + expf(-v));
    default:                 return v;
    }
}


/* ------------------------------------------------------------ conv */

typedef struct ConvJob {
    const LvcNnLayer *l;
    const LvcTensor *x;
    LvcTensor *y;
} ConvJob;

/* The taps of one output position that land inside the input, in
 * increasing (ky, kx) order: computed once per position, outside the
 * channel loop (the summation order is unchanged). */
typedef struct TapList {
    int n;
    int16_t k[LVC_NN_MAX_KERNEL * LVC_NN_MAX_KERNEL];     /* ky * kw + kx */
    int32_t off[LVC_NN_MAX_KERNEL * LVC_NN_MAX_KERNEL];   /* iy * W + ix */
} TapList;

static void conv_job(void *arg, int co, int thread)
{
    const ConvJob *j = arg;
    const LvcConvParams *p = &j->l->p;
    const float *x = j->x->data;
    float *y = (float *)j->y->data + (size_t)co * j->y->h * j->y->w;
    const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
    const int g = co / opg, H = j->x->h, W = j->x->w, taps = p->kh * p->kw;
    const float *wc = j->l->w + (size_t)co * cpg * taps;
    TapList tl;
    (void)thread;

    for (int oy = 0; oy < j->y->h; oy++)
        for (int ox = 0; ox < j->y->w; ox++) {
            float acc = j->l->b[co];
            tl.n = 0;
            for (int ky = 0; ky < p->kh; ky++) {
                int iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                if (iy < 0 || iy >= H)
                    continue;
                for (int kx = 0; kx < p->kw; kx++) {
                    int ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                    if (ix < 0 || ix >= W || (p->mask && !p->mask[ky * p->kw + kx]))
                        continue;
                    tl.k[tl.n] = (int16_t)(ky * p->kw + kx);
                    tl.off[tl.n++] = iy * W + ix;
                }
            }
            for (int ci = 0; ci < cpg; ci++) {
                const float *xc = x + (size_t)(g * cpg + ci) * H * W;
                const float *wk = wc + (size_t)ci * taps;
                for (int t = 0; t < tl.n; t++)
                    acc += xc[tl.off[t]] * wk[tl.k[t]];
            }
            y[(size_t)oy * j->y->w + ox] = act_f32(acc, p->act, p->act_param);
        }
}

static int ref_conv(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    ConvJob j = { l, x, y };
    lvc_nn_parallel(nn, l->p.cout, conv_job, &j);
    return 0;
}

static void convt_job(void *arg, int co, int thread)
{
    const ConvJob *j = arg;
    const LvcConvParams *p = &j->l->p;
    const float *x = j->x->data;
    float *y = (float *)j->y->data + (size_t)co * j->y->h * j->y->w;
    const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
    const int g = co / opg, H = j->x->h, W = j->x->w, taps = p->kh * p->kw;
    TapList tl;
    (void)thread;

    for (int oy = 0; oy < j->y->h; oy++)
        for (int ox = 0; ox < j->y->w; ox++) {
            float acc = j->l->b[co];
            tl.n = 0;
            for (int ky = 0; ky < p->kh; ky++) {
                int ty = oy + p->pad_top - ky * p->dil_h, iy;
                if (ty < 0 || ty % p->stride_h)
                    continue;
                iy = ty / p->stride_h;
                if (iy >= H)
                    continue;
                for (int kx = 0; kx < p->kw; kx++) {
                    int tx = ox + p->pad_left - kx * p->dil_w, ix;
                    if (tx < 0 || tx % p->stride_w)
                        continue;
                    ix = tx / p->stride_w;
                    if (ix >= W)
                        continue;
                    tl.k[tl.n] = (int16_t)(ky * p->kw + kx);
                    tl.off[tl.n++] = iy * W + ix;
                }
            }
            for (int ci = 0; ci < cpg; ci++) {
                const int cig = g * cpg + ci;
                const float *xc = x + (size_t)cig * H * W;
                /* weight [cin][cout/g][kh][kw] */
                const float *wk = j->l->w + ((size_t)cig * opg + co % opg) * taps;
                for (int t = 0; t < tl.n; t++)
                    acc += xc[tl.off[t]] * wk[tl.k[t]];
            }
            y[(size_t)oy * j->y->w + ox] = act_f32(acc, p->act, p->act_param);
        }
}

static int ref_convt(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    ConvJob j = { l, x, y };
    lvc_nn_parallel(nn, l->p.cout, convt_job, &j);
    return 0;
}

/* ------------------------------------------------------------ GDN */

static void gdn_job(void *arg, int i, int thread)
{
    const ConvJob *j = arg;
    const LvcNnLayer *l = j->l;
    const size_t hw = (size_t)j->x->h * j->x->w;
    const float *x = j->x->data;
    const float *xi = x + i * hw;
    float *y = (float *)j->y->data + i * hw;
    const float *gam = l->w + (size_t)i * l->c;
    const int simple = l->gdn == LVC_GDN_SIMPLE || l->gdn == LVC_IGDN_SIMPLE;
    (void)thread;

    for (size_t p = 0; p < hw; p++) {
        float n = l->b[i];
        for (int c = 0; c < l->c; c++) {
            float v = x[c * hw + p];
            n += gam[c] * (simple ? fabsf(v) : v * v);
        }
        switch (l->gdn) {
        case LVC_GDN:         y[p] = xi[p] / sqrtf(n); break;
        case LVC_IGDN:        y[p] = xi[p] * sqrtf(n); break;
        case LVC_GDN_SIMPLE:  y[p] = xi[p] / n; break;
        case LVC_IGDN_SIMPLE: y[p] = xi[p] * n; break;
        }
    }
}

static int ref_gdn(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    ConvJob j = { l, x, y };
    lvc_nn_parallel(nn, l->c, gdn_job, &j);
    return 0;
}

/* ------------------------------------------------------------ linear */

static int ref_linear(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    (void)nn;
    for (int n = 0; n < x->h; n++) {
        const float *xr = (const float *)x->data + (size_t)n * l->in;
        float *yr = (float *)y->data + (size_t)n * l->out;
        for (int o = 0; o < l->out; o++) {
            const float *wr = l->w + (size_t)o * l->in;
            float acc = l->b[o];
            for (int i = 0; i < l->in; i++)
                acc += wr[i] * xr[i];
            yr[o] = act_f32(acc, l->act, l->act_param);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ qconv */

static void qconv_job(void *arg, int co, int thread)
{
    const ConvJob *j = arg;
    const LvcNnLayer *l = j->l;
    const LvcConvParams *p = &l->p;
    const int16_t *x = j->x->data;
    int16_t *y = (int16_t *)j->y->data + (size_t)co * j->y->h * j->y->w;
    const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
    const int g = co / opg, H = j->x->h, W = j->x->w, taps = p->kh * p->kw;
    const int s = l->q.fa_in + l->q.fw - l->q.fa_out;
    const int16_t *wc = l->qw + (size_t)co * cpg * taps;
    TapList tl;
    (void)thread;

    for (int oy = 0; oy < j->y->h; oy++)
        for (int ox = 0; ox < j->y->w; ox++) {
            int64_t acc = l->qb[co];
            tl.n = 0;
            for (int ky = 0; ky < p->kh; ky++) {
                int iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                if (iy < 0 || iy >= H)
                    continue;
                for (int kx = 0; kx < p->kw; kx++) {
                    int ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                    if (ix < 0 || ix >= W)
                        continue;
                    tl.k[tl.n] = (int16_t)(ky * p->kw + kx);
                    tl.off[tl.n++] = iy * W + ix;
                }
            }
            for (int ci = 0; ci < cpg; ci++) {
                const int16_t *xc = x + (size_t)(g * cpg + ci) * H * W;
                const int16_t *wk = wc + (size_t)ci * taps;
                for (int t = 0; t < tl.n; t++)
                    acc += (int32_t)xc[tl.off[t]] * wk[tl.k[t]];
            }
            y[(size_t)oy * j->y->w + ox] =
                lvc_nn_qact(lvc_nn_sat16(lvc_nn_round_shift(acc, s)), l->q.act,
                            l->q.act_param);
        }
}

static int ref_qconv(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    ConvJob j = { l, x, y };
    lvc_nn_parallel(nn, l->p.cout, qconv_job, &j);
    return 0;
}

/* ------------------------------------------------------------ elementwise */

static int ref_act(LvcNn *nn, const LvcTensor *x, LvcTensor *y, LvcNnAct act, float param)
{
    const float *a = x->data;
    float *o = y->data;
    size_t n = lvc_tensor_elems(x);
    (void)nn;
    for (size_t i = 0; i < n; i++)
        o[i] = act_f32(a[i], act, param);
    return 0;
}

static int ref_add(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    const float *pa = a->data, *pb = b->data;
    float *o = y->data;
    size_t n = lvc_tensor_elems(a);
    (void)nn;
    for (size_t i = 0; i < n; i++)
        o[i] = pa[i] + pb[i];
    return 0;
}

static int ref_mul(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    const float *pa = a->data, *pb = b->data;
    float *o = y->data;
    size_t n = lvc_tensor_elems(a);
    (void)nn;
    for (size_t i = 0; i < n; i++)
        o[i] = pa[i] * pb[i];
    return 0;
}

static int ref_scale(LvcNn *nn, const LvcTensor *x, const float *s, const float *b,
                     LvcTensor *y)
{
    size_t hw = (size_t)x->h * x->w;
    (void)nn;
    for (int c = 0; c < x->c; c++) {
        const float *a = (const float *)x->data + c * hw;
        float *o = (float *)y->data + c * hw;
        float bc = b ? b[c] : 0.0f;
        for (size_t i = 0; i < hw; i++)
            o[i] = a[i] * s[c] + bc;
    }
    return 0;
}

/* PyTorch upsample_bilinear2d (align_corners=False, scale_factor given):
 * src = max((dst + 0.5) / r - 0.5, 0), neighbours i0 = floor(src),
 * i1 = min(i0 + 1, n - 1), result = l0 * (w0 * v00 + w1 * v01)
 * + l1 * (w0 * v10 + w1 * v11), all in float as PyTorch's CPU kernel. */
static void bilinear_coord(int dst, int r, int n, int *i0, int *i1, float *l0, float *l1)
{
    float src = ((float)dst + 0.5f) * (1.0f / (float)r) - 0.5f;
    if (src < 0.0f)
        src = 0.0f;
    *i0 = (int)src;
    if (*i0 > n - 1)
        *i0 = n - 1;
    *i1 = *i0 < n - 1 ? *i0 + 1 : *i0;
    *l1 = src - (float)*i0;
    *l0 = 1.0f - *l1;
}

static int ref_upsample(LvcNn *nn, const LvcTensor *x, int r, int bilinear, LvcTensor *y)
{
    const int H = x->h, W = x->w, OH = y->h, OW = y->w;
    (void)nn;
    for (int c = 0; c < x->c; c++) {
        const float *a = (const float *)x->data + (size_t)c * H * W;
        float *o = (float *)y->data + (size_t)c * OH * OW;
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float v;
                if (!bilinear) {
                    v = a[(size_t)(oy / r) * W + ox / r];
                } else {
                    int y0, y1, x0, x1;
                    float ly0, ly1, lx0, lx1;
                    bilinear_coord(oy, r, H, &y0, &y1, &ly0, &ly1);
                    bilinear_coord(ox, r, W, &x0, &x1, &lx0, &lx1);
                    v = ly0 * (lx0 * a[(size_t)y0 * W + x0] + lx1 * a[(size_t)y0 * W + x1]) +
                        ly1 * (lx0 * a[(size_t)y1 * W + x0] + lx1 * a[(size_t)y1 * W + x1]);
                }
                o[(size_t)oy * OW + ox] = v;
            }
    }
    return 0;
}

/* pixel_shuffle: out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x]. One job
 * per output channel c (the r*r input planes it gathers). */
typedef struct ShuffleJob {
    const LvcTensor *big, *small;
    int r, inverse;
} ShuffleJob;

#define DEFINE_SHUFFLE(name, T)                                                     \
static void name(const ShuffleJob *j, int c)                                        \
{                                                                                   \
    const int r = j->r, H = j->small->h, W = j->small->w;                           \
    T *big = (T *)j->big->data + (size_t)c * H * r * W * r;                         \
    T *small = (T *)j->small->data + (size_t)c * r * r * H * W;                     \
    for (int i = 0; i < r; i++)                                                     \
        for (int jj = 0; jj < r; jj++) {                                            \
            T *sp = small + ((size_t)i * r + jj) * H * W;                           \
            for (int yy = 0; yy < H; yy++) {                                        \
                T *br = big + ((size_t)yy * r + i) * W * r + jj;                    \
                T *sr = sp + (size_t)yy * W;                                        \
                if (j->inverse)                                                     \
                    for (int xx = 0; xx < W; xx++) sr[xx] = br[(size_t)xx * r];     \
                else                                                                \
                    for (int xx = 0; xx < W; xx++) br[(size_t)xx * r] = sr[xx];     \
            }                                                                       \
        }                                                                           \
}

DEFINE_SHUFFLE(shuffle_f32, float)
DEFINE_SHUFFLE(shuffle_i16, int16_t)

static void shuffle_job(void *arg, int c, int thread)
{
    const ShuffleJob *j = arg;
    (void)thread;
    if (j->big->dtype == LVC_NN_I16)
        shuffle_i16(j, c);
    else
        shuffle_f32(j, c);
}

static int ref_shuffle(LvcNn *nn, const LvcTensor *x, int r, int inverse, LvcTensor *y)
{
    ShuffleJob j = { inverse ? x : y, inverse ? y : x, r, inverse };
    lvc_nn_parallel(nn, j.big->c, shuffle_job, &j);
    return 0;
}

static int ref_copy(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    (void)nn;
    memmove(y->data, x->data, lvc_tensor_bytes(x));
    return 0;
}

/* ------------------------------------------------------------ integer */

/* Exact sum of a at fa and b at fb expressed at fy, as in
 * doc/integer-nn.md: F = max(fa, fb, fy); t = a*2^(F-fa) + b*2^(F-fb);
 * y = sat16(round_shift(t, F - fy)). */
static inline int16_t qadd1(int16_t a, int fa, int16_t b, int fb, int fy)
{
    int F = fa > fb ? fa : fb;
    int64_t t;
    if (fy > F)
        F = fy;
    t = (int64_t)a * ((int64_t)1 << (F - fa)) + (int64_t)b * ((int64_t)1 << (F - fb));
    return lvc_nn_sat16(lvc_nn_round_shift(t, F - fy));
}

static int ref_qadd(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    const int16_t *pa = a->data, *pb = b->data;
    int16_t *o = y->data;
    size_t n = lvc_tensor_elems(a);
    (void)nn;
    for (size_t i = 0; i < n; i++)
        o[i] = qadd1(pa[i], a->frac, pb[i], b->frac, y->frac);
    return 0;
}

static int ref_requant(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    const int16_t *a = x->data;
    int16_t *o = y->data;
    size_t n = lvc_tensor_elems(x);
    (void)nn;
    for (size_t i = 0; i < n; i++)
        o[i] = qadd1(a[i], x->frac, 0, 0, y->frac);
    return 0;
}

static int ref_quantize(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    const float *a = x->data;
    int16_t *o = y->data;
    size_t n = lvc_tensor_elems(x);
    const double sc = ldexp(1.0, y->frac);
    (void)nn;
    for (size_t i = 0; i < n; i++) {
        double v = floor((double)a[i] * sc + 0.5);
        /* NaN compares false both ways and becomes 0. */
        o[i] = v >= 32767.0 ? 32767 : v <= -32768.0 ? -32768 : v == v ? (int16_t)v : 0;
    }
    return 0;
}

static int ref_dequantize(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    const int16_t *a = x->data;
    float *o = y->data;
    size_t n = lvc_tensor_elems(x);
    const float sc = ldexpf(1.0f, -x->frac);
    (void)nn;
    for (size_t i = 0; i < n; i++)
        o[i] = (float)a[i] * sc;
    return 0;
}

void lvc_nn_ref_init(LvcNnOps *ops)
{
    memset(ops, 0, sizeof(*ops));
    ops->conv = ref_conv;
    ops->convt = ref_convt;
    ops->gdn = ref_gdn;
    ops->linear = ref_linear;
    ops->qconv = ref_qconv;
    ops->act = ref_act;
    ops->add = ref_add;
    ops->mul = ref_mul;
    ops->scale = ref_scale;
    ops->upsample = ref_upsample;
    ops->shuffle = ref_shuffle;
    ops->copy = ref_copy;
    ops->qadd = ref_qadd;
    ops->requant = ref_requant;
    ops->quantize = ref_quantize;
    ops->dequantize = ref_dequantize;
}
