/*
 * Splat coding tests: round trips within the quantization steps, the order
 * returned by the encoder, rate and error against quality, SH degree
 * reduction, empty and degenerate scenes, determinism, the stream info,
 * and damaged streams (truncation at every offset, payload mutations with
 * the CRC fixed up, limits, wrong kind).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/splat.h"
#include "codec/container.h"
#include "common/crc32.h"
#include "common/log.h"
#include "common/sha256.h"
#include "tests/splat/test_splat.h"

/* test_golden: SHA-256 of the stream and of the decoded floats. */
#define GOLDEN_STREAM "f7937a31959ca133c8c8b44ae441d0ec11d829ea8104bcaee3b0c958c9fb3d92"
#define GOLDEN_FLOATS "3aa660fa0f0726b66f6821339588e0f959c2a5576f2979ac4e77d0ba58278cf7"

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* Uniform in [lo, hi). */
static float uni(float lo, float hi)
{
    return lo + (hi - lo) * (float)(rng() & 0xffff) / 65536.0f;
}

/* A scene shaped like a trained 3DGS one: splats clustered on a few blobs,
 * log scales around -4, SH rest small and correlated with the DC. */
static void make_scene(LvcSplats *s, uint32_t n, int degree, uint32_t seed)
{
    rng_state = seed;
    ck_assert_int_eq(lvc_splats_alloc(s, n, degree), 0);
    const int K = LVC_SPLAT_SH_COEFFS(degree);
    for (uint32_t i = 0; i < n; i++) {
        const float cx = (float)(i % 7) - 3.0f, cy = (float)(i % 3) * 0.5f;
        s->position[i * 3 + 0] = cx + uni(-0.4f, 0.4f);
        s->position[i * 3 + 1] = cy + uni(-0.4f, 0.4f);
        s->position[i * 3 + 2] = uni(-2.0f, 2.0f);
        for (int a = 0; a < 3; a++)
            s->scale[i * 3 + a] = uni(-6.0f, -2.0f);
        for (int a = 0; a < 4; a++)
            s->rotation[i * 4 + a] = uni(-1.0f, 1.0f);
        s->opacity[i] = uni(-5.0f, 6.0f);
        for (int c = 0; c < 3; c++) {
            float *sh = &s->sh[((size_t)i * 3 + c) * K];
            sh[0] = uni(-1.5f, 1.5f);
            for (int k = 1; k < K; k++)
                sh[k] = uni(-0.15f, 0.15f);
        }
    }
}

static uint8_t *encode_cb(const LvcSplats *s, float q, int degree, int codebook, size_t *size,
                          uint32_t *order)
{
    LvcSplatSettings set;
    lvc_splat_default_settings(&set);
    set.quality = q;
    set.sh_degree = degree;
    set.sh_codebook = codebook;
    uint8_t *buf = NULL;
    ck_assert_int_eq(lvc_encode_splats(&set, s, &buf, size, order), 0);
    ck_assert_ptr_nonnull(buf);
    return buf;
}

/* Scalar SH unless a codebook is asked for. */
static uint8_t *encode(const LvcSplats *s, float q, int degree, size_t *size, uint32_t *order)
{
    return encode_cb(s, q, degree, -1, size, order);
}

/* Largest error of each attribute group, matched through order[]. */
typedef struct Errors {
    double pos, scale, rot, opacity, dc, rest;
} Errors;

static Errors compare(const LvcSplats *a, const LvcSplats *b, const uint32_t *order)
{
    Errors e = { 0 };
    const int Ka = LVC_SPLAT_SH_COEFFS(a->sh_degree), Kb = LVC_SPLAT_SH_COEFFS(b->sh_degree);
    for (uint32_t j = 0; j < b->count; j++) {
        const uint32_t i = order[j];
        for (int x = 0; x < 3; x++) {
            e.pos = fmax(e.pos, fabs(a->position[i * 3 + x] - b->position[j * 3 + x]));
            e.scale = fmax(e.scale, fabs(a->scale[i * 3 + x] - b->scale[j * 3 + x]));
        }
        double n = 0, dot = 0;
        for (int x = 0; x < 4; x++)
            n += (double)a->rotation[i * 4 + x] * a->rotation[i * 4 + x];
        for (int x = 0; x < 4; x++)
            dot += a->rotation[i * 4 + x] / sqrt(n) * b->rotation[j * 4 + x];
        e.rot = fmax(e.rot, 1 - fabs(dot));
        e.opacity = fmax(e.opacity, fabs(a->opacity[i] - b->opacity[j]));
        for (int c = 0; c < 3; c++) {
            const float *sa = &a->sh[((size_t)i * 3 + c) * Ka];
            const float *sb = &b->sh[((size_t)j * 3 + c) * Kb];
            e.dc = fmax(e.dc, fabs(sa[0] - sb[0]));
            for (int k = 1; k < Kb; k++)
                e.rest = fmax(e.rest, fabs(sa[k] - sb[k]));
        }
    }
    return e;
}

START_TEST(test_round_trip)
{
    LvcSplats s, d;
    make_scene(&s, 3000, 3, 1);
    size_t size;
    uint32_t *order = malloc(s.count * sizeof(*order));
    uint8_t *buf = encode(&s, 75, -1, &size, order);
    ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
    ck_assert_uint_eq(d.count, s.count);
    ck_assert_int_eq(d.sh_degree, 3);

    /* order is a permutation. */
    uint8_t *seen = calloc(s.count, 1);
    for (uint32_t j = 0; j < s.count; j++) {
        ck_assert_uint_lt(order[j], s.count);
        ck_assert(!seen[order[j]]);
        seen[order[j]] = 1;
    }
    free(seen);

    LvcSplatStreamInfo info;
    ck_assert_int_eq(lvc_splat_stream_info(buf, size, &info), 0);
    ck_assert_uint_eq(info.count, s.count);
    ck_assert_int_eq(info.sh_degree, 3);
    ck_assert(fabs(info.quality - 75) < 1e-3);
    uint64_t sum = 0;
    for (int a = 0; a < 6; a++) {
        ck_assert_uint_gt(info.attribute_bytes[a], 0);
        sum += info.attribute_bytes[a];
    }
    ck_assert_uint_lt(sum, size);

    /* Every value within half a step (positions: half a cell per axis,
     * plus the clamp of the top cell). */
    const Errors e = compare(&s, &d, order);
    ck_assert(e.pos <= info.position_step * 0.5 + 1e-6);
    ck_assert(e.scale <= ldexp(0.5, -info.scale_bits) + 1e-6);
    ck_assert(e.opacity <= ldexp(0.5, -info.opacity_bits) + 1e-6);
    ck_assert(e.dc <= ldexp(0.5, -info.color_bits) + 1e-6);
    ck_assert(e.rest <= ldexp(0.5, -info.sh_bits) + 1e-6);
    /* Three components off by half a step each: |dq|^2 <= 3 (2^-r/2)^2
     * plus the recomputed largest one. */
    ck_assert(e.rot < ldexp(1.0, -2 * info.rotation_bits) * 4);
    /* Far smaller than the floats. */
    ck_assert_uint_lt(size, s.count * 59 * 4 / 3);

    /* Deterministic: same bytes again, and the decoder gives the same
     * floats. */
    size_t size2;
    uint8_t *buf2 = encode(&s, 75, -1, &size2, NULL);
    ck_assert_uint_eq(size, size2);
    ck_assert_mem_eq(buf, buf2, size);
    LvcSplats d2;
    ck_assert_int_eq(lvc_decode_splats(buf2, size2, &d2, 0), 0);
    ck_assert_mem_eq(d.position, d2.position, d.count * 3 * sizeof(float));
    ck_assert_mem_eq(d.rotation, d2.rotation, d.count * 4 * sizeof(float));
    ck_assert_mem_eq(d.sh, d2.sh, d.count * 48 * sizeof(float));
    lvc_splat_buffer_free(buf2);
    lvc_splats_free(&d2);

    lvc_splat_buffer_free(buf);
    lvc_splats_free(&d);
    lvc_splats_free(&s);
    free(order);
}
END_TEST

START_TEST(test_quality)
{
    LvcSplats s;
    make_scene(&s, 2000, 3, 2);
    uint32_t *order = malloc(s.count * sizeof(*order));
    size_t last = 0;
    double last_err = 1e9;
    for (int q = 0; q <= 100; q += 25) {
        size_t size;
        uint8_t *buf = encode(&s, (float)q, -1, &size, order);
        LvcSplats d;
        ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
        const Errors e = compare(&s, &d, order);
        const double err = e.pos + e.scale + e.opacity + e.dc + e.rest;
        ck_assert_uint_gt(size, last);
        ck_assert(err < last_err);
        last = size;
        last_err = err;
        lvc_splats_free(&d);
        lvc_splat_buffer_free(buf);
    }
    lvc_splats_free(&s);
    free(order);
}
END_TEST

START_TEST(test_sh_degree)
{
    LvcSplats s, d;
    make_scene(&s, 500, 3, 3);
    size_t full, size;
    uint8_t *buf = encode(&s, 75, -1, &full, NULL);
    lvc_splat_buffer_free(buf);
    uint32_t *order = malloc(s.count * sizeof(*order));
    for (int deg = 0; deg <= 2; deg++) {
        buf = encode(&s, 75, deg, &size, order);
        ck_assert_uint_lt(size, full);
        ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
        ck_assert_int_eq(d.sh_degree, deg);
        /* The kept coefficients are the same ones. */
        const Errors e = compare(&s, &d, order);
        ck_assert(e.rest <= 1.0 / 64);
        ck_assert(e.dc <= 1.0 / 64);
        lvc_splats_free(&d);
        lvc_splat_buffer_free(buf);
    }
    /* Asking for more than the input has keeps the input's. */
    LvcSplats s0;
    make_scene(&s0, 100, 0, 4);
    buf = encode(&s0, 75, 3, &size, NULL);
    ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
    ck_assert_int_eq(d.sh_degree, 0);
    lvc_splats_free(&d);
    lvc_splat_buffer_free(buf);
    lvc_splats_free(&s0);
    lvc_splats_free(&s);
    free(order);
}
END_TEST

START_TEST(test_codebook)
{
    LvcSplats s, d;
    make_scene(&s, 4000, 3, 8);
    /* Give the SH some structure a codebook can find: 40 prototypes plus
     * a little noise. */
    const int K = 16;
    for (uint32_t i = 0; i < s.count; i++) {
        const uint32_t p = (i * 2654435761u >> 8) % 40;
        for (int c = 0; c < 3; c++)
            for (int k = 1; k < K; k++)
                s.sh[((size_t)i * 3 + c) * K + k] =
                    0.2f * sinf((float)(p * 7 + c * 3 + k)) + uni(-0.004f, 0.004f);
    }
    uint32_t *order = malloc(s.count * sizeof(*order));
    size_t scalar_size, size;
    uint8_t *buf = encode_cb(&s, 60, -1, -1, &scalar_size, NULL);
    lvc_splat_buffer_free(buf);
    for (int cb = 16; cb <= 64; cb *= 4) {
        buf = encode_cb(&s, 60, -1, cb, &size, order);
        ck_assert_uint_lt(size, scalar_size);
        ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
        /* At most cb distinct SH vectors, each close to its original when
         * the codebook can hold every prototype. */
        int distinct = 0;
        float (*seen)[45] = malloc(sizeof(float[45]) * 64);
        double se = 0;
        for (uint32_t j = 0; j < d.count; j++) {
            float v[45];
            for (int c = 0; c < 3; c++)
                for (int k = 1; k < K; k++) {
                    v[c * 15 + k - 1] = d.sh[((size_t)j * 3 + c) * K + k];
                    const double e = v[c * 15 + k - 1] - s.sh[((size_t)order[j] * 3 + c) * K + k];
                    se += e * e;
                }
            int found = 0;
            for (int t = 0; t < distinct && !found; t++)
                found = !memcmp(seen[t], v, sizeof(v));
            if (!found) {
                ck_assert_int_lt(distinct, cb);
                memcpy(seen[distinct++], v, sizeof(v));
            }
        }
        const double rmse = sqrt(se / (d.count * 45.0));
        if (cb >= 40)
            ck_assert(rmse < 0.01);
        else
            ck_assert(rmse < 0.2);
        free(seen);
        lvc_splats_free(&d);
        lvc_splat_buffer_free(buf);
    }
    /* Deterministic whatever the thread count. */
    LvcSplatSettings set;
    lvc_splat_default_settings(&set);
    set.sh_codebook = 64;
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1, n2;
    set.threads = 1;
    ck_assert_int_eq(lvc_encode_splats(&set, &s, &b1, &n1, NULL), 0);
    set.threads = 3;
    ck_assert_int_eq(lvc_encode_splats(&set, &s, &b2, &n2, NULL), 0);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(b1, b2, n1);
    lvc_splat_buffer_free(b1);
    lvc_splat_buffer_free(b2);
    lvc_splats_free(&s);
    free(order);
}
END_TEST

START_TEST(test_target_size)
{
    LvcSplats s;
    make_scene(&s, 1500, 1, 9);
    size_t lo_size, hi_size;
    uint8_t *lo = encode(&s, 0, -1, &lo_size, NULL);
    uint8_t *hi = encode(&s, 100, -1, &hi_size, NULL);
    LvcSplatSettings set;
    lvc_splat_default_settings(&set);
    set.sh_codebook = -1;
    const size_t targets[3] = { (lo_size + hi_size) / 2, lo_size / 2, hi_size + 1 };
    for (int k = 0; k < 3; k++) {
        set.target_bytes = targets[k];
        uint8_t *buf = NULL;
        size_t size = 0;
        uint32_t order[1500];
        ck_assert_int_eq(lvc_encode_splats(&set, &s, &buf, &size, k == 0 ? order : NULL), 0);
        LvcSplatStreamInfo info;
        ck_assert_int_eq(lvc_splat_stream_info(buf, size, &info), 0);
        if (k == 1) {
            /* Unreachable: the smallest stream. */
            ck_assert_uint_eq(size, lo_size);
            ck_assert_mem_eq(buf, lo, size);
        } else {
            ck_assert_uint_le(size, targets[k]);
            if (k == 2) {
                ck_assert_mem_eq(buf, hi, size);   /* everything fits: q 100 */
            } else {
                /* A little more quality no longer fits. */
                size_t more;
                uint8_t *b2 = encode(&s, info.quality + 0.5f, -1, &more, NULL);
                ck_assert_uint_gt(more, targets[k]);
                lvc_splat_buffer_free(b2);
            }
        }
        lvc_splat_buffer_free(buf);
    }
    lvc_splat_buffer_free(lo);
    lvc_splat_buffer_free(hi);
    lvc_splats_free(&s);
}
END_TEST

START_TEST(test_degenerate)
{
    /* Empty. */
    LvcSplats s, d;
    memset(&s, 0, sizeof(s));
    size_t size;
    uint8_t *buf = encode(&s, 50, -1, &size, NULL);
    ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
    ck_assert_uint_eq(d.count, 0);
    lvc_splats_free(&d);
    lvc_splat_buffer_free(buf);

    /* All at one point, with zero rotations and huge values. */
    make_scene(&s, 64, 1, 5);
    for (uint32_t i = 0; i < s.count; i++) {
        for (int a = 0; a < 3; a++)
            s.position[i * 3 + a] = 12.5f;
        for (int a = 0; a < 4; a++)
            s.rotation[i * 4 + a] = 0;
        s.opacity[i] = i & 1 ? 1e30f : -1e30f;
    }
    uint32_t order[64];
    buf = encode(&s, 100, -1, &size, order);
    ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
    ck_assert_uint_eq(d.count, 64);
    for (uint32_t j = 0; j < d.count; j++) {
        for (int a = 0; a < 3; a++)
            ck_assert_float_eq(d.position[j * 3 + a], 12.5f);
        ck_assert_float_eq(d.rotation[j * 4], 1.0f);  /* identity */
        ck_assert(isfinite(d.opacity[j]));
        ck_assert((d.opacity[j] > 0) == (order[j] & 1));
    }
    lvc_splats_free(&d);
    lvc_splat_buffer_free(buf);

    /* A scene far from the origin keeps its placement. */
    for (uint32_t i = 0; i < s.count; i++)
        s.position[i * 3] = 1e6f + (float)i;
    buf = encode(&s, 75, -1, &size, order);
    ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
    for (uint32_t j = 0; j < d.count; j++)
        ck_assert(fabs(d.position[j * 3] - (1e6 + order[j])) < 0.1);
    lvc_splats_free(&d);
    lvc_splat_buffer_free(buf);
    lvc_splats_free(&s);
}
END_TEST

START_TEST(test_bad_arguments)
{
    LvcSplats s;
    make_scene(&s, 10, 0, 6);
    LvcSplatSettings set;
    lvc_splat_default_settings(&set);
    uint8_t *buf = (uint8_t *)&set;
    size_t size = 1;
    lvc_log_set_level(LVC_LOG_QUIET);
    set.quality = 101;
    ck_assert_int_eq(lvc_encode_splats(&set, &s, &buf, &size, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(size, 0);
    lvc_splat_default_settings(&set);
    set.position_bits = 22;
    ck_assert_int_eq(lvc_encode_splats(&set, &s, &buf, &size, NULL), LVC_ERR_INVALID_ARG);
    lvc_splat_default_settings(&set);
    set.reserved[0] = 1;
    ck_assert_int_eq(lvc_encode_splats(&set, &s, &buf, &size, NULL), LVC_ERR_INVALID_ARG);
    lvc_splat_default_settings(&set);
    s.scale[7] = NAN;
    ck_assert_int_eq(lvc_encode_splats(&set, &s, &buf, &size, NULL), LVC_ERR_INVALID_ARG);
    s.scale[7] = 0;
    s.position[4] = INFINITY;
    ck_assert_int_eq(lvc_encode_splats(&set, &s, &buf, &size, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_encode_splats(&set, NULL, &buf, &size, NULL), LVC_ERR_INVALID_ARG);
    LvcSplats d;
    ck_assert_int_eq(lvc_decode_splats(NULL, 0, &d, 0), LVC_ERR_TRUNCATED);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_ptr_null(d.position);
    lvc_log_set_level(LVC_LOG_WARNING);
    lvc_splats_free(&s);
}
END_TEST

/* Rewrites the CRC of the box starting at off. */
static void fix_crc(uint8_t *buf, size_t off)
{
    size_t len = 0, nv = 0;
    int shift = 0;
    do {
        len |= (size_t)(buf[off + 5 + nv] & 0x7f) << shift;
        shift += 7;
    } while (buf[off + 5 + nv++] & 0x80);
    const size_t n = 5 + nv + len;
    const uint32_t crc = lvc_crc32(0, buf + off, n);
    for (int k = 0; k < 4; k++)
        buf[off + n + k] = (uint8_t)(crc >> (8 * k));
}

START_TEST(test_damaged)
{
    LvcSplats s, d;
    make_scene(&s, 200, 1, 7);
    size_t size;
    uint8_t *buf = encode(&s, 60, -1, &size, NULL);
    lvc_log_set_level(LVC_LOG_QUIET);

    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < size; n++) {
        const int err = lvc_decode_splats(buf, n, &d, 0);
        ck_assert_int_lt(err, 0);
        ck_assert_uint_eq(d.count, 0);
        ck_assert_ptr_null(d.position);
    }
    /* Trailing junk is not a box. */
    uint8_t *big = malloc(size + 3);
    memcpy(big, buf, size);
    memset(big + size, 0, 3);
    ck_assert_int_eq(lvc_decode_splats(big, size + 3, &d, 0), LVC_ERR_CORRUPT);
    free(big);

    /* Limits and kind. */
    ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 199), LVC_ERR_LIMIT);
    ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 200), 0);
    lvc_splats_free(&d);
    LvcStreamInfo info;
    ck_assert_int_eq(lvc_stream_info(buf, size, &info), LVC_ERR_KIND);
    uint8_t *copy = malloc(size);
    memcpy(copy, buf, size);
    copy[5] = 1;
    ck_assert_int_eq(lvc_decode_splats(copy, size, &d, 0), LVC_ERR_KIND);
    copy[5] = 3;
    copy[4] = 2;
    ck_assert_int_eq(lvc_decode_splats(copy, size, &d, 0), LVC_ERR_VERSION);

    /* A header has one encoding: a padded count varint is refused. */
    {
        LvcSplats tiny;
        make_scene(&tiny, 20, 0, 11);
        size_t tsize;
        uint8_t *t = encode(&tiny, 50, -1, &tsize, NULL);
        ck_assert(!memcmp(t + 6, "shdr", 4) && t[11] < 0x7f && t[12] == 20);
        uint8_t *pad = malloc(tsize + 1);
        memcpy(pad, t, 13);
        pad[11] = (uint8_t)(t[11] + 1);
        pad[12] = 20 | 0x80;
        pad[13] = 0;
        memcpy(pad + 14, t + 13, tsize - 13);
        fix_crc(pad, 6);
        ck_assert_int_eq(lvc_decode_splats(pad, tsize + 1, &d, 0), LVC_ERR_CORRUPT);
        /* The same stream with the CRC fixed and no padding decodes. */
        ck_assert_int_eq(lvc_decode_splats(t, tsize, &d, 0), 0);
        lvc_splats_free(&d);
        free(pad);
        lvc_splat_buffer_free(t);
        lvc_splats_free(&tiny);
    }

    /* Payload damage behind a valid CRC: every byte of every box, a few
     * values each. The decoder must fail or give a well-formed scene. */
    size_t offs[8];
    int nbox = 0;
    for (size_t p = LVC_CONTAINER_HEADER_SIZE; p < size && nbox < 8;) {
        offs[nbox++] = p;
        LvcBoxDesc b;
        ck_assert_int_eq(lvc_container_next_box(buf, size, &p, &b), 0);
    }
    ck_assert_int_eq(nbox, 7);
    int failed = 0, decoded = 0;
    for (int bx = 0; bx < nbox; bx++) {
        size_t p = offs[bx];
        LvcBoxDesc b;
        ck_assert_int_eq(lvc_container_next_box(buf, size, &p, &b), 0);
        for (size_t i = b.payload_offset; i < b.payload_offset + b.payload_size; i++) {
            static const uint8_t xors[] = { 0x01, 0x80, 0xff, 0x10 };
            for (size_t x = 0; x < sizeof(xors); x++) {
                memcpy(copy, buf, size);
                copy[i] ^= xors[x];
                fix_crc(copy, offs[bx]);
                const int err = lvc_decode_splats(copy, size, &d, 0);
                if (err) {
                    ck_assert_ptr_null(d.position);
                    failed++;
                    continue;
                }
                decoded++;
                for (uint32_t j = 0; j < d.count * 3; j++)
                    ck_assert(isfinite(d.position[j]) && isfinite(d.scale[j]));
                lvc_splats_free(&d);
            }
        }
    }
    /* Raw bits and many symbols have no redundancy (the CRC is what
     * catches damage): some mutations decode, the others must fail. */
    ck_assert_int_gt(failed, 0);
    ck_assert_int_gt(decoded, 0);
    free(copy);
    lvc_log_set_level(LVC_LOG_WARNING);
    lvc_splat_buffer_free(buf);
    lvc_splats_free(&s);
}
END_TEST

/* Hex of a SHA-256. */
static void sha_hex(const void *p, size_t n, char out[65])
{
    uint8_t h[32];
    lvc_sha256(p, n, h);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The format and the decoder's arithmetic pinned down: a scene of exact
 * binary fractions (no libm involved in making it) coded with scalar SH
 * (the codebook search may differ between BLAS and plain builds; its
 * decoding does not) must give these bytes and these floats in every build.
 * A deliberate format change updates the digests here and
 * doc/bitstream.md. */
START_TEST(test_golden)
{
    LvcSplats s, d;
    ck_assert_int_eq(lvc_splats_alloc(&s, 500, 2), 0);
    uint32_t x = 12345;
    const size_t nf = (size_t)500 * (3 + 3 + 4 + 1 + 27);
    for (size_t j = 0; j < nf; j++) {
        x = x * 1664525u + 1013904223u;
        const float v = (float)((int32_t)(x >> 12) - (1 << 19)) / 65536.0f;  /* [-8, 8) */
        const size_t i = j / 38, a = j % 38;
        if (a < 3)
            s.position[i * 3 + a] = v;
        else if (a < 6)
            s.scale[i * 3 + a - 3] = v / 2 - 4;
        else if (a < 10)
            s.rotation[i * 4 + a - 6] = v;
        else if (a < 11)
            s.opacity[i] = v;
        else
            s.sh[i * 27 + a - 11] = (a - 11) % 9 ? v / 64 : v / 4;
    }
    size_t size;
    uint8_t *buf = encode(&s, 50, -1, &size, NULL);
    char hex[65];
    sha_hex(buf, size, hex);
    ck_assert_str_eq(hex, GOLDEN_STREAM);
    ck_assert_int_eq(lvc_decode_splats(buf, size, &d, 0), 0);
    LvcSha256 h;
    lvc_sha256_init(&h);
    lvc_sha256_update(&h, d.position, d.count * 3 * sizeof(float));
    lvc_sha256_update(&h, d.scale, d.count * 3 * sizeof(float));
    lvc_sha256_update(&h, d.rotation, d.count * 4 * sizeof(float));
    lvc_sha256_update(&h, d.opacity, d.count * sizeof(float));
    lvc_sha256_update(&h, d.sh, d.count * 27 * sizeof(float));
    uint8_t dg[32];
    lvc_sha256_final(&h, dg);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", dg[i]);
    ck_assert_str_eq(hex, GOLDEN_FLOATS);
    lvc_splats_free(&d);
    lvc_splat_buffer_free(buf);
    lvc_splats_free(&s);
}
END_TEST

TCase *lvc_test_splat_codec_tcase(void)
{
    TCase *tc = tcase_create("splat_codec");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_quality);
    tcase_add_test(tc, test_sh_degree);
    tcase_add_test(tc, test_codebook);
    tcase_add_test(tc, test_target_size);
    tcase_add_test(tc, test_degenerate);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_damaged);
    tcase_add_test(tc, test_golden);
    return tc;
}
