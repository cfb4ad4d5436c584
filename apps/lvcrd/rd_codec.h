/*
 * lvcrd: the codecs under test behind one interface. A codec encodes an
 * 8-bit RGB image at one value of its rate parameter, decodes the result,
 * and reports the real encoded size and the encode/decode wall times.
 */
#ifndef LVC_APPS_LVCRD_RD_CODEC_H
#define LVC_APPS_LVCRD_RD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "apps/lvcrd/rd_json.h"

/* Interleaved 8-bit RGB, rows stride bytes apart; data from malloc. */
typedef struct LvcRdImage {
    int width, height;
    size_t stride;
    uint8_t *data;
} LvcRdImage;

/* Allocates a w x h RGB image (stride 3*w). On failure img is zeroed. */
int lvcrd_image_alloc(LvcRdImage *img, int w, int h);
void lvcrd_image_free(LvcRdImage *img);

typedef struct LvcRdCoded {
    size_t bytes;    /* encoded size */
    double enc_s;    /* seconds: conversion from RGB, encoder setup, encode */
    double dec_s;    /* seconds: decoder setup, decode, conversion to RGB */
} LvcRdCoded;

typedef struct LvcRdCodec LvcRdCodec;

/* Encodes src at param and decodes it into rec (allocated by the call,
 * owned by the caller on success, zeroed on failure). On failure returns a
 * negative LvcError and writes a one-line reason to err. */
typedef int (*LvcRdCodeFn)(const LvcRdCodec *c, double param, const LvcRdImage *src,
                           LvcRdImage *rec, LvcRdCoded *res, char *err, size_t err_size);

struct LvcRdCodec {
    char name[64];            /* key and file stem: "jpeg", "lvc-elic" */
    char label[64];           /* curve name in plots and tables: "JPEG 4:2:0" */
    char description[256];    /* the setup, written into the results JSON */
    char param_name[16];      /* "qscale", "quality", "crf", "ratio", "q", "bpp" */
    int num_params;
    double params[LVC_RD_MAX_POINTS];
    double macs_per_pixel;    /* decoder MAC/pixel (lvc models), else 0 */
    int threads;
    int def;                  /* classical: index in the codec table */
    char model[64];           /* lvc: model name */
    char version[96];         /* what the points depend on beyond the name
                               * (lvc: the weights hash); "" = nothing
                               * recorded. --resume drops the stored points
                               * of a codec whose version changed. */
    int target_bpp;           /* lvc: params are target bpp, not quality */
    LvcRdCodeFn code;
};

/* Wall clock in seconds (monotonic). */
double lvcrd_now(void);

/* Classical codecs through libavcodec (rd_codec_av.c). names: the names
 * known to this build, comma-separated ("" without FFmpeg).
 * lvcrd_av_codec_setup returns 0 and fills c (default sweep, threads);
 * LVC_ERR_UNSUPPORTED with a note when the encoder or decoder is missing
 * from this libavcodec; LVC_ERR_INVALID_ARG for an unknown name. */
const char *lvcrd_av_codec_names(void);
int lvcrd_av_codec_setup(const char *name, int threads, LvcRdCodec *c,
                         char *note, size_t note_size);
/* Silences libav* logging below errors (level 0) or keeps it (1). */
void lvcrd_av_log_level(int verbose);
/* With FFmpeg: "WHAT: libav's message for averr" into err. */
void lvcrd_av_err(char *err, size_t err_size, const char *what, int averr);
/* With FFmpeg: the layout-equivalent non-"J" pixel format of f (an
 * AVPixelFormat); *full is set to 1 for a "J" (full-range) one. */
int lvcrd_av_unj(int f, int *full);

/* An lvc model through the public API (rd_codec_lvc.c): params are
 * qualities 0..100 or, with target_bpp, target bits per pixel. */
/* Closes the decoders lvc codecs keep across images (end of a run). */
void lvcrd_lvc_release(void);
int lvcrd_lvc_codec_setup(const char *model, int target_bpp, int threads,
                          LvcRdCodec *c, char *note, size_t note_size);

#endif /* LVC_APPS_LVCRD_RD_CODEC_H */
