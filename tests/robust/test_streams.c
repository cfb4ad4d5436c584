/*
 * Hostile streams through lvc_decode_image: truncation at every byte,
 * every single-bit flip, flips behind rewritten CRCs (sampled: those need
 * a full decode), declared dimensions that are huge, zero or inconsistent
 * with the tiles (refused before any allocation, proven with a memory
 * cap), model mismatch, wrong kind, garbage. Each must give a specific
 * error, never a crash, and leave nothing allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/container.h"
#include "common/bits.h"
#include "common/mem.h"
#include "tests/fuzz/fuzz.h"
#include "tests/robust/robust.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* ihdr payload: 6-byte file header, then type(4) flags(1) length(1). */
#define IHDR_AT 12
/* The end of the ihdr box (its payload is under 128 bytes). */
#define IHDR_END(s) (IHDR_AT + (size_t)(s)->data[IHDR_AT - 1] + 4)

static void check_fixture(void)
{
    for (int i = 0; i < RS_COUNT; i++)
        ck_assert_msg(lvc_rs[i].data && lvc_rs[i].size > 0, "fixture stream %s missing",
                      lvc_rs[i].name);
}

/* ------------------------------------------------------------ truncation */

START_TEST(test_truncated_every_offset)
{
    check_fixture();
    /* A cut inside the file header or a box header is TRUNCATED; a cut
     * inside a payload leaves a length pointing past the end: LENGTH. */
    static const int ok[] = { LVC_ERR_TRUNCATED, LVC_ERR_LENGTH };
    size_t tried = 0;
    for (int i = 0; i < RS_COUNT; i++) {
        const RobustStream *s = &lvc_rs[i];
        for (size_t n = 0; n < s->size; n++) {
            const int ret = lvc_rs_decode(lvc_rs_dec, s->data, n, NULL);
            ck_assert_msg(lvc_rs_in(ret, ok, N_ELEMS(ok)), "%s cut at %zu of %zu: %s",
                          s->name, n, s->size, lvc_error_string(ret));
            LvcStreamInfo info;
            uint8_t *c = lvc_rs_dup(s->data, n);
            ck_assert_int_eq(lvc_stream_info(c, n, &info), ret);
            free(c);
            tried++;
        }
    }
    fprintf(stderr, "robust: truncations: %zu\n", tried);
    /* one cut per byte; the streams' sizes follow the model's rate, so
     * the floor is what the container alone takes (a 1x1 elic stream is
     * about 400 bytes) */
    ck_assert_uint_gt(tried, RS_COUNT * 350);
}
END_TEST

/* -------------------------------------------------------------- bit flips */

START_TEST(test_every_bit_flip)
{
    check_fixture();
    /* The file header is checked field by field and every box is covered
     * by its CRC-32, which detects every single-bit error: no flip may
     * decode. */
    static const int in_box[] = { LVC_ERR_CRC, LVC_ERR_LENGTH, LVC_ERR_TRUNCATED,
                                  LVC_ERR_CORRUPT };
    static const int which[] = { RS_RGB_16x16, RS_GRAY_40x24 };
    size_t tried = 0;
    for (size_t k = 0; k < N_ELEMS(which); k++) {
        const RobustStream *s = &lvc_rs[which[k]];
        uint8_t *buf = lvc_rs_dup(s->data, s->size);
        for (size_t at = 0; at < s->size; at++) {
            for (int bit = 0; bit < 8; bit++) {
                buf[at] ^= (uint8_t)(1u << bit);
                const int ret = lvc_rs_decode(lvc_rs_dec, buf, s->size, NULL);
                buf[at] ^= (uint8_t)(1u << bit);
                if (at < 4)
                    ck_assert_int_eq(ret, LVC_ERR_BAD_MAGIC);
                else if (at == 4)
                    ck_assert_int_eq(ret, LVC_ERR_VERSION);
                else if (at == 5)
                    ck_assert_int_eq(ret, LVC_ERR_KIND);
                else
                    ck_assert_msg(lvc_rs_in(ret, in_box, N_ELEMS(in_box)),
                                  "%s byte %zu bit %d: %s", s->name, at, bit,
                                  lvc_error_string(ret));
                tried++;
            }
        }
        free(buf);
    }
    fprintf(stderr, "robust: single-bit flips: %zu\n", tried);
    /* eight per byte; the streams' size follows the model's rate, so the
     * floor is the container alone (header, ihdr, per-tile boxes) */
    ck_assert_uint_gt(tried, 8 * 2 * 200);
}
END_TEST

/* Flips behind rewritten CRCs reach the header rules, the rANS payloads and
 * the model: each needs a decode, so every ihdr bit is tried and the
 * payload bits are sampled with a stride. A flip may also decode (a
 * latent symbol changed into another valid one): then the image must have
 * the header's size. */
#define PAYLOAD_FLIP_STRIDE 23

START_TEST(test_bit_flips_behind_crc)
{
    check_fixture();
    static const int ok[] = { LVC_ERR_CORRUPT, LVC_ERR_DIMENSIONS, LVC_ERR_MODEL_HASH,
                              LVC_ERR_MODEL_UNKNOWN, LVC_ERR_UNSUPPORTED, LVC_ERR_TRUNCATED,
                              LVC_ERR_LENGTH, LVC_ERR_LIMIT, LVC_ERR_UNKNOWN_BOX };
    const RobustStream *s = &lvc_rs[RS_RGB_16x16];
    uint8_t *buf = lvc_rs_dup(s->data, s->size);
    size_t tried = 0, decoded = 0;
    for (size_t bitpos = 8 * 6; bitpos < 8 * s->size;) {
        const size_t at = bitpos / 8;
        buf[at] ^= (uint8_t)(1u << (bitpos % 8));
        const size_t fixed = lvc_fuzz_fix_crcs(buf, s->size);
        LvcImage img;
        const int ret = lvc_rs_decode(lvc_rs_dec, buf, s->size, &img);
        if (ret == 0) {
            LvcStreamInfo info;
            ck_assert_int_eq(lvc_stream_info(buf, s->size, &info), 0);
            ck_assert_int_eq(img.width, info.width);
            ck_assert_int_eq(img.height, info.height);
            ck_assert_int_eq(img.channels, info.channels);
            lvc_image_free(&img);
            decoded++;
        } else {
            ck_assert_msg(lvc_rs_in(ret, ok, N_ELEMS(ok)), "byte %zu bit %zu: %s", at,
                          bitpos % 8, lvc_error_string(ret));
        }
        (void)fixed;
        memcpy(buf, s->data, s->size);
        tried++;
        /* every bit of the file header box (ihdr), then sampled */
        bitpos += at < IHDR_END(s) ? 1 : PAYLOAD_FLIP_STRIDE;
    }
    free(buf);
    fprintf(stderr, "robust: flips behind rewritten CRCs: %zu (%zu decoded)\n", tried, decoded);
    /* every bit from the file header to the end of ihdr, and a sample of
     * the rest (its count follows the model's rate) */
    ck_assert_uint_gt(tried, 8 * (IHDR_END(s) - 6));
    ck_assert_uint_lt(decoded, tried);
}
END_TEST

/* ------------------------------------------------ crafted headers */

/* Parse src, let edit() change the header, write it back with the
 * container writer (which validates the header but applies no limits). */
static uint8_t *rewrite(const RobustStream *s, void (*edit)(LvcImageHeader *), size_t *size)
{
    LvcContainer c;
    ck_assert_int_eq(lvc_container_parse(s->data, s->size, NULL, &c), 0);
    edit(&c.hdr);
    uint8_t *out = NULL;
    const int ret = lvc_container_write(&c, &out, size);
    lvc_container_free(&c);
    ck_assert_msg(ret == 0, "writer refused the crafted header: %s", lvc_error_string(ret));
    return out;
}

/* ihdr fields that patch_ihdr sets to any value. */
enum { F_WIDTH, F_HEIGHT, F_TILE_W, F_TILE_H, F_NUM_BOXES, F_COUNT };

/* s with the ihdr field set to v (up to two fields), serialized as
 * doc/bitstream.md 4.2 lays it out but without the writer's validation,
 * the box CRC recomputed; *size gets the new size. */
static uint8_t *patch_ihdr(const RobustStream *s, int field, uint32_t v, int field2, uint32_t v2,
                           size_t *size)
{
    LvcContainer c;
    ck_assert_int_eq(lvc_container_parse(s->data, s->size, NULL, &c), 0);
    const LvcImageHeader h = c.hdr;
    uint32_t f[F_COUNT] = { h.width, h.height, h.tile_w, h.tile_h, c.num_boxes - 1 };
    const size_t rest = IHDR_END(s);
    lvc_container_free(&c);
    f[field] = v;
    if (field2 >= 0)
        f[field2] = v2;
    uint8_t pl[LVC_IHDR_MAX_SIZE];
    LvcByteWriter w;
    lvc_bw_init_fixed(&w, pl, sizeof(pl));
    lvc_bw_varint(&w, f[F_WIDTH]);
    lvc_bw_varint(&w, f[F_HEIGHT]);
    const uint8_t fmt[4] = { h.channels, h.bit_depth, h.color, h.alpha_mode };
    lvc_bw_bytes(&w, fmt, 4);
    lvc_bw_varint(&w, h.quality);
    lvc_bw_varint(&w, h.tile_overlap);
    lvc_bw_varint(&w, f[F_TILE_W]);
    lvc_bw_varint(&w, f[F_TILE_H]);
    lvc_bw_varint(&w, h.model_id);
    lvc_bw_bytes(&w, h.weights_id, LVC_WEIGHTS_ID_SIZE);
    lvc_bw_varint(&w, f[F_NUM_BOXES]);
    ck_assert_int_eq(w.err, 0);
    const size_t n = w.size;
    *size = IHDR_AT + n + 4 + (s->size - rest);
    uint8_t *b = malloc(*size);
    ck_assert_ptr_nonnull(b);
    memcpy(b, s->data, IHDR_AT);
    b[IHDR_AT - 1] = (uint8_t)n;
    memcpy(b + IHDR_AT, pl, n);
    memcpy(b + IHDR_AT + n + 4, s->data + rest, s->size - rest);
    lvc_fuzz_fix_crcs(b, *size);
    return b;
}

/* Decode under a memory cap just above what is in use now: a decoder that
 * allocated by the declared size before refusing would fail with NOMEM
 * instead of the expected code. */
static int decode_capped(LvcDecoder *dec, const uint8_t *buf, size_t size, size_t slack)
{
    lvc_mem_reset_peak();
    const size_t base = lvc_mem_in_use();
    lvc_mem_set_limit(base + slack);
    const int ret = lvc_rs_decode(dec, buf, size, NULL);
    lvc_mem_set_limit(0);
    ck_assert_uint_le(lvc_mem_peak(), base + slack);
    return ret;
}

static void one_huge_tile(LvcImageHeader *h, uint32_t w, uint32_t hh)
{
    h->width = w;
    h->height = hh;
    h->tile_w = w;
    h->tile_h = hh;
}
static void edit_65536_square(LvcImageHeader *h) { one_huge_tile(h, 65536, 65536); }
static void edit_int_max_wide(LvcImageHeader *h) { one_huge_tile(h, INT32_MAX, 1); }
/* One pixel more than the default limit of 2^28. */
static void edit_16k_square(LvcImageHeader *h) { one_huge_tile(h, 16385, 16384); }
static void edit_1024_square(LvcImageHeader *h) { one_huge_tile(h, 1024, 1024); }

START_TEST(test_dimensions_huge)
{
    check_fixture();
    const RobustStream *s = &lvc_rs[RS_RGB_16x16];
    void (*const edits[])(LvcImageHeader *) = { edit_65536_square, edit_int_max_wide,
                                                edit_16k_square };
    for (size_t i = 0; i < N_ELEMS(edits); i++) {
        size_t n;
        uint8_t *b = rewrite(s, edits[i], &n);
        /* Over the default limits (2^28 pixels, 2^16 per side). */
        const int ret = decode_capped(lvc_rs_dec, b, n, 64 << 10);
        ck_assert_msg(ret == LVC_ERR_DIMENSIONS, "huge case %zu: %s", i, lvc_error_string(ret));
        free(b);
    }
    /* Within the default limits, a decoder's max_pixels refuses it. */
    LvcDecoderSettings ds;
    lvc_decoder_default_settings(&ds);
    ds.threads = 1;
    ds.max_pixels = 1 << 16;
    LvcDecoder *small = NULL;
    ck_assert_int_eq(lvc_decoder_open(&small, &ds), 0);
    size_t n;
    uint8_t *b = rewrite(s, edit_1024_square, &n);
    ck_assert_int_eq(decode_capped(small, b, n, 64 << 10), LVC_ERR_DIMENSIONS);
    /* The original still decodes with that decoder. */
    ck_assert_int_eq(lvc_rs_decode(small, s->data, s->size, NULL), 0);
    free(b);
    lvc_decoder_close(&small);
}
END_TEST

START_TEST(test_dimensions_zero)
{
    check_fixture();
    const RobustStream *s = &lvc_rs[RS_RGB_16x16];
    static const struct { int field; uint32_t v; int want; } cases[] = {
        { F_WIDTH, 0, LVC_ERR_DIMENSIONS },            /* width 0 */
        { F_HEIGHT, 0, LVC_ERR_DIMENSIONS },           /* height 0 */
        { F_WIDTH, 0x80000000u, LVC_ERR_DIMENSIONS },  /* width above INT32_MAX */
        { F_HEIGHT, 0xffffffffu, LVC_ERR_DIMENSIONS },
        { F_TILE_W, 0, LVC_ERR_CORRUPT },              /* tile width 0 */
        { F_TILE_H, 0, LVC_ERR_CORRUPT },              /* tile height 0 */
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        size_t n;
        uint8_t *b = patch_ihdr(s, cases[i].field, cases[i].v, -1, 0, &n);
        ck_assert_int_eq(decode_capped(lvc_rs_dec, b, n, 64 << 10), cases[i].want);
        free(b);
    }
}
END_TEST

static void edit_tile_50(LvcImageHeader *h) { h->tile_w = 50; h->tile_h = 50; }

START_TEST(test_dimensions_inconsistent_with_tiles)
{
    check_fixture();
    const RobustStream *s = &lvc_rs[RS_RGB_70x70_T64];
    /* 2 x 2 tiles of 64 become 2 x 2 tiles of 50: the container is
     * consistent but the pipelines need tiles of multiples of 64. */
    size_t n;
    uint8_t *b = rewrite(s, edit_tile_50, &n);
    ck_assert_int_eq(decode_capped(lvc_rs_dec, b, n, 64 << 10), LVC_ERR_CORRUPT);
    free(b);
    /* Declared size grows to 3 x 3 tiles, but only 4 tiles are coded. */
    size_t nc;
    b = patch_ihdr(s, F_WIDTH, 130, -1, 0, &n);
    uint8_t *c = patch_ihdr(s, F_WIDTH, 130, F_HEIGHT, 130, &nc);
    ck_assert_int_eq(decode_capped(lvc_rs_dec, b, n, 64 << 10), LVC_ERR_CORRUPT);
    ck_assert_int_eq(decode_capped(lvc_rs_dec, c, nc, 64 << 10), LVC_ERR_CORRUPT);
    free(b);
    free(c);
    /* Fewer tiles than coded (one 128 x 128 tile): a substream names a
     * tile outside the grid. */
    c = patch_ihdr(s, F_TILE_W, 128, F_TILE_H, 128, &nc);
    ck_assert_int_eq(decode_capped(lvc_rs_dec, c, nc, 64 << 10), LVC_ERR_CORRUPT);
    free(c);
    /* A box count far above what the stream can hold. */
    b = patch_ihdr(s, F_NUM_BOXES, 0x7fffffffu, -1, 0, &n);
    ck_assert_int_eq(decode_capped(lvc_rs_dec, b, n, 64 << 10), LVC_ERR_LIMIT);
    free(b);
    b = patch_ihdr(s, F_NUM_BOXES, 1000, -1, 0, &n);
    ck_assert_int_eq(decode_capped(lvc_rs_dec, b, n, 64 << 10), LVC_ERR_TRUNCATED);
    free(b);
}
END_TEST

/* ------------------------------------------------- model, kind, garbage */

static void edit_hash(LvcImageHeader *h) { h->weights_id[7] ^= 0x10; }
static void edit_model_id(LvcImageHeader *h) { h->model_id = 0x7fff0001u; }

START_TEST(test_model_mismatch)
{
    check_fixture();
    const RobustStream *s = &lvc_rs[RS_RGB_40x24];
    size_t n;
    uint8_t *b = rewrite(s, edit_hash, &n);
    ck_assert_int_eq(decode_capped(lvc_rs_dec, b, n, 64 << 10), LVC_ERR_MODEL_HASH);
    free(b);
    b = rewrite(s, edit_model_id, &n);
    ck_assert_int_eq(decode_capped(lvc_rs_dec, b, n, 64 << 10), LVC_ERR_MODEL_UNKNOWN);
    free(b);
    /* The decoder is still usable afterwards. */
    ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, s->data, s->size, NULL), s->dec_ret);
}
END_TEST

START_TEST(test_wrong_kind_and_version)
{
    check_fixture();
    const RobustStream *s = &lvc_rs[RS_RGB_40x24];
    uint8_t *b = lvc_rs_dup(s->data, s->size);
    static const uint8_t kinds[] = { 0, 2, 3, 4, 0xff };
    for (size_t i = 0; i < N_ELEMS(kinds); i++) {
        b[5] = kinds[i];
        ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, b, s->size, NULL), LVC_ERR_KIND);
    }
    b[5] = s->data[5];
    static const uint8_t versions[] = { 0, 1, 2, 4, 0xff };   /* 1, 2: older formats */
    for (size_t i = 0; i < N_ELEMS(versions); i++) {
        b[4] = versions[i];
        ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, b, s->size, NULL), LVC_ERR_VERSION);
    }
    free(b);
}
END_TEST

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

START_TEST(test_garbage)
{
    check_fixture();
    uint32_t seed = 12345;
    uint8_t *g = malloc(4096);
    ck_assert_ptr_nonnull(g);
    /* Random bytes: not ours. */
    for (int i = 0; i < 500; i++) {
        const size_t n = 4 + rnd(&seed) % 4000;
        for (size_t k = 0; k < n; k++)
            g[k] = (uint8_t)rnd(&seed);
        if (!memcmp(g, "\x89LVC", 4))
            g[0] = 0;
        ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, g, n, NULL), LVC_ERR_BAD_MAGIC);
    }
    /* A valid file header followed by random bytes. */
    static const int tail_ok[] = { LVC_ERR_TRUNCATED, LVC_ERR_LENGTH, LVC_ERR_CRC,
                                   LVC_ERR_CORRUPT };
    for (int i = 0; i < 500; i++) {
        const size_t n = 6 + rnd(&seed) % 4000;
        memcpy(g, lvc_rs[0].data, 6);
        for (size_t k = 6; k < n; k++)
            g[k] = (uint8_t)rnd(&seed);
        const int ret = lvc_rs_decode(lvc_rs_dec, g, n, NULL);
        ck_assert_msg(lvc_rs_in(ret, tail_ok, N_ELEMS(tail_ok)), "random tail %d: %s", i,
                      lvc_error_string(ret));
    }
    free(g);
    /* Empty input, a PNG, NULL arguments. */
    static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a };
    static const uint8_t one = 0x89;
    ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, &one, 0, NULL), LVC_ERR_TRUNCATED);
    ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, &one, 1, NULL), LVC_ERR_TRUNCATED);
    ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, png_sig, 8, NULL), LVC_ERR_BAD_MAGIC);
    LvcImage img;
    ck_assert_int_eq(lvc_decode_image(lvc_rs_dec, NULL, 10, &img), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_decode_image(NULL, lvc_rs[0].data, lvc_rs[0].size, &img),
                     LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_decode_image(lvc_rs_dec, lvc_rs[0].data, lvc_rs[0].size, NULL),
                     LVC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_trailing_and_boxes)
{
    check_fixture();
    const RobustStream *s = &lvc_rs[RS_RGB_40x24];
    /* Trailing bytes, and two streams back to back. */
    uint8_t *b = malloc(2 * s->size);
    ck_assert_ptr_nonnull(b);
    memcpy(b, s->data, s->size);
    memcpy(b + s->size, s->data, s->size);
    ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, b, s->size + 1, NULL), LVC_ERR_CORRUPT);
    ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, b, 2 * s->size, NULL), LVC_ERR_CORRUPT);
    free(b);

    /* An unknown optional box is skipped (same image); an unknown
     * mandatory one refused. */
    LvcContainer c;
    ck_assert_int_eq(lvc_container_parse(s->data, s->size, NULL, &c), 0);
    LvcRawBox x = { { 'x', 't', 'r', 'a' }, 0, (const uint8_t *)"hello", 5 };
    LvcRawBox *parsed_extra = c.extra;   /* empty; swapped back before free */
    c.extra = &x;
    c.num_extra = 1;
    size_t n;
    uint8_t *opt = NULL, *mand = NULL;
    ck_assert_int_eq(lvc_container_write(&c, &opt, &n), 0);
    LvcImage a, bimg;
    ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, s->data, s->size, &a), s->dec_ret);
    if (s->dec_ret == 0) {
        ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, opt, n, &bimg), 0);
        ck_assert(lvc_fuzz_same_image(&a, &bimg));
        lvc_image_free(&a);
        lvc_image_free(&bimg);
    }
    x.flags = LVC_BOX_MANDATORY;
    ck_assert_int_eq(lvc_container_write(&c, &mand, &n), 0);
    ck_assert_int_eq(lvc_rs_decode(lvc_rs_dec, mand, n, NULL), LVC_ERR_UNKNOWN_BOX);
    c.extra = parsed_extra;
    c.num_extra = 0;
    lvc_container_free(&c);
    free(opt);
    free(mand);
}
END_TEST

START_TEST(test_alpha_round_trip)
{
    /* Every alpha stream must decode, with the alpha plane exact (the
     * alpha substream is lossless). Found broken by this suite (the
     * encoder coded empty alpha planes); fixed in 633d1ca. */
    static const int which[] = { RS_RGBA_40x24, RS_GRAYA_24x24 };
    for (size_t k = 0; k < N_ELEMS(which); k++) {
        const RobustStream *s = &lvc_rs[which[k]];
        LvcImage img;
        const int ret = lvc_rs_decode(lvc_rs_dec, s->data, s->size, &img);
        ck_assert_msg(ret == 0, "%s does not decode: %s", s->name, lvc_error_string(ret));
        const int a = s->channels - 1;
        for (int y = 0; y < s->h; y++)
            for (int x = 0; x < s->w; x++)
                ck_assert_int_eq(img.data[(size_t)y * img.stride + (size_t)x * s->channels + a],
                                 s->img.data[(size_t)y * s->img.stride +
                                             (size_t)x * s->channels + a]);
        lvc_image_free(&img);
    }
}
END_TEST

/* ------------------------------------------------- former defects
 * Library defects found by this suite (doc/robustness.md, defects 4 and
 * 5), fixed; these tests keep them fixed. */


static void edit_overlap(LvcImageHeader *h) { h->tile_overlap = 8; }

START_TEST(test_tile_overlap_refused)
{
    /* doc/bitstream.md: tile_overlap is 0 for the models of this version;
     * a decoder that does not implement overlap must refuse a stream that
     * uses it rather than decode it as if it were 0. */
    const RobustStream *s = &lvc_rs[RS_RGB_70x70_T64];
    size_t n;
    uint8_t *b = rewrite(s, edit_overlap, &n);
    const int ret = lvc_rs_decode(lvc_rs_dec, b, n, NULL);
    ck_assert_msg(ret == LVC_ERR_UNSUPPORTED || ret == LVC_ERR_CORRUPT,
                  "tile_overlap 8 gave %s", lvc_error_string(ret));
    free(b);
}
END_TEST

static void edit_4096_square(LvcImageHeader *h) { one_huge_tile(h, 4096, 4096); }

START_TEST(test_memory_bounded_by_data)
{
    /* A stream of under a kilobyte that declares 4096 x 4096 (within the
     * default limit) must be refused for its missing data before the
     * decoder commits memory for the declared size: today it allocates the
     * whole latent grid and the tile buffers first (~200 MB here; ~2.4 GB
     * for 16384 x 16384), so under a 64 MB cap it fails with NOMEM. */
    const RobustStream *s = &lvc_rs[RS_RGB_16x16];
    size_t n;
    uint8_t *b = rewrite(s, edit_4096_square, &n);
    lvc_mem_set_limit(lvc_mem_in_use() + (64 << 20));
    const int ret = lvc_rs_decode(lvc_rs_dec, b, n, NULL);
    lvc_mem_set_limit(0);
    free(b);
    ck_assert_msg(ret == LVC_ERR_TRUNCATED || ret == LVC_ERR_CORRUPT,
                  "4096 x 4096 declared in %zu bytes: %s", n, lvc_error_string(ret));
}
END_TEST

TCase *lvc_test_streams_tcase(void)
{
    TCase *tc = tcase_create("streams");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_truncated_every_offset);
    tcase_add_test(tc, test_every_bit_flip);
    tcase_add_test(tc, test_bit_flips_behind_crc);
    tcase_add_test(tc, test_dimensions_huge);
    tcase_add_test(tc, test_dimensions_zero);
    tcase_add_test(tc, test_dimensions_inconsistent_with_tiles);
    tcase_add_test(tc, test_model_mismatch);
    tcase_add_test(tc, test_wrong_kind_and_version);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_trailing_and_boxes);
    tcase_add_test(tc, test_alpha_round_trip);
    tcase_add_test(tc, test_tile_overlap_refused);
    tcase_add_test(tc, test_memory_bounded_by_data);
    return tc;
}
