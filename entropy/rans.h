/*
 * rANS entropy coder: one 32-bit state, 16-bit renormalisation, CDF
 * precision up to 16 bits per table.
 * The byte format is specified in doc/entropy.md.
 *
 * rANS decodes in the reverse order of encoding. The encoder therefore only
 * records operations while the caller "puts" in natural order, and codes
 * them backwards in lvc_rans_enc_finish(); the decoder "gets" in the same
 * natural order. Each put (a value, a group of raw bits or a raw interval)
 * occupies one slot (format version 2 has one state, so every slot is
 * coded by it): a get must mirror each put with the same table/bit count.
 *
 * Values outside a table's range are coded as its escape symbol followed by
 * an escape payload on the same state, so every int32 is encodable.
 *
 * Errors: the encoder has a sticky error (any later call returns it). The
 * decoder never reads outside [buf, buf+size): it flags the error and
 * continues on zeros, so a caller can decode a whole block and check
 * lvc_rans_dec_status()/lvc_rans_dec_finish() once.
 */
#ifndef LVC_ENTROPY_RANS_H
#define LVC_ENTROPY_RANS_H

#include <stddef.h>
#include <stdint.h>

#include "entropy/cdf.h"

#define LVC_RANS_NSTATES 1                 /* states (format constant; 4 in format version 1) */
#define LVC_RANS_L (1u << 16)              /* lower bound of a normalised state */
#define LVC_RANS_HEADER_BYTES (4 * LVC_RANS_NSTATES) /* final state at the front */
#define LVC_RANS_MAX_BITS 16               /* max nbits of one put_bits */

typedef struct LvcRansEnc {
    uint64_t *ops;      /* recorded operations, see rans.c */
    size_t nops, cap;
    uint32_t slot;      /* puts so far (mod 2^32) */
    int err;
    uint16_t *scratch;  /* output words, reused across finishes */
    size_t scratch_cap;
} LvcRansEnc;

typedef struct LvcRansDec {
    uint32_t x[LVC_RANS_NSTATES];
    const uint8_t *p, *end;
    uint32_t slot;
    int err;            /* 0, LVC_ERR_TRUNCATED, LVC_ERR_CORRUPT or LVC_ERR_INVALID_ARG */
} LvcRansDec;

/* ------------------------------------------------------------ encoder */

/* Initialises an empty encoder (no allocation yet). Returns 0. */
int lvc_rans_enc_init(LvcRansEnc *e);
/* Forgets the recorded operations, keeps the buffers. */
void lvc_rans_enc_reset(LvcRansEnc *e);
/* Releases the buffers; e can be initialised again. Safe on a zeroed enc. */
void lvc_rans_enc_free(LvcRansEnc *e);

/* Code value with table t (escape for values outside its range).
 * t must stay valid until finish. */
int lvc_rans_enc_put(LvcRansEnc *e, const LvcCdf *t, int32_t value);
/* nbits (0..16) equiprobable bits: the low nbits of bits. nbits == 0 is a
 * no-op that takes no slot. */
int lvc_rans_enc_put_bits(LvcRansEnc *e, uint32_t bits, int nbits);
/* Low level: the interval [start, start+freq) of a 2^prec range, for models
 * that keep their own CDFs (adaptive.c). 1 <= prec <= 16, freq >= 1,
 * start + freq <= 2^prec. */
int lvc_rans_enc_put_raw(LvcRansEnc *e, uint32_t start, uint32_t freq, int prec);
/* values[i] with table set->tables[idx[i]], i = 0..n-1 in order.
 * An index outside [0, set->n) is LVC_ERR_INVALID_ARG (nothing of this
 * call is recorded then). */
int lvc_rans_enc_put_indexed(LvcRansEnc *e, const LvcCdfSet *set, const int32_t *idx,
                             const int32_t *values, size_t n);
/* values[i] with tables[i]. */
int lvc_rans_enc_put_array(LvcRansEnc *e, const LvcCdf *const *tables,
                           const int32_t *values, size_t n);

/* Upper bound of the finished size in bytes for what was put so far. */
size_t lvc_rans_enc_bound(const LvcRansEnc *e);
/* Codes everything and writes the stream to out. On success *size is the
 * stream size; LVC_ERR_BUFFER_FULL if cap is too small (nothing beyond
 * cap is written; the encoder keeps its operations, so finish can be
 * retried with a bigger buffer). The encoder is unchanged either way:
 * reset or free it after. */
int lvc_rans_enc_finish(LvcRansEnc *e, uint8_t *out, size_t cap, size_t *size);
/* As finish, into a new buffer: on success *out holds *size bytes and is
 * plain malloc memory owned by the caller (release with free(), NOT
 * lvc_free); on failure *out = NULL, *size = 0. */
int lvc_rans_enc_finish_alloc(LvcRansEnc *e, uint8_t **out, size_t *size);

/* ------------------------------------------------------------ decoder */

/* Starts decoding buf[0..size). buf must outlive the decoder. Returns 0, or
 * the error also recorded in d (too short: LVC_ERR_TRUNCATED; a state out of
 * range: LVC_ERR_CORRUPT); gets still work (yielding garbage) after it. */
int lvc_rans_dec_init(LvcRansDec *d, const uint8_t *buf, size_t size);
int32_t lvc_rans_dec_get(LvcRansDec *d, const LvcCdf *t);
uint32_t lvc_rans_dec_get_bits(LvcRansDec *d, int nbits);
/* Low level twin of put_raw: peek returns the slot (x mod 2^prec) of the
 * next state; the caller finds the interval holding it and must then call
 * advance with that interval's start and freq. */
uint32_t lvc_rans_dec_peek(const LvcRansDec *d, int prec);
void lvc_rans_dec_advance(LvcRansDec *d, uint32_t start, uint32_t freq, int prec);
/* Twins of put_indexed/put_array. Returns 0 or the decoder's error (values
 * are always fully written, zeros after an error). */
int lvc_rans_dec_get_indexed(LvcRansDec *d, const LvcCdfSet *set, const int32_t *idx,
                             int32_t *values, size_t n);
int lvc_rans_dec_get_array(LvcRansDec *d, const LvcCdf *const *tables, int32_t *values,
                           size_t n);
/* 0 or the first error seen. */
int lvc_rans_dec_status(const LvcRansDec *d);
/* End of stream check: 0 if no error occurred, every byte was consumed and
 * every state is back to its initial value LVC_RANS_L; else the error or
 * LVC_ERR_CORRUPT. */
int lvc_rans_dec_finish(const LvcRansDec *d);

#endif /* LVC_ENTROPY_RANS_H */
