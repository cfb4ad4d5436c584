/*
 * lvc learned image decoding through liblvc
 *
 * This file is part of lvc's FFmpeg integration (doc/ffmpeg.md in the lvc
 * tree); it is copied into FFmpeg's libavcodec by ffmpeg/build.sh.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#include <lvc/lvc.h>

#include "libavutil/imgutils.h"
#include "libavutil/opt.h"

#include "avcodec.h"
#include "codec_internal.h"
#include "internal.h"
#include "liblvc.h"

typedef struct LibLvcDecContext {
    const AVClass *class;
    LvcDecoder *dec;
    int backend;
} LibLvcDecContext;

static av_cold int liblvc_decode_init(AVCodecContext *avctx)
{
    LibLvcDecContext *s = avctx->priv_data;
    LvcDecoderSettings set;
    int ret;

    lvc_decoder_default_settings(&set);
    set.threads = avctx->thread_count;        /* 0: every core */
    set.backend = s->backend;
    /* lvc keeps its own limit (2^28 pixels); FFmpeg's -max_pixels is
     * checked against the header before decoding (ff_set_dimensions) */
    avctx->color_range = AVCOL_RANGE_JPEG;
    ret = lvc_decoder_open(&s->dec, &set);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "cannot open the lvc decoder: %s\n",
               lvc_error_string(ret));
        return ff_liblvc_error(ret);
    }
    return 0;
}

static int liblvc_decode_frame(AVCodecContext *avctx, AVFrame *frame,
                               int *got_frame, AVPacket *avpkt)
{
    LibLvcDecContext *s = avctx->priv_data;
    LvcStreamInfo info;
    LvcImage img = { 0 };
    enum AVPixelFormat fmt;
    int ret;

    *got_frame = 0;
    /* the header first: size and pixel format are checked (and, when
     * avformat_find_stream_info probes, found) without decoding */
    ret = lvc_stream_info(avpkt->data, avpkt->size, &info);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "lvc decoding failed: %s\n",
               lvc_error_string(ret));
        return ff_liblvc_error(ret);
    }
    fmt = ff_liblvc_pix_fmt(info.channels, info.bit_depth);
    if (fmt == AV_PIX_FMT_NONE) {
        av_log(avctx, AV_LOG_ERROR, "lvc image of %d channels at %d bits has "
               "no pixel format here\n", info.channels, info.bit_depth);
        return AVERROR_INVALIDDATA;
    }
    if ((ret = ff_set_dimensions(avctx, info.width, info.height)) < 0)
        return ret;
    avctx->pix_fmt     = fmt;
    avctx->color_range = AVCOL_RANGE_JPEG;
    if (avctx->skip_frame >= AVDISCARD_ALL)
        return avpkt->size;

    ret = lvc_decode_image(s->dec, avpkt->data, avpkt->size, &img);
    if (ret < 0) {
        av_log(avctx, AV_LOG_ERROR, "lvc decoding failed: %s\n",
               lvc_error_string(ret));
        return ff_liblvc_error(ret);
    }
    if (img.width != info.width || img.height != info.height ||
        ff_liblvc_pix_fmt(img.channels, img.bit_depth) != fmt) {
        ret = AVERROR_BUG;
        goto end;
    }
    if ((ret = ff_get_buffer(avctx, frame, 0)) < 0)
        goto end;

    av_image_copy_plane(frame->data[0], frame->linesize[0], img.data,
                        (int)img.stride,
                        img.width * img.channels * (img.bit_depth / 8),
                        img.height);
    frame->key_frame = 1;
    frame->pict_type = AV_PICTURE_TYPE_I;
    *got_frame = 1;
    ret = avpkt->size;
end:
    lvc_image_free(&img);
    return ret;
}

static av_cold int liblvc_decode_close(AVCodecContext *avctx)
{
    LibLvcDecContext *s = avctx->priv_data;

    lvc_decoder_close(&s->dec);
    return 0;
}

#define OFFSET(x) offsetof(LibLvcDecContext, x)
#define VD AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_DECODING_PARAM
static const AVOption liblvc_dec_options[] = {
    LIBLVC_BACKEND_OPTIONS(OFFSET(backend), VD)
    { NULL },
};

static const AVClass liblvc_dec_class = {
    .class_name = "liblvc decoder",
    .item_name  = av_default_item_name,
    .option     = liblvc_dec_options,
    .version    = LIBAVUTIL_VERSION_INT,
};

const FFCodec ff_liblvc_decoder = {
    .p.name         = "liblvc",
    .p.long_name    = NULL_IF_CONFIG_SMALL("liblvc learned image codec"),
    .p.type         = AVMEDIA_TYPE_VIDEO,
    .p.id           = AV_CODEC_ID_LVC,
    .p.capabilities = AV_CODEC_CAP_DR1 | AV_CODEC_CAP_OTHER_THREADS,
    .p.priv_class   = &liblvc_dec_class,
    .p.wrapper_name = "liblvc",
    .priv_data_size = sizeof(LibLvcDecContext),
    .init           = liblvc_decode_init,
    FF_CODEC_DECODE_CB(liblvc_decode_frame),
    .close          = liblvc_decode_close,
    .caps_internal  = FF_CODEC_CAP_INIT_CLEANUP | FF_CODEC_CAP_AUTO_THREADS |
                      FF_CODEC_CAP_SKIP_FRAME_FILL_PARAM,
};
