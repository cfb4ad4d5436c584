#include <math.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/mem.h"
#include "entropy/adaptive.h"

void lvc_adaptive_default_params(LvcAdaptiveParams *p, int nsym)
{
    memset(p, 0, sizeof(*p));
    p->nsym = nsym;
    p->prec = 16;
    p->increment = 24;
    p->limit = 1u << 16;
    p->period_init = 16;
    p->period_max = 1024;
}

/* cdf[i] = floor(C_i * 2^prec / total) over the running count C_i: exact
 * end point 2^prec, and since total <= 2^prec every frequency is at least
 * its count's floor share, hence >= 1. */
static void rebuild(LvcAdaptive *m)
{
    const int n = m->par.nsym, prec = m->par.prec;
    const uint64_t total = m->total;
    uint64_t c = 0;
    m->cdf[0] = 0;
    for (int i = 0; i < n; i++) {
        c += m->count[i];
        m->cdf[i + 1] = (uint32_t)((c << prec) / total);
    }
}

void lvc_adaptive_reset(LvcAdaptive *m)
{
    memcpy(m->count, m->init, (size_t)m->par.nsym * sizeof(*m->count));
    uint32_t total = 0;
    for (int i = 0; i < m->par.nsym; i++)
        total += m->count[i];
    m->total = total;
    m->period = m->par.period_init;
    m->until_rebuild = m->period;
    rebuild(m);
}

int lvc_adaptive_init(LvcAdaptive *m, const LvcAdaptiveParams *p)
{
    memset(m, 0, sizeof(*m));
    if (p->prec < 1 || p->prec > 16 || p->limit > (1u << p->prec) || p->nsym < 2 ||
        (uint32_t)p->nsym > p->limit / 2 || p->increment < 1 || p->increment > p->limit / 4 ||
        p->period_init < 1 || p->period_max < p->period_init)
        return LVC_ERR_INVALID_ARG;
    if (p->init_counts) {
        uint64_t t = 0;
        for (int i = 0; i < p->nsym; i++) {
            if (p->init_counts[i] < 1)
                return LVC_ERR_INVALID_ARG;
            t += p->init_counts[i];
        }
        if (t > p->limit)
            return LVC_ERR_INVALID_ARG;
    }
    size_t n = (size_t)p->nsym;
    uint32_t *mem = lvc_malloc_array(3 * n + 1, sizeof(uint32_t));
    if (!mem)
        return LVC_ERR_NOMEM;
    m->par = *p;
    m->par.init_counts = NULL;
    m->count = mem;
    m->init = mem + n;
    m->cdf = mem + 2 * n;
    for (size_t i = 0; i < n; i++)
        m->init[i] = p->init_counts ? p->init_counts[i] : 1;
    lvc_adaptive_reset(m);
    return 0;
}

void lvc_adaptive_free(LvcAdaptive *m)
{
    lvc_free(m->count);
    memset(m, 0, sizeof(*m));
}

static inline void update(LvcAdaptive *m, int sym)
{
    const uint32_t inc = m->par.increment;
    if (m->total + inc > m->par.limit) {
        uint32_t total = 0;
        for (int i = 0; i < m->par.nsym; i++) {
            m->count[i] = (m->count[i] + 1) >> 1;
            total += m->count[i];
        }
        m->total = total;
    }
    m->count[sym] += inc;
    m->total += inc;
    if (--m->until_rebuild == 0) {
        rebuild(m);
        if (m->period < m->par.period_max)
            m->period = m->period * 2 < m->par.period_max ? m->period * 2 : m->par.period_max;
        m->until_rebuild = m->period;
    }
}

int lvc_adaptive_encode(LvcAdaptive *m, LvcRansEnc *e, int sym)
{
    if (sym < 0 || sym >= m->par.nsym) {
        if (!e->err)
            e->err = LVC_ERR_INVALID_ARG;
        return e->err;
    }
    uint32_t start = m->cdf[sym];
    int ret = lvc_rans_enc_put_raw(e, start, m->cdf[sym + 1] - start, m->par.prec);
    if (ret)
        return ret;
    update(m, sym);
    return 0;
}

int lvc_adaptive_encode_array(LvcAdaptive *m, LvcRansEnc *e, const int32_t *syms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int ret = lvc_adaptive_encode(m, e, syms[i]);
        if (ret)
            return ret;
    }
    return 0;
}

int lvc_adaptive_decode(LvcAdaptive *m, LvcRansDec *d)
{
    const uint32_t slot = lvc_rans_dec_peek(d, m->par.prec);
    uint32_t lo = 0, hi = (uint32_t)m->par.nsym;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) >> 1;
        if (m->cdf[mid] <= slot)
            lo = mid;
        else
            hi = mid;
    }
    lvc_rans_dec_advance(d, m->cdf[lo], m->cdf[lo + 1] - m->cdf[lo], m->par.prec);
    update(m, (int)lo);
    return (int)lo;
}

int lvc_adaptive_decode_array(LvcAdaptive *m, LvcRansDec *d, int32_t *syms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        syms[i] = lvc_adaptive_decode(m, d);
    return d->err;
}

double lvc_adaptive_cost_bits(const LvcAdaptive *m, int sym)
{
    if (sym < 0 || sym >= m->par.nsym)
        return INFINITY;
    return m->par.prec - log2((double)(m->cdf[sym + 1] - m->cdf[sym]));
}
