/*
 * YUV file input/output (include/lvc/video.h): the YUV4MPEG2 (.y4m)
 * reader and writer, raw planar frames, and the Y'CbCr <-> RGB
 * conversions they share.
 *
 * Planes are 8-bit, tightly packed: Y (width x height), then Cb and Cr
 * (ceil(width/2) x ceil(height/2) for 4:2:0, ceil(width/2) x height for
 * 4:2:2, full size for 4:4:4, absent for mono).
 *
 * To RGB: chroma is upsampled to 4:4:4 bilinearly, where the siting puts
 * the samples (CENTER: halfway between two luma columns; LEFT: on the
 * even luma column; 4:2:0 rows always halfway between two luma rows),
 * with the edges clamped. The taps are quarters, so the upsampled value
 * is an exact multiple of 1/16 of a code. The matrix is then applied in
 * double (with the format's range, or as full range for the code-value
 * mapping) and each channel clamped to [0, 1] and rounded to 16 bits.
 *
 * From RGB: every pixel is converted at full resolution in double; chroma
 * is then downsampled with the filter of its siting (CENTER: the mean of
 * the 2x2 (4:2:2: 2x1) block; LEFT: [1 2 1]/4 centred on the even column,
 * then for 4:2:0 the mean of the two rows), edges clamped, rounded to
 * nearest and clamped to 0..255. A smooth picture survives
 * YUV -> RGB -> YUV within one code value.
 *
 * Hostile input: a Y4M header is at most 1024 bytes, a frame header too;
 * the dimensions are checked before anything is allocated, and the frame
 * buffer grows with the data actually read (1 MiB, then doubling), so a
 * few header bytes claiming a huge frame cost 1 MiB or about three times
 * the bytes that follow them, not the frame.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lvc/video.h"
#include "common/mem.h"
#include "codec/image_io.h"

/* Bounds of the format. */
#define YUV_MAX_DIM 65535u
#define Y4M_DEFAULT_MAX_PIXELS (UINT64_C(1) << 28)
/* The longest stream header (with its '\n') and frame header. */
#define Y4M_MAX_HEADER 1024
#define Y4M_MAX_FRAME_HEADER 1024
/* The frame buffer first grows by this much, then doubles. */
#define YUV_READ_CHUNK ((size_t)1 << 20)

void lvc_video_format_default(LvcVideoFormat *f)
{
    if (!f)
        return;
    memset(f, 0, sizeof(*f));
    f->fps_num = 25;
    f->fps_den = 1;
    f->chroma = LVC_CHROMA_420;
    f->siting = LVC_SITING_LEFT;
    f->matrix = LVC_MATRIX_BT601;
    f->full_range = 0;
}

/* ---------------------------------------------------------- geometry */

static int format_check(const LvcVideoFormat *f)
{
    if (!f || f->width < 1 || f->width > YUV_MAX_DIM || f->height < 1 ||
        f->height > YUV_MAX_DIM)
        return LVC_ERR_INVALID_ARG;
    if (!f->fps_num || !f->fps_den || (!f->sar_num) != (!f->sar_den))
        return LVC_ERR_INVALID_ARG;
    if (f->chroma > LVC_CHROMA_MONO || f->siting > LVC_SITING_LEFT ||
        f->matrix > LVC_MATRIX_BT709 || f->full_range > 1 || f->rgb_mapping > LVC_RGB_NOMINAL)
        return LVC_ERR_INVALID_ARG;
    return 0;
}

/* Chroma plane size (0 x 0 for mono). */
static void chroma_size(const LvcVideoFormat *f, uint32_t *cw, uint32_t *ch)
{
    switch (f->chroma) {
    case LVC_CHROMA_420:
        *cw = (f->width + 1) / 2;
        *ch = (f->height + 1) / 2;
        break;
    case LVC_CHROMA_422:
        *cw = (f->width + 1) / 2;
        *ch = f->height;
        break;
    case LVC_CHROMA_444:
        *cw = f->width;
        *ch = f->height;
        break;
    default:
        *cw = *ch = 0;
        break;
    }
}

size_t lvc_yuv_frame_size(const LvcVideoFormat *fmt)
{
    if (format_check(fmt))
        return 0;
    uint32_t cw, ch;
    chroma_size(fmt, &cw, &ch);
    const uint64_t n = (uint64_t)fmt->width * fmt->height + 2 * (uint64_t)cw * ch;
    return n > SIZE_MAX ? 0 : (size_t)n;
}

/* -------------------------------------------------------- conversion */

/* The constants of a matrix and range. */
typedef struct YuvCoefs {
    double kr, kb, kg;
    double y_off, y_scale, c_scale;   /* codes = off + scale * signal */
    /* To RGB: R = Y' + cr_r Pr, B = Y' + cb_b Pb,
     * G = Y' - cr_g Pr - cb_g Pb (exactly Y' for a grey). */
    double cr_r, cb_b, cr_g, cb_g;
} YuvCoefs;

static void yuv_coefs(const LvcVideoFormat *f, YuvCoefs *c)
{
    c->kr = f->matrix == LVC_MATRIX_BT709 ? 0.2126 : 0.299;
    c->kb = f->matrix == LVC_MATRIX_BT709 ? 0.0722 : 0.114;
    c->kg = 1.0 - c->kr - c->kb;
    /* the code-value mapping is the full-range one for every source */
    const int full = f->full_range || f->rgb_mapping == LVC_RGB_CODE_VALUES;
    c->y_off = full ? 0.0 : 16.0;
    c->y_scale = full ? 255.0 : 219.0;
    c->c_scale = full ? 255.0 : 224.0;
    c->cr_r = 2.0 * (1.0 - c->kr);
    c->cb_b = 2.0 * (1.0 - c->kb);
    c->cr_g = 2.0 * c->kr * (1.0 - c->kr) / c->kg;
    c->cb_g = 2.0 * c->kb * (1.0 - c->kb) / c->kg;
}

static uint16_t to_u16(double v)
{
    if (!(v > 0.0))
        return 0;
    if (v >= 1.0)
        return 65535;
    return (uint16_t)floor(v * 65535.0 + 0.5);
}

static uint8_t to_u8(double v)
{
    if (!(v > 0.0))
        return 0;
    if (v >= 255.0)
        return 255;
    return (uint8_t)floor(v + 0.5);
}

/* The two chroma samples (i0, i1) and the weight of i0 in quarters that
 * upsample position x of n2 output samples from n input samples; center:
 * input sample i sits at output position 2i + 1/2, else at 2i. */
static void up_taps(uint32_t x, uint32_t n, int center, uint32_t *i0, uint32_t *i1, int *w0)
{
    const uint32_t i = x >> 1;
    *i0 = i;
    if (!(x & 1)) {
        *i1 = center && i > 0 ? i - 1 : i;
        *w0 = center ? 3 : 4;
    } else {
        *i1 = i + 1 < n ? i + 1 : i;
        *w0 = center ? 3 : 2;
    }
}

/* planes (format f) to a 16-bit RGB image of f's size. */
static void yuv_to_rgb16(const LvcVideoFormat *f, const uint8_t *planes, LvcImage *rgb)
{
    YuvCoefs k;
    yuv_coefs(f, &k);
    const uint32_t w = f->width, h = f->height;
    uint32_t cw, ch;
    chroma_size(f, &cw, &ch);
    const uint8_t *py = planes;
    const uint8_t *pu = planes + (size_t)w * h;
    const uint8_t *pv = pu + (size_t)cw * ch;
    const int hsub = f->chroma == LVC_CHROMA_420 || f->chroma == LVC_CHROMA_422;
    const int center = f->siting == LVC_SITING_CENTER;
    for (uint32_t y = 0; y < h; y++) {
        uint16_t *out = (uint16_t *)(void *)(rgb->data + (size_t)y * rgb->stride);
        uint32_t j0 = y, j1 = y;
        int wy0 = 4;
        if (f->chroma == LVC_CHROMA_420)
            up_taps(y, ch, 1, &j0, &j1, &wy0);
        for (uint32_t x = 0; x < w; x++) {
            const double yl = ((double)py[(size_t)y * w + x] - k.y_off) / k.y_scale;
            double pb = 0.0, pr = 0.0;
            if (f->chroma != LVC_CHROMA_MONO) {
                uint32_t i0 = x, i1 = x;
                int wx0 = 4;
                if (hsub)
                    up_taps(x, cw, center, &i0, &i1, &wx0);
                const size_t a = (size_t)j0 * cw, b = (size_t)j1 * cw;
                /* Sixteenths of a code, exact in int. */
                const int u = wy0 * (wx0 * pu[a + i0] + (4 - wx0) * pu[a + i1]) +
                              (4 - wy0) * (wx0 * pu[b + i0] + (4 - wx0) * pu[b + i1]);
                const int v = wy0 * (wx0 * pv[a + i0] + (4 - wx0) * pv[a + i1]) +
                              (4 - wy0) * (wx0 * pv[b + i0] + (4 - wx0) * pv[b + i1]);
                pb = ((double)u / 16.0 - 128.0) / k.c_scale;
                pr = ((double)v / 16.0 - 128.0) / k.c_scale;
            }
            out[3 * x + 0] = to_u16(yl + k.cr_r * pr);
            out[3 * x + 1] = to_u16(yl - k.cr_g * pr - k.cb_g * pb);
            out[3 * x + 2] = to_u16(yl + k.cb_b * pb);
        }
    }
}

/* One RGB row to Y codes (rounded) and full-resolution Cb, Cr (unrounded
 * codes). */
static void rgb_row_to_yuv(const YuvCoefs *k, const LvcImage *rgb, uint32_t y, uint8_t *py,
                           double *cb, double *cr)
{
    const uint8_t *row = rgb->data + (size_t)y * rgb->stride;
    const double scale = rgb->bit_depth == 16 ? 65535.0 : 255.0;
    for (int x = 0; x < rgb->width; x++) {
        double r, g, b;
        if (rgb->bit_depth == 16) {
            uint16_t s[3];
            memcpy(s, row + 6 * (size_t)x, sizeof(s));
            r = s[0] / scale;
            g = s[1] / scale;
            b = s[2] / scale;
        } else {
            r = row[3 * x] / scale;
            g = row[3 * x + 1] / scale;
            b = row[3 * x + 2] / scale;
        }
        /* Written around G so that a grey gives Y' = G and Pb = Pr = 0
         * exactly. */
        const double yl = g + k->kr * (r - g) + k->kb * (b - g);
        py[x] = to_u8(k->y_off + k->y_scale * yl);
        if (cb) {
            cb[x] = 128.0 + k->c_scale * (b - yl) / k->cb_b;
            cr[x] = 128.0 + k->c_scale * (r - yl) / k->cr_r;
        }
    }
}

/* Chroma sample i of a row of w full-resolution values. */
static double down_h(const double *c, uint32_t w, uint32_t i, int center)
{
    const uint32_t x = 2 * i;
    const uint32_t xr = x + 1 < w ? x + 1 : x;
    if (center)
        return (c[x] + c[xr]) * 0.5;
    const uint32_t xl = x > 0 ? x - 1 : x;
    return (c[xl] + 2.0 * c[x] + c[xr]) * 0.25;
}

/* rgb (3 channels, 8 or 16 bit, f's size) to planes; scratch holds 4 *
 * width doubles. */
static void rgb_to_yuv(const LvcVideoFormat *f, const LvcImage *rgb, uint8_t *planes,
                       double *scratch)
{
    YuvCoefs k;
    yuv_coefs(f, &k);
    const uint32_t w = f->width, h = f->height;
    uint32_t cw, ch;
    chroma_size(f, &cw, &ch);
    uint8_t *py = planes;
    uint8_t *pu = planes + (size_t)w * h;
    uint8_t *pv = pu + (size_t)cw * ch;
    if (f->chroma == LVC_CHROMA_MONO) {
        for (uint32_t y = 0; y < h; y++)
            rgb_row_to_yuv(&k, rgb, y, py + (size_t)y * w, NULL, NULL);
        return;
    }
    double *cb0 = scratch, *cr0 = scratch + w, *cb1 = scratch + 2 * (size_t)w,
           *cr1 = scratch + 3 * (size_t)w;
    const int center = f->siting == LVC_SITING_CENTER;
    /* One chroma row per pass, from one luma row or (4:2:0) two. */
    for (uint32_t j = 0; j < ch; j++) {
        const int two = f->chroma == LVC_CHROMA_420;
        const uint32_t y0 = two ? 2 * j : j;
        rgb_row_to_yuv(&k, rgb, y0, py + (size_t)y0 * w, cb0, cr0);
        if (two) {
            if (y0 + 1 < h)
                rgb_row_to_yuv(&k, rgb, y0 + 1, py + (size_t)(y0 + 1) * w, cb1, cr1);
            else
                memcpy(cb1, cb0, 2 * (size_t)w * sizeof(double)); /* cb0, cr0 */
        }
        uint8_t *ou = pu + (size_t)j * cw, *ov = pv + (size_t)j * cw;
        for (uint32_t i = 0; i < cw; i++) {
            double u, v;
            if (f->chroma == LVC_CHROMA_444) {
                u = cb0[i];
                v = cr0[i];
            } else {
                u = down_h(cb0, w, i, center);
                v = down_h(cr0, w, i, center);
                if (two) {
                    u = (u + down_h(cb1, w, i, center)) * 0.5;
                    v = (v + down_h(cr1, w, i, center)) * 0.5;
                }
            }
            ou[i] = to_u8(u);
            ov[i] = to_u8(v);
        }
    }
}

/* An image the converters take for format f. */
static int rgb_check(const LvcVideoFormat *f, const LvcImage *rgb)
{
    const int err = lvc_image_check(rgb);
    if (err)
        return err;
    if (rgb->channels != 3)
        return LVC_ERR_FORMAT;
    if ((uint32_t)rgb->width != f->width || (uint32_t)rgb->height != f->height)
        return LVC_ERR_INVALID_ARG;
    return 0;
}

int lvc_yuv_from_rgb(const LvcVideoFormat *fmt, const LvcImage *rgb, uint8_t *planes)
{
    int err = format_check(fmt);
    if (err)
        return err;
    if (!planes)
        return LVC_ERR_INVALID_ARG;
    if ((err = rgb_check(fmt, rgb)))
        return err;
    double *scratch = lvc_malloc_array(4 * (size_t)fmt->width, sizeof(double));
    if (!scratch)
        return LVC_ERR_NOMEM;
    rgb_to_yuv(fmt, rgb, planes, scratch);
    lvc_free(scratch);
    return 0;
}

/* ------------------------------------------------------------ reader */

struct LvcYuvReader {
    FILE *f;
    LvcVideoFormat fmt;
    int y4m;
    size_t frame_size;
    uint8_t *planes;   /* cap bytes; grows to frame_size with the data */
    size_t cap;
    int have_frame;    /* planes hold the frame last read */
    int status;        /* 0 while reading; the end (0) or an error, once met */
    int ended;
};

static int reader_new(LvcYuvReader **r, FILE *f, const LvcVideoFormat *fmt, int y4m)
{
    LvcYuvReader *rd = lvc_calloc(1, sizeof(*rd));
    if (!rd)
        return LVC_ERR_NOMEM;
    rd->f = f;
    rd->fmt = *fmt;
    rd->y4m = y4m;
    rd->frame_size = lvc_yuv_frame_size(fmt);
    if (!rd->frame_size) {
        lvc_free(rd);
        return LVC_ERR_NOMEM;   /* beyond size_t */
    }
    *r = rd;
    return 0;
}

/* A decimal number, saturated at 2^40 (above every bound checked); the
 * end of the digits in *end. CORRUPT without a digit. */
static int parse_u64(const char *p, uint64_t *v, const char **end)
{
    const uint64_t sat = UINT64_C(1) << 40;
    uint64_t n = 0;
    const char *start = p;
    while (*p >= '0' && *p <= '9') {
        n = n * 10 + (uint64_t)(*p++ - '0');
        if (n > sat)
            n = sat;
    }
    if (p == start)
        return LVC_ERR_CORRUPT;
    *v = n;
    *end = p;
    return 0;
}

/* "N:D" with both in uint32; zero_ok: 0:0 is allowed (unknown). */
static int parse_ratio(const char *p, uint32_t *num, uint32_t *den, int zero_ok)
{
    uint64_t a, b;
    const char *e;
    int err = parse_u64(p, &a, &e);
    if (err)
        return err;
    if (*e != ':')
        return LVC_ERR_CORRUPT;
    if ((err = parse_u64(e + 1, &b, &e)))
        return err;
    if (*e || a > UINT32_MAX || b > UINT32_MAX)
        return LVC_ERR_CORRUPT;
    if ((!a || !b) && !(zero_ok && !a && !b))
        return LVC_ERR_CORRUPT;
    *num = (uint32_t)a;
    *den = (uint32_t)b;
    return 0;
}

/* The C token's value. FORMAT for a layout lvc does not read (411, alpha,
 * more than 8 bits, anything unknown). Plain C420 and C420paldv (whose
 * Cb and Cr rows alternate) are read as cosited horizontally, as video.h
 * says; FFmpeg reads plain C420 as C420jpeg. */
static int parse_colorspace(const char *v, LvcVideoFormat *f)
{
    static const struct { const char *name; uint8_t chroma, siting; } cs[] = {
        { "420jpeg", LVC_CHROMA_420, LVC_SITING_CENTER },
        { "420mpeg2", LVC_CHROMA_420, LVC_SITING_LEFT },
        { "420paldv", LVC_CHROMA_420, LVC_SITING_LEFT },
        { "420", LVC_CHROMA_420, LVC_SITING_CENTER },
        { "422", LVC_CHROMA_422, LVC_SITING_LEFT },
        { "444", LVC_CHROMA_444, LVC_SITING_LEFT },
        { "mono", LVC_CHROMA_MONO, LVC_SITING_LEFT },
    };
    if (!*v)
        return LVC_ERR_CORRUPT;
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        if (!strcmp(v, cs[i].name)) {
            f->chroma = cs[i].chroma;
            f->siting = cs[i].siting;
            return 0;
        }
    }
    return LVC_ERR_FORMAT;
}

/* The tokens of a stream header (after "YUV4MPEG2 ", without '\n'). */
static int parse_y4m_tokens(char *line, uint64_t max_pixels, LvcVideoFormat *f)
{
    int have_w = 0, have_h = 0, have_f = 0, have_a = 0, have_c = 0, have_i = 0;
    uint64_t w = 0, h = 0;
    lvc_video_format_default(f);
    f->siting = LVC_SITING_CENTER;      /* no C token: 420jpeg */
    char *p = line;
    for (;;) {
        char *end = strchr(p, ' ');
        if (end)
            *end = '\0';
        /* Tokens are separated by single spaces: none is empty. */
        if (!*p)
            return LVC_ERR_CORRUPT;
        const char tag = *p;
        const char *v = p + 1;
        int err = 0;
        const char *e;
        switch (tag) {
        case 'W':
        case 'H': {
            int *have = tag == 'W' ? &have_w : &have_h;
            uint64_t *dim = tag == 'W' ? &w : &h;
            if (*have)
                return LVC_ERR_CORRUPT;
            *have = 1;
            if ((err = parse_u64(v, dim, &e)))
                return err;
            if (*e)
                return LVC_ERR_CORRUPT;
            break;
        }
        case 'F':
            if (have_f++)
                return LVC_ERR_CORRUPT;
            err = parse_ratio(v, &f->fps_num, &f->fps_den, 0);
            break;
        case 'A':
            if (have_a++)
                return LVC_ERR_CORRUPT;
            err = parse_ratio(v, &f->sar_num, &f->sar_den, 1);
            break;
        case 'I':
            if (have_i++)
                return LVC_ERR_CORRUPT;
            if (!strcmp(v, "p"))
                break;
            /* Top or bottom field first, mixed, unknown. */
            if (!strcmp(v, "t") || !strcmp(v, "b") || !strcmp(v, "m") || !strcmp(v, "?"))
                return LVC_ERR_FORMAT;
            return LVC_ERR_CORRUPT;
        case 'C':
            if (have_c++)
                return LVC_ERR_CORRUPT;
            err = parse_colorspace(v, f);
            break;
        case 'X':
            if (!strncmp(v, "COLORRANGE=", 11)) {
                if (!strcmp(v + 11, "FULL"))
                    f->full_range = 1;
                else if (!strcmp(v + 11, "LIMITED"))
                    f->full_range = 0;
                else
                    return LVC_ERR_CORRUPT;
            }
            break;
        default:
            break;          /* other tags are ignored, as by mjpegtools */
        }
        if (err)
            return err;
        if (!end)
            break;
        p = end + 1;
    }
    if (!have_w || !have_h)
        return LVC_ERR_CORRUPT;
    if (!w || !h || w > YUV_MAX_DIM || h > YUV_MAX_DIM || w * h > max_pixels)
        return LVC_ERR_DIMENSIONS;
    f->width = (uint32_t)w;
    f->height = (uint32_t)h;
    /* No matrix in Y4M: BT.709 from HD up, as players assume. */
    f->matrix = w * h < 1280 * 720 ? LVC_MATRIX_BT601 : LVC_MATRIX_BT709;
    return 0;
}

/* The stream header: "YUV4MPEG2 " and tokens up to '\n'. */
static int read_y4m_header(FILE *f, uint64_t max_pixels, LvcVideoFormat *fmt)
{
    static const char magic[] = "YUV4MPEG2 ";
    char line[Y4M_MAX_HEADER];
    size_t n = 0;
    for (;;) {
        const int c = getc(f);
        if (c == EOF)
            return ferror(f) ? LVC_ERR_IO : LVC_ERR_TRUNCATED;
        if (n < 10) {
            if (c != magic[n])
                return LVC_ERR_FORMAT;      /* not a Y4M stream */
            n++;
            continue;
        }
        if (c == '\n')
            break;
        if (c == '\0' || n + 2 > sizeof(line))
            return LVC_ERR_CORRUPT;         /* '\n' is the 1024th byte at most */
        line[n++] = (char)c;
    }
    line[n] = '\0';
    return parse_y4m_tokens(line + 10, max_pixels, fmt);
}

int lvc_y4m_reader_open(LvcYuvReader **r, FILE *f, uint64_t max_pixels, LvcVideoFormat *fmt)
{
    if (fmt)
        memset(fmt, 0, sizeof(*fmt));
    if (r)
        *r = NULL;
    if (!r || !f)
        return LVC_ERR_INVALID_ARG;
    if (!max_pixels)
        max_pixels = Y4M_DEFAULT_MAX_PIXELS;
    LvcVideoFormat sf;
    int err = read_y4m_header(f, max_pixels, &sf);
    if (!err)
        err = reader_new(r, f, &sf, 1);
    if (err)
        return err;
    if (fmt)
        *fmt = sf;
    return 0;
}

int lvc_yuv_reader_open_raw(LvcYuvReader **r, FILE *f, const LvcVideoFormat *fmt)
{
    if (r)
        *r = NULL;
    if (!r || !f)
        return LVC_ERR_INVALID_ARG;
    const int err = format_check(fmt);
    if (err)
        return err;
    return reader_new(r, f, fmt, 0);
}

/* "FRAME", optional parameters, '\n'. 1 when a frame follows, 0 at the
 * end of the stream. */
static int read_frame_header(FILE *f)
{
    static const char tag[] = "FRAME";
    for (size_t n = 0;; n++) {
        const int c = getc(f);
        if (c == EOF) {
            if (ferror(f))
                return LVC_ERR_IO;
            return n ? LVC_ERR_TRUNCATED : 0;
        }
        if (n < 5) {
            if (c != tag[n])
                return LVC_ERR_CORRUPT;
            continue;
        }
        if (c == '\n')
            return 1;
        if ((n == 5 && c != ' ') || c == '\0' || n + 1 >= Y4M_MAX_FRAME_HEADER)
            return LVC_ERR_CORRUPT;
    }
}

/* The planes of a frame into r->planes, the buffer growing with the data
 * read. 1 for a frame; 0 when the stream ends before its first byte and
 * at_start allows it; else LVC_ERR_TRUNCATED or LVC_ERR_IO. */
static int read_planes(LvcYuvReader *r, int at_start)
{
    size_t got = 0;
    while (got < r->frame_size) {
        if (got == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : YUV_READ_CHUNK;
            if (cap > r->frame_size || cap < r->cap)
                cap = r->frame_size;
            uint8_t *p = lvc_realloc(r->planes, cap);
            if (!p)
                return LVC_ERR_NOMEM;
            r->planes = p;
            r->cap = cap;
        }
        const size_t want = r->cap - got;
        const size_t n = fread(r->planes + got, 1, want, r->f);
        got += n;
        if (n < want) {
            if (ferror(r->f))
                return LVC_ERR_IO;
            return !got && at_start ? 0 : LVC_ERR_TRUNCATED;
        }
    }
    return 1;
}

int lvc_yuv_read_frame(LvcYuvReader *r, LvcImage *rgb)
{
    if (rgb)
        memset(rgb, 0, sizeof(*rgb));
    if (!r || !rgb)
        return LVC_ERR_INVALID_ARG;
    r->have_frame = 0;
    /* Once the end or an error is met, every later call says so again. */
    if (r->ended)
        return r->status;
    int ret = r->y4m ? read_frame_header(r->f) : 1;
    if (ret == 1)
        ret = read_planes(r, !r->y4m);
    if (ret != 1) {
        /* The end, or a stream that cannot be followed any further (a
         * frame's bytes left unread after NOMEM included). */
        r->ended = 1;
        r->status = ret;
        return ret;
    }
    ret = lvc_image_alloc(rgb, (int)r->fmt.width, (int)r->fmt.height, 3, 16);
    if (ret)
        return ret;      /* this frame is lost; the next one can be read */
    yuv_to_rgb16(&r->fmt, r->planes, rgb);
    r->have_frame = 1;
    return 1;
}

const uint8_t *lvc_yuv_reader_planes(const LvcYuvReader *r, size_t *size)
{
    if (size)
        *size = 0;
    if (!r || !r->have_frame)
        return NULL;
    if (size)
        *size = r->frame_size;
    return r->planes;
}

int lvc_yuv_reader_set_rgb_mapping(LvcYuvReader *r, int mapping)
{
    if (!r || mapping < LVC_RGB_CODE_VALUES || mapping > LVC_RGB_NOMINAL)
        return LVC_ERR_INVALID_ARG;
    r->fmt.rgb_mapping = (uint8_t)mapping;
    return 0;
}

void lvc_yuv_reader_close(LvcYuvReader **r)
{
    if (!r || !*r)
        return;
    lvc_free((*r)->planes);
    lvc_free(*r);
    *r = NULL;
}

/* ------------------------------------------------------------ writer */

struct LvcYuvWriter {
    FILE *f;
    LvcVideoFormat fmt;
    int raw;
    int header_done;
    size_t frame_size;
    uint8_t *planes;
    double *scratch;   /* 4 * width */
};

int lvc_yuv_writer_open(LvcYuvWriter **w, FILE *f, const LvcVideoFormat *fmt, int raw)
{
    if (w)
        *w = NULL;
    if (!w || !f)
        return LVC_ERR_INVALID_ARG;
    const int err = format_check(fmt);
    if (err)
        return err;
    const size_t size = lvc_yuv_frame_size(fmt);
    LvcYuvWriter *wr = lvc_calloc(1, sizeof(*wr));
    if (!wr)
        return LVC_ERR_NOMEM;
    wr->f = f;
    wr->fmt = *fmt;
    wr->raw = raw != 0;
    wr->frame_size = size;
    wr->planes = size ? lvc_malloc(size) : NULL;
    wr->scratch = lvc_malloc_array(4 * (size_t)fmt->width, sizeof(double));
    if (!wr->planes || !wr->scratch) {
        lvc_yuv_writer_close(&wr);
        return LVC_ERR_NOMEM;
    }
    *w = wr;
    return 0;
}

static int write_y4m_header(const LvcYuvWriter *w)
{
    const LvcVideoFormat *f = &w->fmt;
    static const char *const names[] = { "420", "422", "444", "mono" };
    const char *cs = names[f->chroma];
    if (f->chroma == LVC_CHROMA_420)
        cs = f->siting == LVC_SITING_CENTER ? "420jpeg" : "420mpeg2";
    if (fprintf(w->f, "YUV4MPEG2 W%u H%u F%u:%u Ip A%u:%u C%s%s\n", (unsigned)f->width,
                (unsigned)f->height, (unsigned)f->fps_num, (unsigned)f->fps_den,
                (unsigned)f->sar_num, (unsigned)f->sar_den, cs,
                f->full_range ? " XCOLORRANGE=FULL" : "") < 0)
        return LVC_ERR_IO;
    return 0;
}

int lvc_yuv_write_frame(LvcYuvWriter *w, const LvcImage *rgb)
{
    if (!w)
        return LVC_ERR_INVALID_ARG;
    int err = rgb_check(&w->fmt, rgb);
    if (err)
        return err;
    rgb_to_yuv(&w->fmt, rgb, w->planes, w->scratch);
    if (!w->raw && !w->header_done) {
        if ((err = write_y4m_header(w)))
            return err;
        w->header_done = 1;
    }
    if (!w->raw && fputs("FRAME\n", w->f) < 0)
        return LVC_ERR_IO;
    if (fwrite(w->planes, 1, w->frame_size, w->f) != w->frame_size)
        return LVC_ERR_IO;
    /* A full disk shows here rather than when the caller closes f. */
    if (fflush(w->f))
        return LVC_ERR_IO;
    return 0;
}

void lvc_yuv_writer_close(LvcYuvWriter **w)
{
    if (!w || !*w)
        return;
    lvc_free((*w)->planes);
    lvc_free((*w)->scratch);
    lvc_free(*w);
    *w = NULL;
}
