/*
 * rANS coder (see rans.h; byte format in doc/entropy.md).
 *
 * State x in [L, 2^32) with L = 2^16; renormalisation moves 16-bit words.
 * Coding symbol (start, freq) of a 2^prec range:
 *   encode: if x >= freq << (32 - prec): emit x & 0xffff, x >>= 16
 *           x = (x / freq << prec) + x % freq + start
 *   decode: s = symbol holding slot = x & (2^prec - 1)
 *           x = freq * (x >> prec) + slot - start
 *           if x < L: x = x << 16 | next word
 * One renormalisation step always suffices in both directions because
 * prec <= 16 (Giesen's rans_word analysis).
 *
 * The encoder records each operation as a packed 64-bit word:
 *   bits  0..15 start, 16..31 freq-1, 32..36 prec (1..16), 37.. state
 *   (always 0: format version 2 has one state).
 */
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/bits.h"
#include "common/mem.h"
#include "entropy/rans.h"

#define NS LVC_RANS_NSTATES
#define L LVC_RANS_L
#define ESC_HEAD_BITS 7 /* escape payload head: direction bit + 6-bit length */

static inline uint64_t make_op(uint32_t start, uint32_t freq, int prec, uint32_t st)
{
    return (uint64_t)start | (uint64_t)(freq - 1) << 16 | (uint64_t)prec << 32 |
           (uint64_t)st << 37;
}

/* ------------------------------------------------------------ encoder */

int lvc_rans_enc_init(LvcRansEnc *e)
{
    memset(e, 0, sizeof(*e));
    return 0;
}

void lvc_rans_enc_reset(LvcRansEnc *e)
{
    e->nops = 0;
    e->slot = 0;
    e->err = 0;
}

void lvc_rans_enc_free(LvcRansEnc *e)
{
    lvc_free(e->ops);
    lvc_free(e->scratch);
    memset(e, 0, sizeof(*e));
}

static int grow(LvcRansEnc *e, size_t extra)
{
    if (e->err)
        return e->err;
    if (extra > SIZE_MAX / 2 - e->nops) /* keeps 2*nops+header below SIZE_MAX */
        return e->err = LVC_ERR_NOMEM;
    size_t need = e->nops + extra;
    size_t cap = e->cap ? e->cap : 1024;
    while (cap < need)
        cap = cap > SIZE_MAX / 4 ? need : cap * 2;
    size_t bytes;
    if (lvc_mul_size(cap, sizeof(*e->ops), &bytes))
        return e->err = LVC_ERR_NOMEM;
    uint64_t *ops = lvc_realloc(e->ops, bytes);
    if (!ops)
        return e->err = LVC_ERR_NOMEM;
    e->ops = ops;
    e->cap = cap;
    return 0;
}

static inline int reserve(LvcRansEnc *e, size_t extra)
{
    if (e->err)
        return e->err;
    if (extra <= e->cap - e->nops)
        return 0;
    return grow(e, extra);
}

/* Escape payload for value v outside [lo, hi] = [offset, offset+nsym-2]:
 * dir = v > hi, d = distance beyond the range minus 1 (0 .. 2^32-1),
 * u = d + 1 of nb bits (1..33); head = dir | (nb-1) << 1 on 7 bits, then
 * the nb-1 bits of u below its leading one, least significant 16 first.
 * All on the state of the escape symbol. */
static int put_escape(LvcRansEnc *e, const LvcCdf *t, int32_t v, uint32_t st)
{
    int64_t lo = t->offset, hi = (int64_t)t->offset + t->nsym - 2;
    int dir = v > hi;
    uint64_t u = dir ? (uint64_t)((int64_t)v - hi) : (uint64_t)(lo - (int64_t)v);
    int nb = 64 - __builtin_clzll(u);
    int ret = reserve(e, 4);
    if (ret)
        return ret;
    e->ops[e->nops++] = make_op((uint32_t)(dir | (nb - 1) << 1), 1, ESC_HEAD_BITS, st);
    uint64_t bits = u & ~((uint64_t)1 << (nb - 1));
    for (int rest = nb - 1; rest > 0;) {
        int c = rest < 16 ? rest : 16;
        e->ops[e->nops++] = make_op((uint32_t)(bits & ((1u << c) - 1)), 1, c, st);
        bits >>= c;
        rest -= c;
    }
    return 0;
}

/* Records one value; capacity for one op must be reserved by the caller. */
static inline int put_one(LvcRansEnc *e, const LvcCdf *t, int32_t v)
{
    uint32_t st = e->slot++ & (NS - 1);
    uint64_t rel = (uint64_t)((int64_t)v - t->offset);
    uint32_t esc = (uint32_t)t->nsym - 1;
    uint32_t s = rel < esc ? (uint32_t)rel : esc;
    uint32_t start = t->cdf[s];
    e->ops[e->nops++] = make_op(start, t->cdf[s + 1] - start, t->prec, st);
    if (s == esc)
        return put_escape(e, t, v, st);
    return 0;
}

int lvc_rans_enc_put(LvcRansEnc *e, const LvcCdf *t, int32_t value)
{
    if (!t || !t->cdf) {
        if (!e->err)
            e->err = LVC_ERR_INVALID_ARG;
        return e->err;
    }
    int ret = reserve(e, 1);
    if (ret)
        return ret;
    return put_one(e, t, value);
}

int lvc_rans_enc_put_raw(LvcRansEnc *e, uint32_t start, uint32_t freq, int prec)
{
    if (e->err)
        return e->err;
    if (prec < 1 || prec > 16 || freq < 1 || start > (1u << prec) - freq)
        return e->err = LVC_ERR_INVALID_ARG;
    int ret = reserve(e, 1);
    if (ret)
        return ret;
    e->ops[e->nops++] = make_op(start, freq, prec, e->slot++ & (NS - 1));
    return 0;
}

int lvc_rans_enc_put_bits(LvcRansEnc *e, uint32_t bits, int nbits)
{
    if (nbits < 0 || nbits > LVC_RANS_MAX_BITS) {
        if (!e->err)
            e->err = LVC_ERR_INVALID_ARG;
        return e->err;
    }
    if (nbits == 0)
        return e->err;
    return lvc_rans_enc_put_raw(e, bits & ((1u << nbits) - 1), 1, nbits);
}

int lvc_rans_enc_put_indexed(LvcRansEnc *e, const LvcCdfSet *set, const int32_t *idx,
                             const int32_t *values, size_t n)
{
    if (e->err)
        return e->err;
    for (size_t i = 0; i < n; i++)
        if ((uint32_t)idx[i] >= (uint32_t)set->n)
            return e->err = LVC_ERR_INVALID_ARG;
    int ret = reserve(e, n);
    if (ret)
        return ret;
    const LvcCdf *tables = set->tables;
    for (size_t i = 0; i < n; i++) {
        if ((ret = put_one(e, &tables[idx[i]], values[i])))
            return ret;
        /* An escape used up to 4 more ops: restore the reservation. */
        if (e->cap - e->nops < n - i && (ret = reserve(e, n - i)))
            return ret;
    }
    return 0;
}

int lvc_rans_enc_put_array(LvcRansEnc *e, const LvcCdf *const *tables,
                           const int32_t *values, size_t n)
{
    if (e->err)
        return e->err;
    for (size_t i = 0; i < n; i++)
        if (!tables[i] || !tables[i]->cdf)
            return e->err = LVC_ERR_INVALID_ARG;
    int ret = reserve(e, n);
    if (ret)
        return ret;
    for (size_t i = 0; i < n; i++) {
        if ((ret = put_one(e, tables[i], values[i])))
            return ret;
        if (e->cap - e->nops < n - i && (ret = reserve(e, n - i)))
            return ret;
    }
    return 0;
}

size_t lvc_rans_enc_bound(const LvcRansEnc *e)
{
    /* At most one word per op, plus the final state. */
    return LVC_RANS_HEADER_BYTES + 2 * e->nops;
}

/* Codes every op backwards into e->scratch; returns the first word. */
static int encode_all(LvcRansEnc *e, const uint16_t **first, size_t *nwords)
{
    size_t words = e->nops + 2 * NS + 1; /* +1: the speculative store below */
    if (words > e->scratch_cap) {
        uint16_t *s = lvc_malloc_array(words, sizeof(*s));
        if (!s)
            return LVC_ERR_NOMEM;
        lvc_free(e->scratch);
        e->scratch = s;
        e->scratch_cap = words;
    }
    uint16_t *const end = e->scratch + words;
    uint16_t *ptr = end;
    uint32_t x[NS];
    for (int j = 0; j < NS; j++)
        x[j] = L;
    for (size_t i = e->nops; i-- > 0;) {
        uint64_t op = e->ops[i];
        uint32_t start = (uint32_t)op & 0xffff;
        uint32_t freq = (uint32_t)(op >> 16 & 0xffff) + 1;
        int prec = (int)(op >> 32 & 31);
        uint32_t st = (uint32_t)(op >> 37) & (NS - 1);
        uint32_t xs = x[st];
        /* Branch-free renormalisation: always store, advance if needed. */
        int flush = xs >= ((uint64_t)freq << (32 - prec));
        ptr[-1] = (uint16_t)xs;
        ptr -= flush;
        xs >>= flush << 4;
        x[st] = ((xs / freq) << prec) + (xs % freq) + start;
    }
    for (int j = NS - 1; j >= 0; j--) {
        *--ptr = (uint16_t)(x[j] >> 16);
        *--ptr = (uint16_t)x[j];
    }
    *first = ptr;
    *nwords = (size_t)(end - ptr);
    return 0;
}

static void store_words(uint8_t *out, const uint16_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lvc_wl16(out + 2 * i, w[i]);
}

int lvc_rans_enc_finish(LvcRansEnc *e, uint8_t *out, size_t cap, size_t *size)
{
    *size = 0;
    if (e->err)
        return e->err;
    const uint16_t *w;
    size_t n;
    int ret = encode_all(e, &w, &n);
    if (ret)
        return ret;
    if (2 * n > cap)
        return LVC_ERR_BUFFER_FULL;
    store_words(out, w, n);
    *size = 2 * n;
    return 0;
}

int lvc_rans_enc_finish_alloc(LvcRansEnc *e, uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    if (e->err)
        return e->err;
    const uint16_t *w;
    size_t n;
    int ret = encode_all(e, &w, &n);
    if (ret)
        return ret;
    /* Plain malloc: the buffer usually travels on to the container layer or
     * the API user, who release it with free(). */
    uint8_t *buf = lvc_mem_inject_fail() ? NULL : malloc(2 * n);
    if (!buf)
        return LVC_ERR_NOMEM;
    store_words(buf, w, n);
    *out = buf;
    *size = 2 * n;
    return 0;
}

/* ------------------------------------------------------------ decoder */

static inline void set_err(LvcRansDec *d, int err)
{
    if (!d->err)
        d->err = err;
}

int lvc_rans_dec_init(LvcRansDec *d, const uint8_t *buf, size_t size)
{
    memset(d, 0, sizeof(*d));
    for (int j = 0; j < NS; j++)
        d->x[j] = L;
    if (!buf || size < LVC_RANS_HEADER_BYTES) {
        d->p = d->end = buf;
        return d->err = LVC_ERR_TRUNCATED;
    }
    for (int j = 0; j < NS; j++) {
        d->x[j] = lvc_rl32(buf + 4 * j);
        if (d->x[j] < L)
            set_err(d, LVC_ERR_CORRUPT);
    }
    d->p = buf + LVC_RANS_HEADER_BYTES;
    d->end = buf + size;
    return d->err;
}

/* Refill x from the stream if it fell below L. Past the end: flag and
 * shift in zeros (the state stays a valid uint32, decoding goes on). */
static inline uint32_t renorm(LvcRansDec *d, const uint8_t **pp, uint32_t x)
{
    if (x < L) {
        const uint8_t *p = *pp;
        if (d->end - p >= 2) {
            x = x << 16 | lvc_rl16(p);
            *pp = p + 2;
        } else {
            set_err(d, LVC_ERR_TRUNCATED);
            *pp = d->end;
            x <<= 16;
        }
    }
    return x;
}

/* Decodes the symbol of t from x (no renormalisation). */
static inline uint32_t dec_sym(const LvcCdf *t, uint32_t *x)
{
    const int prec = t->prec;
    const uint32_t slot = *x & ((1u << prec) - 1);
    const uint32_t s = (uint32_t)lvc_cdf_find(t, slot);
    const uint32_t start = t->cdf[s], freq = t->cdf[s + 1] - start;
    *x = freq * (*x >> prec) + slot - start;
    return s;
}

static inline uint32_t dec_bits(LvcRansDec *d, const uint8_t **pp, uint32_t *x, int nbits)
{
    uint32_t v = *x & ((1u << nbits) - 1);
    *x = renorm(d, pp, *x >> nbits);
    return v;
}

/* Escape payload (after the escape symbol, state already renormalised). */
static int32_t dec_escape(LvcRansDec *d, const uint8_t **pp, uint32_t *x, const LvcCdf *t)
{
    uint32_t head = dec_bits(d, pp, x, ESC_HEAD_BITS);
    int dir = head & 1, nb1 = (int)(head >> 1);
    if (nb1 > 32) {
        set_err(d, LVC_ERR_CORRUPT);
        return 0;
    }
    uint64_t u = (uint64_t)1 << nb1;
    for (int shift = 0, rest = nb1; rest > 0;) {
        int c = rest < 16 ? rest : 16;
        u |= (uint64_t)dec_bits(d, pp, x, c) << shift;
        shift += c;
        rest -= c;
    }
    int64_t lo = t->offset, hi = (int64_t)t->offset + t->nsym - 2;
    int64_t v = dir ? hi + (int64_t)u : lo - (int64_t)u;
    if (v < INT32_MIN || v > INT32_MAX) {
        set_err(d, LVC_ERR_CORRUPT);
        return 0;
    }
    return (int32_t)v;
}

static inline int32_t get_one(LvcRansDec *d, const LvcCdf *t)
{
    uint32_t j = d->slot++ & (NS - 1);
    uint32_t x = d->x[j];
    const uint8_t *p = d->p;
    uint32_t s = dec_sym(t, &x);
    x = renorm(d, &p, x);
    int32_t v;
    if (s == (uint32_t)t->nsym - 1)
        v = dec_escape(d, &p, &x, t);
    else
        v = t->offset + (int32_t)s;
    d->x[j] = x;
    d->p = p;
    return v;
}

int32_t lvc_rans_dec_get(LvcRansDec *d, const LvcCdf *t)
{
    if (!t || !t->cdf) {
        set_err(d, LVC_ERR_INVALID_ARG);
        return 0;
    }
    return get_one(d, t);
}

uint32_t lvc_rans_dec_get_bits(LvcRansDec *d, int nbits)
{
    if (nbits < 0 || nbits > LVC_RANS_MAX_BITS) {
        set_err(d, LVC_ERR_INVALID_ARG);
        return 0;
    }
    if (nbits == 0)
        return 0;
    uint32_t j = d->slot++ & (NS - 1);
    return dec_bits(d, &d->p, &d->x[j], nbits);
}

uint32_t lvc_rans_dec_peek(const LvcRansDec *d, int prec)
{
    if (prec < 1 || prec > 16)
        return 0;
    return d->x[d->slot & (NS - 1)] & ((1u << prec) - 1);
}

void lvc_rans_dec_advance(LvcRansDec *d, uint32_t start, uint32_t freq, int prec)
{
    uint32_t j = d->slot++ & (NS - 1);
    uint32_t x = d->x[j];
    if (prec < 1 || prec > 16 || freq < 1 || start > (1u << prec) - freq) {
        set_err(d, LVC_ERR_INVALID_ARG);
        return;
    }
    uint32_t slot = x & ((1u << prec) - 1);
    if (slot - start >= freq) /* the caller's interval does not hold slot */
        set_err(d, LVC_ERR_INVALID_ARG);
    x = freq * (x >> prec) + slot - start;
    d->x[j] = renorm(d, &d->p, x);
}

int lvc_rans_dec_get_indexed(LvcRansDec *d, const LvcCdfSet *set, const int32_t *idx,
                             int32_t *values, size_t n)
{
    const uint32_t nt = (uint32_t)set->n;
    const LvcCdf *tables = set->tables;
    for (size_t i = 0; i < n; i++) {
        if ((uint32_t)idx[i] >= nt) {
            set_err(d, LVC_ERR_INVALID_ARG);
            memset(values + i, 0, (n - i) * sizeof(*values));
            return d->err;
        }
        values[i] = get_one(d, &tables[idx[i]]);
    }
    return d->err;
}

int lvc_rans_dec_get_array(LvcRansDec *d, const LvcCdf *const *tables, int32_t *values,
                           size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!tables[i] || !tables[i]->cdf) {
            set_err(d, LVC_ERR_INVALID_ARG);
            memset(values + i, 0, (n - i) * sizeof(*values));
            return d->err;
        }
        values[i] = get_one(d, tables[i]);
    }
    return d->err;
}

int lvc_rans_dec_status(const LvcRansDec *d)
{
    return d->err;
}

int lvc_rans_dec_finish(const LvcRansDec *d)
{
    if (d->err)
        return d->err;
    if (d->p != d->end)
        return LVC_ERR_CORRUPT;
    for (int j = 0; j < NS; j++)
        if (d->x[j] != L)
            return LVC_ERR_CORRUPT;
    return 0;
}
