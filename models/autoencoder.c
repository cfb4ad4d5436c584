/*
 * The autoencoder family without context models, variable rate by gain
 * vectors (Cui et al. 2021). PyTorch twins in models/train/arch.py:
 *   meanscale   MeanScaleVR        mean-scale hyperprior (Minnen et al. 2018,
 *                                  without autoregression)
 *   hyperprior  ScaleHyperpriorVR  scale hyperprior (Balle et al. 2018),
 *                                  h_a(|y|), h_s gives M scales
 *   factorized  FactorizedVR       factorized prior (Balle et al. 2018): no
 *                                  h_a/h_s; y_cdf/y_nsym/y_offset per channel
 * Tensor names are the state-dict names.
 *
 * Config
 *   N, M            widths (metadata "N", "M")
 *   L               trained rate levels (rows of gain / inv_gain)
 *   out_fa          fractional bits of h_s outputs (metadata "out_fa")
 * Weights (PyTorch layouts)
 *   g_a.{0,2,4,6}.weight [N,3|N,5,5] (last: [M,N,5,5]), .bias     stride 2
 *   g_a.{1,3,5}.beta [N], .gamma [N,N]                             GDN
 *   g_s.{0,2,4,6}.0.weight [4N|12, M|N, 3, 3], .bias  conv3x3 + shuffle 2
 *   g_s.{1,3,5}.beta, .gamma                                       IGDN
 *   h_a.{0,2,4}.weight [N,M,3,3], [N,N,5,5] x2, .bias   strides 1, 2, 2
 *   h_s.{0,1}.w int16 [4N|6N, N, 3, 3], h_s.{0,1}.b int32, .fw, .fa_in,
 *   .fa_out (qconv 3x3 + ReLU + shuffle 2), h_s.2.* qconv 3x3 -> 2M
 *   gain, inv_gain [L, M] f32 (already exponentiated)
 *   z_cdf int32 [N, K], z_nsym int32 [N], z_offset int32 [N]; z_prec meta
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "models/model.h"
#include "models/modelfile.h"
#include "models/registry.h"

/* Weight [cout, cin, k, k] (odd k) and bias [cout]. */
static int conv_shapes_ok(const LvcModelTensor *w, const LvcModelTensor *b)
{
    return w->ndim == 4 && b->ndim == 1 && b->shape[0] == w->shape[0] &&
           w->shape[2] == w->shape[3] && (w->shape[2] & 1);
}

/* beta [c], gamma [c, c]. */
static int gdn_shapes_ok(const LvcModelTensor *beta, const LvcModelTensor *gamma, int c)
{
    return beta->ndim == 1 && (int)beta->shape[0] == c && gamma->ndim == 2 &&
           (int)gamma->shape[0] == c && (int)gamma->shape[1] == c;
}

static int load_conv(LvcNn *nn, const LvcModelFile *mf, const char *prefix, int stride,
                     LvcNnLayer **out)
{
    char name[96];
    LvcModelTensor w, b;
    snprintf(name, sizeof(name), "%s.weight", prefix);
    int ret = lvc_modelfile_tensor_f32(mf, name, &w);
    if (ret < 0)
        return ret;
    snprintf(name, sizeof(name), "%s.bias", prefix);
    ret = lvc_modelfile_tensor_f32(mf, name, &b);
    if (ret < 0) {
        lvc_model_tensor_release(&w);
        return ret;
    }
    if (!conv_shapes_ok(&w, &b)) {
        ret = LVC_ERR_MODEL_FILE;
        goto end;
    }
    LvcConvParams p;
    lvc_conv_params_init(&p, (int)w.shape[1], (int)w.shape[0], (int)w.shape[2], (int)w.shape[3]);
    p.stride_h = p.stride_w = stride;
    lvc_conv_params_pad(&p, (int)w.shape[2] / 2, (int)w.shape[3] / 2);
    ret = lvc_nn_conv_create(nn, &p, w.f32, b.f32, out);
end:
    lvc_model_tensor_release(&w);
    lvc_model_tensor_release(&b);
    return ret;
}

static int load_gdn(LvcNn *nn, const LvcModelFile *mf, const char *prefix, LvcGdnKind kind,
                    int c, LvcNnLayer **out)
{
    char name[96];
    LvcModelTensor beta, gamma;
    snprintf(name, sizeof(name), "%s.beta", prefix);
    int ret = lvc_modelfile_tensor_f32(mf, name, &beta);
    if (ret < 0)
        return ret;
    snprintf(name, sizeof(name), "%s.gamma", prefix);
    ret = lvc_modelfile_tensor_f32(mf, name, &gamma);
    if (ret < 0) {
        lvc_model_tensor_release(&beta);
        return ret;
    }
    if (!gdn_shapes_ok(&beta, &gamma, c))
        ret = LVC_ERR_MODEL_FILE;
    else
        ret = lvc_nn_gdn_create(nn, kind, c, beta.f32, gamma.f32, out);
    lvc_model_tensor_release(&beta);
    lvc_model_tensor_release(&gamma);
    return ret;
}

/* Tensor "prefix.suffix" present as a float tensor (f32, f16 or i8 with
 * valid scales), in *t. */
static int find_float(const LvcModelFile *mf, const char *prefix, const char *suffix,
                      const LvcModelTensor **t)
{
    char name[96];
    snprintf(name, sizeof(name), "%s.%s", prefix, suffix);
    *t = lvc_modelfile_find(mf, name);
    return *t ? lvc_modelfile_check_float(mf, *t) : LVC_ERR_MODEL_FILE;
}

/* The checks load_conv / load_gdn make of a layer that a decoder leaves
 * out (the encoder's g_a, h_a): names, dtypes, shapes. The values are not
 * read. */
static int check_conv(const LvcModelFile *mf, const char *prefix)
{
    const LvcModelTensor *w, *b;
    int ret;
    if ((ret = find_float(mf, prefix, "weight", &w)) < 0 ||
        (ret = find_float(mf, prefix, "bias", &b)) < 0)
        return ret;
    return conv_shapes_ok(w, b) ? 0 : LVC_ERR_MODEL_FILE;
}

static int check_gdn(const LvcModelFile *mf, const char *prefix, int c)
{
    const LvcModelTensor *beta, *gamma;
    int ret;
    if ((ret = find_float(mf, prefix, "beta", &beta)) < 0 ||
        (ret = find_float(mf, prefix, "gamma", &gamma)) < 0)
        return ret;
    return gdn_shapes_ok(beta, gamma, c) ? 0 : LVC_ERR_MODEL_FILE;
}

/* Integer conv k x k (odd k), stride 1, "same" padding, ReLU optional. */
static int load_qconv(LvcNn *nn, const LvcModelFile *mf, const char *prefix, int relu,
                      LvcNnLayer **out, int *cout)
{
    char name[96];
    LvcModelTensor w, b;
    int32_t fw, fa_in, fa_out;
    int ret;
    snprintf(name, sizeof(name), "%s.w", prefix);
    if ((ret = lvc_modelfile_tensor(mf, name, LVC_MT_I16, &w)) < 0)
        return ret;
    snprintf(name, sizeof(name), "%s.b", prefix);
    if ((ret = lvc_modelfile_tensor(mf, name, LVC_MT_I32, &b)) < 0)
        return ret;
    snprintf(name, sizeof(name), "%s.fw", prefix);
    if ((ret = lvc_modelfile_scalar_i32(mf, name, &fw)) < 0)
        return ret;
    snprintf(name, sizeof(name), "%s.fa_in", prefix);
    if ((ret = lvc_modelfile_scalar_i32(mf, name, &fa_in)) < 0)
        return ret;
    snprintf(name, sizeof(name), "%s.fa_out", prefix);
    if ((ret = lvc_modelfile_scalar_i32(mf, name, &fa_out)) < 0)
        return ret;
    if (w.ndim != 4 || b.ndim != 1 || b.shape[0] != w.shape[0] || w.shape[2] != w.shape[3] ||
        (w.shape[2] & 1) == 0 || w.shape[2] > 7 || fw < 0 || fw > 15 || fa_in < 0 || fa_out < 0 ||
        fa_in + fw - fa_out < 0 || fa_in + fw - fa_out > 62)
        return LVC_ERR_MODEL_FILE;
    LvcQConvParams q;
    memset(&q, 0, sizeof(q));
    const int k = (int)w.shape[2];
    lvc_conv_params_init(&q.conv, (int)w.shape[1], (int)w.shape[0], k, k);
    lvc_conv_params_pad(&q.conv, k / 2, k / 2);
    q.wbits = 16;
    q.fw = fw;
    q.fa_in = fa_in;
    q.fa_out = fa_out;
    q.act = relu ? LVC_ACT_RELU : LVC_ACT_NONE;
    *cout = (int)w.shape[0];
    return lvc_nn_qconv_create(nn, &q, w.data, (const int32_t *)b.data, out);
}

/* Factorized tables "<p>_cdf" [C, K], "<p>_nsym" [C], "<p>_offset" [C],
 * "<p>_prec": one table per channel, the escape last. */
static int load_factorized_tables(LvcCdfSet *set, const LvcModelFile *mf, const char *p, int C)
{
    LvcModelTensor cdf, nsym, off;
    int32_t prec;
    char name[32];
    int ret;
    snprintf(name, sizeof(name), "%s_cdf", p);
    if ((ret = lvc_modelfile_tensor(mf, name, LVC_MT_I32, &cdf)) < 0)
        return ret;
    snprintf(name, sizeof(name), "%s_nsym", p);
    if ((ret = lvc_modelfile_tensor(mf, name, LVC_MT_I32, &nsym)) < 0)
        return ret;
    snprintf(name, sizeof(name), "%s_offset", p);
    if ((ret = lvc_modelfile_tensor(mf, name, LVC_MT_I32, &off)) < 0)
        return ret;
    snprintf(name, sizeof(name), "%s_prec", p);
    if ((ret = lvc_modelfile_scalar_i32(mf, name, &prec)) < 0)
        return ret;
    if (cdf.ndim != 2 || (int)cdf.shape[0] != C || nsym.ndim != 1 || (int)nsym.shape[0] != C ||
        off.ndim != 1 || (int)off.shape[0] != C || prec < 1 || prec > 16)
        return LVC_ERR_MODEL_FILE;
    const int32_t *c = (const int32_t *)cdf.data;
    const int32_t *ns = (const int32_t *)nsym.data;
    const int32_t *of = (const int32_t *)off.data;
    const int K = (int)cdf.shape[1];
    uint32_t *row = lvc_malloc_array((size_t)K, sizeof(uint32_t));
    if (!row)
        return LVC_ERR_NOMEM;
    if ((ret = lvc_cdf_set_alloc(set, C)) < 0)
        goto end;
    for (int i = 0; i < C; i++) {
        if (ns[i] < 1 || ns[i] >= K) {
            ret = LVC_ERR_MODEL_FILE;
            goto end;
        }
        for (int k = 0; k <= ns[i]; k++) {
            const int32_t v = c[(size_t)i * K + k];
            if (v < 0) {
                ret = LVC_ERR_MODEL_FILE;
                goto end;
            }
            row[k] = (uint32_t)v;
        }
        if ((ret = lvc_cdf_init(&set->tables[i], row, ns[i], of[i], prec,
                                p[0] == 'y' ? 12 : 0)) < 0) {
            if (ret != LVC_ERR_NOMEM)
                ret = LVC_ERR_MODEL_FILE; /* an invalid table in the file */
            goto end;
        }
    }
end:
    lvc_free(row);
    return ret;
}

static int load_gains(LvcModel *m, const LvcModelFile *mf)
{
    LvcModelTensor g, ig;
    int ret;
    if ((ret = lvc_modelfile_tensor_f32(mf, "gain", &g)) < 0)
        return ret;
    if ((ret = lvc_modelfile_tensor_f32(mf, "inv_gain", &ig)) < 0) {
        lvc_model_tensor_release(&g);
        return ret;
    }
    if (g.ndim != 2 || ig.ndim != 2 || (int)g.shape[1] != m->M || (int)ig.shape[1] != m->M ||
        g.shape[0] != ig.shape[0] || g.shape[0] < 2 || g.shape[0] > LVC_MODEL_MAX_LEVELS) {
        ret = LVC_ERR_MODEL_FILE;
    } else {
        m->L = (int)g.shape[0];
        for (int i = 0; i < m->L * m->M; i++) {
            if (!(g.f32[i] > 0.0f) || !(ig.f32[i] > 0.0f) || !isfinite(g.f32[i]) ||
                !isfinite(ig.f32[i])) {
                ret = LVC_ERR_MODEL_FILE;
                break;
            }
            m->gain[i] = g.f32[i];
            m->inv_gain[i] = ig.f32[i];
        }
    }
    lvc_model_tensor_release(&g);
    lvc_model_tensor_release(&ig);
    return ret;
}

/* Slices and context networks. checkerboard: one slice of M channels,
 * tensors "ctx" and "ep.0".."ep.2"; elic: metadata "slices" (channel
 * counts), tensors "sc.K", "cc.K-1" (K >= 1), "ep.K.0".."ep.K.2". */
static int load_contexts(LvcModel *m, const LvcModelFile *mf, LvcNn *nn)
{
    int ret;
    if (m->arch == LVC_ARCH_CHECKERBOARD) {
        m->nslices = 1;
        m->slice_c[0] = m->M;
    } else {
        const char *sl = NULL;
        if ((ret = lvc_modelfile_meta_str(mf, "slices", &sl)) < 0)
            return ret;
        int total = 0;
        m->nslices = 0;
        while (*sl) {
            char *end;
            const long v = strtol(sl, &end, 10);
            if (end == sl || v < 1 || v > m->M || m->nslices == LVC_MODEL_MAX_SLICES)
                return LVC_ERR_MODEL_FILE;
            m->slice_c[m->nslices++] = (int)v;
            total += (int)v;
            sl = *end == ',' ? end + 1 : end;
            if (*end && *end != ',')
                return LVC_ERR_MODEL_FILE;
        }
        if (total != m->M || m->nslices < 1)
            return LVC_ERR_MODEL_FILE;
    }
    for (int k = 0; k < m->nslices; k++) {
        char name[32];
        const int one = m->arch == LVC_ARCH_CHECKERBOARD;
        snprintf(name, sizeof(name), one ? "ctx" : "sc.%d", k);
        if ((ret = load_qconv(nn, mf, name, 0, &m->sc_conv[k], &m->sc_cout[k])) < 0)
            return ret;
        if (k) {
            snprintf(name, sizeof(name), "cc.%d", k - 1);
            if ((ret = load_qconv(nn, mf, name, 0, &m->cc_conv[k], &m->cc_cout[k])) < 0)
                return ret;
        }
        for (int i = 0; i < 3; i++) {
            if (one)
                snprintf(name, sizeof(name), "ep.%d", i);
            else
                snprintf(name, sizeof(name), "ep.%d.%d", k, i);
            if ((ret = load_qconv(nn, mf, name, i < 2, &m->ep_conv[k][i], &m->ep_cout[k][i])) < 0)
                return ret;
        }
        if (m->ep_cout[k][2] != 2 * m->slice_c[k])
            return LVC_ERR_MODEL_FILE;
    }
    return 0;
}

int lvc_autoencoder_load(LvcModel *m, const LvcModelFile *mf, unsigned flags, LvcNn *nn)
{
    const int enc = !(flags & LVC_MODEL_DECODER_ONLY);
    int64_t N, M, out_fa = 0;
    const char *arch = NULL;
    int ret;
    if ((ret = lvc_modelfile_meta_str(mf, "arch", &arch)) < 0 ||
        (ret = lvc_modelfile_meta_int(mf, "N", &N)) < 0 ||
        (ret = lvc_modelfile_meta_int(mf, "M", &M)) < 0)
        return ret;
    if (!strcmp(arch, "meanscale"))
        m->arch = LVC_ARCH_MEANSCALE;
    else if (!strcmp(arch, "hyperprior"))
        m->arch = LVC_ARCH_HYPERPRIOR;
    else if (!strcmp(arch, "factorized"))
        m->arch = LVC_ARCH_FACTORIZED;
    else if (!strcmp(arch, "checkerboard"))
        m->arch = LVC_ARCH_CHECKERBOARD;
    else if (!strcmp(arch, "elic"))
        m->arch = LVC_ARCH_ELIC;
    else
        return LVC_ERR_MODEL_FILE;
    m->has_hyper = m->arch != LVC_ARCH_FACTORIZED;
    m->has_ctx = m->arch == LVC_ARCH_CHECKERBOARD || m->arch == LVC_ARCH_ELIC;
    m->has_means = m->arch == LVC_ARCH_MEANSCALE || m->has_ctx;
    if (m->has_hyper && (ret = lvc_modelfile_meta_int(mf, "out_fa", &out_fa)) < 0)
        return ret;
    if (N < 1 || N > 1024 || M < 1 || M > 1024 || out_fa < 0 || out_fa > 12)
        return LVC_ERR_MODEL_FILE;
    m->N = (int)N;
    m->M = (int)M;
    m->out_fa = (int)out_fa;

    static const char *const ga[4] = { "g_a.0", "g_a.2", "g_a.4", "g_a.6" };
    static const char *const gag[3] = { "g_a.1", "g_a.3", "g_a.5" };
    static const char *const gs[4] = { "g_s.0.0", "g_s.2.0", "g_s.4.0", "g_s.6.0" };
    static const char *const gsg[3] = { "g_s.1", "g_s.3", "g_s.5" };
    static const char *const ha[3] = { "h_a.0", "h_a.2", "h_a.4" };
    static const char *const hs[3] = { "h_s.0", "h_s.1", "h_s.2" };
    m->decoder_only = !enc;
    for (int i = 0; i < 4; i++) {
        if ((ret = enc ? load_conv(nn, mf, ga[i], 2, &m->ga_conv[i]) : check_conv(mf, ga[i])) < 0 ||
            (ret = load_conv(nn, mf, gs[i], 1, &m->gs_conv[i])) < 0)
            return ret;
    }
    for (int i = 0; i < 3; i++) {
        if ((ret = enc ? load_gdn(nn, mf, gag[i], LVC_GDN, m->N, &m->ga_gdn[i])
                       : check_gdn(mf, gag[i], m->N)) < 0 ||
            (ret = load_gdn(nn, mf, gsg[i], LVC_IGDN, m->N, &m->gs_igdn[i])) < 0)
            return ret;
        if (!m->has_hyper)
            continue;
        if ((ret = enc ? load_conv(nn, mf, ha[i], i == 0 ? 1 : 2, &m->ha_conv[i])
                       : check_conv(mf, ha[i])) < 0)
            return ret;
        int cout;
        if ((ret = load_qconv(nn, mf, hs[i], i < 2, &m->hs_conv[i], &cout)) < 0)
            return ret;
        m->hs_shuffle[i] = i < 2 ? 2 : 1;
        m->hs_cout[i] = cout;
        if (i == 2 && cout != (m->has_means ? 2 : 1) * m->M)
            return LVC_ERR_MODEL_FILE;
    }
    if (m->has_ctx && (ret = load_contexts(m, mf, nn)) < 0)
        return ret;
    if ((ret = load_gains(m, mf)) < 0)
        return ret;
    if (m->has_hyper)
        return load_factorized_tables(&m->z_cdf, mf, "z", m->N);
    return load_factorized_tables(&m->y_cdf, mf, "y", m->M);
}
