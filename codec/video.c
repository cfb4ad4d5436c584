/*
 * Video coding: public lvc_video_encoder_* / lvc_video_decoder_* API
 * (include/lvc/video.h; the stream is doc/bitstream.md section 6.2).
 *
 * Every frame goes through the image pipeline: analysis, hyperprior, the
 * context model's entropy coding, synthesis. What video adds is in the
 * latent coding (codec/latent.c, LvcLatentTemporal): an inter frame may
 * code each block of latents around the previous frame's decoded latents,
 * with a sharper scale, or copy them, instead of using the image model's
 * prediction. The reference is the integer latents, which encoder and
 * decoder share exactly, so nothing drifts however long the group of
 * pictures.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "codec/container.h"
#include "codec/latent.h"
#include "codec/pipeline.h"
#include "common/bits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "lvc/video.h"
#include "models/registry.h"

#define BOX_VHDR "vhdr"
#define BOX_VFRM "vfrm"
#define VIDEO_BLOCK_LOG2 1       /* blocks of 2 x 2 latents (32 x 32 pixels) */
#define VIDEO_MAX_SIDE 65535
#define FRAME_INTRA 0
#define FRAME_INTER 1

/* Everything the vhdr box carries. */
typedef struct VideoHeader {
    LvcVideoFormat fmt;
    uint32_t quality;          /* quality * 100 */
    uint32_t gop;
    uint32_t block_log2;
    uint32_t tile_w, tile_h;
    uint32_t model_id;
    uint8_t weights_id[LVC_WEIGHTS_ID_SIZE];
} VideoHeader;

void lvc_video_encoder_default_settings(LvcVideoEncoderSettings *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->quality = 75.0f;
    s->gop = LVC_VIDEO_DEFAULT_GOP;
    s->backend = LVC_BACKEND_AUTO;
}

static int format_valid(const LvcVideoFormat *f)
{
    return f->width >= 1 && f->width <= VIDEO_MAX_SIDE && f->height >= 1 &&
           f->height <= VIDEO_MAX_SIDE && f->fps_num >= 1 && f->fps_den >= 1 &&
           (f->sar_num == 0) == (f->sar_den == 0) && f->chroma <= LVC_CHROMA_MONO &&
           f->siting <= LVC_SITING_LEFT && f->matrix <= LVC_MATRIX_BT709 && f->full_range <= 1 &&
           f->rgb_mapping <= LVC_RGB_NOMINAL;
}

static void header_write(LvcByteWriter *w, const VideoHeader *h)
{
    const LvcVideoFormat *f = &h->fmt;
    lvc_bw_varint(w, f->width);
    lvc_bw_varint(w, f->height);
    lvc_bw_varint(w, f->fps_num);
    lvc_bw_varint(w, f->fps_den);
    lvc_bw_varint(w, f->sar_num);
    lvc_bw_varint(w, f->sar_den);
    lvc_bw_u8(w, f->chroma);
    lvc_bw_u8(w, f->siting);
    lvc_bw_u8(w, f->matrix);
    lvc_bw_u8(w, f->full_range);
    lvc_bw_u8(w, f->rgb_mapping);
    lvc_bw_varint(w, h->quality);
    lvc_bw_varint(w, h->gop);
    lvc_bw_u8(w, (uint8_t)h->block_log2);
    lvc_bw_varint(w, h->tile_w);
    lvc_bw_varint(w, h->tile_h);
    lvc_bw_varint(w, h->model_id);
    lvc_bw_bytes(w, h->weights_id, LVC_WEIGHTS_ID_SIZE);
}

/* A `varint` of doc/bitstream.md section 1: at most 32 bits, minimal. */
static uint32_t read_u32(LvcByteReader *r)
{
    const uint8_t *start = r->p;
    const uint64_t v = lvc_br_varint(r);
    size_t minimal = 1;
    while (minimal < 10 && v >> (7 * minimal))
        minimal++;
    if (!r->err && (v > UINT32_MAX || (size_t)(r->p - start) != minimal))
        r->err = LVC_ERR_CORRUPT;
    return r->err ? 0 : (uint32_t)v;
}

/* The tile size a header field means, as for images (doc/bitstream.md
 * 4.3): the padded frame for a field equal to the frame's side, else a
 * multiple of 64 (one larger than the frame is one tile across). 0 if
 * invalid. */
static uint32_t tile_span(uint32_t field, uint32_t side)
{
    if (field == side)
        return (side + LVC_PAD_MULTIPLE - 1) / LVC_PAD_MULTIPLE * LVC_PAD_MULTIPLE;
    return field && field % LVC_PAD_MULTIPLE == 0 && field <= INT32_MAX ? field : 0;
}

static int header_read(const uint8_t *p, size_t n, uint64_t max_pixels, VideoHeader *h)
{
    LvcByteReader r;
    lvc_br_init(&r, p, n);
    memset(h, 0, sizeof(*h));
    LvcVideoFormat *f = &h->fmt;
    f->width = read_u32(&r);
    f->height = read_u32(&r);
    f->fps_num = read_u32(&r);
    f->fps_den = read_u32(&r);
    f->sar_num = read_u32(&r);
    f->sar_den = read_u32(&r);
    f->chroma = lvc_br_u8(&r);
    f->siting = lvc_br_u8(&r);
    f->matrix = lvc_br_u8(&r);
    f->full_range = lvc_br_u8(&r);
    f->rgb_mapping = lvc_br_u8(&r);
    h->quality = read_u32(&r);
    h->gop = read_u32(&r);
    h->block_log2 = lvc_br_u8(&r);
    h->tile_w = read_u32(&r);
    h->tile_h = read_u32(&r);
    h->model_id = read_u32(&r);
    lvc_br_bytes(&r, h->weights_id, LVC_WEIGHTS_ID_SIZE);
    if (r.err)
        return r.err == LVC_ERR_TRUNCATED ? LVC_ERR_CORRUPT : r.err;
    if (lvc_br_left(&r))
        return LVC_ERR_CORRUPT;
    if (f->width < 1 || f->height < 1 || f->width > VIDEO_MAX_SIDE || f->height > VIDEO_MAX_SIDE)
        return LVC_ERR_DIMENSIONS;
    if ((uint64_t)f->width * f->height > (max_pixels ? max_pixels : LVC_DEFAULT_MAX_DEC_PIXELS))
        return LVC_ERR_DIMENSIONS;
    if (!format_valid(f) || h->quality > LVC_QUALITY_MAX || h->gop < 1 ||
        h->gop > LVC_VIDEO_MAX_GOP || h->block_log2 < 1 || h->block_log2 > 4 ||
        !tile_span(h->tile_w, f->width) ||
        !tile_span(h->tile_h, f->height))
        return LVC_ERR_CORRUPT;
    return 0;
}

/* ------------------------------------------------------------ encoder */

struct LvcVideoEncoder {
    LvcVideoEncoderSettings s;
    VideoHeader h;
    LvcNn *nn;
    LvcModel *model;
    const LvcRegistryEntry *entry;
    LvcGeometry g;
    int16_t *ref;              /* M x hl x wl, tile-major (codec/latent.h) */
    uint32_t next;             /* index of the next frame */
    int failed;                /* a frame failed: the reference is lost */
};

void lvc_video_encoder_close(LvcVideoEncoder **enc)
{
    if (!enc || !*enc)
        return;
    LvcVideoEncoder *e = *enc;
    lvc_model_close(&e->model, e->nn);
    lvc_nn_close(&e->nn);
    lvc_free(e->ref);
    lvc_free(e);
    *enc = NULL;
}

int lvc_video_encoder_open(LvcVideoEncoder **enc, const LvcVideoEncoderSettings *s,
                           const LvcVideoFormat *fmt)
{
    if (!enc)
        return LVC_ERR_INVALID_ARG;
    *enc = NULL;
    if (!s || !fmt || !(s->quality >= 0.0f && s->quality <= 100.0f) || s->threads < 0 ||
        s->gop < 0 || s->gop > LVC_VIDEO_MAX_GOP || s->tile_size < 0 ||
        s->tile_size % LVC_PAD_MULTIPLE || s->backend < LVC_BACKEND_AUTO ||
        s->backend > LVC_BACKEND_CUDA || !format_valid(fmt))
        return LVC_ERR_INVALID_ARG;
    lvc_log_set_level(lvc_log_level_for_verbose(s->verbose));
    const LvcRegistryEntry *entry = lvc_registry_by_name(s->model);
    if (!entry) {
        lvc_log(LVC_LOG_ERROR, "no model named '%s' in this build",
                s->model ? s->model : "(default)");
        return LVC_ERR_MODEL_UNKNOWN;
    }
    LvcVideoEncoder *e = lvc_calloc(1, sizeof(*e));
    if (!e)
        return LVC_ERR_NOMEM;
    e->s = *s;
    e->entry = entry;
    const int tile = s->tile_size ? s->tile_size : LVC_DEFAULT_TILE;
    int ret = lvc_geometry_init(&e->g, (int)fmt->width, (int)fmt->height, tile, tile);
    if (ret < 0 || (ret = lvc_nn_open(&e->nn, s->backend, s->threads)) < 0 ||
        (ret = lvc_model_open(&e->model, entry->info.name, 0, e->nn)) < 0)
        goto error;
    if (!e->model->has_ctx) {
        lvc_log(LVC_LOG_ERROR, "model '%s' has no context model; video needs one (elic, "
                "checkerboard)", entry->info.name);
        ret = LVC_ERR_UNSUPPORTED;
        goto error;
    }
    e->ref = lvc_calloc((size_t)e->model->M * e->g.hl * e->g.wl, sizeof(int16_t));
    if (!e->ref) {
        ret = LVC_ERR_NOMEM;
        goto error;
    }
    VideoHeader *h = &e->h;
    h->fmt = *fmt;
    h->quality = (uint32_t)lrintf(s->quality * LVC_QUALITY_SCALE);
    h->gop = (uint32_t)(s->gop ? s->gop : LVC_VIDEO_DEFAULT_GOP);
    h->block_log2 = VIDEO_BLOCK_LOG2;
    h->tile_w = (uint32_t)tile < fmt->width ? (uint32_t)tile : fmt->width;
    h->tile_h = (uint32_t)tile < fmt->height ? (uint32_t)tile : fmt->height;
    h->model_id = entry->info.id;
    memcpy(h->weights_id, entry->info.weights_hash, LVC_WEIGHTS_ID_SIZE);
    *enc = e;
    return 0;
error:
    lvc_video_encoder_close(&e);
    return ret;
}

int lvc_video_encode_header(LvcVideoEncoder *e, uint8_t **out, size_t *out_size)
{
    if (out)
        *out = NULL;
    if (out_size)
        *out_size = 0;
    if (!e || !out || !out_size)
        return LVC_ERR_INVALID_ARG;
    LvcByteWriter w;
    lvc_bw_init(&w);
    header_write(&w, &e->h);
    int ret = w.err;
    const size_t total = LVC_CONTAINER_HEADER_SIZE + lvc_container_box_size(w.size);
    uint8_t *buf = ret ? NULL : malloc(total);
    if (!ret && !buf)
        ret = LVC_ERR_NOMEM;
    if (!ret) {
        memcpy(buf, LVC_CONTAINER_MAGIC, 4);
        buf[4] = LVC_CONTAINER_VERSION;
        buf[5] = LVC_KIND_VIDEO;
        lvc_container_put_box(buf + LVC_CONTAINER_HEADER_SIZE, BOX_VHDR, LVC_BOX_MANDATORY,
                              w.buf, w.size, NULL, 0);
        *out = buf;
        *out_size = total;
    }
    lvc_bw_free(&w);
    return ret;
}

int lvc_video_encode_frame(LvcVideoEncoder *e, const LvcImage *img, uint8_t **out,
                           size_t *out_size, LvcVideoFrameInfo *info)
{
    if (out)
        *out = NULL;
    if (out_size)
        *out_size = 0;
    if (info)
        memset(info, 0, sizeof(*info));
    if (!e || !img || !out || !out_size || !img->data || img->channels != 3 ||
        (img->bit_depth != 8 && img->bit_depth != 16) ||
        (uint32_t)img->width != e->h.fmt.width || (uint32_t)img->height != e->h.fmt.height ||
        img->stride < (size_t)img->width * 3 * (img->bit_depth / 8))
        return LVC_ERR_INVALID_ARG;
    if (e->next == UINT32_MAX)
        return LVC_ERR_LIMIT;
    const LvcGeometry *g = &e->g;
    const int intra = e->failed || e->next % e->h.gop == 0;
    LvcTensor y = { 0 };
    LvcLatentStreams ls;
    memset(&ls, 0, sizeof(ls));
    LvcByteWriter w;
    lvc_bw_init(&w);
    LvcLatentTemporal tp = { .ref = e->ref, .inter = !intra, .block_log2 = (int)e->h.block_log2 };
    y.data = lvc_malloc_array((size_t)e->model->M * g->hl * g->wl, sizeof(float));
    int ret = y.data ? 0 : LVC_ERR_NOMEM;
    y.c = e->model->M;
    y.h = g->hl;
    y.w = g->wl;
    y.dtype = LVC_NN_F32;
    if (!ret)
        ret = lvc_pipeline_analysis(e->model, e->nn, g, img, &y);
    if (!ret) {
        /* From here the reference changes: a failure loses it, and the
         * next frame is coded intra. */
        ret = lvc_latent_encode(e->model, e->nn, g, &y,
                                (float)e->h.quality / LVC_QUALITY_SCALE, &tp, &ls);
        e->failed = ret < 0;
    }
    if (!ret) {
        lvc_bw_varint(&w, e->next);
        lvc_bw_u8(&w, intra ? FRAME_INTRA : FRAME_INTER);
        for (int t = 0; t < ls.ntiles; t++) {
            lvc_bw_varint(&w, ls.z_size[t]);
            lvc_bw_varint(&w, ls.y_size[t]);
        }
        for (int t = 0; t < ls.ntiles; t++) {
            lvc_bw_bytes(&w, ls.z[t], ls.z_size[t]);
            lvc_bw_bytes(&w, ls.y[t], ls.y_size[t]);
        }
        ret = w.err;
    }
    const size_t total = ret ? 0 : lvc_container_box_size(w.size);
    if (!ret && !total)
        ret = LVC_ERR_LIMIT;
    uint8_t *buf = ret ? NULL : malloc(total);
    if (!ret && !buf)
        ret = LVC_ERR_NOMEM;
    if (!ret) {
        lvc_container_put_box(buf, BOX_VFRM, LVC_BOX_MANDATORY, w.buf, w.size, NULL, 0);
        *out = buf;
        *out_size = total;
        if (info) {
            info->index = e->next;
            info->intra = intra;
            info->bytes = total;
            info->blocks_intra = tp.blocks[LVC_BLOCK_INTRA];
            info->blocks_inter = tp.blocks[LVC_BLOCK_INTER];
            info->blocks_skip = tp.blocks[LVC_BLOCK_SKIP];
        }
        e->next++;
    } else {
        e->failed = 1;
    }
    lvc_bw_free(&w);
    lvc_latent_streams_free(&ls);
    lvc_free(y.data);
    return ret;
}

/* The file header and the vhdr box at the start of a stream; *pos gets
 * the offset after them. */
static int stream_start(const uint8_t *buf, size_t size, uint64_t max_pixels, size_t *pos,
                        VideoHeader *h)
{
    int ret = lvc_container_check_header(buf, size, LVC_KIND_VIDEO);
    if (ret < 0)
        return ret;
    LvcBoxDesc b;
    *pos = LVC_CONTAINER_HEADER_SIZE;
    if ((ret = lvc_container_next_box(buf, size, pos, &b)) < 0)
        return ret;
    if (memcmp(b.type, BOX_VHDR, 4) || !(b.flags & LVC_BOX_MANDATORY))
        return LVC_ERR_CORRUPT;
    return header_read(buf + b.payload_offset, b.payload_size, max_pixels, h);
}

static void info_from_header(const VideoHeader *h, LvcVideoInfo *info)
{
    info->format = h->fmt;
    info->quality = (float)h->quality / LVC_QUALITY_SCALE;
    info->gop = (int)h->gop;
    info->model_id = h->model_id;
    memcpy(info->weights_id, h->weights_id, LVC_WEIGHTS_ID_SIZE);
    info->tile_w = (int)h->tile_w;
    info->tile_h = (int)h->tile_h;
}

static int stream_info(const uint8_t *buf, size_t size, LvcVideoInfo *info,
                       LvcVideoFrameInfo *frames, size_t max_frames, size_t *num_frames);

int lvc_video_stream_info(const uint8_t *buf, size_t size, LvcVideoInfo *info,
                          LvcVideoFrameInfo *frames, size_t max_frames, size_t *num_frames)
{
    const int ret = stream_info(buf, size, info, frames, max_frames, num_frames);
    if (ret < 0 && frames && max_frames)
        memset(frames, 0, max_frames * sizeof(*frames));
    return ret;
}

static int stream_info(const uint8_t *buf, size_t size, LvcVideoInfo *info,
                       LvcVideoFrameInfo *frames, size_t max_frames, size_t *num_frames)
{
    if (info)
        memset(info, 0, sizeof(*info));
    if (num_frames)
        *num_frames = 0;
    if ((!buf && size) || !info || !num_frames || (max_frames && !frames))
        return LVC_ERR_INVALID_ARG;
    size_t pos = 0, n = 0;
    LvcBoxDesc b;
    VideoHeader h;
    int ret = stream_start(buf, size, UINT64_MAX, &pos, &h);
    if (ret < 0)
        return ret;
    int64_t last = -1;
    int prev_ok = 0;
    while (pos < size) {
        const size_t start = pos;
        if ((ret = lvc_container_next_box(buf, size, &pos, &b)) < 0)
            return ret;
        if (memcmp(b.type, BOX_VFRM, 4)) {
            if (!memcmp(b.type, BOX_VHDR, 4))
                return LVC_ERR_CORRUPT;
            if (b.flags & LVC_BOX_MANDATORY)
                return LVC_ERR_UNKNOWN_BOX;
            continue;
        }
        if (!(b.flags & LVC_BOX_MANDATORY))
            return LVC_ERR_CORRUPT;
        LvcByteReader r;
        lvc_br_init(&r, buf + b.payload_offset, b.payload_size);
        const uint32_t index = read_u32(&r);
        const int type = lvc_br_u8(&r);
        if (r.err || type > FRAME_INTER || index == UINT32_MAX || (int64_t)index <= last ||
            (type == FRAME_INTER && (!prev_ok || (int64_t)index != last + 1)))
            return LVC_ERR_CORRUPT;
        last = index;
        prev_ok = 1;
        if (n < max_frames) {
            memset(&frames[n], 0, sizeof(frames[n]));
            frames[n].index = index;
            frames[n].intra = type == FRAME_INTRA;
            frames[n].bytes = pos - start;
        }
        n++;
    }
    info_from_header(&h, info);
    *num_frames = n;
    return 0;
}

/* ------------------------------------------------------------ decoder */

struct LvcVideoDecoder {
    LvcDecoderSettings s;
    VideoHeader h;
    int have_header;
    LvcNn *nn;
    LvcModel *model;
    const LvcRegistryEntry *entry;  /* model currently open */
    LvcGeometry g;
    int16_t *ref;
    int have_ref;              /* ref holds frame next - 1 */
    uint32_t next;
    float *gain, *inv_gain;
    LvcSha256 digest;
};

int lvc_video_decoder_open(LvcVideoDecoder **dec, const LvcDecoderSettings *s)
{
    if (!dec)
        return LVC_ERR_INVALID_ARG;
    *dec = NULL;
    if (!s || s->threads < 0 || s->backend < LVC_BACKEND_AUTO || s->backend > LVC_BACKEND_CUDA)
        return LVC_ERR_INVALID_ARG;
    lvc_log_set_level(lvc_log_level_for_verbose(s->verbose));
    LvcVideoDecoder *d = lvc_calloc(1, sizeof(*d));
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

void lvc_video_decoder_close(LvcVideoDecoder **dec)
{
    if (!dec || !*dec)
        return;
    LvcVideoDecoder *d = *dec;
    lvc_model_close(&d->model, d->nn);
    lvc_nn_close(&d->nn);
    lvc_free(d->ref);
    lvc_free(d->gain);
    lvc_free(d->inv_gain);
    lvc_free(d);
    *dec = NULL;
}

int lvc_video_decode_header(LvcVideoDecoder *d, const uint8_t *buf, size_t size,
                            size_t *consumed, LvcVideoInfo *info)
{
    if (consumed)
        *consumed = 0;
    if (info)
        memset(info, 0, sizeof(*info));
    if (!d || (!buf && size) || !consumed)
        return LVC_ERR_INVALID_ARG;
    /* a new stream: forget the last one's frames (its model stays open) */
    d->have_header = 0;
    d->have_ref = 0;
    d->next = 0;
    lvc_free(d->ref);
    lvc_free(d->gain);
    lvc_free(d->inv_gain);
    d->ref = NULL;
    d->gain = d->inv_gain = NULL;
    size_t pos = 0;
    VideoHeader h;
    int ret = stream_start(buf, size, d->s.max_pixels, &pos, &h);
    if (ret < 0)
        return ret;
    const LvcRegistryEntry *e = lvc_registry_by_id(h.model_id);
    if (!e) {
        lvc_log(LVC_LOG_ERROR, "stream needs model id %u, which this build does not have",
                h.model_id);
        return LVC_ERR_MODEL_UNKNOWN;
    }
    if (memcmp(h.weights_id, e->info.weights_hash, LVC_WEIGHTS_ID_SIZE)) {
        lvc_log(LVC_LOG_ERROR, "stream was made with other weights of model '%s'",
                e->info.name);
        return LVC_ERR_MODEL_HASH;
    }
    LvcGeometry g;
    if ((ret = lvc_geometry_init(&g, (int)h.fmt.width, (int)h.fmt.height,
                                 (int)tile_span(h.tile_w, h.fmt.width),
                                 (int)tile_span(h.tile_h, h.fmt.height))) < 0)
        return LVC_ERR_CORRUPT;
    if (d->entry != e || !d->model) {
        lvc_model_close(&d->model, d->nn);
        d->entry = NULL;
        if ((ret = lvc_model_open(&d->model, e->info.name, LVC_MODEL_DECODER_ONLY, d->nn)) < 0)
            return ret;
        d->entry = e;
    }
    const LvcModel *m = d->model;
    if (!m->has_ctx) {
        ret = LVC_ERR_CORRUPT;   /* no encoder makes such a stream */
        goto error;
    }
    d->ref = lvc_calloc((size_t)m->M * g.hl * g.wl, sizeof(int16_t));
    d->gain = lvc_malloc_array((size_t)m->M, sizeof(float));
    d->inv_gain = lvc_malloc_array((size_t)m->M, sizeof(float));
    if (!d->ref || !d->gain || !d->inv_gain) {
        ret = LVC_ERR_NOMEM;
        goto error;
    }
    lvc_model_gains(m, (float)h.quality / LVC_QUALITY_SCALE, d->gain, d->inv_gain);
    d->h = h;
    d->g = g;
    d->have_header = 1;
    lvc_sha256_init(&d->digest);
    *consumed = pos;
    if (info)
        info_from_header(&h, info);
    return 0;
error:
    lvc_free(d->ref);
    lvc_free(d->gain);
    lvc_free(d->inv_gain);
    d->ref = NULL;
    d->gain = d->inv_gain = NULL;
    return ret;
}

/* The tiles of one frame: each decodes its own substreams into its own
 * part of the reference and of yhat, so they may run in parallel (as the
 * image decoder's, codec/decode.c): with a host backend, more than one
 * thread and at least as many tiles as threads, each worker context takes
 * tiles in turn; otherwise tile after tile. The result is the same. */
typedef struct FrameTiles {
    LvcVideoDecoder *d;
    const uint8_t *data;
    const size_t *sizes, *offs;  /* z and y sizes per tile; data offset */
    LvcTensor *yhat;
    int inter, ntiles;
    uint8_t (*digests)[LVC_SHA256_SIZE];
    uint32_t (*blocks)[LVC_BLOCK_MODES];
    int *ret;
    LvcNn **workers;
    atomic_int next;
} FrameTiles;

static int frame_tile(FrameTiles *j, int t, LvcNn *nn)
{
    const LvcVideoDecoder *d = j->d;
    const LvcModel *m = d->model;
    const LvcGeometry *g = &d->g;
    const uint8_t *p = j->data + j->offs[t];
    LvcTileStreams ts = { .z = p, .z_size = j->sizes[2 * t], .y = p + j->sizes[2 * t],
                          .y_size = j->sizes[2 * t + 1] };
    const size_t zc = lvc_latent_z_count(m, g, t);
    int16_t *zhat = lvc_malloc_array(zc ? zc : 1, sizeof(int16_t));
    if (!zhat)
        return LVC_ERR_NOMEM;
    LvcLatentTemporal tp = { .ref = d->ref, .inter = j->inter,
                             .block_log2 = (int)d->h.block_log2 };
    int ret = lvc_latent_decode_z(m, g, t, ts.z, ts.z_size, zhat);
    if (!ret)
        ret = lvc_latent_decode_tile(m, nn, g, t, &ts, zhat, d->inv_gain, j->yhat, &tp,
                                     j->digests[t]);
    memcpy(j->blocks[t], tp.blocks, sizeof(tp.blocks));
    lvc_free(zhat);
    return ret;
}

static void frame_tile_job(void *arg, int job, int thread)
{
    (void)thread;
    FrameTiles *j = arg;
    for (;;) {
        const int t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (t >= j->ntiles)
            return;
        j->ret[t] = frame_tile(j, t, j->workers[job]);
    }
}

static int frame_tiles(FrameTiles *j)
{
    LvcNn *nn = j->d->nn;
    const int nthreads = lvc_nn_threads(nn);
    const LvcBackend be = lvc_nn_backend(nn);
    if (nthreads > 1 && j->ntiles >= nthreads &&
        (be == LVC_BACKEND_CPU || be == LVC_BACKEND_REF)) {
        LvcNn **workers = lvc_calloc((size_t)nthreads, sizeof(*workers));
        int ok = workers != NULL;
        for (int i = 0; ok && i < nthreads; i++)
            ok = lvc_nn_open_worker(&workers[i], nn) == 0;
        if (ok) {
            j->workers = workers;
            atomic_init(&j->next, 0);
            lvc_nn_parallel(nn, nthreads, frame_tile_job, j);
        }
        for (int i = 0; workers && i < nthreads; i++)
            lvc_nn_close(&workers[i]);
        lvc_free(workers);
        if (ok) {
            for (int t = 0; t < j->ntiles; t++)
                if (j->ret[t] < 0)
                    return j->ret[t];   /* the first failing tile's error */
            return 0;
        }
        /* no memory for the workers: tile after tile instead */
    }
    for (int t = 0; t < j->ntiles; t++)
        if ((j->ret[t] = frame_tile(j, t, nn)) < 0)
            return j->ret[t];
    return 0;
}

/* The latents of one vfrm payload into ref (and yhat when its data is not
 * NULL); the frame's digest into digest. */
static int decode_latents(LvcVideoDecoder *d, const uint8_t *p, size_t n, LvcTensor *yhat,
                          LvcVideoFrameInfo *fi, uint8_t digest[LVC_SHA256_SIZE])
{
    const LvcGeometry *g = &d->g;
    const int ntiles = g->tiles_x * g->tiles_y;
    LvcByteReader r;
    lvc_br_init(&r, p, n);
    const uint64_t index = read_u32(&r);
    const int type = lvc_br_u8(&r);
    if (r.err)
        return LVC_ERR_CORRUPT;
    /* An intra frame may come after a gap (decoding resumes there after a
     * damaged frame); an inter frame needs the frame just before it. */
    if (type > FRAME_INTER || index < d->next || index >= UINT32_MAX ||
        (type == FRAME_INTER && index != d->next))
        return LVC_ERR_CORRUPT;
    if (type == FRAME_INTER && !d->have_ref) {
        lvc_log(LVC_LOG_ERROR, "inter frame %u without the frame before it", d->next);
        return LVC_ERR_CORRUPT;
    }
    size_t *sizes = lvc_malloc_array((size_t)ntiles * 3, sizeof(size_t));
    uint8_t(*tile_digests)[LVC_SHA256_SIZE] = lvc_malloc_array((size_t)ntiles,
                                                                 sizeof(*tile_digests));
    uint32_t(*blocks)[LVC_BLOCK_MODES] = lvc_calloc((size_t)ntiles, sizeof(*blocks));
    int *rets = lvc_calloc((size_t)ntiles, sizeof(int));
    int ret = sizes && tile_digests && blocks && rets ? 0 : LVC_ERR_NOMEM;
    uint64_t total = 0;
    for (int i = 0; i < 2 * ntiles && !ret; i++) {
        const uint64_t v = read_u32(&r);
        if (r.err || v > lvc_br_left(&r) || (total += v) > lvc_br_left(&r))
            ret = LVC_ERR_CORRUPT;
        sizes[i] = (size_t)v;
    }
    if (!ret && total != lvc_br_left(&r))
        ret = LVC_ERR_CORRUPT;
    size_t *offs = sizes ? sizes + 2 * ntiles : NULL;
    for (int t = 0; t < ntiles && !ret; t++)
        offs[t] = t ? offs[t - 1] + sizes[2 * t - 2] + sizes[2 * t - 1] : 0;
    /* The reference changes from the first tile on: whatever happens
     * now, only an intra frame can follow a failure. */
    if (!ret) {
        d->have_ref = 0;
        FrameTiles j = { .d = d, .data = r.p, .sizes = sizes, .offs = offs, .yhat = yhat,
                         .inter = type == FRAME_INTER, .ntiles = ntiles,
                         .digests = tile_digests, .blocks = blocks, .ret = rets };
        ret = frame_tiles(&j);
    }
    if (!ret) {
        lvc_sha256(tile_digests, (size_t)ntiles * LVC_SHA256_SIZE, digest);
        d->have_ref = 1;
        fi->index = (uint32_t)index;
        fi->intra = type == FRAME_INTRA;
        for (int t = 0; t < ntiles; t++) {
            fi->blocks_intra += blocks[t][LVC_BLOCK_INTRA];
            fi->blocks_inter += blocks[t][LVC_BLOCK_INTER];
            fi->blocks_skip += blocks[t][LVC_BLOCK_SKIP];
        }
    }
    lvc_free(sizes);
    lvc_free(tile_digests);
    lvc_free(blocks);
    lvc_free(rets);
    return ret;
}

/* Size of the box at buf when its framing (type, flags, length) fits in
 * size, whatever its CRC and content; 0 otherwise. */
static size_t box_extent(const uint8_t *buf, size_t size)
{
    if (size < 6)
        return 0;
    uint64_t len = 0;
    size_t i = 5;
    for (int k = 0; k < 5; k++, i++) {
        if (i >= size)
            return 0;
        len |= (uint64_t)(buf[i] & 0x7f) << (7 * k);
        if (!(buf[i] & 0x80))
            break;
        if (k == 4)
            return 0;
    }
    i++;
    return len + 4 <= size - i ? i + (size_t)len + 4 : 0;
}

static int decode_box(LvcVideoDecoder *d, const uint8_t *buf, size_t size, size_t *consumed,
                      LvcImage *frame, LvcVideoFrameInfo *info);

int lvc_video_decode_frame(LvcVideoDecoder *d, const uint8_t *buf, size_t size,
                           size_t *consumed, LvcImage *frame, LvcVideoFrameInfo *info)
{
    const int ret = decode_box(d, buf, size, consumed, frame, info);
    if (ret < 0 && consumed && d && d->have_header && buf)
        *consumed = box_extent(buf, size);
    return ret;
}

static int decode_box(LvcVideoDecoder *d, const uint8_t *buf, size_t size, size_t *consumed,
                      LvcImage *frame, LvcVideoFrameInfo *info)
{
    if (consumed)
        *consumed = 0;
    if (frame)
        memset(frame, 0, sizeof(*frame));
    if (info)
        memset(info, 0, sizeof(*info));
    if (!d || (!buf && size) || !consumed || !d->have_header)
        return LVC_ERR_INVALID_ARG;
    if (!size)
        return LVC_ERR_TRUNCATED;
    size_t pos = 0;
    LvcBoxDesc b;
    int ret = lvc_container_next_box(buf, size, &pos, &b);
    if (ret < 0)
        return ret;
    if (memcmp(b.type, BOX_VFRM, 4)) {
        if (!memcmp(b.type, BOX_VHDR, 4))
            return LVC_ERR_CORRUPT;
        if (b.flags & LVC_BOX_MANDATORY)
            return LVC_ERR_UNKNOWN_BOX;
        *consumed = pos;
        return 0;
    }
    if (!(b.flags & LVC_BOX_MANDATORY))
        return LVC_ERR_CORRUPT;
    if (d->next == UINT32_MAX)
        return LVC_ERR_CORRUPT;   /* no index can follow 2^32 - 2 */
    const LvcModel *m = d->model;
    const LvcGeometry *g = &d->g;
    LvcTensor yhat = { 0 };
    yhat.c = m->M;
    yhat.h = g->hl;
    yhat.w = g->wl;
    yhat.dtype = LVC_NN_F32;
    if (frame && !(yhat.data = lvc_malloc_array((size_t)m->M * g->hl * g->wl, sizeof(float))))
        return LVC_ERR_NOMEM;
    uint8_t fd[LVC_SHA256_SIZE];
    LvcVideoFrameInfo fi;
    memset(&fi, 0, sizeof(fi));
    /* decode_latents leaves the reference as it was when it refuses the
     * frame before its symbols, and invalidates it when it fails after */
    ret = decode_latents(d, buf + b.payload_offset, b.payload_size, &yhat, &fi, fd);
    if (!ret) {
        /* the symbols are decoded and the reference is this frame's, even
         * if the picture was not asked for or cannot be made */
        lvc_sha256_update(&d->digest, fd, sizeof(fd));
        d->next = fi.index + 1;
        if (frame) {
            if ((ret = lvc_image_alloc(frame, g->width, g->height, 3, 8)) == 0)
                ret = lvc_pipeline_synthesis(m, d->nn, g, &yhat, frame);
            if (ret < 0)
                lvc_image_free(frame);
        }
    }
    if (!ret) {
        *consumed = pos;
        fi.bytes = pos;
        if (info)
            *info = fi;
    }
    lvc_free(yhat.data);
    return ret < 0 ? ret : 1;
}

int lvc_video_decoder_symbols_digest(const LvcVideoDecoder *d, uint8_t digest[32])
{
    if (digest)
        memset(digest, 0, LVC_SHA256_SIZE);
    if (!d || !digest || !d->have_header)
        return LVC_ERR_INVALID_ARG;
    LvcSha256 copy = d->digest;
    lvc_sha256_final(&copy, digest);
    return 0;
}
