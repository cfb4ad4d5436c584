/*
 * Image encoder: public lvc_encoder_* API.
 *
 * The analysis transform runs once per image; a bpp or size target then
 * searches the quality by bisection over the cheap part (gain, h_a, h_s and
 * entropy coding), so a target costs a few entropy passes, not a few
 * encodes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/alpha.h"
#include "codec/container.h"
#include "codec/latent.h"
#include "codec/pipeline.h"
#include "common/log.h"
#include "common/mem.h"
#include "models/registry.h"

struct LvcEncoder {
    LvcEncoderSettings s;
    LvcNn *nn;
    LvcModel *model;
    const LvcRegistryEntry *entry;
    float last_quality;
};

void lvc_encoder_default_settings(LvcEncoderSettings *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->quality = 75.0f;
    s->backend = LVC_BACKEND_AUTO;
}

int lvc_encoder_open(LvcEncoder **enc, const LvcEncoderSettings *s)
{
    if (!enc)
        return LVC_ERR_INVALID_ARG;
    *enc = NULL;
    if (!s || !(s->quality >= 0.0f && s->quality <= 100.0f) || s->threads < 0 ||
        s->target_bpp < 0.0 || !isfinite(s->target_bpp) || s->tile_size < 0 ||
        s->tile_size % LVC_PAD_MULTIPLE || s->backend < LVC_BACKEND_AUTO ||
        s->backend > LVC_BACKEND_CUDA)
        return LVC_ERR_INVALID_ARG;
    lvc_log_set_level(lvc_log_level_for_verbose(s->verbose));
    const LvcRegistryEntry *e = lvc_registry_by_name(s->model);
    if (!e) {
        lvc_log(LVC_LOG_ERROR, "no model named '%s' in this build", s->model ? s->model : "(default)");
        return LVC_ERR_MODEL_UNKNOWN;
    }
    LvcEncoder *c = lvc_calloc(1, sizeof(*c));
    if (!c)
        return LVC_ERR_NOMEM;
    c->s = *s;
    c->entry = e;
    c->last_quality = s->quality;
    int ret = lvc_nn_open(&c->nn, s->backend, s->threads);
    if (ret < 0)
        goto error;
    if ((ret = lvc_model_open(&c->model, e->info.name, 0, c->nn)) < 0)
        goto error;
    *enc = c;
    return 0;
error:
    lvc_encoder_close(&c);
    return ret;
}

void lvc_encoder_close(LvcEncoder **enc)
{
    if (!enc || !*enc)
        return;
    LvcEncoder *c = *enc;
    lvc_model_close(&c->model, c->nn);
    lvc_nn_close(&c->nn);
    lvc_free(c);
    *enc = NULL;
}

float lvc_encoder_last_quality(const LvcEncoder *enc)
{
    return enc ? enc->last_quality : 0.0f;
}

static int image_validate(const LvcImage *img, uint64_t max_pixels)
{
    if (!img || !img->data || img->width < 1 || img->height < 1 || img->channels < 1 ||
        img->channels > 4 || (img->bit_depth != 8 && img->bit_depth != 16))
        return LVC_ERR_INVALID_ARG;
    const uint64_t px = (uint64_t)img->width * (uint64_t)img->height;
    if (px > (max_pixels ? max_pixels : LVC_DEFAULT_MAX_DEC_PIXELS))
        return LVC_ERR_DIMENSIONS;
    if (img->stride < (size_t)img->width * img->channels * (img->bit_depth / 8))
        return LVC_ERR_INVALID_ARG;
    return 0;
}

/* One complete stream at quality q from the gain-free latents y. */
static int encode_at(LvcEncoder *c, const LvcImage *img, const LvcGeometry *g, const LvcTensor *y,
                     float q, uint8_t **out, size_t *out_size)
{
    LvcContainer ct;
    LvcLatentStreams ls;
    memset(&ct, 0, sizeof(ct));
    memset(&ls, 0, sizeof(ls));
    uint8_t **alpha = NULL;
    size_t *alpha_size = NULL;
    int ret;
    const uint16_t qcode = (uint16_t)lrintf(q * LVC_QUALITY_SCALE);
    LvcImageHeader *h = &ct.hdr;
    h->width = (uint32_t)img->width;
    h->height = (uint32_t)img->height;
    h->channels = (uint8_t)img->channels;
    h->bit_depth = (uint8_t)img->bit_depth;
    h->color = LVC_COLOR_RGB;
    h->alpha_mode = (img->channels == 2 || img->channels == 4) ? LVC_ALPHA_ZLIB : LVC_ALPHA_NONE;
    h->quality = qcode;
    h->tile_overlap = 0;
    h->tile_w = (uint32_t)(g->tile_w < img->width ? g->tile_w : img->width);
    h->tile_h = (uint32_t)(g->tile_h < img->height ? g->tile_h : img->height);
    h->model_id = c->entry->info.id;
    memcpy(h->weights_id, c->entry->info.weights_hash, LVC_WEIGHTS_ID_SIZE);

    if ((ret = lvc_image_header_validate(h)) < 0)
        goto end;
    const float qused = (float)qcode / LVC_QUALITY_SCALE;
    if ((ret = lvc_latent_encode(c->model, c->nn, g, y, qused, NULL, &ls)) < 0)
        goto end;
    const int ntiles = g->tiles_x * g->tiles_y;
    const int nalpha = h->alpha_mode ? ntiles : 0;
    const int per_tile = c->model->has_hyper + 1;
    ct.num_subs = (uint32_t)(per_tile * ntiles + nalpha);
    ct.subs = lvc_calloc(ct.num_subs, sizeof(*ct.subs));
    if (!ct.subs) {
        ret = LVC_ERR_NOMEM;
        goto end;
    }
    if (nalpha) {
        alpha = lvc_calloc((size_t)nalpha, sizeof(*alpha));
        alpha_size = lvc_calloc((size_t)nalpha, sizeof(*alpha_size));
        if (!alpha || !alpha_size) {
            ret = LVC_ERR_NOMEM;
            goto end;
        }
    }
    for (int t = 0; t < ntiles; t++) {
        LvcSubstream *sub = &ct.subs[per_tile * t];
        if (c->model->has_hyper) {
            sub->tile = (uint32_t)t;
            sub->what = LVC_SUB_Z;
            sub->data = ls.z[t];
            sub->size = ls.z_size[t];
            sub++;
        }
        sub->tile = (uint32_t)t;
        sub->what = LVC_SUB_Y;
        sub->data = ls.y[t];
        sub->size = ls.y_size[t];
        if (nalpha) {
            uint32_t x0, y0, tw, th;
            if ((ret = lvc_container_tile_rect(h, (uint32_t)t, &x0, &y0, &tw, &th)) < 0 ||
                (ret = lvc_alpha_encode(img, x0, y0, tw, th, &alpha[t], &alpha_size[t])) < 0)
                goto end;
            LvcSubstream *sa = &ct.subs[per_tile * ntiles + t];
            sa->tile = (uint32_t)t;
            sa->what = LVC_SUB_ALPHA;
            sa->data = alpha[t];
            sa->size = alpha_size[t];
        }
    }
    ret = lvc_container_write(&ct, out, out_size);
end:
    if (alpha)
        for (int t = 0; t < nalpha; t++)
            free(alpha[t]);
    lvc_free(alpha);
    lvc_free(alpha_size);
    lvc_free(ct.subs);
    lvc_latent_streams_free(&ls);
    return ret;
}

int lvc_encode_image(LvcEncoder *c, const LvcImage *img, uint8_t **out, size_t *out_size)
{
    if (out)
        *out = NULL;
    if (out_size)
        *out_size = 0;
    if (!c || !out || !out_size)
        return LVC_ERR_INVALID_ARG;
    int ret = image_validate(img, c->s.max_pixels);
    if (ret < 0)
        return ret;
    const int tile = c->s.tile_size ? c->s.tile_size : LVC_DEFAULT_TILE;
    LvcGeometry g;
    if ((ret = lvc_geometry_init(&g, img->width, img->height, tile, tile)) < 0)
        return ret;
    LvcTensor y = { 0 };
    const size_t yelems = (size_t)c->model->M * g.hl * g.wl;
    y.data = lvc_malloc_array(yelems, sizeof(float));
    if (!y.data)
        return LVC_ERR_NOMEM;
    y.c = c->model->M;
    y.h = g.hl;
    y.w = g.wl;
    y.dtype = LVC_NN_F32;
    if ((ret = lvc_pipeline_analysis(c->model, c->nn, &g, img, &y)) < 0)
        goto end;

    const double npix = (double)img->width * img->height;
    uint64_t target = c->s.target_bytes;
    if (!target && c->s.target_bpp > 0.0)
        target = (uint64_t)floor(c->s.target_bpp * npix / 8.0);
    if (!target) {
        ret = encode_at(c, img, &g, &y, c->s.quality, out, out_size);
        c->last_quality = ret < 0 ? 0.0f : c->s.quality;
        goto end;
    }
    /* Largest quality whose stream fits the target (the stream size grows
     * with quality); at quality 0 the smallest stream is returned even if
     * it does not fit. */
    float lo = 0.0f, hi = 100.0f;
    uint8_t *best = NULL;
    size_t best_size = 0;
    float best_q = 0.0f;
    for (int it = 0; it < 12 && hi - lo > 0.05f; it++) {
        const float mid = it == 0 ? 100.0f : 0.5f * (lo + hi);
        uint8_t *buf = NULL;
        size_t sz = 0;
        if ((ret = encode_at(c, img, &g, &y, mid, &buf, &sz)) < 0) {
            free(best);
            goto end;
        }
        if (sz <= target) {
            free(best);
            best = buf;
            best_size = sz;
            best_q = mid;
            lo = mid;
            if (it == 0)
                break;
        } else {
            free(buf);
            hi = mid;
        }
    }
    if (!best) {
        if ((ret = encode_at(c, img, &g, &y, 0.0f, &best, &best_size)) < 0)
            goto end;
        best_q = 0.0f;
    }
    *out = best;
    *out_size = best_size;
    c->last_quality = best_q;
    ret = 0;
end:
    lvc_free(y.data);
    return ret;
}
