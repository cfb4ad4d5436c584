/*
 * PNG input/output through libpng, and the float conversions the pipelines
 * use.
 *
 * libpng reports errors by longjmp. Every libpng call runs inside a small
 * function that owns the setjmp and touches no local state after it; all
 * resources live in a context struct owned by its caller, which releases
 * them whatever happened. So a longjmp can neither leak nor read an
 * indeterminate local.
 */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/bits.h"
#include "common/log.h"
#include "common/mem.h"
#include "codec/image_io.h"

static int host_is_le(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* libpng diagnostics go to the debug log; our return codes carry the
 * outcome, and a library should not print on its own. */
static void png_error_cb(png_structp png, png_const_charp msg)
{
    lvc_log(LVC_LOG_DEBUG, "libpng: %s", msg);
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    (void)png;
    lvc_log(LVC_LOG_DEBUG, "libpng warning: %s", msg);
}

/* ------------------------------------------------------------------ read */

typedef struct PngSource {
    const uint8_t *buf;   /* memory source, or NULL */
    size_t size, pos;
    FILE *f;              /* file source */
    int err;              /* LVC_ERR_TRUNCATED / LVC_ERR_IO once the source failed */
} PngSource;

/* Reads exactly n bytes; 0 or an error code (recorded in src->err). */
static int source_read(PngSource *src, uint8_t *dst, size_t n)
{
    if (src->f) {
        const size_t got = fread(dst, 1, n, src->f);
        if (got != n) {
            src->err = ferror(src->f) ? LVC_ERR_IO : LVC_ERR_TRUNCATED;
            return src->err;
        }
        return 0;
    }
    if (n > src->size - src->pos) {
        src->err = LVC_ERR_TRUNCATED;
        return src->err;
    }
    memcpy(dst, src->buf + src->pos, n);
    src->pos += n;
    return 0;
}

static void png_read_cb(png_structp png, png_bytep data, size_t n)
{
    PngSource *src = png_get_io_ptr(png);
    if (source_read(src, data, n))
        png_error(png, src->err == LVC_ERR_IO ? "read error" : "unexpected end of data");
}

typedef struct PngReadCtx {
    png_structp png;
    png_infop info;
    png_bytep *rows;
    LvcImage img;
    int err;              /* set before a deliberate return from the jmp scope */
} PngReadCtx;

static int png_read_jmp(PngReadCtx *ctx, PngSource *src, uint64_t max_pixels)
{
    png_structp png = ctx->png;
    png_infop info = ctx->info;
    if (setjmp(png_jmpbuf(png)))
        return src->err ? src->err : LVC_ERR_FORMAT;

    png_set_read_fn(png, src, png_read_cb);
    png_set_sig_bytes(png, 8);
    /* libpng's own default limit (1e6 per side) is not ours: max_pixels,
     * checked below, is the bound. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    /* The reader needs IHDR, PLTE, tRNS and the image data. libpng reads a
     * known ancillary chunk (sPLT, iCCP, text ...) into one buffer of the
     * length its header claims, and an over-long one is only a warning
     * (benign error), so a 42-byte file claiming a 1.9 GB sPLT made it
     * allocate 1.9 GB. Treated as unknown, these are skipped in small reads
     * without being stored; unknown chunks are skipped the same way. */
    static const png_byte skip[] = "bKGD" "\0" "cHRM" "\0" "eXIf" "\0" "gAMA" "\0"
                                   "hIST" "\0" "iCCP" "\0" "iTXt" "\0" "oFFs" "\0"
                                   "pCAL" "\0" "pHYs" "\0" "sBIT" "\0" "sCAL" "\0"
                                   "sPLT" "\0" "sRGB" "\0" "tEXt" "\0" "tIME" "\0"
                                   "zTXt";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skip, (int)(sizeof(skip) / 5));
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    if (w == 0 || h == 0 || w > 0x7fffffff || h > 0x7fffffff ||
        (uint64_t)w * h > max_pixels) {
        ctx->err = LVC_ERR_DIMENSIONS;
        return ctx->err;
    }
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16 && host_is_le())
        png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const int channels = png_get_channels(png, info);
    const int out_depth = png_get_bit_depth(png, info);
    if (channels < 1 || channels > 4 || (out_depth != 8 && out_depth != 16)) {
        ctx->err = LVC_ERR_FORMAT;
        return ctx->err;
    }
    int err = lvc_image_alloc(&ctx->img, (int)w, (int)h, channels, out_depth);
    if (err) {
        ctx->err = err;
        return err;
    }
    if (png_get_rowbytes(png, info) > ctx->img.stride) {
        ctx->err = LVC_ERR_FORMAT;
        return ctx->err;
    }
    ctx->rows = lvc_malloc_array(h, sizeof(*ctx->rows));
    if (!ctx->rows) {
        ctx->err = LVC_ERR_NOMEM;
        return ctx->err;
    }
    for (png_uint_32 y = 0; y < h; y++)
        ctx->rows[y] = ctx->img.data + (size_t)y * ctx->img.stride;
    png_read_image(png, ctx->rows);
    /* Read to IEND so that a file cut anywhere is refused. */
    png_read_end(png, NULL);
    return 0;
}

static int png_read_src(PngSource *src, LvcImage *img, uint64_t max_pixels)
{
    if (!max_pixels)
        max_pixels = LVC_PNG_DEFAULT_MAX_PIXELS;
    /* Check the signature ourselves: a short input that starts like a PNG
     * is truncated, anything else is not a PNG. */
    uint8_t sig[8];
    size_t nsig;
    if (src->f) {
        nsig = fread(sig, 1, 8, src->f);
        if (nsig < 8 && ferror(src->f))
            return LVC_ERR_IO;
    } else {
        nsig = src->size < 8 ? src->size : 8;
        memcpy(sig, src->buf, nsig);
        src->pos = nsig;
    }
    if (nsig == 0)
        return LVC_ERR_TRUNCATED;
    if (png_sig_cmp(sig, 0, nsig))
        return LVC_ERR_FORMAT;
    if (nsig < 8)
        return LVC_ERR_TRUNCATED;
    int err;

    PngReadCtx ctx = { 0 };
    ctx.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_error_cb,
                                     png_warning_cb);
    if (!ctx.png)
        return LVC_ERR_NOMEM;
    ctx.info = png_create_info_struct(ctx.png);
    if (!ctx.info) {
        err = LVC_ERR_NOMEM;
        goto end;
    }
    err = png_read_jmp(&ctx, src, max_pixels);
end:
    png_destroy_read_struct(&ctx.png, ctx.info ? &ctx.info : NULL, NULL);
    lvc_free(ctx.rows);
    if (err) {
        lvc_image_free(&ctx.img);
        return err;
    }
    *img = ctx.img;
    return 0;
}

int lvc_png_read_mem(const uint8_t *buf, size_t size, LvcImage *img, uint64_t max_pixels)
{
    if (!img)
        return LVC_ERR_INVALID_ARG;
    memset(img, 0, sizeof(*img));
    if (!buf && size)
        return LVC_ERR_INVALID_ARG;
    static const uint8_t empty[1];
    PngSource src = { .buf = buf ? buf : empty, .size = size };
    return png_read_src(&src, img, max_pixels);
}

int lvc_png_read_file(const char *path, LvcImage *img, uint64_t max_pixels)
{
    if (!img)
        return LVC_ERR_INVALID_ARG;
    memset(img, 0, sizeof(*img));
    if (!path)
        return LVC_ERR_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f) {
        lvc_log(LVC_LOG_DEBUG, "cannot open %s", path);
        return LVC_ERR_IO;
    }
    PngSource src = { .f = f };
    int err = png_read_src(&src, img, max_pixels);
    fclose(f);
    return err;
}

/* ----------------------------------------------------------------- write */

typedef struct PngSink {
    LvcByteWriter *w;     /* memory sink, or NULL */
    FILE *f;
    int err;
} PngSink;

static void png_write_cb(png_structp png, png_bytep data, size_t n)
{
    PngSink *s = png_get_io_ptr(png);
    if (s->w) {
        lvc_bw_bytes(s->w, data, n);
        if (s->w->err) {
            s->err = LVC_ERR_NOMEM;
            png_error(png, "out of memory");
        }
    } else if (fwrite(data, 1, n, s->f) != n) {
        s->err = LVC_ERR_IO;
        png_error(png, "write error");
    }
}

static void png_flush_cb(png_structp png)
{
    (void)png;
}

int lvc_image_check(const LvcImage *img)
{
    if (!img || !img->data || img->width < 1 || img->height < 1 ||
        img->channels < 1 || img->channels > 4 ||
        (img->bit_depth != 8 && img->bit_depth != 16))
        return LVC_ERR_INVALID_ARG;
    size_t row;
    if (lvc_mul_size((size_t)img->width, (size_t)img->channels * (img->bit_depth / 8), &row) ||
        img->stride < row)
        return LVC_ERR_INVALID_ARG;
    return 0;
}

static int png_write_jmp(png_structp png, png_infop info, PngSink *sink, const LvcImage *img)
{
    if (setjmp(png_jmpbuf(png)))
        return sink->err ? sink->err : LVC_ERR_IO;
    static const int color_types[5] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                        PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA };
    png_set_write_fn(png, sink, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height,
                 img->bit_depth, color_types[img->channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (img->bit_depth == 16 && host_is_le())
        png_set_swap(png);
    for (int y = 0; y < img->height; y++)
        png_write_row(png, img->data + (size_t)y * img->stride);
    png_write_end(png, NULL);
    return 0;
}

static int png_write_sink(PngSink *sink, const LvcImage *img)
{
    int err = lvc_image_check(img);
    if (err)
        return err;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_error_cb,
                                              png_warning_cb);
    if (!png)
        return LVC_ERR_NOMEM;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return LVC_ERR_NOMEM;
    }
    /* PNG is an output format here, not a size contest. On Kodak kodim23
     * zlib level 3 writes 3x faster than the default 6 for 6% more bytes. */
    png_set_compression_level(png, 3);
    err = png_write_jmp(png, info, sink, img);
    png_destroy_write_struct(&png, &info);
    return err;
}

int lvc_png_write_mem(const LvcImage *img, uint8_t **out, size_t *out_size)
{
    if (out)
        *out = NULL;
    if (out_size)
        *out_size = 0;
    if (!out || !out_size)
        return LVC_ERR_INVALID_ARG;
    LvcByteWriter w;
    lvc_bw_init(&w);
    PngSink sink = { .w = &w };
    int err = png_write_sink(&sink, img);
    if (err) {
        lvc_bw_free(&w);
        return err;
    }
    return lvc_bw_detach(&w, out, out_size);
}

int lvc_png_write_file(const char *path, const LvcImage *img)
{
    if (!path)
        return LVC_ERR_INVALID_ARG;
    int err = lvc_image_check(img);
    if (err)
        return err;
    FILE *f = fopen(path, "wb");
    if (!f) {
        lvc_log(LVC_LOG_DEBUG, "cannot create %s", path);
        return LVC_ERR_IO;
    }
    PngSink sink = { .f = f };
    err = png_write_sink(&sink, img);
    if (fclose(f) && !err)
        err = LVC_ERR_IO;
    /* Leave no half-written file behind. */
    if (err)
        remove(path);
    return err;
}

/* ------------------------------------------------------------ conversions */

static long long clampi_ll(long long v, long long lo, long long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static unsigned get_sample(const LvcImage *img, const uint8_t *px, int c)
{
    if (img->bit_depth == 8)
        return px[c];
    uint16_t v;
    memcpy(&v, px + 2 * c, 2);
    return v;
}

static void put_sample(const LvcImage *img, uint8_t *px, int c, unsigned v)
{
    if (img->bit_depth == 8) {
        px[c] = (uint8_t)v;
    } else {
        const uint16_t s = (uint16_t)v;
        memcpy(px + 2 * c, &s, 2);
    }
}

int lvc_image_to_planar_f32_rect(const LvcImage *img, int x0, int y0, int w, int h,
                                 float *planes)
{
    int err = lvc_image_check(img);
    if (err)
        return err;
    if (!planes || w < 1 || h < 1)
        return LVC_ERR_INVALID_ARG;
    size_t plane;
    if (lvc_mul_size((size_t)w, (size_t)h, &plane))
        return LVC_ERR_INVALID_ARG;
    const float scale = img->bit_depth == 8 ? 1.0f / 255.0f : 1.0f / 65535.0f;
    const int bpp = img->channels * img->bit_depth / 8;
    const int gray = img->channels <= 2;
    float *r = planes, *g = planes + plane, *b = planes + 2 * plane;
    for (int j = 0; j < h; j++) {
        /* 64-bit sums: the rectangle may lie anywhere relative to the image. */
        const int y = (int)clampi_ll((long long)y0 + j, 0, img->height - 1);
        const uint8_t *row = img->data + (size_t)y * img->stride;
        for (int i = 0; i < w; i++) {
            const int x = (int)clampi_ll((long long)x0 + i, 0, img->width - 1);
            const uint8_t *px = row + (size_t)x * bpp;
            const size_t o = (size_t)j * w + i;
            if (gray) {
                const float v = (float)get_sample(img, px, 0) * scale;
                r[o] = g[o] = b[o] = v;
            } else {
                r[o] = (float)get_sample(img, px, 0) * scale;
                g[o] = (float)get_sample(img, px, 1) * scale;
                b[o] = (float)get_sample(img, px, 2) * scale;
            }
        }
    }
    return 0;
}

int lvc_image_to_planar_f32(const LvcImage *img, float *planes)
{
    int err = lvc_image_check(img);
    if (err)
        return err;
    return lvc_image_to_planar_f32_rect(img, 0, 0, img->width, img->height, planes);
}

/* floor(v * maxval + 0.5) clamped; NaN maps to 0. The comparisons are
 * written so that NaN fails them all. */
static unsigned quantize(float v, float maxval)
{
    const float s = v * maxval + 0.5f;
    if (!(s >= 1.0f))
        return 0;
    if (!(s < maxval))
        return (unsigned)maxval;
    return (unsigned)s;   /* truncation = floor for positive values */
}

int lvc_image_from_planar_f32_rect(LvcImage *img, int x0, int y0, int w, int h,
                                   const float *planes)
{
    int err = lvc_image_check(img);
    if (err)
        return err;
    if (!planes || w < 1 || h < 1)
        return LVC_ERR_INVALID_ARG;
    size_t plane;
    if (lvc_mul_size((size_t)w, (size_t)h, &plane))
        return LVC_ERR_INVALID_ARG;
    const float maxval = img->bit_depth == 8 ? 255.0f : 65535.0f;
    const int bpp = img->channels * img->bit_depth / 8;
    const float *r = planes, *g = planes + plane, *b = planes + 2 * plane;
    /* Clip the rectangle to the image. */
    const long long xs = x0 < 0 ? 0 : x0, ys = y0 < 0 ? 0 : y0;
    const long long xe = (long long)x0 + w < img->width ? (long long)x0 + w : img->width;
    const long long ye = (long long)y0 + h < img->height ? (long long)y0 + h : img->height;
    for (long long y = ys; y < ye; y++) {
        uint8_t *row = img->data + (size_t)y * img->stride;
        for (long long x = xs; x < xe; x++) {
            uint8_t *px = row + (size_t)x * bpp;
            const size_t o = (size_t)(y - y0) * w + (size_t)(x - x0);
            switch (img->channels) {
            case 1:
            case 2:
                put_sample(img, px, 0, quantize((r[o] + g[o] + b[o]) / 3.0f, maxval));
                if (img->channels == 2)
                    put_sample(img, px, 1, (unsigned)maxval);
                break;
            default:
                put_sample(img, px, 0, quantize(r[o], maxval));
                put_sample(img, px, 1, quantize(g[o], maxval));
                put_sample(img, px, 2, quantize(b[o], maxval));
                if (img->channels == 4)
                    put_sample(img, px, 3, (unsigned)maxval);
                break;
            }
        }
    }
    return 0;
}

int lvc_image_from_planar_f32(LvcImage *img, const float *planes)
{
    int err = lvc_image_check(img);
    if (err)
        return err;
    return lvc_image_from_planar_f32_rect(img, 0, 0, img->width, img->height, planes);
}
