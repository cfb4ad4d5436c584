/*
 * Netpbm input/output: binary PGM (P5), PPM (P6) and PAM (P7).
 *
 * The reader takes the first image of a file. Samples are one byte when
 * maxval < 256, else two bytes big-endian (Netpbm's rule); a maxval other
 * than 255 or 65535 is rescaled to 8 or 16 bits with rounding, and a
 * sample above maxval is refused as corrupt. The plain (ASCII) formats and
 * PBM bitmaps are refused as an unsupported format.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lvc/lvc.h"
#include "common/bits.h"
#include "common/log.h"
#include "common/mem.h"
#include "codec/image_io.h"

/* ------------------------------------------------------------------ read */

typedef struct PnmSource {
    const uint8_t *buf;   /* memory source, or NULL */
    size_t size, pos;
    FILE *f;              /* file source */
    long long file_size;  /* of a regular file, else -1 */
} PnmSource;

/* Next byte, or a negative error code (LVC_ERR_TRUNCATED at the end). */
static int src_getc(PnmSource *s)
{
    if (s->f) {
        const int c = getc(s->f);
        if (c == EOF)
            return ferror(s->f) ? LVC_ERR_IO : LVC_ERR_TRUNCATED;
        return c;
    }
    if (s->pos >= s->size)
        return LVC_ERR_TRUNCATED;
    return s->buf[s->pos++];
}

static int src_read(PnmSource *s, uint8_t *dst, size_t n)
{
    if (s->f) {
        if (fread(dst, 1, n, s->f) != n)
            return ferror(s->f) ? LVC_ERR_IO : LVC_ERR_TRUNCATED;
        return 0;
    }
    if (n > s->size - s->pos)
        return LVC_ERR_TRUNCATED;
    memcpy(dst, s->buf + s->pos, n);
    s->pos += n;
    return 0;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Largest number a header field may hold: dimensions are bounded by int,
 * maxval by 65535, DEPTH by 4; anything longer is corrupt. */
#define PNM_MAX_NUMBER 0x7fffffffL

/* Skips a '#' comment up to and including its end of line; 0, or the
 * error of the source (LVC_ERR_TRUNCATED when the data ends first). */
static int skip_comment(PnmSource *s)
{
    int c;
    while ((c = src_getc(s)) >= 0 && c != '\n' && c != '\r')
        ;
    return c < 0 ? c : 0;
}

/* P5/P6 header: a decimal number after whitespace and '#' comments; the
 * byte after its last digit (LVC_ERR_TRUNCATED at the end of the data) is
 * stored in *next for pnm_separator. */
static int pnm_number(PnmSource *s, long *out, int *next)
{
    int c = src_getc(s);
    for (;;) {
        if (c < 0)
            return c;
        if (c == '#') {
            const int err = skip_comment(s);
            if (err)
                return err;
            c = src_getc(s);
            continue;
        }
        if (!is_space(c))
            break;
        c = src_getc(s);
    }
    if (c < '0' || c > '9')
        return LVC_ERR_CORRUPT;
    long v = 0;
    while (c >= '0' && c <= '9') {
        if (v > (PNM_MAX_NUMBER - (c - '0')) / 10)
            return LVC_ERR_CORRUPT;
        v = v * 10 + (c - '0');
        c = src_getc(s);
    }
    if (c == LVC_ERR_IO)
        return c;
    *out = v;
    *next = c;
    return 0;
}

typedef struct PnmHeader {
    long width, height, depth, maxval;
} PnmHeader;

/* The byte c that follows the magic or a header number: whitespace, or
 * the start of a comment, which is skipped through its end of line. After
 * maxval this is the single byte before the samples (a comment's end of
 * line counting as that byte, as libnetpbm reads it). */
static int pnm_separator(PnmSource *s, int c)
{
    if (c < 0)
        return c;
    if (c == '#')
        return skip_comment(s);
    return is_space(c) ? 0 : LVC_ERR_CORRUPT;
}

static int pnm_header_p56(PnmSource *s, int magic, PnmHeader *h)
{
    int err = pnm_separator(s, src_getc(s));
    if (err)
        return err;
    long *fields[3] = { &h->width, &h->height, &h->maxval };
    for (int i = 0; i < 3; i++) {
        int next;
        if ((err = pnm_number(s, fields[i], &next)) || (err = pnm_separator(s, next)))
            return err;
    }
    h->depth = magic == '5' ? 1 : 3;
    return 0;
}

/* One PAM header line, without its end of line, into line[cap]; a
 * comment line (first non-blank byte '#') of any length comes back as "#".
 * A NUL byte, or another line that does not fit, is corrupt. */
static int pam_line(PnmSource *s, char *line, size_t cap)
{
    size_t n = 0;
    int comment = 0, blank = 1;
    for (;;) {
        const int c = src_getc(s);
        if (c < 0)
            return c;
        if (c == '\n')
            break;
        if (comment)
            continue;
        if (blank && c == '#') {
            comment = 1;
            line[0] = '#';
            n = 1;
            continue;
        }
        if (c == '\0' || n + 1 >= cap)
            return LVC_ERR_CORRUPT;
        if (!is_space(c))
            blank = 0;
        line[n++] = (char)c;
    }
    while (n > 0 && is_space((unsigned char)line[n - 1]))
        n--;
    line[n] = '\0';
    return 0;
}

static int pam_value(const char *p, long *out)
{
    while (is_space((unsigned char)*p))
        p++;
    if (*p < '0' || *p > '9')
        return LVC_ERR_CORRUPT;
    long v = 0;
    while (*p >= '0' && *p <= '9') {
        const int d = *p++ - '0';
        if (v > (PNM_MAX_NUMBER - d) / 10)
            return LVC_ERR_CORRUPT;
        v = v * 10 + d;
    }
    if (*p)
        return LVC_ERR_CORRUPT;
    *out = v;
    return 0;
}

/* The tuple types lvc reads, by the depth they imply. BLACKANDWHITE is
 * gray with maxval 1. */
static int pam_tupltype_depth(const char *t)
{
    static const struct { const char *name; int depth; } types[] = {
        { "GRAYSCALE", 1 }, { "BLACKANDWHITE", 1 }, { "GRAYSCALE_ALPHA", 2 },
        { "BLACKANDWHITE_ALPHA", 2 }, { "RGB", 3 }, { "RGB_ALPHA", 4 },
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(t, types[i].name))
            return types[i].depth;
    return 0;
}

static int pam_header(PnmSource *s, PnmHeader *h)
{
    /* The magic must end its line. */
    const int c = src_getc(s);
    if (c < 0)
        return c;
    if (c != '\n')
        return LVC_ERR_CORRUPT;
    h->width = h->height = h->depth = h->maxval = -1;
    int tuple_depth = 0, have_tuple = 0;
    char line[256];
    for (int lines = 0;; lines++) {
        /* A header this long is not a real one. */
        if (lines > 1000)
            return LVC_ERR_CORRUPT;
        int err = pam_line(s, line, sizeof(line));
        if (err)
            return err;
        const char *p = line;
        while (is_space((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if (!strcmp(p, "ENDHDR"))
            break;
        const char *key_end = p;
        while (*key_end && !is_space((unsigned char)*key_end))
            key_end++;
        const size_t klen = (size_t)(key_end - p);
        long *field = NULL;
        if (klen == 5 && !memcmp(p, "WIDTH", 5))
            field = &h->width;
        else if (klen == 6 && !memcmp(p, "HEIGHT", 6))
            field = &h->height;
        else if (klen == 5 && !memcmp(p, "DEPTH", 5))
            field = &h->depth;
        else if (klen == 6 && !memcmp(p, "MAXVAL", 6))
            field = &h->maxval;
        if (field) {
            if (*field >= 0)
                return LVC_ERR_CORRUPT;       /* given twice */
            err = pam_value(key_end, field);
            if (err)
                return err;
        } else if (klen == 8 && !memcmp(p, "TUPLTYPE", 8)) {
            while (is_space((unsigned char)*key_end))
                key_end++;
            if (have_tuple)
                return LVC_ERR_FORMAT;        /* compound tuple types */
            have_tuple = 1;
            tuple_depth = pam_tupltype_depth(key_end);
            if (!tuple_depth)
                return LVC_ERR_FORMAT;
        } else {
            return LVC_ERR_CORRUPT;
        }
    }
    if (h->width < 0 || h->height < 0 || h->depth < 0 || h->maxval < 0)
        return LVC_ERR_CORRUPT;
    if (h->depth < 1 || h->depth > 4 || (have_tuple && tuple_depth != h->depth))
        return LVC_ERR_FORMAT;
    return 0;
}

/* Rescales a sample of [0, maxval] to [0, out_max] with rounding. */
static unsigned rescale(unsigned v, unsigned maxval, unsigned out_max)
{
    return (unsigned)(((uint64_t)v * out_max + maxval / 2) / maxval);
}

static int pnm_read_src(PnmSource *s, LvcImage *img, uint64_t max_pixels)
{
    if (!max_pixels)
        max_pixels = LVC_PNG_DEFAULT_MAX_PIXELS;
    int c0 = src_getc(s);
    if (c0 < 0)
        return c0;
    if (c0 != 'P')
        return LVC_ERR_FORMAT;
    const int magic = src_getc(s);
    if (magic < 0)
        return magic;
    if (magic < '1' || magic > '7')
        return LVC_ERR_FORMAT;
    /* P1 to P4: plain (ASCII) formats and bitmaps, not read here. */
    if (magic < '5')
        return LVC_ERR_FORMAT;
    PnmHeader h;
    int err = magic == '7' ? pam_header(s, &h) : pnm_header_p56(s, magic, &h);
    if (err)
        return err;
    if (h.maxval < 1 || h.maxval > 65535)
        return LVC_ERR_CORRUPT;
    if (h.width < 1 || h.height < 1 || (uint64_t)h.width * (uint64_t)h.height > max_pixels)
        return LVC_ERR_DIMENSIONS;

    const unsigned maxval = (unsigned)h.maxval;
    const int in_bytes = maxval < 256 ? 1 : 2;
    const int depth = maxval < 256 ? 8 : 16;
    const unsigned out_max = depth == 8 ? 255u : 65535u;
    const int channels = (int)h.depth;
    /* A memory source must hold every sample before the image is
     * allocated: a few header bytes cannot make the reader allocate. */
    const uint64_t pixels = (uint64_t)h.width * (uint64_t)h.height;
    long long left = -1;
    if (!s->f) {
        left = (long long)(s->size - s->pos);
    } else if (s->file_size >= 0) {
        const long pos = ftell(s->f);
        if (pos >= 0 && pos <= s->file_size)
            left = s->file_size - pos;
    }
    if (left >= 0 && (uint64_t)left / ((uint64_t)channels * in_bytes) < pixels)
        return LVC_ERR_TRUNCATED;
    err = lvc_image_alloc(img, (int)h.width, (int)h.height, channels, depth);
    if (err)
        return err;
    /* Samples are read a row at a time into the image row itself: the
     * input row has as many bytes as the output row. */
    const size_t row = (size_t)img->width * (size_t)channels * (size_t)in_bytes;
    for (int y = 0; y < img->height; y++) {
        uint8_t *dst = img->data + (size_t)y * img->stride;
        err = src_read(s, dst, row);
        if (err)
            break;
        const size_t n = (size_t)img->width * (size_t)channels;
        if (in_bytes == 1) {
            for (size_t i = 0; i < n; i++) {
                if (dst[i] > maxval) {
                    err = LVC_ERR_CORRUPT;
                    break;
                }
                if (maxval != 255)
                    dst[i] = (uint8_t)rescale(dst[i], maxval, out_max);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                unsigned v = (unsigned)dst[2 * i] << 8 | dst[2 * i + 1];
                if (v > maxval) {
                    err = LVC_ERR_CORRUPT;
                    break;
                }
                if (maxval != 65535)
                    v = rescale(v, maxval, out_max);
                const uint16_t v16 = (uint16_t)v;
                memcpy(dst + 2 * i, &v16, 2);
            }
        }
        if (err)
            break;
    }
    if (err)
        lvc_image_free(img);
    return err;
}

int lvc_pnm_read_mem(const uint8_t *buf, size_t size, LvcImage *img, uint64_t max_pixels)
{
    if (!img)
        return LVC_ERR_INVALID_ARG;
    memset(img, 0, sizeof(*img));
    if (!buf && size)
        return LVC_ERR_INVALID_ARG;
    static const uint8_t empty[1];
    PnmSource src = { .buf = buf ? buf : empty, .size = size };
    return pnm_read_src(&src, img, max_pixels);
}

int lvc_pnm_read_file(const char *path, LvcImage *img, uint64_t max_pixels)
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
    PnmSource src = { .f = f, .file_size = -1 };
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
        src.file_size = (long long)st.st_size;
    const int err = pnm_read_src(&src, img, max_pixels);
    fclose(f);
    return err;
}

/* ----------------------------------------------------------------- write */

static int pnm_write_w(LvcByteWriter *w, const LvcImage *img, int pam)
{
    int err = lvc_image_check(img);
    if (err)
        return err;
    if (!pam && img->channels != 1 && img->channels != 3)
        return LVC_ERR_FORMAT;    /* alpha needs PAM */
    const unsigned maxval = img->bit_depth == 16 ? 65535u : 255u;
    char head[160];
    int n;
    if (pam) {
        static const char *const tuple[5] = { "", "GRAYSCALE", "GRAYSCALE_ALPHA", "RGB",
                                              "RGB_ALPHA" };
        n = snprintf(head, sizeof(head),
                     "P7\nWIDTH %d\nHEIGHT %d\nDEPTH %d\nMAXVAL %u\nTUPLTYPE %s\nENDHDR\n",
                     img->width, img->height, img->channels, maxval, tuple[img->channels]);
    } else {
        n = snprintf(head, sizeof(head), "P%c\n%d %d\n%u\n", img->channels == 1 ? '5' : '6',
                     img->width, img->height, maxval);
    }
    const size_t samples = (size_t)img->width * (size_t)img->channels;
    const size_t row = samples * (size_t)(img->bit_depth / 8);
    size_t total;
    if (lvc_mul_size(row, (size_t)img->height, &total) || total > SIZE_MAX - (size_t)n)
        return LVC_ERR_NOMEM;
    if (lvc_bw_reserve(w, total + (size_t)n))
        return LVC_ERR_NOMEM;
    lvc_bw_bytes(w, head, (size_t)n);
    for (int y = 0; y < img->height; y++) {
        const uint8_t *src = img->data + (size_t)y * img->stride;
        uint8_t *dst = w->buf + w->size;
        if (img->bit_depth == 8) {
            memcpy(dst, src, row);
        } else {
            for (size_t i = 0; i < samples; i++) {
                uint16_t v;
                memcpy(&v, src + 2 * i, 2);
                dst[2 * i] = (uint8_t)(v >> 8);
                dst[2 * i + 1] = (uint8_t)v;
            }
        }
        w->size += row;
    }
    return w->err ? LVC_ERR_NOMEM : 0;
}

int lvc_pnm_write_mem(const LvcImage *img, int pam, uint8_t **out, size_t *out_size)
{
    if (out)
        *out = NULL;
    if (out_size)
        *out_size = 0;
    if (!out || !out_size)
        return LVC_ERR_INVALID_ARG;
    LvcByteWriter w;
    lvc_bw_init(&w);
    const int err = pnm_write_w(&w, img, pam);
    if (err) {
        lvc_bw_free(&w);
        return err;
    }
    return lvc_bw_detach(&w, out, out_size);
}

int lvc_pnm_write_file(const char *path, const LvcImage *img, int pam)
{
    if (!path)
        return LVC_ERR_INVALID_ARG;
    /* Built in memory first: a refused image writes no file at all. The
     * copy costs as much as the image, far below what decoding it took. */
    uint8_t *buf;
    size_t size;
    int err = lvc_pnm_write_mem(img, pam, &buf, &size);
    if (err)
        return err;
    FILE *f = fopen(path, "wb");
    if (!f) {
        lvc_log(LVC_LOG_DEBUG, "cannot create %s", path);
        free(buf);
        return LVC_ERR_IO;
    }
    if (fwrite(buf, 1, size, f) != size)
        err = LVC_ERR_IO;
    if (fclose(f) && !err)
        err = LVC_ERR_IO;
    free(buf);
    /* Leave no half-written file behind. */
    if (err)
        remove(path);
    return err;
}
