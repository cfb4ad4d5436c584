/*
 * Forward graphs shared by the autoencoder architectures (models/model.h).
 * Activations come from two or three ping-pong tensors allocated once per
 * call at the largest size the graph needs, never per layer.
 */
#include <math.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "models/model.h"
#include "models/modelfile.h"
#include "models/registry.h"

/* A flat buffer of at least elems elements, reshaped per layer (c*h*w
 * never exceeds what was allocated). */
static int alloc_flat(LvcNn *nn, LvcTensor *t, size_t elems, LvcNnDType dt)
{
    const size_t row = 4096;
    const size_t rows = (elems + row - 1) / row;
    if (rows > LVC_NN_MAX_DIM)
        return LVC_ERR_LIMIT;
    return lvc_nn_tensor_alloc(nn, t, 1, (int)rows, (int)row, dt, 0);
}

static int alloc_f32(LvcNn *nn, LvcTensor *t, size_t elems)
{
    return alloc_flat(nn, t, elems, LVC_NN_F32);
}

static void reshape(LvcTensor *t, int c, int h, int w)
{
    t->c = c;
    t->h = h;
    t->w = w;
}

void lvc_model_scratch_free(LvcNn *nn, LvcModelScratch *s)
{
    if (!s)
        return;
    lvc_nn_tensor_free(nn, &s->a);
    lvc_nn_tensor_free(nn, &s->b);
    s->elems = 0;
}

/* Two F32 buffers of at least elems elements each: the scratch's (grown
 * when too small) or, without one, fresh ones in *own. */
static int scratch_get(LvcNn *nn, LvcModelScratch *s, LvcModelScratch *own, size_t elems,
                       LvcTensor *a, LvcTensor *b)
{
    if (!s)
        s = own;
    if (s->elems < elems) {
        lvc_model_scratch_free(nn, s);
        int ret;
        if ((ret = alloc_f32(nn, &s->a, elems)) < 0 || (ret = alloc_f32(nn, &s->b, elems)) < 0) {
            lvc_model_scratch_free(nn, s);
            return ret;
        }
        s->elems = elems;
    }
    *a = s->a;
    *b = s->b;
    return 0;
}

void lvc_model_gains(const LvcModel *m, float quality, float *gain, float *inv_gain)
{
    if (!(quality >= 0.0f))
        quality = 0.0f;
    if (quality > 100.0f)
        quality = 100.0f;
    const double pos = (double)quality / 100.0 * (m->L - 1);
    int lo = (int)floor(pos);
    if (lo > m->L - 2)
        lo = m->L - 2;
    const double t = pos - lo;
    const float *g0 = m->gain + (size_t)lo * m->M, *g1 = g0 + m->M;
    const float *i0 = m->inv_gain + (size_t)lo * m->M, *i1 = i0 + m->M;
    for (int c = 0; c < m->M; c++) {
        gain[c] = (float)exp((1.0 - t) * log(g0[c]) + t * log(g1[c]));
        inv_gain[c] = (float)exp((1.0 - t) * log(i0[c]) + t * log(i1[c]));
    }
}

/* Both transforms need two buffers of N x (8h) x (8w) for an h x w latent
 * window: analysis at its first stage, synthesis before its third shuffle
 * (4N x 4h x 4w). */
/* The largest activation of the float transforms for an h x w latent
 * window: N (or 4N at half the size) channels at 8h x 8w, or the 12
 * channels before g_s's last pixel shuffle, which is more when N < 12. */
static size_t transform_elems(const LvcModel *m, int h, int w)
{
    const size_t c = m->N > 12 ? (size_t)m->N : 12;
    return (size_t)64 * c * (size_t)h * (size_t)w;
}

int lvc_model_scratch_reserve(const LvcModel *m, LvcNn *nn, LvcModelScratch *s, int h, int w)
{
    LvcTensor a, b;
    return scratch_get(nn, s, NULL, transform_elems(m, h, w), &a, &b);
}

int lvc_model_analysis(const LvcModel *m, LvcNn *nn, LvcModelScratch *scratch,
                       const LvcTensor *x, LvcTensor *y)
{
    if (m->decoder_only || x->c != 3 || x->h % 16 || x->w % 16 || y->c != m->M ||
        y->h != x->h / 16 || y->w != x->w / 16)
        return LVC_ERR_INVALID_ARG;
    LvcTensor a = { 0 }, b = { 0 };
    LvcModelScratch own = { 0 };
    const size_t big = transform_elems(m, x->h / 16, x->w / 16);
    int ret;
    if ((ret = scratch_get(nn, scratch, &own, big, &a, &b)) < 0)
        goto end;
    const LvcTensor *in = x;
    int h = x->h, w = x->w;
    for (int i = 0; i < 3; i++) {
        h /= 2;
        w /= 2;
        reshape(&a, m->N, h, w);
        if ((ret = lvc_nn_forward(nn, m->ga_conv[i], in, &a)) < 0)
            goto end;
        reshape(&b, m->N, h, w);   /* b may be `in`: reshape only after use */
        if ((ret = lvc_nn_forward(nn, m->ga_gdn[i], &a, &b)) < 0)
            goto end;
        in = &b;
    }
    ret = lvc_nn_forward(nn, m->ga_conv[3], in, y);
end:
    lvc_model_scratch_free(nn, &own);
    return ret;
}

int lvc_model_hyper_analysis(const LvcModel *m, LvcNn *nn, const LvcTensor *y, LvcTensor *z)
{
    if (m->decoder_only || !m->has_hyper || y->c != m->M || y->h % 4 || y->w % 4 ||
        z->c != m->N || z->h != y->h / 4 || z->w != y->w / 4)
        return LVC_ERR_INVALID_ARG;
    LvcTensor a = { 0 }, b = { 0 };
    int ret;
    const size_t big = (size_t)m->N * y->h * y->w;
    if ((ret = alloc_f32(nn, &a, big)) < 0 || (ret = alloc_f32(nn, &b, big)) < 0)
        goto end;
    reshape(&a, m->N, y->h, y->w);
    if ((ret = lvc_nn_forward(nn, m->ha_conv[0], y, &a)) < 0 ||
        (ret = lvc_nn_act(nn, &a, &a, LVC_ACT_RELU, 0.0f)) < 0)
        goto end;
    reshape(&b, m->N, y->h / 2, y->w / 2);
    if ((ret = lvc_nn_forward(nn, m->ha_conv[1], &a, &b)) < 0 ||
        (ret = lvc_nn_act(nn, &b, &b, LVC_ACT_RELU, 0.0f)) < 0)
        goto end;
    ret = lvc_nn_forward(nn, m->ha_conv[2], &b, z);
end:
    lvc_nn_tensor_free(nn, &a);
    lvc_nn_tensor_free(nn, &b);
    return ret;
}

int lvc_model_hyper_synthesis(const LvcModel *m, LvcNn *nn, const LvcTensor *zhat,
                              LvcTensor *params)
{
    if (!m->has_hyper || zhat->c != m->N || zhat->dtype != LVC_NN_I16 ||
        params->dtype != LVC_NN_I16 || params->c != m->hs_cout[2] || params->h != 4 * zhat->h || params->w != 4 * zhat->w)
        return LVC_ERR_INVALID_ARG;
    LvcTensor a = { 0 }, b = { 0 };
    int ret;
    /* widest intermediate: 6N channels at 2x before the shuffle, or 4N at 1x */
    const size_t big = (size_t)6 * m->N * (2 * zhat->h) * (2 * zhat->w);
    if ((ret = alloc_flat(nn, &a, big, LVC_NN_I16)) < 0 ||
        (ret = alloc_flat(nn, &b, big, LVC_NN_I16)) < 0)
        goto end;
    const LvcTensor *in = zhat;
    int h = zhat->h, w = zhat->w;
    for (int i = 0; i < 2; i++) {
        const LvcNnLayer *l = m->hs_conv[i];
        const int cout = m->hs_cout[i];
        reshape(&a, cout, h, w);
        if ((ret = lvc_nn_forward(nn, l, in, &a)) < 0)
            goto end;
        h *= 2;
        w *= 2;
        reshape(&b, cout / 4, h, w);
        b.frac = a.frac;
        if ((ret = lvc_nn_pixel_shuffle(nn, &a, 2, &b)) < 0)
            goto end;
        in = &b;
    }
    ret = lvc_nn_forward(nn, m->hs_conv[2], in, params);
end:
    lvc_nn_tensor_free(nn, &a);
    lvc_nn_tensor_free(nn, &b);
    return ret;
}

int lvc_model_spatial_context(const LvcModel *m, LvcNn *nn, int k, const LvcTensor *yanchor,
                              LvcTensor *sc)
{
    if (!m->has_ctx || k < 0 || k >= m->nslices)
        return LVC_ERR_INVALID_ARG;
    return lvc_nn_forward(nn, m->sc_conv[k], yanchor, sc);
}

int lvc_model_channel_context(const LvcModel *m, LvcNn *nn, int k, const LvcTensor *yprev,
                              LvcTensor *cc)
{
    if (!m->has_ctx || k < 1 || k >= m->nslices)
        return LVC_ERR_INVALID_ARG;
    return lvc_nn_forward(nn, m->cc_conv[k], yprev, cc);
}

int lvc_model_entropy_params(const LvcModel *m, LvcNn *nn, int k, const LvcTensor *hyper,
                             const LvcTensor *sc, const LvcTensor *cc, LvcTensor *params)
{
    if (!m->has_ctx || k < 0 || k >= m->nslices || hyper->c != m->hs_cout[2] ||
        params->c != 2 * m->slice_c[k] || hyper->h != params->h || hyper->w != params->w ||
        (k > 0) != (cc != NULL))
        return LVC_ERR_INVALID_ARG;
    const int h = hyper->h, w = hyper->w;
    const size_t plane = (size_t)h * w;
    const int cin = hyper->c + m->sc_cout[k] + (k ? m->cc_cout[k] : 0);
    LvcTensor in = { 0 }, a = { 0 }, b = { 0 };
    int ret;
    if ((ret = lvc_nn_tensor_alloc(nn, &in, cin, h, w, LVC_NN_I16, hyper->frac)) < 0 ||
        (ret = alloc_flat(nn, &a, (size_t)m->ep_cout[k][0] * plane, LVC_NN_I16)) < 0 ||
        (ret = alloc_flat(nn, &b, (size_t)m->ep_cout[k][1] * plane, LVC_NN_I16)) < 0)
        goto end;
    /* concat(hyper, sc, cc): the spatial context is zeros for the anchors */
    LvcTensor v;
    if ((ret = lvc_tensor_channels(&in, 0, hyper->c, &v)) < 0 ||
        (ret = lvc_nn_copy(nn, hyper, &v)) < 0 ||
        (ret = lvc_tensor_channels(&in, hyper->c, m->sc_cout[k], &v)) < 0)
        goto end;
    if (sc) {
        if (sc->frac != hyper->frac) {
            ret = LVC_ERR_INVALID_ARG;
            goto end;
        }
        if ((ret = lvc_nn_copy(nn, sc, &v)) < 0)
            goto end;
    } else {
        int16_t *zeros = lvc_calloc(lvc_tensor_elems(&v), sizeof(int16_t));
        if (!zeros) {
            ret = LVC_ERR_NOMEM;
            goto end;
        }
        ret = lvc_nn_tensor_write(nn, &v, zeros);
        lvc_free(zeros);
        if (ret < 0)
            goto end;
    }
    if (cc) {
        if (cc->frac != hyper->frac) {
            ret = LVC_ERR_INVALID_ARG;
            goto end;
        }
        if ((ret = lvc_tensor_channels(&in, hyper->c + m->sc_cout[k], m->cc_cout[k], &v)) < 0 ||
            (ret = lvc_nn_copy(nn, cc, &v)) < 0)
            goto end;
    }
    reshape(&a, m->ep_cout[k][0], h, w);
    reshape(&b, m->ep_cout[k][1], h, w);
    if ((ret = lvc_nn_forward(nn, m->ep_conv[k][0], &in, &a)) < 0 ||
        (ret = lvc_nn_forward(nn, m->ep_conv[k][1], &a, &b)) < 0)
        goto end;
    ret = lvc_nn_forward(nn, m->ep_conv[k][2], &b, params);
end:
    lvc_nn_tensor_free(nn, &in);
    lvc_nn_tensor_free(nn, &a);
    lvc_nn_tensor_free(nn, &b);
    return ret;
}

int lvc_model_synthesis(const LvcModel *m, LvcNn *nn, LvcModelScratch *scratch,
                        const LvcTensor *yhat, LvcTensor *x)
{
    if (yhat->c != m->M || x->c != 3 || x->h != 16 * yhat->h || x->w != 16 * yhat->w)
        return LVC_ERR_INVALID_ARG;
    LvcTensor a = { 0 }, b = { 0 };
    LvcModelScratch own = { 0 };
    int ret;
    const size_t big = transform_elems(m, yhat->h, yhat->w);
    if ((ret = scratch_get(nn, scratch, &own, big, &a, &b)) < 0)
        goto end;
    const LvcTensor *in = yhat;
    int h = yhat->h, w = yhat->w;
    for (int i = 0; i < 3; i++) {
        reshape(&a, 4 * m->N, h, w);
        if ((ret = lvc_nn_forward(nn, m->gs_conv[i], in, &a)) < 0)
            goto end;
        h *= 2;
        w *= 2;
        reshape(&b, m->N, h, w);
        if ((ret = lvc_nn_pixel_shuffle(nn, &a, 2, &b)) < 0)
            goto end;
        reshape(&a, m->N, h, w);
        if ((ret = lvc_nn_forward(nn, m->gs_igdn[i], &b, &a)) < 0)
            goto end;
        /* swap so the next layer reads from a and writes into b's storage */
        LvcTensor t = a;
        a = b;
        b = t;
        in = &b;
    }
    reshape(&a, 12, h, w);
    if ((ret = lvc_nn_forward(nn, m->gs_conv[3], in, &a)) < 0)
        goto end;
    ret = lvc_nn_pixel_shuffle(nn, &a, 2, x);
end:
    lvc_model_scratch_free(nn, &own);
    return ret;
}

double lvc_model_macs_per_pixel(LvcArch arch, int N, int M, int decoder)
{
    const double n = N, m = M;
    /* g_s: sub-pixel convs at 1/256, 1/64, 1/16, 1/4 of the pixels (output
     * positions before the shuffle), IGDN at 1/64, 1/16, 1/4. */
    double macs = 9 * m * 4 * n / 256 + 36 * n * n / 64 + 36 * n * n / 16 + 9 * n * 12 / 4 +
                  n * n * (1.0 / 64 + 1.0 / 16 + 1.0 / 4);
    /* h_s (integer): at 1/4096, 1/1024 and 1/256 */
    const double outs = arch == LVC_ARCH_HYPERPRIOR ? m : 2 * m;
    if (arch == LVC_ARCH_CHECKERBOARD) /* ctx 3x3 M->M, ep 3M->2M->2M->2M, 2 passes */
        macs += (9 * m * m + 2 * (3 * m * 2 * m + 2 * m * 2 * m + 2 * m * 2 * m)) / 256;
    if (arch == LVC_ARCH_ELIC) { /* slices 16,16,32,64,M-128; ep hidden 128 */
        const double sl[5] = { 16, 16, 32, 64, m - 128 };
        double prev = 0;
        for (int k = 0; k < 5; k++) {
            const double cin = 2 * m + 2 * sl[k] + (k ? 2 * sl[k] : 0);
            macs += (9 * sl[k] * 2 * sl[k] + 9 * prev * 2 * sl[k] +
                     2 * (cin * 128 + 128 * 128 + 128 * 2 * sl[k])) / 256;
            prev += sl[k];
        }
    }
    if (arch != LVC_ARCH_FACTORIZED)
        macs += 9 * n * 4 * n / 4096 + 9 * n * 6 * n / 1024 + 9 * 1.5 * n * outs / 256;
    if (!decoder) {
        macs += 25 * 3 * n / 4 + 25 * n * n / 16 + 25 * n * n / 64 + 25 * n * m / 256 +
                n * n * (1.0 / 4 + 1.0 / 16 + 1.0 / 64);
        if (arch != LVC_ARCH_FACTORIZED)
            macs += 9 * m * n / 256 + 25 * n * n / 1024 + 25 * n * n / 4096;
    }
    return macs;
}

void lvc_model_close(LvcModel **pm, LvcNn *nn)
{
    if (!pm || !*pm)
        return;
    LvcModel *m = *pm;
    LvcNnLayer **layers[] = { m->ga_conv, m->gs_conv };
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            lvc_nn_layer_free(nn, &layers[k][i]);
    for (int k = 0; k < LVC_MODEL_MAX_SLICES; k++) {
        lvc_nn_layer_free(nn, &m->sc_conv[k]);
        lvc_nn_layer_free(nn, &m->cc_conv[k]);
        for (int i = 0; i < 3; i++)
            lvc_nn_layer_free(nn, &m->ep_conv[k][i]);
    }
    for (int i = 0; i < 3; i++) {
        lvc_nn_layer_free(nn, &m->ga_gdn[i]);
        lvc_nn_layer_free(nn, &m->gs_igdn[i]);
        lvc_nn_layer_free(nn, &m->ha_conv[i]);
        lvc_nn_layer_free(nn, &m->hs_conv[i]);
    }
    lvc_cdf_set_free(&m->z_cdf);
    lvc_cdf_set_free(&m->y_cdf);
    lvc_free(m);
    *pm = NULL;
}

/* The trunk a file shares (metadata trunk_sha256: the weights hash of an
 * embedded model, doc/model-file.md), opened; *trunk stays NULL for a
 * self-contained file. The trunk must be embedded, itself self-contained,
 * and of the same widths. */
static int open_trunk(const LvcModelFile *mf, const uint8_t *tblob, size_t tsize,
                      LvcModelFile **trunk)
{
    const char *hex = NULL, *s = NULL;
    uint8_t hash[32];
    int64_t n1, m1, n2, m2;
    int ret;
    *trunk = NULL;
    if (lvc_modelfile_meta_str(mf, "trunk_sha256", &hex) < 0)
        return 0;
    if (strlen(hex) != 64 || lvc_hex_decode(hex, hash, 32) < 0)
        return LVC_ERR_MODEL_FILE;
    if (tblob) {
        uint8_t have[32];
        lvc_sha256(tblob, tsize, have);
        if (memcmp(have, hash, 32))
            return LVC_ERR_MODEL_FILE;
    } else {
        const LvcRegistryEntry *e = lvc_registry_by_hash(hash);
        if (!e) {
            lvc_log(LVC_LOG_ERROR,
                    "model file shares the trunk %.16s..., which this build does not have", hex);
            return LVC_ERR_MODEL_FILE;
        }
        tblob = e->blob;
        tsize = e->size;
    }
    if ((ret = lvc_modelfile_open_mem(tblob, tsize, trunk)) < 0)
        return ret;
    if (lvc_modelfile_meta_str(*trunk, "trunk_sha256", &s) == 0 ||
        lvc_modelfile_meta_int(mf, "N", &n1) < 0 || lvc_modelfile_meta_int(mf, "M", &m1) < 0 ||
        lvc_modelfile_meta_int(*trunk, "N", &n2) < 0 ||
        lvc_modelfile_meta_int(*trunk, "M", &m2) < 0 || n1 != n2 || m1 != m2) {
        lvc_modelfile_close(trunk);
        return LVC_ERR_MODEL_FILE;
    }
    return 0;
}

int lvc_model_open_mem(LvcModel **pm, const uint8_t *blob, size_t size, unsigned flags,
                       LvcNn *nn)
{
    return lvc_model_open_mem_trunk(pm, blob, size, NULL, 0, flags, nn);
}

int lvc_model_open_mem_trunk(LvcModel **pm, const uint8_t *blob, size_t size,
                             const uint8_t *trunk_blob, size_t trunk_size, unsigned flags,
                             LvcNn *nn)
{
    if (!pm || !blob || (flags & ~(unsigned)LVC_MODEL_DECODER_ONLY))
        return LVC_ERR_INVALID_ARG;
    *pm = NULL;
    LvcModel *m = lvc_calloc(1, sizeof(*m));
    if (!m)
        return LVC_ERR_NOMEM;
    LvcModelFile *mf = NULL, *trunk = NULL;
    int ret = lvc_modelfile_open_mem(blob, size, &mf);
    if (ret < 0)
        goto error;
    if ((ret = open_trunk(mf, trunk_blob, trunk_size, &trunk)) < 0)
        goto error;
    lvc_modelfile_set_base(mf, trunk);
    if ((ret = lvc_autoencoder_load(m, mf, flags, nn)) < 0)
        goto error;
    if (m->has_hyper &&
        (ret = lvc_cdf_set_default(&m->y_cdf, LVC_DIST_GAUSSIAN, LVC_Y_CDF_PREC)) < 0)
        goto error;
    lvc_modelfile_close(&mf);
    lvc_modelfile_close(&trunk);
    *pm = m;
    return 0;
error:
    lvc_modelfile_close(&mf);
    lvc_modelfile_close(&trunk);
    lvc_model_close(&m, nn);
    return ret;
}

int lvc_model_open(LvcModel **pm, const char *name, unsigned flags, LvcNn *nn)
{
    if (!pm)
        return LVC_ERR_INVALID_ARG;
    *pm = NULL;
    const LvcRegistryEntry *e = lvc_registry_by_name(name);
    if (!e)
        return LVC_ERR_MODEL_UNKNOWN;
    int ret = lvc_model_open_mem(pm, e->blob, e->size, flags, nn);
    if (ret < 0)
        return ret;
    if ((*pm)->arch != e->arch) {
        lvc_model_close(pm, nn);
        return LVC_ERR_MODEL_FILE;
    }
    (*pm)->info = &e->info;
    return 0;
}
