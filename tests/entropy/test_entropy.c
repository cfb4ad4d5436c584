/*
 * Unit tests for entropy/: CDF construction, rANS round trips (random
 * tables, escapes, raw bits, batches), compression efficiency, robustness
 * against truncated and corrupted input, frozen table hashes, the scale
 * index function and the adaptive model.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "entropy/adaptive.h"
#include "entropy/cdf.h"
#include "entropy/detmath.h"
#include "entropy/rans.h"

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 1; }
static uint64_t rng64(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static uint32_t rng32(void) { return (uint32_t)(rng64() >> 32); }
static uint32_t rng_below(uint32_t n) { return (uint32_t)(((uint64_t)rng32() * n) >> 32); }

/* A value distributed as table t itself: a uniform slot picks the symbol;
 * the escape picks a value beyond the range, sometimes far, sometimes at
 * the int32 limits. */
static int32_t sample(const LvcCdf *t)
{
    uint32_t slot = rng_below(1u << t->prec);
    int s = lvc_cdf_find(t, slot);
    if (s < t->nsym - 1)
        return t->offset + s;
    int64_t lo = t->offset, hi = (int64_t)t->offset + t->nsym - 2;
    switch (rng_below(6)) {
    case 0: return INT32_MIN;
    case 1: return INT32_MAX;
    case 2: if (lo > INT32_MIN) return (int32_t)(lo - 1 - rng_below(5)); /* fall through */
    case 3: if (hi < INT32_MAX - 10) return (int32_t)(hi + 1 + rng_below(5)); /* fall through */
    default: {
        int32_t v = (int32_t)rng32();
        return v >= lo && v <= hi ? INT32_MIN : v;
    }
    }
}

static void random_table(LvcCdf *t)
{
    int prec = 1 + (int)rng_below(16);
    int maxn = 1 << prec;
    if (maxn > 3000)
        maxn = 3000;
    int nsym = 1 + (int)rng_below((uint32_t)maxn);
    uint64_t *w = malloc((size_t)nsym * sizeof(*w));
    int kind = (int)rng_below(3);
    for (int i = 0; i < nsym; i++)
        w[i] = kind == 0 ? rng_below(1000) : kind == 1 ? (rng_below(8) ? 0 : rng64() >> 24)
                                                      : (uint64_t)1 << rng_below(40);
    int32_t offset = (int32_t)rng_below(2000) - 1000;
    if (rng_below(10) == 0)
        offset = INT32_MIN;
    if (rng_below(10) == 0)
        offset = INT32_MAX - nsym + 2 - (int32_t)rng_below(3);
    int lb = rng_below(3) == 0 ? 0 : (int)rng_below(17);
    ck_assert_int_eq(lvc_cdf_from_weights(t, w, nsym, offset, prec, lb), 0);
    free(w);
}

static void check_table(const LvcCdf *t)
{
    ck_assert_uint_eq(t->cdf[0], 0);
    ck_assert_uint_eq(t->cdf[t->nsym], 1u << t->prec);
    for (int i = 0; i < t->nsym; i++)
        ck_assert_uint_lt(t->cdf[i], t->cdf[i + 1]);
    if (t->lookup)
        for (uint32_t slot = 0; slot < (1u << t->prec); slot += 1 + (slot & 7)) {
            int s = lvc_cdf_find(t, slot);
            ck_assert(t->cdf[s] <= slot && slot < t->cdf[s + 1]);
        }
}

/* ------------------------------------------------------------ cdf */

START_TEST(test_quantize)
{
    uint32_t cdf[70000];
    uint64_t w[65536];
    /* Equal weights: uniform. */
    for (int i = 0; i < 16; i++)
        w[i] = 7;
    ck_assert_int_eq(lvc_cdf_quantize(w, 16, 8, cdf), 0);
    for (int i = 0; i <= 16; i++)
        ck_assert_uint_eq(cdf[i], (uint32_t)i * 16);
    /* All zero: uniform too. */
    memset(w, 0, sizeof(w));
    ck_assert_int_eq(lvc_cdf_quantize(w, 4, 4, cdf), 0);
    ck_assert_uint_eq(cdf[1], 4);
    /* Alphabet filling the whole range: every frequency is 1. */
    w[0] = 1000000;
    ck_assert_int_eq(lvc_cdf_quantize(w, 65536, 16, cdf), 0);
    for (int i = 0; i < 65536; i++)
        ck_assert_uint_eq(cdf[i + 1] - cdf[i], 1);
    /* Floors of 1 overshoot: one huge weight, many tiny ones. */
    for (int i = 0; i < 3000; i++)
        w[i] = i == 1500 ? LVC_CDF_MAX_WEIGHT : 1;
    ck_assert_int_eq(lvc_cdf_quantize(w, 3000, 12, cdf), 0);
    ck_assert_uint_eq(cdf[3000], 4096);
    ck_assert_uint_eq(cdf[1501] - cdf[1500], 4096 - 2999);
    /* Exact shares stay exact; rounding moves each share by < 1 unit. */
    rng_seed(1);
    for (int rep = 0; rep < 200; rep++) {
        int prec = 1 + (int)rng_below(16);
        int n = 1 + (int)rng_below(1u << (prec < 12 ? prec : 12));
        uint64_t tot = 0;
        for (int i = 0; i < n; i++)
            tot += (w[i] = rng_below(4) ? rng64() >> (24 + rng_below(40)) : 0);
        ck_assert_int_eq(lvc_cdf_quantize(w, n, prec, cdf), 0);
        ck_assert_uint_eq(cdf[n], 1u << prec);
        int clamped = 0;
        for (int i = 0; i < n; i++) {
            ck_assert_uint_ge(cdf[i + 1] - cdf[i], 1);
            if (tot && (w[i] << prec) / tot == 0)
                clamped = 1;
        }
        if (!clamped && tot)
            for (int i = 0; i < n; i++) {
                double share = (double)w[i] * (1u << prec) / (double)tot;
                ck_assert(fabs((cdf[i + 1] - cdf[i]) - share) < 1.0 + 1e-9);
            }
    }
    w[0] = LVC_CDF_MAX_WEIGHT + 1;
    ck_assert_int_eq(lvc_cdf_quantize(w, 2, 8, cdf), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_cdf_quantize(w, 300, 8, cdf), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_cdf_quantize(w, 2, 17, cdf), LVC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_cdf_init_validation)
{
    LvcCdf t;
    const uint32_t good[] = { 0, 10, 11, 256 };
    ck_assert_int_eq(lvc_cdf_init(&t, good, 3, -1, 8, 4), 0);
    check_table(&t);
    ck_assert_int_eq(lvc_cdf_find(&t, 10), 1);
    ck_assert_int_eq(lvc_cdf_find(&t, 255), 2);
    lvc_cdf_free(&t);
    const uint32_t flat[] = { 0, 10, 10, 256 };
    ck_assert_int_eq(lvc_cdf_init(&t, flat, 3, 0, 8, 4), LVC_ERR_CORRUPT);
    ck_assert_ptr_null(t.cdf);
    const uint32_t badend[] = { 0, 10, 11, 255 };
    ck_assert_int_eq(lvc_cdf_init(&t, badend, 3, 0, 8, 4), LVC_ERR_CORRUPT);
    ck_assert_int_eq(lvc_cdf_init(&t, good, 3, INT32_MAX, 8, 4), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_cdf_init(&t, good, 3, 0, 0, 4), LVC_ERR_INVALID_ARG);
    double pmf[3] = { 0.5, NAN, 0.1 };
    ck_assert_int_eq(lvc_cdf_from_pmf(&t, pmf, 3, 0, 8, 0), LVC_ERR_INVALID_ARG);
    pmf[1] = -1;
    ck_assert_int_eq(lvc_cdf_from_pmf(&t, pmf, 3, 0, 8, 0), LVC_ERR_INVALID_ARG);
    pmf[1] = 0.25;
    ck_assert_int_eq(lvc_cdf_from_pmf(&t, pmf, 3, 0, 8, 0), 0);
    ck_assert_uint_eq(t.cdf[1], 151); /* 0.5/0.85 * 256 = 150.6, largest remainder */
    lvc_cdf_free(&t);
}
END_TEST

START_TEST(test_detmath)
{
    /* Within a tight bound of libm (the values only need to be stable, but
     * they should also be right). */
    for (double x = -700; x < 700; x += 0.37)
        ck_assert(fabs(lvc_det_exp(x) / exp(x) - 1) < 1e-15);
    for (double x = -5; x < 25; x += 0.0131) {
        double r = lvc_det_erfc(x), ref = erfc(x);
        ck_assert_msg(fabs(r / ref - 1) < 1e-12, "erfc(%g) %g vs %g", x, r, ref);
    }
    ck_assert(lvc_det_exp(1000) == HUGE_VAL);
    ck_assert(lvc_det_exp(-1000) == 0);
    ck_assert(fabs(lvc_det_normal_q(0) - 0.5) < 1e-16);
}
END_TEST

START_TEST(test_parametric_tables)
{
    for (int dist = 0; dist < 2; dist++) {
        LvcCdfSet s;
        ck_assert_int_eq(lvc_cdf_set_default(&s, (LvcDist)dist, 16), 0);
        ck_assert_int_eq(s.n, 64);
        for (int i = 0; i < s.n; i++) {
            const LvcCdf *t = &s.tables[i];
            check_table(t);
            int r = -t->offset;
            ck_assert_int_eq(t->nsym, 2 * r + 2);
            /* Symmetric around 0 up to the rounding of one unit (ties of
             * the quantizer go to the lower index), mode at 0. */
            for (int k = 1; k <= r; k++) {
                int64_t a = t->cdf[r + k + 1] - t->cdf[r + k], b = t->cdf[r - k + 1] - t->cdf[r - k];
                ck_assert_int_le(llabs(a - b), 1);
            }
            ck_assert_uint_ge(t->cdf[r + 1] - t->cdf[r], t->cdf[r + 2] - t->cdf[r + 1]);
            if (i > 0)
                ck_assert_int_ge(t->nsym, s.tables[i - 1].nsym);
        }
        /* Gaussian: r = ceil(6.109 scale): 0.11 -> 1, 256 -> 1565. */
        if (dist == 0) {
            ck_assert_int_eq(s.tables[0].offset, -1);
            ck_assert_int_eq(s.tables[63].offset, -1565);
        }
        lvc_cdf_set_free(&s);
    }
    LvcCdf t;
    ck_assert_int_eq(lvc_cdf_parametric(&t, LVC_DIST_GAUSSIAN, 0, 1e-9, 16, 8), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_cdf_parametric(&t, LVC_DIST_GAUSSIAN, 1ull << 32, 0.7, 16, 8), LVC_ERR_INVALID_ARG);
    /* Low precision caps the range at nsym <= 2^(prec-1). */
    ck_assert_int_eq(lvc_cdf_parametric(&t, LVC_DIST_GAUSSIAN, 256ull << 32, 1e-9, 8, 8), 0);
    ck_assert_int_le(t.nsym, 128);
    check_table(&t);
    lvc_cdf_free(&t);
}
END_TEST

/* Hashes of every integer of the default tables. A change here changes the
 * bitstream: it must be deliberate (and the format version bumped). */
static const char *const FROZEN_HASH[2][2] = {
    /* prec 16, prec 12 */
    { "8589a70ca429c61338d36b2449055e84fe8b9994a7857eae88bada2d63e524f0",
      "7067e7ef0186f6b077f344feb69c77f83a825f0f9167a5925fe66b3164557245" },
    { "7ffb0865b1125c573e71ed13a5412db299e7a5e004ac4df602189203b1de6b00",
      "3ebaeeb654fa57f292bec907822265f3b7b9b8f4e10d0c998408e14c98db16e5" },
};

START_TEST(test_table_hash_frozen)
{
    char got[2][2][65];
    for (int dist = 0; dist < 2; dist++)
        for (int k = 0; k < 2; k++) {
            LvcCdfSet s;
            ck_assert_int_eq(lvc_cdf_set_default(&s, (LvcDist)dist, k ? 12 : 16), 0);
            uint8_t h[32];
            char hex[65];
            lvc_cdf_set_hash(&s, h);
            lvc_hex_encode(h, 32, hex);
            if (getenv("LVC_PRINT_HASH"))
                printf("dist %d prec %d: %s\n", dist, k ? 12 : 16, hex);
            strcpy(got[dist][k], hex);
            lvc_cdf_set_free(&s);
        }
    for (int dist = 0; dist < 2; dist++)
        for (int k = 0; k < 2; k++)
            ck_assert_msg(!strcmp(got[dist][k], FROZEN_HASH[dist][k]),
                          "dist %d prec %d: table hash %s", dist, k ? 12 : 16, got[dist][k]);
}
END_TEST

START_TEST(test_mean_tables)
{
    enum { NF = 4 };
    LvcCdfSet plain, mean;
    ck_assert_int_eq(lvc_cdf_set_default(&plain, LVC_DIST_GAUSSIAN, 16), 0);
    ck_assert_int_eq(lvc_cdf_set_parametric_mean(&mean, LVC_DIST_GAUSSIAN, lvc_scale_table_q32,
                                                 LVC_SCALE_TABLE_SIZE, NF, LVC_DEFAULT_TAIL_MASS,
                                                 16, LVC_CDF_LOOKUP_BITS), 0);
    ck_assert_int_eq(mean.n, 64 * NF);
    for (int i = 0; i < 64; i++) {
        /* Fraction 0 is the plain table. */
        const LvcCdf *p0 = &plain.tables[i], *m0 = &mean.tables[i * NF];
        ck_assert_int_eq(p0->nsym, m0->nsym);
        ck_assert_int_eq(p0->offset, m0->offset);
        ck_assert_mem_eq(p0->cdf, m0->cdf, (size_t)(p0->nsym + 1) * 4);
        for (int f = 1; f < NF; f++) {
            const LvcCdf *t = &mean.tables[i * NF + f], *u = &mean.tables[i * NF + NF - f];
            check_table(t);
            ck_assert_int_eq(t->nsym, p0->nsym + 1);
            /* Mean f/NF and 1 - f/NF are mirror images about 1/2. */
            for (int k = t->offset; k <= t->offset + t->nsym - 2; k++) {
                int a = k - t->offset, b = (1 - k) - u->offset;
                int64_t fa = t->cdf[a + 1] - t->cdf[a], fb = u->cdf[b + 1] - u->cdf[b];
                ck_assert_int_le(llabs(fa - fb), 1);
            }
        }
        /* The mode follows the mean: at 3/4, 1 beats 0 (clearly so for
         * moderate scales; for wide ones both round alike). */
        double sc = ldexp((double)lvc_scale_table_q32[i], -32);
        const LvcCdf *t3 = &mean.tables[i * NF + 3];
        int z = -t3->offset;
        uint32_t f1 = t3->cdf[z + 2] - t3->cdf[z + 1], f0 = t3->cdf[z + 1] - t3->cdf[z];
        if (sc >= 0.5 && sc <= 8)
            ck_assert_uint_gt(f1, f0);
        ck_assert_uint_ge(f1, f0);
    }
    uint8_t h[32];
    char hex[65];
    lvc_cdf_set_hash(&mean, h);
    lvc_hex_encode(h, 32, hex);
    if (getenv("LVC_PRINT_HASH"))
        printf("mean tables: %s\n", hex);
    ck_assert_str_eq(hex, "646c4fe0f3e2ceaebd09763066d177fb354a8f7d7b027672c9da81a859a4d9cb");

    /* lvc_mean_split_q against a double reference. */
    rng_seed(21);
    for (int rep = 0; rep < 20000; rep++) {
        int F = (int)rng_below(13);
        int32_t mq = (int32_t)rng32() >> rng_below(20);
        int32_t ip;
        int fi;
        lvc_mean_split_q(mq, F, NF, &ip, &fi);
        double t = floor(ldexp((double)mq, -F) * NF + 0.5);
        ck_assert_int_eq((int64_t)ip * NF + fi, (int64_t)t);
        ck_assert(fi >= 0 && fi < NF);
    }

    /* Round trip with integer means and scales. */
    enum { N = 20000 };
    int32_t *idx = malloc(N * sizeof(*idx)), *val = malloc(N * sizeof(*val));
    int32_t *sym = malloc(N * sizeof(*sym)), *out = malloc(N * sizeof(*out));
    int32_t *ip = malloc(N * sizeof(*ip));
    for (int i = 0; i < N; i++) {
        int32_t mq = (int32_t)rng_below(1 << 12) - (1 << 11); /* 8 fractional bits */
        int32_t sq = (int32_t)rng_below(1 << 14);
        int fi;
        lvc_mean_split_q(mq, 8, NF, &ip[i], &fi);
        idx[i] = lvc_scale_index_q(sq, 8) * NF + fi;
        val[i] = ip[i] + sample(&mean.tables[idx[i]]);
        sym[i] = val[i] - ip[i];
    }
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    ck_assert_int_eq(lvc_rans_enc_put_indexed(&e, &mean, idx, sym, N), 0);
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(lvc_rans_enc_finish_alloc(&e, &buf, &size), 0);
    LvcRansDec d;
    lvc_rans_dec_init(&d, buf, size);
    ck_assert_int_eq(lvc_rans_dec_get_indexed(&d, &mean, idx, out, N), 0);
    ck_assert_int_eq(lvc_rans_dec_finish(&d), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(out[i] + ip[i], val[i]);
    free(buf);
    lvc_rans_enc_free(&e);
    free(idx);
    free(val);
    free(sym);
    free(out);
    free(ip);
    lvc_cdf_set_free(&plain);
    lvc_cdf_set_free(&mean);
}
END_TEST

START_TEST(test_scale_index)
{
    /* Against the definition, evaluated exactly in binary64: the table
     * values are Q32 integers (exact in a double) and scale_q / 2^F too. */
    rng_seed(7);
    for (int F = 0; F <= 31; F++)
        for (int rep = 0; rep < 3000; rep++) {
            int32_t q;
            if (rep < 64 * 3) {
                /* Right at, below and above every threshold. */
                double th = ldexp((double)lvc_scale_table_q32[rep / 3], F - 32);
                double v = floor(th) + (rep % 3) - 1 + (th == floor(th));
                if (v > INT32_MAX || v < INT32_MIN)
                    continue;
                q = (int32_t)v;
            } else {
                q = (int32_t)(rng32() >> rng_below(32));
            }
            double sc = ldexp((double)q, -F);
            int ref = 0;
            for (int i = 0; i < LVC_SCALE_TABLE_SIZE - 1; i++)
                ref += ldexp((double)lvc_scale_table_q32[i], -32) < sc;
            ck_assert_int_eq(lvc_scale_index_q(q, F), ref);
        }
    ck_assert_int_eq(lvc_scale_index_q(0, 8), 0);
    ck_assert_int_eq(lvc_scale_index_q(-5, 8), 0);
    ck_assert_int_eq(lvc_scale_index_q(INT32_MAX, 0), 63);
    ck_assert_int_eq(lvc_scale_index_q(1, 0), 18); /* 18 scales < 1: 0.11 .. 0.91 */
    int32_t sq[3] = { 0, 256, 1 << 20 }, idx[3];
    lvc_scale_index_q_array(sq, idx, 3, 8);
    ck_assert_int_eq(idx[0], 0);
    ck_assert_int_eq(idx[1], 18);
    ck_assert_int_eq(idx[2], 63);
}
END_TEST

/* ------------------------------------------------------------ rans */

enum { OP_VALUE, OP_BITS, OP_INDEXED };

START_TEST(test_rans_roundtrip_random)
{
    rng_seed(42 + (uint64_t)_i);
    enum { NT = 12, MAXOPS = 6000 };
    LvcCdf tables[NT];
    LvcCdfSet set = { NT, tables };
    for (int i = 0; i < NT; i++) {
        random_table(&tables[i]);
        check_table(&tables[i]);
    }
    int n = (int)rng_below(MAXOPS);
    int *kind = malloc(sizeof(int) * MAXOPS), *tab = malloc(sizeof(int) * MAXOPS);
    int32_t *val = malloc(sizeof(int32_t) * MAXOPS), *out = malloc(sizeof(int32_t) * MAXOPS);
    for (int i = 0; i < n; i++) {
        kind[i] = (int)rng_below(10) == 0 ? OP_BITS : rng_below(2) ? OP_INDEXED : OP_VALUE;
        if (kind[i] == OP_BITS) {
            tab[i] = (int)rng_below(17); /* nbits */
            val[i] = (int32_t)(rng32() & ((1u << tab[i]) - 1));
        } else {
            tab[i] = (int)rng_below(NT);
            val[i] = sample(&tables[tab[i]]);
        }
    }
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    for (int i = 0; i < n;) {
        if (kind[i] == OP_BITS) {
            ck_assert_int_eq(lvc_rans_enc_put_bits(&e, (uint32_t)val[i], tab[i]), 0);
            i++;
            continue;
        }
        int j = i;
        while (j < n && kind[j] == kind[i])
            j++;
        if (kind[i] == OP_INDEXED) {
            ck_assert_int_eq(lvc_rans_enc_put_indexed(&e, &set, tab + i, val + i, (size_t)(j - i)), 0);
        } else {
            for (int k = i; k < j; k++)
                ck_assert_int_eq(lvc_rans_enc_put(&e, &tables[tab[k]], val[k]), 0);
        }
        i = j;
    }
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(lvc_rans_enc_finish_alloc(&e, &buf, &size), 0);
    ck_assert_uint_le(size, lvc_rans_enc_bound(&e));

    LvcRansDec d;
    ck_assert_int_eq(lvc_rans_dec_init(&d, buf, size), 0);
    for (int i = 0; i < n;) {
        if (kind[i] == OP_BITS) {
            ck_assert_uint_eq(lvc_rans_dec_get_bits(&d, tab[i]), (uint32_t)val[i]);
            i++;
            continue;
        }
        int j = i;
        while (j < n && kind[j] == kind[i])
            j++;
        if (kind[i] == OP_INDEXED) {
            ck_assert_int_eq(lvc_rans_dec_get_indexed(&d, &set, tab + i, out + i, (size_t)(j - i)), 0);
            for (int k = i; k < j; k++)
                ck_assert_int_eq(out[k], val[k]);
        } else {
            for (int k = i; k < j; k++)
                ck_assert_int_eq(lvc_rans_dec_get(&d, &tables[tab[k]]), val[k]);
        }
        i = j;
    }
    ck_assert_int_eq(lvc_rans_dec_status(&d), 0);
    ck_assert_int_eq(lvc_rans_dec_finish(&d), 0);

    free(buf);
    lvc_rans_enc_free(&e);
    for (int i = 0; i < NT; i++)
        lvc_cdf_free(&tables[i]);
    free(kind);
    free(tab);
    free(val);
    free(out);
}
END_TEST

/* A frozen stream: the encoder must keep producing these bytes and the
 * decoder must keep reading them (format stability). The same bytes come
 * from an independent encoder written from doc/entropy.md,
 * tests/entropy/rans_golden.py (which, with --states 4, gives the bytes
 * format version 1 froze here). */
START_TEST(test_rans_golden)
{
    static const uint8_t golden[24] = {
        0x5e, 0xfc, 0x06, 0x00, 0xfb, 0xa8, 0xc2, 0xbf, 0xd3, 0x34, 0x9d, 0x86,
        0x3f, 0xef, 0xfd, 0xff, 0xff, 0xff, 0x7f, 0xaf, 0xff, 0x3f, 0x26, 0x7b,
    };
    const uint32_t c[] = { 0, 3, 10, 30, 50, 60, 63, 64 }; /* values -3..2 + escape */
    const int32_t v[] = { 0, -1, 1, 0, 2, -3, 5, 0, -100000, INT32_MIN, INT32_MAX, 0, 1 };
    LvcCdf t;
    ck_assert_int_eq(lvc_cdf_init(&t, c, 7, -3, 6, 4), 0);
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    for (int i = 0; i < 13; i++) {
        lvc_rans_enc_put(&e, &t, v[i]);
        if (i == 4)
            lvc_rans_enc_put_bits(&e, 0x5a5, 11);
    }
    uint8_t buf[64];
    size_t size;
    ck_assert_int_eq(lvc_rans_enc_finish(&e, buf, sizeof(buf), &size), 0);
    ck_assert_uint_eq(size, sizeof(golden));
    ck_assert_mem_eq(buf, golden, sizeof(golden));
    LvcRansDec d;
    ck_assert_int_eq(lvc_rans_dec_init(&d, golden, sizeof(golden)), 0);
    for (int i = 0; i < 13; i++) {
        ck_assert_int_eq(lvc_rans_dec_get(&d, &t), v[i]);
        if (i == 4)
            ck_assert_uint_eq(lvc_rans_dec_get_bits(&d, 11), 0x5a5);
    }
    ck_assert_int_eq(lvc_rans_dec_finish(&d), 0);
    lvc_rans_enc_free(&e);
    lvc_cdf_free(&t);
}
END_TEST

START_TEST(test_rans_empty_and_one)
{
    LvcRansEnc e;
    uint8_t buf[64];
    size_t size;
    lvc_rans_enc_init(&e);
    ck_assert_int_eq(lvc_rans_enc_finish(&e, buf, sizeof(buf), &size), 0);
    ck_assert_uint_eq(size, LVC_RANS_HEADER_BYTES);
    LvcRansDec d;
    ck_assert_int_eq(lvc_rans_dec_init(&d, buf, size), 0);
    ck_assert_int_eq(lvc_rans_dec_finish(&d), 0);
    ck_assert_int_eq(lvc_rans_dec_get_indexed(&d, &(LvcCdfSet){ 0, NULL }, NULL, NULL, 0), 0);

    /* One value, with a table of a single regular symbol (and the escape),
     * and with a table of only the escape. */
    LvcCdf t1, t0;
    const uint32_t c1[] = { 0, 200, 256 }, c0[] = { 0, 2 };
    ck_assert_int_eq(lvc_cdf_init(&t1, c1, 2, 5, 8, 8), 0);
    ck_assert_int_eq(lvc_cdf_init(&t0, c0, 1, 0, 1, 1), 0);
    const int32_t vals[] = { 5, 4, 6, INT32_MIN, INT32_MAX, 0 };
    for (int k = 0; k < 6; k++)
        for (int which = 0; which < 2; which++) {
            const LvcCdf *t = which ? &t0 : &t1;
            lvc_rans_enc_reset(&e);
            ck_assert_int_eq(lvc_rans_enc_put(&e, t, vals[k]), 0);
            ck_assert_int_eq(lvc_rans_enc_finish(&e, buf, sizeof(buf), &size), 0);
            ck_assert_int_eq(lvc_rans_dec_init(&d, buf, size), 0);
            ck_assert_int_eq(lvc_rans_dec_get(&d, t), vals[k]);
            ck_assert_int_eq(lvc_rans_dec_finish(&d), 0);
        }
    /* A table of one regular symbol with no escape probability to speak of
     * costs (almost) nothing: 1000 values fit in the header plus a word. */
    const uint32_t c2[] = { 0, 65535, 65536 };
    LvcCdf t2;
    ck_assert_int_eq(lvc_cdf_init(&t2, c2, 2, 0, 16, 12), 0);
    lvc_rans_enc_reset(&e);
    for (int i = 0; i < 1000; i++)
        lvc_rans_enc_put(&e, &t2, 0);
    ck_assert_int_eq(lvc_rans_enc_finish(&e, buf, sizeof(buf), &size), 0);
    ck_assert_uint_le(size, LVC_RANS_HEADER_BYTES + 2);
    lvc_cdf_free(&t0);
    lvc_cdf_free(&t1);
    lvc_cdf_free(&t2);
    lvc_rans_enc_free(&e);
}
END_TEST

START_TEST(test_rans_buffer_full_and_errors)
{
    LvcCdfSet s;
    ck_assert_int_eq(lvc_cdf_set_default(&s, LVC_DIST_GAUSSIAN, 16), 0);
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    rng_seed(3);
    for (int i = 0; i < 500; i++)
        lvc_rans_enc_put(&e, &s.tables[40], sample(&s.tables[40]));
    size_t size, need;
    uint8_t *ref;
    ck_assert_int_eq(lvc_rans_enc_finish_alloc(&e, &ref, &need), 0);
    uint8_t *buf = malloc(need + 16);
    for (size_t cap = 0; cap <= need; cap += cap < 40 ? 1 : 97) {
        memset(buf, 0xa5, need + 16);
        int ret = lvc_rans_enc_finish(&e, buf, cap, &size);
        ck_assert_int_eq(ret, cap < need ? LVC_ERR_BUFFER_FULL : 0);
        for (size_t k = cap; k < need + 16; k++)
            ck_assert_uint_eq(buf[k], 0xa5);
    }
    ck_assert_int_eq(lvc_rans_enc_finish(&e, buf, need, &size), 0);
    ck_assert_uint_eq(size, need);
    ck_assert_mem_eq(buf, ref, need); /* finish is repeatable */

    /* Sticky argument errors. */
    ck_assert_int_eq(lvc_rans_enc_put_bits(&e, 0, 17), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_rans_enc_put(&e, &s.tables[0], 0), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_rans_enc_finish(&e, buf, need, &size), LVC_ERR_INVALID_ARG);
    lvc_rans_enc_reset(&e);
    int32_t idx[2] = { 0, 64 }, v[2] = { 0, 0 };
    ck_assert_int_eq(lvc_rans_enc_put_indexed(&e, &s, idx, v, 2), LVC_ERR_INVALID_ARG);
    ck_assert_uint_eq(e.nops, 0);
    lvc_rans_enc_reset(&e);
    ck_assert_int_eq(lvc_rans_enc_put_raw(&e, 10, 7, 4), LVC_ERR_INVALID_ARG);

    /* Decoder: a bad index is an error, values are zeroed. */
    LvcRansDec d;
    lvc_rans_dec_init(&d, ref, need);
    int32_t out[2] = { 9, 9 };
    ck_assert_int_eq(lvc_rans_dec_get_indexed(&d, &s, idx, out, 2), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(out[1], 0);

    /* Allocation failure while recording is reported, not a crash. */
    lvc_rans_enc_free(&e);
    lvc_rans_enc_init(&e);
    lvc_mem_fail_after(0);
    ck_assert_int_eq(lvc_rans_enc_put(&e, &s.tables[3], 1), LVC_ERR_NOMEM);
    ck_assert_int_eq(lvc_rans_enc_put(&e, &s.tables[3], 1), LVC_ERR_NOMEM);
    lvc_rans_enc_free(&e);

    free(buf);
    free(ref);
    lvc_cdf_set_free(&s);
}
END_TEST

/* 1 M symbols from mixed Gaussian tables: the stream must be within 1% of
 * the information content under the tables' own (quantized) probabilities. */
START_TEST(test_rans_efficiency)
{
    enum { N = 1000000 };
    LvcCdfSet s;
    ck_assert_int_eq(lvc_cdf_set_default(&s, LVC_DIST_GAUSSIAN, 16), 0);
    int32_t *idx = malloc(N * sizeof(*idx)), *val = malloc(N * sizeof(*val));
    int32_t *out = malloc(N * sizeof(*out));
    rng_seed(11);
    double ideal = 0;
    for (int i = 0; i < N; i++) {
        idx[i] = 10 + (int32_t)rng_below(54); /* scales 0.36 .. 256 */
        const LvcCdf *t = &s.tables[idx[i]];
        /* No escapes here: they carry raw bits outside the model. */
        do
            val[i] = sample(t);
        while (val[i] < t->offset || val[i] > t->offset + t->nsym - 2);
        int sym = val[i] - t->offset;
        ideal += t->prec - log2((double)(t->cdf[sym + 1] - t->cdf[sym]));
    }
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    ck_assert_int_eq(lvc_rans_enc_put_indexed(&e, &s, idx, val, N), 0);
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(lvc_rans_enc_finish_alloc(&e, &buf, &size), 0);
    double bits = 8.0 * (double)size;
    ck_assert_msg(bits <= ideal * 1.01, "%.0f bits vs ideal %.0f", bits, ideal);
    ck_assert_msg(bits >= ideal * 0.99, "%.0f bits vs ideal %.0f", bits, ideal);
    LvcRansDec d;
    lvc_rans_dec_init(&d, buf, size);
    ck_assert_int_eq(lvc_rans_dec_get_indexed(&d, &s, idx, out, N), 0);
    ck_assert_int_eq(lvc_rans_dec_finish(&d), 0);
    ck_assert_mem_eq(out, val, N * sizeof(*val));
    free(buf);
    lvc_rans_enc_free(&e);
    free(idx);
    free(val);
    free(out);
    lvc_cdf_set_free(&s);
}
END_TEST

/* Extreme scales with values deep in the tails and at the int32 limits. */
START_TEST(test_rans_extreme_scales)
{
    LvcCdfSet s;
    ck_assert_int_eq(lvc_cdf_set_default(&s, _i ? LVC_DIST_LAPLACE : LVC_DIST_GAUSSIAN, 16), 0);
    enum { N = 4000 };
    int32_t idx[N], val[N], out[N];
    rng_seed(5);
    for (int i = 0; i < N; i++) {
        idx[i] = rng_below(2) ? 0 : 63;
        switch (rng_below(8)) {
        case 0: val[i] = INT32_MIN + (int32_t)rng_below(3); break;
        case 1: val[i] = INT32_MAX - (int32_t)rng_below(3); break;
        case 2: val[i] = (int32_t)rng32(); break;
        case 3: val[i] = (int32_t)rng_below(4000) - 2000; break;
        default: val[i] = sample(&s.tables[idx[i]]);
        }
    }
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    ck_assert_int_eq(lvc_rans_enc_put_indexed(&e, &s, idx, val, N), 0);
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(lvc_rans_enc_finish_alloc(&e, &buf, &size), 0);
    LvcRansDec d;
    lvc_rans_dec_init(&d, buf, size);
    ck_assert_int_eq(lvc_rans_dec_get_indexed(&d, &s, idx, out, N), 0);
    ck_assert_int_eq(lvc_rans_dec_finish(&d), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(out[i], val[i]);
    free(buf);
    lvc_rans_enc_free(&e);
    lvc_cdf_set_free(&s);
}
END_TEST

/* A small stream: every truncation is detected, garbage and bit flips never
 * crash (run under ASan/UBSan in the sanitizer build). */
START_TEST(test_rans_truncation_and_garbage)
{
    LvcCdfSet s;
    ck_assert_int_eq(lvc_cdf_set_default(&s, LVC_DIST_GAUSSIAN, 16), 0);
    enum { N = 300 };
    int32_t idx[N], val[N], out[N];
    rng_seed(9);
    for (int i = 0; i < N; i++) {
        idx[i] = (int32_t)rng_below(64);
        val[i] = i % 50 == 7 ? (int32_t)rng32() : sample(&s.tables[idx[i]]);
    }
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    lvc_rans_enc_put_indexed(&e, &s, idx, val, N);
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(lvc_rans_enc_finish_alloc(&e, &buf, &size), 0);
    for (size_t len = 0; len < size; len++) {
        /* An exact-size copy so ASan sees any read past the end. */
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, buf, len);
        LvcRansDec d;
        lvc_rans_dec_init(&d, cut, len);
        lvc_rans_dec_get_indexed(&d, &s, idx, out, N);
        ck_assert_int_ne(lvc_rans_dec_finish(&d), 0);
        ck_assert_int_ne(lvc_rans_dec_status(&d), 0);
        free(cut);
    }
    /* Trailing garbage is caught by the end check. */
    uint8_t *longer = malloc(size + 2);
    memcpy(longer, buf, size);
    longer[size] = longer[size + 1] = 0;
    LvcRansDec d;
    lvc_rans_dec_init(&d, longer, size + 2);
    lvc_rans_dec_get_indexed(&d, &s, idx, out, N);
    ck_assert_int_eq(lvc_rans_dec_finish(&d), LVC_ERR_CORRUPT);
    free(longer);

    int detected = 0;
    for (int k = 0; k < 400; k++) {
        uint8_t *g = malloc(size);
        memcpy(g, buf, size);
        if (k < 200) {
            g[rng_below((uint32_t)size)] ^= (uint8_t)(1u << rng_below(8));
        } else {
            for (size_t b = 0; b < size; b++)
                g[b] = (uint8_t)rng32();
        }
        lvc_rans_dec_init(&d, g, size);
        lvc_rans_dec_get_indexed(&d, &s, idx, out, N);
        for (int i = 0; i < 20; i++)
            lvc_rans_dec_get_bits(&d, 16);
        detected += lvc_rans_dec_finish(&d) != 0;
        free(g);
    }
    ck_assert_int_ge(detected, 390);
    free(buf);
    lvc_rans_enc_free(&e);
    lvc_cdf_set_free(&s);
}
END_TEST

/* ------------------------------------------------------------ adaptive */

START_TEST(test_adaptive_roundtrip)
{
    const int sizes[] = { 2, 16, 300, 4096, 32768 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        int nsym = sizes[k];
        enum { N = 30000 };
        int32_t *sym = malloc(N * sizeof(*sym)), *out = malloc(N * sizeof(*out));
        rng_seed(100 + k);
        /* Skewed: geometric-like over a shifting centre. */
        for (int i = 0; i < N; i++) {
            uint32_t r = rng32();
            int v = (int)(__builtin_clz(r | 1) * 3 + (r & 3));
            sym[i] = (v + (i / 5000) * 7) % nsym;
        }
        LvcAdaptiveParams p;
        lvc_adaptive_default_params(&p, nsym);
        LvcAdaptive m;
        ck_assert_int_eq(lvc_adaptive_init(&m, &p), 0);
        LvcCdf fixed;
        const uint32_t c[] = { 0, 100, 256 };
        ck_assert_int_eq(lvc_cdf_init(&fixed, c, 2, 0, 8, 8), 0);
        LvcRansEnc e;
        lvc_rans_enc_init(&e);
        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(lvc_adaptive_encode(&m, &e, sym[i]), 0);
            if (i % 97 == 0) /* interleaved with other puts */
                lvc_rans_enc_put(&e, &fixed, i & 1);
        }
        ck_assert_int_eq(lvc_adaptive_encode(&m, &e, nsym), LVC_ERR_INVALID_ARG);
        e.err = 0;
        uint8_t *buf;
        size_t size;
        ck_assert_int_eq(lvc_rans_enc_finish_alloc(&e, &buf, &size), 0);
        /* Well below a flat code for these skewed symbols. */
        if (nsym >= 300)
            ck_assert_double_lt(8.0 * (double)size / N, 0.6 * log2(nsym));
        lvc_adaptive_reset(&m);
        LvcRansDec d;
        lvc_rans_dec_init(&d, buf, size);
        for (int i = 0; i < N; i++) {
            out[i] = lvc_adaptive_decode(&m, &d);
            if (i % 97 == 0)
                ck_assert_int_eq(lvc_rans_dec_get(&d, &fixed), i & 1);
        }
        ck_assert_int_eq(lvc_rans_dec_finish(&d), 0);
        ck_assert_mem_eq(out, sym, N * sizeof(*sym));

        /* Garbage into the adaptive decoder: no crash. */
        for (size_t b = 0; b < size; b++)
            buf[b] = (uint8_t)rng32();
        lvc_adaptive_reset(&m);
        lvc_rans_dec_init(&d, buf, size);
        lvc_adaptive_decode_array(&m, &d, out, N);
        for (int i = 0; i < N; i++)
            ck_assert(out[i] >= 0 && out[i] < nsym);

        free(buf);
        lvc_rans_enc_free(&e);
        lvc_cdf_free(&fixed);
        lvc_adaptive_free(&m);
        free(sym);
        free(out);
    }
    LvcAdaptiveParams p;
    LvcAdaptive m;
    lvc_adaptive_default_params(&p, 40000);
    ck_assert_int_eq(lvc_adaptive_init(&m, &p), LVC_ERR_INVALID_ARG);
    lvc_adaptive_default_params(&p, 4);
    const uint32_t init[4] = { 1, 0, 1, 1 };
    p.init_counts = init;
    ck_assert_int_eq(lvc_adaptive_init(&m, &p), LVC_ERR_INVALID_ARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("entropy");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_quantize);
    tcase_add_test(tc, test_cdf_init_validation);
    tcase_add_test(tc, test_detmath);
    tcase_add_test(tc, test_parametric_tables);
    tcase_add_test(tc, test_table_hash_frozen);
    tcase_add_test(tc, test_scale_index);
    tcase_add_test(tc, test_mean_tables);
    tcase_add_loop_test(tc, test_rans_roundtrip_random, 0, 40);
    tcase_add_test(tc, test_rans_golden);
    tcase_add_test(tc, test_rans_empty_and_one);
    tcase_add_test(tc, test_rans_buffer_full_and_errors);
    tcase_add_test(tc, test_rans_efficiency);
    tcase_add_loop_test(tc, test_rans_extreme_scales, 0, 2);
    tcase_add_test(tc, test_rans_truncation_and_garbage);
    tcase_add_test(tc, test_adaptive_roundtrip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
