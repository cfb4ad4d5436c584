/*
 * lvcconf: the conformance suite's helper tool (conformance/run,
 * conformance/regenerate).
 *
 *   lvcconf gen FORMAT WxH OUT.png   write a deterministic test image
 *   lvcconf sha IMG.png              SHA-256 of the decoded samples
 *   lvcconf cmp REF.png TEST.png [--max-diff N] [--min-psnr DB]
 *                                    compare a reconstruction with the
 *                                    reference one, within a tolerance
 *   lvcconf backend NAME             exit 0 if the backend can be opened
 *
 * FORMAT is gray, graya, rgb or rgba, with "16" appended for 16-bit samples
 * (rgb16). The images are built from integer arithmetic only, so they are
 * the same bytes on every machine and compiler: the committed streams can be
 * re-encoded from them and compared byte for byte.
 *
 * The image digest ("sha") is the SHA-256 of the samples in row-major,
 * interleaved order without padding, 16-bit samples little-endian; it does
 * not depend on the PNG encoder (zlib level, filters).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/sha256.h"

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_IO = 2,
    EXIT_MISMATCH = 3,   /* cmp: outside the tolerance or different shape */
    EXIT_NO_BACKEND = 4,
};

static void usage(FILE *f)
{
    fputs("Usage: lvcconf gen FORMAT WxH OUT.png\n"
          "       lvcconf sha IMG.png\n"
          "       lvcconf cmp REF.png TEST.png [--max-diff N] [--min-psnr DB]\n"
          "       lvcconf backend ref|cpu|cuda\n"
          "FORMAT: gray, graya, rgb, rgba, optionally followed by 16 (rgb16).\n",
          f);
}

/* A 32-bit integer hash (lowbias32), the noise of the test images. */
static uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* One 16-bit sample of colour channel c (0..2) at (x, y): a diagonal ramp
 * whose direction depends on the channel, a disc and a bar with sharp edges,
 * a band of fine stripes, and low-amplitude noise -- smooth areas, edges and
 * texture, so every part of the coder sees non-trivial latents. */
static uint32_t colour_sample(int x, int y, int c, int w, int h)
{
    const int64_t W = w > 1 ? w - 1 : 1, H = h > 1 ? h - 1 : 1;
    int64_t v;
    switch (c) {
    case 0:  v = (int64_t)x * 40000 / W + (int64_t)y * 20000 / H; break;
    case 1:  v = (int64_t)(W - x) * 30000 / W + (int64_t)y * 30000 / H; break;
    default: v = 50000 - (int64_t)x * 20000 / W - (int64_t)y * 25000 / H; break;
    }
    const int64_t cx = w / 3, cy = h / 2, r = (w < h ? w : h) / 4 + 1;
    const int64_t dx = x - cx, dy = y - cy;
    if (dx * dx + dy * dy <= r * r)
        v = 65535 - v / 2 - c * 9000;
    if (x >= (2 * w) / 3 && x < (2 * w) / 3 + w / 10 + 1)
        v = c == 1 ? 60000 : 6000;
    if (y >= (3 * h) / 4 && ((x >> 1) & 1))
        v += 12000;
    v += (int64_t)(hash32((uint32_t)(y * 65599 + x * 3 + c) * 2654435761U) & 0xfff) - 0x800;
    return (uint32_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
}

/* Alpha: opaque, fully transparent and graded regions (the alpha plane is
 * coded losslessly, so its exact values matter). */
static uint32_t alpha_sample(int x, int y, int w, int h)
{
    if (y < h / 4)
        return 65535;
    if (x < w / 5)
        return 0;
    uint32_t v = (uint32_t)((int64_t)x * 65535 / (w > 1 ? w - 1 : 1));
    return (v ^ (hash32((uint32_t)(x * 7919 + y)) & 0x3f)) & 0xffff;
}

static int parse_format(const char *s, int *channels, int *depth)
{
    static const char *const names[] = { "gray", "graya", "rgb", "rgba" };
    for (int i = 3; i >= 0; i--) {
        const size_t n = strlen(names[i]);
        if (strncmp(s, names[i], n))
            continue;
        if (!strcmp(s + n, "")) {
            *depth = 8;
        } else if (!strcmp(s + n, "16")) {
            *depth = 16;
        } else {
            continue;
        }
        *channels = i + 1;
        return 0;
    }
    return -1;
}

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (errno || end == s || *end != 'x' || a < 1 || a > 65535)
        return -1;
    const char *t = end + 1;
    long b = strtol(t, &end, 10);
    if (errno || end == t || *end || b < 1 || b > 65535)
        return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

static void put_sample(LvcImage *img, int x, int y, int c, uint32_t v16)
{
    uint8_t *row = img->data + (size_t)y * img->stride;
    if (img->bit_depth == 16)
        ((uint16_t *)(void *)row)[(size_t)x * img->channels + c] = (uint16_t)v16;
    else
        row[(size_t)x * img->channels + c] = (uint8_t)(v16 >> 8);
}

static uint32_t get_sample(const LvcImage *img, int x, int y, int c)
{
    const uint8_t *row = img->data + (size_t)y * img->stride;
    if (img->bit_depth == 16)
        return ((const uint16_t *)(const void *)row)[(size_t)x * img->channels + c];
    return row[(size_t)x * img->channels + c];
}

static int cmd_gen(int argc, char **argv)
{
    int channels, depth, w, h;
    if (argc != 3 || parse_format(argv[0], &channels, &depth) || parse_size(argv[1], &w, &h)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    LvcImage img;
    int err = lvc_image_alloc(&img, w, h, channels, depth);
    if (err < 0) {
        fprintf(stderr, "lvcconf: %s\n", lvc_error_string(err));
        return EXIT_IO;
    }
    const int colours = channels >= 3 ? 3 : 1;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            if (colours == 3) {
                for (int c = 0; c < 3; c++)
                    put_sample(&img, x, y, c, colour_sample(x, y, c, w, h));
            } else {
                /* Luma-like mix of the three planes, in integers. */
                const uint32_t v = (colour_sample(x, y, 0, w, h) * 77 +
                                    colour_sample(x, y, 1, w, h) * 150 +
                                    colour_sample(x, y, 2, w, h) * 29) >> 8;
                put_sample(&img, x, y, 0, v);
            }
            if (channels == 2 || channels == 4)
                put_sample(&img, x, y, colours, alpha_sample(x, y, w, h));
        }
    }
    err = lvc_png_write_file(argv[2], &img);
    lvc_image_free(&img);
    if (err < 0) {
        fprintf(stderr, "lvcconf: %s: %s\n", argv[2], lvc_error_string(err));
        return EXIT_IO;
    }
    return EXIT_OK;
}

static int read_png(const char *path, LvcImage *img)
{
    int err = lvc_png_read_file(path, img, 0);
    if (err < 0) {
        fprintf(stderr, "lvcconf: %s: %s\n", path, lvc_error_string(err));
        return EXIT_IO;
    }
    return EXIT_OK;
}

static int cmd_sha(int argc, char **argv)
{
    if (argc != 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    LvcImage img;
    int ret = read_png(argv[0], &img);
    if (ret)
        return ret;
    LvcSha256 s;
    lvc_sha256_init(&s);
    const size_t n = (size_t)img.width * img.channels;
    for (int y = 0; y < img.height; y++) {
        if (img.bit_depth == 16) {
            const uint16_t *row = (const uint16_t *)(const void *)(img.data + (size_t)y * img.stride);
            for (size_t i = 0; i < n; i++) {
                const uint8_t le[2] = { (uint8_t)row[i], (uint8_t)(row[i] >> 8) };
                lvc_sha256_update(&s, le, 2);
            }
        } else {
            lvc_sha256_update(&s, img.data + (size_t)y * img.stride, n);
        }
    }
    uint8_t d[LVC_SHA256_SIZE];
    char hex[2 * LVC_SHA256_SIZE + 1];
    lvc_sha256_final(&s, d);
    lvc_hex_encode(d, sizeof(d), hex);
    printf("%s\n", hex);
    lvc_image_free(&img);
    return EXIT_OK;
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno || end == s || *end || !(*v >= 0) ? -1 : 0;
}

/* Prints one line, "maxdiff N psnr P alpha_maxdiff A" (levels of the
 * image's bit depth; psnr over the colour channels against the full-scale
 * peak, "inf" for identical images), then checks the tolerance: the colour
 * channels within --max-diff and --min-psnr, the alpha channel exact. */
static int cmd_cmp(int argc, char **argv)
{
    double max_diff = -1, min_psnr = -1;
    const char *files[2];
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--max-diff") && i + 1 < argc) {
            if (parse_double(argv[++i], &max_diff))
                goto bad;
        } else if (!strcmp(argv[i], "--min-psnr") && i + 1 < argc) {
            if (parse_double(argv[++i], &min_psnr))
                goto bad;
        } else if (nfiles < 2) {
            files[nfiles++] = argv[i];
        } else {
            goto bad;
        }
    }
    if (nfiles != 2)
        goto bad;

    LvcImage a = { 0 }, b = { 0 };
    int ret = read_png(files[0], &a);
    if (!ret)
        ret = read_png(files[1], &b);
    if (ret)
        goto end;
    if (a.width != b.width || a.height != b.height || a.channels != b.channels ||
        a.bit_depth != b.bit_depth) {
        printf("shape differs: %dx%d %d channel(s) %d-bit vs %dx%d %d channel(s) %d-bit\n",
               a.width, a.height, a.channels, a.bit_depth,
               b.width, b.height, b.channels, b.bit_depth);
        ret = EXIT_MISMATCH;
        goto end;
    }
    const int colours = a.channels >= 3 ? 3 : 1;
    uint32_t maxd = 0, maxa = 0;
    double sse = 0;
    for (int y = 0; y < a.height; y++) {
        for (int x = 0; x < a.width; x++) {
            for (int c = 0; c < a.channels; c++) {
                const int64_t d = (int64_t)get_sample(&a, x, y, c) - get_sample(&b, x, y, c);
                const uint32_t ad = (uint32_t)(d < 0 ? -d : d);
                if (c >= colours) {
                    if (ad > maxa)
                        maxa = ad;
                    continue;
                }
                if (ad > maxd)
                    maxd = ad;
                sse += (double)d * (double)d;
            }
        }
    }
    const double peak = a.bit_depth == 16 ? 65535.0 : 255.0;
    const double mse = sse / ((double)a.width * a.height * colours);
    const double psnr = mse > 0 ? 10.0 * log10(peak * peak / mse) : INFINITY;
    if (isinf(psnr))
        printf("maxdiff %u psnr inf alpha_maxdiff %u\n", maxd, maxa);
    else
        printf("maxdiff %u psnr %.2f alpha_maxdiff %u\n", maxd, psnr, maxa);
    if (maxa || (max_diff >= 0 && maxd > max_diff) || (min_psnr >= 0 && psnr < min_psnr))
        ret = EXIT_MISMATCH;
end:
    lvc_image_free(&a);
    lvc_image_free(&b);
    return ret;
bad:
    usage(stderr);
    return EXIT_USAGE;
}

static int cmd_backend(int argc, char **argv)
{
    static const char *const names[] = { "auto", "ref", "cpu", "cuda" };
    if (argc != 1)
        goto bad;
    for (int i = 0; i < 4; i++) {
        if (strcmp(argv[0], names[i]))
            continue;
        LvcDecoderSettings s;
        LvcDecoder *dec = NULL;
        lvc_decoder_default_settings(&s);
        s.threads = 1;
        s.backend = (LvcBackend)i;
        const int err = lvc_decoder_open(&dec, &s);
        lvc_decoder_close(&dec);
        if (err < 0) {
            printf("backend %s unavailable: %s\n", names[i], lvc_error_string(err));
            return EXIT_NO_BACKEND;
        }
        return EXIT_OK;
    }
bad:
    usage(stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "gen"))
        return cmd_gen(argc - 2, argv + 2);
    if (!strcmp(argv[1], "sha"))
        return cmd_sha(argc - 2, argv + 2);
    if (!strcmp(argv[1], "cmp"))
        return cmd_cmp(argc - 2, argv + 2);
    if (!strcmp(argv[1], "backend"))
        return cmd_backend(argc - 2, argv + 2);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return EXIT_OK;
    }
    usage(stderr);
    return EXIT_USAGE;
}
