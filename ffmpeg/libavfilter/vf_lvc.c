/*
 * lvc filter: pass each frame through the lvc learned image codec
 *
 * Encodes every frame with liblvc, decodes the stream, and outputs the
 * decoded frame with the stream's size in its metadata (lavfi.lvc.bytes,
 * lavfi.lvc.bpp, lavfi.lvc.quality), so that a filter graph can show or
 * measure (psnr, ssim) what lvc makes of a video or image without writing
 * streams to disk.
 *
 * This file is part of lvc's FFmpeg integration; it is copied into FFmpeg's
 * libavfilter by ffmpeg/build.sh in the lvc tree.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#include <stdlib.h>

#include <lvc/lvc.h>

#include "libavutil/dict.h"
#include "libavutil/imgutils.h"
#include "libavutil/opt.h"
#include "libavcodec/liblvc.h"

#include "avfilter.h"
#include "formats.h"
#include "internal.h"
#include "video.h"

typedef struct LvcFilterContext {
    const AVClass *class;
    LvcEncoder *enc;
    LvcDecoder *dec;
    float quality;
    char *model;
    double bpp;
    int64_t size;
    int backend;
    uint64_t total_bytes;
    uint64_t total_pixels;
    int64_t frames;
} LvcFilterContext;

static av_cold int lvc_init(AVFilterContext *ctx)
{
    LvcFilterContext *s = ctx->priv;
    LvcEncoderSettings es;
    LvcDecoderSettings ds;
    int ret;

    lvc_encoder_default_settings(&es);
    es.quality      = s->quality;
    es.model        = s->model;
    es.target_bpp   = s->bpp;
    es.target_bytes = s->size;
    es.threads      = ctx->nb_threads;  /* the filter's threads option; 0: every core */
    es.backend      = s->backend;
    lvc_decoder_default_settings(&ds);
    ds.threads = ctx->nb_threads;
    ds.backend = s->backend;
    if ((ret = lvc_encoder_open(&s->enc, &es)) < 0 ||
        (ret = lvc_decoder_open(&s->dec, &ds)) < 0) {
        av_log(ctx, AV_LOG_ERROR, "cannot open lvc%s%s: %s\n",
               s->model ? " with model " : "", s->model ? s->model : "",
               lvc_error_string(ret));
        return ret == LVC_ERR_MODEL_UNKNOWN ? AVERROR(EINVAL) : ff_liblvc_error(ret);
    }
    return 0;
}

static int lvc_filter_frame(AVFilterLink *inlink, AVFrame *in)
{
    AVFilterContext *ctx = inlink->dst;
    LvcFilterContext *s = ctx->priv;
    AVFilterLink *outlink = ctx->outputs[0];
    LvcImage img = { 0 }, copy = { 0 }, dec = { 0 };
    uint8_t *stream = NULL;
    size_t stream_size = 0;
    AVFrame *out = NULL;
    int ret, row_bytes;
    char buf[64];

    img.channels = ff_liblvc_channels(in->format, &img.bit_depth);
    img.width    = in->width;
    img.height   = in->height;
    row_bytes    = img.width * img.channels * (img.bit_depth / 8);
    if (in->linesize[0] > 0) {
        img.stride = in->linesize[0];
        img.data   = in->data[0];
    } else {
        if ((ret = lvc_image_alloc(&copy, img.width, img.height, img.channels,
                                   img.bit_depth)) < 0)
            goto lvc_fail;
        av_image_copy_plane(copy.data, (int)copy.stride, in->data[0],
                            in->linesize[0], row_bytes, img.height);
        img = copy;
    }
    if ((ret = lvc_encode_image(s->enc, &img, &stream, &stream_size)) < 0 ||
        (ret = lvc_decode_image(s->dec, stream, stream_size, &dec)) < 0)
        goto lvc_fail;
    if (dec.width != in->width || dec.height != in->height ||
        dec.channels != img.channels || dec.bit_depth != img.bit_depth) {
        ret = AVERROR_BUG;
        goto end;
    }

    out = ff_get_video_buffer(outlink, outlink->w, outlink->h);
    if (!out) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = av_frame_copy_props(out, in)) < 0)
        goto end;
    av_image_copy_plane(out->data[0], out->linesize[0], dec.data,
                        (int)dec.stride, row_bytes, dec.height);

    s->total_bytes  += stream_size;
    s->total_pixels += (uint64_t)in->width * in->height;
    s->frames++;
    snprintf(buf, sizeof(buf), "%zu", stream_size);
    av_dict_set(&out->metadata, "lavfi.lvc.bytes", buf, 0);
    snprintf(buf, sizeof(buf), "%.6f", 8.0 * stream_size / ((double)in->width * in->height));
    av_dict_set(&out->metadata, "lavfi.lvc.bpp", buf, 0);
    snprintf(buf, sizeof(buf), "%.3f", lvc_encoder_last_quality(s->enc));
    av_dict_set(&out->metadata, "lavfi.lvc.quality", buf, 0);
    ret = 0;
    goto end;

lvc_fail:
    av_log(ctx, AV_LOG_ERROR, "lvc failed on a %dx%d frame: %s\n",
           in->width, in->height, lvc_error_string(ret));
    ret = ff_liblvc_error(ret);
end:
    free(stream);
    lvc_image_free(&copy);
    lvc_image_free(&dec);
    av_frame_free(&in);
    if (ret < 0) {
        av_frame_free(&out);
        return ret;
    }
    return ff_filter_frame(outlink, out);
}

static av_cold void lvc_uninit(AVFilterContext *ctx)
{
    LvcFilterContext *s = ctx->priv;

    if (s->frames)
        av_log(ctx, AV_LOG_INFO, "%"PRId64" frames, %"PRIu64" bytes, %.4f bpp\n",
               s->frames, s->total_bytes, 8.0 * s->total_bytes / s->total_pixels);
    lvc_encoder_close(&s->enc);
    lvc_decoder_close(&s->dec);
}

#define OFFSET(x) offsetof(LvcFilterContext, x)
#define FLAGS AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_FILTERING_PARAM
static const AVOption lvc_options[] = {
    { "quality", "0 (smallest) to 100 (best)", OFFSET(quality), AV_OPT_TYPE_FLOAT,
      { .dbl = 75 }, 0, 100, FLAGS },
    { "model", "model name (default elic)", OFFSET(model), AV_OPT_TYPE_STRING,
      { .str = NULL }, 0, 0, FLAGS },
    { "bpp", "search each frame's quality for this many bits per pixel",
      OFFSET(bpp), AV_OPT_TYPE_DOUBLE, { .dbl = 0 }, 0, 64, FLAGS },
    { "size", "search each frame's quality for this many bytes (overrides bpp)",
      OFFSET(size), AV_OPT_TYPE_INT64, { .i64 = 0 }, 0, INT64_MAX, FLAGS },
    LIBLVC_BACKEND_OPTIONS(OFFSET(backend), FLAGS)
    { NULL }
};

AVFILTER_DEFINE_CLASS(lvc);

static const AVFilterPad lvc_inputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
        .filter_frame = lvc_filter_frame,
    },
};

static const AVFilterPad lvc_outputs[] = {
    {
        .name = "default",
        .type = AVMEDIA_TYPE_VIDEO,
    },
};

const AVFilter ff_vf_lvc = {
    .name        = "lvc",
    .description = NULL_IF_CONFIG_SMALL("Pass frames through the lvc learned image codec."),
    .priv_size   = sizeof(LvcFilterContext),
    .priv_class  = &lvc_class,
    .init        = lvc_init,
    .uninit      = lvc_uninit,
    FILTER_INPUTS(lvc_inputs),
    FILTER_OUTPUTS(lvc_outputs),
    FILTER_PIXFMTS(AV_PIX_FMT_RGB24, AV_PIX_FMT_RGBA, AV_PIX_FMT_GRAY8, AV_PIX_FMT_YA8,
                   AV_PIX_FMT_RGB48, AV_PIX_FMT_RGBA64, AV_PIX_FMT_GRAY16, AV_PIX_FMT_YA16),
};
