/*
 * Fuzz target: the rANS decoder and the CDF constructors.
 *
 * The first byte picks a mode. Both modes first build up to four tables
 * from the input (symbol count, precision, offset, weights; with and
 * without the direct lookup), plus the default Gaussian set for indexed
 * gets.
 *   even: decode -- the rest of the input is a rANS stream; decode a number
 *         of symbols (tables, raw bits, adaptive model, indexed) and check
 *         the end of stream. Must never read outside the buffer (ASan) and
 *         must report an error code from the documented set.
 *   odd:  round trip -- the rest of the input gives values (any int32,
 *         escapes included) and raw bits; encode, decode, and the decoded
 *         values must equal the encoded ones with a clean finish.
 */
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/log.h"
#include "common/mem.h"
#include "entropy/adaptive.h"
#include "entropy/cdf.h"
#include "entropy/rans.h"
#include "tests/fuzz/fuzz.h"

#define MAX_TABLES 4
#define MAX_OPS 4096

static LvcCdfSet gauss;   /* built once: the set the image models use */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lvc_log_set_level(LVC_LOG_QUIET);
    if (lvc_cdf_set_default(&gauss, LVC_DIST_GAUSSIAN, LVC_DEFAULT_PARAM_PREC) < 0)
        lvc_fuzz_fail("cannot build the default Gaussian set");
    return 0;
}

typedef struct Reader {
    const uint8_t *p;
    size_t n;
} Reader;

static uint32_t rd8(Reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static uint32_t rd32(Reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | rd8(r);
    return v;
}

/* One table from the input; 0, or a constructor error (then t is zeroed). */
static int read_table(Reader *r, LvcCdf *t)
{
    const int prec = 1 + (int)(rd8(r) % LVC_CDF_MAX_PREC);
    const uint32_t maxsym = prec >= 9 ? 256u : 1u << prec;
    const int nsym = 1 + (int)(rd8(r) % maxsym);
    const int32_t offset = (int32_t)(rd8(r) % 64) - 32;
    const int lookup_bits = rd8(r) & 1 ? LVC_CDF_LOOKUP_BITS : 0;
    uint64_t w[256];
    for (int i = 0; i < nsym; i++) {
        const uint32_t b = rd8(r);
        /* A few big weights to reach the quantizer's extreme shares. */
        w[i] = b >= 250 ? (uint64_t)b << 32 : b;
    }
    return lvc_cdf_from_weights(t, w, nsym, offset, prec, lookup_bits);
}

static const int ok_dec_err[] = { 0, LVC_ERR_TRUNCATED, LVC_ERR_CORRUPT, LVC_ERR_INVALID_ARG };

static int dec_err_ok(int e)
{
    for (size_t i = 0; i < sizeof(ok_dec_err) / sizeof(ok_dec_err[0]); i++)
        if (e == ok_dec_err[i])
            return 1;
    return 0;
}

static void fuzz_decode(Reader *r, const LvcCdf *tabs, int nt, LvcAdaptive *am)
{
    const int nops = (int)(rd8(r) << 4 | rd8(r) >> 4) % MAX_OPS;
    uint8_t kinds[64];
    const size_t nk = r->n < sizeof(kinds) ? r->n : sizeof(kinds);
    for (size_t i = 0; i < nk; i++)
        kinds[i] = (uint8_t)rd8(r);
    LvcRansDec d;
    lvc_rans_dec_init(&d, r->p, r->n);
    int32_t idx[8], vals[8];
    for (int i = 0; i < nops; i++) {
        const uint8_t k = nk ? kinds[i % nk] : 0;
        switch (k & 7) {
        case 0: case 1: case 2: {
            const LvcCdf *t = &tabs[(k >> 3) % nt];
            const int32_t v = lvc_rans_dec_get(&d, t);
            /* In-range symbols come out as values of the table's range;
             * escapes may give any int32, so only the decoder state is
             * checked below. */
            (void)v;
            break;
        }
        case 3:
            if (lvc_rans_dec_get_bits(&d, (k >> 3) % (LVC_RANS_MAX_BITS + 1)) >>
                ((k >> 3) % (LVC_RANS_MAX_BITS + 1)))
                lvc_fuzz_fail("get_bits returned more bits than asked");
            break;
        case 4:
            if (am) {
                const int s = lvc_adaptive_decode(am, &d);
                if (s < 0 || s >= am->par.nsym)
                    lvc_fuzz_fail("adaptive decode returned a symbol outside the alphabet");
            }
            break;
        case 5:
            for (int j = 0; j < 8; j++)
                idx[j] = (int32_t)((k >> 3) * 7 + j) % gauss.n;
            lvc_rans_dec_get_indexed(&d, &gauss, idx, vals, 8);
            break;
        default: {
            const LvcCdf *t = &tabs[(k >> 3) % nt];
            const uint32_t slot = lvc_rans_dec_peek(&d, t->prec);
            if (slot >> t->prec)
                lvc_fuzz_fail("peek returned a slot beyond the precision");
            const int s = lvc_cdf_find(t, slot);
            if (s < 0 || s >= t->nsym)
                lvc_fuzz_fail("lvc_cdf_find returned a symbol outside the table");
            lvc_rans_dec_advance(&d, t->cdf[s], t->cdf[s + 1] - t->cdf[s], t->prec);
            break;
        }
        }
    }
    if (!dec_err_ok(lvc_rans_dec_status(&d)) || !dec_err_ok(lvc_rans_dec_finish(&d)))
        lvc_fuzz_fail("decoder error outside the documented set");
    if (d.p < r->p || d.p > r->p + r->n)
        lvc_fuzz_fail("decoder position outside the buffer");
}

static void fuzz_roundtrip(Reader *r, const LvcCdf *tabs, int nt)
{
    enum { N = 512 };
    static int32_t vals[N], got[N];
    static uint8_t kind[N];
    int n = 0;
    while (r->n && n < N) {
        const uint32_t k = rd8(r);
        kind[n] = (uint8_t)k;
        if ((k & 3) == 3) {
            vals[n] = (int32_t)(rd8(r) << 8 | rd8(r)) & (int32_t)((1u << ((k >> 2) % 17)) - 1);
        } else if ((k & 3) == 2) {
            vals[n] = (int32_t)rd32(r);   /* escapes of any size */
        } else {
            vals[n] = (int32_t)(rd8(r) % 80) - 40;
        }
        n++;
    }
    LvcRansEnc e;
    lvc_rans_enc_init(&e);
    int ret = 0;
    for (int i = 0; i < n && ret >= 0; i++) {
        if ((kind[i] & 3) == 3)
            ret = lvc_rans_enc_put_bits(&e, (uint32_t)vals[i], (int)((kind[i] >> 2) % 17));
        else
            ret = lvc_rans_enc_put(&e, &tabs[(kind[i] >> 2) % nt], vals[i]);
    }
    uint8_t *buf = NULL;
    size_t size = 0;
    if (ret >= 0)
        ret = lvc_rans_enc_finish_alloc(&e, &buf, &size);
    lvc_rans_enc_free(&e);
    if (ret == LVC_ERR_NOMEM)
        return;
    if (ret < 0)
        lvc_fuzz_fail("encoder refused a value (every int32 is encodable)");
    if (size > 0 && size < LVC_RANS_HEADER_BYTES)
        lvc_fuzz_fail("finished stream shorter than its header");
    LvcRansDec d;
    lvc_rans_dec_init(&d, buf, size);
    for (int i = 0; i < n; i++) {
        if ((kind[i] & 3) == 3)
            got[i] = (int32_t)lvc_rans_dec_get_bits(&d, (int)((kind[i] >> 2) % 17));
        else
            got[i] = lvc_rans_dec_get(&d, &tabs[(kind[i] >> 2) % nt]);
    }
    if (memcmp(vals, got, (size_t)n * sizeof(vals[0])))
        lvc_fuzz_fail("rANS round trip changed a value");
    if (lvc_rans_dec_finish(&d) != 0)
        lvc_fuzz_fail("rANS round trip does not finish cleanly");
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    Reader r = { data, size };
    const uint32_t mode = rd8(&r);
    const int nt = 1 + (int)(rd8(&r) % MAX_TABLES);
    LvcCdf tabs[MAX_TABLES];
    memset(tabs, 0, sizeof(tabs));
    for (int i = 0; i < nt; i++) {
        if (read_table(&r, &tabs[i]) < 0) {
            for (int j = 0; j < nt; j++)
                lvc_cdf_free(&tabs[j]);
            return 0;
        }
    }
    if (mode & 1) {
        fuzz_roundtrip(&r, tabs, nt);
    } else {
        LvcAdaptive am, *pam = NULL;
        LvcAdaptiveParams ap;
        lvc_adaptive_default_params(&ap, 2 + (int)(rd8(&r) % 200));
        if (lvc_adaptive_init(&am, &ap) == 0)
            pam = &am;
        fuzz_decode(&r, tabs, nt, pam);
        if (pam)
            lvc_adaptive_free(pam);
    }
    for (int i = 0; i < nt; i++)
        lvc_cdf_free(&tabs[i]);
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after a run");
    return 0;
}
