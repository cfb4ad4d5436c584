/*
 * Video coding tests (codec/video.c, the temporal modes of codec/latent.c):
 * round trips and frame types, the same symbols and pictures at any thread
 * count and on both CPU backends, decoding latents without pictures,
 * resuming at an intra frame, what inter frames save on still content,
 * the stream info, and hostile streams (wrong kind, bad header fields,
 * frame order, unknown boxes, truncation at every offset).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/video.h"
#include "codec/container.h"
#include "common/crc32.h"
#include "common/log.h"
#include "tests/video/test_video.h"

#define W 96
#define H 64

/* Frame t of a test video: a fixed texture with a square that moves by
 * `speed` pixels a frame. */
static void make_frame(LvcImage *img, int t, int speed)
{
    ck_assert_int_eq(lvc_image_alloc(img, W, H, 3, 8), 0);
    for (int y = 0; y < H; y++) {
        uint8_t *row = img->data + (size_t)y * img->stride;
        for (int x = 0; x < W; x++) {
            const uint32_t h = ((uint32_t)(x * 7 + y * 13) ^ (uint32_t)(x * y)) * 2654435761u;
            const int in = x >= 10 + speed * t && x < 30 + speed * t && y >= 20 && y < 40;
            row[3 * x + 0] = in ? 230 : (uint8_t)(50 + (x * 3) % 90 + (h >> 28));
            row[3 * x + 1] = in ? 210 : (uint8_t)(80 + (y * 2) % 80 + (h >> 27));
            row[3 * x + 2] = in ? 30 : (uint8_t)(100 + (x + y) % 60);
        }
    }
}

typedef struct Stream {
    uint8_t *data;
    size_t size;
    size_t frame_off[16], frame_size[16];
    int nframes;
    LvcVideoFrameInfo info[16];
} Stream;

static void append(Stream *s, const uint8_t *p, size_t n)
{
    s->data = realloc(s->data, s->size + n);
    ck_assert_ptr_nonnull(s->data);
    memcpy(s->data + s->size, p, n);
    s->size += n;
}

static int tile_size;   /* 0: the default tiles */

static void encode(Stream *s, int frames, int gop, int speed, float q, int threads)
{
    memset(s, 0, sizeof(*s));
    LvcVideoEncoderSettings set;
    lvc_video_encoder_default_settings(&set);
    set.quality = q;
    set.gop = gop;
    set.threads = threads;
    set.backend = LVC_BACKEND_CPU;
    set.tile_size = tile_size;
    LvcVideoFormat fmt;
    lvc_video_format_default(&fmt);
    fmt.width = W;
    fmt.height = H;
    LvcVideoEncoder *e = NULL;
    ck_assert_int_eq(lvc_video_encoder_open(&e, &set, &fmt), 0);
    uint8_t *buf;
    size_t n;
    ck_assert_int_eq(lvc_video_encode_header(e, &buf, &n), 0);
    append(s, buf, n);
    free(buf);
    for (int t = 0; t < frames; t++) {
        LvcImage img;
        make_frame(&img, t, speed);
        ck_assert_int_eq(lvc_video_encode_frame(e, &img, &buf, &n, &s->info[t]), 0);
        ck_assert_uint_eq(s->info[t].index, (unsigned)t);
        ck_assert_uint_eq(s->info[t].bytes, n);
        s->frame_off[t] = s->size;
        s->frame_size[t] = n;
        append(s, buf, n);
        free(buf);
        lvc_image_free(&img);
    }
    s->nframes = frames;
    lvc_video_encoder_close(&e);
}

static LvcVideoDecoder *open_dec(int threads, LvcBackend be)
{
    LvcDecoderSettings ds;
    lvc_decoder_default_settings(&ds);
    ds.threads = threads;
    ds.backend = be;
    LvcVideoDecoder *d = NULL;
    ck_assert_int_eq(lvc_video_decoder_open(&d, &ds), 0);
    return d;
}

/* Decode every frame; pictures into pics (may be NULL), digest into dg.
 * Returns the first error, or the frame count. */
static int decode_all(const Stream *s, int threads, LvcBackend be, LvcImage *pics,
                      uint8_t dg[32])
{
    LvcVideoDecoder *d = open_dec(threads, be);
    size_t used, pos = 0;
    LvcVideoInfo vi;
    int ret = lvc_video_decode_header(d, s->data, s->size, &used, &vi);
    int n = 0;
    if (!ret) {
        pos = used;
        while (pos < s->size) {
            LvcImage tmp;
            ret = lvc_video_decode_frame(d, s->data + pos, s->size - pos, &used,
                                         pics ? &pics[n] : &tmp, NULL);
            if (ret < 0)
                break;
            if (!pics)
                lvc_image_free(&tmp);
            pos += used;
            n += ret;
            ret = 0;
        }
    }
    if (!ret && dg)
        ck_assert_int_eq(lvc_video_decoder_symbols_digest(d, dg), 0);
    lvc_video_decoder_close(&d);
    return ret < 0 ? ret : n;
}

static double psnr(const LvcImage *a, const LvcImage *b)
{
    double se = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width * 3; x++) {
            const double d = (double)a->data[y * a->stride + x] - b->data[y * b->stride + x];
            se += d * d;
        }
    return se > 0 ? 10 * log10(255.0 * 255.0 * a->width * a->height * 3 / se) : 99.0;
}

static int same_image(const LvcImage *a, const LvcImage *b)
{
    for (int y = 0; y < a->height; y++)
        if (memcmp(a->data + y * a->stride, b->data + y * b->stride, (size_t)a->width * 3))
            return 0;
    return 1;
}

START_TEST(test_round_trip)
{
    Stream s;
    encode(&s, 6, 4, 3, 50.0f, 1);
    for (int t = 0; t < 6; t++)
        ck_assert_int_eq(s.info[t].intra, t % 4 == 0);
    /* inter frames code blocks in all three ways over a moving square */
    uint32_t modes[3] = { 0, 0, 0 };
    for (int t = 0; t < 6; t++) {
        modes[0] += s.info[t].blocks_intra;
        modes[1] += s.info[t].blocks_inter;
        modes[2] += s.info[t].blocks_skip;
    }
    ck_assert_uint_gt(modes[1] + modes[2], 0);
    LvcImage pics[6];
    uint8_t dg[32];
    ck_assert_int_eq(decode_all(&s, 1, LVC_BACKEND_CPU, pics, dg), 6);
    for (int t = 0; t < 6; t++) {
        LvcImage src;
        make_frame(&src, t, 3);
        ck_assert_int_eq(pics[t].width, W);
        ck_assert_int_eq(pics[t].height, H);
        /* no drift: inter frames are as good as the intra ones */
        ck_assert_double_gt(psnr(&pics[t], &src), 24.0);
        lvc_image_free(&src);
        lvc_image_free(&pics[t]);
    }
    free(s.data);
}
END_TEST

START_TEST(test_threads_and_backends)
{
    Stream s1, s2;
    encode(&s1, 4, 32, 2, 60.0f, 1);
    encode(&s2, 4, 32, 2, 60.0f, 2);
    /* the same stream whatever the encoder's threads */
    ck_assert_uint_eq(s1.size, s2.size);
    ck_assert_mem_eq(s1.data, s2.data, s1.size);
    LvcImage a[4], b[4], c[4];
    uint8_t da[32], db[32], dc[32];
    ck_assert_int_eq(decode_all(&s1, 1, LVC_BACKEND_CPU, a, da), 4);
    ck_assert_int_eq(decode_all(&s1, 2, LVC_BACKEND_CPU, b, db), 4);
    ck_assert_int_eq(decode_all(&s1, 1, LVC_BACKEND_REF, c, dc), 4);
    ck_assert_mem_eq(da, db, 32);
    ck_assert_mem_eq(da, dc, 32);
    for (int t = 0; t < 4; t++) {
        ck_assert(same_image(&a[t], &b[t]));
        /* backends: the float synthesis within the conformance tolerance */
        ck_assert_double_gt(psnr(&a[t], &c[t]), 45.0);
        lvc_image_free(&a[t]);
        lvc_image_free(&b[t]);
        lvc_image_free(&c[t]);
    }
    free(s1.data);
    free(s2.data);
}
END_TEST

/* Latents without pictures keep the reference: the picture of a later
 * frame is the same as in a full decode. */
START_TEST(test_latents_only)
{
    Stream s;
    encode(&s, 4, 32, 3, 40.0f, 1);
    LvcImage full[4];
    ck_assert_int_eq(decode_all(&s, 1, LVC_BACKEND_CPU, full, NULL), 4);
    LvcVideoDecoder *d = open_dec(1, LVC_BACKEND_CPU);
    size_t used;
    LvcVideoInfo vi;
    ck_assert_int_eq(lvc_video_decode_header(d, s.data, s.size, &used, &vi), 0);
    for (int t = 0; t < 3; t++)
        ck_assert_int_eq(lvc_video_decode_frame(d, s.data + s.frame_off[t], s.frame_size[t],
                                                &used, NULL, NULL), 1);
    LvcImage last;
    ck_assert_int_eq(lvc_video_decode_frame(d, s.data + s.frame_off[3], s.frame_size[3], &used,
                                            &last, NULL), 1);
    ck_assert(same_image(&last, &full[3]));
    lvc_image_free(&last);
    lvc_video_decoder_close(&d);
    for (int t = 0; t < 4; t++)
        lvc_image_free(&full[t]);
    free(s.data);
}
END_TEST

/* An inter frame without the frame before it is refused; decoding resumes
 * at the next intra frame, with the picture of a full decode. */
START_TEST(test_resume_at_intra)
{
    Stream s;
    encode(&s, 5, 3, 3, 40.0f, 1);
    LvcImage full[5];
    ck_assert_int_eq(decode_all(&s, 1, LVC_BACKEND_CPU, full, NULL), 5);
    LvcVideoDecoder *d = open_dec(1, LVC_BACKEND_CPU);
    size_t used;
    LvcVideoInfo vi;
    LvcImage pic;
    LvcVideoFrameInfo fi;
    ck_assert_int_eq(lvc_video_decode_header(d, s.data, s.size, &used, &vi), 0);
    ck_assert_int_eq(vi.gop, 3);
    /* frame 1 (inter) first: no reference */
    ck_assert_int_eq(lvc_video_decode_frame(d, s.data + s.frame_off[1], s.frame_size[1], &used,
                                            &pic, NULL), LVC_ERR_CORRUPT);
    ck_assert_ptr_null(pic.data);
    ck_assert_int_eq(lvc_video_decode_frame(d, s.data + s.frame_off[3], s.frame_size[3], &used,
                                            &pic, &fi), 1);
    ck_assert_uint_eq(fi.index, 3);
    ck_assert(fi.intra);
    ck_assert(same_image(&pic, &full[3]));
    lvc_image_free(&pic);
    ck_assert_int_eq(lvc_video_decode_frame(d, s.data + s.frame_off[4], s.frame_size[4], &used,
                                            &pic, NULL), 1);
    ck_assert(same_image(&pic, &full[4]));
    lvc_image_free(&pic);
    /* a frame again, or one from before: refused */
    ck_assert_int_eq(lvc_video_decode_frame(d, s.data + s.frame_off[3], s.frame_size[3], &used,
                                            &pic, NULL), LVC_ERR_CORRUPT);
    lvc_video_decoder_close(&d);
    for (int t = 0; t < 5; t++)
        lvc_image_free(&full[t]);
    free(s.data);
}
END_TEST

/* On still content, inter frames cost a small part of an intra frame. */
START_TEST(test_still_content)
{
    Stream s, si;
    encode(&s, 4, 32, 0, 50.0f, 1);
    encode(&si, 4, 1, 0, 50.0f, 1);
    for (int t = 1; t < 4; t++) {
        ck_assert(!s.info[t].intra);
        ck_assert_uint_lt(s.info[t].bytes * 4, s.info[0].bytes);
        ck_assert_uint_gt(s.info[t].blocks_skip, s.info[t].blocks_intra);
        ck_assert(si.info[t].intra);
    }
    ck_assert_uint_lt(s.size * 2, si.size);
    free(s.data);
    free(si.data);
}
END_TEST

/* Two tiles across: each has its own part of the reference. */
START_TEST(test_tiles)
{
    Stream s, s1;
    tile_size = 64;
    encode(&s, 4, 32, 3, 50.0f, 1);
    tile_size = 0;
    encode(&s1, 4, 32, 3, 50.0f, 1);
    ck_assert(s.size != s1.size || memcmp(s.data, s1.data, s.size));
    LvcImage a[4], b[4];
    uint8_t da[32], db[32];
    ck_assert_int_eq(decode_all(&s, 1, LVC_BACKEND_CPU, a, da), 4);
    ck_assert_int_eq(decode_all(&s, 2, LVC_BACKEND_CPU, b, db), 4);
    ck_assert_mem_eq(da, db, 32);
    for (int t = 0; t < 4; t++) {
        LvcImage src;
        make_frame(&src, t, 3);
        ck_assert_double_gt(psnr(&a[t], &src), 24.0);
        ck_assert(same_image(&a[t], &b[t]));
        ck_assert_uint_gt(s.info[t].intra ? 1 : s.info[t].blocks_inter + s.info[t].blocks_skip,
                          0);
        lvc_image_free(&src);
        lvc_image_free(&a[t]);
        lvc_image_free(&b[t]);
    }
    free(s.data);
    free(s1.data);
}
END_TEST

/* A caller that only advances by *consumed gets past refused frames to
 * the next intra frame; a frame given twice is refused without losing the
 * reference. */
START_TEST(test_recovery)
{
    Stream s;
    encode(&s, 5, 3, 3, 40.0f, 1);
    LvcImage full[5];
    ck_assert_int_eq(decode_all(&s, 1, LVC_BACKEND_CPU, full, NULL), 5);
    LvcVideoDecoder *d = open_dec(1, LVC_BACKEND_CPU);
    size_t used;
    LvcVideoInfo vi;
    LvcImage pic;
    LvcVideoFrameInfo fi;
    ck_assert_int_eq(lvc_video_decode_header(d, s.data, s.size, &used, &vi), 0);
    /* start at frame 1 (inter): frames 1 and 2 are refused, 3 decodes */
    size_t pos = s.frame_off[1];
    int got = 0;
    while (pos < s.size) {
        const int r = lvc_video_decode_frame(d, s.data + pos, s.size - pos, &used, &pic, &fi);
        ck_assert_uint_gt(used, 0);
        if (r == 1) {
            ck_assert(same_image(&pic, &full[fi.index]));
            lvc_image_free(&pic);
            got++;
        } else {
            ck_assert_int_eq(r, LVC_ERR_CORRUPT);
            ck_assert_uint_lt(pos, s.frame_off[3]);
        }
        pos += used;
    }
    ck_assert_int_eq(got, 2);
    /* a CRC error: the box is skipped as well */
    uint8_t *c = malloc(s.size);
    memcpy(c, s.data, s.size);
    c[s.frame_off[1] + 12] ^= 1;
    ck_assert_int_eq(lvc_video_decode_header(d, c, s.size, &used, &vi), 0);
    ck_assert_int_eq(lvc_video_decode_frame(d, c + s.frame_off[0], s.size - s.frame_off[0],
                                            &used, NULL, NULL), 1);
    ck_assert_int_eq(lvc_video_decode_frame(d, c + s.frame_off[1], s.size - s.frame_off[1],
                                            &used, NULL, NULL), LVC_ERR_CRC);
    ck_assert_uint_eq(used, s.frame_size[1]);
    free(c);
    /* frames 0, 1, 1 again (refused), 2: frame 2 still has its reference */
    ck_assert_int_eq(lvc_video_decode_header(d, s.data, s.size, &used, &vi), 0);
    const int order[4] = { 0, 1, 1, 2 };
    for (int k = 0; k < 4; k++) {
        const int r = lvc_video_decode_frame(d, s.data + s.frame_off[order[k]],
                                             s.frame_size[order[k]], &used,
                                             k == 3 ? &pic : NULL, NULL);
        ck_assert_int_eq(r, k == 2 ? LVC_ERR_CORRUPT : 1);
    }
    ck_assert(same_image(&pic, &full[2]));
    lvc_image_free(&pic);
    lvc_video_decoder_close(&d);
    for (int t = 0; t < 5; t++)
        lvc_image_free(&full[t]);
    free(s.data);
}
END_TEST

START_TEST(test_stream_info)
{
    Stream s;
    encode(&s, 5, 2, 3, 30.0f, 1);
    LvcVideoInfo vi;
    LvcVideoFrameInfo fr[8];
    size_t n = 0;
    ck_assert_int_eq(lvc_video_stream_info(s.data, s.size, &vi, fr, 8, &n), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(vi.format.width, W);
    ck_assert_uint_eq(vi.format.height, H);
    ck_assert_int_eq(vi.gop, 2);
    ck_assert_float_eq_tol(vi.quality, 30.0f, 1e-3f);
    ck_assert_uint_eq(vi.model_id, lvc_model_find(lvc_model_default())->id);
    for (int t = 0; t < 5; t++) {
        ck_assert_uint_eq(fr[t].index, (unsigned)t);
        ck_assert_int_eq(fr[t].intra, t % 2 == 0);
        ck_assert_uint_eq(fr[t].bytes, s.frame_size[t]);
    }
    ck_assert_int_eq(lvc_video_stream_info(s.data, s.size, &vi, NULL, 0, &n), 0);
    ck_assert_uint_eq(n, 5);
    /* cut inside frame 3: an error, and nothing left in frames[] */
    ck_assert_int_eq(lvc_video_stream_info(s.data, s.frame_off[3] + 20, &vi, fr, 8, &n),
                     LVC_ERR_LENGTH);
    ck_assert_uint_eq(n, 0);
    for (int t = 0; t < 8; t++)
        ck_assert_uint_eq(fr[t].bytes, 0);
    uint8_t dg[32];
    memset(dg, 0xab, sizeof(dg));
    LvcVideoDecoder *d = open_dec(1, LVC_BACKEND_CPU);
    ck_assert_int_eq(lvc_video_decoder_symbols_digest(d, dg), LVC_ERR_INVALID_ARG);
    for (int i = 0; i < 32; i++)
        ck_assert_uint_eq(dg[i], 0);
    lvc_video_decoder_close(&d);
    free(s.data);
}
END_TEST

START_TEST(test_encoder_arguments)
{
    LvcVideoEncoderSettings set;
    lvc_video_encoder_default_settings(&set);
    LvcVideoFormat fmt;
    lvc_video_format_default(&fmt);
    fmt.width = W;
    fmt.height = H;
    LvcVideoEncoder *e = NULL;
    set.model = "hyperprior";   /* no context model */
    ck_assert_int_eq(lvc_video_encoder_open(&e, &set, &fmt), LVC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(e);
    set.model = NULL;
    set.gop = -1;
    ck_assert_int_eq(lvc_video_encoder_open(&e, &set, &fmt), LVC_ERR_INVALID_ARG);
    set.gop = 0;
    fmt.width = 0;
    ck_assert_int_eq(lvc_video_encoder_open(&e, &set, &fmt), LVC_ERR_INVALID_ARG);
    fmt.width = W;
    fmt.fps_den = 0;
    ck_assert_int_eq(lvc_video_encoder_open(&e, &set, &fmt), LVC_ERR_INVALID_ARG);
    fmt.fps_den = 1;
    ck_assert_int_eq(lvc_video_encoder_open(&e, &set, &fmt), 0);
    LvcImage img;
    uint8_t *buf = (uint8_t *)1;
    size_t n = 1;
    ck_assert_int_eq(lvc_image_alloc(&img, W + 1, H, 3, 8), 0);
    ck_assert_int_eq(lvc_video_encode_frame(e, &img, &buf, &n, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(n, 0);
    lvc_image_free(&img);
    ck_assert_int_eq(lvc_image_alloc(&img, W, H, 4, 8), 0);
    ck_assert_int_eq(lvc_video_encode_frame(e, &img, &buf, &n, NULL), LVC_ERR_INVALID_ARG);
    lvc_image_free(&img);
    lvc_video_encoder_close(&e);
    ck_assert_ptr_null(e);
}
END_TEST

/* Rebuild the box at off (whose payload is payload[np]) in place. */
static size_t box_at(const uint8_t *p, size_t size, size_t off, LvcBoxDesc *b)
{
    size_t pos = off;
    ck_assert_int_eq(lvc_container_next_box(p, size, &pos, b), 0);
    return pos;
}

static void fix_crc(uint8_t *p, const LvcBoxDesc *b)
{
    const size_t end = b->payload_offset + b->payload_size;
    const uint32_t c = lvc_crc32(0, p + b->offset, end - b->offset);
    p[end] = (uint8_t)c;
    p[end + 1] = (uint8_t)(c >> 8);
    p[end + 2] = (uint8_t)(c >> 16);
    p[end + 3] = (uint8_t)(c >> 24);
}

static int header_error(const uint8_t *p, size_t n)
{
    LvcVideoDecoder *d = open_dec(1, LVC_BACKEND_CPU);
    size_t used;
    LvcVideoInfo vi;
    const int r = lvc_video_decode_header(d, p, n, &used, &vi);
    lvc_video_decoder_close(&d);
    return r;
}

START_TEST(test_hostile_header)
{
    Stream s;
    encode(&s, 2, 32, 1, 30.0f, 1);
    ck_assert_int_eq(header_error(s.data, s.size), 0);
    uint8_t *c = malloc(s.size);
    LvcBoxDesc b;
    /* kind 1: an image stream is not a video */
    memcpy(c, s.data, s.size);
    c[5] = 1;
    ck_assert_int_eq(header_error(c, s.size), LVC_ERR_KIND);
    /* every byte of the vhdr payload set to 0xff, CRC fixed: never a
     * crash (some give another valid header: a quality of 3071), and
     * the format bytes are refused */
    memcpy(c, s.data, s.size);
    box_at(c, s.size, LVC_CONTAINER_HEADER_SIZE, &b);
    for (size_t i = 0; i < b.payload_size; i++) {
        memcpy(c, s.data, s.size);
        c[b.payload_offset + i] = 0xff;
        fix_crc(c, &b);
        const int r = header_error(c, s.size);
        if ((i >= 6 && i <= 10) || i == 14)
            ck_assert_int_eq(r, LVC_ERR_CORRUPT);
        else
            ck_assert_int_le(r, 0);
    }
    /* block_log2 5 (the byte after quality and gop) */
    memcpy(c, s.data, s.size);
    /* width 96, height 64, fps 25/1, sar 0/0: 6 one-byte varints, then 5
     * bytes of format, quality 3000 (2 bytes), gop 32 (1 byte) */
    ck_assert_uint_eq(c[b.payload_offset + 14], 1);
    c[b.payload_offset + 14] = 5;
    fix_crc(c, &b);
    ck_assert_int_eq(header_error(c, s.size), LVC_ERR_CORRUPT);
    /* weights of another training */
    memcpy(c, s.data, s.size);
    c[b.payload_offset + b.payload_size - 1] ^= 1;
    fix_crc(c, &b);
    ck_assert_int_eq(header_error(c, s.size), LVC_ERR_MODEL_HASH);
    /* truncated anywhere in the header */
    for (size_t n = 0; n < b.payload_offset + b.payload_size + 4; n++)
        ck_assert_int_lt(header_error(s.data, n), 0);
    free(c);
    free(s.data);
}
END_TEST

START_TEST(test_hostile_frames)
{
    Stream s;
    encode(&s, 3, 32, 2, 30.0f, 1);
    uint8_t *c = malloc(s.size + 64);
    /* a stream cut at every offset decodes without a crash, and fails
     * unless the cut is at a frame boundary */
    for (size_t n = s.frame_off[0]; n < s.size; n += 7) {
        const int r = decode_all(&(Stream){ .data = s.data, .size = n }, 1, LVC_BACKEND_CPU,
                                 NULL, NULL);
        const int boundary = n == s.frame_off[0] || n == s.frame_off[1] || n == s.frame_off[2];
        ck_assert_int_eq(r < 0, !boundary);
    }
    /* frame 1's payload bytes flipped one at a time, CRC fixed: an error or
     * a frame, never a crash */
    LvcBoxDesc b;
    box_at(s.data, s.size, s.frame_off[1], &b);
    for (size_t i = 0; i < b.payload_size; i += 3) {
        memcpy(c, s.data, s.size);
        c[b.payload_offset + i] ^= 0x5a;
        fix_crc(c, &b);
        decode_all(&(Stream){ .data = c, .size = s.size }, 1, LVC_BACKEND_CPU, NULL, NULL);
    }
    /* the frame type byte of frame 0 set to inter: no reference */
    memcpy(c, s.data, s.size);
    box_at(c, s.size, s.frame_off[0], &b);
    ck_assert_uint_eq(c[b.payload_offset + 1], 0);
    c[b.payload_offset + 1] = 1;
    fix_crc(c, &b);
    ck_assert_int_eq(decode_all(&(Stream){ .data = c, .size = s.size }, 1, LVC_BACKEND_CPU, NULL,
                                NULL), LVC_ERR_CORRUPT);
    /* type 2 */
    c[b.payload_offset + 1] = 2;
    fix_crc(c, &b);
    ck_assert_int_eq(decode_all(&(Stream){ .data = c, .size = s.size }, 1, LVC_BACKEND_CPU, NULL,
                                NULL), LVC_ERR_CORRUPT);
    /* an optional unknown box between frames is skipped; a mandatory one
     * is refused; a second vhdr is refused */
    static const uint8_t opt_box[] = { 'x', 'y', 'z', 'w', 0, 1, 42 };
    for (int k = 0; k < 3; k++) {
        uint8_t box[16];
        memcpy(box, opt_box, sizeof(opt_box));
        if (k == 1)
            box[4] = LVC_BOX_MANDATORY;
        if (k == 2) {
            memcpy(box, "vhdr", 4);
            box[4] = LVC_BOX_MANDATORY;
        }
        const uint32_t crc = lvc_crc32(0, box, sizeof(opt_box));
        for (int j = 0; j < 4; j++)
            box[sizeof(opt_box) + j] = (uint8_t)(crc >> (8 * j));
        const size_t at = s.frame_off[1], bl = sizeof(opt_box) + 4;
        memcpy(c, s.data, at);
        memcpy(c + at, box, bl);
        memcpy(c + at + bl, s.data + at, s.size - at);
        const int r = decode_all(&(Stream){ .data = c, .size = s.size + bl }, 1,
                                 LVC_BACKEND_CPU, NULL, NULL);
        ck_assert_int_eq(r, k == 0 ? 3 : k == 1 ? LVC_ERR_UNKNOWN_BOX : LVC_ERR_CORRUPT);
        LvcVideoInfo vi;
        size_t n;
        ck_assert_int_eq(lvc_video_stream_info(c, s.size + bl, &vi, NULL, 0, &n),
                         k == 0 ? 0 : k == 1 ? LVC_ERR_UNKNOWN_BOX : LVC_ERR_CORRUPT);
    }
    /* frames swapped: frame 2 (inter) after frame 0 */
    memcpy(c, s.data, s.frame_off[1]);
    memcpy(c + s.frame_off[1], s.data + s.frame_off[2], s.frame_size[2]);
    ck_assert_int_eq(decode_all(&(Stream){ .data = c, .size = s.frame_off[1] + s.frame_size[2] },
                                1, LVC_BACKEND_CPU, NULL, NULL), LVC_ERR_CORRUPT);
    free(c);
    free(s.data);
}
END_TEST

/* The committed streams decode to the same symbols on both CPU backends
 * and at any thread count, and to the digests pinned here: a change of
 * the decoder's arithmetic, or a build or machine that computes a
 * probability differently, fails. After a retraining, regenerate the
 * streams (tests/fuzz/make_corpus.py) and these digests. */
START_TEST(test_golden)
{
    static const struct { const char *name, *digest; } golden[] = {
        { "v96x64_inter.lvc", "a6adaeabdc0811129f10471245eecd70aa4fbfca059e381e8216511d6f80df85" },
        { "v128x64_tiles.lvc", "8a6c6dee3acd25d0da88701b4353ecd39682fa25bd6d5f7482b6939d03468aa8" },
    };
    if (!lvc_test_video_corpus)
        return;   /* run without the corpus folder */
    for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", lvc_test_video_corpus, golden[i].name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        Stream s = { 0 };
        uint8_t buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
            append(&s, buf, n);
        fclose(f);
        const LvcBackend be[3] = { LVC_BACKEND_REF, LVC_BACKEND_CPU, LVC_BACKEND_CPU };
        const int th[3] = { 1, 1, 2 };
        for (int k = 0; k < 3; k++) {
            uint8_t dg[32];
            char hex[65];
            ck_assert_int_gt(decode_all(&s, th[k], be[k], NULL, dg), 0);
            for (int j = 0; j < 32; j++)
                snprintf(hex + 2 * j, 3, "%02x", dg[j]);
            ck_assert_str_eq(hex, golden[i].digest);
        }
        free(s.data);
    }
}
END_TEST

TCase *lvc_test_video_codec_tcase(void)
{
    lvc_log_set_level(LVC_LOG_QUIET);
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_threads_and_backends);
    tcase_add_test(tc, test_latents_only);
    tcase_add_test(tc, test_resume_at_intra);
    tcase_add_test(tc, test_still_content);
    tcase_add_test(tc, test_stream_info);
    tcase_add_test(tc, test_tiles);
    tcase_add_test(tc, test_recovery);
    tcase_add_test(tc, test_golden);
    tcase_add_test(tc, test_encoder_arguments);
    tcase_add_test(tc, test_hostile_header);
    tcase_add_test(tc, test_hostile_frames);
    return tc;
}
