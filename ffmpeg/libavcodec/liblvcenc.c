/*
 * lvc learned image encoding through liblvc
 *
 * This file is part of lvc's FFmpeg integration; it is copied into FFmpeg's
 * libavcodec by ffmpeg/build.sh in the lvc tree.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#include <stdlib.h>

#include <lvc/lvc.h>

#include "libavutil/common.h"
#include "libavutil/imgutils.h"
#include "libavutil/opt.h"

#include "avcodec.h"
#include "codec_internal.h"
#include "encode.h"
#include "liblvc.h"

typedef struct LibLvcEncContext {
    const AVClass *class;
    LvcEncoder *enc;
    float quality;
    char *model;
    double bpp;
    int64_t size;
    int tile_size;
    int backend;
} LibLvcEncContext;

static av_cold int liblvc_encode_init(AVCodecContext *avctx)
{
    LibLvcEncContext *s = avctx->priv_data;
    LvcEncoderSettings set;
    int ret;

    lvc_encoder_default_settings(&set);
    if (s->quality >= 0)
        set.quality = s->quality;
    else if (avctx->global_quality >= 0)     /* -q:v / -global_quality */
        set.quality = av_clipf(avctx->global_quality / (float)FF_QP2LAMBDA,
                               0.0f, 100.0f);
    set.model        = s->model;
    set.target_bpp   = s->bpp;
    set.target_bytes = s->size;
    set.threads      = avctx->thread_count;  /* 0: every core */
    set.backend      = s->backend;
    set.tile_size    = s->tile_size;
    ret = lvc_encoder_open(&s->enc, &set);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "cannot open the lvc encoder%s%s: %s\n",
               s->model ? " for model " : "", s->model ? s->model : "",
               lvc_error_string(ret));
        return ret == LVC_ERR_MODEL_UNKNOWN ? AVERROR(EINVAL) : ff_liblvc_error(ret);
    }
    return 0;
}

static int liblvc_encode_frame(AVCodecContext *avctx, AVPacket *pkt,
                               const AVFrame *frame, int *got_packet)
{
    LibLvcEncContext *s = avctx->priv_data;
    LvcImage img = { 0 }, copy = { 0 };
    uint8_t *out = NULL;
    size_t out_size = 0;
    int ret;

    img.channels = ff_liblvc_channels(frame->format, &img.bit_depth);
    if (!img.channels)
        return AVERROR(EINVAL);
    img.width  = frame->width;
    img.height = frame->height;
    if (frame->linesize[0] > 0) {
        img.stride = frame->linesize[0];
        img.data   = frame->data[0];
    } else {                    /* bottom-up rows: lvc takes a top-down image */
        ret = lvc_image_alloc(&copy, img.width, img.height, img.channels,
                              img.bit_depth);
        if (ret < 0)
            return ff_liblvc_error(ret);
        av_image_copy_plane(copy.data, (int)copy.stride, frame->data[0],
                            frame->linesize[0],
                            img.width * img.channels * (img.bit_depth / 8),
                            img.height);
        img = copy;
    }

    ret = lvc_encode_image(s->enc, &img, &out, &out_size);
    lvc_image_free(&copy);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "lvc encoding failed: %s\n",
               lvc_error_string(ret));
        return ff_liblvc_error(ret);
    }
    if (out_size > INT_MAX) {
        ret = AVERROR(ERANGE);
        goto end;
    }
    if ((ret = ff_get_encode_buffer(avctx, pkt, out_size, 0)) < 0)
        goto end;
    memcpy(pkt->data, out, out_size);
    pkt->flags |= AV_PKT_FLAG_KEY;
    if (s->bpp > 0 || s->size > 0)
        av_log(avctx, AV_LOG_VERBOSE, "frame coded at quality %.2f\n",
               lvc_encoder_last_quality(s->enc));
    *got_packet = 1;
    ret = 0;
end:
    free(out);
    return ret;
}

static av_cold int liblvc_encode_close(AVCodecContext *avctx)
{
    LibLvcEncContext *s = avctx->priv_data;

    lvc_encoder_close(&s->enc);
    return 0;
}

#define OFFSET(x) offsetof(LibLvcEncContext, x)
#define VE AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_ENCODING_PARAM
static const AVOption liblvc_enc_options[] = {
    { "quality", "0 (smallest) to 100 (best); -1: -q:v if set, else lvc's default (75)",
      OFFSET(quality), AV_OPT_TYPE_FLOAT, { .dbl = -1 }, -1, 100, VE },
    { "model", "model name (elic, checkerboard, meanscale, hyperprior, factorized; default elic)",
      OFFSET(model), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, VE },
    { "bpp", "search each frame's quality for this many bits per pixel",
      OFFSET(bpp), AV_OPT_TYPE_DOUBLE, { .dbl = 0 }, 0, 64, VE },
    { "size", "search each frame's quality for this many bytes (overrides bpp)",
      OFFSET(size), AV_OPT_TYPE_INT64, { .i64 = 0 }, 0, INT64_MAX, VE },
    { "tile_size", "luma pixels per tile side, a multiple of 64 (0: lvc's default)",
      OFFSET(tile_size), AV_OPT_TYPE_INT, { .i64 = 0 }, 0, 1 << 16, VE },
    LIBLVC_BACKEND_OPTIONS(OFFSET(backend), VE)
    { NULL },
};

static const AVClass liblvc_enc_class = {
    .class_name = "liblvc encoder",
    .item_name  = av_default_item_name,
    .option     = liblvc_enc_options,
    .version    = LIBAVUTIL_VERSION_INT,
};

static const FFCodecDefault liblvc_defaults[] = {
    { "global_quality", "-1" },
    { NULL },
};

const FFCodec ff_liblvc_encoder = {
    .p.name         = "liblvc",
    .p.long_name    = NULL_IF_CONFIG_SMALL("liblvc learned image codec"),
    .p.type         = AVMEDIA_TYPE_VIDEO,
    .p.id           = AV_CODEC_ID_LVC,
    .p.capabilities = AV_CODEC_CAP_DR1 | AV_CODEC_CAP_OTHER_THREADS,
    .p.pix_fmts     = (const enum AVPixelFormat[]) {
        AV_PIX_FMT_RGB24, AV_PIX_FMT_RGBA, AV_PIX_FMT_GRAY8, AV_PIX_FMT_YA8,
        AV_PIX_FMT_RGB48, AV_PIX_FMT_RGBA64, AV_PIX_FMT_GRAY16, AV_PIX_FMT_YA16,
        AV_PIX_FMT_NONE
    },
    .p.priv_class   = &liblvc_enc_class,
    .p.wrapper_name = "liblvc",
    .priv_data_size = sizeof(LibLvcEncContext),
    .defaults       = liblvc_defaults,
    .init           = liblvc_encode_init,
    FF_CODEC_ENCODE_CB(liblvc_encode_frame),
    .close          = liblvc_encode_close,
    .caps_internal  = FF_CODEC_CAP_INIT_CLEANUP | FF_CODEC_CAP_AUTO_THREADS,
};
