/*
 * Entropy coding of the latents (codec/latent.h). Everything that decides a
 * probability here is integer: z_hat, the integer hyper-synthesis, the
 * scale index and the mean; floats appear only in the encoder's rounding of
 * y and in the decoder's y_hat handed to the float synthesis.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/latent.h"
#include "common/mem.h"
#include "entropy/adaptive.h"
#include "entropy/rans.h"

void lvc_latent_streams_free(LvcLatentStreams *s)
{
    if (!s)
        return;
    for (int t = 0; t < s->ntiles; t++) {
        if (s->z)
            free(s->z[t]);
        if (s->y)
            free(s->y[t]);
    }
    lvc_free(s->z);
    lvc_free(s->y);
    lvc_free(s->z_size);
    lvc_free(s->y_size);
    memset(s, 0, sizeof(*s));
}

static inline int16_t sat16(float v)
{
    if (!(v > -32768.0f))
        return -32768;
    if (v > 32767.0f)
        return 32767;
    return (int16_t)floorf(v + 0.5f);
}

static inline int32_t round_i32(float v)
{
    if (!(v > -1073741824.0f))
        return -1073741824;
    if (v > 1073741824.0f)
        return 1073741824;
    return (int32_t)floorf(v + 0.5f);
}

/* Tile buffers: integer hyper-latents and the h_s outputs. */
typedef struct TileBufs {
    LvcTensor zhat, params;
    int16_t *zh_host, *par_host;
} TileBufs;

static void tile_bufs_free(LvcNn *nn, TileBufs *b)
{
    lvc_nn_tensor_free(nn, &b->zhat);
    lvc_nn_tensor_free(nn, &b->params);
    lvc_free(b->zh_host);
    lvc_free(b->par_host);
    memset(b, 0, sizeof(*b));
}

static int tile_bufs_alloc(const LvcModel *m, LvcNn *nn, int th, int tw, TileBufs *b)
{
    memset(b, 0, sizeof(*b));
    if (!m->has_hyper)
        return 0;
    const int zh = th / LVC_MODEL_ZSCALE, zw = tw / LVC_MODEL_ZSCALE;
    int ret;
    if ((ret = lvc_nn_tensor_alloc(nn, &b->zhat, m->N, zh, zw, LVC_NN_I16, 0)) < 0 ||
        (ret = lvc_nn_tensor_alloc(nn, &b->params, (m->has_means ? 2 : 1) * m->M, th, tw,
                                    LVC_NN_I16, m->out_fa)) < 0)
        goto error;
    b->zh_host = lvc_malloc_array(lvc_tensor_elems(&b->zhat), sizeof(int16_t));
    b->par_host = lvc_malloc_array(lvc_tensor_elems(&b->params), sizeof(int16_t));
    if (!b->zh_host || !b->par_host) {
        ret = LVC_ERR_NOMEM;
        goto error;
    }
    return 0;
error:
    tile_bufs_free(nn, b);
    return ret;
}

/* params = h_s(z_hat) with z_hat from host memory; leaves the result in
 * b->par_host. */
static int run_hyper_synthesis(const LvcModel *m, LvcNn *nn, TileBufs *b)
{
    int ret;
    b->zhat.frac = 0;
    b->params.frac = m->out_fa;
    if ((ret = lvc_nn_tensor_write(nn, &b->zhat, b->zh_host)) < 0 ||
        (ret = lvc_model_hyper_synthesis(m, nn, &b->zhat, &b->params)) < 0 ||
        (ret = lvc_nn_tensor_read(nn, &b->params, b->par_host)) < 0)
        return ret;
    return 0;
}

/* Append int32 values to a digest in little-endian order, buffered. */
typedef struct DigestBuf {
    LvcSha256 *sha;
    uint8_t buf[512];
    size_t k;
} DigestBuf;

static inline void digest_q(DigestBuf *d, int32_t q)
{
    const uint32_t u = (uint32_t)q;
    d->buf[d->k++] = (uint8_t)u;
    d->buf[d->k++] = (uint8_t)(u >> 8);
    d->buf[d->k++] = (uint8_t)(u >> 16);
    d->buf[d->k++] = (uint8_t)(u >> 24);
    if (d->k == sizeof(d->buf)) {
        lvc_sha256_update(d->sha, d->buf, d->k);
        d->k = 0;
    }
}

static void digest_flush(DigestBuf *d)
{
    lvc_sha256_update(d->sha, d->buf, d->k);
    d->k = 0;
}

/* ------------------------------------------------ context models
 * The latents are coded in slices of channels (one slice of M channels for
 * checkerboard, ELIC's uneven groups for elic), each in two checkerboard
 * passes: pass 0 the anchors ((x + y) even in tile coordinates), pass 1 the
 * rest, all of them in the tile's one Y substream, in that order. Slice
 * k's parameters come from the hyper features, the channel context of the
 * slices before it (k >= 1) and, in pass 1, the spatial context of its own
 * anchors. y_hat enters the contexts as int16 with out_fa fractional
 * bits: q * 2^out_fa + mean, saturated. */

typedef struct CtxBufs {
    LvcTensor params, yanchor, sc, yprev, cc;
    int16_t *par_host, *ya_host, *yq_host;
} CtxBufs;

static void ctx_free(LvcNn *nn, CtxBufs *k)
{
    lvc_nn_tensor_free(nn, &k->params);
    lvc_nn_tensor_free(nn, &k->yanchor);
    lvc_nn_tensor_free(nn, &k->sc);
    lvc_nn_tensor_free(nn, &k->yprev);
    lvc_nn_tensor_free(nn, &k->cc);
    lvc_free(k->par_host);
    lvc_free(k->ya_host);
    lvc_free(k->yq_host);
    memset(k, 0, sizeof(*k));
}

static int ctx_alloc(const LvcModel *m, LvcNn *nn, int th, int tw, CtxBufs *k)
{
    memset(k, 0, sizeof(*k));
    const size_t tpix = (size_t)th * tw;
    int smax = 0, scmax = 0, ccmax = 1;
    for (int s = 0; s < m->nslices; s++) {
        smax = m->slice_c[s] > smax ? m->slice_c[s] : smax;
        scmax = m->sc_cout[s] > scmax ? m->sc_cout[s] : scmax;
        ccmax = s && m->cc_cout[s] > ccmax ? m->cc_cout[s] : ccmax;
    }
    int ret;
    if ((ret = lvc_nn_tensor_alloc(nn, &k->params, 2 * smax, th, tw, LVC_NN_I16, m->out_fa)) < 0 ||
        (ret = lvc_nn_tensor_alloc(nn, &k->yanchor, smax, th, tw, LVC_NN_I16, m->out_fa)) < 0 ||
        (ret = lvc_nn_tensor_alloc(nn, &k->sc, scmax, th, tw, LVC_NN_I16, 0)) < 0 ||
        (ret = lvc_nn_tensor_alloc(nn, &k->yprev, m->M, th, tw, LVC_NN_I16, m->out_fa)) < 0 ||
        (ret = lvc_nn_tensor_alloc(nn, &k->cc, ccmax, th, tw, LVC_NN_I16, 0)) < 0)
        goto error;
    k->par_host = lvc_malloc_array(2 * (size_t)smax * tpix, sizeof(int16_t));
    k->ya_host = lvc_malloc_array((size_t)smax * tpix, sizeof(int16_t));
    k->yq_host = lvc_malloc_array((size_t)m->M * tpix, sizeof(int16_t));
    if (!k->par_host || !k->ya_host || !k->yq_host) {
        ret = LVC_ERR_NOMEM;
        goto error;
    }
    return 0;
error:
    ctx_free(nn, k);
    return ret;
}

static inline int16_t fixed_sat16(int32_t q, int16_t mean, int fa)
{
    const int64_t v = (int64_t)q * (1 << fa) + mean;
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

/* One side of the coding: the encoder rounds and puts, the decoder gets and
 * reconstructs. */
typedef struct PassCoder {
    int decode;
    const float *yh;             /* encoder: gained latents of the tile */
    LvcRansEnc *enc;             /* encoder: the tile's Y substream */
    const LvcTileStreams *ts;    /* decoder */
    float *ydst;                 /* decoder: y_hat of the image */
    const LvcGeometry *g;
    int lx0, ly0;
    const float *inv_gain;
    DigestBuf *dg;
    LvcLatentTemporal *tp;       /* video frames, else NULL */
    int16_t *ref;                /* tp: the tile's reference, updated in place */
    uint32_t blocks[LVC_BLOCK_MODES];
} PassCoder;

/* ------------------------------------------------ temporal block modes */

/* Ideal costs of the values -COST_R .. COST_R under every Gaussian table,
 * for the encoder's choices (libm; the decoder never uses them). */
#define COST_R 48
typedef struct CostCache {
    const LvcCdfSet *set;
    double *bits;                /* set->n x (2 COST_R + 1) */
} CostCache;

static int cost_cache_init(CostCache *cc, const LvcCdfSet *set)
{
    cc->set = set;
    cc->bits = lvc_malloc_array((size_t)set->n * (2 * COST_R + 1), sizeof(double));
    if (!cc->bits)
        return LVC_ERR_NOMEM;
    for (int t = 0; t < set->n; t++)
        for (int v = -COST_R; v <= COST_R; v++)
            cc->bits[(size_t)t * (2 * COST_R + 1) + v + COST_R] =
                lvc_cdf_cost_bits(&set->tables[t], v);
    return 0;
}

static inline double cost_of(const CostCache *cc, int t, int32_t v)
{
    if (v >= -COST_R && v <= COST_R)
        return cc->bits[(size_t)t * (2 * COST_R + 1) + v + COST_R];
    return lvc_cdf_cost_bits(&cc->set->tables[t], v);
}

#define NSHIFT (1 << LVC_SCALE_SHIFT_BITS)
/* Skip trades rate for the error of copying the reference: a block is
 * skipped when that is cheaper in bits + LVC_SKIP_KAPPA * (squared error
 * of the gained latents); tuned in doc/video.md. */
#define LVC_SKIP_KAPPA 16.0

/* The block grid of a tile. */
typedef struct BlockModes {
    int bl, bw, bh;              /* log2 block side, blocks per row / column */
    uint8_t *mode, *prev;        /* this pass's modes, the previous pass's */
    LvcAdaptive am[LVC_BLOCK_MODES]; /* mode models by the previous mode */
    CostCache cost;              /* encoder */
    double *ci, *ct;             /* encoder: per-block intra / inter costs */
    double *di, *dt, *ds;        /* encoder: squared errors intra / inter / skip */
    double kappa;                /* encoder: bits per unit of squared error */
} BlockModes;

static void block_modes_free(BlockModes *bm)
{
    for (int i = 0; i < LVC_BLOCK_MODES; i++)
        lvc_adaptive_free(&bm->am[i]);
    lvc_free(bm->mode);
    lvc_free(bm->prev);
    lvc_free(bm->cost.bits);
    lvc_free(bm->ci);
    lvc_free(bm->ct);
    lvc_free(bm->di);
    lvc_free(bm->dt);
    lvc_free(bm->ds);
    memset(bm, 0, sizeof(*bm));
}

static int block_modes_init(BlockModes *bm, const LvcModel *m, int th, int tw, int bl,
                            int encoder)
{
    memset(bm, 0, sizeof(*bm));
    bm->bl = bl;
    bm->bw = (tw + (1 << bl) - 1) >> bl;
    bm->bh = (th + (1 << bl) - 1) >> bl;
    const size_t nb = (size_t)bm->bw * bm->bh;
    LvcAdaptiveParams p;
    lvc_adaptive_default_params(&p, LVC_BLOCK_MODES);
    int ret = 0;
    for (int i = 0; i < LVC_BLOCK_MODES && !ret; i++)
        ret = lvc_adaptive_init(&bm->am[i], &p);
    bm->mode = lvc_calloc(nb, 1);
    bm->prev = lvc_calloc(nb, 1);
    if (!ret && (!bm->mode || !bm->prev))
        ret = LVC_ERR_NOMEM;
    if (!ret && encoder) {
        bm->ci = lvc_malloc_array(nb, sizeof(double));
        bm->ct = lvc_malloc_array(nb * NSHIFT, sizeof(double));
        bm->di = lvc_malloc_array(nb, sizeof(double));
        bm->dt = lvc_malloc_array(nb, sizeof(double));
        bm->ds = lvc_malloc_array(nb, sizeof(double));
        bm->kappa = LVC_SKIP_KAPPA;
        ret = !bm->ci || !bm->ct || !bm->di || !bm->dt || !bm->ds
                  ? LVC_ERR_NOMEM
                  : cost_cache_init(&bm->cost, &m->y_cdf);
    }
    if (ret)
        block_modes_free(bm);
    return ret;
}

static inline int shifted_index(int idx, int shift)
{
    return idx > shift ? idx - shift : 0;
}

/* Encoder: the costs of every block of one pass of slice channels
 * [c0, c0 + sk) in each mode, and the scale shift that makes the pass
 * cheapest (returned). Intra and inter give the same rounding error, and
 * skip the inter one when every residual of the block is 0, so the choice
 * is by rate alone; pick_mode then adds the cost of each block's flag. */
static int choose_modes(const LvcModel *m, BlockModes *bm, const PassCoder *pc,
                        const int16_t *par, int c0, int sk, int pass, int th, int tw)
{
    const size_t tpix = (size_t)th * tw, nb = (size_t)bm->bw * bm->bh;
    const float ims = 1.0f / (float)(1 << m->out_fa);
    memset(bm->ci, 0, nb * sizeof(double));
    memset(bm->ct, 0, nb * NSHIFT * sizeof(double));
    memset(bm->di, 0, nb * sizeof(double));
    memset(bm->dt, 0, nb * sizeof(double));
    memset(bm->ds, 0, nb * sizeof(double));
    for (int cs = 0; cs < sk; cs++) {
        const int c = c0 + cs;
        const int16_t *scl = par + (size_t)cs * tpix;
        const int16_t *mu = par + (size_t)(sk + cs) * tpix;
        const int16_t *ref = pc->ref + (size_t)c * tpix;
        const float *yh = pc->yh + (size_t)c * tpix;
        for (int yy = 0; yy < th; yy++)
            for (int xx = (yy + pass) & 1; xx < tw; xx += 2) {
                const size_t i = (size_t)yy * tw + xx;
                const size_t b = (size_t)(yy >> bm->bl) * bm->bw + (xx >> bm->bl);
                const int idx = lvc_scale_index_q(scl[i], m->out_fa);
                const int32_t qi = round_i32(yh[i] - mu[i] * ims);
                const int32_t qt = round_i32(yh[i] - ref[i] * ims);
                bm->ci[b] += cost_of(&bm->cost, idx, qi);
                double *ct = bm->ct + b * NSHIFT;
                for (int d = 0; d < NSHIFT; d++)
                    ct[d] += cost_of(&bm->cost, shifted_index(idx, d), qt);
                const float ei = yh[i] - (float)qi - mu[i] * ims;
                const float et = yh[i] - (float)qt - ref[i] * ims;
                const float es = yh[i] - ref[i] * ims;
                bm->di[b] += ei * ei;
                bm->dt[b] += et * et;
                bm->ds[b] += es * es;
            }
    }
    int best_d = 0;
    double best = INFINITY;
    for (int d = 0; d < NSHIFT; d++) {
        double tot = 0.0;
        for (size_t b = 0; b < nb; b++) {
            const double ct = bm->ct[b * NSHIFT + d];
            tot += ct < bm->ci[b] ? ct : bm->ci[b];
        }
        if (tot < best) {
            best = tot;
            best_d = d;
        }
    }
    return best_d;
}

static int pick_mode(const BlockModes *bm, size_t b, int d)
{
    const LvcAdaptive *am = &bm->am[bm->prev[b]];
    const double ri = bm->ci[b] + lvc_adaptive_cost_bits(am, LVC_BLOCK_INTRA);
    const double rt = bm->ct[b * NSHIFT + d] + lvc_adaptive_cost_bits(am, LVC_BLOCK_INTER);
    const double rs = lvc_adaptive_cost_bits(am, LVC_BLOCK_SKIP);
    /* intra and inter by rate (their errors are alike); skip when the
     * bits it saves pay for the error it adds */
    const int coded = rt < ri ? LVC_BLOCK_INTER : LVC_BLOCK_INTRA;
    const double rc = coded == LVC_BLOCK_INTER ? rt : ri;
    const double dc = coded == LVC_BLOCK_INTER ? bm->dt[b] : bm->di[b];
    return rs + bm->kappa * (bm->ds[b] - dc) < rc ? LVC_BLOCK_SKIP : coded;
}


static int code_passes(const LvcModel *m, LvcNn *nn, TileBufs *b, int th, int tw, PassCoder *pc)
{
    CtxBufs k;
    BlockModes bm;
    memset(&bm, 0, sizeof(bm));
    const size_t tpix = (size_t)th * tw;
    const float inv_mean_scale = 1.0f / (float)(1 << m->out_fa);
    const int inter = pc->tp && pc->tp->inter;
    LvcRansDec dec;
    int ret = ctx_alloc(m, nn, th, tw, &k);
    if (ret < 0)
        return ret;
    if (inter && (ret = block_modes_init(&bm, m, th, tw, pc->tp->block_log2, !pc->decode)) < 0)
        goto end;
    if (pc->decode && (ret = lvc_rans_dec_init(&dec, pc->ts->y, pc->ts->y_size)) < 0)
        goto end;
    int c0 = 0;
    for (int s = 0; s < m->nslices; s++) {
        const int sk = m->slice_c[s];
        const LvcTensor *cc = NULL;
        if (s) {
            k.yprev.c = c0;
            k.yprev.frac = m->out_fa;
            k.cc.c = m->cc_cout[s];
            if ((ret = lvc_nn_tensor_write(nn, &k.yprev, k.yq_host)) < 0 ||
                (ret = lvc_model_channel_context(m, nn, s, &k.yprev, &k.cc)) < 0)
                goto end;
            cc = &k.cc;
        }
        memset(k.ya_host, 0, (size_t)sk * tpix * sizeof(int16_t));
        for (int pass = 0; pass < 2; pass++) {
            const LvcTensor *sc = NULL;
            if (pass) {
                k.yanchor.c = sk;
                k.yanchor.frac = m->out_fa;
                k.sc.c = m->sc_cout[s];
                if ((ret = lvc_nn_tensor_write(nn, &k.yanchor, k.ya_host)) < 0 ||
                    (ret = lvc_model_spatial_context(m, nn, s, &k.yanchor, &k.sc)) < 0)
                    goto end;
                sc = &k.sc;
            }
            k.params.c = 2 * sk;
            k.params.frac = m->out_fa;
            if ((ret = lvc_model_entropy_params(m, nn, s, &b->params, sc, cc, &k.params)) < 0 ||
                (ret = lvc_nn_tensor_read(nn, &k.params, k.par_host)) < 0)
                goto end;
            /* Inter frames: the pass's scale shift (raw bits), then one mode
             * per block in raster order, modelled by the block's mode in the
             * pass before. */
            int shift = 0;
            if (inter) {
                const size_t nb = (size_t)bm.bw * bm.bh;
                if (pc->decode) {
                    shift = (int)lvc_rans_dec_get_bits(&dec, LVC_SCALE_SHIFT_BITS);
                    digest_q(pc->dg, shift);
                } else {
                    shift = choose_modes(m, &bm, pc, k.par_host, c0, sk, pass, th, tw);
                    if ((ret = lvc_rans_enc_put_bits(pc->enc, (uint32_t)shift,
                                                     LVC_SCALE_SHIFT_BITS)) < 0)
                        goto end;
                }
                for (size_t bi = 0; bi < nb; bi++) {
                    LvcAdaptive *am = &bm.am[bm.prev[bi]];
                    int md;
                    if (pc->decode) {
                        if ((md = lvc_adaptive_decode(am, &dec)) < 0) {
                            ret = LVC_ERR_CORRUPT;
                            goto end;
                        }
                        digest_q(pc->dg, md);
                    } else {
                        md = pick_mode(&bm, bi, shift);
                        if ((ret = lvc_adaptive_encode(am, pc->enc, md)) < 0)
                            goto end;
                    }
                    bm.mode[bi] = (uint8_t)md;
                    pc->blocks[md]++;
                }
                memcpy(bm.prev, bm.mode, nb);
            }
            for (int cs = 0; cs < sk; cs++) {
                const int c = c0 + cs;
                const int16_t *scl = k.par_host + (size_t)cs * tpix;
                const int16_t *mu = k.par_host + (size_t)(sk + cs) * tpix;
                int16_t *ref = pc->ref ? pc->ref + (size_t)c * tpix : NULL;
                for (int yy = 0; yy < th; yy++) {
                    float *row = pc->decode && pc->ydst
                                     ? pc->ydst + ((size_t)c * pc->g->hl + pc->ly0 + yy) *
                                                      pc->g->wl + pc->lx0
                                     : NULL;
                    const uint8_t *mrow = inter ? bm.mode + (size_t)(yy >> bm.bl) * bm.bw : NULL;
                    for (int xx = (yy + pass) & 1; xx < tw; xx += 2) {
                        const size_t i = (size_t)yy * tw + xx;
                        const int md = mrow ? mrow[xx >> bm.bl] : LVC_BLOCK_INTRA;
                        int idx = lvc_scale_index_q(scl[i], m->out_fa);
                        int32_t mean = mu[i];
                        if (md != LVC_BLOCK_INTRA) {
                            idx = shifted_index(idx, shift);
                            mean = ref[i];
                        }
                        const LvcCdf *t = &m->y_cdf.tables[idx];
                        int32_t q = 0;
                        if (pc->decode) {
                            if (md != LVC_BLOCK_SKIP) {
                                q = lvc_rans_dec_get(&dec, t);
                                digest_q(pc->dg, q);
                            }
                            if (row) {
                                const int64_t fixed = (int64_t)q * (1 << m->out_fa) + mean;
                                row[xx] = (float)((double)fixed * inv_mean_scale) *
                                          pc->inv_gain[c];
                            }
                        } else if (md != LVC_BLOCK_SKIP) {
                            q = round_i32(pc->yh[(size_t)c * tpix + i] - mean * inv_mean_scale);
                            if ((ret = lvc_rans_enc_put(pc->enc, t, q)) < 0)
                                goto end;
                        }
                        const int16_t f = fixed_sat16(q, (int16_t)mean, m->out_fa);
                        k.yq_host[(size_t)c * tpix + i] = f;
                        if (pass == 0)
                            k.ya_host[(size_t)cs * tpix + i] = f;
                        if (ref)
                            ref[i] = f;
                    }
                }
            }
            /* stop at the first pass that ran past the data */
            if (pc->decode && (ret = lvc_rans_dec_status(&dec)) < 0)
                goto end;
        }
        c0 += sk;
    }
    if (pc->decode)
        ret = lvc_rans_dec_finish(&dec);
    if (ret >= 0 && pc->tp)
        for (int i = 0; i < LVC_BLOCK_MODES; i++)
            pc->tp->blocks[i] += pc->blocks[i];
end:
    block_modes_free(&bm);
    ctx_free(nn, &k);
    return ret;
}

/* The gained latents of a tile, as a contiguous M x th x tw block. */
static void fill_gained(const LvcModel *m, const LvcGeometry *g, const LvcTensor *y,
                        const float *gain, int lx0, int ly0, int tw, int th, float *yh)
{
    const float *ysrc = (const float *)y->data;
    for (int c = 0; c < m->M; c++)
        for (int yy = 0; yy < th; yy++)
            for (int xx = 0; xx < tw; xx++)
                yh[((size_t)c * th + yy) * tw + xx] =
                    ysrc[((size_t)c * g->hl + ly0 + yy) * g->wl + lx0 + xx] * gain[c];
}

size_t lvc_latent_ref_offset(const LvcModel *m, const LvcGeometry *g, int t)
{
    /* the tile rows above cover ly0 full latent rows; the tiles before t
     * in its row, lx0 columns of its height */
    int lx0, ly0, lx1, ly1;
    lvc_geometry_tile(g, t, &lx0, &ly0, &lx1, &ly1);
    return (size_t)m->M * ((size_t)ly0 * g->wl + (size_t)lx0 * (ly1 - ly0));
}

static int encode_tile(const LvcModel *m, LvcNn *nn, const LvcGeometry *g, const LvcTensor *y,
                       const float *gain, int t, LvcLatentTemporal *tp, LvcLatentStreams *out)
{
    int lx0, ly0, lx1, ly1;
    lvc_geometry_tile(g, t, &lx0, &ly0, &lx1, &ly1);
    const int tw = lx1 - lx0, th = ly1 - ly0;
    const int zh = th / LVC_MODEL_ZSCALE, zw = tw / LVC_MODEL_ZSCALE;
    const size_t tpix = (size_t)tw * th;
    TileBufs b;
    LvcTensor yt = { 0 }, zt = { 0 };
    float *yh = NULL, *zf = NULL;
    LvcRansEnc ez, ey;
    lvc_rans_enc_init(&ez);
    lvc_rans_enc_init(&ey);
    int ret = tile_bufs_alloc(m, nn, th, tw, &b);
    if (ret < 0)
        return ret;
    yh = lvc_malloc_array((size_t)m->M * tpix, sizeof(float));
    zf = m->has_hyper ? lvc_malloc_array((size_t)m->N * zh * zw, sizeof(float)) : NULL;
    if (!yh || (m->has_hyper && !zf)) {
        ret = LVC_ERR_NOMEM;
        goto end;
    }
    fill_gained(m, g, y, gain, lx0, ly0, tw, th, yh);
    if (!m->has_hyper) {
        /* factorized: channel c of y uses table c */
        for (int c = 0; c < m->M; c++)
            for (size_t i = 0; i < tpix; i++)
                if ((ret = lvc_rans_enc_put(&ey, &m->y_cdf.tables[c],
                                            round_i32(yh[(size_t)c * tpix + i]))) < 0)
                    goto end;
        ret = lvc_rans_enc_finish_alloc(&ey, &out->y[t], &out->y_size[t]);
        goto end;
    }
    if ((ret = lvc_nn_tensor_alloc(nn, &yt, m->M, th, tw, LVC_NN_F32, 0)) < 0 ||
        (ret = lvc_nn_tensor_alloc(nn, &zt, m->N, zh, zw, LVC_NN_F32, 0)) < 0)
        goto end;
    if (!m->has_means) /* the scale hyperprior analyses magnitudes */
        for (size_t i = 0; i < (size_t)m->M * tpix; i++)
            yh[i] = fabsf(yh[i]);
    if ((ret = lvc_nn_tensor_write(nn, &yt, yh)) < 0 ||
        (ret = lvc_model_hyper_analysis(m, nn, &yt, &zt)) < 0 ||
        (ret = lvc_nn_tensor_read(nn, &zt, zf)) < 0)
        goto end;
    if (!m->has_means)
        fill_gained(m, g, y, gain, lx0, ly0, tw, th, yh); /* restore signs */
    const size_t zn = (size_t)m->N * zh * zw;
    for (size_t i = 0; i < zn; i++)
        b.zh_host[i] = sat16(zf[i]);
    if ((ret = run_hyper_synthesis(m, nn, &b)) < 0)
        goto end;

    /* z: channel c uses the factorized table c */
    const size_t zplane = (size_t)zh * zw;
    for (int c = 0; c < m->N; c++)
        for (size_t i = 0; i < zplane; i++)
            if ((ret = lvc_rans_enc_put(&ez, &m->z_cdf.tables[c], b.zh_host[c * zplane + i])) < 0)
                goto end;
    if (m->has_ctx) {
        PassCoder pc = { .decode = 0, .yh = yh, .enc = &ey, .tp = tp,
                         .ref = tp ? tp->ref + lvc_latent_ref_offset(m, g, t) : NULL };
        if ((ret = code_passes(m, nn, &b, th, tw, &pc)) < 0)
            goto end;
    } else {
        /* y: Gaussian table by scale index, centred on the integer mean */
        const float inv_mean_scale = 1.0f / (float)(1 << m->out_fa);
        for (int c = 0; c < m->M; c++) {
            const int16_t *sc = b.par_host + (size_t)c * tpix;
            const int16_t *mu = m->has_means ? b.par_host + (size_t)(m->M + c) * tpix : NULL;
            const float *yc = yh + (size_t)c * tpix;
            for (size_t i = 0; i < tpix; i++) {
                const int idx = lvc_scale_index_q(sc[i], m->out_fa);
                const float mean = mu ? (float)mu[i] * inv_mean_scale : 0.0f;
                const int32_t q = round_i32(yc[i] - mean);
                if ((ret = lvc_rans_enc_put(&ey, &m->y_cdf.tables[idx], q)) < 0)
                    goto end;
            }
        }
    }
    if ((ret = lvc_rans_enc_finish_alloc(&ez, &out->z[t], &out->z_size[t])) < 0 ||
        (ret = lvc_rans_enc_finish_alloc(&ey, &out->y[t], &out->y_size[t])) < 0)
        goto end;
end:
    lvc_rans_enc_free(&ez);
    lvc_rans_enc_free(&ey);
    lvc_nn_tensor_free(nn, &yt);
    lvc_nn_tensor_free(nn, &zt);
    lvc_free(yh);
    lvc_free(zf);
    tile_bufs_free(nn, &b);
    return ret;
}

int lvc_latent_encode(const LvcModel *m, LvcNn *nn, const LvcGeometry *g, const LvcTensor *y,
                      float q, LvcLatentTemporal *tp, LvcLatentStreams *out)
{
    memset(out, 0, sizeof(*out));
    if (tp && (!m->has_ctx || !tp->ref || tp->block_log2 < 1 || tp->block_log2 > 4))
        return LVC_ERR_UNSUPPORTED;
    const int ntiles = g->tiles_x * g->tiles_y;
    float *gain = lvc_malloc_array((size_t)m->M, sizeof(float));
    float *inv_gain = lvc_malloc_array((size_t)m->M, sizeof(float));
    int ret = LVC_ERR_NOMEM;
    out->ntiles = ntiles;
    out->z = lvc_calloc((size_t)ntiles, sizeof(*out->z));
    out->y = lvc_calloc((size_t)ntiles, sizeof(*out->y));
    out->z_size = lvc_calloc((size_t)ntiles, sizeof(*out->z_size));
    out->y_size = lvc_calloc((size_t)ntiles, sizeof(*out->y_size));
    if (!gain || !inv_gain || !out->z || !out->y || !out->z_size || !out->y_size)
        goto end;
    lvc_model_gains(m, q, gain, inv_gain);
    for (int t = 0; t < ntiles; t++)
        if ((ret = encode_tile(m, nn, g, y, gain, t, tp, out)) < 0)
            goto end;
    ret = 0;
end:
    if (ret < 0)
        lvc_latent_streams_free(out);
    lvc_free(gain);
    lvc_free(inv_gain);
    return ret;
}

static void digest_i16(LvcSha256 *s, const int16_t *v, size_t n)
{
    uint8_t buf[512];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        buf[k++] = (uint8_t)((uint16_t)v[i] & 0xff);
        buf[k++] = (uint8_t)((uint16_t)v[i] >> 8);
        if (k == sizeof(buf)) {
            lvc_sha256_update(s, buf, k);
            k = 0;
        }
    }
    lvc_sha256_update(s, buf, k);
}

size_t lvc_latent_z_count(const LvcModel *m, const LvcGeometry *g, int t)
{
    int lx0, ly0, lx1, ly1;
    if (!m->has_hyper)
        return 0;
    lvc_geometry_tile(g, t, &lx0, &ly0, &lx1, &ly1);
    return (size_t)m->N * ((ly1 - ly0) / LVC_MODEL_ZSCALE) * ((lx1 - lx0) / LVC_MODEL_ZSCALE);
}

int lvc_latent_decode_z(const LvcModel *m, const LvcGeometry *g, int t, const uint8_t *buf,
                        size_t size, int16_t *zhat)
{
    if (!m->has_hyper)
        return 0;
    if (!buf)
        return LVC_ERR_CORRUPT;
    const size_t zplane = lvc_latent_z_count(m, g, t) / (size_t)m->N;
    LvcRansDec dz;
    int ret = lvc_rans_dec_init(&dz, buf, size);
    if (ret < 0)
        return ret;
    for (int c = 0; c < m->N; c++) {
        for (size_t i = 0; i < zplane; i++) {
            const int32_t v = lvc_rans_dec_get(&dz, &m->z_cdf.tables[c]);
            if (v < -32768 || v > 32767)
                return LVC_ERR_CORRUPT;
            zhat[c * zplane + i] = (int16_t)v;
        }
        /* stop at the first channel that ran past the data */
        if (lvc_rans_dec_status(&dz) < 0)
            return LVC_ERR_CORRUPT;
    }
    return lvc_rans_dec_finish(&dz);
}

int lvc_latent_decode_tile(const LvcModel *m, LvcNn *nn, const LvcGeometry *g, int t,
                           const LvcTileStreams *ts, const int16_t *zhat, const float *inv_gain,
                           LvcTensor *yhat, LvcLatentTemporal *tp,
                           uint8_t tile_digest[LVC_SHA256_SIZE])
{
    int lx0, ly0, lx1, ly1;
    lvc_geometry_tile(g, t, &lx0, &ly0, &lx1, &ly1);
    const int tw = lx1 - lx0, th = ly1 - ly0;
    const int zh = th / LVC_MODEL_ZSCALE, zw = tw / LVC_MODEL_ZSCALE;
    const size_t tpix = (size_t)tw * th;
    TileBufs b;
    LvcRansDec dy;
    LvcSha256 sha;
    DigestBuf dg = { .sha = &sha };
    /* substreams present exactly as the architecture defines them */
    if (m->has_hyper != (ts->z != NULL) || !ts->y)
        return LVC_ERR_CORRUPT;
    if (tp && (!m->has_ctx || !tp->ref || tp->block_log2 < 1 || tp->block_log2 > 4))
        return LVC_ERR_UNSUPPORTED;
    int ret = tile_bufs_alloc(m, nn, th, tw, &b);
    if (ret < 0)
        return ret;
    lvc_sha256_init(&sha);
    if (m->has_hyper) {
        const size_t zn = (size_t)m->N * zh * zw;
        memcpy(b.zh_host, zhat, zn * sizeof(int16_t));
        digest_i16(&sha, b.zh_host, zn);
        if ((ret = run_hyper_synthesis(m, nn, &b)) < 0)
            goto end;
    }
    if (m->has_ctx) {
        PassCoder pc = { .decode = 1, .ts = ts, .ydst = (float *)yhat->data, .g = g,
                         .lx0 = lx0, .ly0 = ly0, .inv_gain = inv_gain, .dg = &dg, .tp = tp,
                         .ref = tp ? tp->ref + lvc_latent_ref_offset(m, g, t) : NULL };
        if ((ret = code_passes(m, nn, &b, th, tw, &pc)) < 0)
            goto end;
    } else {
        if ((ret = lvc_rans_dec_init(&dy, ts->y, ts->y_size)) < 0)
            goto end;
        float *ydst = (float *)yhat->data;
        const double inv_mean_scale = 1.0 / (double)(1 << m->out_fa);
        for (int c = 0; c < m->M; c++) {
            const int16_t *sc = m->has_hyper ? b.par_host + (size_t)c * tpix : NULL;
            const int16_t *mu = m->has_means ? b.par_host + (size_t)(m->M + c) * tpix : NULL;
            for (int yy = 0; yy < th; yy++) {
                float *row = ydst + ((size_t)c * g->hl + ly0 + yy) * g->wl + lx0;
                for (int xx = 0; xx < tw; xx++) {
                    const size_t i = (size_t)yy * tw + xx;
                    const LvcCdf *table =
                        sc ? &m->y_cdf.tables[lvc_scale_index_q(sc[i], m->out_fa)]
                           : &m->y_cdf.tables[c];
                    const int32_t q = lvc_rans_dec_get(&dy, table);
                    /* exact in double: the mean has out_fa fractional bits */
                    const int64_t fixed = (int64_t)q * (1 << m->out_fa) + (mu ? mu[i] : 0);
                    row[xx] = (float)((double)fixed * inv_mean_scale) * inv_gain[c];
                    digest_q(&dg, q);
                }
            }
        }
        if ((ret = lvc_rans_dec_finish(&dy)) < 0)
            goto end;
    }
    digest_flush(&dg);
    lvc_sha256_final(&sha, tile_digest);
    ret = 0;
end:
    tile_bufs_free(nn, &b);
    return ret;
}
