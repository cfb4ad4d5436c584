/*
 * The video side of the apps: lvcenc takes a YUV4MPEG2 (.y4m) or raw
 * planar (.yuv) file, lvcdec a kind-2 stream, lvcinfo describes one. Same
 * conventions as cli_common.h (functions returning an exit status have
 * printed the one error line).
 */
#ifndef LVC_APPS_VIDEO_CLI_H
#define LVC_APPS_VIDEO_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lvc/video.h"
#include "cli_common.h"

/* A name ending in ".y4m" or ".yuv" (any case). */
int lvc_cli_is_video_name(const char *path);
/* A YUV4MPEG2 stream (by its signature). */
int lvc_cli_is_y4m(const uint8_t *data, size_t size);
/* An lvc stream of kind 2. */
int lvc_cli_is_video_stream(const uint8_t *data, size_t size);

/* "WxH" (1..65535 each), "N" or "N/D" frame rates (both 1..1000000). */
int lvc_cli_parse_size(const char *s, uint32_t *w, uint32_t *h);
int lvc_cli_parse_rate(const char *s, uint32_t *num, uint32_t *den);

typedef struct LvcCliVideoEnc {
    const char *input, *output;
    const uint8_t *data;    /* a Y4M read from stdin, or NULL: read input */
    size_t size;
    const char *model;
    double quality;
    long gop;               /* 0 = default */
    long frames;            /* code at most this many; 0 = all */
    uint32_t width, height; /* raw input: frame size (required) */
    uint32_t fps_num, fps_den; /* raw input: rate (0 = 25/1); y4m: override */
    int threads, tile;
    LvcBackend backend;
    uint64_t max_pixels;
    int force, verbose, quiet, json;
} LvcCliVideoEnc;

typedef struct LvcCliVideoDec {
    const char *input, *output;
    const char *ref;        /* the source (.y4m, or .yuv in the stream's
                             * format) for PSNR, or NULL */
    int threads;
    LvcBackend backend;
    uint64_t max_pixels;
    int verify;
    uint8_t expected[32];
    int print_digest;
    int force, verbose, quiet, json;
} LvcCliVideoDec;

/* Encode the video file o->input; out is open when o->output is set. */
int lvc_cli_encode_video(const LvcCliVideoEnc *o, LvcCliOutput *out, FILE *report);
/* Decode the stream in data to .y4m (raw planes for a name ending in
 * ".yuv"); out was opened with LVC_CLI_OUT_NEED_PATH. */
int lvc_cli_decode_video(const LvcCliVideoDec *o, const uint8_t *data, size_t size,
                         LvcCliOutput *out, FILE *report);
/* lvcinfo's description of a kind-2 stream (frames listed when verbose). */
int lvc_cli_info_video(const char *input, const uint8_t *data, size_t size, int json,
                       int verbose);

#endif /* LVC_APPS_VIDEO_CLI_H */
