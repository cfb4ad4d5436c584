/*
 * Adaptive frequency model for symbols without a parametric prior (VQ
 * indices, splat attributes), coded with the rANS coder.
 *
 * The model keeps integer counts (all >= 1). After each coded symbol its
 * count grows by `increment`; when the total would exceed `limit`, every
 * count is halved (rounding up, so none reaches 0). The CDF used for coding
 * is rebuilt from the counts on a fixed schedule: after period_init
 * symbols, then after periods doubling up to period_max. Between rebuilds
 * the CDF is frozen, which keeps the cost per symbol low for large
 * alphabets. Everything is integer arithmetic, so encoder and decoder
 * evolve identically.
 *
 * rANS codes backwards, but the model must evolve forwards: encoding
 * records each symbol's (start, freq) at the model state of its turn via
 * lvc_rans_enc_put_raw() (the encoder codes the recorded intervals in
 * reverse at finish), and decoding reads them forwards with
 * lvc_rans_dec_peek()/advance(). Symbols coded with a model may be freely
 * interleaved with other puts/gets on the same coder.
 */
#ifndef LVC_ENTROPY_ADAPTIVE_H
#define LVC_ENTROPY_ADAPTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "entropy/rans.h"

typedef struct LvcAdaptiveParams {
    int nsym;                   /* alphabet size, 2 .. limit/2 */
    int prec;                   /* CDF precision, 1..16 (default 16) */
    uint32_t increment;         /* count added per symbol, 1 .. limit/4 (default 24) */
    uint32_t limit;             /* halve when the total would exceed it; <= 2^prec
                                 * (default 2^prec) */
    int period_init;            /* symbols before the first rebuild (default 16) */
    int period_max;             /* longest rebuild period (default 1024) */
    const uint32_t *init_counts;/* nsym initial counts (>= 1, total <= limit);
                                 * NULL: all 1. Copied at init. */
} LvcAdaptiveParams;

typedef struct LvcAdaptive {
    LvcAdaptiveParams par;
    uint32_t *count;            /* nsym counts */
    uint32_t *init;             /* initial counts, for reset */
    uint32_t *cdf;              /* nsym+1 entries, the frozen coding CDF */
    uint32_t total;
    int period, until_rebuild;
} LvcAdaptive;

/* Defaults for an alphabet of nsym symbols. */
void lvc_adaptive_default_params(LvcAdaptiveParams *p, int nsym);

/* On success m owns its arrays (lvc_adaptive_free); on failure m is zeroed.
 * LVC_ERR_INVALID_ARG for parameters outside the ranges above. */
int lvc_adaptive_init(LvcAdaptive *m, const LvcAdaptiveParams *p);
/* Back to the initial state (same as a fresh init). */
void lvc_adaptive_reset(LvcAdaptive *m);
void lvc_adaptive_free(LvcAdaptive *m);

/* Code sym (0 <= sym < nsym; else LVC_ERR_INVALID_ARG, model unchanged)
 * and update the model. */
int lvc_adaptive_encode(LvcAdaptive *m, LvcRansEnc *e, int sym);
int lvc_adaptive_encode_array(LvcAdaptive *m, LvcRansEnc *e, const int32_t *syms, size_t n);
/* Decode one symbol and update the model; errors go to d (see rans.h). */
int lvc_adaptive_decode(LvcAdaptive *m, LvcRansDec *d);
int lvc_adaptive_decode_array(LvcAdaptive *m, LvcRansDec *d, int32_t *syms, size_t n);

/* Current cost of sym in bits (estimate, libm). */
double lvc_adaptive_cost_bits(const LvcAdaptive *m, int sym);

#endif /* LVC_ENTROPY_ADAPTIVE_H */
