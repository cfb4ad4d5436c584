/*
 * Integer CDF tables for the rANS coder, and their construction:
 * from integer weights or a pmf (factorized priors), and from discretized
 * Gaussian / Laplace distributions indexed by a scale table (conditional
 * priors). All constructions are deterministic: the same integers on every
 * machine (see detmath.h and doc/entropy.md).
 *
 * A table codes values offset .. offset+nsym-2 as symbols 0 .. nsym-2; the
 * last symbol, nsym-1, is the escape that announces an out-of-range value
 * (coded by the rANS layer). Every symbol, the escape included, has a
 * frequency of at least 1, so every int32 value is encodable.
 */
#ifndef LVC_ENTROPY_CDF_H
#define LVC_ENTROPY_CDF_H

#include <stddef.h>
#include <stdint.h>

#define LVC_CDF_MAX_PREC 16
/* Default width of the decoder's direct lookup (2^12 uint16 = 8 KiB per
 * table at precision >= 12; a table of lower precision gets a full one). */
#define LVC_CDF_LOOKUP_BITS 12
/* Largest weight accepted by lvc_cdf_from_weights (keeps products exact
 * in 64 bits). */
#define LVC_CDF_MAX_WEIGHT ((uint64_t)1 << 40)

typedef struct LvcCdf {
    int nsym;          /* symbols including the escape; 1 .. 2^prec */
    int32_t offset;    /* value of symbol 0 */
    int prec;          /* cdf[nsym] == 1 << prec; 1 .. 16 */
    int lookup_shift;  /* lookup[] is indexed by slot >> lookup_shift */
    uint32_t *cdf;     /* nsym+1 entries, cdf[0] = 0, strictly increasing */
    uint16_t *lookup;  /* first symbol of each lookup bucket; NULL: binary search */
} LvcCdf;

typedef struct LvcCdfSet {
    int n;
    LvcCdf *tables;
} LvcCdfSet;

/* ------------------------------------------------------------ tables
 * Constructors: on success t owns its arrays (release with lvc_cdf_free);
 * on failure t is zeroed. lookup_bits: 0 = no lookup (binary search),
 * otherwise the lookup has 2^min(prec, lookup_bits) entries.
 * Requirements: 1 <= prec <= 16, 1 <= nsym <= 2^prec, and offset+nsym-2
 * must not exceed INT32_MAX. Errors: LVC_ERR_INVALID_ARG, LVC_ERR_NOMEM. */

/* From a ready CDF (e.g. read from a model file): validated (cdf[0] = 0,
 * cdf[nsym] = 2^prec, strictly increasing; LVC_ERR_CORRUPT otherwise) and
 * copied. */
int lvc_cdf_init(LvcCdf *t, const uint32_t *cdf, int nsym, int32_t offset,
                 int prec, int lookup_bits);

/* From integer weights w[0..nsym-1] (the escape's weight is w[nsym-1]),
 * each <= LVC_CDF_MAX_WEIGHT; all-zero weights mean uniform. */
int lvc_cdf_from_weights(LvcCdf *t, const uint64_t *w, int nsym, int32_t offset,
                         int prec, int lookup_bits);

/* From a pmf of doubles (>= 0, finite, need not sum to 1): scaled exactly by
 * a power of two to integer weights, then as lvc_cdf_from_weights. */
int lvc_cdf_from_pmf(LvcCdf *t, const double *pmf, int nsym, int32_t offset,
                     int prec, int lookup_bits);

/* The quantizer under the constructors: frequencies proportional to w, each
 * >= 1, summing exactly to 2^prec, written as a CDF of nsym+1 entries into
 * cdf. Floor of the exact share, then the remaining units to the largest
 * remainders, or (when the floors of 1 overshoot) units taken back where
 * they cost the fewest bits. Pure integer arithmetic. */
int lvc_cdf_quantize(const uint64_t *w, int nsym, int prec, uint32_t *cdf);

void lvc_cdf_free(LvcCdf *t);

/* Symbol whose interval holds slot (slot < 2^prec). */
static inline int lvc_cdf_find(const LvcCdf *t, uint32_t slot)
{
    const uint32_t *c = t->cdf;
    uint32_t s;
    if (t->lookup) {
        s = t->lookup[slot >> t->lookup_shift];
        while (c[s + 1] <= slot)
            s++;
    } else {
        uint32_t lo = 0, hi = (uint32_t)t->nsym;
        while (hi - lo > 1) {
            uint32_t mid = (lo + hi) >> 1;
            if (c[mid] <= slot)
                lo = mid;
            else
                hi = mid;
        }
        s = lo;
    }
    return (int)s;
}

/* Ideal cost in bits of coding value with t (escape payload included);
 * an estimate for rate decisions, computed with libm (not deterministic). */
double lvc_cdf_cost_bits(const LvcCdf *t, int32_t value);

/* ------------------------------------------------------------ sets */

/* n zeroed tables; on failure s is zeroed. Release with lvc_cdf_set_free. */
int lvc_cdf_set_alloc(LvcCdfSet *s, int n);
/* Frees every table and zeroes s. Safe on a zeroed set. */
void lvc_cdf_set_free(LvcCdfSet *s);
/* SHA-256 over every table: per table nsym, offset, prec (u32 LE each)
 * then the nsym+1 CDF entries (u32 LE). Lookups are not hashed (derived). */
void lvc_cdf_set_hash(const LvcCdfSet *s, uint8_t out[32]);

/* ------------------------------------------------------------ parametric */

typedef enum LvcDist {
    LVC_DIST_GAUSSIAN = 0, /* scale = standard deviation */
    LVC_DIST_LAPLACE  = 1, /* scale = b, the Laplace diversity (std = b*sqrt2) */
} LvcDist;

/* The default scale table: 64 scales log-spaced from 0.11 to 256
 * (CompressAI's get_scale_table()), frozen as exact Q32 fixed-point
 * integers: scale_i = lvc_scale_table_q32[i] / 2^32. */
#define LVC_SCALE_TABLE_SIZE 64
extern const uint64_t lvc_scale_table_q32[LVC_SCALE_TABLE_SIZE];
#define LVC_DEFAULT_TAIL_MASS 1e-9
#define LVC_DEFAULT_PARAM_PREC 16

/* One discretized distribution centred on 0 with the given scale
 * (scale_q32 / 2^32, > 0): symbols for k in [-r, r] with r =
 * ceil(scale * m), where m solves 2 Q(m) = tail_mass for the standardized
 * distribution (capped so that nsym <= 2^(prec-1)), plus the escape, which
 * gets the tail mass 2 Q((r + 0.5)/scale). p(k) = P(k-1/2 < X < k+1/2).
 * tail_mass in (0, 0.5). */
int lvc_cdf_parametric(LvcCdf *t, LvcDist dist, uint64_t scale_q32, double tail_mass,
                       int prec, int lookup_bits);

/* One table per scale of scales_q32[0..n-1] (increasing, as the index
 * functions below assume). On failure s is zeroed. */
int lvc_cdf_set_parametric(LvcCdfSet *s, LvcDist dist, const uint64_t *scales_q32,
                           int n, double tail_mass, int prec, int lookup_bits);

/* Mean-offset tables: for every scale i and every mean fraction
 * f / nfrac (f = 0 .. nfrac-1, 1 <= nfrac <= 64), the table of
 * X - floor(mean) with X ~ D(mean, scale), at index i * nfrac + f. Values
 * cover [-r, r + 1] (f > 0) and the escape holds both tails. With nfrac = 1
 * this is lvc_cdf_set_parametric (whose tables equal the f = 0 ones). */
int lvc_cdf_set_parametric_mean(LvcCdfSet *s, LvcDist dist, const uint64_t *scales_q32,
                                int nscales, int nfrac, double tail_mass, int prec,
                                int lookup_bits);

/* Splits an integer mean mean_q / 2^frac_bits (0 <= frac_bits <= 30) for
 * the mean-offset tables: round(mean * nfrac) = *int_part * nfrac +
 * *frac_idx with 0 <= *frac_idx < nfrac (halves round up). Code
 * value - *int_part with table scale_index * nfrac + *frac_idx. Integer
 * only. */
void lvc_mean_split_q(int32_t mean_q, int frac_bits, int nfrac, int32_t *int_part,
                      int *frac_idx);

/* The usual set: default scale table, tail mass 1e-9, the given precision
 * (LVC_DEFAULT_PARAM_PREC = 16 normally), default lookup. */
int lvc_cdf_set_default(LvcCdfSet *s, LvcDist dist, int prec);

/* Table index for an integer scale prediction scale_q / 2^frac_bits
 * (0 <= frac_bits <= 31): the number of entries of the default table,
 * excluding the last, strictly less than it (CompressAI's build_indexes).
 * Integer only. Non-positive scales give 0. */
int lvc_scale_index_q(int32_t scale_q, int frac_bits);
/* Same against any increasing Q32 table of n entries. */
int lvc_scale_index_q_table(const uint64_t *table_q32, int n, int32_t scale_q,
                            int frac_bits);
/* Batch form over the default table. */
void lvc_scale_index_q_array(const int32_t *scale_q, int32_t *idx, size_t n,
                             int frac_bits);

#endif /* LVC_ENTROPY_CDF_H */
