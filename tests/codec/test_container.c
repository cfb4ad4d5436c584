/*
 * Container (bitstream) tests: round trips through the writer and parser,
 * every error category from a crafted stream, truncation at every offset,
 * every single-bit flip, and the public lvc_stream_info/lvc_stream_boxes.
 *
 * Crafted streams are assembled here from doc/bitstream.md with a separate
 * little serializer, so the tests also check the writer against the spec.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "codec/container.h"
#include "common/crc32.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "tests/codec/test_codec.h"

/* ---------------------------------------------------------- crafting */

typedef struct Craft {
    uint8_t buf[8192];
    size_t n;
} Craft;

static void put(Craft *c, const void *p, size_t n)
{
    ck_assert_uint_le(c->n + n, sizeof(c->buf));
    memcpy(c->buf + c->n, p, n);
    c->n += n;
}

static void put_u8(Craft *c, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(c, &b, 1);
}

static void put_u32(Craft *c, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put_u8(c, (v >> (8 * i)) & 0xff);
}

static void put_varint(Craft *c, uint32_t v)
{
    while (v >= 0x80) {
        put_u8(c, (v & 0x7f) | 0x80);
        v >>= 7;
    }
    put_u8(c, v);
}

static void craft_header(Craft *c, unsigned version, unsigned kind)
{
    c->n = 0;
    put(c, "\x89LVC", 4);
    put_u8(c, version);
    put_u8(c, kind);
}

/* A box with a correct length and CRC. */
static void craft_box(Craft *c, const char *type, unsigned flags, const uint8_t *payload,
                      size_t n)
{
    const size_t start = c->n;
    put(c, type, 4);
    put_u8(c, flags);
    put_varint(c, (uint32_t)n);
    if (n)
        put(c, payload, n);
    put_u32(c, lvc_crc32(0, c->buf + start, c->n - start));
}

static void fill_header(LvcImageHeader *h)
{
    memset(h, 0, sizeof(*h));
    h->width = 40;
    h->height = 30;
    h->channels = 3;
    h->bit_depth = 8;
    h->color = LVC_COLOR_RGB;
    h->alpha_mode = LVC_ALPHA_NONE;
    h->quality = 7550;
    h->tile_overlap = 0;
    h->tile_w = 16;
    h->tile_h = 16;   /* 3 x 2 tiles */
    h->model_id = 0x1234;
    for (int i = 0; i < LVC_WEIGHTS_ID_SIZE; i++)
        h->weights_id[i] = (uint8_t)(i * 7 + 1);
}

static size_t ihdr_payload(uint8_t *p, const LvcImageHeader *h, uint32_t num_boxes)
{
    Craft c = { .n = 0 };
    put_varint(&c, h->width);
    put_varint(&c, h->height);
    put_u8(&c, h->channels);
    put_u8(&c, h->bit_depth);
    put_u8(&c, h->color);
    put_u8(&c, h->alpha_mode);
    put_varint(&c, h->quality);
    put_varint(&c, h->tile_overlap);
    put_varint(&c, h->tile_w);
    put_varint(&c, h->tile_h);
    put_varint(&c, h->model_id);
    put(&c, h->weights_id, LVC_WEIGHTS_ID_SIZE);
    put_varint(&c, num_boxes);
    ck_assert_uint_le(c.n, LVC_IHDR_MAX_SIZE);
    memcpy(p, c.buf, c.n);
    return c.n;
}

static size_t sstr_payload(uint8_t *p, uint32_t tile, unsigned pass, unsigned what,
                           const uint8_t *data, size_t n)
{
    Craft c = { .n = 0 };
    put_varint(&c, tile);
    put_u8(&c, pass);
    put_u8(&c, what);
    if (n)
        put(&c, data, n);
    memcpy(p, c.buf, c.n);
    return c.n;
}

static void craft_ihdr(Craft *c, const LvcImageHeader *h, uint32_t num_boxes)
{
    uint8_t p[LVC_IHDR_MAX_SIZE];
    craft_box(c, "ihdr", 1, p, ihdr_payload(p, h, num_boxes));
}

/* Bytes of the ihdr box of h (payloads under 128 bytes: a 1-byte length). */
static size_t ihdr_box_size(const LvcImageHeader *h, uint32_t num_boxes)
{
    uint8_t p[LVC_IHDR_MAX_SIZE];
    return 4 + 1 + 1 + ihdr_payload(p, h, num_boxes) + 4;
}

static void craft_sstr(Craft *c, uint32_t tile, unsigned pass, unsigned what,
                       const uint8_t *data, size_t n)
{
    uint8_t p[512];
    ck_assert_uint_le(n + 7, sizeof(p));
    const size_t np = sstr_payload(p, tile, pass, what, data, n);
    craft_box(c, "sstr", 1, p, np);
}

/* A tile box with n substreams (tags[i] = pass, what; sizes[i] bytes of
 * data each, taken in turn from data). */
static void craft_tile(Craft *c, uint32_t tile, uint32_t n, const uint8_t (*tags)[2],
                       const size_t *sizes, const uint8_t *data)
{
    Craft b = { .n = 0 };
    size_t total = 0;
    put_varint(&b, tile);
    put_varint(&b, n);
    for (uint32_t i = 0; i < n; i++) {
        put_u8(&b, tags[i][0]);
        put_u8(&b, tags[i][1]);
        if (i + 1 < n)
            put_varint(&b, (uint32_t)sizes[i]);
        total += sizes[i];
    }
    if (total)
        put(&b, data, total);
    craft_box(c, "tile", 1, b.buf, b.n);
}

static const uint8_t sub_data[] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03 };

/* A valid 40x30 stream: one ihdr, one 2-tile-wide header (1 tile x 1 tile
 * when h says so), a sstr per tile. */
static void single_header(LvcImageHeader *h)
{
    fill_header(h);
    h->tile_w = 64;
    h->tile_h = 64;   /* one tile */
}

static void craft_valid_single(Craft *c)
{
    LvcImageHeader h;
    single_header(&h);
    craft_header(c, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(c, &h, 1);
    craft_sstr(c, 0, 0, LVC_SUB_Y, sub_data, sizeof(sub_data));
}

static int parse(const Craft *c)
{
    LvcContainer ct;
    int err = lvc_container_parse(c->buf, c->n, NULL, &ct);
    lvc_container_free(&ct);
    return err;
}

/* ----------------------------------------------------- reference stream */

/* 6 tiles x (Z pass 0, Y pass 0, Y pass 1) with distinct contents, plus a
 * parm box: the stream most tests start from. */
typedef struct Ref {
    LvcContainer c;
    LvcSubstream subs[18];
    uint8_t data[18][24];
    uint8_t params[5];
    uint8_t *stream;
    size_t size;
} Ref;

static void ref_build(Ref *r, int shuffled)
{
    memset(r, 0, sizeof(*r));
    fill_header(&r->c.hdr);
    int k = 0;
    for (uint32_t t = 0; t < 6; t++) {
        const uint8_t tags[3][2] = { { 0, LVC_SUB_Z }, { 0, LVC_SUB_Y }, { 1, LVC_SUB_Y } };
        for (int j = 0; j < 3; j++, k++) {
            const size_t n = (size_t)(3 + (k * 5) % 20);
            for (size_t i = 0; i < n; i++)
                r->data[k][i] = (uint8_t)(k * 31 + i * 7);
            r->subs[k] = (LvcSubstream){ .tile = t, .pass = tags[j][0], .what = tags[j][1],
                                         .data = r->data[k], .size = n };
        }
    }
    if (shuffled) {
        /* Reverse order: the writer must sort. */
        for (int i = 0; i < 9; i++) {
            LvcSubstream tmp = r->subs[i];
            r->subs[i] = r->subs[17 - i];
            r->subs[17 - i] = tmp;
        }
    }
    memcpy(r->params, "\x05\x04\x03\x02\x01", 5);
    r->c.has_params = 1;
    r->c.params = r->params;
    r->c.params_size = 5;
    r->c.subs = r->subs;
    r->c.num_subs = 18;
    ck_assert_int_eq(lvc_container_write(&r->c, &r->stream, &r->size), 0);
}

static void ref_free(Ref *r)
{
    free(r->stream);
    r->stream = NULL;
}

START_TEST(test_round_trip)
{
    Ref r, rs;
    ref_build(&r, 0);
    ref_build(&rs, 1);
    /* Sorting makes the stream independent of the input order. */
    ck_assert_uint_eq(r.size, rs.size);
    ck_assert_mem_eq(r.stream, rs.stream, r.size);

    LvcContainer c;
    ck_assert_int_eq(lvc_container_parse(r.stream, r.size, NULL, &c), 0);
    ck_assert_int_eq(c.version, LVC_CONTAINER_VERSION);
    ck_assert_int_eq(c.kind, LVC_KIND_IMAGE);
    ck_assert_uint_eq(c.hdr.width, 40);
    ck_assert_uint_eq(c.hdr.height, 30);
    ck_assert_uint_eq(c.hdr.channels, 3);
    ck_assert_uint_eq(c.hdr.bit_depth, 8);
    ck_assert_uint_eq(c.hdr.quality, 7550);
    ck_assert_uint_eq(c.hdr.tile_w, 16);
    ck_assert_uint_eq(c.hdr.tiles_x, 3);
    ck_assert_uint_eq(c.hdr.tiles_y, 2);
    ck_assert_uint_eq(c.hdr.num_tiles, 6);
    ck_assert_uint_eq(c.hdr.model_id, 0x1234);
    ck_assert_mem_eq(c.hdr.weights_id, r.c.hdr.weights_id, LVC_WEIGHTS_ID_SIZE);
    ck_assert_int_eq(c.has_params, 1);
    ck_assert_uint_eq(c.params_size, 5);
    ck_assert_mem_eq(c.params, r.params, 5);
    /* Zero-copy: payloads point into the stream. */
    ck_assert(c.params > r.stream && c.params < r.stream + r.size);
    ck_assert_uint_eq(c.num_subs, 18);
    ck_assert_uint_eq(c.num_extra, 0);
    ck_assert_uint_eq(c.num_boxes, 8);   /* ihdr + parm + 6 tile boxes */
    for (int k = 0; k < 18; k++) {
        const LvcSubstream *want = &r.subs[k];
        const LvcSubstream *got = lvc_container_find(&c, want->tile, want->pass, want->what);
        ck_assert_ptr_nonnull(got);
        ck_assert_uint_eq(got->size, want->size);
        ck_assert_mem_eq(got->data, want->data, want->size);
        ck_assert(got->data >= r.stream && got->data + got->size <= r.stream + r.size);
    }
    ck_assert_ptr_null(lvc_container_find(&c, 6, 0, 0));
    ck_assert_ptr_null(lvc_container_find(&c, 0, 2, 1));
    /* Sorted by (tile, pass, what). */
    for (uint32_t i = 1; i < c.num_subs; i++) {
        const LvcSubstream *a = &c.subs[i - 1], *b = &c.subs[i];
        ck_assert(a->tile < b->tile || (a->tile == b->tile &&
                  (a->pass < b->pass || (a->pass == b->pass && a->what < b->what))));
    }

    /* write(parse(x)) == x. */
    uint8_t *again;
    size_t again_size;
    ck_assert_int_eq(lvc_container_write(&c, &again, &again_size), 0);
    ck_assert_uint_eq(again_size, r.size);
    ck_assert_mem_eq(again, r.stream, r.size);
    free(again);

    uint32_t x0, y0, w, h;
    ck_assert_int_eq(lvc_container_tile_rect(&c.hdr, 5, &x0, &y0, &w, &h), 0);
    ck_assert_uint_eq(x0, 32);
    ck_assert_uint_eq(y0, 16);
    ck_assert_uint_eq(w, 8);
    ck_assert_uint_eq(h, 14);
    ck_assert_int_eq(lvc_container_tile_rect(&c.hdr, 6, &x0, &y0, &w, &h), LVC_ERR_INVALID_ARG);

    lvc_container_free(&c);
    lvc_container_free(&c);   /* safe twice: the struct is zeroed */
    ref_free(&r);
    ref_free(&rs);
}
END_TEST

/* The writer's output is exactly the bytes the spec describes. */
START_TEST(test_writer_matches_spec)
{
    Craft c;
    craft_valid_single(&c);
    LvcContainer ct = { 0 };
    fill_header(&ct.hdr);
    ct.hdr.tile_w = ct.hdr.tile_h = 64;
    LvcSubstream s = { .tile = 0, .pass = 0, .what = LVC_SUB_Y, .data = sub_data,
                       .size = sizeof(sub_data) };
    ct.subs = &s;
    ct.num_subs = 1;
    uint8_t *out;
    size_t n;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), 0);
    /* The writer puts a tile's substreams in one tile box:
     * 6 header + (4+1+1+22+4) ihdr + (4+1+1+(1+1+2+7)+4) tile */
    Craft t;
    LvcImageHeader h;
    fill_header(&h);
    h.tile_w = h.tile_h = 64;
    craft_header(&t, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&t, &h, 1);
    const uint8_t tag[1][2] = { { 0, LVC_SUB_Y } };
    const size_t sz[1] = { sizeof(sub_data) };
    craft_tile(&t, 0, 1, tag, sz, sub_data);
    ck_assert_uint_eq(n, t.n);
    ck_assert_mem_eq(out, t.buf, n);
    ck_assert_uint_eq(n, 6 + 32 + 21);
    free(out);
    ck_assert_int_eq(parse(&t), 0);
    /* The single-substream sstr box is still read: same substream. */
    ck_assert_int_eq(parse(&c), 0);
    LvcContainer a, b;
    ck_assert_int_eq(lvc_container_parse(c.buf, c.n, NULL, &a), 0);
    ck_assert_int_eq(lvc_container_parse(t.buf, t.n, NULL, &b), 0);
    ck_assert_uint_eq(a.num_subs, 1);
    ck_assert_uint_eq(b.num_subs, 1);
    ck_assert_uint_eq(a.subs[0].size, b.subs[0].size);
    ck_assert_mem_eq(a.subs[0].data, b.subs[0].data, a.subs[0].size);
    lvc_container_free(&a);
    lvc_container_free(&b);
}
END_TEST

START_TEST(test_many_tiles_varint)
{
    /* 300 tiles: indices >= 128 take two varint bytes. */
    LvcContainer ct = { 0 };
    fill_header(&ct.hdr);
    ct.hdr.width = 300;
    ct.hdr.height = 2;
    ct.hdr.tile_w = 1;
    ct.hdr.tile_h = 2;
    LvcSubstream subs[300];
    uint8_t byte[300];
    for (uint32_t i = 0; i < 300; i++) {
        byte[i] = (uint8_t)i;
        subs[i] = (LvcSubstream){ .tile = 299 - i, .what = LVC_SUB_Y, .data = &byte[i],
                                  .size = 1 };
    }
    ct.subs = subs;
    ct.num_subs = 300;
    uint8_t *out;
    size_t n;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), 0);
    LvcContainer p;
    ck_assert_int_eq(lvc_container_parse(out, n, NULL, &p), 0);
    ck_assert_uint_eq(p.num_subs, 300);
    ck_assert_uint_eq(p.hdr.num_tiles, 300);
    for (uint32_t t = 0; t < 300; t++) {
        const LvcSubstream *s = lvc_container_find(&p, t, 0, LVC_SUB_Y);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(s->size, 1);
        ck_assert_uint_eq(s->data[0], (uint8_t)(299 - t));
    }
    lvc_container_free(&p);
    /* A box limit below the count is LVC_ERR_LIMIT. */
    LvcContainerLimits lim = { .max_boxes = 299 };
    ck_assert_int_eq(lvc_container_parse(out, n, &lim, &p), LVC_ERR_LIMIT);
    lim.max_boxes = 300;
    ck_assert_int_eq(lvc_container_parse(out, n, &lim, &p), 0);
    lvc_container_free(&p);
    free(out);
}
END_TEST

START_TEST(test_alpha_and_optional_boxes)
{
    LvcContainer ct = { 0 };
    fill_header(&ct.hdr);
    ct.hdr.channels = 4;
    ct.hdr.alpha_mode = LVC_ALPHA_ZLIB;
    ct.hdr.tile_w = ct.hdr.tile_h = 64;
    LvcSubstream subs[2] = {
        { .tile = 0, .pass = 0, .what = LVC_SUB_ALPHA, .data = sub_data, .size = 3 },
        { .tile = 0, .pass = 0, .what = LVC_SUB_Y, .data = sub_data, .size = 7 },
    };
    LvcRawBox extra[2] = {
        { .type = { 'n', 'o', 't', 'e' }, .flags = 0, .data = (const uint8_t *)"hi", .size = 2 },
        { .type = { 'Z', 'z', '0', ' ' }, .flags = 0, .data = NULL, .size = 0 },
    };
    ct.subs = subs;
    ct.num_subs = 2;
    ct.extra = extra;
    ct.num_extra = 2;
    uint8_t *out;
    size_t n;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), 0);
    LvcContainer p;
    ck_assert_int_eq(lvc_container_parse(out, n, NULL, &p), 0);
    ck_assert_uint_eq(p.num_extra, 2);
    ck_assert_mem_eq(p.extra[0].type, "note", 4);
    ck_assert_uint_eq(p.extra[0].size, 2);
    ck_assert_mem_eq(p.extra[0].data, "hi", 2);
    ck_assert_mem_eq(p.extra[1].type, "Zz0 ", 4);
    ck_assert_uint_eq(p.num_boxes, 4);   /* ihdr, tile, 2 extra */
    ck_assert_ptr_nonnull(lvc_container_find(&p, 0, 0, LVC_SUB_ALPHA));
    lvc_container_free(&p);
    free(out);

    /* Alpha mode without an alpha substream, or an alpha substream
     * without alpha mode, is inconsistent. */
    ct.num_extra = 0;
    ct.subs = &subs[1];
    ct.num_subs = 1;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(n, 0);
    ct.hdr.channels = 3;
    ct.hdr.alpha_mode = LVC_ALPHA_NONE;
    ct.subs = subs;
    ct.num_subs = 2;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);
    /* An unknown MANDATORY box is refused by the parser. */
    ct.subs = &subs[1];
    ct.num_subs = 1;
    extra[0].flags = LVC_BOX_MANDATORY;
    ct.extra = extra;
    ct.num_extra = 1;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), 0);
    ck_assert_int_eq(lvc_container_parse(out, n, NULL, &p), LVC_ERR_UNKNOWN_BOX);
    free(out);
}
END_TEST

START_TEST(test_writer_rejects)
{
    LvcContainer ct = { 0 };
    fill_header(&ct.hdr);
    ct.hdr.tile_w = ct.hdr.tile_h = 64;
    LvcSubstream subs[2] = {
        { .tile = 0, .what = LVC_SUB_Y, .data = sub_data, .size = 3 },
        { .tile = 0, .what = LVC_SUB_Y, .data = sub_data, .size = 3 },
    };
    ct.subs = subs;
    ct.num_subs = 2;
    uint8_t *out = (uint8_t *)1;
    size_t n = 1;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);   /* duplicate */
    ck_assert_ptr_null(out);
    subs[1].tile = 1;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);   /* no tile 1 */
    subs[1].tile = 0;
    subs[1].what = 77;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_INVALID_ARG); /* reserved */
    ct.num_subs = 0;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);   /* no tiles */
    ct.num_subs = 1;
    ct.hdr.width = 0;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_DIMENSIONS);
    ct.hdr.width = 40;
    ct.hdr.bit_depth = 12;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);
    ct.hdr.bit_depth = 8;
    ct.hdr.quality = 10001;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);
    ct.hdr.quality = 10000;
    ct.hdr.color = LVC_COLOR_GRAY;   /* gray planes for an RGB image */
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);
    ct.hdr.color = LVC_COLOR_RGB;
    ct.hdr.tile_overlap = 64;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), LVC_ERR_CORRUPT);
    ct.hdr.tile_overlap = 8;
    ck_assert_int_eq(lvc_container_write(&ct, &out, &n), 0);
    free(out);
    ck_assert_int_eq(lvc_container_write(NULL, &out, &n), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_container_write(&ct, NULL, &n), LVC_ERR_INVALID_ARG);
}
END_TEST

/* ----------------------------------------------------- error categories */

START_TEST(test_err_magic_version_kind)
{
    Craft c;
    craft_valid_single(&c);
    ck_assert_int_eq(parse(&c), 0);

    Craft b = c;
    b.buf[0] = 0x88;
    ck_assert_int_eq(parse(&b), LVC_ERR_BAD_MAGIC);
    b = c;
    b.buf[3] = 'c';
    ck_assert_int_eq(parse(&b), LVC_ERR_BAD_MAGIC);
    /* A PNG is not a stream. */
    memcpy(b.buf, "\x89PNG\r\n\x1a\n", 8);
    ck_assert_int_eq(parse(&b), LVC_ERR_BAD_MAGIC);
    LvcContainer ct;
    ck_assert_int_eq(lvc_container_parse((const uint8_t *)"ab", 2, NULL, &ct), LVC_ERR_BAD_MAGIC);
    ck_assert_int_eq(lvc_container_parse((const uint8_t *)"\x89L", 2, NULL, &ct),
                     LVC_ERR_TRUNCATED);
    ck_assert_int_eq(lvc_container_parse(c.buf, 0, NULL, &ct), LVC_ERR_TRUNCATED);

    b = c;
    b.buf[4] = 1;   /* format version 1: four rANS states, no tile box */
    ck_assert_int_eq(parse(&b), LVC_ERR_VERSION);
    b.buf[4] = 2;   /* format version 2: a 64-byte ihdr, a Y substream per pass */
    ck_assert_int_eq(parse(&b), LVC_ERR_VERSION);
    b.buf[4] = 4;
    ck_assert_int_eq(parse(&b), LVC_ERR_VERSION);
    b.buf[4] = 0;
    ck_assert_int_eq(parse(&b), LVC_ERR_VERSION);
    b = c;
    for (unsigned k = 0; k < 256; k++) {
        if (k == LVC_KIND_IMAGE)
            continue;
        b.buf[5] = (uint8_t)k;
        ck_assert_int_eq(parse(&b), LVC_ERR_KIND);
    }
}
END_TEST

START_TEST(test_err_truncated_length_crc)
{
    Craft c;
    craft_valid_single(&c);
    Craft b = c;
    LvcImageHeader hs;
    single_header(&hs);
    const size_t ihdr_n = ihdr_box_size(&hs, 1);

    /* Ends inside the second box's header. */
    b.n = 6 + ihdr_n + 3;
    ck_assert_int_eq(parse(&b), LVC_ERR_TRUNCATED);
    /* Ends inside a payload: the declared length runs past the end. */
    b.n = c.n - 5;
    ck_assert_int_eq(parse(&b), LVC_ERR_LENGTH);
    /* Fewer boxes than ihdr announces, cut at a box boundary. */
    b.n = 6 + ihdr_n;
    ck_assert_int_eq(parse(&b), LVC_ERR_TRUNCATED);

    /* A length far past the end (5-byte varint 2^32-1). */
    Craft l;
    craft_header(&l, LVC_CONTAINER_VERSION, 1);
    put(&l, "ihdr", 4);
    put_u8(&l, 1);
    put(&l, "\xff\xff\xff\xff\x0f", 5);
    put(&l, c.buf + 12, ihdr_n - 6);
    ck_assert_int_eq(parse(&l), LVC_ERR_LENGTH);
    /* A length varint above 32 bits is malformed. */
    l.buf[6 + 5 + 4] = 0x1f;
    ck_assert_int_eq(parse(&l), LVC_ERR_CORRUPT);

    /* Flipped payload byte: CRC. */
    b = c;
    b.buf[6 + 6 + 10] ^= 0x40;
    ck_assert_int_eq(parse(&b), LVC_ERR_CRC);
    /* Flipped CRC byte: CRC. */
    b = c;
    b.buf[c.n - 1] ^= 1;
    ck_assert_int_eq(parse(&b), LVC_ERR_CRC);
}
END_TEST

START_TEST(test_err_dimensions)
{
    LvcImageHeader h;
    fill_header(&h);
    Craft c;
    const uint32_t bad[][2] = { { 0, 30 }, { 40, 0 }, { 0x80000000u, 30 }, { 40, 0xffffffffu } };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        h.width = bad[i][0];
        h.height = bad[i][1];
        craft_header(&c, LVC_CONTAINER_VERSION, 1);
        craft_ihdr(&c, &h, 1);
        craft_sstr(&c, 0, 0, LVC_SUB_Y, sub_data, 3);
        ck_assert_int_eq(parse(&c), LVC_ERR_DIMENSIONS);
    }

    /* Limits: side and pixel count, before anything is allocated. */
    h.width = 70000;
    h.height = 1;
    h.tile_w = 70000;
    h.tile_h = 1;
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&c, &h, 1);
    craft_sstr(&c, 0, 0, LVC_SUB_Y, sub_data, 3);
    ck_assert_int_eq(parse(&c), LVC_ERR_DIMENSIONS);   /* default max side 65536 */
    LvcContainerLimits lim = { .max_side = 70000 };
    LvcContainer ct;
    ck_assert_int_eq(lvc_container_parse(c.buf, c.n, &lim, &ct), 0);
    lvc_container_free(&ct);

    h.width = 1000;
    h.height = 1000;
    h.tile_w = h.tile_h = 1000;
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&c, &h, 1);
    craft_sstr(&c, 0, 0, LVC_SUB_Y, sub_data, 3);
    lim = (LvcContainerLimits){ .max_pixels = 999999 };
    ck_assert_int_eq(lvc_container_parse(c.buf, c.n, &lim, &ct), LVC_ERR_DIMENSIONS);
    lim.max_pixels = 1000000;
    ck_assert_int_eq(lvc_container_parse(c.buf, c.n, &lim, &ct), 0);
    lvc_container_free(&ct);

    /* A huge stream header in a tiny stream is refused by the size check,
     * not by an attempt to allocate 2^32 descriptors. */
    h.width = 64;
    h.height = 64;
    h.tile_w = h.tile_h = 64;
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&c, &h, 0xffffffffu);
    craft_sstr(&c, 0, 0, LVC_SUB_Y, sub_data, 3);
    lim = (LvcContainerLimits){ .max_boxes = 0xffffffffu };
    ck_assert_int_eq(lvc_container_parse(c.buf, c.n, &lim, &ct), LVC_ERR_TRUNCATED);
    ck_assert_int_eq(parse(&c), LVC_ERR_LIMIT);
}
END_TEST

/* Parse a stream of this ihdr payload and a substream for each of
 * fill_header's six tiles. */
static int parse_six_tiles(const uint8_t *ihdr, size_t n)
{
    Craft c;
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_box(&c, "ihdr", 1, ihdr, n);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    return parse(&c);
}

START_TEST(test_err_corrupt_structure)
{
    LvcImageHeader h;
    fill_header(&h);   /* 3 x 2 tiles */
    Craft c;
    uint8_t p[LVC_IHDR_MAX_SIZE + 8];

    /* First box is not ihdr. */
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_sstr(&c, 0, 0, LVC_SUB_Y, sub_data, 3);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* ihdr without the mandatory flag. */
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    const size_t np = ihdr_payload(p, &h, 6);
    craft_box(&c, "ihdr", 0, p, np);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* An ihdr payload that ends early (at every length, including empty:
     * inside a varint or before the fixed bytes) or has a byte left over. */
    p[np] = 0;
    for (size_t k = 0; k <= np + 1; k++)
        if (k != np)
            ck_assert_int_eq(parse_six_tiles(p, k), LVC_ERR_CORRUPT);
    /* Field by field, as the varint rules and the field widths say. */
    {
        Craft q = { .n = 0 };
        put(&q, "\xa8\x00", 2);    /* width 40, not minimal */
        put_u8(&q, 30);
        put(&q, p + 2, np - 2);
        ck_assert_int_eq(parse_six_tiles(q.buf, q.n), LVC_ERR_CORRUPT);
        LvcImageHeader hq = h;
        hq.quality = 0;              /* the quality varint, 1 byte, at 6 */
        const size_t nq = ihdr_payload(p, &hq, 6);
        q.n = 0;
        put(&q, p, 6);
        put(&q, "\x80\x80\x04", 3); /* 65536: above u16 */
        put(&q, p + 7, nq - 7);
        ck_assert_int_eq(parse_six_tiles(q.buf, q.n), LVC_ERR_CORRUPT);
        q.n = 0;
        put(&q, p, 6);
        put(&q, "\x91\x4e", 2);    /* 10001: above the quality range */
        put(&q, p + 7, nq - 7);
        ck_assert_int_eq(parse_six_tiles(q.buf, q.n), LVC_ERR_CORRUPT);
        q.buf[6] = 0x90;             /* 10000: valid */
        ck_assert_int_eq(parse_six_tiles(q.buf, q.n), 0);
    }

    /* Tiles 0..5 present but tile 3 missing (5 boxes announced). */
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&c, &h, 5);
    for (uint32_t t = 0; t < 6; t++)
        if (t != 3)
            craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* Fewer boxes than tiles. */
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&c, &h, 5);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);

    /* The valid layout, then variations of it. */
#define SIX_TILES(extra_boxes)                                     \
    craft_header(&c, LVC_CONTAINER_VERSION, 1);                                        \
    craft_ihdr(&c, &h, 6 + (extra_boxes));
    SIX_TILES(0);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), 0);
    /* Trailing data after the last box. */
    put_u8(&c, 0);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);

    /* Duplicate substream. */
    SIX_TILES(1);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    craft_sstr(&c, 5, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* Out of order. */
    SIX_TILES(0);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t ^ 1, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* Tile index out of range. */
    SIX_TILES(1);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    craft_sstr(&c, 6, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* Reserved 'what'. */
    SIX_TILES(0);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, t == 4 ? 4 : LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* Model-private 'what' is fine. */
    SIX_TILES(0);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, t == 4 ? 200 : LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), 0);
    /* A second ihdr. */
    SIX_TILES(1);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    craft_ihdr(&c, &h, 7);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* parm after a substream, and two parm boxes. */
    SIX_TILES(1);
    craft_sstr(&c, 0, 0, LVC_SUB_Y, sub_data, 2);
    craft_box(&c, "parm", 1, sub_data, 2);
    for (uint32_t t = 1; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    SIX_TILES(2);
    craft_box(&c, "parm", 1, sub_data, 2);
    craft_box(&c, "parm", 1, sub_data, 2);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* parm without the mandatory flag. */
    SIX_TILES(1);
    craft_box(&c, "parm", 0, sub_data, 2);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* Reserved flag bits (with a correct CRC). */
    SIX_TILES(1);
    craft_box(&c, "note", 0x02, sub_data, 2);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* A type with a control character. */
    SIX_TILES(1);
    craft_box(&c, "no\ne", 0, sub_data, 2);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* Unknown optional box: skipped. Unknown mandatory: refused. */
    SIX_TILES(1);
    craft_box(&c, "note", 0, sub_data, 2);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), 0);
    SIX_TILES(1);
    craft_box(&c, "NOTE", 1, sub_data, 2);
    for (uint32_t t = 0; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_UNKNOWN_BOX);
    /* sstr whose payload is too short for its tag, and a non-minimal tile
     * varint. */
    SIX_TILES(0);
    craft_box(&c, "sstr", 1, (const uint8_t *)"\x00\x00", 2);
    for (uint32_t t = 1; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    SIX_TILES(0);
    craft_box(&c, "sstr", 1, (const uint8_t *)"\x80\x00\x00\x01", 4);
    for (uint32_t t = 1; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
    /* Non-minimal box length varint. */
    SIX_TILES(0);
    {
        const size_t start = c.n;
        put(&c, "sstr", 4);
        put_u8(&c, 1);
        put(&c, "\x83\x00", 2);
        put(&c, "\x00\x00\x01", 3);
        put_u32(&c, lvc_crc32(0, c.buf + start, c.n - start));
    }
    for (uint32_t t = 1; t < 6; t++)
        craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_CORRUPT);
#undef SIX_TILES

    /* Header field rules. */
    const struct {
        int field;
        uint32_t value;
    } bad[] = {
        { 0, 0 }, { 0, 5 }, { 1, 0 }, { 1, 7 }, { 1, 15 }, { 2, 3 }, { 3, 1 }, { 3, 2 },
        { 4, 0 }, { 5, 0 }, { 6, 16 }, { 7, 10001 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        LvcImageHeader hb;
        fill_header(&hb);
        switch (bad[i].field) {
        case 0: hb.channels = (uint8_t)bad[i].value; break;
        case 1: hb.bit_depth = (uint8_t)bad[i].value; break;
        case 2: hb.color = (uint8_t)bad[i].value; break;
        case 3: hb.alpha_mode = (uint8_t)bad[i].value; break;
        case 4: hb.tile_w = bad[i].value; break;
        case 5: hb.tile_h = bad[i].value; break;
        case 6: hb.tile_overlap = (uint16_t)bad[i].value; break;
        case 7: hb.quality = (uint16_t)bad[i].value; break;
        }
        craft_header(&c, LVC_CONTAINER_VERSION, 1);
        craft_ihdr(&c, &hb, 6);
        for (uint32_t t = 0; t < 6; t++)
            craft_sstr(&c, t, 0, LVC_SUB_Y, sub_data, 2);
        ck_assert_msg(parse(&c) == LVC_ERR_CORRUPT, "case %zu", i);
    }
}
END_TEST

START_TEST(test_check_model)
{
    Ref r;
    ref_build(&r, 0);
    LvcContainer c;
    ck_assert_int_eq(lvc_container_parse(r.stream, r.size, NULL, &c), 0);
    /* the stream names the weights by the first bytes of their hash */
    uint8_t hash[32];
    memset(hash, 0x5a, sizeof(hash));
    memcpy(hash, r.c.hdr.weights_id, LVC_WEIGHTS_ID_SIZE);
    lvc_log_set_level(LVC_LOG_QUIET);
    ck_assert_int_eq(lvc_container_check_model(&c, 0x1234, hash), 0);
    ck_assert_int_eq(lvc_container_check_model(&c, 0x1235, hash), LVC_ERR_MODEL_UNKNOWN);
    hash[31] ^= 1;
    ck_assert_int_eq(lvc_container_check_model(&c, 0x1234, hash), 0);
    hash[LVC_WEIGHTS_ID_SIZE - 1] ^= 1;
    ck_assert_int_eq(lvc_container_check_model(&c, 0x1234, hash), LVC_ERR_MODEL_HASH);
    ck_assert_int_eq(lvc_container_check_model(NULL, 0x1234, hash), LVC_ERR_INVALID_ARG);
    lvc_log_set_level(LVC_LOG_WARNING);
    lvc_container_free(&c);
    ref_free(&r);
}
END_TEST

/* ------------------------------------------------- robustness sweeps */

START_TEST(test_truncation_every_offset)
{
    Ref r;
    ref_build(&r, 0);
    for (size_t n = 0; n < r.size; n++) {
        /* A fresh copy of exactly n bytes, so ASan sees any over-read. */
        uint8_t *b = malloc(n ? n : 1);
        memcpy(b, r.stream, n);
        LvcContainer c;
        const int err = lvc_container_parse(b, n, NULL, &c);
        ck_assert_msg(err < 0, "prefix of %zu bytes parsed", n);
        ck_assert(err == LVC_ERR_TRUNCATED || err == LVC_ERR_LENGTH);
        ck_assert_ptr_null(c.subs);
        free(b);
    }
    ref_free(&r);
}
END_TEST

START_TEST(test_bit_flips)
{
    Ref r;
    ref_build(&r, 0);
    uint8_t *b = malloc(r.size);
    int rejected = 0, total = 0;
    for (size_t i = 0; i < r.size; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, r.stream, r.size);
            b[i] ^= (uint8_t)(1u << bit);
            LvcContainer c;
            const int err = lvc_container_parse(b, r.size, NULL, &c);
            total++;
            if (err < 0)
                rejected++;
            else
                lvc_container_free(&c);
        }
    }
    /* Every byte is covered by the magic, a checked header field or a
     * CRC, so every single-bit flip must be caught. */
    ck_assert_int_eq(rejected, total);
    free(b);
    ref_free(&r);
}
END_TEST

START_TEST(test_alloc_failures)
{
    Ref r;
    ref_build(&r, 0);
    int failures = 0;
    for (long k = 0; k < 16; k++) {
        LvcContainer c;
        lvc_mem_fail_after(k);
        int err = lvc_container_parse(r.stream, r.size, NULL, &c);
        lvc_mem_fail_after(-1);
        if (err) {
            ck_assert_int_eq(err, LVC_ERR_NOMEM);
            ck_assert_ptr_null(c.subs);
            failures++;
        } else {
            lvc_container_free(&c);
        }
        uint8_t *out;
        size_t n;
        lvc_mem_fail_after(k);
        err = lvc_container_write(&r.c, &out, &n);
        lvc_mem_fail_after(-1);
        if (err) {
            ck_assert_int_eq(err, LVC_ERR_NOMEM);
            ck_assert_ptr_null(out);
            failures++;
        } else {
            ck_assert_uint_eq(n, r.size);
            free(out);
        }
    }
    ck_assert_int_ge(failures, 5);   /* parse: 3 allocations, write: 2 */
    ref_free(&r);
}
END_TEST

/* ---------------------------------------------------------- public API */

START_TEST(test_stream_info_boxes)
{
    Ref r;
    ref_build(&r, 0);
    LvcStreamInfo info;
    ck_assert_int_eq(lvc_stream_info(r.stream, r.size, &info), 0);
    ck_assert_int_eq(info.version, LVC_CONTAINER_VERSION);
    ck_assert_int_eq(info.kind, 1);
    ck_assert_int_eq(info.width, 40);
    ck_assert_int_eq(info.height, 30);
    ck_assert_int_eq(info.channels, 3);
    ck_assert_int_eq(info.bit_depth, 8);
    ck_assert_float_eq_tol(info.quality, 75.5f, 1e-4f);
    ck_assert_uint_eq(info.model_id, 0x1234);
    ck_assert_mem_eq(info.weights_id, r.c.hdr.weights_id, LVC_WEIGHTS_ID_SIZE);
    ck_assert_int_eq(info.tile_w, 16);
    ck_assert_int_eq(info.tile_h, 16);
    ck_assert_int_eq(info.num_boxes, 8);

    LvcBoxInfo boxes[32];
    int nb = -1;
    ck_assert_int_eq(lvc_stream_boxes(r.stream, r.size, boxes, 32, &nb), 0);
    ck_assert_int_eq(nb, 8);
    ck_assert_str_eq(boxes[0].type, "ihdr");
    ck_assert_uint_eq(boxes[0].offset, 6);
    ck_assert_uint_eq(boxes[0].payload_size, 22);
    ck_assert_int_eq(boxes[0].mandatory, 1);
    ck_assert_str_eq(boxes[1].type, "parm");
    ck_assert_uint_eq(boxes[1].payload_size, 5);
    ck_assert_str_eq(boxes[2].type, "tile");
    /* Offsets chain: each box ends where the next begins, the last at EOF;
     * the CRC is the stored one. */
    for (int i = 0; i < nb; i++) {
        const uint64_t off = boxes[i].offset;
        const uint64_t hdr = 4 + 1 + (boxes[i].payload_size < 128 ? 1 : 2);
        const uint64_t end = off + hdr + boxes[i].payload_size + 4;
        ck_assert_uint_eq(end, i + 1 < nb ? boxes[i + 1].offset : r.size);
        const uint8_t *cp = r.stream + end - 4;
        ck_assert_uint_eq(boxes[i].crc32, (uint32_t)cp[0] | (uint32_t)cp[1] << 8 |
                                          (uint32_t)cp[2] << 16 | (uint32_t)cp[3] << 24);
    }
    /* Fewer slots than boxes: the count is still the total. */
    memset(boxes, 0xaa, sizeof(boxes));
    ck_assert_int_eq(lvc_stream_boxes(r.stream, r.size, boxes, 2, &nb), 0);
    ck_assert_int_eq(nb, 8);
    ck_assert_str_eq(boxes[1].type, "parm");
    ck_assert_uint_eq(boxes[2].offset, 0xaaaaaaaaaaaaaaaaull);
    ck_assert_int_eq(lvc_stream_boxes(r.stream, r.size, NULL, 0, &nb), 0);
    ck_assert_int_eq(nb, 8);
    ck_assert_int_eq(lvc_stream_boxes(r.stream, r.size, NULL, 3, &nb), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_stream_info(r.stream, r.size, NULL), LVC_ERR_INVALID_ARG);

    /* Errors propagate, and info is zeroed. */
    r.stream[20] ^= 1;
    ck_assert_int_eq(lvc_stream_info(r.stream, r.size, &info), LVC_ERR_CRC);
    ck_assert_int_eq(info.width, 0);
    ck_assert_int_eq(lvc_stream_boxes(r.stream, r.size, boxes, 32, &nb), LVC_ERR_CRC);
    ck_assert_int_eq(nb, 0);
    r.stream[20] ^= 1;

    /* Info describes images beyond the decoder's default limits. */
    Craft c;
    LvcImageHeader h;
    fill_header(&h);
    h.width = 100000;
    h.height = 100000;
    h.tile_w = h.tile_h = 100000;
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&c, &h, 1);
    craft_sstr(&c, 0, 0, LVC_SUB_Y, sub_data, 2);
    ck_assert_int_eq(parse(&c), LVC_ERR_DIMENSIONS);
    ck_assert_int_eq(lvc_stream_info(c.buf, c.n, &info), 0);
    ck_assert_int_eq(info.width, 100000);
    ref_free(&r);
}
END_TEST

/* Mutations that keep every CRC valid, so they reach the semantic checks
 * behind it: random bytes of ihdr/parm/sstr payloads are changed and the
 * box CRC recomputed. Whatever parses must satisfy the container's
 * invariants and re-serialize to the same bytes (one encoding per stream). */
START_TEST(test_crc_fixed_mutations)
{
    Ref r;
    ref_build(&r, 0);
    LvcBoxInfo boxes[32];
    int nb;
    ck_assert_int_eq(lvc_stream_boxes(r.stream, r.size, boxes, 32, &nb), 0);
    uint8_t *b = malloc(r.size);
    uint32_t seed = 1;
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(b, r.stream, r.size);
        const int nmut = 1 + iter % 3;
        for (int m = 0; m < nmut; m++) {
            seed = seed * 1103515245u + 12345u;
            /* Bias towards ihdr and the sstr tags, where the rules live. */
            const int bi = (seed >> 16) % 4 == 0 ? 0 : (int)((seed >> 8) % (uint32_t)nb);
            seed = seed * 1103515245u + 12345u;
            const LvcBoxInfo *x = &boxes[bi];
            if (!x->payload_size)
                continue;
            const size_t span = bi == 0 ? x->payload_size : (x->payload_size < 4 ? x->payload_size : 4);
            const size_t po = x->offset + 6 + ((seed >> 8) % span);
            seed = seed * 1103515245u + 12345u;
            b[po] = (seed >> 20) % 3 == 0 ? (uint8_t)(b[po] ^ (1u << ((seed >> 8) & 7)))
                                           : (uint8_t)(seed >> 12);
            const size_t crc_at = x->offset + 6 + x->payload_size;
            const uint32_t crc = lvc_crc32(0, b + x->offset, crc_at - x->offset);
            for (int k = 0; k < 4; k++)
                b[crc_at + k] = (uint8_t)(crc >> (8 * k));
        }
        LvcContainer c;
        const int err = lvc_container_parse(b, r.size, NULL, &c);
        if (err) {
            ck_assert(err == LVC_ERR_CORRUPT || err == LVC_ERR_DIMENSIONS ||
                      err == LVC_ERR_TRUNCATED || err == LVC_ERR_LIMIT);
            ck_assert_ptr_null(c.subs);
            continue;
        }
        accepted++;
        for (uint32_t i = 0; i < c.num_subs; i++) {
            ck_assert_uint_lt(c.subs[i].tile, c.hdr.num_tiles);
            ck_assert(c.subs[i].data >= b && c.subs[i].data + c.subs[i].size <= b + r.size);
        }
        uint8_t *again;
        size_t n;
        ck_assert_int_eq(lvc_container_write(&c, &again, &n), 0);
        ck_assert_uint_eq(n, r.size);
        ck_assert_mem_eq(again, b, n);
        free(again);
        lvc_container_free(&c);
    }
    /* Substream data bytes and some tags stay valid under mutation. */
    ck_assert_int_gt(accepted, 100);
    free(b);
    ref_free(&r);
}
END_TEST

/* lvc_stream_substreams: every substream, in order, located in the stream. */
START_TEST(test_stream_substreams)
{
    Ref r;
    ref_build(&r, 0);
    LvcSubstreamInfo subs[32];
    int n = -1;
    ck_assert_int_eq(lvc_stream_substreams(r.stream, r.size, subs, 32, &n), 0);
    ck_assert_int_eq(n, 18);
    for (int k = 0; k < 18; k++) {
        const LvcSubstream *want = &r.subs[k];   /* built in stream order */
        ck_assert_uint_eq(subs[k].tile, want->tile);
        ck_assert_int_eq(subs[k].pass, want->pass);
        ck_assert_int_eq(subs[k].what, want->what);
        ck_assert_uint_eq(subs[k].size, want->size);
        ck_assert_uint_le(subs[k].offset + subs[k].size, r.size);
        ck_assert_mem_eq(r.stream + subs[k].offset, want->data, want->size);
    }
    /* fewer slots: the count is still the total, nothing written past */
    memset(subs, 0xaa, sizeof(subs));
    ck_assert_int_eq(lvc_stream_substreams(r.stream, r.size, subs, 2, &n), 0);
    ck_assert_int_eq(n, 18);
    ck_assert_uint_eq(subs[2].offset, 0xaaaaaaaaaaaaaaaaull);
    ck_assert_int_eq(lvc_stream_substreams(r.stream, r.size, NULL, 0, &n), 0);
    ck_assert_int_eq(n, 18);
    ck_assert_int_eq(lvc_stream_substreams(r.stream, r.size, NULL, 3, &n), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_stream_substreams(r.stream, r.size, subs, -1, &n), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_stream_substreams(r.stream, r.size, subs, 2, NULL), LVC_ERR_INVALID_ARG);
    /* an invalid stream: the parser's error, count 0 */
    r.stream[r.size - 1] ^= 1;
    ck_assert_int_eq(lvc_stream_substreams(r.stream, r.size, subs, 32, &n), LVC_ERR_CRC);
    ck_assert_int_eq(n, 0);
    ref_free(&r);
}
END_TEST

/* Tile boxes: the entry table and its rules (doc/bitstream.md 4.4). */
START_TEST(test_tile_box)
{
    LvcImageHeader h;
    fill_header(&h);
    h.tile_w = h.tile_h = 64;   /* one tile */
    const uint8_t tags3[3][2] = { { 0, LVC_SUB_Z }, { 0, LVC_SUB_Y }, { 1, LVC_SUB_Y } };
    const size_t sz3[3] = { 2, 0, 5 };
    Craft c;
    craft_header(&c, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&c, &h, 1);
    craft_tile(&c, 0, 3, tags3, sz3, sub_data);
    LvcContainer ct;
    ck_assert_int_eq(lvc_container_parse(c.buf, c.n, NULL, &ct), 0);
    ck_assert_uint_eq(ct.num_subs, 3);
    ck_assert_uint_eq(ct.num_boxes, 2);
    const LvcSubstream *z = lvc_container_find(&ct, 0, 0, LVC_SUB_Z);
    const LvcSubstream *y0 = lvc_container_find(&ct, 0, 0, LVC_SUB_Y);
    const LvcSubstream *y1 = lvc_container_find(&ct, 0, 1, LVC_SUB_Y);
    ck_assert(z && y0 && y1);
    ck_assert_uint_eq(z->size, 2);
    ck_assert_mem_eq(z->data, sub_data, 2);
    ck_assert_uint_eq(y0->size, 0);
    ck_assert_uint_eq(y1->size, 5);
    ck_assert_mem_eq(y1->data, sub_data + 2, 5);
    /* write(parse(x)) == x */
    uint8_t *again;
    size_t n;
    ck_assert_int_eq(lvc_container_write(&ct, &again, &n), 0);
    ck_assert_uint_eq(n, c.n);
    ck_assert_mem_eq(again, c.buf, n);
    free(again);
    lvc_container_free(&ct);
    /* The substream limit counts tile-box entries. */
    LvcContainerLimits lim = { .max_boxes = 2 };
    ck_assert_int_eq(lvc_container_parse(c.buf, c.n, &lim, &ct), LVC_ERR_LIMIT);
    lim.max_boxes = 3;
    ck_assert_int_eq(lvc_container_parse(c.buf, c.n, &lim, &ct), 0);
    lvc_container_free(&ct);

    /* Malformed tables: each is LVC_ERR_CORRUPT. */
    static const struct { const char *payload; size_t n; } bad[] = {
        { "\x00\x00", 2 },                         /* count 0 */
        { "\x00\x02\x00\x01", 4 },                 /* count 2, one tag only */
        { "\x00\x01\x00", 3 },                     /* tag cut */
        { "\x00\x02\x00\x00\x05\x00\x01\xaa", 8 }, /* sizes past the payload */
        { "\x00\x02\x01\x01\x00\x00\x01", 7 },     /* entries out of order */
        { "\x00\x02\x00\x01\x00\x00\x01", 7 },     /* a repeated (pass, what) */
        { "\x00\x01\x00\x04", 4 },                 /* reserved what */
        { "\x01\x01\x00\x01", 4 },                 /* tile 1 of 1 */
        { "\x80\x00\x01\x00\x01", 5 },             /* non-minimal tile varint */
        { "\x00\x81\x00\x00\x01", 5 },             /* non-minimal count varint */
        { "\x00\x02\x00\x00\x80\x00\x00\x01", 8 }, /* non-minimal size varint */
        { "\x00", 1 },                             /* no count */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Craft b;
        craft_header(&b, LVC_CONTAINER_VERSION, 1);
        craft_ihdr(&b, &h, 1);
        uint8_t pl[16];
        memcpy(pl, bad[i].payload, bad[i].n);
        craft_box(&b, "tile", 1, pl, bad[i].n);
        ck_assert_msg(parse(&b) == LVC_ERR_CORRUPT, "case %zu: %d", i, parse(&b));
    }

    /* A tile box holds all of its tile: a second box of that tile, an
     * sstr before or after it, is CORRUPT even with increasing keys (and
     * with decreasing ones). sstr boxes alone may still split a tile. */
    const uint8_t tagy[1][2] = { { 1, LVC_SUB_Y } }, tagz[1][2] = { { 0, LVC_SUB_Z } };
    const size_t sz1[1] = { 1 };
    Craft d;
    craft_header(&d, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&d, &h, 2);
    craft_tile(&d, 0, 1, tagz, sz1, sub_data);
    craft_tile(&d, 0, 1, tagy, sz1, sub_data);
    ck_assert_int_eq(parse(&d), LVC_ERR_CORRUPT);
    craft_header(&d, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&d, &h, 2);
    craft_tile(&d, 0, 1, tagy, sz1, sub_data);
    craft_tile(&d, 0, 1, tagz, sz1, sub_data);
    ck_assert_int_eq(parse(&d), LVC_ERR_CORRUPT);
    craft_header(&d, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&d, &h, 2);
    craft_sstr(&d, 0, 0, LVC_SUB_Z, sub_data, 1);
    craft_tile(&d, 0, 1, tagy, sz1, sub_data);
    ck_assert_int_eq(parse(&d), LVC_ERR_CORRUPT);
    craft_header(&d, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&d, &h, 2);
    craft_tile(&d, 0, 1, tagz, sz1, sub_data);
    craft_sstr(&d, 0, 1, LVC_SUB_Y, sub_data, 1);
    ck_assert_int_eq(parse(&d), LVC_ERR_CORRUPT);
    craft_header(&d, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&d, &h, 2);
    craft_sstr(&d, 0, 0, LVC_SUB_Z, sub_data, 1);
    craft_sstr(&d, 0, 1, LVC_SUB_Y, sub_data, 1);
    ck_assert_int_eq(parse(&d), 0);
    /* Tiles in tile boxes and in sstr boxes may alternate. */
    LvcImageHeader h2;
    fill_header(&h2);   /* 3 x 2 tiles */
    craft_header(&d, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&d, &h2, 6);
    for (uint32_t t = 0; t < 6; t++) {
        if (t & 1)
            craft_sstr(&d, t, 0, LVC_SUB_Y, sub_data, 2);
        else
            craft_tile(&d, t, 1, tagy, sz1, sub_data);
    }
    ck_assert_int_eq(parse(&d), 0);
    /* The limit is checked after the table: a malformed box is CORRUPT
     * whatever the limit, a well-formed one over it LIMIT. */
    LvcContainerLimits one = { .max_boxes = 1 };
    Craft m;
    craft_header(&m, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&m, &h, 1);
    craft_box(&m, "tile", 1, (const uint8_t *)"\x00\x02\x01\x01\x00\x00\x01", 7);
    LvcContainer q;
    ck_assert_int_eq(lvc_container_parse(m.buf, m.n, &one, &q), LVC_ERR_CORRUPT);
    craft_header(&m, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&m, &h, 1);
    craft_tile(&m, 0, 3, tags3, sz3, sub_data);
    ck_assert_int_eq(lvc_container_parse(m.buf, m.n, &one, &q), LVC_ERR_LIMIT);
    /* The info calls count the substreams without storing them. */
    LvcStreamInfo info;
    ck_assert_int_eq(lvc_stream_info(m.buf, m.n, &info), 0);
    ck_assert_int_eq(info.num_boxes, 2);
    /* An optional box of that name is invalid like any known box. */
    craft_header(&d, LVC_CONTAINER_VERSION, 1);
    craft_ihdr(&d, &h, 1);
    craft_box(&d, "tile", 0, (const uint8_t *)"\x00\x01\x00\x01", 4);
    ck_assert_int_eq(parse(&d), LVC_ERR_CORRUPT);
}
END_TEST

/* The example of doc/bitstream.md section 7, byte for byte. */
START_TEST(test_doc_example)
{
    static const uint8_t want[62] = {
        0x89, 0x4c, 0x56, 0x43, 0x03, 0x01, 0x69, 0x68, 0x64, 0x72, 0x01, 0x15, 0x08, 0x08, 0x03, 0x08,
        0x00, 0x00, 0xcc, 0x3a, 0x00, 0x40, 0x40, 0x01, 0x64, 0xb9, 0x1c, 0xa7, 0xfe, 0x64, 0x4b, 0x14,
        0x01, 0x90, 0xa8, 0x29, 0xf6, 0x74, 0x69, 0x6c, 0x65, 0x01, 0x0f, 0x00, 0x02, 0x00, 0x00, 0x03,
        0x00, 0x01, 0x12, 0x34, 0x56, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xb8, 0x23, 0xbf, 0xf1,
    };
    LvcContainer c = { 0 };
    LvcImageHeader *h = &c.hdr;
    h->width = 8;
    h->height = 8;
    h->channels = 3;
    h->bit_depth = 8;
    h->color = LVC_COLOR_RGB;
    h->alpha_mode = LVC_ALPHA_NONE;
    h->quality = 7500;
    h->tile_w = 64;
    h->tile_h = 64;
    h->model_id = 1;
    uint8_t wh[LVC_SHA256_SIZE];
    lvc_sha256("example weights", 15, wh);
    memcpy(h->weights_id, wh, LVC_WEIGHTS_ID_SIZE);
    static const uint8_t z[3] = { 0x12, 0x34, 0x56 }, y[5] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4 };
    LvcSubstream s[2] = { { 0, 0, LVC_SUB_Z, z, 3 }, { 0, 0, LVC_SUB_Y, y, 5 } };
    c.subs = s;
    c.num_subs = 2;
    uint8_t *out;
    size_t n;
    ck_assert_int_eq(lvc_container_write(&c, &out, &n), 0);
    ck_assert_uint_eq(n, sizeof(want));
    ck_assert_mem_eq(out, want, n);
    free(out);
    LvcStreamInfo info;
    ck_assert_int_eq(lvc_stream_info(want, sizeof(want), &info), 0);
    ck_assert_int_eq(info.num_boxes, 2);
    ck_assert_float_eq(info.quality, 75.0f);
}
END_TEST

TCase *lvc_test_container_tcase(void)
{
    TCase *tc = tcase_create("container");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_writer_matches_spec);
    tcase_add_test(tc, test_many_tiles_varint);
    tcase_add_test(tc, test_alpha_and_optional_boxes);
    tcase_add_test(tc, test_writer_rejects);
    tcase_add_test(tc, test_err_magic_version_kind);
    tcase_add_test(tc, test_err_truncated_length_crc);
    tcase_add_test(tc, test_err_dimensions);
    tcase_add_test(tc, test_err_corrupt_structure);
    tcase_add_test(tc, test_check_model);
    tcase_add_test(tc, test_truncation_every_offset);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_stream_info_boxes);
    tcase_add_test(tc, test_stream_substreams);
    tcase_add_test(tc, test_tile_box);
    tcase_add_test(tc, test_doc_example);
    tcase_add_test(tc, test_crc_fixed_mutations);
    return tc;
}
