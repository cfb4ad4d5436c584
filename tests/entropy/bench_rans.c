/*
 * rANS throughput: encode (record + finish) and decode of 1 M symbols for a
 * few distributions, single thread, best of several runs. Prints figures;
 * asserts only that the round trip is exact.
 *
 *   bench_rans [nsymbols]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lvc/lvc.h"
#include "common/mem.h"
#include "entropy/cdf.h"
#include "entropy/rans.h"

static uint64_t rng_state = 0x1234567;
static uint32_t rng32(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

/* Thread CPU time: on a loaded machine wall time mostly measures the
 * scheduler; CPU time of this thread measures the coder. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int32_t sample(const LvcCdf *t)
{
    uint32_t slot = rng32() >> (32 - t->prec);
    int s = lvc_cdf_find(t, slot);
    return s < t->nsym - 1 ? t->offset + s : t->offset - 1 - (int32_t)(rng32() & 15);
}

static int run(const char *name, const LvcCdfSet *set, const int32_t *idx, size_t n)
{
    int32_t *val = malloc(n * sizeof(*val)), *out = malloc(n * sizeof(*out));
    if (!val || !out)
        return 1;
    for (size_t i = 0; i < n; i++)
        val[i] = sample(&set->tables[idx[i]]);
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    uint8_t *buf = NULL;
    size_t size = 0;
    double tenc = 1e9, tdec = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        free(buf);
        lvc_rans_enc_reset(&e);
        double t0 = now();
        int ret = lvc_rans_enc_put_indexed(&e, set, idx, val, n);
        if (!ret)
            ret = lvc_rans_enc_finish_alloc(&e, &buf, &size);
        double t1 = now();
        if (ret) {
            fprintf(stderr, "%s: encode failed: %s\n", name, lvc_error_string(ret));
            return 1;
        }
        tenc = t1 - t0 < tenc ? t1 - t0 : tenc;
        LvcRansDec d;
        t0 = now();
        lvc_rans_dec_init(&d, buf, size);
        lvc_rans_dec_get_indexed(&d, set, idx, out, n);
        ret = lvc_rans_dec_finish(&d);
        t1 = now();
        tdec = t1 - t0 < tdec ? t1 - t0 : tdec;
        if (ret || memcmp(out, val, n * sizeof(*val))) {
            fprintf(stderr, "%s: round trip mismatch\n", name);
            return 1;
        }
    }
    printf("%-26s %6.3f bits/sym  encode %7.1f Msym/s %7.1f MB/s  decode %7.1f Msym/s %7.1f MB/s\n",
           name, 8.0 * (double)size / (double)n, n / tenc * 1e-6, size / tenc * 1e-6,
           n / tdec * 1e-6, size / tdec * 1e-6);
    free(buf);
    lvc_rans_enc_free(&e);
    free(val);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    int32_t *idx = calloc(n ? n : 1, sizeof(*idx));
    if (!idx)
        return 1;
    int fail = 0;
    printf("rANS, %zu symbols, 1 thread, best of 5, thread CPU time\n", n);
    const int precs[] = { 16, 12, 10 };
    for (int pi = 0; pi < 3; pi++) {
        int prec = precs[pi];
        const double scales[] = { 1, 4, 32 };
        for (int k = 0; k < 3; k++) {
            LvcCdfSet one;
            uint64_t q = (uint64_t)(scales[k] * 4294967296.0);
            if (lvc_cdf_set_parametric(&one, LVC_DIST_GAUSSIAN, &q, 1, LVC_DEFAULT_TAIL_MASS,
                                       prec, LVC_CDF_LOOKUP_BITS))
                return 1;
            char name[64];
            snprintf(name, sizeof(name), "gauss s=%g prec=%d", scales[k], prec);
            memset(idx, 0, n * sizeof(*idx));
            fail |= run(name, &one, idx, n);
            lvc_cdf_set_free(&one);
        }
        LvcCdfSet set;
        if (lvc_cdf_set_default(&set, LVC_DIST_GAUSSIAN, prec))
            return 1;
        for (size_t i = 0; i < n; i++)
            idx[i] = (int32_t)(rng32() % 48); /* scales 0.11 .. 50 */
        char name[64];
        snprintf(name, sizeof(name), "gauss mixed idx prec=%d", prec);
        fail |= run(name, &set, idx, n);
        lvc_cdf_set_free(&set);
    }
    free(idx);
    return fail;
}
