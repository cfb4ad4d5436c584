/*
 * Models and the image pipeline: parity of the C forward pass with PyTorch
 * (fixture from models/train/gen_parity.py), bit-exact integer
 * hyper-synthesis, encoder/decoder agreement, determinism across threads and
 * backends, rate control, and round trips of every image format.
 *
 * Usage: test_models FIXTURE_DIR
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/container.h"
#include "codec/latent.h"
#include "codec/pipeline.h"
#include "common/sha256.h"
#include "models/model.h"
#include "models/modelfile.h"
#include "models/registry.h"
#include "nn/nn.h"

static const char *fixture_dir = ".";

/* ------------------------------------------------------------- helpers */

static void make_image(LvcImage *img, int w, int h, int ch, int depth, unsigned seed)
{
    ck_assert_int_eq(lvc_image_alloc(img, w, h, ch, depth), 0);
    const int maxv = depth == 16 ? 65535 : 255;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < ch; c++) {
                /* smooth gradients plus a checker edge, channel dependent */
                double v = 0.5 + 0.35 * sin((x + 3 * c + seed) / 9.0) * cos((y + c) / 7.0);
                if (((x / 8) + (y / 8)) % 2 == 0)
                    v = 0.85 * v + 0.1;
                if (c == ch - 1 && (ch == 2 || ch == 4))
                    v = ((x * 7 + y * 13 + seed) % 17) / 16.0; /* alpha: noisy, lossless */
                const int s = (int)floor(v * maxv + 0.5);
                if (depth == 16)
                    ((uint16_t *)(img->data + (size_t)y * img->stride))[x * ch + c] = (uint16_t)s;
                else
                    img->data[(size_t)y * img->stride + (size_t)x * ch + c] = (uint8_t)s;
            }
        }
    }
}

static int sample_at(const LvcImage *img, int x, int y, int c)
{
    if (img->bit_depth == 16)
        return ((const uint16_t *)(img->data + (size_t)y * img->stride))[x * img->channels + c];
    return img->data[(size_t)y * img->stride + (size_t)x * img->channels + c];
}

static double psnr_color(const LvcImage *a, const LvcImage *b)
{
    const int colors = a->channels >= 3 ? 3 : 1;
    const double maxv = a->bit_depth == 16 ? 65535.0 : 255.0;
    double se = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            for (int c = 0; c < colors; c++) {
                const double d = sample_at(a, x, y, c) - sample_at(b, x, y, c);
                se += d * d;
            }
    const double mse = se / ((double)a->width * a->height * colors);
    return mse > 0 ? 10.0 * log10(maxv * maxv / mse) : 100.0;
}

static void encode(const LvcImage *img, float q, int threads, LvcBackend be, int tile,
                   uint8_t **buf, size_t *size)
{
    LvcEncoderSettings s;
    lvc_encoder_default_settings(&s);
    s.quality = q;
    s.threads = threads;
    s.backend = be;
    s.tile_size = tile;
    LvcEncoder *enc = NULL;
    ck_assert_int_eq(lvc_encoder_open(&enc, &s), 0);
    ck_assert_int_eq(lvc_encode_image(enc, img, buf, size), 0);
    lvc_encoder_close(&enc);
    ck_assert_ptr_null(enc);
}

static LvcDecoder *open_decoder(int threads, LvcBackend be)
{
    LvcDecoderSettings s;
    lvc_decoder_default_settings(&s);
    s.threads = threads;
    s.backend = be;
    LvcDecoder *dec = NULL;
    ck_assert_int_eq(lvc_decoder_open(&dec, &s), 0);
    return dec;
}

static void decode(const uint8_t *buf, size_t size, int threads, LvcBackend be, LvcImage *out,
                   uint8_t digest[32])
{
    LvcDecoder *dec = open_decoder(threads, be);
    ck_assert_int_eq(lvc_decode_image(dec, buf, size, out), 0);
    ck_assert_int_eq(lvc_decoder_symbols_digest(dec, digest), 0);
    lvc_decoder_close(&dec);
}

/* ------------------------------------------------------------- parity */

static float max_abs_diff(const float *a, const float *b, size_t n, float *maxref)
{
    float m = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        const float d = fabsf(a[i] - b[i]);
        if (!(d <= m))
            m = d;
        if (fabsf(b[i]) > r)
            r = fabsf(b[i]);
    }
    *maxref = r;
    return m;
}

/* Every embedded model must come with its parity fixture
 * (tests/models/fixtures/NAME_parity.lvcm, models/train/gen_parity.py). */
static const char *const parity_models[] = { "factorized", "hyperprior", "meanscale",
                                             "checkerboard", "elic" };

static void parity_on(const char *name, LvcBackend be)
{
    const LvcRegistryEntry *e = lvc_registry_by_name(name);
    if (!e)
        return; /* not embedded in this build: nothing to compare */
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s_parity.lvcm", fixture_dir, name);
    LvcModelFile *fx = NULL;
    ck_assert_msg(lvc_modelfile_open_path(path, &fx) == 0,
                  "cannot open parity fixture %s of the embedded model %s", path, name);
    const char *want = NULL;
    ck_assert_int_eq(lvc_modelfile_meta_str(fx, "weights_sha256", &want), 0);
    char have[65];
    lvc_hex_encode(e->info.weights_hash, 32, have);
    ck_assert_msg(!strcmp(want, have),
                  "%s: parity fixture is stale (weights %s, fixture made for %s): run "
                  "models/train/gen_parity.py", name, have, want);

    LvcNn *nn = NULL;
    ck_assert_int_eq(lvc_nn_open(&nn, be, 2), 0);
    LvcModel *m = NULL;
    ck_assert_int_eq(lvc_model_open(&m, name, 0, nn), 0);

    LvcModelTensor x, y, zhat = { 0 }, params = { 0 }, yhat, xhat;
    ck_assert_int_eq(lvc_modelfile_tensor_f32(fx, "x", &x), 0);
    ck_assert_int_eq(lvc_modelfile_tensor_f32(fx, "y", &y), 0);
    if (m->has_hyper) {
        ck_assert_int_eq(lvc_modelfile_tensor(fx, "zhat", LVC_MT_I32, &zhat), 0);
        ck_assert_int_eq(lvc_modelfile_tensor(fx, "params", LVC_MT_I32, &params), 0);
    }
    ck_assert_int_eq(lvc_modelfile_tensor_f32(fx, "yhat", &yhat), 0);
    ck_assert_int_eq(lvc_modelfile_tensor_f32(fx, "xhat", &xhat), 0);
    const int H = (int)x.shape[1], W = (int)x.shape[2];

    /* g_a */
    LvcTensor tx, ty, tz = { 0 }, tp = { 0 };
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &tx, 3, H, W, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &ty, m->M, H / 16, W / 16, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_write(nn, &tx, x.f32), 0);
    ck_assert_int_eq(lvc_model_analysis(m, nn, NULL, &tx, &ty), 0);
    float *buf = malloc(lvc_tensor_bytes(&ty));
    ck_assert_int_eq(lvc_nn_tensor_read(nn, &ty, buf), 0);
    float ref;
    float d = max_abs_diff(buf, y.f32, lvc_tensor_elems(&ty), &ref);
    ck_assert_msg(d <= 1e-3f * (1.0f + ref), "%s: g_a differs from PyTorch by %g (max %g)", name,
                  d, ref);
    free(buf);

    /* h_s: integer, bit-exact */
    if (m->has_hyper) {
        const int zc = (int)zhat.shape[0], zh = (int)zhat.shape[1], zw = (int)zhat.shape[2];
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &tz, zc, zh, zw, LVC_NN_I16, 0), 0);
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &tp, (int)params.shape[0], 4 * zh, 4 * zw,
                                             LVC_NN_I16, m->out_fa), 0);
        int16_t *z16 = malloc(lvc_tensor_bytes(&tz));
        for (size_t i = 0; i < lvc_tensor_elems(&tz); i++)
            z16[i] = (int16_t)((const int32_t *)zhat.data)[i];
        ck_assert_int_eq(lvc_nn_tensor_write(nn, &tz, z16), 0);
        ck_assert_int_eq(lvc_model_hyper_synthesis(m, nn, &tz, &tp), 0);
        int16_t *p16 = malloc(lvc_tensor_bytes(&tp));
        ck_assert_int_eq(lvc_nn_tensor_read(nn, &tp, p16), 0);
        ck_assert_uint_eq(lvc_tensor_elems(&tp), params.nelems);
        for (size_t i = 0; i < params.nelems; i++)
            ck_assert_msg(p16[i] == ((const int32_t *)params.data)[i],
                          "%s: h_s output %zu: C %d, reference %d", name, i, p16[i],
                          ((const int32_t *)params.data)[i]);
        free(z16);
        free(p16);
    }

    /* g_s */
    LvcTensor tyh, txh;
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &tyh, m->M, H / 16, W / 16, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &txh, 3, H, W, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_write(nn, &tyh, yhat.f32), 0);
    ck_assert_int_eq(lvc_model_synthesis(m, nn, NULL, &tyh, &txh), 0);
    buf = malloc(lvc_tensor_bytes(&txh));
    ck_assert_int_eq(lvc_nn_tensor_read(nn, &txh, buf), 0);
    d = max_abs_diff(buf, xhat.f32, lvc_tensor_elems(&txh), &ref);
    ck_assert_msg(d <= 1e-3f, "%s: g_s differs from PyTorch by %g", name, d);
    free(buf);

    LvcTensor *ts[] = { &tx, &ty, &tz, &tp, &tyh, &txh };
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
        if (ts[i]->data)
            lvc_nn_tensor_free(nn, ts[i]);
    LvcModelTensor *mts[] = { &x, &y, &zhat, &params, &yhat, &xhat };
    for (size_t i = 0; i < sizeof(mts) / sizeof(mts[0]); i++)
        if (mts[i]->data)
            lvc_model_tensor_release(mts[i]);
    lvc_model_close(&m, nn);
    lvc_nn_close(&nn);
    lvc_modelfile_close(&fx);
}

START_TEST(test_parity_cpu) { parity_on(parity_models[_i], LVC_BACKEND_CPU); }
END_TEST

START_TEST(test_parity_ref) { parity_on(parity_models[_i], LVC_BACKEND_REF); }
END_TEST

/* --------------------------------------------------------- round trips */

static const struct {
    int w, h, ch, depth;
} formats[] = {
    { 1, 1, 3, 8 }, { 17, 33, 3, 8 }, { 70, 70, 1, 8 }, { 40, 24, 4, 8 },
    { 33, 20, 2, 16 }, { 64, 64, 3, 16 }, { 130, 7, 3, 8 },
};

START_TEST(test_roundtrip_formats)
{
    const int i = _i;
    LvcImage img, out;
    uint8_t *buf = NULL, dig[32];
    size_t size = 0;
    make_image(&img, formats[i].w, formats[i].h, formats[i].ch, formats[i].depth, (unsigned)i);
    encode(&img, 90.0f, 1, LVC_BACKEND_CPU, 0, &buf, &size);
    ck_assert_uint_gt(size, 0);
    decode(buf, size, 1, LVC_BACKEND_CPU, &out, dig);
    ck_assert_int_eq(out.width, img.width);
    ck_assert_int_eq(out.height, img.height);
    ck_assert_int_eq(out.channels, img.channels);
    ck_assert_int_eq(out.bit_depth, img.bit_depth);
    if (img.width * img.height >= 64 * 64) {
        const double p = psnr_color(&img, &out);
        ck_assert_msg(p > 18.0, "PSNR %.2f dB too low for %dx%d", p, img.width, img.height);
    }
    if (img.channels == 2 || img.channels == 4) /* alpha is lossless */
        for (int y = 0; y < img.height; y++)
            for (int x = 0; x < img.width; x++)
                ck_assert_int_eq(sample_at(&out, x, y, img.channels - 1),
                                 sample_at(&img, x, y, img.channels - 1));
    free(buf);
    lvc_image_free(&img);
    lvc_image_free(&out);
}
END_TEST

/* The stream and the decoded symbols do not depend on the thread count;
 * the symbols do not depend on the backend. */
START_TEST(test_determinism)
{
    LvcImage img, out;
    make_image(&img, 100, 60, 3, 8, 7);
    uint8_t *b1 = NULL, *b2 = NULL, *b3 = NULL;
    size_t s1, s2, s3;
    encode(&img, 60.0f, 1, LVC_BACKEND_CPU, 64, &b1, &s1);
    encode(&img, 60.0f, 2, LVC_BACKEND_CPU, 64, &b2, &s2);
    encode(&img, 60.0f, 3, LVC_BACKEND_CPU, 64, &b3, &s3);
    ck_assert_uint_eq(s1, s2);
    ck_assert_uint_eq(s1, s3);
    ck_assert_mem_eq(b1, b2, s1);
    ck_assert_mem_eq(b1, b3, s1);
    uint8_t d1[32], d2[32], d3[32];
    decode(b1, s1, 1, LVC_BACKEND_CPU, &out, d1);
    lvc_image_free(&out);
    decode(b1, s1, 3, LVC_BACKEND_CPU, &out, d2);
    lvc_image_free(&out);
    decode(b1, s1, 1, LVC_BACKEND_REF, &out, d3);
    lvc_image_free(&out);
    ck_assert_mem_eq(d1, d2, 32);
    ck_assert_mem_eq(d1, d3, 32);
    free(b1);
    free(b2);
    free(b3);
    lvc_image_free(&img);
}
END_TEST

/* Larger quality gives a larger stream and a better reconstruction; a bpp
 * target is met from below. */
START_TEST(test_rate_control)
{
    LvcImage img, out;
    make_image(&img, 128, 96, 3, 8, 3);
    const float qs[3] = { 0.0f, 50.0f, 100.0f };
    size_t sizes[3];
    double psnr[3];
    for (int i = 0; i < 3; i++) {
        uint8_t *b = NULL, d[32];
        encode(&img, qs[i], 2, LVC_BACKEND_CPU, 0, &b, &sizes[i]);
        decode(b, sizes[i], 2, LVC_BACKEND_CPU, &out, d);
        psnr[i] = psnr_color(&img, &out);
        lvc_image_free(&out);
        free(b);
    }
    ck_assert_uint_lt(sizes[0], sizes[1]);
    ck_assert_uint_lt(sizes[1], sizes[2]);
    ck_assert_msg(psnr[0] < psnr[2], "PSNR q0 %.2f >= q100 %.2f", psnr[0], psnr[2]);

    const double target_bpp = (sizes[0] + sizes[2]) * 0.5 * 8.0 / (128.0 * 96.0);
    LvcEncoderSettings s;
    lvc_encoder_default_settings(&s);
    s.target_bpp = target_bpp;
    s.threads = 2;
    LvcEncoder *enc = NULL;
    ck_assert_int_eq(lvc_encoder_open(&enc, &s), 0);
    uint8_t *b = NULL;
    size_t sz = 0;
    ck_assert_int_eq(lvc_encode_image(enc, &img, &b, &sz), 0);
    const float q = lvc_encoder_last_quality(enc);
    ck_assert_msg(sz * 8.0 / (128.0 * 96.0) <= target_bpp + 1e-9, "bpp %.4f above target %.4f",
                  sz * 8.0 / (128.0 * 96.0), target_bpp);
    ck_assert_msg(q > 0.0f && q < 100.0f, "quality %.2f", q);
    free(b);
    lvc_encoder_close(&enc);
    lvc_image_free(&img);
}
END_TEST

START_TEST(test_errors)
{
    LvcEncoderSettings s;
    lvc_encoder_default_settings(&s);
    LvcEncoder *enc = (LvcEncoder *)&s; /* must be reset to NULL on failure */
    s.model = "no-such-model";
    ck_assert_int_eq(lvc_encoder_open(&enc, &s), LVC_ERR_MODEL_UNKNOWN);
    ck_assert_ptr_null(enc);
    lvc_encoder_default_settings(&s);
    s.quality = 101.0f;
    ck_assert_int_eq(lvc_encoder_open(&enc, &s), LVC_ERR_INVALID_ARG);
    lvc_encoder_default_settings(&s);
    s.tile_size = 100;
    ck_assert_int_eq(lvc_encoder_open(&enc, &s), LVC_ERR_INVALID_ARG);
    lvc_encoder_default_settings(&s);
    ck_assert_int_eq(lvc_encoder_open(&enc, &s), 0);
    LvcImage bad = { 0 };
    uint8_t *b = (uint8_t *)&s;
    size_t sz = 1;
    ck_assert_int_eq(lvc_encode_image(enc, &bad, &b, &sz), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(b);
    ck_assert_uint_eq(sz, 0);
    lvc_encoder_close(&enc);

    /* a stream for a model id this build lacks */
    LvcImage img, out;
    make_image(&img, 16, 16, 3, 8, 1);
    uint8_t *buf = NULL;
    size_t size = 0;
    encode(&img, 50.0f, 1, LVC_BACKEND_CPU, 0, &buf, &size);
    LvcDecoderSettings ds;
    lvc_decoder_default_settings(&ds);
    LvcDecoder *dec = NULL;
    ck_assert_int_eq(lvc_decoder_open(&dec, &ds), 0);
    uint8_t dig[32];
    ck_assert_int_eq(lvc_decoder_symbols_digest(dec, dig), LVC_ERR_INVALID_ARG);
    const int r = lvc_decode_image(dec, buf, size - 1, &out);
    ck_assert_msg(r == LVC_ERR_TRUNCATED || r == LVC_ERR_LENGTH, "truncated stream: %d", r);
    ck_assert_ptr_null(out.data);
    lvc_decoder_close(&dec);
    free(buf);
    lvc_image_free(&img);
}
END_TEST

/* Tiles decode in parallel on host backends (one tile per pool thread):
 * every embedded model gives the same pixels and symbols at every thread
 * count, and the same symbols on ref; a stream with damaged tiles gives the error of the
 * first damaged tile whatever the thread count, and no image. */
/* A copy of the stream with the first Y substream of some tiles damaged:
 * mode[k] 'T' halves it (the rANS stream ends early: LVC_ERR_TRUNCATED),
 * 'C' zeroes its rANS state header (LVC_ERR_CORRUPT). */
static uint8_t *damage_tiles(const uint8_t *buf, size_t size, const uint32_t *tiles,
                             const char *mode, int n, size_t *out_size)
{
    LvcContainer ct;
    ck_assert_int_eq(lvc_container_parse(buf, size, NULL, &ct), 0);
    LvcContainer w = ct;
    w.subs = malloc(ct.num_subs * sizeof(*w.subs));
    memcpy(w.subs, ct.subs, ct.num_subs * sizeof(*w.subs));
    w.extra = NULL;
    w.num_extra = 0;
    uint8_t *copies[8] = { 0 };
    ck_assert_int_le(n, 8);
    for (uint32_t i = 0; i < w.num_subs; i++)
        for (int k = 0; k < n; k++) {
            LvcSubstream *sub = &w.subs[i];
            if (sub->tile != tiles[k] || sub->what != LVC_SUB_Y || sub->pass != 0)
                continue;
            if (mode[k] == 'T') {
                sub->size /= 2;
            } else {
                ck_assert_uint_ge(sub->size, 16);
                copies[k] = malloc(sub->size);
                memcpy(copies[k], sub->data, sub->size);
                memset(copies[k], 0, 16);
                sub->data = copies[k];
            }
        }
    uint8_t *out = NULL;
    ck_assert_int_eq(lvc_container_write(&w, &out, out_size), 0);
    for (int k = 0; k < n; k++)
        free(copies[k]);
    free(w.subs);
    lvc_container_free(&ct);
    return out;
}

static int decode_ret(const uint8_t *buf, size_t size, int threads, LvcBackend be)
{
    LvcDecoder *dec = open_decoder(threads, be);
    LvcImage out;
    const int ret = lvc_decode_image(dec, buf, size, &out);
    if (ret < 0)
        ck_assert_ptr_null(out.data);
    lvc_image_free(&out);
    lvc_decoder_close(&dec);
    return ret;
}

START_TEST(test_tile_parallel)
{
    const LvcModelInfo *info = lvc_model_info(_i);
    LvcImage img, ref, out;
    make_image(&img, 200, 136, 3, 8, 11);
    LvcEncoderSettings es;
    lvc_encoder_default_settings(&es);
    es.model = info->name;
    es.quality = 70.0f;
    es.threads = 2;
    es.tile_size = 64; /* 4 x 3 tiles */
    LvcEncoder *enc = NULL;
    uint8_t *buf = NULL;
    size_t size = 0;
    ck_assert_int_eq(lvc_encoder_open(&enc, &es), 0);
    ck_assert_int_eq(lvc_encode_image(enc, &img, &buf, &size), 0);
    lvc_encoder_close(&enc);
    uint8_t d0[32], d[32];
    decode(buf, size, 1, LVC_BACKEND_CPU, &ref, d0);
    const int threads[4] = { 2, 3, 4, 16 };
    for (int k = 0; k < 5; k++) {
        const LvcBackend be = k < 4 ? LVC_BACKEND_CPU : LVC_BACKEND_REF;
        const int th = k < 4 ? threads[k] : 2;
        decode(buf, size, th, be, &out, d);
        ck_assert_msg(!memcmp(d, d0, 32), "%s: symbols differ with %d threads", info->name, th);
        /* the float synthesis is exact across thread counts of a backend;
         * across backends only the symbols are (doc/integer-nn.md) */
        if (be == LVC_BACKEND_CPU)
            ck_assert_msg(!memcmp(out.data, ref.data, (size_t)ref.stride * ref.height),
                          "%s: pixels differ with %d threads", info->name, th);
        lvc_image_free(&out);
    }
    /* damaged tiles: the error is the first damaged tile's at every thread
     * count and on both backends */
    static const struct {
        int n;
        uint32_t tiles[2];
        const char *mode;
        int want;
    } cases[] = {
        { 1, { 9 }, "C", LVC_ERR_CORRUPT },
        { 2, { 4, 9 }, "CT", LVC_ERR_CORRUPT },
        { 2, { 4, 9 }, "TC", LVC_ERR_TRUNCATED },
        { 2, { 0, 11 }, "TC", LVC_ERR_TRUNCATED },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t bsize;
        uint8_t *b = damage_tiles(buf, size, cases[c].tiles, cases[c].mode, cases[c].n, &bsize);
        ck_assert_int_eq(decode_ret(b, bsize, 1, LVC_BACKEND_CPU), cases[c].want);
        for (int k = 0; k < 4; k++)
            ck_assert_msg(decode_ret(b, bsize, threads[k], LVC_BACKEND_CPU) == cases[c].want,
                          "%s: case %zu with %d threads: %s", info->name, c, threads[k],
                          lvc_error_string(decode_ret(b, bsize, threads[k], LVC_BACKEND_CPU)));
        ck_assert_int_eq(decode_ret(b, bsize, 3, LVC_BACKEND_REF), cases[c].want);
        free(b);
    }
    free(buf);
    lvc_image_free(&ref);
    lvc_image_free(&img);
}
END_TEST

/* Every model of the build: round trip, identical symbols across threads
 * and backends, quality ordering. */
START_TEST(test_every_model)
{
    const int n = lvc_model_count();
    ck_assert_int_ge(n, 1);
    for (int i = 0; i < n; i++) {
        const LvcModelInfo *info = lvc_model_info(i);
        LvcImage img, out;
        make_image(&img, 80, 48, 3, 8, 5);
        size_t sizes[2];
        uint8_t dref[32];
        for (int k = 0; k < 2; k++) {
            LvcEncoderSettings s;
            lvc_encoder_default_settings(&s);
            s.model = info->name;
            s.quality = k ? 90.0f : 10.0f;
            s.threads = 2;
            LvcEncoder *enc = NULL;
            uint8_t *buf = NULL;
            ck_assert_int_eq(lvc_encoder_open(&enc, &s), 0);
            ck_assert_int_eq(lvc_encode_image(enc, &img, &buf, &sizes[k]), 0);
            lvc_encoder_close(&enc);
            uint8_t d1[32], d2[32];
            decode(buf, sizes[k], 1, LVC_BACKEND_CPU, &out, d1);
            ck_assert_int_eq(out.width, 80);
            lvc_image_free(&out);
            decode(buf, sizes[k], 2, LVC_BACKEND_REF, &out, d2);
            lvc_image_free(&out);
            ck_assert_msg(!memcmp(d1, d2, 32), "%s: symbols differ between backends", info->name);
            if (k == 0)
                memcpy(dref, d1, 32);
            else
                ck_assert_msg(memcmp(dref, d1, 32), "%s: q10 and q90 gave the same symbols",
                              info->name);
            free(buf);
        }
        ck_assert_msg(sizes[0] < sizes[1], "%s: q10 %zu bytes >= q90 %zu bytes", info->name,
                      sizes[0], sizes[1]);
        lvc_image_free(&img);
    }
}
END_TEST

/* Every architecture's coding path with tiny untrained models
 * (models/train/gen_test_models.py): several tiles, the decoded latents
 * within half a quantization step of the encoder's, identical symbols on the
 * ref and cpu backends. */
static const char *const tiny_archs[] = { "factorized", "hyperprior", "meanscale",
                                          "checkerboard", "elic" };

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* A decoder's model leaves out g_a and h_a (not converted, not prepared)
 * and refuses to run them; an unknown open flag is refused. */
START_TEST(test_decoder_only)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tiny_%s.lvcm", fixture_dir, tiny_archs[_i]);
    size_t size;
    uint8_t *blob = read_all(path, &size);
    LvcNn *nn = NULL;
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_CPU, 1), 0);
    LvcModel *m = NULL;
    ck_assert_int_eq(lvc_model_open_mem(&m, blob, size, 1u << 5, nn), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(lvc_model_open_mem(&m, blob, size, LVC_MODEL_DECODER_ONLY, nn), 0);
    ck_assert_int_eq(m->decoder_only, 1);
    for (int i = 0; i < 4; i++) {
        ck_assert_ptr_null(m->ga_conv[i]);
        ck_assert_ptr_nonnull(m->gs_conv[i]);
    }
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_null(m->ha_conv[i]);
        ck_assert_ptr_null(m->ga_gdn[i]);
    }
    LvcTensor x = { 0 }, y = { 0 }, z = { 0 };
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &x, 3, 64, 64, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &y, m->M, 4, 4, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &z, m->N, 1, 1, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_model_analysis(m, nn, NULL, &x, &y), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_model_hyper_analysis(m, nn, &y, &z), LVC_ERR_INVALID_ARG);
    lvc_nn_tensor_free(nn, &x);
    lvc_nn_tensor_free(nn, &y);
    lvc_nn_tensor_free(nn, &z);
    lvc_model_close(&m, nn);
    lvc_nn_close(&nn);
    free(blob);
}
END_TEST

START_TEST(test_tiny_arch)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tiny_%s.lvcm", fixture_dir, tiny_archs[_i]);
    size_t size;
    uint8_t *blob = read_all(path, &size);
    LvcGeometry g;
    ck_assert_int_eq(lvc_geometry_init(&g, 200, 70, 128, 64), 0); /* 2 x 2 tiles */
    const int ntiles = g.tiles_x * g.tiles_y;
    uint8_t digests[2][32];
    for (int be = 0; be < 2; be++) {
        LvcNn *nn = NULL;
        ck_assert_int_eq(lvc_nn_open(&nn, be ? LVC_BACKEND_REF : LVC_BACKEND_CPU, 2), 0);
        LvcModel *m = NULL;
        ck_assert_int_eq(lvc_model_open_mem(&m, blob, size, 0, nn), 0);
        const size_t n = (size_t)m->M * g.hl * g.wl;
        LvcTensor y = { 0 }, yhat = { 0 };
        y.c = yhat.c = m->M;
        y.h = yhat.h = g.hl;
        y.w = yhat.w = g.wl;
        y.data = malloc(n * sizeof(float));
        yhat.data = calloc(n, sizeof(float));
        unsigned r = 12345;
        for (size_t i = 0; i < n; i++) {
            r = r * 1103515245u + 12345u;
            ((float *)y.data)[i] = ((int)(r >> 16 & 0x7fff) - 16384) / 2048.0f;
        }
        float gain[1024], inv_gain[1024];
        lvc_model_gains(m, 50.0f, gain, inv_gain);
        LvcLatentStreams ls;
        ck_assert_int_eq(lvc_latent_encode(m, nn, &g, &y, 50.0f, NULL, &ls), 0);
        LvcSha256 all;
        lvc_sha256_init(&all);
        for (int t = 0; t < ntiles; t++) {
            LvcTileStreams ts;
            memset(&ts, 0, sizeof(ts));
            ts.z = ls.z[t];
            ts.z_size = ls.z_size[t];
            ts.y = ls.y[t];
            ts.y_size = ls.y_size[t];
            int16_t *zhat = malloc(lvc_latent_z_count(m, &g, t) * sizeof(int16_t) + 2);
            ck_assert_int_eq(lvc_latent_decode_z(m, &g, t, ts.z, ts.z_size, zhat), 0);
            uint8_t d[32];
            ck_assert_int_eq(lvc_latent_decode_tile(m, nn, &g, t, &ts, zhat, inv_gain, &yhat, NULL, d), 0);
            lvc_sha256_update(&all, d, 32);
            free(zhat);
        }
        lvc_sha256_final(&all, digests[be]);
        for (int c = 0; c < m->M; c++)
            for (int i = 0; i < g.hl * g.wl; i++) {
                const size_t k = (size_t)c * g.hl * g.wl + i;
                const float want = ((float *)y.data)[k] * gain[c];
                const float got = ((float *)yhat.data)[k] / inv_gain[c];
                ck_assert_msg(fabsf(got - want) <= 0.5f + 1e-3f * (1.0f + fabsf(want)),
                              "%s: latent %zu decoded %g, encoded %g", tiny_archs[_i], k, got, want);
            }
        lvc_latent_streams_free(&ls);
        free(y.data);
        free(yhat.data);
        lvc_model_close(&m, nn);
        lvc_nn_close(&nn);
    }
    ck_assert_msg(!memcmp(digests[0], digests[1], 32), "%s: symbols differ between cpu and ref",
                  tiny_archs[_i]);
    free(blob);
}
END_TEST

/* A file sharing a trunk (tiny_meanscale_shared.lvcm: tiny_meanscale
 * without g_a, g_s and the gains, naming tiny_meanscale.lvcm by its hash)
 * is the same model as the self-contained file; it is refused when its
 * trunk is missing or another file is offered as the trunk. */
START_TEST(test_shared_trunk)
{
    char path[1024];
    size_t fsize, ssize, osize;
    snprintf(path, sizeof(path), "%s/tiny_meanscale.lvcm", fixture_dir);
    uint8_t *full = read_all(path, &fsize);
    snprintf(path, sizeof(path), "%s/tiny_meanscale_shared.lvcm", fixture_dir);
    uint8_t *shared = read_all(path, &ssize);
    snprintf(path, sizeof(path), "%s/tiny_hyperprior.lvcm", fixture_dir);
    uint8_t *other = read_all(path, &osize);
    ck_assert_uint_lt(ssize, fsize);
    LvcNn *nn = NULL;
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_CPU, 2), 0);
    LvcModel *a = NULL, *b = NULL;
    ck_assert_int_eq(lvc_model_open_mem(&b, shared, ssize, 0, nn), LVC_ERR_MODEL_FILE);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(lvc_model_open_mem_trunk(&b, shared, ssize, other, osize, 0, nn),
                     LVC_ERR_MODEL_FILE);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(lvc_model_open_mem(&a, full, fsize, 0, nn), 0);
    ck_assert_int_eq(lvc_model_open_mem_trunk(&b, shared, ssize, full, fsize, 0, nn), 0);
    ck_assert_int_eq(a->L, b->L);
    ck_assert_mem_eq(a->gain, b->gain, sizeof(float) * (size_t)a->L * a->M);

    /* analysis then synthesis of the same input: the same bits */
    LvcTensor x = { 0 }, y[2] = { { 0 } }, xh[2] = { { 0 } };
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &x, 3, 64, 48, LVC_NN_F32, 0), 0);
    float *in = malloc(3 * 64 * 48 * sizeof(float));
    for (int i = 0; i < 3 * 64 * 48; i++)
        in[i] = (float)((i * 37) % 101) / 100.0f;
    ck_assert_int_eq(lvc_nn_tensor_write(nn, &x, in), 0);
    for (int k = 0; k < 2; k++) {
        LvcModel *m = k ? b : a;
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &y[k], m->M, 4, 3, LVC_NN_F32, 0), 0);
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &xh[k], 3, 64, 48, LVC_NN_F32, 0), 0);
        ck_assert_int_eq(lvc_model_analysis(m, nn, NULL, &x, &y[k]), 0);
        ck_assert_int_eq(lvc_model_synthesis(m, nn, NULL, &y[k], &xh[k]), 0);
    }
    ck_assert_mem_eq(y[0].data, y[1].data, lvc_tensor_bytes(&y[0]));
    ck_assert_mem_eq(xh[0].data, xh[1].data, lvc_tensor_bytes(&xh[0]));
    for (int k = 0; k < 2; k++) {
        lvc_nn_tensor_free(nn, &y[k]);
        lvc_nn_tensor_free(nn, &xh[k]);
    }
    lvc_nn_tensor_free(nn, &x);
    free(in);
    lvc_model_close(&a, nn);
    lvc_model_close(&b, nn);
    lvc_nn_close(&nn);
    free(full);
    free(shared);
    free(other);
}
END_TEST

static Suite *models_suite(void)
{
    Suite *s = suite_create("models");
    TCase *tc = tcase_create("parity");
    tcase_set_timeout(tc, 120);
    const int npar = (int)(sizeof(parity_models) / sizeof(parity_models[0]));
    tcase_add_loop_test(tc, test_parity_cpu, 0, npar);
    tcase_add_loop_test(tc, test_parity_ref, 0, npar);
    suite_add_tcase(s, tc);
    tc = tcase_create("pipeline");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_roundtrip_formats, 0, (int)(sizeof(formats) / sizeof(formats[0])));
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_every_model);
    tcase_add_loop_test(tc, test_tile_parallel, 0, lvc_model_count());
    tcase_add_loop_test(tc, test_tiny_arch, 0, (int)(sizeof(tiny_archs) / sizeof(tiny_archs[0])));
    tcase_add_loop_test(tc, test_decoder_only, 0, (int)(sizeof(tiny_archs) / sizeof(tiny_archs[0])));
    tcase_add_test(tc, test_shared_trunk);
    tcase_add_test(tc, test_rate_control);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        fixture_dir = argv[1];
    SRunner *sr = srunner_create(models_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
