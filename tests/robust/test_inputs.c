/*
 * Hostile PNG input and model files: every truncation, every bit flip of a
 * small model file, dimensions refused before allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "codec/image_io.h"
#include "common/crc32.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "models/modelfile.h"
#include "tests/robust/robust.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t *read_corpus(const char *rel, size_t *size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", lvc_rs_corpus, rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (pass the corpus folder as argument)", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    ck_assert(n > 0);
    uint8_t *b = malloc((size_t)n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

static int png_read(const uint8_t *buf, size_t size, uint64_t max_pixels)
{
    const size_t mem0 = lvc_mem_in_use();
    uint8_t *c = lvc_rs_dup(buf, size);
    LvcImage img;
    const int ret = lvc_png_read_mem(c, size, &img, max_pixels);
    free(c);
    if (ret == 0)
        lvc_image_free(&img);
    else
        ck_assert_msg(!img.data && !img.width, "failed read left a non-zeroed image");
    ck_assert_uint_eq(lvc_mem_in_use(), mem0);
    return ret;
}

START_TEST(test_png_truncated)
{
    /* lvc writes these, so every format path of the reader is covered by
     * the fixture images plus the corpus PNGs (palette, 1-bit, Adam7). */
    static const char *const files[] = { "png/pal8_trns_6x6.png", "png/gray1_adam7_9x9.png",
                                          "png/rgba16_2x2.png", "png/rgb8_adam7_11x9.png" };
    size_t tried = 0;
    for (size_t i = 0; i < N_ELEMS(files) + 1; i++) {
        uint8_t *b;
        size_t n;
        if (i < N_ELEMS(files)) {
            b = read_corpus(files[i], &n);
        } else {
            ck_assert_int_eq(lvc_png_write_mem(&lvc_rs[RS_RGBA_40x24].img, &b, &n), 0);
        }
        ck_assert_int_eq(png_read(b, n, 0), 0);
        for (size_t cut = 0; cut < n; cut++) {
            const int ret = png_read(b, cut, 0);
            ck_assert_msg(ret == LVC_ERR_TRUNCATED, "file %zu cut at %zu of %zu: %s", i, cut, n,
                          lvc_error_string(ret));
            tried++;
        }
        free(b);
    }
    fprintf(stderr, "robust: PNG truncations: %zu\n", tried);
    ck_assert_uint_gt(tried, 500);
}
END_TEST

static long peak_rss_kib(void)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

START_TEST(test_png_chunk_lengths)
{
    /* An ancillary chunk after IHDR, either whole (the image still reads)
     * or claiming 1.9 GB with the file ending long before (TRUNCATED,
     * without the reader allocating what the header claims: a fuzzed
     * 42-byte file with such an sPLT made libpng allocate 1.9 GB). */
    static const char *const names[] = { "sPLT", "iCCP", "tEXt", "zTXt", "iTXt",
                                         "eXIf", "pCAL", "gAMA", "abCd" };
    uint8_t *png;
    size_t n;
    ck_assert_int_eq(lvc_png_write_mem(&lvc_rs[RS_RGB_16x16].img, &png, &n), 0);
    const size_t ihdr_end = 8 + 8 + 13 + 4;
    ck_assert(n > ihdr_end && !memcmp(png + 12, "IHDR", 4));
    enum { DATA = 40 };
    uint8_t *buf = malloc(n + 12 + DATA);
    ck_assert_ptr_nonnull(buf);
    const long rss0 = peak_rss_kib();
    for (size_t i = 0; i < N_ELEMS(names); i++) {
        memcpy(buf, png, ihdr_end);
        uint8_t *c = buf + ihdr_end;
        memcpy(c + 4, names[i], 4);
        memset(c + 8, 'x', DATA); /* not valid contents: the reader skips them */
        /* whole: length DATA and its CRC, then the rest of the file */
        put_be32(c, DATA);
        put_be32(c + 8 + DATA, lvc_crc32(0, c + 4, 4 + DATA));
        memcpy(c + 12 + DATA, png + ihdr_end, n - ihdr_end);
        int ret = png_read(buf, n + 12 + DATA, 0);
        ck_assert_msg(ret == 0, "whole %s: %s", names[i], lvc_error_string(ret));
        /* claiming 0x7200002f bytes */
        put_be32(c, 0x7200002fu);
        ret = png_read(buf, n + 12 + DATA, 0);
        ck_assert_msg(ret == LVC_ERR_TRUNCATED, "long %s: %s", names[i], lvc_error_string(ret));
    }
    const long grew = peak_rss_kib() - rss0;
    fprintf(stderr, "robust: PNG chunk lengths: peak RSS grew by %ld KiB\n", grew);
    ck_assert_int_lt(grew, 256 * 1024);
    free(buf);
    free(png);
}
END_TEST

START_TEST(test_png_dimensions)
{
    /* A PNG whose IHDR claims a huge image, with a valid CRC: refused by
     * max_pixels before the pixel buffer exists. */
    uint8_t *b;
    size_t n;
    ck_assert_int_eq(lvc_png_write_mem(&lvc_rs[RS_RGB_16x16].img, &b, &n), 0);
    /* IHDR data at 16: width, height (big-endian); CRC at 29. */
    static const uint32_t dims[][2] = { { 100000, 100000 }, { 0x7fffffff, 1 }, { 1, 70000 },
                                        { 300, 300 } };
    for (size_t i = 0; i < N_ELEMS(dims); i++) {
        put_be32(b + 16, dims[i][0]);
        put_be32(b + 20, dims[i][1]);
        /* PNG chunk CRC (zlib's CRC-32 over type and data). */
        put_be32(b + 29, lvc_crc32(0, b + 12, 17));
        lvc_mem_reset_peak();
        const size_t base = lvc_mem_in_use();
        lvc_mem_set_limit(base + (16 << 10));
        const int ret = png_read(b, n, 65536);
        lvc_mem_set_limit(0);
        ck_assert_int_eq(ret, LVC_ERR_DIMENSIONS);
        ck_assert_uint_le(lvc_mem_peak(), base + (16 << 10));
    }
    free(b);
}
END_TEST

static int mf_open(const uint8_t *buf, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    uint8_t *c = lvc_rs_dup(buf, size);
    LvcModelFile *mf = (LvcModelFile *)c;
    const int ret = lvc_modelfile_open_mem(c, size, &mf);
    if (ret == 0)
        lvc_modelfile_close(&mf);
    ck_assert_ptr_null(mf);
    free(c);
    ck_assert_uint_eq(lvc_mem_in_use(), mem0);
    return ret;
}

START_TEST(test_modelfile_hostile)
{
    size_t n;
    uint8_t *b = read_corpus("modelfile/small.lvcm", &n);
    ck_assert_int_eq(mf_open(b, n), 0);
    size_t tried = 0;
    /* Every truncation (the size field is checked before the hash). */
    for (size_t cut = 0; cut < n; cut++) {
        const int ret = mf_open(b, cut);
        ck_assert_msg(ret == LVC_ERR_TRUNCATED, "cut at %zu: %s", cut, lvc_error_string(ret));
        tried++;
    }
    /* Every bit flip: magic, version and size are checked first, then the
     * hash, which covers every other byte (the trailer included). */
    static const int size_field[] = { LVC_ERR_TRUNCATED, LVC_ERR_MODEL_FILE };
    for (size_t at = 0; at < n; at++) {
        for (int bit = 0; bit < 8; bit++) {
            b[at] ^= (uint8_t)(1u << bit);
            const int ret = mf_open(b, n);
            b[at] ^= (uint8_t)(1u << bit);
            if (at < 8)
                ck_assert_int_eq(ret, LVC_ERR_BAD_MAGIC);
            else if (at < 12)
                ck_assert_int_eq(ret, LVC_ERR_VERSION);
            else if (at >= 16 && at < 24)
                ck_assert_msg(lvc_rs_in(ret, size_field, N_ELEMS(size_field)),
                              "size byte %zu bit %d: %s", at, bit, lvc_error_string(ret));
            else
                ck_assert_msg(ret == LVC_ERR_CRC, "byte %zu bit %d: %s", at, bit,
                              lvc_error_string(ret));
            tried++;
        }
    }
    /* Garbage with a valid hash: structural checks, not the hash, refuse. */
    uint32_t s = 99;
    for (int i = 0; i < 200; i++) {
        uint8_t *g = lvc_rs_dup(b, n);
        for (int k = 0; k < 8; k++) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            g[64 + s % (n - 96)] = (uint8_t)(s >> 8);
        }
        lvc_sha256(g, n - 32, g + n - 32);
        const int ret = mf_open(g, n);
        ck_assert_msg(ret == 0 || ret == LVC_ERR_MODEL_FILE, "rehashed mutant %d: %s", i,
                      lvc_error_string(ret));
        free(g);
        tried++;
    }
    free(b);
    fprintf(stderr, "robust: model-file truncations, flips, rehashed mutants: %zu\n", tried);
    ck_assert_uint_gt(tried, 1000);
}
END_TEST

TCase *lvc_test_inputs_tcase(void)
{
    TCase *tc = tcase_create("inputs");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_png_truncated);
    tcase_add_test(tc, test_png_dimensions);
    tcase_add_test(tc, test_png_chunk_lengths);
    tcase_add_test(tc, test_modelfile_hostile);
    return tc;
}
