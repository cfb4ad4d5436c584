/*
 * nn/cpu: OpenBLAS kernels.
 *
 * conv2d        band-wise im2col (or the input itself for 1x1/stride 1) and
 *               cblas_sgemm; depthwise convs run the direct ref loop.
 *               3x3, stride 1, "same" padding, at least WINO_MIN_C
 *               channels in and out (g_s of every model): Winograd
 *               F(2x2, 3x3) (Lavin and Gray 2016), 16 GEMMs per band of
 *               2x2 output tiles, 2.25x fewer multiplications; the
 *               tile transforms run 8 tiles at a time with AVX2 (same
 *               bits as the C loop).
 * transposed    split into stride_h*stride_w output phases; each phase is
 *               an ordinary correlation with a subset of the taps, so it is
 *               im2col + sgemm too and writes disjoint outputs (no
 *               scatter-add, no atomics, bounded memory).
 * GDN           sgemm of gamma with x^2 (|x|) then the elementwise part.
 * linear        sgemm.
 * qconv         im2col into doubles and cblas_dgemm: every product of two
 *               int16 is below 2^30 in magnitude and a dot product has at
 *               most 2^22 terms (checked at layer creation), so every
 *               partial sum is an integer below 2^53 and exact in double
 *               whatever the order or fusing of the GEMM. The bias, shift,
 *               rounding and saturation are then done in int64: bit-exact
 *               with ref by construction. With AVX2, and weights whose
 *               pairs stay within the int32 bound, im2col into
 *               interleaved int16 pairs and vpmaddwd, summed in int32
 *               over chunks of K cut at layer creation so that no partial
 *               sum can leave int32, the chunks added in int64: exact
 *               too, about 2x the double GEMM (bench_nn).
 *
 * Determinism across thread counts: the work is cut into jobs whose shape
 * depends only on the layer and tensor shapes (never on the thread count),
 * each job is one single-threaded GEMM call, so every output element is
 * computed by the same call with the same arguments whatever thread runs
 * it. OpenBLAS is set to one thread: parallelism comes from the lvc pool.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cpu.h"
#include "common/mem.h"
#include "nn/ops.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

#if LVC_HAVE_OPENBLAS

#include <cblas.h>

/* Target size of an im2col band in elements: about 1 MiB of floats keeps
 * the band in L2 next to the GEMM's packed panels. (2^17..2^20 measured
 * within the noise of the shared build machine; -DLVC_NN_BAND_LOG2=n to
 * experiment.) */
#ifndef LVC_NN_BAND_LOG2
#define LVC_NN_BAND_LOG2 18
#endif
#define BAND_ELEMS (1 << LVC_NN_BAND_LOG2)
/* kn2row: layers with at most this many output channels, and the size of
 * the Z band (floats per thread). */
#define KN2ROW_MAX_COUT 16
#define KN2ROW_ELEMS (1 << 20)

void openblas_set_num_threads(int num_threads);

static int band_pixels(size_t k)
{
    size_t p = BAND_ELEMS / (k ? k : 1);
    if (p < 64)
        p = 64;
    p &= ~(size_t)15;
    if (p > (1 << 20))
        p = 1 << 20;
    return (int)p;
}

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

static void act_row(float *y, size_t n, LvcNnAct act, float param)
{
    switch (act) {
    case LVC_ACT_NONE:
        return;
    case LVC_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        return;
    default:
        for (size_t i = 0; i < n; i++)
            y[i] = act_f32(y[i], act, param);
    }
}

/* ------------------------------------------------------------ prepared */

/* One tap of a (phase of a) kernel: weight index ky*kw+kx and the input
 * offset it reads relative to the output position (scaled). */
typedef struct Tap {
    int k;          /* ky * kw + kx */
    int dy, dx;     /* conv: ky*dil - pad; convt phase: input offset */
} Tap;

typedef struct Phase {
    int py, px;     /* convt output phase */
    int ntaps;
    Tap *taps;
    float *w;       /* [cout][cpg * ntaps] (group-major rows) */
} Phase;

typedef struct CpuLayer {
    int direct;     /* depthwise: ref-style loop */
    /* kn2row path (few output channels): Z = wt x X over input rows, then
     * each output gathers its taps from Z. wt is [cout * kntaps][cin]. */
    int kn2row;
    int kntaps;
    Tap *ktaps;     /* k = ky * kw + kx; dy = ky, dx = kx */
    float *wt;
    int nphases;    /* conv: 1 */
    Phase *ph;
    int band;       /* pixels per job */
    double *qwd;    /* qconv weights as doubles [cout][cpg*ntaps] (or NULL) */
    int32_t *qwp;   /* or, int32 path: weight pairs [cout][(cpg*ntaps+1)/2] */
    int *qchunk;    /* int32 path: end (in pairs) of each chunk summed in int32 */
    int nqchunks;
    float *wino;    /* Winograd: U[16][cout][cin], or NULL */
    int wtiles;     /* Winograd: 2x2 tiles per job */
} CpuLayer;

static void cpu_layer_release(LvcNn *nn, LvcNnLayer *l)
{
    CpuLayer *c = l->priv;
    (void)nn;
    if (!c)
        return;
    for (int i = 0; c->ph && i < c->nphases; i++) {
        lvc_free(c->ph[i].taps);
        lvc_free(c->ph[i].w);
    }
    lvc_free(c->ph);
    lvc_free(c->qwd);
    lvc_free(c->qwp);
    lvc_free(c->qchunk);
    lvc_free(c->wino);
    lvc_free(c->ktaps);
    lvc_free(c->wt);
    lvc_free(c);
    l->priv = NULL;
}

/* Pack w (conv layout [cout][cpg][kh*kw] or convt layout [cin][opg][kh*kw])
 * to [cout][cpg * ntaps] for the taps of a phase. */
static int pack_phase(const LvcNnLayer *l, Phase *ph, int transposed)
{
    const LvcConvParams *p = &l->p;
    const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
    const int taps = p->kh * p->kw;
    size_t K = (size_t)cpg * ph->ntaps;

    ph->w = lvc_malloc_array((size_t)p->cout * (K ? K : 1), sizeof(float));
    if (!ph->w)
        return LVC_ERR_NOMEM;
    for (int co = 0; co < p->cout; co++) {
        const int g = co / opg;
        for (int ci = 0; ci < cpg; ci++)
            for (int t = 0; t < ph->ntaps; t++) {
                size_t src = transposed
                    ? (((size_t)(g * cpg + ci) * opg + co % opg) * taps + ph->taps[t].k)
                    : (((size_t)co * cpg + ci) * taps + ph->taps[t].k);
                ph->w[(size_t)co * K + (size_t)ci * ph->ntaps + t] = l->w[src];
            }
    }
    return 0;
}

/* A layer run cut into jobs (lvc_nn_parallel). */
typedef struct Job {
    LvcNn *nn;
    const LvcNnLayer *l;
    const LvcTensor *x;
    LvcTensor *y;
    int nbands;     /* conv, convt, qconv: bands of output pixels */
    int tx;         /* Winograd: 2x2 tiles per row */
    int ntiles;     /* Winograd: tiles in all */
} Job;

/* ------------------------------------------------------------ Winograd */

/* F(2x2, 3x3): Y = A^T [ (G g G^T) .* (B^T d B) ] A for each 2x2 output
 * tile Y, 4x4 input tile d (the tile's rows and columns -1..2) and 3x3
 * kernel g, with
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1].
 * The 16 elementwise products become 16 GEMMs over channels:
 * M[e] (cout x T) = U[e] (cout x cin) * V[e] (cin x T), T tiles per job.
 * The transforms are additions (and halvings, exact, of the weights), so
 * the error stays that of a float GEMM of the same depth (tests/nn checks
 * every path against the reference within 1e-5 of sum |x w|). The jobs
 * depend on the shapes only: results do not depend on the thread count. */
#define WINO_MIN_C 16
/* Floats per job for V and M together: 16 * (cin + cout) * T. */
#define WINO_ELEMS (1 << 19)

static int wino_ok(const LvcNnLayer *l)
{
    const LvcConvParams *p = &l->p;
    return l->kind == LVC_LAYER_CONV && p->kh == 3 && p->kw == 3 && p->stride_h == 1 &&
           p->stride_w == 1 && p->dil_h == 1 && p->dil_w == 1 && p->groups == 1 && !p->mask &&
           p->pad_top == 1 && p->pad_bottom == 1 && p->pad_left == 1 && p->pad_right == 1 &&
           p->cin >= WINO_MIN_C && p->cout >= WINO_MIN_C;
}

static int wino_prepare(LvcNn *nn, const LvcNnLayer *l, CpuLayer *c)
{
    const int cin = l->p.cin, cout = l->p.cout;
    const size_t plane = (size_t)cout * cin;
    c->wino = lvc_malloc_array(16 * plane, sizeof(float));
    if (!c->wino)
        return LVC_ERR_NOMEM;
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++) {
            const float *g = l->w + ((size_t)co * cin + ci) * 9;
            double t[4][3], u[4][4];
            for (int k = 0; k < 3; k++) {         /* t = G g */
                t[0][k] = g[k];
                t[1][k] = 0.5 * ((double)g[k] + g[3 + k] + g[6 + k]);
                t[2][k] = 0.5 * ((double)g[k] - g[3 + k] + g[6 + k]);
                t[3][k] = g[6 + k];
            }
            for (int r = 0; r < 4; r++) {         /* u = t G^T */
                u[r][0] = t[r][0];
                u[r][1] = 0.5 * (t[r][0] + t[r][1] + t[r][2]);
                u[r][2] = 0.5 * (t[r][0] - t[r][1] + t[r][2]);
                u[r][3] = t[r][2];
            }
            for (int e = 0; e < 16; e++)
                c->wino[e * plane + (size_t)co * cin + ci] = (float)u[e / 4][e % 4];
        }
    int T = WINO_ELEMS / (16 * (cin + cout));
    T = T < 16 ? 16 : T & ~7;
    c->wtiles = T;
    return lvc_nn_reserve_scratch(nn, (size_t)16 * (cin + cout) * T * sizeof(float));
}

/* The input transform of one 4x4 tile d into V[e] (e = 4r + k, plane
 * stride vplane), and the output transform of one tile's M[e] into its two
 * output rows. The AVX2 versions below do the same operations in the same
 * order on 8 tiles at once (additions and one product only, no fusing):
 * the same bits. */
static inline void wino_in_tile(float d[4][4], float *v, size_t vplane)
{
    float b[4][4];
    for (int k = 0; k < 4; k++) {             /* b = B^T d */
        b[0][k] = d[0][k] - d[2][k];
        b[1][k] = d[1][k] + d[2][k];
        b[2][k] = d[2][k] - d[1][k];
        b[3][k] = d[1][k] - d[3][k];
    }
    for (int r = 0; r < 4; r++) {             /* v = b B */
        float *vr = v + (size_t)(4 * r) * vplane;
        vr[0] = b[r][0] - b[r][2];
        vr[vplane] = b[r][1] + b[r][2];
        vr[2 * vplane] = b[r][2] - b[r][1];
        vr[3 * vplane] = b[r][1] - b[r][3];
    }
}

static void wino_in_scalar(const float *xc, float *vc, size_t vplane, int t, int ty,
                           int tx, int H, int W)
{
    const int y0 = 2 * ty - 1, x0 = 2 * tx - 1;
    float d[4][4];
    if (y0 >= 0 && x0 >= 0 && y0 + 4 <= H && x0 + 4 <= W) {
        for (int r = 0; r < 4; r++) {
            const float *row = xc + (size_t)(y0 + r) * W + x0;
            d[r][0] = row[0];
            d[r][1] = row[1];
            d[r][2] = row[2];
            d[r][3] = row[3];
        }
    } else {
        for (int r = 0; r < 4; r++)
            for (int k = 0; k < 4; k++) {
                const int iy = y0 + r, ix = x0 + k;
                d[r][k] = iy >= 0 && iy < H && ix >= 0 && ix < W
                              ? xc[(size_t)iy * W + ix] : 0.0f;
            }
    }
    wino_in_tile(d, vc + t, vplane);
}

static void wino_out_scalar(const float *mc, size_t mplane, int t, float *yc, int ty,
                            int tx, int OH, int OW, float bias, const LvcConvParams *p)
{
    float m[4][4], a[2][4];
    for (int e = 0; e < 16; e++)
        m[e / 4][e % 4] = mc[e * mplane + t];
    for (int k = 0; k < 4; k++) {             /* a = A^T m */
        a[0][k] = m[0][k] + m[1][k] + m[2][k];
        a[1][k] = m[1][k] - m[2][k] - m[3][k];
    }
    for (int r = 0; r < 2; r++) {             /* Y = a A */
        const int oy = 2 * ty + r;
        if (oy >= OH)
            break;
        float *yr = yc + (size_t)oy * OW + 2 * tx;
        yr[0] = act_f32(bias + (a[r][0] + a[r][1] + a[r][2]), p->act, p->act_param);
        if (2 * tx + 1 < OW)
            yr[1] = act_f32(bias + (a[r][1] - a[r][2] - a[r][3]), p->act, p->act_param);
    }
}

#if HAVE_X86
/* Columns 0, 2, .., 14 (even) and 1, 3, .., 15 (odd) of lo:hi, 8 tiles'
 * first and second columns. */
__attribute__((target("avx2")))
static inline __m256 wino_even(__m256 lo, __m256 hi)
{
    __m256 s = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}

__attribute__((target("avx2")))
static inline __m256 wino_odd(__m256 lo, __m256 hi)
{
    __m256 s = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}

/* 8 interior tiles starting at (ty, tx): d rows 2ty-1.., columns 2tx-1.. */
__attribute__((target("avx2")))
static void wino_in8_avx2(const float *xc, float *v, size_t vplane, int ty, int tx, int W)
{
    __m256 b[4][4];
    __m256 d[4][4];
    for (int r = 0; r < 4; r++) {
        const float *row = xc + (size_t)(2 * ty - 1 + r) * W + 2 * tx - 1;
        const __m256 l0 = _mm256_loadu_ps(row), h0 = _mm256_loadu_ps(row + 8);
        const __m256 l2 = _mm256_loadu_ps(row + 2), h2 = _mm256_loadu_ps(row + 10);
        d[r][0] = wino_even(l0, h0);
        d[r][1] = wino_odd(l0, h0);
        d[r][2] = wino_even(l2, h2);
        d[r][3] = wino_odd(l2, h2);
    }
    for (int k = 0; k < 4; k++) {
        b[0][k] = _mm256_sub_ps(d[0][k], d[2][k]);
        b[1][k] = _mm256_add_ps(d[1][k], d[2][k]);
        b[2][k] = _mm256_sub_ps(d[2][k], d[1][k]);
        b[3][k] = _mm256_sub_ps(d[1][k], d[3][k]);
    }
    for (int r = 0; r < 4; r++) {
        float *vr = v + (size_t)(4 * r) * vplane;
        _mm256_storeu_ps(vr, _mm256_sub_ps(b[r][0], b[r][2]));
        _mm256_storeu_ps(vr + vplane, _mm256_add_ps(b[r][1], b[r][2]));
        _mm256_storeu_ps(vr + 2 * vplane, _mm256_sub_ps(b[r][2], b[r][1]));
        _mm256_storeu_ps(vr + 3 * vplane, _mm256_sub_ps(b[r][1], b[r][3]));
    }
}

/* 8 tiles whose 2x2 outputs are all inside; act is none, relu or leaky. */
__attribute__((target("avx2")))
static void wino_out8_avx2(const float *m8, size_t mplane, float *yc, int ty, int tx,
                           int OW, float bias, LvcNnAct act, float param)
{
    __m256 m[4][4];
    for (int e = 0; e < 16; e++)
        m[e / 4][e % 4] = _mm256_loadu_ps(m8 + e * mplane);
    const __m256 vb = _mm256_set1_ps(bias), zero = _mm256_setzero_ps();
    const __m256 vp = _mm256_set1_ps(param);
    for (int r = 0; r < 2; r++) {
        __m256 a[4];
        for (int k = 0; k < 4; k++)
            a[k] = r == 0 ? _mm256_add_ps(_mm256_add_ps(m[0][k], m[1][k]), m[2][k])
                          : _mm256_sub_ps(_mm256_sub_ps(m[1][k], m[2][k]), m[3][k]);
        __m256 y0 = _mm256_add_ps(vb, _mm256_add_ps(_mm256_add_ps(a[0], a[1]), a[2]));
        __m256 y1 = _mm256_add_ps(vb, _mm256_sub_ps(_mm256_sub_ps(a[1], a[2]), a[3]));
        if (act == LVC_ACT_RELU) {          /* v > 0 ? v : 0 (NaN, -0 -> 0) */
            y0 = _mm256_max_ps(y0, zero);
            y1 = _mm256_max_ps(y1, zero);
        } else if (act == LVC_ACT_LEAKY_RELU) {   /* v >= 0 ? v : v * param */
            y0 = _mm256_blendv_ps(_mm256_mul_ps(y0, vp), y0,
                                  _mm256_cmp_ps(y0, zero, _CMP_GE_OQ));
            y1 = _mm256_blendv_ps(_mm256_mul_ps(y1, vp), y1,
                                  _mm256_cmp_ps(y1, zero, _CMP_GE_OQ));
        }
        const __m256 lo = _mm256_unpacklo_ps(y0, y1), hi = _mm256_unpackhi_ps(y0, y1);
        float *yr = yc + (size_t)(2 * ty + r) * OW + 2 * tx;
        _mm256_storeu_ps(yr, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(yr + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
}
#endif

static void wino_job(void *arg, int job, int thread)
{
    const Job *j = arg;
    const LvcNnLayer *l = j->l;
    const LvcConvParams *p = &l->p;
    const CpuLayer *c = l->priv;
    const int cin = p->cin, cout = p->cout, H = j->x->h, W = j->x->w;
    const int ntx = j->tx;
    const int t0 = job * c->wtiles;
    const int T = j->ntiles - t0 < c->wtiles ? j->ntiles - t0 : c->wtiles;
    float *V = (float *)j->nn->scratch[thread];           /* [16][cin][T] */
    float *Mx = V + (size_t)16 * cin * T;                   /* [16][cout][T] */
    const size_t vplane = (size_t)cin * T, mplane = (size_t)cout * T;
    const int OH = j->y->h, OW = j->y->w;
#if HAVE_X86
    const int avx2 = (j->nn->cpu_flags & LVC_CPU_AVX2) != 0;
    const int avx2_out = avx2 && (p->act == LVC_ACT_NONE || p->act == LVC_ACT_RELU ||
                                  p->act == LVC_ACT_LEAKY_RELU);
#endif

    /* input transform, tile by tile along the rows of tiles (ntx per row);
     * runs of 8 tiles on one row and clear of the borders take the AVX2
     * path */
    for (int ci = 0; ci < cin; ci++) {
        const float *xc = (const float *)j->x->data + (size_t)ci * H * W;
        float *vc = V + (size_t)ci * T;
        int ty = t0 / ntx, tx = t0 % ntx;
        for (int t = 0; t < T;) {
#if HAVE_X86
            /* 8 tiles on this row, rows 2ty-1..2ty+2 and columns
             * 2tx-1..2tx+16 inside the input */
            if (avx2 && t + 8 <= T && tx + 8 <= ntx && ty >= 1 && tx >= 1 &&
                2 * ty + 3 <= H && 2 * tx + 17 <= W) {
                wino_in8_avx2(xc, vc + t, vplane, ty, tx, W);
                t += 8;
                tx += 8;
            } else
#endif
            {
                wino_in_scalar(xc, vc, vplane, t, ty, tx, H, W);
                t++;
                tx++;
            }
            if (tx == ntx) {
                tx = 0;
                ty++;
            }
        }
    }
    for (int e = 0; e < 16; e++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, T, cin, 1.0f,
                    c->wino + (size_t)e * cout * cin, cin, V + e * vplane, T, 0.0f,
                    Mx + e * mplane, T);
    /* output transform, bias, activation */
    for (int co = 0; co < cout; co++) {
        const float *mc = Mx + (size_t)co * T;
        float *yc = (float *)j->y->data + (size_t)co * OH * OW;
        const float bias = l->b[co];
        int ty = t0 / ntx, tx = t0 % ntx;
        for (int t = 0; t < T;) {
#if HAVE_X86
            if (avx2_out && t + 8 <= T && tx + 8 <= ntx && 2 * ty + 2 <= OH &&
                2 * tx + 16 <= OW) {
                wino_out8_avx2(mc + t, mplane, yc, ty, tx, OW, bias, p->act, p->act_param);
                t += 8;
                tx += 8;
            } else
#endif
            {
                wino_out_scalar(mc, mplane, t, yc, ty, tx, OH, OW, bias, p);
                t++;
                tx++;
            }
            if (tx == ntx) {
                tx = 0;
                ty++;
            }
        }
    }
}

static void wino_run(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    const CpuLayer *c = l->priv;
    Job j = { nn, l, x, y, 0, (y->w + 1) / 2, 0 };
    j.ntiles = j.tx * ((y->h + 1) / 2);
    lvc_nn_parallel(nn, (j.ntiles + c->wtiles - 1) / c->wtiles, wino_job, &j);
}

/* |lo| + |hi| of a packed weight pair. */
static int32_t pair_abs(int32_t wp)
{
    const uint32_t w = (uint32_t)wp;
    return abs((int16_t)(w & 0xffff)) + abs((int16_t)(w >> 16));
}

/* qconv with int16 pairs (AVX2 vpmaddwd) summed in int32 over chunks of
 * K, the chunks added in int64: every input is an int16 (|x| <= 2^15), so
 * a chunk whose weights have sum|w| <= 65535 in every row keeps all its
 * partial sums within 65535 * 2^15 < 2^31. Integer sums are exact in any
 * order, so this gives the bits of the double path (and of ref). The
 * chunks are cut once per layer; a layer with a pair of weights over the
 * bound keeps the double path. */
static int qconv_prepare_pairs(LvcNn *nn, const LvcNnLayer *l, CpuLayer *c)
{
    const LvcConvParams *p = &l->p;
    const Phase *ph = &c->ph[0];
    const int cout = p->cout, cpg = p->cin / p->groups;
    const size_t Kq = (size_t)cpg * ph->ntaps, K2 = (Kq + 1) / 2;
    int32_t *rowsum;
    int ret = LVC_ERR_NOMEM;

    if (!HAVE_X86 || !(nn->cpu_flags & LVC_CPU_AVX2) || Kq == 0)
        return 0;
    rowsum = lvc_calloc((size_t)cout, sizeof(int32_t));
    c->qwp = lvc_malloc_array((size_t)cout * K2, sizeof(int32_t));
    c->qchunk = lvc_malloc_array(K2, sizeof(int));
    if (!rowsum || !c->qwp || !c->qchunk)
        goto fail;
    ret = 0;
    for (int co = 0; co < cout; co++) {
        const int16_t *wc = l->qw + (size_t)co * cpg * p->kh * p->kw;
        for (size_t i = 0; i < K2; i++) {       /* K index k = ci * ntaps + t */
            uint16_t h[2] = { 0, 0 };
            for (size_t k = 2 * i; k < 2 * i + 2 && k < Kq; k++)
                h[k & 1] = (uint16_t)wc[(k / ph->ntaps) * p->kh * p->kw +
                                        ph->taps[k % ph->ntaps].k];
            c->qwp[(size_t)co * K2 + i] = (int32_t)((uint32_t)h[0] | (uint32_t)h[1] << 16);
        }
    }
    c->nqchunks = 0;
    for (size_t i = 0; i < K2; i++) {
        int fits = 1;
        for (int co = 0; co < cout; co++) {
            const int32_t a = pair_abs(c->qwp[(size_t)co * K2 + i]);
            if (a > 65535)
                goto fail;                      /* one pair over the bound */
            fits &= rowsum[co] + a <= 65535;
        }
        if (!fits) {                            /* pair i starts a new chunk */
            c->qchunk[c->nqchunks++] = (int)i;
            memset(rowsum, 0, (size_t)cout * sizeof(int32_t));
        }
        for (int co = 0; co < cout; co++)
            rowsum[co] += pair_abs(c->qwp[(size_t)co * K2 + i]);
    }
    c->qchunk[c->nqchunks++] = (int)K2;
    lvc_free(rowsum);
    return 0;
fail:
    lvc_free(rowsum);
    lvc_free(c->qwp);
    lvc_free(c->qchunk);
    c->qwp = NULL;
    c->qchunk = NULL;
    return ret;
}

static int cpu_layer_prepare(LvcNn *nn, LvcNnLayer *l)
{
    const LvcConvParams *p = &l->p;
    CpuLayer *c;
    size_t scratch = 0;
    int ret = LVC_ERR_NOMEM;

    if (l->kind == LVC_LAYER_GDN) {
        /* x^2 band and the norm band: 2 * c * band floats. */
        int band = band_pixels((size_t)l->c);
        return lvc_nn_reserve_scratch(nn, (size_t)2 * l->c * band * sizeof(float));
    }
    if (l->kind == LVC_LAYER_LINEAR)
        return 0;

    c = lvc_calloc(1, sizeof(*c));
    if (!c)
        return LVC_ERR_NOMEM;
    l->priv = c;
    if (l->kind != LVC_LAYER_CONVT && p->groups == p->cin && p->cin == p->cout &&
        l->kind == LVC_LAYER_CONV) {
        c->direct = 1;     /* depthwise: K is tiny, GEMM does not pay */
        return 0;
    }

    if (wino_ok(l)) {
        if ((ret = wino_prepare(nn, l, c)) < 0)
            goto error;
        return 0;
    }

    /* With few output channels the im2col GEMM has M = cout (3 for an RGB
     * output) and runs at a fraction of peak; multiplying the transposed
     * weights [cout*taps][cin] with the input instead gives M = cout*taps,
     * K = cin, then each output sums its taps (kn2row). */
    if (p->groups == 1 && p->cout <= KN2ROW_MAX_COUT && p->cin >= 8 &&
        (l->kind == LVC_LAYER_CONVT ||
         (l->kind == LVC_LAYER_CONV && p->stride_h == 1 && p->stride_w == 1))) {
        const int taps = p->kh * p->kw;
        c->kn2row = 1;
        c->ktaps = lvc_malloc_array((size_t)taps, sizeof(Tap));
        c->wt = lvc_malloc_array((size_t)p->cout * taps * p->cin, sizeof(float));
        if (!c->ktaps || !c->wt)
            goto error;
        for (int k = 0; k < taps; k++)
            if (!p->mask || p->mask[k])
                c->ktaps[c->kntaps++] = (Tap){ k, k / p->kw, k % p->kw };
        for (int co = 0; co < p->cout; co++)
            for (int t = 0; t < c->kntaps; t++)
                for (int ci = 0; ci < p->cin; ci++)
                    c->wt[((size_t)co * c->kntaps + t) * p->cin + ci] =
                        l->kind == LVC_LAYER_CONV
                            ? l->w[((size_t)co * p->cin + ci) * taps + c->ktaps[t].k]
                            : l->w[((size_t)ci * p->cout + co) * taps + c->ktaps[t].k];
        if ((ret = lvc_nn_reserve_scratch(nn, KN2ROW_ELEMS * sizeof(float))) < 0)
            goto error;
        /* The im2col tables below stay as the fallback for inputs too wide
         * for the Z band. */
    }

    c->nphases = l->kind == LVC_LAYER_CONVT ? p->stride_h * p->stride_w : 1;
    c->ph = lvc_calloc((size_t)c->nphases, sizeof(*c->ph));
    if (!c->ph)
        goto error;
    for (int i = 0; i < c->nphases; i++) {
        Phase *ph = &c->ph[i];
        ph->taps = lvc_malloc_array((size_t)p->kh * p->kw, sizeof(Tap));
        if (!ph->taps)
            goto error;
        if (l->kind == LVC_LAYER_CONVT) {
            /* Output row oy = py + sh*j reads input row
             * (oy + pad - ky*dil) / sh = j + (py + pad - ky*dil) / sh for the
             * taps where the division is exact. */
            ph->py = i / p->stride_w;
            ph->px = i % p->stride_w;
            for (int ky = 0; ky < p->kh; ky++) {
                int ty = ph->py + p->pad_top - ky * p->dil_h;
                if (((ty % p->stride_h) + p->stride_h) % p->stride_h)
                    continue;
                for (int kx = 0; kx < p->kw; kx++) {
                    int tx = ph->px + p->pad_left - kx * p->dil_w;
                    if (((tx % p->stride_w) + p->stride_w) % p->stride_w)
                        continue;
                    ph->taps[ph->ntaps++] = (Tap){ ky * p->kw + kx, ty / p->stride_h,
                                                   tx / p->stride_w };
                }
            }
        } else {
            for (int ky = 0; ky < p->kh; ky++)
                for (int kx = 0; kx < p->kw; kx++)
                    if (!p->mask || p->mask[ky * p->kw + kx])
                        ph->taps[ph->ntaps++] = (Tap){ ky * p->kw + kx,
                                                       ky * p->dil_h - p->pad_top,
                                                       kx * p->dil_w - p->pad_left };
        }
        if (l->kind != LVC_LAYER_QCONV && (ret = pack_phase(l, ph, l->kind == LVC_LAYER_CONVT)) < 0)
            goto error;
    }
    {
        const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
        size_t K = 1;
        for (int i = 0; i < c->nphases; i++)
            if ((size_t)cpg * c->ph[i].ntaps > K)
                K = (size_t)cpg * c->ph[i].ntaps;
        c->band = band_pixels(K);
        if (l->kind == LVC_LAYER_QCONV) {
            /* Doubles: the col band and the C band. */
            const Phase *ph = &c->ph[0];
            size_t Kq = (size_t)cpg * ph->ntaps;
            if ((ret = qconv_prepare_pairs(nn, l, c)) < 0)
                goto error;
            ret = LVC_ERR_NOMEM;
            if (!c->qwp) {
                c->qwd = lvc_malloc_array((size_t)p->cout * (Kq ? Kq : 1), sizeof(double));
                if (!c->qwd)
                    goto error;
                for (int co = 0; co < p->cout; co++)
                    for (int ci = 0; ci < cpg; ci++)
                        for (int t = 0; t < ph->ntaps; t++)
                            c->qwd[(size_t)co * Kq + (size_t)ci * ph->ntaps + t] =
                                l->qw[((size_t)co * cpg + ci) * p->kh * p->kw +
                                      ph->taps[t].k];
            }
            scratch = (K + (size_t)opg) * c->band * sizeof(double);
        } else {
            scratch = (K + (size_t)opg) * c->band * sizeof(float);
        }
    }
    if ((ret = lvc_nn_reserve_scratch(nn, scratch)) < 0)
        goto error;
    return 0;

error:
    cpu_layer_release(nn, l);
    return ret;
}

/* ------------------------------------------------------------ im2col */

/* col[(ci, t)][q] for output pixels q in [p0, p0 + n) of a grid of width
 * gw: output (oy, ox) = (q / gw, q % gw) reads input
 * (oy * sy + tap.dy, ox * sx + tap.dx) (zero outside). T is float, double
 * or int16, x is float or int16. With PAIRS, rows k = 2i and 2i + 1 are
 * interleaved: element (k, q) at col[i * 2n + 2q + (k & 1)]. */
#define DEFINE_IM2COL(name, T, XT, PAIRS)                                          \
static void name(T *col, const XT *x, int cpg, int H, int W, const Tap *taps,    \
                 int ntaps, int sy, int sx, int gw, int p0, int n)                \
{                                                                                 \
    for (int ci = 0; ci < cpg; ci++) {                                            \
        const XT *xc = x + (size_t)ci * H * W;                                    \
        for (int t = 0; t < ntaps; t++) {                                         \
            const size_t kr = (size_t)ci * ntaps + t;                             \
            T *row = PAIRS ? col + (kr >> 1) * 2 * n + (kr & 1) : col + kr * n;   \
            const int cs = PAIRS ? 2 : 1;                                         \
            int oy = p0 / gw, ox = p0 % gw;                                       \
            for (int q = 0; q < n; ) {                                            \
                int iy = oy * sy + taps[t].dy;                                    \
                int run = gw - ox < n - q ? gw - ox : n - q;                      \
                if (iy < 0 || iy >= H) {                                          \
                    for (int k = 0; k < run; k++)                                 \
                        row[(q + k) * cs] = 0;                                    \
                } else {                                                          \
                    const XT *xr = xc + (size_t)iy * W;                           \
                    for (int k = 0; k < run; k++) {                               \
                        int ix = (ox + k) * sx + taps[t].dx;                      \
                        row[(q + k) * cs] = (ix >= 0 && ix < W) ? (T)xr[ix] : (T)0; \
                    }                                                             \
                }                                                                 \
                q += run;                                                         \
                ox = 0;                                                           \
                oy++;                                                             \
            }                                                                     \
        }                                                                         \
    }                                                                             \
}

DEFINE_IM2COL(im2col_f32, float, float, 0)
DEFINE_IM2COL(im2col_f64, double, int16_t, 0)
#if HAVE_X86
DEFINE_IM2COL(im2col_pairs, int16_t, int16_t, 1)   /* for the AVX2 qconv */
#endif

/* ------------------------------------------------------------ kn2row */

typedef struct KJob {
    LvcNn *nn;
    const LvcNnLayer *l;
    const LvcTensor *x;
    LvcTensor *y;
    int rows;       /* output rows per job */
} KJob;

/* Input rows [*i0, *i1) read by output rows [o0, o1). */
static void kn2row_rows(const LvcNnLayer *l, int H, int o0, int o1, int *i0, int *i1)
{
    const LvcConvParams *p = &l->p;
    int lo, hi;
    if (l->kind == LVC_LAYER_CONV) {
        lo = o0 - p->pad_top;
        hi = o1 - 1 - p->pad_top + (p->kh - 1) * p->dil_h + 1;
    } else {
        /* iy = (oy + pad - ky*dil) / s for exact divisions. */
        int a = o0 + p->pad_top - (p->kh - 1) * p->dil_h;
        lo = a >= 0 ? (a + p->stride_h - 1) / p->stride_h : -((-a) / p->stride_h);
        hi = (o1 - 1 + p->pad_top) / p->stride_h + 1;
    }
    *i0 = lo < 0 ? 0 : lo;
    *i1 = hi > H ? H : hi;
}

/* Most input rows any band of r output rows reads. */
static int kn2row_span(const LvcNnLayer *l, int r)
{
    const LvcConvParams *p = &l->p;
    if (l->kind == LVC_LAYER_CONV)
        return r + (p->kh - 1) * p->dil_h;
    return (r - 1 + (p->kh - 1) * p->dil_h) / p->stride_h + 1;
}

static void kn2row_job(void *arg, int job, int thread)
{
    const KJob *j = arg;
    const LvcNnLayer *l = j->l;
    const LvcConvParams *p = &l->p;
    const CpuLayer *c = l->priv;
    const int H = j->x->h, W = j->x->w, OH = j->y->h, OW = j->y->w;
    const int o0 = job * j->rows, o1 = o0 + j->rows < OH ? o0 + j->rows : OH;
    const int M = p->cout * c->kntaps;
    const int transposed = l->kind == LVC_LAYER_CONVT;
    float *z = (float *)j->nn->scratch[thread];
    int i0, i1;

    kn2row_rows(l, H, o0, o1, &i0, &i1);
    if (i1 > i0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, (i1 - i0) * W, p->cin,
                    1.0f, c->wt, p->cin, (const float *)j->x->data + (size_t)i0 * W,
                    H * W, 0.0f, z, (i1 - i0) * W);
    /* Each output row is bias + the tap rows of Z in tap order (the same
     * order for every element), added as whole row segments. */
    for (int co = 0; co < p->cout; co++) {
        float *yc = (float *)j->y->data + (size_t)co * OH * OW;
        const float bias = l->b[co];
        for (int oy = o0; oy < o1; oy++) {
            float *yr = yc + (size_t)oy * OW;
            for (int ox = 0; ox < OW; ox++)
                yr[ox] = bias;
            for (int t = 0; t < c->kntaps; t++) {
                const int ky = c->ktaps[t].dy, kx = c->ktaps[t].dx;
                const float *zt = z + ((size_t)co * c->kntaps + t) * (size_t)(i1 - i0) * W;
                int iy, ox0, ox1, dx, sx;
                if (!transposed) {
                    /* ix = ox + dx */
                    iy = oy - p->pad_top + ky * p->dil_h;
                    dx = kx * p->dil_w - p->pad_left;
                    ox0 = dx < 0 ? -dx : 0;
                    ox1 = W - dx < OW ? W - dx : OW;
                    if (iy < i0 || iy >= i1 || ox0 >= ox1)
                        continue;
                    {
                        const float *zr = zt + (size_t)(iy - i0) * W + dx;
                        for (int ox = ox0; ox < ox1; ox++)
                            yr[ox] += zr[ox];
                    }
                } else {
                    /* ox = ix * s + (kx*dil - pad): one output every s */
                    int ty = oy + p->pad_top - ky * p->dil_h;
                    if (ty < 0 || ty % p->stride_h)
                        continue;
                    iy = ty / p->stride_h;
                    if (iy < i0 || iy >= i1)
                        continue;
                    sx = p->stride_w;
                    dx = kx * p->dil_w - p->pad_left;
                    {
                        const float *zr = zt + (size_t)(iy - i0) * W;
                        /* first ix with ix*s + dx >= 0, last with < OW */
                        int ix0 = dx >= 0 ? 0 : (-dx + sx - 1) / sx;
                        int ix1 = OW - 1 - dx < 0 ? 0 : (OW - 1 - dx) / sx + 1;
                        if (ix1 > W)
                            ix1 = W;
                        for (int ix = ix0; ix < ix1; ix++)
                            yr[ix * sx + dx] += zr[ix];
                    }
                }
            }
            if (p->act != LVC_ACT_NONE)
                act_row(yr, (size_t)OW, p->act, p->act_param);
        }
    }
}

/* Runs the kn2row path; returns 0, or 1 when the input is too wide for the
 * Z band (the caller then uses im2col). */
static int kn2row_run(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    const CpuLayer *c = l->priv;
    const LvcConvParams *p = &l->p;
    const size_t M = (size_t)p->cout * c->kntaps;
    KJob j = { nn, l, x, y, 0 };
    int rows = 1;

    /* Largest output row band (a power of two) whose input rows fit the Z
     * band in the worst position; fixed by the shapes only, so results do
     * not depend on the thread count. */
    if (M * (size_t)kn2row_span(l, 1) * x->w > KN2ROW_ELEMS)
        return 1;
    while (rows * 2 <= y->h && M * (size_t)kn2row_span(l, rows * 2) * x->w <= KN2ROW_ELEMS)
        rows *= 2;
    j.rows = rows;
    lvc_nn_parallel(nn, (y->h + rows - 1) / rows, kn2row_job, &j);
    return 0;
}

/* ------------------------------------------------------------ conv */

static void conv_job(void *arg, int job, int thread)
{
    const Job *j = arg;
    const LvcNnLayer *l = j->l;
    const LvcConvParams *p = &l->p;
    const CpuLayer *c = l->priv;
    const Phase *ph = &c->ph[0];
    const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
    const int g = job / j->nbands, b = job % j->nbands;
    const int npix = j->y->h * j->y->w;
    const int p0 = b * c->band;
    const int n = npix - p0 < c->band ? npix - p0 : c->band;
    const int K = cpg * ph->ntaps;
    const size_t hw_in = (size_t)j->x->h * j->x->w;
    const float *x = (const float *)j->x->data + (size_t)g * cpg * hw_in;
    float *y = (float *)j->y->data + (size_t)g * opg * npix + p0;
    const float *B;
    int ldb;

    for (int co = 0; co < opg; co++) {
        float bv = l->b[g * opg + co];
        float *yr = y + (size_t)co * npix;
        for (int q = 0; q < n; q++)
            yr[q] = bv;
    }
    if (K > 0) {
        if (ph->ntaps == 1 && p->kh == 1 && p->kw == 1 && p->stride_h == 1 &&
            p->stride_w == 1 && !p->pad_top && !p->pad_left && !p->pad_bottom &&
            !p->pad_right) {
            /* 1x1: the input plane already is the column matrix. */
            B = x + p0;
            ldb = (int)hw_in;
        } else {
            float *col = (float *)j->nn->scratch[thread];
            im2col_f32(col, x, cpg, j->x->h, j->x->w, ph->taps, ph->ntaps,
                       p->stride_h, p->stride_w, j->y->w, p0, n);
            B = col;
            ldb = n;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, opg, n, K, 1.0f,
                    ph->w + (size_t)g * opg * K, K, B, ldb, 1.0f, y, npix);
    }
    if (p->act != LVC_ACT_NONE)
        for (int co = 0; co < opg; co++)
            act_row(y + (size_t)co * npix, (size_t)n, p->act, p->act_param);
}

static int cpu_conv(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    const CpuLayer *c = l->priv;
    Job j = { nn, l, x, y, 0 };
    int npix = y->h * y->w;

    if (c->direct) {
        LvcNnOps ref;
        lvc_nn_ref_init(&ref);
        return ref.conv(nn, l, x, y);
    }
    if (c->wino) {
        wino_run(nn, l, x, y);
        return 0;
    }
    if (c->kn2row && kn2row_run(nn, l, x, y) == 0)
        return 0;
    j.nbands = (npix + c->band - 1) / c->band;
    lvc_nn_parallel(nn, l->p.groups * j.nbands, conv_job, &j);
    return 0;
}

/* ------------------------------------------------------------ convt */

static void convt_job(void *arg, int job, int thread)
{
    const Job *j = arg;
    const LvcNnLayer *l = j->l;
    const LvcConvParams *p = &l->p;
    const CpuLayer *c = l->priv;
    const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
    const int b = job % j->nbands, g = (job / j->nbands) % p->groups;
    const Phase *ph = &c->ph[job / (j->nbands * p->groups)];
    const int OH = j->y->h, OW = j->y->w;
    /* Phase grid: rows py, py+sh, ... < OH. */
    const int gh = ph->py < OH ? (OH - ph->py + p->stride_h - 1) / p->stride_h : 0;
    const int gw = ph->px < OW ? (OW - ph->px + p->stride_w - 1) / p->stride_w : 0;
    const int npix = gh * gw, p0 = b * c->band;
    const int n = npix - p0 < c->band ? npix - p0 : c->band;
    const int K = cpg * ph->ntaps;
    const size_t hw_in = (size_t)j->x->h * j->x->w;
    float *col = (float *)j->nn->scratch[thread];
    float *cb = col + (size_t)K * c->band;

    if (n <= 0)
        return;
    for (int co = 0; co < opg; co++) {
        float bv = l->b[g * opg + co];
        for (int q = 0; q < n; q++)
            cb[(size_t)co * n + q] = bv;
    }
    if (K > 0) {
        im2col_f32(col, (const float *)j->x->data + (size_t)g * cpg * hw_in, cpg,
                   j->x->h, j->x->w, ph->taps, ph->ntaps, 1, 1, gw, p0, n);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, opg, n, K, 1.0f,
                    ph->w + (size_t)g * opg * K, K, col, n, 1.0f, cb, n);
    }
    for (int co = 0; co < opg; co++) {
        float *yc = (float *)j->y->data + (size_t)(g * opg + co) * OH * OW;
        const float *cr = cb + (size_t)co * n;
        int gy = p0 / gw, gx = p0 % gw;
        for (int q = 0; q < n; q++) {
            yc[(size_t)(ph->py + gy * p->stride_h) * OW + ph->px + gx * p->stride_w] =
                act_f32(cr[q], p->act, p->act_param);
            if (++gx == gw)
                gx = 0, gy++;
        }
    }
}

static int cpu_convt(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    const CpuLayer *c = l->priv;
    const LvcConvParams *p = &l->p;
    Job j = { nn, l, x, y, 0 };
    int gh = (y->h + p->stride_h - 1) / p->stride_h;
    int gw = (y->w + p->stride_w - 1) / p->stride_w;

    if (c->kn2row && kn2row_run(nn, l, x, y) == 0)
        return 0;
    j.nbands = (gh * gw + c->band - 1) / c->band;
    lvc_nn_parallel(nn, c->nphases * p->groups * j.nbands, convt_job, &j);
    return 0;
}

/* ------------------------------------------------------------ qconv */

#if HAVE_X86
/* out[co][q] = sum_i lo(wp[co][i]) * colp[i][2q] + hi(wp[co][i]) * colp[i][2q + 1],
 * exact in int64. */
static int64_t qdot_pairs(const int32_t *w, const int16_t *colp, int K2, size_t ld, int q)
{
    int64_t acc = 0;
    for (int i = 0; i < K2; i++) {
        const int16_t *x = colp + (size_t)i * ld + 2 * (size_t)q;
        acc += (int32_t)(int16_t)(w[i] & 0xffff) * x[0] +
               (int64_t)((int32_t)(int16_t)((uint32_t)w[i] >> 16) * x[1]);
    }
    return acc;
}

/* The same with AVX2, 2 rows x 16 columns per block: int32 sums over each
 * chunk (bounded by qconv_prepare_pairs), widened into int64 sums. */
__attribute__((target("avx2")))
static void qgemm_pairs_avx2(const int32_t *wp, const int16_t *colp, const int *chunk,
                             int nchunks, int opg, int K2, int n, int64_t *out)
{
    const size_t ld = 2 * (size_t)n;
    int co = 0;
    for (; co + 2 <= opg; co += 2) {
        const int32_t *w0 = wp + (size_t)co * K2, *w1 = w0 + K2;
        int64_t *o = out + (size_t)co * n;
        int q = 0;
        for (; q + 16 <= n; q += 16) {
            __m256i s[2][4];
            for (int r = 0; r < 2; r++)
                for (int v = 0; v < 4; v++)
                    s[r][v] = _mm256_setzero_si256();
            const int16_t *cp = colp + 2 * (size_t)q;
            for (int ch = 0, i = 0; ch < nchunks; ch++) {
                __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
                for (; i < chunk[ch]; i++, cp += ld) {
                    const __m256i x0 = _mm256_loadu_si256((const __m256i *)cp);
                    const __m256i x1 = _mm256_loadu_si256((const __m256i *)(cp + 16));
                    const __m256i b0 = _mm256_set1_epi32(w0[i]);
                    const __m256i b1 = _mm256_set1_epi32(w1[i]);
                    a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(x0, b0));
                    a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(x1, b0));
                    a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(x0, b1));
                    a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(x1, b1));
                }
#define WIDEN(S, A)                                                                   \
    do {                                                                              \
        (S)[0] = _mm256_add_epi64((S)[0], _mm256_cvtepi32_epi64(_mm256_castsi256_si128(A))); \
        (S)[1] = _mm256_add_epi64((S)[1], _mm256_cvtepi32_epi64(_mm256_extracti128_si256(A, 1))); \
    } while (0)
                WIDEN(s[0], a00);
                WIDEN(s[0] + 2, a01);
                WIDEN(s[1], a10);
                WIDEN(s[1] + 2, a11);
#undef WIDEN
            }
            for (int r = 0; r < 2; r++)
                for (int v = 0; v < 4; v++)
                    _mm256_storeu_si256((__m256i *)(o + (size_t)r * n + q + 4 * v), s[r][v]);
        }
        for (; q < n; q++) {
            o[q] = qdot_pairs(w0, colp, K2, ld, q);
            o[(size_t)n + q] = qdot_pairs(w1, colp, K2, ld, q);
        }
    }
    for (; co < opg; co++)
        for (int q = 0; q < n; q++)
            out[(size_t)co * n + q] = qdot_pairs(wp + (size_t)co * K2, colp, K2, ld, q);
}
#endif

/* The int32-pairs path of qconv_job (c->qwp is only set with AVX2). */
static void qconv_job_pairs(const Job *j, int thread, int g, int p0, int n, int16_t *y)
{
#if HAVE_X86
    const LvcNnLayer *l = j->l;
    const LvcConvParams *p = &l->p;
    const CpuLayer *c = l->priv;
    const Phase *ph = &c->ph[0];
    const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
    const int K = cpg * ph->ntaps, K2 = (K + 1) / 2;
    const int s = l->q.fa_in + l->q.fw - l->q.fa_out;
    const int npix = j->y->h * j->y->w;
    const size_t hw_in = (size_t)j->x->h * j->x->w;
    int16_t *colp = (int16_t *)j->nn->scratch[thread];               /* [K2][2n] */
    int64_t *acc = (int64_t *)((double *)j->nn->scratch[thread] + (size_t)K * c->band);

    if (K & 1)          /* the odd row of the last pair */
        for (int q = 0; q < n; q++)
            colp[(size_t)(K2 - 1) * 2 * n + 2 * q + 1] = 0;
    im2col_pairs(colp, (const int16_t *)j->x->data + (size_t)g * cpg * hw_in, cpg, j->x->h,
                 j->x->w, ph->taps, ph->ntaps, p->stride_h, p->stride_w, j->y->w, p0, n);
    qgemm_pairs_avx2(c->qwp + (size_t)g * opg * K2, colp, c->qchunk, c->nqchunks, opg, K2, n,
                     acc);
    for (int co = 0; co < opg; co++) {
        const int64_t bias = l->qb[g * opg + co];
        const int64_t *ar = acc + (size_t)co * n;
        int16_t *yr = y + (size_t)co * npix;
        for (int q = 0; q < n; q++)
            yr[q] = lvc_nn_qact(lvc_nn_sat16(lvc_nn_round_shift(bias + ar[q], s)), l->q.act,
                                l->q.act_param);
    }
#else
    (void)j, (void)thread, (void)g, (void)p0, (void)n, (void)y;
#endif
}

static void qconv_job(void *arg, int job, int thread)
{
    const Job *j = arg;
    const LvcNnLayer *l = j->l;
    const LvcConvParams *p = &l->p;
    const CpuLayer *c = l->priv;
    const Phase *ph = &c->ph[0];
    const int cpg = p->cin / p->groups, opg = p->cout / p->groups;
    const int g = job / j->nbands, b = job % j->nbands;
    const int npix = j->y->h * j->y->w, p0 = b * c->band;
    const int n = npix - p0 < c->band ? npix - p0 : c->band;
    const int K = cpg * ph->ntaps;
    const int s = l->q.fa_in + l->q.fw - l->q.fa_out;
    const size_t hw_in = (size_t)j->x->h * j->x->w;
    double *col = (double *)j->nn->scratch[thread];
    double *cb = col + (size_t)K * c->band;
    int16_t *y = (int16_t *)j->y->data + (size_t)g * opg * npix + p0;

    if (c->qwp) {
        qconv_job_pairs(j, thread, g, p0, n, y);
        return;
    }
    if (K > 0) {
        im2col_f64(col, (const int16_t *)j->x->data + (size_t)g * cpg * hw_in, cpg,
                   j->x->h, j->x->w, ph->taps, ph->ntaps, p->stride_h, p->stride_w,
                   j->y->w, p0, n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, opg, n, K, 1.0,
                    c->qwd + (size_t)g * opg * K, K, col, n, 0.0, cb, n);
    } else {
        memset(cb, 0, (size_t)opg * n * sizeof(double));
    }
    for (int co = 0; co < opg; co++) {
        const int64_t bias = l->qb[g * opg + co];
        const double *cr = cb + (size_t)co * n;
        int16_t *yr = y + (size_t)co * npix;
        for (int q = 0; q < n; q++) {
            /* Exact: cr[q] is an integer below 2^53 in magnitude. */
            int64_t acc = bias + (int64_t)cr[q];
            yr[q] = lvc_nn_qact(lvc_nn_sat16(lvc_nn_round_shift(acc, s)), l->q.act,
                                l->q.act_param);
        }
    }
}

static int cpu_qconv(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    const CpuLayer *c = l->priv;
    Job j = { nn, l, x, y, 0 };
    int npix = y->h * y->w;

    j.nbands = (npix + c->band - 1) / c->band;
    lvc_nn_parallel(nn, l->p.groups * j.nbands, qconv_job, &j);
    return 0;
}

/* ------------------------------------------------------------ GDN */

/* The elementwise half of GDN: y = x / sqrt(n), x * sqrt(n), x / n, x * n.
 * vsqrtps/vdivps/vmulps are correctly rounded like their scalar forms, so
 * the AVX2 version gives the same bits as the C loop. */
static void gdn_post_c(const float *x, const float *n, float *y, int cnt, LvcGdnKind k)
{
    switch (k) {
    case LVC_GDN:         for (int q = 0; q < cnt; q++) y[q] = x[q] / sqrtf(n[q]); break;
    case LVC_IGDN:        for (int q = 0; q < cnt; q++) y[q] = x[q] * sqrtf(n[q]); break;
    case LVC_GDN_SIMPLE:  for (int q = 0; q < cnt; q++) y[q] = x[q] / n[q]; break;
    case LVC_IGDN_SIMPLE: for (int q = 0; q < cnt; q++) y[q] = x[q] * n[q]; break;
    }
}

#if HAVE_X86
__attribute__((target("avx2")))
static void gdn_post_avx2(const float *x, const float *n, float *y, int cnt, LvcGdnKind k)
{
    int q = 0;
    for (; q + 8 <= cnt; q += 8) {
        __m256 vx = _mm256_loadu_ps(x + q), vn = _mm256_loadu_ps(n + q), r;
        switch (k) {
        case LVC_GDN:         r = _mm256_div_ps(vx, _mm256_sqrt_ps(vn)); break;
        case LVC_IGDN:        r = _mm256_mul_ps(vx, _mm256_sqrt_ps(vn)); break;
        case LVC_GDN_SIMPLE:  r = _mm256_div_ps(vx, vn); break;
        default:              r = _mm256_mul_ps(vx, vn); break;
        }
        _mm256_storeu_ps(y + q, r);
    }
    gdn_post_c(x + q, n + q, y + q, cnt - q, k);
}

/* sq = x^2 (or |x|) and nm = beta, the GEMM operands. */
__attribute__((target("avx2")))
static void gdn_pre_avx2(const float *x, float *sq, float *nm, float beta, int cnt, int simple)
{
    const __m256 vb = _mm256_set1_ps(beta);
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    int q = 0;
    for (; q + 8 <= cnt; q += 8) {
        __m256 vx = _mm256_loadu_ps(x + q);
        _mm256_storeu_ps(sq + q, simple ? _mm256_and_ps(vx, abs_mask) : _mm256_mul_ps(vx, vx));
        _mm256_storeu_ps(nm + q, vb);
    }
    for (; q < cnt; q++) {
        sq[q] = simple ? fabsf(x[q]) : x[q] * x[q];
        nm[q] = beta;
    }
}
#endif

static void gdn_job(void *arg, int job, int thread)
{
    const Job *j = arg;
    const LvcNnLayer *l = j->l;
    const int C = l->c, band = band_pixels((size_t)C);
    const int npix = j->x->h * j->x->w, p0 = job * band;
    const int n = npix - p0 < band ? npix - p0 : band;
    const int simple = l->gdn == LVC_GDN_SIMPLE || l->gdn == LVC_IGDN_SIMPLE;
    const float *x = (const float *)j->x->data + p0;
    float *y = (float *)j->y->data + p0;
    float *sq = (float *)j->nn->scratch[thread];
    float *nm = sq + (size_t)C * n;

#if HAVE_X86
    const int avx2 = (j->nn->cpu_flags & LVC_CPU_AVX2) != 0;
#endif

    for (int c = 0; c < C; c++) {
        const float *xr = x + (size_t)c * npix;
        float *sr = sq + (size_t)c * n, *nr = nm + (size_t)c * n;
#if HAVE_X86
        if (avx2) {
            gdn_pre_avx2(xr, sr, nr, l->b[c], n, simple);
            continue;
        }
#endif
        for (int q = 0; q < n; q++) {
            sr[q] = simple ? fabsf(xr[q]) : xr[q] * xr[q];
            nr[q] = l->b[c];
        }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, n, C, 1.0f, l->w, C,
                sq, n, 1.0f, nm, n);
    for (int c = 0; c < C; c++) {
        const float *xr = x + (size_t)c * npix, *nr = nm + (size_t)c * n;
        float *yr = y + (size_t)c * npix;
#if HAVE_X86
        if (avx2) {
            gdn_post_avx2(xr, nr, yr, n, l->gdn);
            continue;
        }
#endif
        gdn_post_c(xr, nr, yr, n, l->gdn);
    }
}

static int cpu_gdn(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    Job j = { nn, l, x, y, 0 };
    int band = band_pixels((size_t)l->c), npix = x->h * x->w;
    lvc_nn_parallel(nn, (npix + band - 1) / band, gdn_job, &j);
    return 0;
}

/* ------------------------------------------------------------ linear */

#define LINEAR_ROWS 256

static void linear_job(void *arg, int job, int thread)
{
    const Job *j = arg;
    const LvcNnLayer *l = j->l;
    const int r0 = job * LINEAR_ROWS;
    const int n = j->x->h - r0 < LINEAR_ROWS ? j->x->h - r0 : LINEAR_ROWS;
    const float *x = (const float *)j->x->data + (size_t)r0 * l->in;
    float *y = (float *)j->y->data + (size_t)r0 * l->out;
    (void)thread;

    for (int r = 0; r < n; r++)
        memcpy(y + (size_t)r * l->out, l->b, (size_t)l->out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, l->out, l->in, 1.0f, x,
                l->in, l->w, l->in, 1.0f, y, l->out);
    act_row(y, (size_t)n * l->out, l->act, l->act_param);
}

static int cpu_linear(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    Job j = { nn, l, x, y, 0 };
    lvc_nn_parallel(nn, (x->h + LINEAR_ROWS - 1) / LINEAR_ROWS, linear_job, &j);
    return 0;
}

/* ------------------------------------------------------------ init */

int lvc_nn_cpu_init(LvcNn *nn)
{
    /* Parallelism comes from the lvc pool; a threaded OpenBLAS inside its
     * workers would oversubscribe the cores. */
    openblas_set_num_threads(1);
    nn->cpu_flags = lvc_cpu_flags();
    nn->ops.conv = cpu_conv;
    nn->ops.convt = cpu_convt;
    nn->ops.qconv = cpu_qconv;
    nn->ops.gdn = cpu_gdn;
    nn->ops.linear = cpu_linear;
    nn->ops.layer_prepare = cpu_layer_prepare;
    nn->ops.layer_release = cpu_layer_release;
    return 0;
}

#else

int lvc_nn_cpu_init(LvcNn *nn)
{
    (void)nn;
    return LVC_ERR_BACKEND;
}

#endif
