/*
 * Runner of the robust suite, its fixture and shared helpers.
 *
 *   test_robust CORPUS_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "tests/robust/robust.h"

RobustStream lvc_rs[RS_COUNT] = {
    [RS_RGB_40x24]     = { "rgb 40x24", 40, 24, 3, 0 },
    [RS_RGB_70x70_T64] = { "rgb 70x70 tiles 64", 70, 70, 3, 64 },
    [RS_GRAY_40x24]    = { "gray 40x24", 40, 24, 1, 0 },
    [RS_RGBA_40x24]    = { "rgba 40x24", 40, 24, 4, 0 },
    [RS_GRAYA_24x24]   = { "gray+alpha 24x24", 24, 24, 2, 0 },
    [RS_RGB_16x16]     = { "rgb 16x16", 16, 16, 3, 0 },
};
LvcDecoder *lvc_rs_dec;
LvcEncoder *lvc_rs_enc;
const char *lvc_rs_corpus;

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

int lvc_rs_make_image(LvcImage *img, int w, int h, int channels, int depth, uint32_t seed)
{
    int ret = lvc_image_alloc(img, w, h, channels, depth);
    if (ret < 0)
        return ret;
    const int maxv = depth == 16 ? 65535 : 255;
    uint32_t s = seed ? seed : 1;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const int dx = x - w / 2, dy = y - h / 2;
            const int disc = dx * dx + dy * dy < (w * w + h * h) / 16;
            for (int c = 0; c < channels; c++) {
                int v;
                if (c == channels - 1 && (channels == 2 || channels == 4))
                    v = disc ? maxv : maxv / 3 + (int)(xorshift(&s) % 3);   /* alpha */
                else
                    v = (x * maxv / (w > 1 ? w - 1 : 1) * (c + 1) / 3 +
                         y * maxv / (h > 1 ? h - 1 : 1) * (3 - c) / 3) / 2 +
                        (disc ? maxv / 4 : 0) + (int)(xorshift(&s) % 9) - 4;
                v = v < 0 ? 0 : v > maxv ? maxv : v;
                uint8_t *row = img->data + (size_t)y * img->stride;
                if (depth == 16)
                    ((uint16_t *)row)[(size_t)x * channels + c] = (uint16_t)v;
                else
                    row[(size_t)x * channels + c] = (uint8_t)v;
            }
        }
    }
    return 0;
}

uint8_t *lvc_rs_dup(const uint8_t *buf, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, "out of memory in the test\n");
        abort();
    }
    if (size)
        memcpy(p, buf, size);
    return p;
}

static int decode(LvcDecoder *dec, const uint8_t *buf, size_t size, LvcImage *img_out,
                  int check_mem)
{
    const size_t mem0 = lvc_mem_in_use();
    uint8_t *copy = lvc_rs_dup(buf, size);
    LvcImage img;
    memset(&img, 0x5a, sizeof(img));
    const int ret = lvc_decode_image(dec, copy, size, &img);
    free(copy);
    if (ret < 0) {
        ck_assert_msg(!img.data && !img.width && !img.height,
                      "failed decode (%s) left a non-zeroed image", lvc_error_string(ret));
        ck_assert_msg(!check_mem || lvc_mem_in_use() == mem0,
                      "failed decode (%s) leaked %zd bytes", lvc_error_string(ret),
                      (ptrdiff_t)(lvc_mem_in_use() - mem0));
    } else if (img_out) {
        *img_out = img;
    } else {
        lvc_image_free(&img);
    }
    return ret;
}

int lvc_rs_decode(LvcDecoder *dec, const uint8_t *buf, size_t size, LvcImage *img_out)
{
    return decode(dec, buf, size, img_out, 1);
}

int lvc_rs_decode_first(LvcDecoder *dec, const uint8_t *buf, size_t size, LvcImage *img_out)
{
    return decode(dec, buf, size, img_out, 0);
}

int lvc_rs_in(int code, const int *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == code)
            return 1;
    return 0;
}

int lvc_rs_open_decoder(LvcDecoder **dec, int threads, LvcBackend *backend)
{
    LvcDecoderSettings ds;
    lvc_decoder_default_settings(&ds);
    ds.threads = threads;
    ds.backend = LVC_BACKEND_CPU;
    int ret = lvc_decoder_open(dec, &ds);
    if (ret < 0) {
        ds.backend = LVC_BACKEND_REF;
        ret = lvc_decoder_open(dec, &ds);
    }
    if (backend)
        *backend = ds.backend;
    return ret;
}

static int fixture_open(void)
{
    LvcBackend backend;
    if (lvc_rs_open_decoder(&lvc_rs_dec, 1, &backend) < 0)
        return -1;
    for (int i = 0; i < RS_COUNT; i++) {
        RobustStream *s = &lvc_rs[i];
        LvcEncoderSettings es;
        lvc_encoder_default_settings(&es);
        es.threads = 1;
        es.backend = backend;
        es.tile_size = s->tile;
        LvcEncoder *enc = NULL;
        int ret = lvc_encoder_open(&enc, &es);
        if (ret < 0 || (ret = lvc_rs_make_image(&s->img, s->w, s->h, s->channels, 8,
                                                (uint32_t)i + 1)) < 0 ||
            (ret = lvc_encode_image(enc, &s->img, &s->data, &s->size)) < 0) {
            fprintf(stderr, "fixture: %s: %s\n", s->name, lvc_error_string(ret));
            lvc_encoder_close(&enc);
            return -1;
        }
        LvcImage out;
        s->dec_ret = lvc_decode_image(lvc_rs_dec, s->data, s->size, &out);
        lvc_image_free(&out);
        if (!lvc_rs_enc && !s->tile)
            lvc_rs_enc = enc;   /* kept for the allocation-failure tests */
        else
            lvc_encoder_close(&enc);
    }
    return 0;
}

static void fixture_close(void)
{
    for (int i = 0; i < RS_COUNT; i++) {
        free(lvc_rs[i].data);
        lvc_image_free(&lvc_rs[i].img);
    }
    lvc_decoder_close(&lvc_rs_dec);
    lvc_encoder_close(&lvc_rs_enc);
}

int main(int argc, char **argv)
{
    lvc_rs_corpus = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    /* Hostile inputs make the library log errors by the thousand. */
    lvc_log_set_level(LVC_LOG_QUIET);
    if (fixture_open() < 0) {
        fixture_close();
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("robust");
    suite_add_tcase(s, lvc_test_streams_tcase());
    suite_add_tcase(s, lvc_test_inputs_tcase());
    suite_add_tcase(s, lvc_test_alloc_tcase());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    fixture_close();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
