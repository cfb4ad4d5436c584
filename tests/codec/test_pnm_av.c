/*
 * Netpbm interoperability with FFmpeg's libavcodec (built with FFmpeg only):
 * PGM, PPM and PAM files written by lvc decode in FFmpeg's pnm decoders to
 * the same samples, and files written by FFmpeg's pnm encoders read in lvc
 * to the same samples, for every channel count and both bit depths.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>

#include "lvc/lvc.h"
#include "codec/image_io.h"

/* FFmpeg's pixel format for lvc's layout: interleaved, 16-bit big-endian
 * as in the files (FFmpeg's decoders may give the little-endian twin). */
static enum AVPixelFormat av_format(int channels, int depth)
{
    static const enum AVPixelFormat f8[5] = { AV_PIX_FMT_NONE, AV_PIX_FMT_GRAY8,
                                              AV_PIX_FMT_YA8, AV_PIX_FMT_RGB24,
                                              AV_PIX_FMT_RGBA };
    static const enum AVPixelFormat f16[5] = { AV_PIX_FMT_NONE, AV_PIX_FMT_GRAY16BE,
                                               AV_PIX_FMT_YA16BE, AV_PIX_FMT_RGB48BE,
                                               AV_PIX_FMT_RGBA64BE };
    return depth == 8 ? f8[channels] : f16[channels];
}

static enum AVCodecID av_codec(int channels, int pam)
{
    return pam ? AV_CODEC_ID_PAM : channels == 1 ? AV_CODEC_ID_PGM : AV_CODEC_ID_PPM;
}

static uint32_t rng = 99;
static void fill_random(LvcImage *img)
{
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < (size_t)img->width * img->channels * (img->bit_depth / 8); i++) {
            rng = rng * 1664525u + 1013904223u;
            img->data[(size_t)y * img->stride + i] = (uint8_t)(rng >> 24);
        }
}

/* Sample i of row y as a number, from lvc's image (host order) or from a
 * frame's plane (big-endian for 16 bits). */
static unsigned lvc_sample(const LvcImage *img, int y, size_t i)
{
    const uint8_t *p = img->data + (size_t)y * img->stride;
    if (img->bit_depth == 8)
        return p[i];
    uint16_t v;
    memcpy(&v, p + 2 * i, 2);
    return v;
}

static unsigned frame_sample(const AVFrame *f, int depth, int y, size_t i)
{
    const uint8_t *p = f->data[0] + (ptrdiff_t)y * f->linesize[0];
    if (depth == 8)
        return p[i];
    const int be = (av_pix_fmt_desc_get(f->format)->flags & AV_PIX_FMT_FLAG_BE) != 0;
    return be ? (unsigned)p[2 * i] << 8 | p[2 * i + 1] : (unsigned)p[2 * i + 1] << 8 | p[2 * i];
}

/* The format itself, or for 16 bits its little-endian twin. */
static int same_layout(int got, enum AVPixelFormat want)
{
    if (got == want)
        return 1;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(want);
    if (!(d->flags & AV_PIX_FMT_FLAG_BE))
        return 0;
    char name[64];
    snprintf(name, sizeof(name), "%s", d->name);
    const size_t n = strlen(name);
    if (n < 2 || strcmp(name + n - 2, "be"))
        return 0;
    name[n - 2] = 'l';
    name[n - 1] = 'e';
    return got == av_get_pix_fmt(name);
}

static int codec_has_format(const AVCodec *c, enum AVPixelFormat fmt)
{
    for (const enum AVPixelFormat *p = c->pix_fmts; p && *p != AV_PIX_FMT_NONE; p++)
        if (*p == fmt)
            return 1;
    return 0;
}

static int decoded = 0, encoded = 0;

/* lvc writes, FFmpeg decodes. */
static void lvc_to_av(const LvcImage *img, int pam)
{
    uint8_t *buf;
    size_t n;
    ck_assert_int_eq(lvc_pnm_write_mem(img, pam, &buf, &n), 0);
    const AVCodec *codec = avcodec_find_decoder(av_codec(img->channels, pam));
    ck_assert_ptr_nonnull(codec);
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    ck_assert(ctx && pkt && frame);
    ck_assert_int_eq(avcodec_open2(ctx, codec, NULL), 0);
    ck_assert_int_eq(av_new_packet(pkt, (int)n), 0);
    memcpy(pkt->data, buf, n);
    ck_assert_int_eq(avcodec_send_packet(ctx, pkt), 0);
    ck_assert_int_eq(avcodec_receive_frame(ctx, frame), 0);
    ck_assert_int_eq(frame->width, img->width);
    ck_assert_int_eq(frame->height, img->height);
    ck_assert_msg(same_layout(frame->format, av_format(img->channels, img->bit_depth)),
                  "%d channels, %d bits, pam %d: FFmpeg decoded pixel format %d",
                  img->channels, img->bit_depth, pam, frame->format);
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < (size_t)img->width * img->channels; i++)
            ck_assert_uint_eq(frame_sample(frame, img->bit_depth, y, i), lvc_sample(img, y, i));
    decoded++;
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    free(buf);
}

/* FFmpeg encodes (where its encoder takes the layout), lvc reads. */
static void av_to_lvc(const LvcImage *img, int pam)
{
    const enum AVPixelFormat fmt = av_format(img->channels, img->bit_depth);
    const AVCodec *codec = avcodec_find_encoder(av_codec(img->channels, pam));
    ck_assert_ptr_nonnull(codec);
    if (!codec_has_format(codec, fmt))
        return;
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    ck_assert(ctx && pkt && frame);
    ctx->width = img->width;
    ctx->height = img->height;
    ctx->pix_fmt = fmt;
    ctx->time_base = (AVRational){ 1, 25 };
    ck_assert_int_eq(avcodec_open2(ctx, codec, NULL), 0);
    frame->width = img->width;
    frame->height = img->height;
    frame->format = fmt;
    ck_assert_int_eq(av_frame_get_buffer(frame, 0), 0);
    for (int y = 0; y < img->height; y++) {
        uint8_t *p = frame->data[0] + (ptrdiff_t)y * frame->linesize[0];
        for (size_t i = 0; i < (size_t)img->width * img->channels; i++) {
            const unsigned v = lvc_sample(img, y, i);
            if (img->bit_depth == 8) {
                p[i] = (uint8_t)v;
            } else {
                p[2 * i] = (uint8_t)(v >> 8);
                p[2 * i + 1] = (uint8_t)v;
            }
        }
    }
    ck_assert_int_eq(avcodec_send_frame(ctx, frame), 0);
    ck_assert_int_eq(avcodec_receive_packet(ctx, pkt), 0);
    LvcImage back;
    ck_assert_int_eq(lvc_pnm_read_mem(pkt->data, (size_t)pkt->size, &back, 0), 0);
    ck_assert_int_eq(back.width, img->width);
    ck_assert_int_eq(back.height, img->height);
    ck_assert_int_eq(back.channels, img->channels);
    ck_assert_int_eq(back.bit_depth, img->bit_depth);
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < (size_t)img->width * img->channels; i++)
            ck_assert_uint_eq(lvc_sample(&back, y, i), lvc_sample(img, y, i));
    encoded++;
    lvc_image_free(&back);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
}

START_TEST(test_pnm_ffmpeg)
{
    av_log_set_level(AV_LOG_ERROR);
    for (int depth = 8; depth <= 16; depth += 8) {
        for (int ch = 1; ch <= 4; ch++) {
            for (int pam = 0; pam <= 1; pam++) {
                if (!pam && (ch == 2 || ch == 4))
                    continue;
                LvcImage img;
                ck_assert_int_eq(lvc_image_alloc(&img, 13, 7, ch, depth), 0);
                fill_random(&img);
                lvc_to_av(&img, pam);
                av_to_lvc(&img, pam);
                lvc_image_free(&img);
            }
        }
    }
    fprintf(stderr, "pnm-ffmpeg: %d files read by FFmpeg, %d written by FFmpeg\n", decoded,
            encoded);
    /* Every case decodes in FFmpeg; its encoders take most layouts. */
    ck_assert_int_eq(decoded, 12);
    ck_assert_int_ge(encoded, 8);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pnm-ffmpeg");
    TCase *tc = tcase_create("interop");
    tcase_add_test(tc, test_pnm_ffmpeg);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
