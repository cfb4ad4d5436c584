/*
 * Image I/O tests: LvcImage allocation, PNG round trips for every depth and
 * channel count, PNGs written directly with libpng (low bit depths,
 * palette, tRNS, interlace), truncated and garbage input, limits, the
 * Netpbm (PGM, PPM, PAM) reader and writer, and the float conversions.
 */
#include <check.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lvc/lvc.h"
#include "codec/image_io.h"
#include "common/mem.h"
#include "tests/codec/test_codec.h"

static char tmp_dir[256];

static void make_tmp_dir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/lvc_test_codec_XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void remove_tmp_dir(void)
{
    rmdir(tmp_dir);
}

static void tmp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmp_dir, name);
}

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static void fill_random(LvcImage *img)
{
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < (size_t)img->width * img->channels * (img->bit_depth / 8); i++)
            img->data[(size_t)y * img->stride + i] = (uint8_t)rnd();
}

static void assert_same_pixels(const LvcImage *a, const LvcImage *b)
{
    ck_assert_int_eq(a->width, b->width);
    ck_assert_int_eq(a->height, b->height);
    ck_assert_int_eq(a->channels, b->channels);
    ck_assert_int_eq(a->bit_depth, b->bit_depth);
    const size_t row = (size_t)a->width * a->channels * (a->bit_depth / 8);
    for (int y = 0; y < a->height; y++)
        ck_assert_mem_eq(a->data + (size_t)y * a->stride, b->data + (size_t)y * b->stride, row);
}

/* ------------------------------------------------ direct libpng writer */

typedef struct RawPng {
    int width, height, depth, color, interlace;
    const png_color *palette;
    int num_palette;
    const png_byte *trns;        /* palette alpha, or NULL */
    int num_trns;
    const png_color_16 *trns_color; /* gray/RGB tRNS, or NULL */
    const uint8_t *rows;         /* packed PNG rows (big-endian 16-bit) */
    size_t rowbytes;
} RawPng;

static void write_raw_png(const char *path, const RawPng *r)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert(png && info);
    ck_assert_int_eq(setjmp(png_jmpbuf(png)), 0);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)r->width, (png_uint_32)r->height, r->depth, r->color,
                 r->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (r->palette)
        png_set_PLTE(png, info, r->palette, r->num_palette);
    if (r->trns || r->trns_color)
        png_set_tRNS(png, info, r->trns, r->num_trns, r->trns_color);
    png_write_info(png, info);
    png_bytep *rows = malloc(sizeof(*rows) * (size_t)r->height);
    for (int y = 0; y < r->height; y++)
        rows[y] = (png_bytep)(r->rows + (size_t)y * r->rowbytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    ck_assert_int_eq(fclose(f), 0);
}

static uint8_t *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static unsigned sample(const LvcImage *img, int x, int y, int c)
{
    const uint8_t *p = img->data + (size_t)y * img->stride +
                       ((size_t)x * img->channels + c) * (img->bit_depth / 8);
    if (img->bit_depth == 8)
        return p[0];
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_image_alloc)
{
    LvcImage img;
    ck_assert_int_eq(lvc_image_alloc(&img, 7, 5, 3, 16), 0);
    ck_assert_uint_eq(img.stride, 7 * 3 * 2);
    ck_assert_ptr_nonnull(img.data);
    lvc_image_free(&img);
    ck_assert_ptr_null(img.data);
    lvc_image_free(&img);
    lvc_image_free(NULL);

    memset(&img, 0x55, sizeof(img));
    ck_assert_int_eq(lvc_image_alloc(&img, 0, 5, 3, 8), LVC_ERR_DIMENSIONS);
    ck_assert_ptr_null(img.data);
    ck_assert_int_eq(img.width, 0);
    ck_assert_int_eq(lvc_image_alloc(&img, 5, -1, 3, 8), LVC_ERR_DIMENSIONS);
    ck_assert_int_eq(lvc_image_alloc(&img, 5, 5, 5, 8), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_image_alloc(&img, 5, 5, 3, 12), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_image_alloc(NULL, 5, 5, 3, 8), LVC_ERR_INVALID_ARG);
    /* Fails cleanly: either the size product overflows or the allocator
     * refuses ~2^64 bytes; it must not wrap to a small buffer. */
    ck_assert_int_eq(lvc_image_alloc(&img, 0x7fffffff, 0x7fffffff, 4, 16), LVC_ERR_NOMEM);
    ck_assert_ptr_null(img.data);
}
END_TEST

START_TEST(test_png_round_trip)
{
    make_tmp_dir();
    char path[512];
    tmp_path(path, sizeof(path), "rt.png");
    for (int depth = 8; depth <= 16; depth += 8) {
        for (int ch = 1; ch <= 4; ch++) {
            LvcImage img, back, back2;
            ck_assert_int_eq(lvc_image_alloc(&img, 23, 17, ch, depth), 0);
            fill_random(&img);
            ck_assert_int_eq(lvc_png_write_file(path, &img), 0);
            ck_assert_int_eq(lvc_png_read_file(path, &back, 0), 0);
            assert_same_pixels(&img, &back);

            uint8_t *mem;
            size_t n;
            ck_assert_int_eq(lvc_png_write_mem(&img, &mem, &n), 0);
            ck_assert_int_eq(lvc_png_read_mem(mem, n, &back2, 0), 0);
            assert_same_pixels(&img, &back2);
            /* File and memory writers produce the same bytes. */
            size_t fn;
            uint8_t *fbytes = read_whole(path, &fn);
            ck_assert_uint_eq(fn, n);
            ck_assert_mem_eq(fbytes, mem, n);
            free(fbytes);
            free(mem);
            lvc_image_free(&img);
            lvc_image_free(&back);
            lvc_image_free(&back2);
        }
    }
    unlink(path);
    remove_tmp_dir();
}
END_TEST

/* A padded stride is honoured by the writer. */
START_TEST(test_png_write_stride)
{
    LvcImage img;
    ck_assert_int_eq(lvc_image_alloc(&img, 5, 4, 3, 8), 0);
    fill_random(&img);
    LvcImage wide = img;
    wide.stride = 64;
    wide.data = calloc(64, 4);
    for (int y = 0; y < 4; y++)
        memcpy(wide.data + y * 64, img.data + y * img.stride, 15);
    uint8_t *mem;
    size_t n;
    ck_assert_int_eq(lvc_png_write_mem(&wide, &mem, &n), 0);
    LvcImage back;
    ck_assert_int_eq(lvc_png_read_mem(mem, n, &back, 0), 0);
    assert_same_pixels(&img, &back);
    free(mem);
    free(wide.data);
    lvc_image_free(&img);
    lvc_image_free(&back);

    /* Bad images are refused. */
    LvcImage bad = { .width = 4, .height = 4, .channels = 3, .bit_depth = 8, .stride = 11 };
    uint8_t pixels[64];
    bad.data = pixels;
    ck_assert_int_eq(lvc_png_write_mem(&bad, &mem, &n), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(mem);
    bad.stride = 12;
    bad.bit_depth = 4;
    ck_assert_int_eq(lvc_png_write_mem(&bad, &mem, &n), LVC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_png_low_depth_gray)
{
    make_tmp_dir();
    char path[512];
    tmp_path(path, sizeof(path), "gray.png");
    const int W = 13, H = 3;
    for (int depth = 1; depth <= 4; depth *= 2) {
        const int per_byte = 8 / depth;
        const size_t rowbytes = (size_t)(W + per_byte - 1) / per_byte;
        uint8_t rows[3 * 8] = { 0 };
        unsigned vals[3][13];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                const unsigned v = rnd() & ((1u << depth) - 1);
                vals[y][x] = v;
                const int shift = 8 - depth * (x % per_byte + 1);
                rows[y * rowbytes + x / per_byte] |= (uint8_t)(v << shift);
            }
        }
        for (int interlace = 0; interlace <= 1; interlace++) {
            RawPng r = { .width = W, .height = H, .depth = depth, .color = PNG_COLOR_TYPE_GRAY,
                         .interlace = interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                         .rows = rows, .rowbytes = rowbytes };
            write_raw_png(path, &r);
            LvcImage img;
            ck_assert_int_eq(lvc_png_read_file(path, &img, 0), 0);
            ck_assert_int_eq(img.channels, 1);
            ck_assert_int_eq(img.bit_depth, 8);
            /* Expanded by bit replication: 1 bit x255, 2 bits x85, 4 bits x17. */
            const unsigned scale = 255u / ((1u << depth) - 1);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    ck_assert_uint_eq(sample(&img, x, y, 0), vals[y][x] * scale);
            lvc_image_free(&img);
        }
    }
    unlink(path);
    remove_tmp_dir();
}
END_TEST

START_TEST(test_png_palette_and_trns)
{
    make_tmp_dir();
    char path[512];
    tmp_path(path, sizeof(path), "pal.png");
    const png_color pal[4] = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 10, 20, 30 } };
    const png_byte alpha[3] = { 0, 128, 255 };   /* entry 3 is opaque by default */
    const int W = 9, H = 4;
    uint8_t idx[4][9];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            idx[y][x] = (uint8_t)((x + 2 * y) % 4);

    /* 8-bit palette without tRNS -> RGB; with tRNS -> RGBA. */
    for (int with_trns = 0; with_trns <= 1; with_trns++) {
        RawPng r = { .width = W, .height = H, .depth = 8, .color = PNG_COLOR_TYPE_PALETTE,
                     .palette = pal, .num_palette = 4, .trns = with_trns ? alpha : NULL,
                     .num_trns = with_trns ? 3 : 0, .rows = &idx[0][0], .rowbytes = W };
        write_raw_png(path, &r);
        LvcImage img;
        ck_assert_int_eq(lvc_png_read_file(path, &img, 0), 0);
        ck_assert_int_eq(img.channels, with_trns ? 4 : 3);
        ck_assert_int_eq(img.bit_depth, 8);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                const png_color *c = &pal[idx[y][x]];
                ck_assert_uint_eq(sample(&img, x, y, 0), c->red);
                ck_assert_uint_eq(sample(&img, x, y, 1), c->green);
                ck_assert_uint_eq(sample(&img, x, y, 2), c->blue);
                if (with_trns)
                    ck_assert_uint_eq(sample(&img, x, y, 3), idx[y][x] < 3 ? alpha[idx[y][x]] : 255);
            }
        }
        lvc_image_free(&img);
    }

    /* 2-bit palette, interlaced. */
    uint8_t packed[4][3] = { { 0 } };
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            packed[y][x / 4] |= (uint8_t)(idx[y][x] << (6 - 2 * (x % 4)));
    RawPng r2 = { .width = W, .height = H, .depth = 2, .color = PNG_COLOR_TYPE_PALETTE,
                  .interlace = PNG_INTERLACE_ADAM7, .palette = pal, .num_palette = 4,
                  .rows = &packed[0][0], .rowbytes = 3 };
    write_raw_png(path, &r2);
    LvcImage img;
    ck_assert_int_eq(lvc_png_read_file(path, &img, 0), 0);
    ck_assert_int_eq(img.channels, 3);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            ck_assert_uint_eq(sample(&img, x, y, 2), pal[idx[y][x]].blue);
    lvc_image_free(&img);

    /* Gray 8-bit with a tRNS colour -> gray+alpha. */
    uint8_t g[2][3] = { { 0, 7, 200 }, { 7, 7, 1 } };
    png_color_16 key = { .gray = 7 };
    RawPng r3 = { .width = 3, .height = 2, .depth = 8, .color = PNG_COLOR_TYPE_GRAY,
                  .trns_color = &key, .rows = &g[0][0], .rowbytes = 3 };
    write_raw_png(path, &r3);
    ck_assert_int_eq(lvc_png_read_file(path, &img, 0), 0);
    ck_assert_int_eq(img.channels, 2);
    for (int y = 0; y < 2; y++) {
        for (int x = 0; x < 3; x++) {
            ck_assert_uint_eq(sample(&img, x, y, 0), g[y][x]);
            ck_assert_uint_eq(sample(&img, x, y, 1), g[y][x] == 7 ? 0 : 255);
        }
    }
    lvc_image_free(&img);
    unlink(path);
    remove_tmp_dir();
}
END_TEST

START_TEST(test_png_16bit_interlaced)
{
    make_tmp_dir();
    char path[512];
    tmp_path(path, sizeof(path), "rgb16.png");
    const int W = 11, H = 7;
    uint8_t rows[7][11 * 6];
    for (int y = 0; y < H; y++)
        for (int i = 0; i < W * 6; i++)
            rows[y][i] = (uint8_t)rnd();
    RawPng r = { .width = W, .height = H, .depth = 16, .color = PNG_COLOR_TYPE_RGB,
                 .interlace = PNG_INTERLACE_ADAM7, .rows = &rows[0][0], .rowbytes = W * 6 };
    write_raw_png(path, &r);
    LvcImage img;
    ck_assert_int_eq(lvc_png_read_file(path, &img, 0), 0);
    ck_assert_int_eq(img.bit_depth, 16);
    ck_assert_int_eq(img.channels, 3);
    /* PNG stores big-endian; the image holds native uint16_t. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                ck_assert_uint_eq(sample(&img, x, y, c),
                                  (unsigned)rows[y][(x * 3 + c) * 2] << 8 |
                                      rows[y][(x * 3 + c) * 2 + 1]);
    lvc_image_free(&img);
    unlink(path);
    remove_tmp_dir();
}
END_TEST

START_TEST(test_png_bad_input)
{
    LvcImage img, src;
    ck_assert_int_eq(lvc_image_alloc(&src, 20, 10, 4, 8), 0);
    fill_random(&src);
    uint8_t *png;
    size_t n;
    ck_assert_int_eq(lvc_png_write_mem(&src, &png, &n), 0);

    /* Every truncation is refused, never crashes, leaks nothing. */
    for (size_t k = 0; k < n; k++) {
        uint8_t *b = malloc(k ? k : 1);
        memcpy(b, png, k);
        memset(&img, 0x55, sizeof(img));
        const int err = lvc_png_read_mem(b, k, &img, 0);
        ck_assert_msg(err < 0, "prefix of %zu bytes accepted", k);
        ck_assert_ptr_null(img.data);
        ck_assert_int_eq(img.width, 0);
        free(b);
    }
    ck_assert_int_eq(lvc_png_read_mem(png, 5, &img, 0), LVC_ERR_TRUNCATED);
    ck_assert_int_eq(lvc_png_read_mem(png, n - 3, &img, 0), LVC_ERR_TRUNCATED);
    ck_assert_int_eq(lvc_png_read_mem(png, 0, &img, 0), LVC_ERR_TRUNCATED);

    /* Garbage. */
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rnd();
    ck_assert_int_eq(lvc_png_read_mem(junk, sizeof(junk), &img, 0), LVC_ERR_FORMAT);
    ck_assert_int_eq(lvc_png_read_mem((const uint8_t *)"GIF89a", 6, &img, 0), LVC_ERR_FORMAT);
    /* A valid signature followed by garbage. */
    memcpy(junk, png, 8);
    ck_assert_int_eq(lvc_png_read_mem(junk, sizeof(junk), &img, 0), LVC_ERR_FORMAT);
    ck_assert_ptr_null(img.data);

    /* Flipped bits in the data: refused (critical-chunk CRC) or decoded,
     * never a crash. */
    uint8_t *b = malloc(n);
    int rejected = 0;
    for (size_t i = 8; i < n; i += 3) {
        memcpy(b, png, n);
        b[i] ^= 0x10;
        if (lvc_png_read_mem(b, n, &img, 0))
            rejected++;
        else
            lvc_image_free(&img);
    }
    ck_assert_int_gt(rejected, 0);
    free(b);

    /* Pixel limit, before allocation. */
    ck_assert_int_eq(lvc_png_read_mem(png, n, &img, 199), LVC_ERR_DIMENSIONS);
    ck_assert_int_eq(lvc_png_read_mem(png, n, &img, 200), 0);
    lvc_image_free(&img);

    /* Allocation failures inside the reader: clean NOMEM, no leak. */
    int nomem = 0;
    for (long k = 0; k < 4; k++) {
        lvc_mem_fail_after(k);
        const int err = lvc_png_read_mem(png, n, &img, 0);
        lvc_mem_fail_after(-1);
        if (err) {
            ck_assert_int_eq(err, LVC_ERR_NOMEM);
            ck_assert_ptr_null(img.data);
            nomem++;
        } else {
            lvc_image_free(&img);
        }
    }
    ck_assert_int_ge(nomem, 2);   /* pixels and row pointers */

    /* Files. */
    ck_assert_int_eq(lvc_png_read_file("/nonexistent/dir/x.png", &img, 0), LVC_ERR_IO);
    ck_assert_int_eq(lvc_png_write_file("/nonexistent/dir/x.png", &src), LVC_ERR_IO);
    make_tmp_dir();
    char path[512];
    tmp_path(path, sizeof(path), "cut.png");
    FILE *f = fopen(path, "wb");
    fwrite(png, 1, n / 2, f);
    fclose(f);
    ck_assert_int_eq(lvc_png_read_file(path, &img, 0), LVC_ERR_TRUNCATED);
    ck_assert_int_eq(lvc_png_read_file(tmp_dir, &img, 0), LVC_ERR_IO);   /* a directory */
    unlink(path);
    remove_tmp_dir();

    ck_assert_int_eq(lvc_png_read_mem(NULL, 3, &img, 0), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_png_read_mem(png, n, NULL, 0), LVC_ERR_INVALID_ARG);
    free(png);
    lvc_image_free(&src);
}
END_TEST

/* ------------------------------------------------------------------ PNM */

static int pnm_read_str(const char *text, size_t n, LvcImage *img)
{
    return lvc_pnm_read_mem((const uint8_t *)text, n, img, 0);
}

START_TEST(test_pnm_round_trip)
{
    make_tmp_dir();
    char path[512];
    tmp_path(path, sizeof(path), "rt.pnm");
    for (int depth = 8; depth <= 16; depth += 8) {
        for (int ch = 1; ch <= 4; ch++) {
            for (int pam = 0; pam <= 1; pam++) {
                LvcImage img, back, back2;
                ck_assert_int_eq(lvc_image_alloc(&img, 23, 17, ch, depth), 0);
                fill_random(&img);
                uint8_t *mem;
                size_t n;
                if (!pam && (ch == 2 || ch == 4)) {
                    /* Alpha needs PAM: refused, and no file is left. */
                    ck_assert_int_eq(lvc_pnm_write_mem(&img, 0, &mem, &n), LVC_ERR_FORMAT);
                    ck_assert_ptr_null(mem);
                    unlink(path);
                    ck_assert_int_eq(lvc_pnm_write_file(path, &img, 0), LVC_ERR_FORMAT);
                    ck_assert_int_ne(access(path, F_OK), 0);
                    lvc_image_free(&img);
                    continue;
                }
                ck_assert_int_eq(lvc_pnm_write_file(path, &img, pam), 0);
                ck_assert_int_eq(lvc_pnm_read_file(path, &back, 0), 0);
                assert_same_pixels(&img, &back);
                ck_assert_int_eq(lvc_pnm_write_mem(&img, pam, &mem, &n), 0);
                ck_assert_int_eq(lvc_pnm_read_mem(mem, n, &back2, 0), 0);
                assert_same_pixels(&img, &back2);
                /* The magic says which kind, and the header is Netpbm's. */
                ck_assert_int_eq(mem[0], 'P');
                ck_assert_int_eq(mem[1], pam ? '7' : ch == 1 ? '5' : '6');
                size_t fn;
                uint8_t *fbytes = read_whole(path, &fn);
                ck_assert_uint_eq(fn, n);
                ck_assert_mem_eq(fbytes, mem, n);
                /* Samples are big-endian: the last byte of the file is the
                 * low byte of the last sample. */
                const uint8_t *last = img.data + (size_t)(img.height - 1) * img.stride +
                                      ((size_t)img.width * ch - 1) * (depth / 8);
                uint16_t v = last[0];
                if (depth == 16)
                    memcpy(&v, last, 2);
                ck_assert_uint_eq(mem[n - 1], v & 0xff);
                free(fbytes);
                free(mem);
                lvc_image_free(&img);
                lvc_image_free(&back);
                lvc_image_free(&back2);
            }
        }
    }
    unlink(path);
    remove_tmp_dir();
}
END_TEST

START_TEST(test_pnm_headers)
{
    LvcImage img;
    /* Comments and any whitespace between the fields, one byte after
     * maxval, trailing data (a second image) ignored. */
    static const char ppm[] = "P6 # a comment\n#another\n 2\t1\r\n255\n\x01\x02\x03\x04\x05\x06P6";
    ck_assert_int_eq(pnm_read_str(ppm, sizeof(ppm) - 1, &img), 0);
    ck_assert_int_eq(img.width, 2);
    ck_assert_int_eq(img.height, 1);
    ck_assert_int_eq(img.channels, 3);
    ck_assert_int_eq(img.bit_depth, 8);
    ck_assert_int_eq(img.data[5], 6);
    lvc_image_free(&img);

    /* maxval 15: 8-bit output, rescaled with rounding (7 -> 119). */
    static const char pgm15[] = "P5\n3 1\n15\n\x00\x07\x0f";
    ck_assert_int_eq(pnm_read_str(pgm15, sizeof(pgm15) - 1, &img), 0);
    ck_assert_int_eq(img.bit_depth, 8);
    ck_assert_int_eq(img.channels, 1);
    ck_assert_int_eq(img.data[0], 0);
    ck_assert_int_eq(img.data[1], 119);
    ck_assert_int_eq(img.data[2], 255);
    lvc_image_free(&img);

    /* maxval 1023: 16-bit output, two bytes big-endian per sample,
     * rescaled to 65535 (512 -> 32800). */
    static const char pgm10[] = "P5\n2 1\n1023\n\x02\x00\x03\xff";
    ck_assert_int_eq(pnm_read_str(pgm10, sizeof(pgm10) - 1, &img), 0);
    ck_assert_int_eq(img.bit_depth, 16);
    uint16_t v[2];
    memcpy(v, img.data, 4);
    ck_assert_uint_eq(v[0], 32800);
    ck_assert_uint_eq(v[1], 65535);
    lvc_image_free(&img);

    /* PAM: comments, tuple type optional, BLACKANDWHITE is gray 0/1. */
    static const char pam[] = "P7\n# c\nWIDTH 2\nHEIGHT 1\nDEPTH 2\nMAXVAL 1\n"
                              "TUPLTYPE BLACKANDWHITE_ALPHA\nENDHDR\n\x01\x00\x00\x01";
    ck_assert_int_eq(pnm_read_str(pam, sizeof(pam) - 1, &img), 0);
    ck_assert_int_eq(img.channels, 2);
    ck_assert_int_eq(img.bit_depth, 8);
    ck_assert_int_eq(img.data[0], 255);
    ck_assert_int_eq(img.data[1], 0);
    ck_assert_int_eq(img.data[3], 255);
    lvc_image_free(&img);
    static const char pam_notype[] = "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 3\nMAXVAL 255\nENDHDR\nabc";
    ck_assert_int_eq(pnm_read_str(pam_notype, sizeof(pam_notype) - 1, &img), 0);
    ck_assert_int_eq(img.channels, 3);
    lvc_image_free(&img);

    /* Refused, with the image left zeroed. */
    static const struct { const char *text; int err; } bad[] = {
        { "P3\n1 1\n255\n1 2 3\n", LVC_ERR_FORMAT },       /* plain PPM */
        { "P4\n8 1\n\xff", LVC_ERR_FORMAT },               /* PBM */
        { "P8\n", LVC_ERR_FORMAT },
        { "GIF89a", LVC_ERR_FORMAT },
        { "", LVC_ERR_TRUNCATED },
        { "P6\n2 1\n255\nabcdef", 0 },                     /* the control */
        { "P6\n2 1\n255\nabcde", LVC_ERR_TRUNCATED },
        { "P6\n2 1\n255", LVC_ERR_TRUNCATED },
        { "P6\n2 1\n255xabcdef", LVC_ERR_CORRUPT },        /* no space after maxval */
        { "P6\n2 x\n255\nabcdef", LVC_ERR_CORRUPT },
        { "P6\n2x1\n255\nabcdef", LVC_ERR_CORRUPT },       /* no space between */
        { "P62 1\n255\nabcdef", LVC_ERR_CORRUPT },         /* nor after the magic */
        { "P6#c\n2#c\n1\n255\nabcdef", 0 },                /* comments do separate */
        { "P6\n2 1\n255#c\nabcdef", 0 },     /* the comment's newline ends the header */
        { "P6\n2 1\n255#c", LVC_ERR_TRUNCATED },
        { "P6\n99999999999999999999999 1\n255\n", LVC_ERR_CORRUPT },
        { "P7\nWIDTH 99999999999999999999999\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\na",
          LVC_ERR_CORRUPT },
        { "P6\n2 1\n0\nabcdef", LVC_ERR_CORRUPT },         /* maxval 0 */
        { "P6\n2 1\n65536\nabcdef", LVC_ERR_CORRUPT },
        { "P6\n0 1\n255\n", LVC_ERR_DIMENSIONS },
        { "P6\n99999999999 1\n255\n", LVC_ERR_CORRUPT },   /* too long a number */
        { "P5\n2 1\n100\n\x64\x65", LVC_ERR_CORRUPT },     /* sample above maxval */
        { "P5\n1 1\n1000\n\x03\xe9", LVC_ERR_CORRUPT },
        { "P7 WIDTH 1\n", LVC_ERR_CORRUPT },
        { "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nabc\nx", LVC_ERR_CORRUPT },
        { "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\n", LVC_ERR_TRUNCATED },
        { "P7\nWIDTH 1\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\na", LVC_ERR_CORRUPT },
        { "P7\nWIDTH 1\nHEIGHT 1\nMAXVAL 255\nENDHDR\na", LVC_ERR_CORRUPT },   /* no DEPTH */
        { "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 5\nMAXVAL 255\nENDHDR\nabcde", LVC_ERR_FORMAT },
        { "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\na", LVC_ERR_FORMAT },
        { "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nTUPLTYPE CMYK\nENDHDR\na", LVC_ERR_FORMAT },
        { "P7\nWIDTH -1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\na", LVC_ERR_CORRUPT },
        { "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR x\na", LVC_ERR_CORRUPT },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&img, 0x55, sizeof(img));
        const int err = pnm_read_str(bad[i].text, strlen(bad[i].text), &img);
        ck_assert_msg(err == bad[i].err, "case %zu: got %d, expected %d", i, err, bad[i].err);
        if (err) {
            ck_assert_ptr_null(img.data);
            ck_assert_int_eq(img.width, 0);
        } else {
            lvc_image_free(&img);
        }
    }
    /* A NUL byte in a PAM header line. */
    static const char pam_nul[] = "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\0x\na";
    ck_assert_int_eq(pnm_read_str(pam_nul, sizeof(pam_nul) - 1, &img), LVC_ERR_CORRUPT);
    /* PAM comment lines may be of any length; another over-long line is
     * corrupt. */
    static const char pam_tail[] = "\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\na";
    char longline[2000];
    memset(longline, 'x', sizeof(longline));
    memcpy(longline, "P7\n  #", 6);
    memcpy(longline + 1500, pam_tail, sizeof(pam_tail) - 1);
    const size_t long_n = 1500 + sizeof(pam_tail) - 1;
    ck_assert_int_eq(pnm_read_str(longline, long_n, &img), 0);
    lvc_image_free(&img);
    longline[5] = 'x';
    ck_assert_int_eq(pnm_read_str(longline, long_n, &img), LVC_ERR_CORRUPT);
}
END_TEST

START_TEST(test_pnm_bad_input)
{
    LvcImage src, img;
    ck_assert_int_eq(lvc_image_alloc(&src, 20, 10, 3, 16), 0);
    fill_random(&src);
    uint8_t *pnm;
    size_t n;
    ck_assert_int_eq(lvc_pnm_write_mem(&src, 1, &pnm, &n), 0);

    /* Every truncation, of this PAM and of a PPM with comments in its
     * header, is refused as truncated, never crashes, leaks nothing. */
    static const char ppm[] = "P6 # a comment\n#another\n 2\t1\r\n255\n\x01\x02\x03\x04\x05\x06";
    for (int which = 0; which < 2; which++) {
        const uint8_t *full = which ? (const uint8_t *)ppm : pnm;
        const size_t full_n = which ? sizeof(ppm) - 1 : n;
        for (size_t k = 0; k < full_n; k++) {
            uint8_t *b = malloc(k ? k : 1);
            memcpy(b, full, k);
            memset(&img, 0x55, sizeof(img));
            const int err = lvc_pnm_read_mem(b, k, &img, 0);
            ck_assert_msg(err == LVC_ERR_TRUNCATED, "file %d cut at %zu: %d", which, k, err);
            ck_assert_ptr_null(img.data);
            ck_assert_int_eq(img.width, 0);
            free(b);
        }
    }

    /* A header claiming far more pixels than the data holds allocates
     * nothing (the allocator is told to fail on any allocation). */
    static const char huge[] = "P6\n16000 16000\n255\nabc";
    lvc_mem_fail_after(0);
    ck_assert_int_eq(lvc_pnm_read_mem((const uint8_t *)huge, sizeof(huge) - 1, &img, 0),
                     LVC_ERR_TRUNCATED);
    lvc_mem_fail_after(-1);

    /* Pixel limit, before allocation. */
    ck_assert_int_eq(lvc_pnm_read_mem(pnm, n, &img, 199), LVC_ERR_DIMENSIONS);
    ck_assert_int_eq(lvc_pnm_read_mem(pnm, n, &img, 200), 0);
    lvc_image_free(&img);
    lvc_mem_fail_after(0);
    ck_assert_int_eq(lvc_pnm_read_mem(pnm, n, &img, 0), LVC_ERR_NOMEM);
    lvc_mem_fail_after(-1);
    ck_assert_ptr_null(img.data);

    /* Files. */
    ck_assert_int_eq(lvc_pnm_read_file("/nonexistent/dir/x.pam", &img, 0), LVC_ERR_IO);
    ck_assert_int_eq(lvc_pnm_write_file("/nonexistent/dir/x.pam", &src, 1), LVC_ERR_IO);
    make_tmp_dir();
    char path[512];
    tmp_path(path, sizeof(path), "cut.pam");
    FILE *f = fopen(path, "wb");
    fwrite(pnm, 1, n / 2, f);
    fclose(f);
    ck_assert_int_eq(lvc_pnm_read_file(path, &img, 0), LVC_ERR_TRUNCATED);
    ck_assert_ptr_null(img.data);
    /* From a regular file too, a header claiming more than the file holds
     * allocates nothing. */
    f = fopen(path, "wb");
    fwrite(huge, 1, sizeof(huge) - 1, f);
    fclose(f);
    lvc_mem_fail_after(0);
    ck_assert_int_eq(lvc_pnm_read_file(path, &img, 0), LVC_ERR_TRUNCATED);
    lvc_mem_fail_after(-1);
    ck_assert_int_eq(lvc_pnm_read_file(tmp_dir, &img, 0), LVC_ERR_IO);   /* a directory */
    unlink(path);
    remove_tmp_dir();

    ck_assert_int_eq(lvc_pnm_read_mem(NULL, 3, &img, 0), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_pnm_read_mem(pnm, n, NULL, 0), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_pnm_write_file(NULL, &src, 0), LVC_ERR_INVALID_ARG);
    LvcImage empty = { 0 };
    uint8_t *none;
    size_t none_size;
    ck_assert_int_eq(lvc_pnm_write_mem(&empty, 0, &none, &none_size), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(none);
    free(pnm);
    lvc_image_free(&src);
}
END_TEST

START_TEST(test_planar_conversion)
{
    for (int depth = 8; depth <= 16; depth += 8) {
        for (int ch = 1; ch <= 4; ch++) {
            LvcImage img, back;
            ck_assert_int_eq(lvc_image_alloc(&img, 9, 6, ch, depth), 0);
            ck_assert_int_eq(lvc_image_alloc(&back, 9, 6, ch, depth), 0);
            fill_random(&img);
            float *planes = malloc(sizeof(float) * 3 * 9 * 6);
            ck_assert_int_eq(lvc_image_to_planar_f32(&img, planes), 0);
            for (int i = 0; i < 3 * 54; i++)
                ck_assert(planes[i] >= 0.0f && planes[i] <= 1.0f);
            if (ch <= 2) {   /* gray replicated */
                ck_assert_float_eq(planes[5], planes[54 + 5]);
                ck_assert_float_eq(planes[5], planes[108 + 5]);
            }
            ck_assert_int_eq(lvc_image_from_planar_f32(&back, planes), 0);
            const unsigned maxv = depth == 8 ? 255 : 65535;
            for (int y = 0; y < 6; y++) {
                for (int x = 0; x < 9; x++) {
                    const int colours = ch <= 2 ? 1 : 3;
                    for (int c = 0; c < colours; c++)
                        ck_assert_uint_eq(sample(&back, x, y, c), sample(&img, x, y, c));
                    if (ch == 2 || ch == 4)   /* alpha becomes opaque */
                        ck_assert_uint_eq(sample(&back, x, y, ch - 1), maxv);
                }
            }
            free(planes);
            lvc_image_free(&img);
            lvc_image_free(&back);
        }
    }

    /* Rounding, clamping, NaN; gray takes the mean of the planes. */
    LvcImage img;
    ck_assert_int_eq(lvc_image_alloc(&img, 8, 1, 3, 8), 0);
    const float v[8] = { -1.0f, 0.0f, 0.4f / 255, 0.6f / 255, 1.0f, 7.0f, NAN, 100.6f / 255 };
    const unsigned want[8] = { 0, 0, 0, 1, 255, 255, 0, 101 };
    float planes[24];
    for (int i = 0; i < 8; i++)
        planes[i] = planes[8 + i] = planes[16 + i] = v[i];
    ck_assert_int_eq(lvc_image_from_planar_f32(&img, planes), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(sample(&img, i, 0, 0), want[i]);
    lvc_image_free(&img);
    ck_assert_int_eq(lvc_image_alloc(&img, 1, 1, 1, 16), 0);
    const float mean3[3] = { 0.0f, 0.5f, 1.0f };
    ck_assert_int_eq(lvc_image_from_planar_f32(&img, mean3), 0);
    ck_assert_uint_eq(sample(&img, 0, 0, 0), 32768);   /* 0.5 * 65535 + 0.5 */
    lvc_image_free(&img);

    /* Rectangles: outside reads repeat the edge, outside writes are
     * skipped. */
    ck_assert_int_eq(lvc_image_alloc(&img, 3, 2, 1, 8), 0);
    for (int i = 0; i < 6; i++)
        img.data[(i / 3) * img.stride + i % 3] = (uint8_t)(i * 51);   /* 0 51 102 / 153 204 255 */
    float p[3 * 4 * 4];
    ck_assert_int_eq(lvc_image_to_planar_f32_rect(&img, -1, 1, 4, 4, p), 0);
    const unsigned exp_rows[4][4] = {
        { 153, 153, 204, 255 }, { 153, 153, 204, 255 }, { 153, 153, 204, 255 }, { 153, 153, 204, 255 }
    };
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq_tol(p[j * 4 + i] * 255.0f, (float)exp_rows[j][i], 1e-3f);
    for (int i = 0; i < 48; i++)
        p[i] = 0.0f;
    ck_assert_int_eq(lvc_image_from_planar_f32_rect(&img, 2, 1, 4, 4, p), 0);
    ck_assert_uint_eq(sample(&img, 2, 1, 0), 0);     /* inside: written */
    ck_assert_uint_eq(sample(&img, 1, 1, 0), 204);   /* left of the rect: untouched */
    ck_assert_uint_eq(sample(&img, 2, 0, 0), 102);   /* above: untouched */
    ck_assert_int_eq(lvc_image_to_planar_f32_rect(&img, 0, 0, 0, 1, p), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_image_to_planar_f32(&img, NULL), LVC_ERR_INVALID_ARG);
    lvc_image_free(&img);
    ck_assert_int_eq(lvc_image_to_planar_f32(&img, p), LVC_ERR_INVALID_ARG);   /* freed */
}
END_TEST

TCase *lvc_test_image_io_tcase(void)
{
    TCase *tc = tcase_create("image_io");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_image_alloc);
    tcase_add_test(tc, test_png_round_trip);
    tcase_add_test(tc, test_png_write_stride);
    tcase_add_test(tc, test_png_low_depth_gray);
    tcase_add_test(tc, test_png_palette_and_trns);
    tcase_add_test(tc, test_png_16bit_interlaced);
    tcase_add_test(tc, test_png_bad_input);
    tcase_add_test(tc, test_pnm_round_trip);
    tcase_add_test(tc, test_pnm_headers);
    tcase_add_test(tc, test_pnm_bad_input);
    tcase_add_test(tc, test_planar_conversion);
    return tc;
}
