/*
 * Image decoder: public lvc_decoder_* API.
 */
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include "codec/alpha.h"
#include "codec/container.h"
#include "codec/latent.h"
#include "codec/pipeline.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "models/registry.h"

struct LvcDecoder {
    LvcDecoderSettings s;
    LvcNn *nn;
    LvcModel *model;
    const LvcRegistryEntry *entry;  /* model currently open */
    uint8_t digest[LVC_SHA256_SIZE];
    int have_digest;
};

void lvc_decoder_default_settings(LvcDecoderSettings *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->backend = LVC_BACKEND_AUTO;
}

int lvc_decoder_open(LvcDecoder **dec, const LvcDecoderSettings *s)
{
    if (!dec)
        return LVC_ERR_INVALID_ARG;
    *dec = NULL;
    if (!s || s->threads < 0 || s->backend < LVC_BACKEND_AUTO || s->backend > LVC_BACKEND_CUDA)
        return LVC_ERR_INVALID_ARG;
    lvc_log_set_level(lvc_log_level_for_verbose(s->verbose));
    LvcDecoder *d = lvc_calloc(1, sizeof(*d));
    if (!d)
        return LVC_ERR_NOMEM;
    d->s = *s;
    int ret = lvc_nn_open(&d->nn, s->backend, s->threads);
    if (ret < 0) {
        lvc_free(d);
        return ret;
    }
    *dec = d;
    return 0;
}

void lvc_decoder_close(LvcDecoder **dec)
{
    if (!dec || !*dec)
        return;
    LvcDecoder *d = *dec;
    lvc_model_close(&d->model, d->nn);
    lvc_nn_close(&d->nn);
    lvc_free(d);
    *dec = NULL;
}

int lvc_decoder_symbols_digest(const LvcDecoder *dec, uint8_t digest[32])
{
    if (!dec || !digest)
        return LVC_ERR_INVALID_ARG;
    if (!dec->have_digest)
        return LVC_ERR_INVALID_ARG;
    memcpy(digest, dec->digest, LVC_SHA256_SIZE);
    return 0;
}

static int select_model(LvcDecoder *d, const LvcContainer *ct)
{
    const LvcRegistryEntry *e = lvc_registry_by_id(ct->hdr.model_id);
    if (!e) {
        lvc_log(LVC_LOG_ERROR, "stream needs model id %u, which this build does not have",
                ct->hdr.model_id);
        return LVC_ERR_MODEL_UNKNOWN;
    }
    int ret = lvc_container_check_model(ct, e->info.id, e->info.weights_hash);
    if (ret < 0)
        return ret;
    if (d->entry == e && d->model)
        return 0;
    lvc_model_close(&d->model, d->nn);
    d->entry = NULL;
    if ((ret = lvc_model_open(&d->model, e->info.name, LVC_MODEL_DECODER_ONLY, d->nn)) < 0)
        return ret;
    d->entry = e;
    return 0;
}

/* The latents of every tile: each tile is an independent substream with
 * its own buffers writing its own rectangle of yhat. With a host backend,
 * more than one thread and at least as many tiles as threads, the tiles
 * are decoded in parallel: each pool job is one worker context (single
 * thread, lvc_nn_open_worker; the model's layers run on it) that takes
 * tiles in increasing order until none is left. Otherwise (or when the
 * workers cannot be opened) tile after tile, each layer split across the
 * threads. The integer networks are bit-exact at any thread count, so the
 * result does not depend on the path. */
typedef struct TileJobs {
    const LvcModel *m;
    const LvcGeometry *g;
    const LvcContainer *ct;
    const int16_t *zall;
    const size_t *zoff;
    const float *inv_gain;
    LvcTensor *yhat;
    uint8_t (*digests)[LVC_SHA256_SIZE];
    uint32_t ntiles;
    LvcNn **workers;
    int *ret;            /* per tile */
    atomic_uint next;    /* next tile to hand out */
    atomic_uint failed;  /* lowest failed tile so far (UINT_MAX: none) */
} TileJobs;

static int decode_one_tile(TileJobs *j, uint32_t t, LvcNn *nn)
{
    LvcTileStreams ts;
    memset(&ts, 0, sizeof(ts));
    const LvcSubstream *sz = lvc_container_find(j->ct, t, 0, LVC_SUB_Z);
    if (sz) {
        ts.z = sz->data;
        ts.z_size = sz->size;
    }
    const LvcSubstream *sy = lvc_container_find(j->ct, t, 0, LVC_SUB_Y);
    if (sy) {
        ts.y = sy->data;
        ts.y_size = sy->size;
    }
    return lvc_latent_decode_tile(j->m, nn, j->g, (int)t, &ts, j->zall + j->zoff[t],
                                  j->inv_gain, j->yhat, NULL, j->digests[t]);
}

static void worker_job(void *arg, int job, int thread)
{
    (void)thread;
    TileJobs *j = arg;
    LvcNn *nn = j->workers[job];
    for (;;) {
        const unsigned t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (t >= j->ntiles)
            return;
        /* Skip only behind a failure of a lower tile: every tile below the
         * first failing one still runs, so the error returned is that of
         * the first failing tile in order, as in a sequential decode. */
        if (atomic_load_explicit(&j->failed, memory_order_relaxed) < t) {
            j->ret[t] = 0;
            continue;
        }
        j->ret[t] = decode_one_tile(j, t, nn);
        if (j->ret[t] < 0) {
            unsigned cur = atomic_load_explicit(&j->failed, memory_order_relaxed);
            while (t < cur && !atomic_compare_exchange_weak_explicit(
                                  &j->failed, &cur, t, memory_order_relaxed,
                                  memory_order_relaxed))
                ;
        }
    }
}

static int decode_tiles(LvcDecoder *d, TileJobs *j)
{
    const int nthreads = lvc_nn_threads(d->nn);
    const LvcBackend be = lvc_nn_backend(d->nn);
    int ret = 0;
    if (nthreads > 1 && j->ntiles >= (uint32_t)nthreads &&
        (be == LVC_BACKEND_CPU || be == LVC_BACKEND_REF)) {
        LvcNn **workers = lvc_calloc((size_t)nthreads, sizeof(*workers));
        int *rets = lvc_malloc_array(j->ntiles, sizeof(*rets));
        int ok = workers && rets;
        for (int i = 0; ok && i < nthreads; i++)
            ok = lvc_nn_open_worker(&workers[i], d->nn) == 0;
        if (ok) {
            j->workers = workers;
            j->ret = rets;
            atomic_init(&j->next, 0);
            atomic_init(&j->failed, UINT_MAX);
            lvc_nn_parallel(d->nn, nthreads, worker_job, j);
            for (uint32_t t = 0; t < j->ntiles && ret == 0; t++)
                ret = rets[t] < 0 ? rets[t] : 0;
        }
        for (int i = 0; workers && i < nthreads; i++)
            lvc_nn_close(&workers[i]);
        lvc_free(workers);
        lvc_free(rets);
        if (ok)
            return ret;
        /* no memory for the workers: decode tile after tile instead */
    }
    for (uint32_t t = 0; t < j->ntiles; t++)
        if ((ret = decode_one_tile(j, t, d->nn)) < 0)
            return ret;
    return 0;
}

int lvc_decode_image(LvcDecoder *d, const uint8_t *buf, size_t size, LvcImage *img)
{
    if (img)
        memset(img, 0, sizeof(*img));
    if (!d || !buf || !img)
        return LVC_ERR_INVALID_ARG;
    d->have_digest = 0;
    LvcContainerLimits lim = { 0 };
    lim.max_pixels = d->s.max_pixels ? d->s.max_pixels : LVC_DEFAULT_MAX_DEC_PIXELS;
    LvcContainer ct;
    LvcTensor yhat = { 0 };
    uint8_t(*tile_digests)[LVC_SHA256_SIZE] = NULL;
    float *inv_gain = NULL, *gain = NULL;
    size_t *zoff = NULL;
    int16_t *zall = NULL;
    int ret = lvc_container_parse(buf, size, &lim, &ct);
    if (ret < 0)
        return ret;
    const LvcImageHeader *h = &ct.hdr;
    if (h->color != LVC_COLOR_RGB || h->tile_overlap != 0) {
        /* the autoencoder models code three planes in tiles without overlap */
        ret = LVC_ERR_UNSUPPORTED;
        goto end;
    }
    if ((ret = select_model(d, &ct)) < 0)
        goto end;
    const LvcModel *m = d->model;
    /* Tiles are whole multiples of 64 pixels except where the image ends. */
    const uint32_t tw = h->tile_w == h->width ? (h->width + 63) / 64 * 64 : h->tile_w;
    const uint32_t th = h->tile_h == h->height ? (h->height + 63) / 64 * 64 : h->tile_h;
    LvcGeometry g;
    if (tw % LVC_PAD_MULTIPLE || th % LVC_PAD_MULTIPLE || tw > INT32_MAX || th > INT32_MAX ||
        lvc_geometry_init(&g, (int)h->width, (int)h->height, (int)tw, (int)th) < 0 ||
        (uint32_t)(g.tiles_x * g.tiles_y) != h->num_tiles) {
        ret = LVC_ERR_CORRUPT;
        goto end;
    }
    /* exactly the substreams the architecture defines, no others */
    const uint64_t want = (uint64_t)h->num_tiles *
                          ((uint32_t)m->has_hyper + 1u + (h->alpha_mode ? 1u : 0u));
    if (want != ct.num_subs) {
        ret = LVC_ERR_CORRUPT;
        goto end;
    }
    /* Hyper-latents of every tile first: cheap, and it fails on missing
     * data before the allocations sized by the declared image. */
    zoff = lvc_malloc_array((size_t)h->num_tiles + 1, sizeof(*zoff));
    if (!zoff) {
        ret = LVC_ERR_NOMEM;
        goto end;
    }
    zoff[0] = 0;
    for (uint32_t t = 0; t < h->num_tiles; t++)
        zoff[t + 1] = zoff[t] + lvc_latent_z_count(m, &g, (int)t);
    zall = lvc_malloc_array(zoff[h->num_tiles] ? zoff[h->num_tiles] : 1, sizeof(int16_t));
    if (!zall) {
        ret = LVC_ERR_NOMEM;
        goto end;
    }
    for (uint32_t t = 0; t < h->num_tiles && m->has_hyper; t++) {
        const LvcSubstream *sz = lvc_container_find(&ct, t, 0, LVC_SUB_Z);
        if ((ret = lvc_latent_decode_z(m, &g, (int)t, sz ? sz->data : NULL, sz ? sz->size : 0,
                                       zall + zoff[t])) < 0)
            goto end;
    }
    const size_t yelems = (size_t)m->M * g.hl * g.wl;
    yhat.data = lvc_malloc_array(yelems, sizeof(float));
    tile_digests = lvc_malloc_array(h->num_tiles, sizeof(*tile_digests));
    gain = lvc_malloc_array((size_t)m->M, sizeof(float));
    inv_gain = lvc_malloc_array((size_t)m->M, sizeof(float));
    if (!yhat.data || !tile_digests || !gain || !inv_gain) {
        ret = LVC_ERR_NOMEM;
        goto end;
    }
    yhat.c = m->M;
    yhat.h = g.hl;
    yhat.w = g.wl;
    yhat.dtype = LVC_NN_F32;
    lvc_model_gains(m, (float)h->quality / LVC_QUALITY_SCALE, gain, inv_gain);
    TileJobs tj = { .m = m, .g = &g, .ct = &ct, .zall = zall, .zoff = zoff,
                    .inv_gain = inv_gain, .yhat = &yhat, .digests = tile_digests,
                    .ntiles = h->num_tiles };
    if ((ret = decode_tiles(d, &tj)) < 0)
        goto end;
    if ((ret = lvc_image_alloc(img, (int)h->width, (int)h->height, h->channels, h->bit_depth)) < 0)
        goto end;
    if ((ret = lvc_pipeline_synthesis(m, d->nn, &g, &yhat, img)) < 0)
        goto end;
    if (h->alpha_mode == LVC_ALPHA_ZLIB) {
        for (uint32_t t = 0; t < h->num_tiles; t++) {
            const LvcSubstream *sa = lvc_container_find(&ct, t, 0, LVC_SUB_ALPHA);
            uint32_t x0, y0, w, hh;
            if (!sa) {
                ret = LVC_ERR_CORRUPT;
                goto end;
            }
            if ((ret = lvc_container_tile_rect(h, t, &x0, &y0, &w, &hh)) < 0 ||
                (ret = lvc_alpha_decode(img, x0, y0, w, hh, sa->data, sa->size)) < 0)
                goto end;
        }
    }
    lvc_sha256((const uint8_t *)tile_digests, (size_t)h->num_tiles * LVC_SHA256_SIZE, d->digest);
    d->have_digest = 1;
    ret = 0;
end:
    if (ret < 0)
        lvc_image_free(img);
    lvc_free(yhat.data);
    lvc_free(tile_digests);
    lvc_free(zoff);
    lvc_free(zall);
    lvc_free(gain);
    lvc_free(inv_gain);
    lvc_container_free(&ct);
    return ret;
}
