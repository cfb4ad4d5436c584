/*
 * Video coder speed and memory: bench_video [CLIP.y4m] [FRAMES] [GOP]
 *
 * Codes the clip (or, without one, a synthetic 640x360 clip of a still
 * textured background and a moving square) at quality 50, then decodes
 * it three ways: intra frames only as a baseline (the same clip with
 * GOP 1), the inter stream with pictures, and the inter stream's latents
 * without pictures (what seeking to a later frame costs per frame).
 * Prints seconds per frame, the ratios against the intra baseline, bytes,
 * and the decoder's peak allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lvc/video.h"
#include "common/log.h"
#include "common/mem.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void synth(LvcImage *img, int w, int h, int t)
{
    if (lvc_image_alloc(img, w, h, 3, 8) < 0)
        exit(1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->data + (size_t)y * img->stride + 3 * x;
            const uint32_t r = ((uint32_t)(x * 7 + y * 13) ^ (uint32_t)(x * y)) * 2654435761u;
            const int in = x >= 40 + 4 * t && x < 140 + 4 * t && y >= 100 && y < 200;
            p[0] = in ? 220 : (uint8_t)(40 + (x * 3) % 120 + (r >> 28));
            p[1] = in ? 200 : (uint8_t)(70 + (y * 2) % 100 + (r >> 27));
            p[2] = in ? 50 : (uint8_t)(90 + (x + y) % 80);
        }
}

typedef struct Coded {
    uint8_t *data;
    size_t size;
    double enc_s;
} Coded;

static void encode(LvcImage *frames, int n, const LvcVideoFormat *fmt, int gop, Coded *c)
{
    LvcVideoEncoderSettings s;
    lvc_video_encoder_default_settings(&s);
    s.quality = 50;
    s.gop = gop;
    LvcVideoEncoder *e = NULL;
    if (lvc_video_encoder_open(&e, &s, fmt) < 0)
        exit(1);
    uint8_t *buf;
    size_t sz;
    memset(c, 0, sizeof(*c));
    if (lvc_video_encode_header(e, &buf, &sz) < 0)
        exit(1);
    c->data = buf;
    c->size = sz;
    const double t0 = now();
    for (int i = 0; i < n; i++) {
        if (lvc_video_encode_frame(e, &frames[i], &buf, &sz, NULL) < 0)
            exit(1);
        c->data = realloc(c->data, c->size + sz);
        memcpy(c->data + c->size, buf, sz);
        c->size += sz;
        free(buf);
    }
    c->enc_s = (now() - t0) / n;
    lvc_video_encoder_close(&e);
}

/* Seconds per frame of the best of `reps` decodes; *peak the decoder's
 * peak allocation. */
static double decode(const Coded *c, int pictures, int reps, size_t *peak)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        LvcDecoderSettings ds;
        lvc_decoder_default_settings(&ds);
        const size_t base = lvc_mem_in_use();
        lvc_mem_reset_peak();
        LvcVideoDecoder *d = NULL;
        size_t used, pos;
        LvcVideoInfo vi;
        if (lvc_video_decoder_open(&d, &ds) < 0 ||
            lvc_video_decode_header(d, c->data, c->size, &used, &vi) < 0)
            exit(1);
        pos = used;
        int n = 0;
        const double t0 = now();
        while (pos < c->size) {
            LvcImage img;
            const int ret = lvc_video_decode_frame(d, c->data + pos, c->size - pos, &used,
                                                   pictures ? &img : NULL, NULL);
            if (ret < 0)
                exit(1);
            if (pictures)
                lvc_image_free(&img);
            pos += used;
            n += ret;
        }
        const double t = (now() - t0) / n;
        best = t < best ? t : best;
        *peak = lvc_mem_peak() - base;
        lvc_video_decoder_close(&d);
    }
    return best;
}

int main(int argc, char **argv)
{
    lvc_log_set_level(LVC_LOG_QUIET);
    int n = argc > 2 ? atoi(argv[2]) : 8;
    const int gop = argc > 3 ? atoi(argv[3]) : 32;
    if (n < 1 || n > 1000 || gop < 1) {
        fprintf(stderr, "usage: bench_video [CLIP.y4m] [FRAMES 1..1000] [GOP]\n");
        return 2;
    }
    LvcVideoFormat fmt;
    lvc_video_format_default(&fmt);
    LvcImage *frames = calloc((size_t)n, sizeof(*frames));
    int have = 0;
    if (argc > 1) {
        FILE *f = fopen(argv[1], "rb");
        LvcYuvReader *r = NULL;
        if (!f || lvc_y4m_reader_open(&r, f, 0, &fmt) < 0) {
            fprintf(stderr, "bench_video: cannot read %s\n", argv[1]);
            return 1;
        }
        while (have < n && lvc_yuv_read_frame(r, &frames[have]) == 1)
            have++;
        lvc_yuv_reader_close(&r);
        fclose(f);
        n = have;
        if (!n) {
            fprintf(stderr, "bench_video: no frames in %s\n", argv[1]);
            return 1;
        }
    } else {
        fmt.width = 640;
        fmt.height = 360;
        for (; have < n; have++)
            synth(&frames[have], 640, 360, have);
    }
    Coded intra, inter;
    encode(frames, n, &fmt, 1, &intra);
    encode(frames, n, &fmt, gop, &inter);
    size_t pk_i = 0, pk_p = 0, pk_l = 0;
    const double di = decode(&intra, 1, 3, &pk_i);
    const double dp = decode(&inter, 1, 3, &pk_p);
    const double dl = decode(&inter, 0, 3, &pk_l);
    printf("%s: %ux%u, %d frames, quality 50\n", argc > 1 ? argv[1] : "synthetic", fmt.width,
           fmt.height, n);
    printf("%-22s %10s %10s %10s %12s\n", "", "bytes", "enc s/fr", "dec s/fr", "dec peak MB");
    printf("%-22s %10zu %10.3f %10.3f %12.1f\n", "intra only (GOP 1)", intra.size, intra.enc_s,
           di, pk_i / 1048576.0);
    printf("%-22s %10zu %10.3f %10.3f %12.1f\n", "inter (GOP)", inter.size, inter.enc_s, dp,
           pk_p / 1048576.0);
    printf("%-22s %10s %10s %10.3f %12.1f\n", "inter, latents only", "", "", dl,
           pk_l / 1048576.0);
    printf("ratios to intra only: bytes %.3f, encode %.2f, decode %.2f, latents-only decode "
           "%.2f\n", (double)inter.size / intra.size, inter.enc_s / intra.enc_s, dp / di,
           dl / di);
    for (int i = 0; i < n; i++)
        lvc_image_free(&frames[i]);
    free(frames);
    free(intra.data);
    free(inter.data);
    return 0;
}
