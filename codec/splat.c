/*
 * Gaussian-splat coding: lvc streams of kind 3 (doc/bitstream.md section 6,
 * doc/splats.md).
 *
 * Positions are quantized on a power-of-two grid, the splats sorted along
 * the Morton curve of their cells and the gaps between consecutive Morton
 * codes entropy coded. Every other attribute is quantized with a power-of-
 * two step and coded per channel, each channel with the predictor (none,
 * the previous splat along the curve, or the splat's previous channel) the
 * encoder found cheapest, through adaptive rANS models. Each attribute is
 * one substream in its own box.
 *
 * Determinism: the decoder works on integers only, and a decoded value is
 * an integer times a power of two (exact in double, one rounding to float)
 * or, for the largest quaternion component, a correctly rounded square
 * root of an integer. So a stream decodes to the same floats everywhere.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lvc/splat.h"
#include "codec/container.h"
#include "common/bits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/thread.h"
#include "entropy/adaptive.h"
#include "entropy/rans.h"

#if LVC_HAVE_OPENBLAS
#include <cblas.h>
#endif

/* Quantized attribute values are bounded so residuals fit in int32. */
#define VMAX (1 << 24)
/* Residual alphabet: zigzag values 0..DIRECT-1 directly, then one symbol
 * per bit length 4..32 followed by the bits below the leading one. */
#define DIRECT 15
#define RES_NSYM (DIRECT + 29)
#define RES_CTX 3
/* Morton gaps: one symbol per bit length 0..63, 8 contexts. */
#define GAP_NSYM 64
#define GAP_CTX 8

#define POS_BITS_MAX 21
#define STEP_BITS_MAX 16
#define ROT_BITS_MIN 2
#define ROT_BITS_MAX 15
#define EXP_MAX 200   /* |position step exponent| */
#define MAX_BOXES 4096 /* boxes after shdr, optional ones included */
#define CODEBOOK_MAX 16384
#define CODEBOOK_MIN 16
#define KM_TRAIN 65536 /* splats the codebook is trained on, at most */
#define KM_ITERS 10

/* Box types and order: shdr, then the attribute boxes. */
enum { ATTR_POS, ATTR_ROT, ATTR_SCALE, ATTR_OPACITY, ATTR_COLOR, ATTR_SH, ATTR_COUNT };
static const char *const attr_box[ATTR_COUNT] = { "spos", "srot", "sscl", "sopa", "scol", "sshr" };

typedef struct SplatHeader {
    uint32_t count;
    int sh_degree;
    int pos_bits;
    int pos_exp;                /* position step 2^pos_exp */
    int64_t origin[3];          /* grid origin, in steps */
    int rot_bits, scale_bits, opacity_bits, color_bits, sh_bits;
    uint32_t codebook;          /* SH vector codebook size, 0: scalar */
    uint16_t quality;           /* quality * 100, informational */
    uint32_t num_boxes;
} SplatHeader;

/* ------------------------------------------------------------ helpers */

static int bitlen64(uint64_t u)
{
    int n = 0;
    while (u) {
        n++;
        u >>= 1;
    }
    return n;
}

static uint32_t zz32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (v < 0 ? UINT32_MAX : 0);
}

static int32_t unzz32(uint32_t u)
{
    return (int32_t)(u >> 1) ^ -(int32_t)(u & 1);
}

static int32_t quant(double x, int bits)
{
    double v = nearbyint(ldexp(x, bits));
    if (v > VMAX)
        v = VMAX;
    if (v < -VMAX)
        v = -VMAX;
    return (int32_t)v;
}

static float dequant(int64_t v, int bits)
{
    return (float)ldexp((double)v, -bits);
}

/* Put n (0..64) raw bits, in pieces of at most 16. */
static int put_raw(LvcRansEnc *e, uint64_t bits, int n)
{
    int err = 0;
    while (n > 0 && !err) {
        const int k = n < 16 ? n : 16;
        err = lvc_rans_enc_put_bits(e, (uint32_t)(bits & ((1u << k) - 1)), k);
        bits >>= k;
        n -= k;
    }
    return err;
}

static uint64_t get_raw(LvcRansDec *d, int n)
{
    uint64_t v = 0;
    int shift = 0;
    while (n > 0) {
        const int k = n < 16 ? n : 16;
        v |= (uint64_t)lvc_rans_dec_get_bits(d, k) << shift;
        shift += k;
        n -= k;
    }
    return v;
}

static int models_init(LvcAdaptive *m, int n, int nsym)
{
    LvcAdaptiveParams p;
    lvc_adaptive_default_params(&p, nsym);
    for (int i = 0; i < n; i++) {
        const int err = lvc_adaptive_init(&m[i], &p);
        if (err) {
            for (int j = 0; j < i; j++)
                lvc_adaptive_free(&m[j]);
            return err;
        }
    }
    return 0;
}

static void models_free(LvcAdaptive *m, int n)
{
    for (int i = 0; i < n; i++)
        lvc_adaptive_free(&m[i]);
}

static int res_ctx(uint32_t prev_u)
{
    return prev_u == 0 ? 0 : prev_u < 3 ? 1 : 2;
}

static int put_residual(LvcAdaptive *m, LvcRansEnc *e, uint32_t u)
{
    if (u < DIRECT)
        return lvc_adaptive_encode(m, e, (int)u);
    const int len = bitlen64(u);
    const int err = lvc_adaptive_encode(m, e, DIRECT + len - 4);
    return err ? err : put_raw(e, u, len - 1);
}

/* Returns the zigzag value; sets *bad on an impossible symbol. */
static uint32_t get_residual(LvcAdaptive *m, LvcRansDec *d, int *bad)
{
    const int sym = lvc_adaptive_decode(m, d);
    if (sym < DIRECT)
        return (uint32_t)(sym < 0 ? 0 : sym);
    const int len = sym - DIRECT + 4;
    const uint32_t u = (uint32_t)(1ull << (len - 1)) | (uint32_t)get_raw(d, len - 1);
    /* One encoding per value: below DIRECT only the direct symbols. */
    if (u < DIRECT)
        *bad = 1;
    return u;
}

/* --------------------------------------------------- channel coding */

/* Predictors of a channel value. */
enum { PRED_NONE, PRED_PREV_SPLAT, PRED_PREV_CHANNEL, PRED_COUNT };

static int32_t predict(const int32_t *v, uint32_t i, int c, int nch, int mode)
{
    if (mode == PRED_PREV_SPLAT)
        return i ? v[(size_t)(i - 1) * nch + c] : 0;
    if (mode == PRED_PREV_CHANNEL)
        return c ? v[(size_t)i * nch + c - 1] : 0;
    return 0;
}

/* Estimated bits of channel c under a predictor: zeroth-order entropy of
 * the residual symbols plus their raw bits. */
static double channel_cost(const int32_t *v, uint32_t n, int c, int nch, int mode)
{
    uint32_t hist[RES_NSYM] = { 0 };
    double raw = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t u = zz32(v[(size_t)i * nch + c] - predict(v, i, c, nch, mode));
        if (u < DIRECT) {
            hist[u]++;
        } else {
            const int len = bitlen64(u);
            hist[DIRECT + len - 4]++;
            raw += len - 1;
        }
    }
    double bits = raw;
    for (int s = 0; s < RES_NSYM; s++)
        if (hist[s])
            bits -= hist[s] * log2((double)hist[s] / n);
    return bits;
}

/* Per-channel coding state: RES_CTX residual models per channel and the
 * previous zigzag residual of each channel (their context). */
typedef struct ChannelState {
    LvcAdaptive *m;
    uint32_t *prev;
    int nch;
} ChannelState;

static void channel_state_free(ChannelState *cs)
{
    if (cs->m)
        models_free(cs->m, cs->nch * RES_CTX);
    lvc_free(cs->m);
    lvc_free(cs->prev);
    memset(cs, 0, sizeof(*cs));
}

static int channel_state_init(ChannelState *cs, int nch)
{
    memset(cs, 0, sizeof(*cs));
    LvcAdaptive *m = lvc_malloc_array((size_t)nch * RES_CTX, sizeof(*m));
    cs->prev = lvc_calloc((size_t)nch, sizeof(*cs->prev));
    int err = m && cs->prev ? models_init(m, nch * RES_CTX, RES_NSYM) : LVC_ERR_NOMEM;
    if (err) {
        lvc_free(m);
        lvc_free(cs->prev);
        cs->prev = NULL;
        return err;
    }
    cs->m = m;
    cs->nch = nch;
    return 0;
}

/* The model of channel c for its next residual. */
static LvcAdaptive *channel_model(const ChannelState *cs, int c)
{
    return &cs->m[c * RES_CTX + res_ctx(cs->prev[c])];
}

/* n splats x nch channels, splat-major in v. The predictor of each channel
 * (2 raw bits), then every value. */
static int encode_channels(LvcRansEnc *e, const int32_t *v, uint32_t n, int nch)
{
    int mode[64];
    if (nch > 64)
        return LVC_ERR_INVALID_ARG;
    for (int c = 0; c < nch; c++) {
        mode[c] = PRED_NONE;
        double best = channel_cost(v, n, c, nch, PRED_NONE);
        for (int m = PRED_PREV_SPLAT; m < PRED_COUNT; m++) {
            if (m == PRED_PREV_CHANNEL && c == 0)
                continue;
            const double cost = channel_cost(v, n, c, nch, m);
            if (cost < best) {
                best = cost;
                mode[c] = m;
            }
        }
        int err = lvc_rans_enc_put_bits(e, (uint32_t)mode[c], 2);
        if (err)
            return err;
    }
    ChannelState cs;
    int err = channel_state_init(&cs, nch);
    for (uint32_t i = 0; i < n && !err; i++) {
        for (int c = 0; c < nch && !err; c++) {
            const uint32_t u = zz32(v[(size_t)i * nch + c] - predict(v, i, c, nch, mode[c]));
            err = put_residual(channel_model(&cs, c), e, u);
            cs.prev[c] = u;
        }
    }
    channel_state_free(&cs);
    return err;
}

static int decode_channels(LvcRansDec *d, int32_t *v, uint32_t n, int nch)
{
    int mode[64];
    if (nch > 64)
        return LVC_ERR_INVALID_ARG;
    for (int c = 0; c < nch; c++) {
        mode[c] = (int)lvc_rans_dec_get_bits(d, 2);
        if (mode[c] >= PRED_COUNT || (mode[c] == PRED_PREV_CHANNEL && c == 0))
            return lvc_rans_dec_status(d) ? lvc_rans_dec_status(d) : LVC_ERR_CORRUPT;
    }
    ChannelState cs;
    int err = channel_state_init(&cs, nch);
    if (err)
        return err;
    int bad = 0;
    for (uint32_t i = 0; i < n && !bad; i++) {
        for (int c = 0; c < nch && !bad; c++) {
            const uint32_t u = get_residual(channel_model(&cs, c), d, &bad);
            const int64_t x = (int64_t)predict(v, i, c, nch, mode[c]) + unzz32(u);
            if (x < -VMAX || x > VMAX)
                bad = 1;
            v[(size_t)i * nch + c] = (int32_t)x;
            cs.prev[c] = u;
        }
        /* Stop early on a damaged stream rather than decode garbage. */
        if ((i & 1023) == 0 && lvc_rans_dec_status(d))
            break;
    }
    channel_state_free(&cs);
    err = lvc_rans_dec_status(d);
    return err ? err : bad ? LVC_ERR_CORRUPT : 0;
}

/* ---------------------------------------------------------- positions */

static uint64_t spread3(uint32_t x)
{
    uint64_t v = x & 0x1fffff;
    v = (v | v << 32) & 0x1f00000000ffffull;
    v = (v | v << 16) & 0x1f0000ff0000ffull;
    v = (v | v << 8) & 0x100f00f00f00f00full;
    v = (v | v << 4) & 0x10c30c30c30c30c3ull;
    v = (v | v << 2) & 0x1249249249249249ull;
    return v;
}

static uint32_t compact3(uint64_t v)
{
    v &= 0x1249249249249249ull;
    v = (v ^ (v >> 2)) & 0x10c30c30c30c30c3ull;
    v = (v ^ (v >> 4)) & 0x100f00f00f00f00full;
    v = (v ^ (v >> 8)) & 0x1f0000ff0000ffull;
    v = (v ^ (v >> 16)) & 0x1f00000000ffffull;
    v = (v ^ (v >> 32)) & 0x1fffff;
    return (uint32_t)v;
}

static uint64_t morton3(uint32_t x, uint32_t y, uint32_t z)
{
    return spread3(x) | spread3(y) << 1 | spread3(z) << 2;
}

static int gap_ctx(int prev_len)
{
    return prev_len / 8 < GAP_CTX ? prev_len / 8 : GAP_CTX - 1;
}

/* Sorted Morton codes as gaps: bit length (adaptive), then the bits below
 * the leading one. */
static int encode_positions(LvcRansEnc *e, const uint64_t *code, uint32_t n)
{
    LvcAdaptive m[GAP_CTX];
    int err = models_init(m, GAP_CTX, GAP_NSYM);
    if (err)
        return err;
    uint64_t last = 0;
    int prev_len = 0;
    for (uint32_t i = 0; i < n && !err; i++) {
        const uint64_t gap = code[i] - last;
        const int len = bitlen64(gap);
        err = lvc_adaptive_encode(&m[gap_ctx(prev_len)], e, len);
        if (!err && len > 1)
            err = put_raw(e, gap, len - 1);
        last = code[i];
        prev_len = len;
    }
    models_free(m, GAP_CTX);
    return err;
}

static int decode_positions(LvcRansDec *d, uint64_t *code, uint32_t n, int bits)
{
    LvcAdaptive m[GAP_CTX];
    int err = models_init(m, GAP_CTX, GAP_NSYM);
    if (err)
        return err;
    const uint64_t limit = 1ull << (3 * bits);
    uint64_t last = 0;
    int prev_len = 0, bad = 0;
    for (uint32_t i = 0; i < n && !bad; i++) {
        const int len = lvc_adaptive_decode(&m[gap_ctx(prev_len)], d);
        uint64_t gap = 0;
        if (len > 0)
            gap = (1ull << (len - 1)) | (len > 1 ? get_raw(d, len - 1) : 0);
        if (len > 3 * bits || gap >= limit - last)
            bad = 1;
        last += gap;
        code[i] = last;
        prev_len = len;
        if ((i & 1023) == 0 && lvc_rans_dec_status(d))
            break;
    }
    models_free(m, GAP_CTX);
    err = lvc_rans_dec_status(d);
    return err ? err : bad ? LVC_ERR_CORRUPT : 0;
}

/* ---------------------------------------------------------- rotations */

/* Smallest three: the index of the largest |component| (made positive),
 * then the other three quantized. q is (w, x, y, z). */
static void rot_quant(const float *q, int bits, int *largest, int32_t v[3])
{
    double c[4], norm = 0;
    for (int k = 0; k < 4; k++) {
        c[k] = q[k];
        norm += c[k] * c[k];
    }
    if (!(norm > 0)) {
        c[0] = 1;
        c[1] = c[2] = c[3] = 0;
        norm = 1;
    }
    norm = sqrt(norm);
    int big = 0;
    for (int k = 1; k < 4; k++)
        if (fabs(c[k]) > fabs(c[big]))
            big = k;
    const double sign = c[big] < 0 ? -1 : 1;
    for (int k = 0, j = 0; k < 4; k++)
        if (k != big)
            v[j++] = quant(sign * c[k] / norm, bits);
    *largest = big;
}

static void rot_dequant(int big, const int32_t v[3], int bits, float *q)
{
    const int64_t one = 1ll << (2 * bits);
    int64_t rest = one;
    for (int j = 0; j < 3; j++)
        rest -= (int64_t)v[j] * v[j];
    q[big] = (float)ldexp(sqrt((double)(rest > 0 ? rest : 0)), -bits);
    for (int k = 0, j = 0; k < 4; k++)
        if (k != big)
            q[k] = dequant(v[j++], bits);
}

/* ------------------------------------------------------- SH codebook */

/* Nearest-centroid search, in chunks over a thread pool. */
typedef struct KmAssign {
    const float *x;             /* n x d */
    size_t n;
    int d;
    const float *cb;            /* k x d */
    int k;
    uint32_t *assign;
} KmAssign;

#define KM_CHUNK 512

#if !LVC_HAVE_OPENBLAS
static void km_assign_job(void *arg, int job, int thread)
{
    (void)thread;
    const KmAssign *a = arg;
    const size_t lo = (size_t)job * KM_CHUNK;
    const size_t hi = lo + KM_CHUNK < a->n ? lo + KM_CHUNK : a->n;
    for (size_t i = lo; i < hi; i++) {
        const float *x = &a->x[i * a->d];
        float best = INFINITY;
        uint32_t arg_best = 0;
        for (int j = 0; j < a->k; j++) {
            const float *c = &a->cb[(size_t)j * a->d];
            float dist = 0;
            for (int t = 0; t < a->d; t++) {
                const float diff = x[t] - c[t];
                dist += diff * diff;
            }
            if (dist < best) {
                best = dist;
                arg_best = (uint32_t)j;
            }
        }
        a->assign[i] = arg_best;
    }
}
#endif

#if LVC_HAVE_OPENBLAS
/* With BLAS: |x - c|^2 = |x|^2 - 2 x.c + |c|^2, the products by SGEMM over
 * blocks of vectors (OpenBLAS threads them); ties go to the lower index
 * as in the direct search. */
static int km_assign(LvcPool *pool, KmAssign *a)
{
    (void)pool;
    float *cn = lvc_malloc_array((size_t)a->k, sizeof(float));
    float *g = lvc_malloc_array((size_t)KM_CHUNK * a->k, sizeof(float));
    if (!cn || !g) {
        lvc_free(cn);
        lvc_free(g);
        return LVC_ERR_NOMEM;
    }
    for (int j = 0; j < a->k; j++) {
        float v = 0;
        for (int t = 0; t < a->d; t++)
            v += a->cb[(size_t)j * a->d + t] * a->cb[(size_t)j * a->d + t];
        cn[j] = v;
    }
    for (size_t lo = 0; lo < a->n; lo += KM_CHUNK) {
        const int rows = (int)(a->n - lo < KM_CHUNK ? a->n - lo : KM_CHUNK);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, a->k, a->d, 1.0f,
                    &a->x[lo * a->d], a->d, a->cb, a->d, 0.0f, g, a->k);
        for (int i = 0; i < rows; i++) {
            const float *gi = &g[(size_t)i * a->k];
            float best = INFINITY;
            uint32_t arg_best = 0;
            for (int j = 0; j < a->k; j++) {
                const float dist = cn[j] - 2 * gi[j];
                if (dist < best) {
                    best = dist;
                    arg_best = (uint32_t)j;
                }
            }
            a->assign[lo + i] = arg_best;
        }
    }
    lvc_free(cn);
    lvc_free(g);
    return 0;
}
#else
static int km_assign(LvcPool *pool, KmAssign *a)
{
    return lvc_pool_run(pool, (int)((a->n + KM_CHUNK - 1) / KM_CHUNK), km_assign_job, a);
}
#endif

/* k-means (Lloyd) on at most KM_TRAIN of the n vectors, evenly spaced in
 * coding order; the centroids start at evenly spaced training vectors. The
 * codebook is then quantized with step 2^-bits (cbq) and every vector
 * assigned to its nearest quantized centroid. Deterministic for a given
 * input, whatever the thread count. */
static int build_codebook(LvcPool *pool, const float *x, size_t n, int d, int k, int bits,
                          int32_t *cbq, uint32_t *assign)
{
    const size_t nt = n < KM_TRAIN ? n : KM_TRAIN;
    float *train = lvc_malloc_array(nt * d, sizeof(float));
    float *cb = lvc_malloc_array((size_t)k * d, sizeof(float));
    double *sum = lvc_malloc_array((size_t)k * d, sizeof(double));
    uint32_t *cnt = lvc_malloc_array((size_t)k, sizeof(uint32_t));
    uint32_t *ta = lvc_malloc_array(nt, sizeof(uint32_t));
    int err = train && cb && sum && cnt && ta ? 0 : LVC_ERR_NOMEM;
    if (!err) {
        for (size_t i = 0; i < nt; i++)
            memcpy(&train[i * d], &x[(i * n / nt) * d], (size_t)d * sizeof(float));
        for (int j = 0; j < k; j++)
            memcpy(&cb[(size_t)j * d], &train[((2 * (size_t)j + 1) * nt / (2 * k)) * d],
                   (size_t)d * sizeof(float));
        KmAssign a = { train, nt, d, cb, k, ta };
        for (int it = 0; it < KM_ITERS && !err; it++) {
            err = km_assign(pool, &a);
            memset(sum, 0, (size_t)k * d * sizeof(double));
            memset(cnt, 0, (size_t)k * sizeof(uint32_t));
            for (size_t i = 0; i < nt; i++) {
                cnt[ta[i]]++;
                for (int t = 0; t < d; t++)
                    sum[(size_t)ta[i] * d + t] += train[i * d + t];
            }
            for (int j = 0; j < k; j++) {
                if (!cnt[j]) {
                    /* An empty cell restarts on a training vector. */
                    const size_t i = ((size_t)j * 7919 + (size_t)it * 104729) % nt;
                    memcpy(&cb[(size_t)j * d], &train[i * d], (size_t)d * sizeof(float));
                    continue;
                }
                for (int t = 0; t < d; t++)
                    cb[(size_t)j * d + t] = (float)(sum[(size_t)j * d + t] / cnt[j]);
            }
        }
        for (size_t j = 0; j < (size_t)k * d; j++) {
            cbq[j] = quant(cb[j], bits);
            cb[j] = dequant(cbq[j], bits);
        }
        KmAssign all = { x, n, d, cb, k, assign };
        if (!err)
            err = km_assign(pool, &all);
    }
    lvc_free(train);
    lvc_free(cb);
    lvc_free(sum);
    lvc_free(cnt);
    lvc_free(ta);
    return err;
}

/* Codebook indices: the high part (index >> low) adaptive, then `low` raw
 * bits. */
static int index_low_bits(uint32_t k)
{
    return k > 64 ? 6 : 0;
}

static int index_models(LvcAdaptive *m, uint32_t k)
{
    const int low = index_low_bits(k);
    const int nsym = (int)((k + (1u << low) - 1) >> low);
    return models_init(m, 1, nsym < 2 ? 2 : nsym);
}

static int encode_indices(LvcRansEnc *e, const uint32_t *idx, uint32_t n, uint32_t k)
{
    LvcAdaptive m;
    int err = index_models(&m, k);
    if (err)
        return err;
    const int low = index_low_bits(k);
    for (uint32_t i = 0; i < n && !err; i++) {
        err = lvc_adaptive_encode(&m, e, (int)(idx[i] >> low));
        if (!err)
            err = put_raw(e, idx[i], low);
    }
    lvc_adaptive_free(&m);
    return err;
}

static int decode_indices(LvcRansDec *d, uint32_t *idx, uint32_t n, uint32_t k)
{
    LvcAdaptive m;
    int err = index_models(&m, k);
    if (err)
        return err;
    const int low = index_low_bits(k);
    int bad = 0;
    for (uint32_t i = 0; i < n && !bad; i++) {
        const int hi = lvc_adaptive_decode(&m, d);
        idx[i] = (uint32_t)(hi < 0 ? 0 : hi) << low | (uint32_t)get_raw(d, low);
        bad = idx[i] >= k;
        if ((i & 1023) == 0 && lvc_rans_dec_status(d))
            break;
    }
    lvc_adaptive_free(&m);
    err = lvc_rans_dec_status(d);
    return err ? err : bad ? LVC_ERR_CORRUPT : 0;
}

/* ------------------------------------------------------------ settings */

void lvc_splat_default_settings(LvcSplatSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->quality = 75;
    s->sh_degree = -1;
}

/* The precisions of a quality: between these anchors (q = 0,
 * 25, 50, 75, 100), which follow the greedy rate-distortion ladder of
 * tools/splat_tune.py on the tuning scenes (doc/splats.md): position,
 * rotation, log scale, opacity, base colour, higher SH (scalar). */
static const int quality_anchor[5][6] = {
    { 12, 3, 1, 1, 1, 1 },
    { 13, 4, 2, 1, 2, 2 },
    { 14, 5, 3, 2, 3, 3 },
    { 16, 7, 5, 3, 5, 5 },
    { 18, 12, 9, 8, 10, 9 },
};

/* Below this quality the higher SH go through a codebook. */
#define CODEBOOK_QUALITY 80

static void quality_params(float quality, SplatHeader *h)
{
    const double x = quality / 25.0;
    const int i = x >= 4 ? 3 : (int)x;
    const double f = x - i;
    /* Each precision steps at its own point between two anchors (the k-th
     * of six at f = (k + 0.5) / 6 for a one-bit rise), so the rate climbs
     * in several small steps rather than one big one. */
    int b[6];
    for (int k = 0; k < 6; k++) {
        const int a0 = quality_anchor[i][k], a1 = quality_anchor[i + 1][k];
        b[k] = a0 + (int)floor((a1 - a0) * f + 1 - (k + 0.5) / 6);
    }
    h->pos_bits = b[0];
    h->rot_bits = b[1] < ROT_BITS_MIN ? ROT_BITS_MIN : b[1];
    h->scale_bits = b[2];
    h->opacity_bits = b[3];
    h->color_bits = b[4];
    h->sh_bits = b[5];
    h->codebook = 0;
    if (quality < CODEBOOK_QUALITY && h->count) {
        /* About one codebook vector per 256 splats at quality 0, per 8
         * near the top, as a power of two. */
        const double k = h->count * exp2(-8 + 5 * quality / 100.0);
        int e = (int)lrint(log2(k));
        e = e < 4 ? 4 : e > 14 ? 14 : e;
        h->codebook = 1u << e;
    }
}

/* ------------------------------------------------------------- header */

static void put_svarint64(LvcByteWriter *w, int64_t v)
{
    lvc_bw_varint(w, lvc_zigzag64(v));
}

static int header_write(LvcByteWriter *w, const SplatHeader *h)
{
    lvc_bw_varint(w, h->count);
    lvc_bw_u8(w, (uint8_t)h->sh_degree);
    lvc_bw_u8(w, (uint8_t)h->pos_bits);
    put_svarint64(w, h->pos_exp);
    for (int a = 0; a < 3; a++)
        put_svarint64(w, h->origin[a]);
    lvc_bw_u8(w, (uint8_t)h->rot_bits);
    lvc_bw_u8(w, (uint8_t)h->scale_bits);
    lvc_bw_u8(w, (uint8_t)h->opacity_bits);
    lvc_bw_u8(w, (uint8_t)h->color_bits);
    lvc_bw_u8(w, (uint8_t)h->sh_bits);
    lvc_bw_varint(w, h->codebook);
    lvc_bw_u16le(w, h->quality);
    lvc_bw_varint(w, h->num_boxes);
    return w->err;
}

static int num_attr_boxes(int sh_degree)
{
    return sh_degree > 0 ? ATTR_COUNT : ATTR_COUNT - 1;
}

/* Every position the grid can hold is a finite float. */
static int grid_fits(const SplatHeader *h)
{
    for (int a = 0; a < 3; a++) {
        const double lo = fabs((double)h->origin[a]);
        const double hi = fabs((double)h->origin[a] + (double)((1u << h->pos_bits) - 1));
        if (!(ldexp(lo > hi ? lo : hi, h->pos_exp) <= FLT_MAX))
            return 0;
    }
    return 1;
}

/* A varint64 that must be minimal (doc/bitstream.md 6.1): else *bad. */
static uint64_t varint_min(LvcByteReader *r, int *bad)
{
    const uint8_t *start = r->p;
    const uint64_t v = lvc_br_varint(r);
    int len = 1;
    for (uint64_t x = v >> 7; x; x >>= 7)
        len++;
    if (!r->err && r->p - start != len)
        *bad = 1;
    return v;
}

static int64_t svarint_min(LvcByteReader *r, int *bad)
{
    return lvc_unzigzag64(varint_min(r, bad));
}

static int header_read(const uint8_t *p, size_t n, SplatHeader *h, uint32_t max_count)
{
    LvcByteReader r;
    lvc_br_init(&r, p, n);
    int bad = 0;
    const uint64_t count = varint_min(&r, &bad);
    h->sh_degree = lvc_br_u8(&r);
    h->pos_bits = lvc_br_u8(&r);
    const int64_t exp = svarint_min(&r, &bad);
    for (int a = 0; a < 3; a++)
        h->origin[a] = svarint_min(&r, &bad);
    h->rot_bits = lvc_br_u8(&r);
    h->scale_bits = lvc_br_u8(&r);
    h->opacity_bits = lvc_br_u8(&r);
    h->color_bits = lvc_br_u8(&r);
    h->sh_bits = lvc_br_u8(&r);
    const uint64_t codebook = varint_min(&r, &bad);
    h->quality = lvc_br_u16le(&r);
    const uint64_t boxes = varint_min(&r, &bad);
    if (r.err)
        return r.err == LVC_ERR_TRUNCATED ? LVC_ERR_CORRUPT : r.err;
    if (lvc_br_left(&r) || bad)
        return LVC_ERR_CORRUPT;
    if (h->sh_degree > LVC_SPLAT_MAX_SH_DEGREE || h->pos_bits < 1 ||
        h->pos_bits > POS_BITS_MAX || exp < -EXP_MAX || exp > EXP_MAX ||
        h->rot_bits < ROT_BITS_MIN || h->rot_bits > ROT_BITS_MAX ||
        h->scale_bits > STEP_BITS_MAX || h->opacity_bits > STEP_BITS_MAX ||
        h->color_bits > STEP_BITS_MAX || h->sh_bits > STEP_BITS_MAX ||
        codebook > CODEBOOK_MAX || (codebook && !h->sh_degree) ||
        h->quality > LVC_QUALITY_MAX || boxes < (uint64_t)num_attr_boxes(h->sh_degree) ||
        boxes > MAX_BOXES)
        return LVC_ERR_CORRUPT;
    for (int a = 0; a < 3; a++) {
        /* Decoded coordinates (origin + cell) must stay exact in double. */
        if (h->origin[a] < -(1ll << 52) || h->origin[a] > (1ll << 52))
            return LVC_ERR_CORRUPT;
    }
    h->pos_exp = (int)exp;
    if (!grid_fits(h))
        return LVC_ERR_CORRUPT;
    if (count > max_count)
        return LVC_ERR_LIMIT;
    h->count = (uint32_t)count;
    h->num_boxes = (uint32_t)boxes;
    h->codebook = (uint32_t)codebook;
    return 0;
}

/* ------------------------------------------------------------ encoder */

typedef struct SortKey {
    uint64_t code;
    uint32_t index;
} SortKey;

static int cmp_key(const void *a, const void *b)
{
    const SortKey *x = a, *y = b;
    if (x->code != y->code)
        return x->code < y->code ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int check_input(const LvcSplats *in)
{
    if (in->sh_degree < 0 || in->sh_degree > LVC_SPLAT_MAX_SH_DEGREE ||
        in->count > LVC_SPLAT_MAX_COUNT)
        return LVC_ERR_INVALID_ARG;
    if (!in->count)
        return 0;
    if (!in->position || !in->scale || !in->rotation || !in->opacity || !in->sh)
        return LVC_ERR_INVALID_ARG;
    const size_t k = (size_t)3 * LVC_SPLAT_SH_COEFFS(in->sh_degree);
    for (size_t i = 0; i < in->count; i++) {
        int ok = isfinite(in->opacity[i]);
        for (int a = 0; a < 3; a++)
            ok &= isfinite(in->position[i * 3 + a]) && isfinite(in->scale[i * 3 + a]);
        for (int a = 0; a < 4; a++)
            ok &= isfinite(in->rotation[i * 4 + a]);
        for (size_t j = 0; j < k; j++)
            ok &= isfinite(in->sh[i * k + j]);
        if (!ok) {
            lvc_log(LVC_LOG_ERROR, "splat %zu has a value that is not finite", i);
            return LVC_ERR_INVALID_ARG;
        }
    }
    return 0;
}

/* The position grid: step 2^exp with 2^bits cells over the longest axis. */
static int position_grid(const LvcSplats *in, SplatHeader *h)
{
    double lo[3], hi[3], extent = 0;
    for (int a = 0; a < 3; a++) {
        lo[a] = hi[a] = in->count ? in->position[a] : 0;
        for (uint32_t i = 1; i < in->count; i++) {
            const double x = in->position[(size_t)i * 3 + a];
            lo[a] = x < lo[a] ? x : lo[a];
            hi[a] = x > hi[a] ? x : hi[a];
        }
        extent = hi[a] - lo[a] > extent ? hi[a] - lo[a] : extent;
    }
    int e;
    if (extent > 0) {
        (void)frexp(extent, &e);      /* extent < 2^e */
        e -= h->pos_bits;
    } else {
        e = -h->pos_bits;
    }
    if (e < -EXP_MAX || e > EXP_MAX)
        return LVC_ERR_UNSUPPORTED;
    for (int a = 0; a < 3; a++) {
        const double o = floor(ldexp(lo[a], -e));
        if (!(fabs(o) <= (double)(1ll << 52))) {
            lvc_log(LVC_LOG_ERROR, "splat positions too far from the origin for their spread");
            return LVC_ERR_UNSUPPORTED;
        }
        h->origin[a] = (int64_t)o;
    }
    h->pos_exp = e;
    if (!grid_fits(h)) {
        lvc_log(LVC_LOG_ERROR, "splat positions too close to the float range's end");
        return LVC_ERR_UNSUPPORTED;
    }
    return 0;
}

static uint32_t cell(double x, int64_t origin, int exp, int bits)
{
    const double c = nearbyint(ldexp(x, -exp)) - (double)origin;
    const double top = (double)((1u << bits) - 1);
    return (uint32_t)(c < 0 ? 0 : c > top ? top : c);
}

/* One attribute's substream. */
/* Channels of an attribute other than the positions. */
static int attr_channels(int attr, int sh_degree)
{
    return attr == ATTR_OPACITY ? 1
           : attr == ATTR_SH    ? 3 * (LVC_SPLAT_SH_COEFFS(sh_degree) - 1)
                                : 3;
}

static int encode_sh_codebook(LvcPool *pool, const SplatHeader *h, const LvcSplats *in,
                              const SortKey *keys, LvcRansEnc *e)
{
    const uint32_t n = h->count, k = h->codebook;
    const int kin = LVC_SPLAT_SH_COEFFS(in->sh_degree);
    const int kout = LVC_SPLAT_SH_COEFFS(h->sh_degree);
    const int D = 3 * (kout - 1);
    float *x = lvc_malloc_array((size_t)(n ? n : 1) * D, sizeof(float));
    int32_t *cbq = lvc_malloc_array((size_t)k * D, sizeof(int32_t));
    uint32_t *idx = lvc_malloc_array(n ? n : 1, sizeof(uint32_t));
    int err = x && cbq && idx ? 0 : LVC_ERR_NOMEM;
    for (uint32_t i = 0; i < n && !err; i++) {
        const float *sh = &in->sh[(size_t)keys[i].index * 3 * kin];
        for (int c = 0; c < 3; c++)
            for (int j = 1; j < kout; j++)
                x[(size_t)i * D + c * (kout - 1) + j - 1] = sh[c * kin + j];
    }
    if (!err)
        err = build_codebook(pool, x, n, D, (int)k, h->sh_bits, cbq, idx);
    if (!err)
        err = encode_channels(e, cbq, k, D);
    if (!err)
        err = encode_indices(e, idx, n, k);
    lvc_free(x);
    lvc_free(cbq);
    lvc_free(idx);
    return err;
}

static int encode_attr(LvcPool *pool, int attr, const SplatHeader *h, const LvcSplats *in,
                       const SortKey *keys, LvcRansEnc *e)
{
    if (attr == ATTR_SH && h->codebook)
        return encode_sh_codebook(pool, h, in, keys, e);
    const uint32_t n = h->count;
    const int kin = LVC_SPLAT_SH_COEFFS(in->sh_degree);
    const int kout = LVC_SPLAT_SH_COEFFS(h->sh_degree);
    if (attr == ATTR_POS) {
        uint64_t *code = lvc_malloc_array(n ? n : 1, sizeof(*code));
        if (!code)
            return LVC_ERR_NOMEM;
        for (uint32_t i = 0; i < n; i++)
            code[i] = keys[i].code;
        const int err = encode_positions(e, code, n);
        lvc_free(code);
        return err;
    }
    const int nch = attr_channels(attr, h->sh_degree);
    int32_t *v = lvc_malloc_array((size_t)(n ? n : 1) * nch, sizeof(*v));
    if (!v)
        return LVC_ERR_NOMEM;
    int err = 0;
    if (attr == ATTR_ROT) {
        LvcAdaptive m[4];
        err = models_init(m, 4, 4);
        if (!err) {
            int prev = 0;
            for (uint32_t i = 0; i < n && !err; i++) {
                int big;
                rot_quant(&in->rotation[(size_t)keys[i].index * 4], h->rot_bits, &big,
                          &v[(size_t)i * 3]);
                err = lvc_adaptive_encode(&m[prev], e, big);
                prev = big;
            }
            models_free(m, 4);
        }
    }
    for (uint32_t i = 0; i < n && !err; i++) {
        const size_t s = keys[i].index;
        int32_t *o = &v[(size_t)i * nch];
        const float *sh = &in->sh[s * 3 * kin];
        switch (attr) {
        case ATTR_SCALE:
            for (int a = 0; a < 3; a++)
                o[a] = quant(in->scale[s * 3 + a], h->scale_bits);
            break;
        case ATTR_OPACITY:
            o[0] = quant(in->opacity[s], h->opacity_bits);
            break;
        case ATTR_COLOR:
            for (int c = 0; c < 3; c++)
                o[c] = quant(sh[c * kin], h->color_bits);
            break;
        case ATTR_SH:
            for (int c = 0; c < 3; c++)
                for (int k = 1; k < kout; k++)
                    o[c * (kout - 1) + k - 1] = quant(sh[c * kin + k], h->sh_bits);
            break;
        }
    }
    if (!err)
        err = encode_channels(e, v, n, nch);
    lvc_free(v);
    return err;
}

/* One encode at s->quality (settings and input already checked). */
static int encode_at(const LvcSplatSettings *s, const LvcSplats *in, uint8_t **out,
                     size_t *size, uint32_t *order);

int lvc_encode_splats(const LvcSplatSettings *s, const LvcSplats *in, uint8_t **out,
                      size_t *size, uint32_t *order)
{
    if (!out || !size)
        return LVC_ERR_INVALID_ARG;
    *out = NULL;
    *size = 0;
    if (!s || !in)
        return LVC_ERR_INVALID_ARG;
    for (size_t i = 0; i < sizeof(s->reserved) / sizeof(s->reserved[0]); i++)
        if (s->reserved[i])
            return LVC_ERR_INVALID_ARG;
    const int step_bits[4] = { s->scale_bits, s->opacity_bits, s->color_bits, s->sh_bits };
    int bad_bits = 0;
    for (int i = 0; i < 4; i++)
        bad_bits |= step_bits[i] < 0 || step_bits[i] > STEP_BITS_MAX;
    if (!(s->quality >= 0 && s->quality <= 100) || s->position_bits < 0 ||
        s->position_bits > POS_BITS_MAX || s->sh_degree < -1 ||
        s->sh_degree > LVC_SPLAT_MAX_SH_DEGREE || bad_bits || s->rotation_bits < 0 ||
        s->rotation_bits == 1 || s->rotation_bits > ROT_BITS_MAX || s->sh_codebook < -1 ||
        (s->sh_codebook > 0 && s->sh_codebook < CODEBOOK_MIN) ||
        s->sh_codebook > CODEBOOK_MAX || s->threads < 0) {
        lvc_log(LVC_LOG_ERROR, "invalid splat settings");
        return LVC_ERR_INVALID_ARG;
    }
    int err = check_input(in);
    if (err)
        return err;
    if (!s->target_bytes)
        return encode_at(s, in, out, size, order);

    /* The largest quality whose stream fits (the size grows with the
     * quality); at quality 0 the smallest stream is returned even if it
     * does not fit. */
    LvcSplatSettings t = *s;
    float lo = 0.0f, hi = 100.0f, best_q = -1.0f;
    uint8_t *best = NULL;
    size_t best_size = 0;
    for (int it = 0; it < 10 && hi - lo > 0.25f; it++) {
        t.quality = it == 0 ? 100.0f : 0.5f * (lo + hi);
        uint8_t *buf = NULL;
        size_t sz = 0;
        if ((err = encode_at(&t, in, &buf, &sz, NULL)) < 0) {
            free(best);
            return err;
        }
        if (sz <= s->target_bytes) {
            free(best);
            best = buf;
            best_size = sz;
            best_q = t.quality;
            lo = t.quality;
            if (it == 0)
                break;
        } else {
            free(buf);
            hi = t.quality;
        }
    }
    if (best && !order) {
        *out = best;
        *size = best_size;
        return 0;
    }
    /* The order of the splats depends on the quality: encode once more. */
    free(best);
    t.quality = best_q < 0 ? 0.0f : best_q;
    return encode_at(&t, in, out, size, order);
}

static int encode_at(const LvcSplatSettings *s, const LvcSplats *in, uint8_t **out,
                     size_t *size, uint32_t *order)
{
    int err = 0;
    SplatHeader h;
    memset(&h, 0, sizeof(h));
    h.count = in->count;
    h.sh_degree = s->sh_degree < 0 || s->sh_degree > in->sh_degree ? in->sh_degree
                                                                  : s->sh_degree;
    quality_params(s->quality, &h);
    if (s->position_bits)
        h.pos_bits = s->position_bits;
    if (s->rotation_bits)
        h.rot_bits = s->rotation_bits;
    if (s->scale_bits)
        h.scale_bits = s->scale_bits;
    if (s->opacity_bits)
        h.opacity_bits = s->opacity_bits;
    if (s->color_bits)
        h.color_bits = s->color_bits;
    if (s->sh_bits)
        h.sh_bits = s->sh_bits;
    if (s->sh_codebook)
        h.codebook = s->sh_codebook < 0 ? 0 : (uint32_t)s->sh_codebook;
    /* A codebook no smaller than the scene gains nothing. */
    if (!h.sh_degree || h.codebook >= h.count / 2)
        h.codebook = 0;
    /* Codebook entries 2 bits finer than the base colour: a codebook is
     * small, its precision cheap. */
    if (h.codebook && !s->sh_bits)
        h.sh_bits = h.color_bits + 2 < STEP_BITS_MAX ? h.color_bits + 2 : STEP_BITS_MAX;
    h.quality = (uint16_t)lrintf(s->quality * LVC_QUALITY_SCALE);
    h.num_boxes = (uint32_t)num_attr_boxes(h.sh_degree);
    err = position_grid(in, &h);
    if (err)
        return err;

    SortKey *keys = lvc_malloc_array(in->count ? in->count : 1, sizeof(*keys));
    if (!keys)
        return LVC_ERR_NOMEM;
    for (uint32_t i = 0; i < in->count; i++) {
        const float *p = &in->position[(size_t)i * 3];
        keys[i].code = morton3(cell(p[0], h.origin[0], h.pos_exp, h.pos_bits),
                               cell(p[1], h.origin[1], h.pos_exp, h.pos_bits),
                               cell(p[2], h.origin[2], h.pos_exp, h.pos_bits));
        keys[i].index = i;
    }
    qsort(keys, in->count, sizeof(*keys), cmp_key);

    LvcPool *pool = NULL;
    if (h.codebook) {
        err = lvc_pool_create(&pool, s->threads ? s->threads : lvc_cpu_count());
        if (err) {
            lvc_free(keys);
            return err;
        }
    }

    /* The substreams, then the stream around them. */
    uint8_t *data[ATTR_COUNT] = { 0 };
    size_t dsize[ATTR_COUNT] = { 0 };
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    for (int a = 0; a < (int)h.num_boxes && !err; a++) {
        lvc_rans_enc_reset(&e);
        err = encode_attr(pool, a, &h, in, keys, &e);
        if (!err)
            err = lvc_rans_enc_finish_alloc(&e, &data[a], &dsize[a]);
    }
    lvc_rans_enc_free(&e);
    lvc_pool_destroy(&pool);

    LvcByteWriter hw;
    lvc_bw_init(&hw);
    if (!err)
        err = header_write(&hw, &h);
    size_t total = LVC_CONTAINER_HEADER_SIZE;
    if (!err) {
        const size_t bs = lvc_container_box_size(hw.size);
        total += bs;
        err = bs ? 0 : LVC_ERR_LIMIT;
        for (uint32_t a = 0; a < h.num_boxes && !err; a++) {
            const size_t b = lvc_container_box_size(dsize[a]);
            if (!b || b > SIZE_MAX - total)
                err = LVC_ERR_LIMIT;
            total += b;
        }
    }
    uint8_t *buf = err ? NULL : malloc(total);
    if (!err && !buf)
        err = LVC_ERR_NOMEM;
    if (!err) {
        uint8_t *p = buf;
        memcpy(p, LVC_CONTAINER_MAGIC, 4);
        p[4] = LVC_CONTAINER_VERSION;
        p[5] = LVC_KIND_SPLATS;
        p += LVC_CONTAINER_HEADER_SIZE;
        p = lvc_container_put_box(p, "shdr", LVC_BOX_MANDATORY, hw.buf, hw.size, NULL, 0);
        for (uint32_t a = 0; a < h.num_boxes; a++)
            p = lvc_container_put_box(p, attr_box[a], LVC_BOX_MANDATORY, NULL, 0, data[a],
                                      dsize[a]);
        *out = buf;
        *size = total;
        if (order)
            for (uint32_t i = 0; i < in->count; i++)
                order[i] = keys[i].index;
    }
    lvc_bw_free(&hw);
    for (int a = 0; a < ATTR_COUNT; a++)
        free(data[a]);
    lvc_free(keys);
    return err;
}

/* ------------------------------------------------------------ decoder */

typedef struct SplatStream {
    SplatHeader h;
    const uint8_t *data[ATTR_COUNT];
    size_t size[ATTR_COUNT];
} SplatStream;

static int parse_stream(const uint8_t *buf, size_t size, uint32_t max_count, SplatStream *st)
{
    memset(st, 0, sizeof(*st));
    if (!buf && size)
        return LVC_ERR_INVALID_ARG;
    int err = lvc_container_check_header(buf, size, LVC_KIND_SPLATS);
    if (err)
        return err;
    size_t pos = LVC_CONTAINER_HEADER_SIZE;
    LvcBoxDesc b;
    err = lvc_container_next_box(buf, size, &pos, &b);
    if (err)
        return err;
    if (memcmp(b.type, "shdr", 4) || !(b.flags & LVC_BOX_MANDATORY))
        return LVC_ERR_CORRUPT;
    err = header_read(buf + b.payload_offset, b.payload_size, &st->h,
                      max_count ? max_count : LVC_SPLAT_DEFAULT_MAX_COUNT);
    if (err)
        return err;
    /* num_boxes boxes follow: the attribute boxes in their order, and
     * unknown optional boxes anywhere among them. */
    uint32_t next = 0;
    for (uint32_t i = 0; i < st->h.num_boxes; i++) {
        if (pos == size)
            return LVC_ERR_TRUNCATED;
        err = lvc_container_next_box(buf, size, &pos, &b);
        if (err)
            return err;
        const int attrs = num_attr_boxes(st->h.sh_degree);
        if (next < (uint32_t)attrs && !memcmp(b.type, attr_box[next], 4)) {
            if (!(b.flags & LVC_BOX_MANDATORY))
                return LVC_ERR_CORRUPT;
            st->data[next] = buf + b.payload_offset;
            st->size[next] = b.payload_size;
            next++;
            continue;
        }
        for (int a = 0; a < ATTR_COUNT; a++)
            if (!memcmp(b.type, attr_box[a], 4) || !memcmp(b.type, "shdr", 4))
                return LVC_ERR_CORRUPT;   /* known box out of place */
        if (b.flags & LVC_BOX_MANDATORY)
            return LVC_ERR_UNKNOWN_BOX;
    }
    if (pos != size || next != (uint32_t)num_attr_boxes(st->h.sh_degree))
        return LVC_ERR_CORRUPT;
    return 0;
}

static int decode_attr(int attr, const SplatStream *st, LvcSplats *out, LvcRansDec *d)
{
    const SplatHeader *h = &st->h;
    const uint32_t n = h->count;
    const int K = LVC_SPLAT_SH_COEFFS(h->sh_degree);
    if (attr == ATTR_POS) {
        uint64_t *code = lvc_malloc_array(n ? n : 1, sizeof(*code));
        if (!code)
            return LVC_ERR_NOMEM;
        int err = decode_positions(d, code, n, h->pos_bits);
        for (uint32_t i = 0; i < n && !err; i++) {
            const uint32_t c[3] = { compact3(code[i]), compact3(code[i] >> 1),
                                    compact3(code[i] >> 2) };
            for (int a = 0; a < 3; a++)
                out->position[(size_t)i * 3 + a] =
                    (float)ldexp((double)(h->origin[a] + c[a]), h->pos_exp);
        }
        lvc_free(code);
        return err;
    }
    const int nch = attr_channels(attr, h->sh_degree);
    if (attr == ATTR_SH && h->codebook) {
        const uint32_t k = h->codebook;
        int32_t *cbq = lvc_malloc_array((size_t)k * nch, sizeof(int32_t));
        uint32_t *idx = lvc_malloc_array(n ? n : 1, sizeof(uint32_t));
        int err = cbq && idx ? decode_channels(d, cbq, k, nch) : LVC_ERR_NOMEM;
        if (!err)
            err = decode_indices(d, idx, n, k);
        for (uint32_t i = 0; i < n && !err; i++) {
            const int32_t *q = &cbq[(size_t)idx[i] * nch];
            float *sh = &out->sh[(size_t)i * 3 * K];
            for (int c = 0; c < 3; c++)
                for (int j = 1; j < K; j++)
                    sh[c * K + j] = dequant(q[c * (K - 1) + j - 1], h->sh_bits);
        }
        lvc_free(cbq);
        lvc_free(idx);
        return err;
    }
    int32_t *v = lvc_malloc_array((size_t)(n ? n : 1) * nch, sizeof(*v));
    uint8_t *big = attr == ATTR_ROT ? lvc_malloc(n ? n : 1) : NULL;
    if (!v || (attr == ATTR_ROT && !big)) {
        lvc_free(v);
        lvc_free(big);
        return LVC_ERR_NOMEM;
    }
    int err = 0;
    if (attr == ATTR_ROT) {
        LvcAdaptive m[4];
        err = models_init(m, 4, 4);
        if (!err) {
            int prev = 0;
            for (uint32_t i = 0; i < n; i++) {
                const int sym = lvc_adaptive_decode(&m[prev], d);
                big[i] = (uint8_t)(sym < 0 ? 0 : sym);
                prev = big[i];
            }
            models_free(m, 4);
            err = lvc_rans_dec_status(d);
        }
    }
    if (!err)
        err = decode_channels(d, v, n, nch);
    for (uint32_t i = 0; i < n && !err; i++) {
        const int32_t *q = &v[(size_t)i * nch];
        float *sh = &out->sh[(size_t)i * 3 * K];
        switch (attr) {
        case ATTR_ROT:
            rot_dequant(big[i], q, h->rot_bits, &out->rotation[(size_t)i * 4]);
            break;
        case ATTR_SCALE:
            for (int a = 0; a < 3; a++)
                out->scale[(size_t)i * 3 + a] = dequant(q[a], h->scale_bits);
            break;
        case ATTR_OPACITY:
            out->opacity[i] = dequant(q[0], h->opacity_bits);
            break;
        case ATTR_COLOR:
            for (int c = 0; c < 3; c++)
                sh[c * K] = dequant(q[c], h->color_bits);
            break;
        case ATTR_SH:
            for (int c = 0; c < 3; c++)
                for (int k = 1; k < K; k++)
                    sh[c * K + k] = dequant(q[c * (K - 1) + k - 1], h->sh_bits);
            break;
        }
    }
    lvc_free(v);
    lvc_free(big);
    return err;
}

int lvc_decode_splats(const uint8_t *buf, size_t size, LvcSplats *out, uint32_t max_count)
{
    if (!out)
        return LVC_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    SplatStream st;
    int err = parse_stream(buf, size, max_count, &st);
    if (err)
        return err;
    err = lvc_splats_alloc(out, st.h.count, st.h.sh_degree);
    if (err)
        return err;
    LvcRansDec d;
    for (int a = 0; a < num_attr_boxes(st.h.sh_degree) && !err; a++) {
        lvc_rans_dec_init(&d, st.data[a], st.size[a]);
        err = decode_attr(a, &st, out, &d);
        if (!err)
            err = lvc_rans_dec_finish(&d);
    }
    if (err)
        lvc_splats_free(out);
    return err;
}

int lvc_splat_stream_info(const uint8_t *buf, size_t size, LvcSplatStreamInfo *info)
{
    if (!info)
        return LVC_ERR_INVALID_ARG;
    memset(info, 0, sizeof(*info));
    SplatStream st;
    const int err = parse_stream(buf, size, LVC_SPLAT_MAX_COUNT, &st);
    if (err)
        return err;
    info->count = st.h.count;
    info->sh_degree = st.h.sh_degree;
    info->quality = st.h.quality / (float)LVC_QUALITY_SCALE;
    info->position_bits = st.h.pos_bits;
    info->position_step = ldexp(1.0, st.h.pos_exp);
    info->rotation_bits = st.h.rot_bits;
    info->scale_bits = st.h.scale_bits;
    info->opacity_bits = st.h.opacity_bits;
    info->color_bits = st.h.color_bits;
    info->sh_bits = st.h.sh_bits;
    for (int a = 0; a < ATTR_COUNT; a++)
        info->attribute_bytes[a] = st.size[a];
    return 0;
}
