/*
 * Shared helpers of the liblvc encoder and decoder wrappers
 *
 * This file is part of lvc's FFmpeg integration; it is copied into FFmpeg's
 * libavcodec by ffmpeg/build.sh in the lvc tree.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#ifndef AVCODEC_LIBLVC_H
#define AVCODEC_LIBLVC_H

#include <lvc/lvc.h>

#include "libavutil/error.h"
#include "libavutil/pixfmt.h"

/* lvc's images are interleaved, 1 to 4 channels (gray, gray+alpha, RGB,
 * RGBA) of 8 or 16 native-endian bits. */
static inline enum AVPixelFormat ff_liblvc_pix_fmt(int channels, int bit_depth)
{
    static const enum AVPixelFormat fmts[2][4] = {
        { AV_PIX_FMT_GRAY8,  AV_PIX_FMT_YA8,  AV_PIX_FMT_RGB24, AV_PIX_FMT_RGBA   },
        { AV_PIX_FMT_GRAY16, AV_PIX_FMT_YA16, AV_PIX_FMT_RGB48, AV_PIX_FMT_RGBA64 },
    };
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16))
        return AV_PIX_FMT_NONE;
    return fmts[bit_depth == 16][channels - 1];
}

/* The inverse: 0 when the format is not one of the eight above. */
static inline int ff_liblvc_channels(enum AVPixelFormat fmt, int *bit_depth)
{
    for (int depth = 8; depth <= 16; depth += 8)
        for (int c = 1; c <= 4; c++)
            if (ff_liblvc_pix_fmt(c, depth) == fmt) {
                *bit_depth = depth;
                return c;
            }
    return 0;
}

static inline int ff_liblvc_error(int err)
{
    switch (err) {
    case LVC_ERR_NOMEM:         return AVERROR(ENOMEM);
    case LVC_ERR_INVALID_ARG:   return AVERROR(EINVAL);
    case LVC_ERR_IO:            return AVERROR(EIO);
    case LVC_ERR_LIMIT:
    case LVC_ERR_DIMENSIONS:    return AVERROR(ERANGE);
    case LVC_ERR_UNSUPPORTED:   /* valid, but not for this build of lvc: */
    case LVC_ERR_VERSION:       /* another format version, a model that */
    case LVC_ERR_MODEL_UNKNOWN: /* is not in it, other weights, no GPU */
    case LVC_ERR_MODEL_HASH:
    case LVC_ERR_FORMAT:
    case LVC_ERR_BACKEND:       return AVERROR(ENOSYS);
    default:                    return AVERROR_INVALIDDATA;
    }
}

#define LIBLVC_BACKEND_OPTIONS(offset, flags)                                         \
    { "backend", "neural network backend", offset, AV_OPT_TYPE_INT,                   \
      { .i64 = LVC_BACKEND_AUTO }, LVC_BACKEND_AUTO, LVC_BACKEND_CUDA, flags, "backend" }, \
    { "auto", "CUDA when a GPU is present, else CPU", 0, AV_OPT_TYPE_CONST,            \
      { .i64 = LVC_BACKEND_AUTO }, 0, 0, flags, "backend" },                          \
    { "ref",  "portable C reference", 0, AV_OPT_TYPE_CONST,                            \
      { .i64 = LVC_BACKEND_REF }, 0, 0, flags, "backend" },                           \
    { "cpu",  "OpenBLAS and SIMD", 0, AV_OPT_TYPE_CONST,                               \
      { .i64 = LVC_BACKEND_CPU }, 0, 0, flags, "backend" },                           \
    { "cuda", "cuDNN and cuBLAS", 0, AV_OPT_TYPE_CONST,                                \
      { .i64 = LVC_BACKEND_CUDA }, 0, 0, flags, "backend" },

#endif /* AVCODEC_LIBLVC_H */
