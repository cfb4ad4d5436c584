/*
 * YUV file I/O tests (include/lvc/video.h): the default format and frame
 * sizes; Y4M headers (every C variant, defaults, XCOLORRANGE, the matrix
 * chosen by size, and each malformed or unsupported token with its
 * error); the conversions (grey stays grey, known colours, chroma
 * upsampling by siting against 4:4:4 frames built by hand, the
 * downsampling filters); round trips YUV -> RGB16 -> YUV within one code
 * for every layout, siting, range and odd size, and writer -> reader;
 * truncation at every byte, bad frame headers, the raw reader, write
 * errors, and a huge declared frame that must not allocate.
 *
 * Files are tmpfile()s; nothing outside the build is needed.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/video.h"
#include "common/mem.h"
#include "tests/video/test_video.h"

/* ------------------------------------------------------------ helpers */

/* A temporary file holding n bytes, positioned at its start. */
static FILE *file_with(const void *buf, size_t n)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    if (n)
        ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    rewind(f);
    return f;
}

/* The whole content of f (from its start); release with free(). */
static uint8_t *file_bytes(FILE *f, size_t *n)
{
    ck_assert_int_eq(fflush(f), 0);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    const long size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    uint8_t *b = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)size, f), (size_t)size);
    *n = (size_t)size;
    rewind(f);
    return b;
}

static LvcVideoFormat format(uint32_t w, uint32_t h, int chroma, int siting, int full)
{
    LvcVideoFormat f;
    lvc_video_format_default(&f);
    f.width = w;
    f.height = h;
    f.chroma = (uint8_t)chroma;
    f.siting = (uint8_t)siting;
    f.full_range = (uint8_t)full;
    f.rgb_mapping = LVC_RGB_NOMINAL;   /* the code-value mapping: test_code_values */
    return f;
}

static void chroma_dims(const LvcVideoFormat *f, uint32_t *cw, uint32_t *ch)
{
    *cw = f->chroma == LVC_CHROMA_444 ? f->width : (f->width + 1) / 2;
    *ch = f->chroma == LVC_CHROMA_420 ? (f->height + 1) / 2 : f->height;
    if (f->chroma == LVC_CHROMA_MONO)
        *cw = *ch = 0;
}

/* A triangle wave of slope 1 between 0 and 55. */
static int tri(int t)
{
    t %= 110;
    return t < 55 ? t : 110 - t;
}

/* Smooth, in-gamut planes: luma anything in 80..170 (it is never
 * filtered), chroma in 100..155 with slopes of at most 2 codes per
 * sample. */
static uint8_t *smooth_planes(const LvcVideoFormat *f, int phase)
{
    const size_t size = lvc_yuv_frame_size(f);
    ck_assert_uint_gt(size, 0);
    uint8_t *p = malloc(size);
    ck_assert_ptr_nonnull(p);
    const uint32_t w = f->width, h = f->height;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            p[y * w + x] = (uint8_t)(80 + (x * 37 + y * 23 + (uint32_t)phase * 7) % 91);
    uint32_t cw, ch;
    chroma_dims(f, &cw, &ch);
    uint8_t *u = p + (size_t)w * h, *v = u + (size_t)cw * ch;
    for (uint32_t j = 0; j < ch; j++) {
        for (uint32_t i = 0; i < cw; i++) {
            u[j * cw + i] = (uint8_t)(100 + tri((int)(i + j) + phase));
            v[j * cw + i] = (uint8_t)(100 + tri((int)(2 * i + 30) - (int)j + 55 + phase));
        }
    }
    return p;
}

/* The Y4M stream header the writer is specified to write. */
static int y4m_header(const LvcVideoFormat *f, char *buf, size_t cap)
{
    const char *cs = f->chroma == LVC_CHROMA_420
                         ? (f->siting == LVC_SITING_CENTER ? "420jpeg" : "420mpeg2")
                     : f->chroma == LVC_CHROMA_422 ? "422"
                     : f->chroma == LVC_CHROMA_444 ? "444"
                                                   : "mono";
    return snprintf(buf, cap, "YUV4MPEG2 W%u H%u F%u:%u Ip A%u:%u C%s%s\n", f->width,
                    f->height, f->fps_num, f->fps_den, f->sar_num, f->sar_den, cs,
                    f->full_range ? " XCOLORRANGE=FULL" : "");
}

/* A Y4M file of nframes copies of planes (format f). */
static FILE *y4m_file(const LvcVideoFormat *f, const uint8_t *planes, int nframes)
{
    char head[256];
    const int hn = y4m_header(f, head, sizeof(head));
    const size_t size = lvc_yuv_frame_size(f);
    FILE *file = tmpfile();
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fwrite(head, 1, (size_t)hn, file), (size_t)hn);
    for (int i = 0; i < nframes; i++) {
        ck_assert_int_ge(fputs("FRAME\n", file), 0);
        ck_assert_uint_eq(fwrite(planes, 1, size, file), size);
    }
    rewind(file);
    return file;
}

/* Opens the header text (plus "\n" and nothing else) with max_pixels;
 * returns the error, and on success the format. */
static int open_header(const char *text, uint64_t max_pixels, LvcVideoFormat *fmt)
{
    FILE *f = file_with(text, strlen(text));
    LvcYuvReader *r = (LvcYuvReader *)(uintptr_t)1;
    LvcVideoFormat got;
    memset(&got, 0x5a, sizeof(got));
    const int err = lvc_y4m_reader_open(&r, f, max_pixels, &got);
    if (err) {
        static const LvcVideoFormat zero;
        ck_assert_ptr_null(r);
        ck_assert_mem_eq(&got, &zero, sizeof(zero));
    } else {
        ck_assert_ptr_nonnull(r);
        lvc_yuv_reader_close(&r);
        ck_assert_ptr_null(r);
    }
    fclose(f);
    if (fmt)
        *fmt = got;
    return err;
}

static void alloc_rgb(LvcImage *img, int w, int h, int depth)
{
    ck_assert_int_eq(lvc_image_alloc(img, w, h, 3, depth), 0);
}

static unsigned px16(const LvcImage *img, int x, int y, int c)
{
    uint16_t v;
    memcpy(&v, img->data + (size_t)y * img->stride + 2 * (3 * (size_t)x + c), 2);
    return v;
}

/* A smooth RGB picture, 8 or 16 bit. */
static void smooth_rgb(LvcImage *img, int w, int h, int depth, int phase)
{
    alloc_rgb(img, w, h, depth);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const double v[3] = { 0.3 + 0.3 * tri(x + phase) / 55.0,
                                  0.4 + 0.2 * tri(y + 2 * phase) / 55.0,
                                  0.7 - 0.25 * tri(x + y) / 55.0 };
            for (int c = 0; c < 3; c++) {
                uint8_t *p = img->data + (size_t)y * img->stride;
                if (depth == 8) {
                    p[3 * x + c] = (uint8_t)(v[c] * 255.0 + 0.5);
                } else {
                    const uint16_t s = (uint16_t)(v[c] * 65535.0 + 0.5);
                    memcpy(p + 2 * (3 * (size_t)x + c), &s, 2);
                }
            }
        }
    }
}

/* ------------------------------------------------------- format, sizes */

START_TEST(test_format_default)
{
    LvcVideoFormat f;
    memset(&f, 0x77, sizeof(f));
    lvc_video_format_default(&f);
    ck_assert_uint_eq(f.width, 0);
    ck_assert_uint_eq(f.height, 0);
    ck_assert_uint_eq(f.fps_num, 25);
    ck_assert_uint_eq(f.fps_den, 1);
    ck_assert_uint_eq(f.sar_num, 0);
    ck_assert_uint_eq(f.sar_den, 0);
    ck_assert_uint_eq(f.chroma, LVC_CHROMA_420);
    ck_assert_uint_eq(f.siting, LVC_SITING_LEFT);
    ck_assert_uint_eq(f.matrix, LVC_MATRIX_BT601);
    ck_assert_uint_eq(f.full_range, 0);
    lvc_video_format_default(NULL);
}
END_TEST

START_TEST(test_frame_size)
{
    LvcVideoFormat f = format(4, 4, LVC_CHROMA_420, 0, 0);
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 16 + 2 * 4);
    f = format(5, 3, LVC_CHROMA_420, 0, 0);
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 15 + 2 * 3 * 2);
    f = format(5, 3, LVC_CHROMA_422, 0, 0);
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 15 + 2 * 3 * 3);
    f = format(5, 3, LVC_CHROMA_444, 0, 0);
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 45);
    f = format(5, 3, LVC_CHROMA_MONO, 0, 0);
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 15);
    f = format(1, 1, LVC_CHROMA_420, 0, 0);
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 3);
    f = format(1920, 1080, LVC_CHROMA_420, 0, 0);
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 1920 * 1080 * 3 / 2);
    if (sizeof(size_t) >= 8) {
        f = format(65535, 65535, LVC_CHROMA_444, 0, 0);
        ck_assert_uint_eq(lvc_yuv_frame_size(&f), (size_t)3 * 65535 * 65535);
    }
    /* Invalid formats. */
    ck_assert_uint_eq(lvc_yuv_frame_size(NULL), 0);
    const LvcVideoFormat good = format(8, 8, LVC_CHROMA_420, 0, 0);
    f = good;
    f.width = 0;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 0);
    f = good;
    f.height = 65536;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 0);
    f = good;
    f.chroma = 4;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 0);
    f = good;
    f.siting = 2;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 0);
    f = good;
    f.matrix = 2;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 0);
    f = good;
    f.full_range = 2;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 0);
    f = good;
    f.fps_den = 0;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 0);
    f = good;
    f.sar_num = 1;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 0);
    f = good;
    ck_assert_uint_eq(lvc_yuv_frame_size(&f), 96);
}
END_TEST

/* ------------------------------------------------------------ headers */

START_TEST(test_y4m_header_colorspaces)
{
    static const struct { const char *c; int chroma, siting; } cases[] = {
        { "", LVC_CHROMA_420, LVC_SITING_CENTER },        /* default: 420jpeg */
        { " C420jpeg", LVC_CHROMA_420, LVC_SITING_CENTER },
        { " C420mpeg2", LVC_CHROMA_420, LVC_SITING_LEFT },
        { " C420paldv", LVC_CHROMA_420, LVC_SITING_LEFT },
        { " C420", LVC_CHROMA_420, LVC_SITING_CENTER },
        { " C422", LVC_CHROMA_422, LVC_SITING_LEFT },
        { " C444", LVC_CHROMA_444, -1 },
        { " Cmono", LVC_CHROMA_MONO, -1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "YUV4MPEG2 W6 H5%s\n", cases[i].c);
        LvcVideoFormat f;
        ck_assert_msg(open_header(text, 0, &f) == 0, "%s", text);
        ck_assert_uint_eq(f.width, 6);
        ck_assert_uint_eq(f.height, 5);
        ck_assert_uint_eq(f.chroma, cases[i].chroma);
        if (cases[i].siting >= 0)
            ck_assert_uint_eq(f.siting, cases[i].siting);
        /* Defaults: 25 fps, unknown aspect, limited range, BT.601. */
        ck_assert_uint_eq(f.fps_num, 25);
        ck_assert_uint_eq(f.fps_den, 1);
        ck_assert_uint_eq(f.sar_num, 0);
        ck_assert_uint_eq(f.sar_den, 0);
        ck_assert_uint_eq(f.full_range, 0);
        ck_assert_uint_eq(f.matrix, LVC_MATRIX_BT601);
    }
}
END_TEST

START_TEST(test_y4m_header_fields)
{
    LvcVideoFormat f;
    ck_assert_int_eq(open_header("YUV4MPEG2 W720 H576 F30000:1001 It0 Ip A16:15 C422 "
                                 "XCOLORRANGE=FULL XYSCSS=422\n", 0, &f),
                     LVC_ERR_CORRUPT);   /* "It0" */
    ck_assert_int_eq(open_header("YUV4MPEG2 W720 H576 F30000:1001 Ip A16:15 C422 "
                                 "XCOLORRANGE=FULL XYSCSS=422 Zunknown\n", 0, &f), 0);
    ck_assert_uint_eq(f.width, 720);
    ck_assert_uint_eq(f.height, 576);
    ck_assert_uint_eq(f.fps_num, 30000);
    ck_assert_uint_eq(f.fps_den, 1001);
    ck_assert_uint_eq(f.sar_num, 16);
    ck_assert_uint_eq(f.sar_den, 15);
    ck_assert_uint_eq(f.chroma, LVC_CHROMA_422);
    ck_assert_uint_eq(f.full_range, 1);
    ck_assert_uint_eq(f.matrix, LVC_MATRIX_BT601);
    ck_assert_int_eq(open_header("YUV4MPEG2 W8 H8 XCOLORRANGE=LIMITED A0:0\n", 0, &f), 0);
    ck_assert_uint_eq(f.full_range, 0);
    ck_assert_uint_eq(f.sar_num, 0);
    /* Tokens in any order. */
    ck_assert_int_eq(open_header("YUV4MPEG2 C444 Ip F50:1 H2 W3\n", 0, &f), 0);
    ck_assert_uint_eq(f.width, 3);
    ck_assert_uint_eq(f.height, 2);
    ck_assert_uint_eq(f.fps_num, 50);
    /* The matrix follows the size: BT.709 from 1280x720 pixels up. */
    ck_assert_int_eq(open_header("YUV4MPEG2 W1280 H720\n", 0, &f), 0);
    ck_assert_uint_eq(f.matrix, LVC_MATRIX_BT709);
    ck_assert_int_eq(open_header("YUV4MPEG2 W1280 H719\n", 0, &f), 0);
    ck_assert_uint_eq(f.matrix, LVC_MATRIX_BT601);
    ck_assert_int_eq(open_header("YUV4MPEG2 W65535 H1\n", 0, &f), 0);
    ck_assert_uint_eq(f.matrix, LVC_MATRIX_BT601);
    ck_assert_int_eq(open_header("YUV4MPEG2 W921600 H1\n", 0, &f), LVC_ERR_DIMENSIONS);
    /* max_pixels */
    ck_assert_int_eq(open_header("YUV4MPEG2 W100 H100\n", 10000, NULL), 0);
    ck_assert_int_eq(open_header("YUV4MPEG2 W100 H100\n", 9999, NULL), LVC_ERR_DIMENSIONS);
    ck_assert_int_eq(open_header("YUV4MPEG2 W16384 H16384\n", 0, NULL), 0);
    ck_assert_int_eq(open_header("YUV4MPEG2 W16385 H16384\n", 0, NULL), LVC_ERR_DIMENSIONS);
    ck_assert_int_eq(open_header("YUV4MPEG2 W65535 H65535\n", UINT64_MAX, NULL), 0);
}
END_TEST

START_TEST(test_y4m_header_errors)
{
    static const struct { const char *text; int err; } cases[] = {
        { "YUV4MPEG2 H4 F25:1\n", LVC_ERR_CORRUPT },           /* no W */
        { "YUV4MPEG2 W4\n", LVC_ERR_CORRUPT },                 /* no H */
        { "YUV4MPEG2 \n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2\n", LVC_ERR_FORMAT },                      /* magic without space */
        { "YUV4MPEG W4 H4\n", LVC_ERR_FORMAT },
        { "P5 4 4 255\n", LVC_ERR_FORMAT },
        { "", LVC_ERR_TRUNCATED },
        { "YUV4M", LVC_ERR_TRUNCATED },
        { "YUV4MPEG2 W4 H4", LVC_ERR_TRUNCATED },               /* no '\n' */
        { "YUV4MPEG2 W0 H4\n", LVC_ERR_DIMENSIONS },
        { "YUV4MPEG2 W4 H0\n", LVC_ERR_DIMENSIONS },
        { "YUV4MPEG2 W65536 H1\n", LVC_ERR_DIMENSIONS },
        { "YUV4MPEG2 W1 H65536\n", LVC_ERR_DIMENSIONS },
        { "YUV4MPEG2 W99999999999999999999999 H1\n", LVC_ERR_DIMENSIONS },
        { "YUV4MPEG2 W H4\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W-4 H4\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4x H4\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 W4 H4\n", LVC_ERR_CORRUPT },           /* given twice */
        { "YUV4MPEG2 W4  H4\n", LVC_ERR_CORRUPT },             /* two spaces */
        { "YUV4MPEG2 W4 H4 \n", LVC_ERR_CORRUPT },             /* trailing space */
        { "YUV4MPEG2 W4 H4\r\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 F0:1\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 F25:0\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 F0:0\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 F25\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 F25:1x\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 F4294967296:1\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 A1:0\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 A0:1\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 A:\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 It\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 Ib\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 Im\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 I?\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 Ix\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 I\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 C420p10\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 C422p12\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 C444p16\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 Cmono16\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 C444alpha\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 C411\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 Cfoo\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 C\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 C420 C420\n", LVC_ERR_CORRUPT },
        { "YUV4MPEG2 W4 H4 XCOLORRANGE=HALF\n", LVC_ERR_CORRUPT },
        /* The first error in token order wins. */
        { "YUV4MPEG2 W4 H4 It C420p10\n", LVC_ERR_FORMAT },
        { "YUV4MPEG2 W4 H4 F0:1 It\n", LVC_ERR_CORRUPT },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(open_header(cases[i].text, 0, NULL) == cases[i].err, "%s: %d",
                      cases[i].text, open_header(cases[i].text, 0, NULL));
    /* A NUL byte in the header. */
    static const char nul[] = "YUV4MPEG2 W4 H4 X\0Y\n";
    FILE *f = file_with(nul, sizeof(nul) - 1);
    LvcYuvReader *r;
    ck_assert_int_eq(lvc_y4m_reader_open(&r, f, 0, NULL), LVC_ERR_CORRUPT);
    ck_assert_ptr_null(r);
    fclose(f);
    /* Arguments. */
    f = file_with("YUV4MPEG2 W4 H4\n", 16);
    ck_assert_int_eq(lvc_y4m_reader_open(NULL, f, 0, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_y4m_reader_open(&r, NULL, 0, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_y4m_reader_open(&r, f, 0, NULL), 0);
    lvc_yuv_reader_close(&r);
    lvc_yuv_reader_close(&r);
    lvc_yuv_reader_close(NULL);
    fclose(f);
}
END_TEST

START_TEST(test_y4m_header_length)
{
    /* 1024 bytes with the '\n' are accepted, 1025 are not. */
    char text[1100];
    const char *head = "YUV4MPEG2 W4 H4 X";
    for (size_t len = 1020; len <= 1030; len++) {
        const size_t hl = strlen(head);
        memcpy(text, head, hl);
        memset(text + hl, 'a', len - 1 - hl);
        text[len - 1] = '\n';
        text[len] = '\0';
        ck_assert_int_eq(open_header(text, 0, NULL), len <= 1024 ? 0 : LVC_ERR_CORRUPT);
    }
    /* Even with no '\n' at all. */
    memset(text, 'W', sizeof(text) - 1);
    memcpy(text, "YUV4MPEG2 ", 10);
    text[sizeof(text) - 1] = '\0';
    ck_assert_int_eq(open_header(text, 0, NULL), LVC_ERR_CORRUPT);
}
END_TEST

/* --------------------------------------------------------- conversion */

/* Reads one frame of planes (format f, through a Y4M file) as RGB16. */
static void planes_to_rgb(const LvcVideoFormat *f, const uint8_t *planes, LvcImage *rgb)
{
    FILE *file = y4m_file(f, planes, 1);
    LvcYuvReader *r;
    LvcVideoFormat got;
    ck_assert_int_eq(lvc_y4m_reader_open(&r, file, 0, &got), 0);
    ck_assert_int_eq(lvc_yuv_reader_set_rgb_mapping(r, f->rgb_mapping), 0);
    ck_assert_uint_eq(got.chroma, f->chroma);
    if (f->chroma == LVC_CHROMA_420)
        ck_assert_uint_eq(got.siting, f->siting);
    ck_assert_uint_eq(got.full_range, f->full_range);
    ck_assert_uint_eq(got.matrix, f->matrix);
    ck_assert_int_eq(lvc_yuv_read_frame(r, rgb), 1);
    ck_assert_int_eq(rgb->channels, 3);
    ck_assert_int_eq(rgb->bit_depth, 16);
    ck_assert_int_eq(rgb->width, (int)f->width);
    ck_assert_int_eq(rgb->height, (int)f->height);
    size_t size;
    const uint8_t *p = lvc_yuv_reader_planes(r, &size);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(size, lvc_yuv_frame_size(f));
    ck_assert_mem_eq(p, planes, size);
    LvcImage end;
    ck_assert_int_eq(lvc_yuv_read_frame(r, &end), 0);
    ck_assert_ptr_null(end.data);
    ck_assert_ptr_null(lvc_yuv_reader_planes(r, &size));
    ck_assert_uint_eq(size, 0);
    lvc_yuv_reader_close(&r);
    fclose(file);
}

/* A raw one-frame reader of planes in format f (any matrix). */
static void planes_to_rgb_raw(const LvcVideoFormat *f, const uint8_t *planes, LvcImage *rgb)
{
    FILE *file = file_with(planes, lvc_yuv_frame_size(f));
    LvcYuvReader *r;
    ck_assert_int_eq(lvc_yuv_reader_open_raw(&r, file, f), 0);
    ck_assert_int_eq(lvc_yuv_read_frame(r, rgb), 1);
    LvcImage end;
    ck_assert_int_eq(lvc_yuv_read_frame(r, &end), 0);
    lvc_yuv_reader_close(&r);
    fclose(file);
}

START_TEST(test_grey_stays_grey)
{
    /* Y=128, C=128 in every matrix and range: R = G = B, at the level the
     * range gives. */
    for (int full = 0; full <= 1; full++) {
        for (int m = 0; m <= 1; m++) {
            for (int chroma = 0; chroma <= 3; chroma++) {
                LvcVideoFormat f = format(5, 3, chroma, LVC_SITING_CENTER, full);
                f.matrix = (uint8_t)m;
                const size_t size = lvc_yuv_frame_size(&f);
                uint8_t planes[64];
                memset(planes, 128, size);
                LvcImage rgb;
                planes_to_rgb_raw(&f, planes, &rgb);
                const unsigned want = full ? 32896 : 33516;  /* 128/255, 112/219 */
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 5; x++)
                        for (int c = 0; c < 3; c++)
                            ck_assert_uint_eq(px16(&rgb, x, y, c), want);
                /* And back: exactly 128 everywhere. */
                uint8_t back[64];
                ck_assert_int_eq(lvc_yuv_from_rgb(&f, &rgb, back), 0);
                for (size_t i = 0; i < size; i++)
                    ck_assert_uint_eq(back[i], 128);
                lvc_image_free(&rgb);
            }
        }
    }
    /* Every grey level: R = G = B, black and white at the range's ends. */
    for (int full = 0; full <= 1; full++) {
        LvcVideoFormat f = format(256, 1, LVC_CHROMA_444, 0, full);
        uint8_t planes[3 * 256];
        for (int i = 0; i < 256; i++)
            planes[i] = (uint8_t)i;
        memset(planes + 256, 128, 512);
        LvcImage rgb;
        planes_to_rgb(&f, planes, &rgb);
        for (int x = 0; x < 256; x++) {
            const unsigned g = px16(&rgb, x, 0, 1);
            ck_assert_uint_eq(px16(&rgb, x, 0, 0), g);
            ck_assert_uint_eq(px16(&rgb, x, 0, 2), g);
            if (x > 0)
                ck_assert_uint_ge(g, px16(&rgb, x - 1, 0, 1));
        }
        ck_assert_uint_eq(px16(&rgb, full ? 0 : 16, 0, 1), 0);
        ck_assert_uint_eq(px16(&rgb, full ? 255 : 235, 0, 1), 65535);
        ck_assert_uint_eq(px16(&rgb, 0, 0, 1), 0);        /* clamped below 16 */
        ck_assert_uint_eq(px16(&rgb, 255, 0, 1), 65535);  /* and above 235 */
        if (!full)
            ck_assert_uint_gt(px16(&rgb, 17, 0, 1), 0);
        lvc_image_free(&rgb);
    }
}
END_TEST

START_TEST(test_known_colours)
{
    /* RGB primaries to limited-range Y'CbCr, the values of BT.601 and
     * BT.709 tables. */
    static const struct { int matrix; uint8_t rgb[3], yuv[3]; } cases[] = {
        { LVC_MATRIX_BT601, { 255, 0, 0 }, { 81, 90, 240 } },
        { LVC_MATRIX_BT601, { 0, 255, 0 }, { 145, 54, 34 } },
        { LVC_MATRIX_BT601, { 0, 0, 255 }, { 41, 240, 110 } },
        { LVC_MATRIX_BT601, { 255, 255, 255 }, { 235, 128, 128 } },
        { LVC_MATRIX_BT601, { 0, 0, 0 }, { 16, 128, 128 } },
        { LVC_MATRIX_BT709, { 255, 0, 0 }, { 63, 102, 240 } },
        { LVC_MATRIX_BT709, { 0, 255, 0 }, { 173, 42, 26 } },
        { LVC_MATRIX_BT709, { 0, 0, 255 }, { 32, 240, 118 } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        LvcVideoFormat f = format(1, 1, LVC_CHROMA_444, 0, 0);
        f.matrix = (uint8_t)cases[i].matrix;
        LvcImage rgb;
        alloc_rgb(&rgb, 1, 1, 8);
        memcpy(rgb.data, cases[i].rgb, 3);
        uint8_t yuv[3];
        ck_assert_int_eq(lvc_yuv_from_rgb(&f, &rgb, yuv), 0);
        ck_assert_msg(!memcmp(yuv, cases[i].yuv, 3), "case %zu: %u %u %u", i, yuv[0], yuv[1],
                      yuv[2]);
        /* Back to RGB: the primary within half a percent. */
        LvcImage back;
        planes_to_rgb_raw(&f, yuv, &back);
        for (int c = 0; c < 3; c++) {
            const int want = cases[i].rgb[c] * 257;
            const int got = (int)px16(&back, 0, 0, c);
            ck_assert_msg(abs(got - want) <= 330, "case %zu channel %d: %d", i, c, got);
        }
        lvc_image_free(&back);
        lvc_image_free(&rgb);
    }
    /* Full range: red is Y 76, Cr 255 in BT.601 (JPEG). */
    LvcVideoFormat f = format(1, 1, LVC_CHROMA_444, 0, 1);
    LvcImage rgb;
    alloc_rgb(&rgb, 1, 1, 8);
    rgb.data[0] = 255;
    rgb.data[1] = rgb.data[2] = 0;
    uint8_t yuv[3];
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &rgb, yuv), 0);
    ck_assert_uint_eq(yuv[0], 76);
    ck_assert_uint_eq(yuv[1], 85);
    ck_assert_uint_eq(yuv[2], 255);
    lvc_image_free(&rgb);
}
END_TEST

/* Upsampling: a subsampled frame converts exactly as the 4:4:4 frame of
 * the upsampled chroma written by hand (chroma values multiples of 16, so
 * every tap gives an integer). */
static void check_upsampled(const LvcVideoFormat *sub, const uint8_t *u, const uint8_t *v,
                            const uint8_t *want_u, const uint8_t *want_v)
{
    const uint32_t w = sub->width, h = sub->height;
    uint32_t cw, ch;
    chroma_dims(sub, &cw, &ch);
    uint8_t planes[256], full[256];
    ck_assert_uint_le(lvc_yuv_frame_size(sub), sizeof(planes));
    memset(planes, 120, (size_t)w * h);
    memcpy(planes + w * h, u, (size_t)cw * ch);
    memcpy(planes + w * h + cw * ch, v, (size_t)cw * ch);
    LvcVideoFormat f444 = *sub;
    f444.chroma = LVC_CHROMA_444;
    memset(full, 120, (size_t)w * h);
    memcpy(full + w * h, want_u, (size_t)w * h);
    memcpy(full + 2 * w * h, want_v, (size_t)w * h);
    LvcImage a, b;
    planes_to_rgb_raw(sub, planes, &a);
    planes_to_rgb_raw(&f444, full, &b);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                ck_assert_msg(px16(&a, (int)x, (int)y, c) == px16(&b, (int)x, (int)y, c),
                              "siting %d chroma %d at %u,%u", sub->siting, sub->chroma, x, y);
    lvc_image_free(&a);
    lvc_image_free(&b);
}

START_TEST(test_upsampling_siting)
{
    /* 4:2:2, one row of 5 luma (3 chroma) samples. */
    const uint8_t u[3] = { 96, 160, 128 }, v[3] = { 160, 96, 144 };
    LvcVideoFormat f = format(5, 1, LVC_CHROMA_422, LVC_SITING_LEFT, 0);
    /* LEFT: on the even columns, the mean between them. */
    const uint8_t left_u[5] = { 96, 128, 160, 144, 128 };
    const uint8_t left_v[5] = { 160, 128, 96, 120, 144 };
    check_upsampled(&f, u, v, left_u, left_v);
    /* CENTER: 3/4 of the nearer sample, 1/4 of the other, edges clamped. */
    f.siting = LVC_SITING_CENTER;
    const uint8_t ctr_u[5] = { 96, 112, 144, 152, 136 };
    const uint8_t ctr_v[5] = { 160, 144, 112, 108, 132 };
    check_upsampled(&f, u, v, ctr_u, ctr_v);

    /* 4:2:0, 1 column by 4 rows (2 chroma rows): rows always centred. */
    const uint8_t cu[2] = { 64, 192 }, cv[2] = { 192, 128 };
    const uint8_t col_u[4] = { 64, 96, 160, 192 }, col_v[4] = { 192, 176, 144, 128 };
    for (int s = 0; s <= 1; s++) {
        f = format(1, 4, LVC_CHROMA_420, s, 0);
        check_upsampled(&f, cu, cv, col_u, col_v);
    }
    /* 4:2:0 2D, 3x3 (2x2 chroma), LEFT: columns cosited, rows centred. */
    const uint8_t qu[4] = { 64, 128, 192, 0 }, qv[4] = { 128, 128, 128, 128 };
    f = format(3, 3, LVC_CHROMA_420, LVC_SITING_LEFT, 0);
    /* column weights (x=0: c0; x=1: (c0+c1)/2; x=2: c1), rows (y=0: r0;
     * y=1: 3/4 r0 + 1/4 r1; y=2: 3/4 r1 + 1/4 r0) */
    const uint8_t q_left[9] = { 64, 96, 128, 96, 96, 96, 160, 96, 32 };
    const uint8_t q_v[9] = { 128, 128, 128, 128, 128, 128, 128, 128, 128 };
    check_upsampled(&f, qu, qv, q_left, q_v);
    f.siting = LVC_SITING_CENTER;
    /* columns: x=0: c0; x=1: 3/4 c0 + 1/4 c1; x=2: 3/4 c1 + 1/4 c0 */
    const uint8_t q_ctr[9] = { 64, 80, 112, 96, 96, 96, 160, 128, 64 };
    check_upsampled(&f, qu, qv, q_ctr, q_v);
}
END_TEST

START_TEST(test_downsampling_filters)
{
    /* A 4:4:4 row with known chroma made RGB, then subsampled: the
     * filters of each siting, to the code (no sum ends in .5). */
    const uint8_t cr[5] = { 100, 140, 180, 120, 132 };
    LvcVideoFormat f444 = format(5, 1, LVC_CHROMA_444, 0, 0);
    uint8_t planes[15];
    memset(planes, 128, 15);
    memcpy(planes + 10, cr, 5);
    LvcImage rgb;
    planes_to_rgb(&f444, planes, &rgb);
    uint8_t out[11];
    LvcVideoFormat f = format(5, 1, LVC_CHROMA_422, LVC_SITING_LEFT, 0);
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &rgb, out), 0);
    ck_assert_mem_eq(out, planes, 5);               /* luma untouched */
    const uint8_t left[3] = { 110, 155, 129 };      /* [1 2 1]/4, edges clamped */
    ck_assert_mem_eq(out + 8, left, 3);
    f.siting = LVC_SITING_CENTER;
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &rgb, out), 0);
    const uint8_t ctr[3] = { 120, 150, 132 };       /* pair means */
    ck_assert_mem_eq(out + 8, ctr, 3);
    lvc_image_free(&rgb);

    /* 4:2:0: the two rows averaged (and a lone last row kept). */
    f444 = format(2, 3, LVC_CHROMA_444, 0, 0);
    uint8_t p2[18];
    memset(p2, 128, 18);
    const uint8_t cb[6] = { 100, 120, 150, 170, 90, 90 };
    memcpy(p2 + 6, cb, 6);
    planes_to_rgb(&f444, p2, &rgb);
    f = format(2, 3, LVC_CHROMA_420, LVC_SITING_CENTER, 0);
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &rgb, out), 0);
    ck_assert_uint_eq(out[6], 135);    /* (100 + 120 + 150 + 170) / 4 */
    ck_assert_uint_eq(out[7], 90);
    ck_assert_uint_eq(out[8], 128);
    ck_assert_uint_eq(out[9], 128);
    f.siting = LVC_SITING_LEFT;
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &rgb, out), 0);
    /* ((100 + 2*100 + 120)/4 + (150 + 2*150 + 170)/4) / 2 */
    ck_assert_uint_eq(out[6], 130);
    ck_assert_uint_eq(out[7], 90);
    lvc_image_free(&rgb);
}
END_TEST

/* YUV -> RGB16 -> YUV of the smooth pattern in format f: within one code
 * (exact for luma and for 4:4:4). */
static void yuv_round_trip(const LvcVideoFormat *f, int raw)
{
    uint8_t *planes = smooth_planes(f, (int)(f->width + f->height));
    LvcImage rgb;
    if (raw)
        planes_to_rgb_raw(f, planes, &rgb);
    else
        planes_to_rgb(f, planes, &rgb);
    const size_t size = lvc_yuv_frame_size(f);
    uint8_t *back = malloc(size);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(lvc_yuv_from_rgb(f, &rgb, back), 0);
    const size_t luma = (size_t)f->width * f->height;
    const int exact = f->chroma == LVC_CHROMA_444 || f->chroma == LVC_CHROMA_MONO;
    for (size_t i = 0; i < size; i++) {
        /* (Not ck_assert: Check records every passing assertion.) */
        const int d = abs((int)back[i] - (int)planes[i]);
        if (d > (i < luma || exact ? 0 : 1))
            ck_abort_msg("%ux%u chroma %d siting %d full %d matrix %d: byte %zu %u -> %u",
                         f->width, f->height, f->chroma, f->siting, f->full_range, f->matrix, i,
                         planes[i], back[i]);
    }
    free(back);
    free(planes);
    lvc_image_free(&rgb);
}

START_TEST(test_yuv_rgb_yuv_round_trip)
{
    static const uint32_t sizes[][2] = { { 16, 12 }, { 5, 3 }, { 7, 7 }, { 1, 1 }, { 2, 1 },
                                         { 1, 2 }, { 33, 17 }, { 64, 48 }, { 3, 8 } };
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int chroma = 0; chroma <= 3; chroma++)
            for (int siting = 0; siting <= 1; siting++)
                for (int full = 0; full <= 1; full++) {
                    LvcVideoFormat f = format(sizes[s][0], sizes[s][1], chroma, siting, full);
                    yuv_round_trip(&f, 0);
                    f.matrix = LVC_MATRIX_BT709;
                    yuv_round_trip(&f, 1);
                }
    /* HD through Y4M: the reader picks BT.709 and the writer's
     * conversion with it gives the planes back. */
    LvcVideoFormat f = format(1280, 720, LVC_CHROMA_420, LVC_SITING_LEFT, 0);
    f.matrix = LVC_MATRIX_BT709;
    yuv_round_trip(&f, 0);
}
END_TEST

START_TEST(test_rgb8_rgb16_alike)
{
    /* An 8-bit image and the same scaled to 16 bits (v * 257) give the
     * same planes. */
    LvcImage a, b;
    smooth_rgb(&a, 9, 5, 8, 3);
    alloc_rgb(&b, 9, 5, 16);
    for (int y = 0; y < 5; y++)
        for (int i = 0; i < 27; i++) {
            const uint16_t s = (uint16_t)(a.data[(size_t)y * a.stride + i] * 257);
            memcpy(b.data + (size_t)y * b.stride + 2 * i, &s, 2);
        }
    for (int chroma = 0; chroma <= 3; chroma++) {
        const LvcVideoFormat f = format(9, 5, chroma, LVC_SITING_CENTER, 0);
        uint8_t pa[135], pb[135];
        ck_assert_int_eq(lvc_yuv_from_rgb(&f, &a, pa), 0);
        ck_assert_int_eq(lvc_yuv_from_rgb(&f, &b, pb), 0);
        ck_assert_mem_eq(pa, pb, lvc_yuv_frame_size(&f));
    }
    /* Refused images. */
    const LvcVideoFormat f = format(9, 5, LVC_CHROMA_420, 0, 0);
    uint8_t p[135];
    LvcImage g;
    ck_assert_int_eq(lvc_image_alloc(&g, 9, 5, 1, 8), 0);
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &g, p), LVC_ERR_FORMAT);
    lvc_image_free(&g);
    ck_assert_int_eq(lvc_image_alloc(&g, 9, 5, 4, 8), 0);
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &g, p), LVC_ERR_FORMAT);
    lvc_image_free(&g);
    const LvcVideoFormat wrong = format(9, 4, LVC_CHROMA_420, 0, 0);
    ck_assert_int_eq(lvc_yuv_from_rgb(&wrong, &a, p), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, NULL, p), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &a, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_from_rgb(NULL, &a, p), LVC_ERR_INVALID_ARG);
    lvc_image_free(&a);
    lvc_image_free(&b);
}
END_TEST

/* ----------------------------------------------------- writer, reader */

/* Writes two smooth frames (8 then 16 bit) in format f and reads them
 * back: the same format, the planes lvc_yuv_from_rgb gives, and pictures
 * close to the originals. */
static void writer_round_trip(const LvcVideoFormat *f, int raw)
{
    FILE *file = tmpfile();
    ck_assert_ptr_nonnull(file);
    LvcYuvWriter *w;
    ck_assert_int_eq(lvc_yuv_writer_open(&w, file, f, raw), 0);
    LvcImage src[2];
    smooth_rgb(&src[0], (int)f->width, (int)f->height, 8, 0);
    smooth_rgb(&src[1], (int)f->width, (int)f->height, 16, 7);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(lvc_yuv_write_frame(w, &src[i]), 0);
    lvc_yuv_writer_close(&w);
    ck_assert_ptr_null(w);
    lvc_yuv_writer_close(&w);
    const size_t size = lvc_yuv_frame_size(f);
    size_t n;
    uint8_t *bytes = file_bytes(file, &n);
    char head[256];
    const size_t hn = raw ? 0 : (size_t)y4m_header(f, head, sizeof(head));
    ck_assert_uint_eq(n, hn + 2 * (size + (raw ? 0 : 6)));
    if (!raw)
        ck_assert_mem_eq(bytes, head, hn);

    LvcYuvReader *r;
    if (raw) {
        ck_assert_int_eq(lvc_yuv_reader_open_raw(&r, file, f), 0);
    } else {
        LvcVideoFormat got;
        ck_assert_int_eq(lvc_y4m_reader_open(&r, file, 0, &got), 0);
        ck_assert_uint_eq(got.width, f->width);
        ck_assert_uint_eq(got.height, f->height);
        ck_assert_uint_eq(got.fps_num, f->fps_num);
        ck_assert_uint_eq(got.fps_den, f->fps_den);
        ck_assert_uint_eq(got.sar_num, f->sar_num);
        ck_assert_uint_eq(got.sar_den, f->sar_den);
        ck_assert_uint_eq(got.chroma, f->chroma);
        if (f->chroma == LVC_CHROMA_420 || f->chroma == LVC_CHROMA_422)
            ck_assert_uint_eq(got.siting, f->siting);
        ck_assert_uint_eq(got.full_range, f->full_range);
        ck_assert_uint_eq(got.matrix, f->matrix);
        ck_assert_int_eq(lvc_yuv_reader_set_rgb_mapping(r, f->rgb_mapping), 0);
    }
    uint8_t *want = malloc(size);
    ck_assert_ptr_nonnull(want);
    for (int i = 0; i < 2; i++) {
        LvcImage rgb;
        ck_assert_int_eq(lvc_yuv_read_frame(r, &rgb), 1);
        ck_assert_int_eq(lvc_yuv_from_rgb(f, &src[i], want), 0);
        size_t ps;
        const uint8_t *p = lvc_yuv_reader_planes(r, &ps);
        ck_assert_uint_eq(ps, size);
        ck_assert_mem_eq(p, want, size);
        /* Pictures close to the originals: within 2 8-bit codes in
         * 4:4:4 (the steps of the range), 5 when subsampled (the chroma
         * clamped at the edges is up to 1.5 pixels away). Mono is grey. */
        if (f->chroma == LVC_CHROMA_MONO) {
            for (int y = 0; y < rgb.height; y++)
                for (int x = 0; x < rgb.width; x++)
                    if (px16(&rgb, x, y, 0) != px16(&rgb, x, y, 1) ||
                        px16(&rgb, x, y, 2) != px16(&rgb, x, y, 1))
                        ck_abort_msg("mono frame not grey at %d,%d", x, y);
        } else {
            int worst = 0;
            for (int y = 0; y < rgb.height; y++)
                for (int x = 0; x < rgb.width; x++)
                    for (int c = 0; c < 3; c++) {
                        int s;
                        if (src[i].bit_depth == 8)
                            s = src[i].data[(size_t)y * src[i].stride + 3 * x + c] * 257;
                        else
                            s = (int)px16(&src[i], x, y, c);
                        const int d = abs(s - (int)px16(&rgb, x, y, c));
                        worst = d > worst ? d : worst;
                    }
            const int bound = (f->chroma == LVC_CHROMA_444 ? 2 : 5) * 257;
            ck_assert_msg(worst <= bound, "%ux%u chroma %d: %d", f->width, f->height,
                          f->chroma, worst);
        }
        lvc_image_free(&rgb);
    }
    LvcImage end;
    ck_assert_int_eq(lvc_yuv_read_frame(r, &end), 0);
    ck_assert_int_eq(lvc_yuv_read_frame(r, &end), 0);
    lvc_yuv_reader_close(&r);
    free(want);
    free(bytes);
    lvc_image_free(&src[0]);
    lvc_image_free(&src[1]);
    fclose(file);
}

START_TEST(test_writer_reader_round_trip)
{
    static const uint32_t sizes[][2] = { { 16, 12 }, { 5, 3 }, { 7, 7 }, { 1, 1 }, { 32, 1 } };
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (int chroma = 0; chroma <= 3; chroma++) {
            for (int siting = 0; siting <= 1; siting++) {
                /* Y4M has one spelling of 4:2:2: C422, cosited. */
                if (chroma == LVC_CHROMA_422 && siting == LVC_SITING_CENTER)
                    continue;
                for (int full = 0; full <= 1; full++) {
                    LvcVideoFormat f = format(sizes[s][0], sizes[s][1], chroma, siting, full);
                    f.fps_num = 30000;
                    f.fps_den = 1001;
                    f.sar_num = s == 1 ? 0 : 4;
                    f.sar_den = s == 1 ? 0 : 3;
                    writer_round_trip(&f, 0);
                    f.matrix = LVC_MATRIX_BT709;
                    writer_round_trip(&f, 1);
                }
            }
        }
    }
}
END_TEST

START_TEST(test_writer_header)
{
    LvcVideoFormat f = format(5, 3, LVC_CHROMA_420, LVC_SITING_CENTER, 1);
    f.fps_num = 30000;
    f.fps_den = 1001;
    f.sar_num = 1;
    f.sar_den = 1;
    static const struct { int chroma, siting, full; const char *text; } cases[] = {
        { LVC_CHROMA_420, LVC_SITING_CENTER, 1,
          "YUV4MPEG2 W5 H3 F30000:1001 Ip A1:1 C420jpeg XCOLORRANGE=FULL\nFRAME\n" },
        { LVC_CHROMA_420, LVC_SITING_LEFT, 0, "YUV4MPEG2 W5 H3 F30000:1001 Ip A1:1 C420mpeg2\nFRAME\n" },
        { LVC_CHROMA_422, LVC_SITING_LEFT, 0, "YUV4MPEG2 W5 H3 F30000:1001 Ip A1:1 C422\nFRAME\n" },
        { LVC_CHROMA_444, LVC_SITING_LEFT, 1,
          "YUV4MPEG2 W5 H3 F30000:1001 Ip A1:1 C444 XCOLORRANGE=FULL\nFRAME\n" },
        { LVC_CHROMA_MONO, LVC_SITING_LEFT, 0, "YUV4MPEG2 W5 H3 F30000:1001 Ip A1:1 Cmono\nFRAME\n" },
    };
    LvcImage rgb;
    smooth_rgb(&rgb, 5, 3, 8, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f.chroma = (uint8_t)cases[i].chroma;
        f.siting = (uint8_t)cases[i].siting;
        f.full_range = (uint8_t)cases[i].full;
        FILE *file = tmpfile();
        LvcYuvWriter *w;
        ck_assert_int_eq(lvc_yuv_writer_open(&w, file, &f, 0), 0);
        /* Nothing before the first frame. */
        size_t n;
        uint8_t *b = file_bytes(file, &n);
        ck_assert_uint_eq(n, 0);
        free(b);
        ck_assert_int_eq(lvc_yuv_write_frame(w, &rgb), 0);
        b = file_bytes(file, &n);
        const size_t hl = strlen(cases[i].text);
        ck_assert_uint_eq(n, hl + lvc_yuv_frame_size(&f));
        ck_assert_mem_eq(b, cases[i].text, hl);
        free(b);
        lvc_yuv_writer_close(&w);
        fclose(file);
    }
    lvc_image_free(&rgb);
}
END_TEST

START_TEST(test_writer_errors)
{
    LvcVideoFormat f = format(4, 4, LVC_CHROMA_420, 0, 0);
    LvcYuvWriter *w = (LvcYuvWriter *)(uintptr_t)1;
    FILE *file = tmpfile();
    ck_assert_int_eq(lvc_yuv_writer_open(&w, NULL, &f, 0), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(lvc_yuv_writer_open(NULL, file, &f, 0), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_writer_open(&w, file, NULL, 0), LVC_ERR_INVALID_ARG);
    LvcVideoFormat bad = f;
    bad.fps_num = 0;
    ck_assert_int_eq(lvc_yuv_writer_open(&w, file, &bad, 0), LVC_ERR_INVALID_ARG);
    bad = f;
    bad.chroma = 9;
    ck_assert_int_eq(lvc_yuv_writer_open(&w, file, &bad, 1), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(w);

    ck_assert_int_eq(lvc_yuv_writer_open(&w, file, &f, 0), 0);
    LvcImage img;
    smooth_rgb(&img, 4, 5, 8, 0);         /* the wrong height */
    ck_assert_int_eq(lvc_yuv_write_frame(w, &img), LVC_ERR_INVALID_ARG);
    lvc_image_free(&img);
    ck_assert_int_eq(lvc_image_alloc(&img, 4, 4, 1, 8), 0);
    ck_assert_int_eq(lvc_yuv_write_frame(w, &img), LVC_ERR_FORMAT);
    lvc_image_free(&img);
    ck_assert_int_eq(lvc_yuv_write_frame(w, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_write_frame(NULL, NULL), LVC_ERR_INVALID_ARG);
    /* Nothing written by the refused frames. */
    size_t n;
    uint8_t *b = file_bytes(file, &n);
    ck_assert_uint_eq(n, 0);
    free(b);
    lvc_yuv_writer_close(&w);
    fclose(file);

    /* A device that refuses the bytes: IO, for the Y4M and raw writers. */
    for (int raw = 0; raw <= 1; raw++) {
        file = fopen("/dev/full", "wb");
        if (!file)
            break;
        ck_assert_int_eq(lvc_yuv_writer_open(&w, file, &f, raw), 0);
        smooth_rgb(&img, 4, 4, 8, 0);
        ck_assert_int_eq(lvc_yuv_write_frame(w, &img), LVC_ERR_IO);
        lvc_image_free(&img);
        lvc_yuv_writer_close(&w);
        fclose(file);
    }
    /* A stream opened for reading only. */
    file = tmpfile();
    FILE *ro = fopen("/dev/null", "rb");
    ck_assert_ptr_nonnull(ro);
    ck_assert_int_eq(lvc_yuv_writer_open(&w, ro, &f, 0), 0);
    smooth_rgb(&img, 4, 4, 8, 0);
    ck_assert_int_eq(lvc_yuv_write_frame(w, &img), LVC_ERR_IO);
    lvc_image_free(&img);
    lvc_yuv_writer_close(&w);
    fclose(ro);
    fclose(file);
}
END_TEST

/* ---------------------------------------------------------- truncation */

START_TEST(test_y4m_truncated)
{
    /* Two 5x3 4:2:0 frames cut at every byte. */
    const LvcVideoFormat f = format(5, 3, LVC_CHROMA_420, LVC_SITING_LEFT, 0);
    uint8_t *planes = smooth_planes(&f, 0);
    FILE *whole = y4m_file(&f, planes, 2);
    size_t n;
    uint8_t *bytes = file_bytes(whole, &n);
    fclose(whole);
    char head[128];
    const size_t hn = (size_t)y4m_header(&f, head, sizeof(head));
    const size_t frame = 6 + lvc_yuv_frame_size(&f);
    ck_assert_uint_eq(n, hn + 2 * frame);
    for (size_t cut = 0; cut <= n; cut++) {
        FILE *file = file_with(bytes, cut);
        LvcYuvReader *r;
        const int err = lvc_y4m_reader_open(&r, file, 0, NULL);
        if (cut < hn) {
            ck_assert_int_eq(err, LVC_ERR_TRUNCATED);
            fclose(file);
            continue;
        }
        ck_assert_int_eq(err, 0);
        const size_t whole_frames = (cut - hn) / frame;
        for (size_t i = 0; i < whole_frames; i++) {
            LvcImage rgb;
            ck_assert_int_eq(lvc_yuv_read_frame(r, &rgb), 1);
            lvc_image_free(&rgb);
        }
        LvcImage rgb;
        memset(&rgb, 0x33, sizeof(rgb));
        const int want = (cut - hn) % frame ? LVC_ERR_TRUNCATED : 0;
        ck_assert_int_eq(lvc_yuv_read_frame(r, &rgb), want);
        ck_assert_ptr_null(rgb.data);
        ck_assert_int_eq(rgb.width, 0);
        ck_assert_ptr_null(lvc_yuv_reader_planes(r, NULL));
        /* The end, or the error, again. */
        ck_assert_int_eq(lvc_yuv_read_frame(r, &rgb), want);
        lvc_yuv_reader_close(&r);
        fclose(file);
    }
    free(bytes);
    free(planes);
}
END_TEST

/* The result of reading every frame of a Y4M file: the error, or the
 * number of frames. */
static int read_all(const char *text, size_t n)
{
    FILE *file = file_with(text, n);
    LvcYuvReader *r;
    int ret = lvc_y4m_reader_open(&r, file, 0, NULL);
    if (!ret) {
        int frames = 0;
        LvcImage rgb;
        while ((ret = lvc_yuv_read_frame(r, &rgb)) == 1) {
            frames++;
            lvc_image_free(&rgb);
        }
        if (!ret)
            ret = frames;
        lvc_yuv_reader_close(&r);
    }
    fclose(file);
    return ret;
}

START_TEST(test_y4m_frame_headers)
{
    /* 2x2 mono: four bytes a frame. */
    static const struct { const char *text; int want; } cases[] = {
        { "FRAME\nabcd", 1 },
        { "FRAME\nabcdFRAME\nefgh", 2 },
        { "FRAME Ixyz W9\nabcd", 1 },              /* parameters are skipped */
        { "FRAME \nabcd", 1 },
        { "", 0 },
        { "FRAME\n", LVC_ERR_TRUNCATED },          /* a header and no data */
        { "FRAME\nab", LVC_ERR_TRUNCATED },
        { "FRAME", LVC_ERR_TRUNCATED },
        { "FRA", LVC_ERR_TRUNCATED },
        { "FRAME Ip", LVC_ERR_TRUNCATED },
        { "FRAMX\nabcd", LVC_ERR_CORRUPT },
        { "frame\nabcd", LVC_ERR_CORRUPT },
        { "FRAMEabcd", LVC_ERR_CORRUPT },
        { "FRAME\r\nabcd", LVC_ERR_CORRUPT },
        { "FRAME\nabcdX", LVC_ERR_CORRUPT },       /* junk after a frame */
        { "FRAME\nabcd\n", LVC_ERR_CORRUPT },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[64];
        const int n = snprintf(text, sizeof(text), "YUV4MPEG2 W2 H2 Cmono\n%s", cases[i].text);
        ck_assert_msg(read_all(text, (size_t)n) == cases[i].want, "%s: %d", cases[i].text,
                      read_all(text, (size_t)n));
    }
    /* Frame parameters up to 1024 bytes with the '\n'. */
    char text[1200];
    const char *head = "YUV4MPEG2 W2 H2 Cmono\n";
    for (size_t len = 1022; len <= 1026; len++) {
        size_t p = strlen(head);
        memcpy(text, head, p);
        memcpy(text + p, "FRAME ", 6);
        memset(text + p + 6, 'x', len - 7);
        text[p + len - 1] = '\n';
        memcpy(text + p + len, "abcd", 4);
        ck_assert_int_eq(read_all(text, p + len + 4), len <= 1024 ? 1 : LVC_ERR_CORRUPT);
    }
}
END_TEST

START_TEST(test_raw_reader)
{
    /* I420 5x3: three frames through the raw writer and reader. */
    LvcVideoFormat f = format(5, 3, LVC_CHROMA_420, LVC_SITING_LEFT, 0);
    const size_t size = lvc_yuv_frame_size(&f);
    ck_assert_uint_eq(size, 27);
    uint8_t data[3 * 27 + 5];
    for (int i = 0; i < 3; i++) {
        uint8_t *p = smooth_planes(&f, 10 * i);
        memcpy(data + i * size, p, size);
        free(p);
    }
    /* Every cut: whole frames, then the end or TRUNCATED. */
    for (size_t cut = 0; cut <= 3 * size; cut++) {
        FILE *file = file_with(data, cut);
        LvcYuvReader *r;
        ck_assert_int_eq(lvc_yuv_reader_open_raw(&r, file, &f), 0);
        ck_assert_ptr_null(lvc_yuv_reader_planes(r, NULL));
        for (size_t i = 0; i < cut / size; i++) {
            LvcImage rgb;
            ck_assert_int_eq(lvc_yuv_read_frame(r, &rgb), 1);
            size_t ps;
            const uint8_t *p = lvc_yuv_reader_planes(r, &ps);
            ck_assert_uint_eq(ps, size);
            ck_assert_mem_eq(p, data + i * size, size);
            /* As the same frame through Y4M. */
            LvcImage y4m;
            planes_to_rgb(&f, data + i * size, &y4m);
            for (int y = 0; y < 3; y++)
                ck_assert_mem_eq(rgb.data + (size_t)y * rgb.stride,
                                 y4m.data + (size_t)y * y4m.stride, 5 * 6);
            lvc_image_free(&y4m);
            lvc_image_free(&rgb);
        }
        LvcImage rgb;
        ck_assert_int_eq(lvc_yuv_read_frame(r, &rgb), cut % size ? LVC_ERR_TRUNCATED : 0);
        lvc_yuv_reader_close(&r);
        fclose(file);
    }
    /* Bad formats. */
    FILE *file = file_with(data, size);
    LvcYuvReader *r = (LvcYuvReader *)(uintptr_t)1;
    LvcVideoFormat bad = f;
    bad.width = 0;
    ck_assert_int_eq(lvc_yuv_reader_open_raw(&r, file, &bad), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(r);
    bad = f;
    bad.chroma = 4;
    ck_assert_int_eq(lvc_yuv_reader_open_raw(&r, file, &bad), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_reader_open_raw(&r, file, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_reader_open_raw(&r, NULL, &f), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_reader_open_raw(NULL, file, &f), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_yuv_read_frame(NULL, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(lvc_yuv_reader_planes(NULL, NULL));
    fclose(file);
}
END_TEST

START_TEST(test_huge_frame_not_allocated)
{
    /* A header declaring 16384 x 16384 (inside the default limit; 384 MiB
     * a frame) and a few bytes: TRUNCATED without allocating the frame. */
    const size_t cap = lvc_mem_in_use() + ((size_t)4 << 20);
    lvc_mem_set_limit(cap);
    static const char text[] = "YUV4MPEG2 W16384 H16384 C420jpeg\nFRAME\n0123456789";
    ck_assert_int_eq(read_all(text, sizeof(text) - 1), LVC_ERR_TRUNCATED);
    lvc_mem_set_limit(0);
    /* 1.5 MiB of data for a 6 MiB frame: the buffer grows with the data
     * (1 MiB, then 2 MiB, the old block held while moving). */
    const LvcVideoFormat f = format(2048, 2048, LVC_CHROMA_420, LVC_SITING_CENTER, 0);
    char head[128];
    const size_t hn = (size_t)y4m_header(&f, head, sizeof(head));
    const size_t n = hn + 6 + ((size_t)3 << 19);
    char *buf = calloc(1, n);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, head, hn);
    memcpy(buf + hn, "FRAME\n", 6);
    const size_t mem0 = lvc_mem_in_use();
    lvc_mem_reset_peak();
    ck_assert_int_eq(read_all(buf, n), LVC_ERR_TRUNCATED);
    ck_assert_uint_lt(lvc_mem_peak() - mem0, (size_t)4 << 20);
    free(buf);
}
END_TEST

START_TEST(test_allocation_failures)
{
    /* Every allocation of an open + read + write failing in turn: NOMEM,
     * outputs zeroed, nothing leaked. */
    const LvcVideoFormat f = format(6, 4, LVC_CHROMA_420, LVC_SITING_CENTER, 0);
    uint8_t *planes = smooth_planes(&f, 1);
    FILE *file = y4m_file(&f, planes, 1);
    const size_t mem0 = lvc_mem_in_use();
    int done = 0;
    for (long k = 0; k < 50 && !done; k++) {
        rewind(file);
        lvc_mem_fail_after(k);
        LvcYuvReader *r;
        LvcImage rgb;
        memset(&rgb, 0x11, sizeof(rgb));
        int err = lvc_y4m_reader_open(&r, file, 0, NULL);
        if (!err) {
            err = lvc_yuv_read_frame(r, &rgb);
            ck_assert_int_ne(err, 0);
            if (err == 1) {
                LvcYuvWriter *w;
                FILE *out = tmpfile();
                err = lvc_yuv_writer_open(&w, out, &f, 0);
                if (!err) {
                    err = lvc_yuv_write_frame(w, &rgb);
                    lvc_yuv_writer_close(&w);
                } else {
                    ck_assert_ptr_null(w);
                }
                fclose(out);
                lvc_image_free(&rgb);
                done = !err;
                if (err)
                    ck_assert_int_eq(err, LVC_ERR_NOMEM);
            } else {
                ck_assert_int_eq(err, LVC_ERR_NOMEM);
                ck_assert_ptr_null(rgb.data);
            }
            lvc_yuv_reader_close(&r);
        } else {
            ck_assert_int_eq(err, LVC_ERR_NOMEM);
            ck_assert_ptr_null(r);
        }
        lvc_mem_fail_after(-1);
        ck_assert_uint_eq(lvc_mem_in_use(), mem0);
    }
    ck_assert(done);
    fclose(file);
    free(planes);
}
END_TEST

/* The code-value mapping (the default): limited-range code values outside
 * the nominal levels survive the round trip, as full range would. */
START_TEST(test_code_values)
{
    LvcVideoFormat d;
    lvc_video_format_default(&d);
    ck_assert_uint_eq(d.rgb_mapping, LVC_RGB_CODE_VALUES);
    LvcVideoFormat f = format(256, 1, LVC_CHROMA_444, 0, 0);
    f.rgb_mapping = LVC_RGB_CODE_VALUES;
    uint8_t planes[3 * 256], back[3 * 256];
    for (int i = 0; i < 256; i++)
        planes[i] = (uint8_t)i;
    memset(planes + 256, 128, 512);
    LvcImage rgb;
    planes_to_rgb(&f, planes, &rgb);
    for (int x = 0; x < 256; x++)
        for (int c = 0; c < 3; c++)
            ck_assert_uint_eq(px16(&rgb, x, 0, c), (unsigned)x * 257);  /* x / 255 */
    ck_assert_int_eq(lvc_yuv_from_rgb(&f, &rgb, back), 0);
    ck_assert_mem_eq(back, planes, sizeof(planes));
    lvc_image_free(&rgb);
    /* super-black and super-white, with colours inside the full-range
     * RGB gamut */
    static const uint8_t px[][3] = { { 8, 126, 129 }, { 248, 130, 127 }, { 0, 128, 128 },
                                     { 255, 128, 128 }, { 230, 120, 136 } };
    for (size_t i = 0; i < sizeof(px) / sizeof(px[0]); i++) {
        LvcVideoFormat g = format(1, 1, LVC_CHROMA_444, 0, 0);
        g.rgb_mapping = LVC_RGB_CODE_VALUES;
        LvcImage one;
        planes_to_rgb(&g, px[i], &one);
        uint8_t yuv[3];
        ck_assert_int_eq(lvc_yuv_from_rgb(&g, &one, yuv), 0);
        for (int c = 0; c < 3; c++)
            ck_assert_int_le(abs((int)yuv[c] - px[i][c]), 1);
        /* the nominal mapping clamps the same pixels */
        g.rgb_mapping = LVC_RGB_NOMINAL;
        LvcImage nom;
        planes_to_rgb(&g, px[i], &nom);
        ck_assert_int_eq(lvc_yuv_from_rgb(&g, &nom, yuv), 0);
        if (px[i][0] < 16 || px[i][0] > 235)
            ck_assert_int_gt(abs((int)yuv[0] - px[i][0]), 3);
        lvc_image_free(&one);
        lvc_image_free(&nom);
    }
}
END_TEST

TCase *lvc_test_yuv_io_tcase(void)
{
    TCase *tc = tcase_create("yuv_io");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_format_default);
    tcase_add_test(tc, test_frame_size);
    tcase_add_test(tc, test_y4m_header_colorspaces);
    tcase_add_test(tc, test_y4m_header_fields);
    tcase_add_test(tc, test_y4m_header_errors);
    tcase_add_test(tc, test_y4m_header_length);
    tcase_add_test(tc, test_grey_stays_grey);
    tcase_add_test(tc, test_known_colours);
    tcase_add_test(tc, test_code_values);
    tcase_add_test(tc, test_upsampling_siting);
    tcase_add_test(tc, test_downsampling_filters);
    tcase_add_test(tc, test_yuv_rgb_yuv_round_trip);
    tcase_add_test(tc, test_rgb8_rgb16_alike);
    tcase_add_test(tc, test_writer_reader_round_trip);
    tcase_add_test(tc, test_writer_header);
    tcase_add_test(tc, test_writer_errors);
    tcase_add_test(tc, test_y4m_truncated);
    tcase_add_test(tc, test_y4m_frame_headers);
    tcase_add_test(tc, test_raw_reader);
    tcase_add_test(tc, test_huge_frame_not_allocated);
    tcase_add_test(tc, test_allocation_failures);
    return tc;
}
