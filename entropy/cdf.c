/*
 * CDF construction. Everything that decides an integer of a table is
 * integer arithmetic or deterministic binary64 (detmath.c).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/bits.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "entropy/cdf.h"
#include "entropy/detmath.h"

const uint64_t lvc_scale_table_q32[LVC_SCALE_TABLE_SIZE] = {
    /* round(2^32 * exp(log(0.11) + i/63 * (log(256) - log(0.11)))), computed
     * with 50-digit arithmetic. Frozen: these define the bitstream. */
    472446403ull, 534311555ull, 604277727ull, 683405717ull,
    772895231ull, 874103075ull, 988563721ull, 1118012576ull,
    1264412291ull, 1429982522ull, 1617233577ull, 1829004483ull,
    2068506025ull, 2339369431ull, 2645701423ull, 2992146485ull,
    3383957278ull, 3827074282ull, 4328215861ull, 4894980122ull,
    5535960119ull, 6260874136ull, 7080713029ull, 8007906870ull,
    9056513401ull, 10242431176ull, 11583640608ull, 13100476579ull,
    14815936752ull, 16756030248ull, 18950171993ull, 21431628688ull,
    24238023189ull, 27411904932ull, 31001395045ull, 35060915946ull,
    39652016472ull, 44844305058ull, 50716505113ull, 57357648591ull,
    64868425863ull, 73362712337ull, 82969294997ull, 93833825019ull,
    106121026074ull, 120017191803ull, 135733010330ull, 153506758627ull,
    173607915178ull, 196341245702ull, 222051423889ull, 251128257208ull,
    284012597009ull, 321203022538ull, 363263400194ull, 410831432649ull,
    464628327441ull, 525469731633ull, 594278098332ull, 672096672551ull,
    760105308477ull, 859638357950ull, 972204901370ull, 1099511627776ull,
};

/* ------------------------------------------------------------ quantizer */

typedef struct QItem {
    uint64_t key; /* remainder, for the largest-remainder pass */
    int idx;
} QItem;

static int cmp_rem_desc(const void *a, const void *b)
{
    const QItem *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? 1 : -1;
    return x->idx - y->idx;
}

/* Removal order: the cost of taking one unit from symbol i is about
 * w_i / (f_i - 1/2) bits (times a constant), so the heap's top is the
 * smallest w_i / (2 f_i - 1), compared exactly by cross-multiplication
 * (w <= 2^40, 2f-1 < 2^17: products < 2^57). Ties go to the lower index. */
static int heap_less(const uint64_t *w, const uint32_t *f, int a, int b)
{
    uint64_t lhs = w[a] * (2ull * f[b] - 1), rhs = w[b] * (2ull * f[a] - 1);
    if (lhs != rhs)
        return lhs < rhs;
    return a < b;
}

static void heap_sift_down(int *h, int n, int i, const uint64_t *w, const uint32_t *f)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && heap_less(w, f, h[l], h[m]))
            m = l;
        if (r < n && heap_less(w, f, h[r], h[m]))
            m = r;
        if (m == i)
            return;
        int tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

int lvc_cdf_quantize(const uint64_t *w_in, int nsym, int prec, uint32_t *cdf)
{
    if (prec < 1 || prec > LVC_CDF_MAX_PREC || nsym < 1 || nsym > (1 << prec) || !w_in || !cdf)
        return LVC_ERR_INVALID_ARG;
    const uint64_t T = (uint64_t)1 << prec;
    int ret = LVC_ERR_NOMEM;
    uint64_t *w = NULL;
    uint32_t *f = NULL;
    QItem *items = NULL;
    int *heap = NULL;

    w = lvc_malloc_array((size_t)nsym, sizeof(*w));
    f = lvc_malloc_array((size_t)nsym, sizeof(*f));
    if (!w || !f)
        goto end;
    uint64_t total = 0;
    for (int i = 0; i < nsym; i++) {
        if (w_in[i] > LVC_CDF_MAX_WEIGHT) {
            ret = LVC_ERR_INVALID_ARG;
            goto end;
        }
        w[i] = w_in[i];
        total += w[i];
    }
    if (total == 0) {
        for (int i = 0; i < nsym; i++)
            w[i] = 1;
        total = (uint64_t)nsym;
    }

    /* Floors of the exact shares w*T/total (w*T < 2^57), at least 1. */
    uint64_t sum = 0;
    int nrem = 0;
    for (int i = 0; i < nsym; i++) {
        uint64_t q = w[i] * T / total;
        f[i] = q ? (uint32_t)q : 1;
        sum += f[i];
    }
    if (sum < T) {
        /* Fewer than nsym units left: one each to the largest remainders
         * among symbols that were not raised to the floor of 1. */
        items = lvc_malloc_array((size_t)nsym, sizeof(*items));
        if (!items)
            goto end;
        for (int i = 0; i < nsym; i++) {
            uint64_t q = w[i] * T / total;
            if (q)
                items[nrem++] = (QItem){ w[i] * T - q * total, i };
        }
        qsort(items, (size_t)nrem, sizeof(*items), cmp_rem_desc);
        uint64_t d = T - sum;
        for (uint64_t k = 0; k < d; k++)
            f[items[k % (uint64_t)nrem].idx]++; /* d < nrem; % is a guard */
    } else if (sum > T) {
        /* The floors of 1 overshot: take units back, cheapest first. */
        heap = lvc_malloc_array((size_t)nsym, sizeof(*heap));
        if (!heap)
            goto end;
        int n = 0;
        for (int i = 0; i < nsym; i++)
            if (f[i] > 1)
                heap[n++] = i;
        for (int i = n / 2 - 1; i >= 0; i--)
            heap_sift_down(heap, n, i, w, f);
        for (uint64_t e = sum - T; e > 0 && n > 0; e--) {
            int i = heap[0];
            f[i]--;
            if (f[i] == 1)
                heap[0] = heap[--n];
            heap_sift_down(heap, n, 0, w, f);
        }
    }
    cdf[0] = 0;
    for (int i = 0; i < nsym; i++)
        cdf[i + 1] = cdf[i] + f[i];
    ret = cdf[nsym] == T ? 0 : LVC_ERR_INVALID_ARG; /* cannot happen */
end:
    lvc_free(heap);
    lvc_free(items);
    lvc_free(f);
    lvc_free(w);
    return ret;
}

/* ------------------------------------------------------------ tables */

static int check_shape(int nsym, int32_t offset, int prec, int lookup_bits)
{
    if (prec < 1 || prec > LVC_CDF_MAX_PREC || nsym < 1 || nsym > (1 << prec) ||
        lookup_bits < 0 || lookup_bits > LVC_CDF_MAX_PREC)
        return LVC_ERR_INVALID_ARG;
    if ((int64_t)offset + nsym - 2 > INT32_MAX)
        return LVC_ERR_INVALID_ARG;
    return 0;
}

/* Allocates cdf and lookup in one block; fills the lookup from t->cdf
 * later (build_lookup). */
static int alloc_table(LvcCdf *t, int nsym, int32_t offset, int prec, int lookup_bits)
{
    memset(t, 0, sizeof(*t));
    int lb = lookup_bits < prec ? lookup_bits : prec;
    size_t ncdf = (size_t)nsym + 1;
    size_t nlut = lb ? (size_t)1 << lb : 0;
    /* 4-byte cdf entries first keep the uint16 lookup aligned. */
    uint8_t *mem = lvc_malloc(ncdf * sizeof(uint32_t) + nlut * sizeof(uint16_t));
    if (!mem)
        return LVC_ERR_NOMEM;
    t->nsym = nsym;
    t->offset = offset;
    t->prec = prec;
    t->cdf = (uint32_t *)mem;
    if (lb) {
        t->lookup = (uint16_t *)(mem + ncdf * sizeof(uint32_t));
        t->lookup_shift = prec - lb;
    }
    return 0;
}

static void build_lookup(LvcCdf *t)
{
    if (!t->lookup)
        return;
    uint32_t n = 1u << (t->prec - t->lookup_shift);
    uint32_t s = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t slot = j << t->lookup_shift;
        while (t->cdf[s + 1] <= slot)
            s++;
        t->lookup[j] = (uint16_t)s;
    }
}

int lvc_cdf_init(LvcCdf *t, const uint32_t *cdf, int nsym, int32_t offset, int prec,
                 int lookup_bits)
{
    memset(t, 0, sizeof(*t));
    int ret = check_shape(nsym, offset, prec, lookup_bits);
    if (ret)
        return ret;
    if (cdf[0] != 0 || cdf[nsym] != 1u << prec)
        return LVC_ERR_CORRUPT;
    for (int i = 0; i < nsym; i++)
        if (cdf[i + 1] <= cdf[i])
            return LVC_ERR_CORRUPT;
    if ((ret = alloc_table(t, nsym, offset, prec, lookup_bits)))
        return ret;
    memcpy(t->cdf, cdf, ((size_t)nsym + 1) * sizeof(*cdf));
    build_lookup(t);
    return 0;
}

int lvc_cdf_from_weights(LvcCdf *t, const uint64_t *w, int nsym, int32_t offset, int prec,
                         int lookup_bits)
{
    memset(t, 0, sizeof(*t));
    int ret = check_shape(nsym, offset, prec, lookup_bits);
    if (ret)
        return ret;
    if ((ret = alloc_table(t, nsym, offset, prec, lookup_bits)))
        return ret;
    if ((ret = lvc_cdf_quantize(w, nsym, prec, t->cdf))) {
        lvc_cdf_free(t);
        return ret;
    }
    build_lookup(t);
    return 0;
}

/* Scale doubles by one power of two so the largest becomes an integer in
 * [2^39, 2^40): exact (ldexp) up to the final truncation, so the weights
 * are the same everywhere. */
static int pmf_to_weights(const double *pmf, int nsym, uint64_t *w)
{
    double mx = 0;
    for (int i = 0; i < nsym; i++) {
        if (!(pmf[i] >= 0) || pmf[i] > DBL_MAX)
            return LVC_ERR_INVALID_ARG;
        if (pmf[i] > mx)
            mx = pmf[i];
    }
    if (mx == 0) {
        memset(w, 0, (size_t)nsym * sizeof(*w));
        return 0;
    }
    int e;
    frexp(mx, &e); /* mx = m 2^e, m in [0.5, 1) */
    for (int i = 0; i < nsym; i++)
        w[i] = (uint64_t)floor(ldexp(pmf[i], 40 - e));
    return 0;
}

int lvc_cdf_from_pmf(LvcCdf *t, const double *pmf, int nsym, int32_t offset, int prec,
                     int lookup_bits)
{
    memset(t, 0, sizeof(*t));
    int ret = check_shape(nsym, offset, prec, lookup_bits);
    if (ret)
        return ret;
    uint64_t *w = lvc_malloc_array((size_t)nsym, sizeof(*w));
    if (!w)
        return LVC_ERR_NOMEM;
    ret = pmf_to_weights(pmf, nsym, w);
    if (!ret)
        ret = lvc_cdf_from_weights(t, w, nsym, offset, prec, lookup_bits);
    lvc_free(w);
    return ret;
}

void lvc_cdf_free(LvcCdf *t)
{
    lvc_free(t->cdf);
    memset(t, 0, sizeof(*t));
}

double lvc_cdf_cost_bits(const LvcCdf *t, int32_t value)
{
    int64_t rel = (int64_t)value - t->offset;
    int esc = t->nsym - 1;
    int s = rel >= 0 && rel < esc ? (int)rel : esc;
    double bits = t->prec - log2((double)(t->cdf[s + 1] - t->cdf[s]));
    if (s == esc) {
        /* Escape payload: 7 bits of direction and length, then the bits of
         * the distance below its leading one (see rans.c). */
        int64_t lo = t->offset, hi = (int64_t)t->offset + t->nsym - 2;
        uint64_t u = (uint64_t)(value < lo ? lo - value : value - hi);
        int nb = 0;
        while (u >> nb)
            nb++;
        bits += 7 + (nb - 1);
    }
    return bits;
}

/* ------------------------------------------------------------ sets */

int lvc_cdf_set_alloc(LvcCdfSet *s, int n)
{
    memset(s, 0, sizeof(*s));
    if (n < 0)
        return LVC_ERR_INVALID_ARG;
    s->tables = lvc_calloc(n ? (size_t)n : 1, sizeof(*s->tables));
    if (!s->tables)
        return LVC_ERR_NOMEM;
    s->n = n;
    return 0;
}

void lvc_cdf_set_free(LvcCdfSet *s)
{
    if (s->tables)
        for (int i = 0; i < s->n; i++)
            lvc_cdf_free(&s->tables[i]);
    lvc_free(s->tables);
    memset(s, 0, sizeof(*s));
}

void lvc_cdf_set_hash(const LvcCdfSet *s, uint8_t out[32])
{
    LvcSha256 h;
    lvc_sha256_init(&h);
    for (int i = 0; i < s->n; i++) {
        const LvcCdf *t = &s->tables[i];
        uint8_t b[12];
        lvc_wl32(b, (uint32_t)t->nsym);
        lvc_wl32(b + 4, (uint32_t)t->offset);
        lvc_wl32(b + 8, (uint32_t)t->prec);
        lvc_sha256_update(&h, b, sizeof(b));
        for (int k = 0; k <= t->nsym; k++) {
            lvc_wl32(b, t->cdf[k]);
            lvc_sha256_update(&h, b, 4);
        }
    }
    lvc_sha256_final(&h, out);
}

/* ------------------------------------------------------------ parametric */

static double tail_q(LvcDist dist, double x)
{
    return dist == LVC_DIST_LAPLACE ? lvc_det_laplace_q(x) : lvc_det_normal_q(x);
}

/* m with 2 Q(m) = tail_mass, by a fixed number of bisection steps (Q is
 * decreasing): deterministic because Q is. */
static double tail_multiplier(LvcDist dist, double tail_mass)
{
    double lo = 0.0, hi = 64.0;
    for (int it = 0; it < 100; it++) {
        double mid = 0.5 * (lo + hi);
        if (2.0 * tail_q(dist, mid) > tail_mass)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* P(k - 1/2 < X < k + 1/2) for X = mu + scale * Z, written so that each
 * case subtracts upper tails of non-negative arguments (relative accuracy
 * in both tails); with mu = 0 the two halves are mirror images exactly. */
static double bin_prob(LvcDist dist, double k, double mu, double scale)
{
    double a = (k - 0.5 - mu) / scale, b = (k + 0.5 - mu) / scale;
    if (a >= 0)
        return tail_q(dist, a) - tail_q(dist, b);
    if (b <= 0)
        return tail_q(dist, -b) - tail_q(dist, -a);
    return 1.0 - (tail_q(dist, -a) + tail_q(dist, b));
}

/* Values k in [-r, r + (mu > 0)], mu in [0, 1), then the escape with the
 * mass of both tails. */
static int parametric(LvcCdf *t, LvcDist dist, uint64_t scale_q32, double m, double mu,
                      int prec, int lookup_bits)
{
    memset(t, 0, sizeof(*t));
    if (scale_q32 == 0 || scale_q32 > ((uint64_t)1 << 52) || !(mu >= 0) || !(mu < 1))
        return LVC_ERR_INVALID_ARG;
    const double scale = ldexp((double)scale_q32, -32); /* exact */
    const int extra = mu > 0;
    /* nsym = 2r + 2 + extra <= 2^(prec-1): wider tables waste precision on
     * tails. */
    int64_t rmax = ((int64_t)1 << (prec - 2)) - 1 - extra;
    if (rmax < 0)
        rmax = 0;
    double rr = ceil(scale * m);
    int64_t r = rr > (double)rmax ? rmax : (int64_t)rr;
    if (r < 0)
        r = 0;
    const int64_t hi = r + extra;
    int nsym = (int)(r + hi + 2);
    int ret = check_shape(nsym, (int32_t)-r, prec, lookup_bits);
    if (ret)
        return ret;
    double *pmf = lvc_malloc_array((size_t)nsym, sizeof(*pmf));
    if (!pmf)
        return LVC_ERR_NOMEM;
    for (int64_t k = -r; k <= hi; k++)
        pmf[k + r] = bin_prob(dist, (double)k, mu, scale);
    pmf[nsym - 1] = tail_q(dist, ((double)r + 0.5 + mu) / scale) +
                    tail_q(dist, ((double)hi + 0.5 - mu) / scale);
    ret = lvc_cdf_from_pmf(t, pmf, nsym, (int32_t)-r, prec, lookup_bits);
    lvc_free(pmf);
    return ret;
}

static int check_param(LvcDist dist, double tail_mass, int prec)
{
    if ((dist != LVC_DIST_GAUSSIAN && dist != LVC_DIST_LAPLACE) || !(tail_mass > 0) ||
        !(tail_mass < 0.5) || prec < 2 || prec > LVC_CDF_MAX_PREC)
        return LVC_ERR_INVALID_ARG;
    return 0;
}

int lvc_cdf_parametric(LvcCdf *t, LvcDist dist, uint64_t scale_q32, double tail_mass,
                       int prec, int lookup_bits)
{
    memset(t, 0, sizeof(*t));
    int ret = check_param(dist, tail_mass, prec);
    if (ret)
        return ret;
    return parametric(t, dist, scale_q32, tail_multiplier(dist, tail_mass), 0.0, prec,
                      lookup_bits);
}

int lvc_cdf_set_parametric_mean(LvcCdfSet *s, LvcDist dist, const uint64_t *scales_q32,
                                int nscales, int nfrac, double tail_mass, int prec,
                                int lookup_bits)
{
    memset(s, 0, sizeof(*s));
    int ret = check_param(dist, tail_mass, prec);
    if (ret)
        return ret;
    if (nscales < 0 || nfrac < 1 || nfrac > 64 || nscales > INT32_MAX / 64)
        return LVC_ERR_INVALID_ARG;
    if ((ret = lvc_cdf_set_alloc(s, nscales * nfrac)))
        return ret;
    double m = tail_multiplier(dist, tail_mass);
    for (int i = 0; i < nscales; i++)
        for (int f = 0; f < nfrac; f++) {
            ret = parametric(&s->tables[i * nfrac + f], dist, scales_q32[i], m,
                             (double)f / (double)nfrac, prec, lookup_bits);
            if (ret) {
                lvc_cdf_set_free(s);
                return ret;
            }
        }
    return 0;
}

int lvc_cdf_set_parametric(LvcCdfSet *s, LvcDist dist, const uint64_t *scales_q32, int n,
                           double tail_mass, int prec, int lookup_bits)
{
    return lvc_cdf_set_parametric_mean(s, dist, scales_q32, n, 1, tail_mass, prec,
                                       lookup_bits);
}

int lvc_cdf_set_default(LvcCdfSet *s, LvcDist dist, int prec)
{
    return lvc_cdf_set_parametric(s, dist, lvc_scale_table_q32, LVC_SCALE_TABLE_SIZE,
                                  LVC_DEFAULT_TAIL_MASS, prec, LVC_CDF_LOOKUP_BITS);
}

/* ------------------------------------------------------------ scale index */

int lvc_scale_index_q_table(const uint64_t *table_q32, int n, int32_t scale_q, int frac_bits)
{
    if (scale_q <= 0 || n <= 1 || frac_bits < 0 || frac_bits > 31)
        return 0;
    /* table_i < scale_q / 2^F  <=>  floor(table_i * 2^F / 2^32) < scale_q,
     * as scale_q is an integer; the floor is a right shift of the Q32 value. */
    const int sh = 32 - frac_bits;
    const uint64_t q = (uint64_t)scale_q;
    int lo = 0, hi = n - 1; /* count in [lo, hi] */
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if ((table_q32[mid] >> sh) < q)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int lvc_scale_index_q(int32_t scale_q, int frac_bits)
{
    return lvc_scale_index_q_table(lvc_scale_table_q32, LVC_SCALE_TABLE_SIZE, scale_q,
                                   frac_bits);
}

void lvc_mean_split_q(int32_t mean_q, int frac_bits, int nfrac, int32_t *int_part,
                      int *frac_idx)
{
    if (frac_bits < 0 || frac_bits > 30 || nfrac < 1 || nfrac > 64) {
        *int_part = 0;
        *frac_idx = 0;
        return;
    }
    /* t = round(mean * nfrac) with halves rounded up, then floor division
     * by nfrac; all exact in 64 bits, no reliance on signed shifts. */
    const int64_t one = (int64_t)1 << frac_bits;
    int64_t num = (int64_t)mean_q * nfrac + one / 2;
    int64_t t = num >= 0 ? num / one : -((-num + one - 1) / one);
    int64_t ip = t >= 0 ? t / nfrac : -((-t + nfrac - 1) / nfrac);
    *int_part = (int32_t)ip;
    *frac_idx = (int)(t - ip * nfrac);
}

void lvc_scale_index_q_array(const int32_t *scale_q, int32_t *idx, size_t n, int frac_bits)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = lvc_scale_index_q(scale_q[i], frac_bits);
}
