/*
 * Benchmark of the codec glue: container write/parse, PNG and PNM
 * write/read and the float conversions. Prints figures; asserts nothing about time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lvc/lvc.h"
#include "codec/container.h"
#include "codec/image_io.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHECK(x)                                                        \
    do {                                                                \
        int err_ = (x);                                                 \
        if (err_) {                                                     \
            fprintf(stderr, "%s: %s\n", #x, lvc_error_string(err_));    \
            return 1;                                                   \
        }                                                               \
    } while (0)

static int bench_container(void)
{
    /* 8K-like layout: 120 x 68 tiles of 64 px, Z + 2 Y passes each. */
    enum { TX = 120, TY = 68, PER = 3, BYTES = 96 };
    const uint32_t nsub = TX * TY * PER;
    LvcSubstream *subs = calloc(nsub, sizeof(*subs));
    uint8_t *data = malloc(BYTES);
    if (!subs || !data)
        return 1;
    memset(data, 0x5a, BYTES);
    for (uint32_t i = 0; i < nsub; i++)
        subs[i] = (LvcSubstream){ .tile = i / PER, .pass = (uint8_t)(i % PER ? i % PER - 1 : 0),
                                  .what = i % PER ? LVC_SUB_Y : LVC_SUB_Z, .data = data,
                                  .size = BYTES };
    LvcContainer c = { 0 };
    c.hdr = (LvcImageHeader){ .width = TX * 64, .height = TY * 64, .channels = 3,
                              .bit_depth = 8, .quality = 7500, .tile_w = 64, .tile_h = 64,
                              .model_id = 1 };
    c.subs = subs;
    c.num_subs = nsub;
    uint8_t *out = NULL;
    size_t n = 0;
    const int reps = 20;
    double t0 = now();
    for (int r = 0; r < reps; r++) {
        free(out);
        CHECK(lvc_container_write(&c, &out, &n));
    }
    const double tw = (now() - t0) / reps;
    t0 = now();
    for (int r = 0; r < reps; r++) {
        LvcContainer p;
        CHECK(lvc_container_parse(out, n, NULL, &p));
        lvc_container_free(&p);
    }
    const double tp = (now() - t0) / reps;
    printf("container: %u substreams, %zu bytes: write %.2f ms (%.0f MB/s), "
           "parse+validate %.2f ms (%.0f MB/s)\n",
           nsub, n, tw * 1e3, n / tw / 1e6, tp * 1e3, n / tp / 1e6);
    free(out);
    free(subs);
    free(data);
    return 0;
}

static int bench_png(int depth)
{
    const int W = 1024, H = 1024;
    LvcImage img, back;
    CHECK(lvc_image_alloc(&img, W, H, 3, depth));
    /* A smooth picture with a little noise, closer to a photo than noise. */
    uint32_t s = 1;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W * 3; x++) {
            s = s * 1664525u + 1013904223u;
            const unsigned v = (unsigned)((x / 3 + y) / 8 + (s >> 29)) & 0xff;
            if (depth == 8) {
                img.data[(size_t)y * img.stride + x] = (uint8_t)v;
            } else {
                const uint16_t v16 = (uint16_t)(v * 257);
                memcpy(img.data + (size_t)y * img.stride + 2 * x, &v16, 2);
            }
        }
    }
    uint8_t *png;
    size_t n;
    double t0 = now();
    CHECK(lvc_png_write_mem(&img, &png, &n));
    const double tw = now() - t0;
    t0 = now();
    const int reps = 3;
    for (int r = 0; r < reps; r++) {
        CHECK(lvc_png_read_mem(png, n, &back, 0));
        if (r + 1 < reps)
            lvc_image_free(&back);
    }
    const double tr = (now() - t0) / reps;
    float *planes = malloc(sizeof(float) * 3 * (size_t)W * H);
    if (!planes)
        return 1;
    t0 = now();
    CHECK(lvc_image_to_planar_f32(&back, planes));
    const double tf = now() - t0;
    t0 = now();
    CHECK(lvc_image_from_planar_f32(&img, planes));
    const double tb = now() - t0;
    printf("png %2d-bit RGB %dx%d (%zu bytes): write %.1f ms, read %.1f ms; "
           "to_planar %.1f ms, from_planar %.1f ms\n",
           depth, W, H, n, tw * 1e3, tr * 1e3, tf * 1e3, tb * 1e3);
    /* The same image as PPM: no compression, so the time of the glue. */
    uint8_t *pnm;
    size_t pn;
    t0 = now();
    for (int r = 0; r < reps; r++) {
        CHECK(lvc_pnm_write_mem(&img, 0, &pnm, &pn));
        if (r + 1 < reps)
            free(pnm);
    }
    const double tpw = (now() - t0) / reps;
    LvcImage pback;
    t0 = now();
    for (int r = 0; r < reps; r++) {
        CHECK(lvc_pnm_read_mem(pnm, pn, &pback, 0));
        if (r + 1 < reps)
            lvc_image_free(&pback);
    }
    const double tpr = (now() - t0) / reps;
    if (memcmp(pback.data, back.data, (size_t)H * back.stride))
        return 1;
    printf("ppm %2d-bit RGB %dx%d (%zu bytes): write %.1f ms, read %.1f ms "
           "(%.0fx and %.0fx faster than PNG)\n",
           depth, W, H, pn, tpw * 1e3, tpr * 1e3, tw / tpw, tr / tpr);
    free(pnm);
    lvc_image_free(&pback);
    free(planes);
    free(png);
    lvc_image_free(&img);
    lvc_image_free(&back);
    return 0;
}

/* A real photo (argv[1], e.g. samples/kodim23.png): read and write. */
static int bench_file(const char *path)
{
    LvcImage img;
    double t0 = now();
    int err = lvc_png_read_file(path, &img, 0);
    if (err) {
        printf("%s: %s (skipped)\n", path, lvc_error_string(err));
        return 0;
    }
    const double tr = now() - t0;
    uint8_t *png;
    size_t n;
    t0 = now();
    CHECK(lvc_png_write_mem(&img, &png, &n));
    const double tw = now() - t0;
    printf("%s %dx%dx%d: read %.1f ms, write %.1f ms (%zu bytes)\n", path, img.width,
           img.height, img.channels, tr * 1e3, tw * 1e3, n);
    free(png);
    lvc_image_free(&img);
    return 0;
}

int main(int argc, char **argv)
{
    if (bench_container() || bench_png(8) || bench_png(16))
        return EXIT_FAILURE;
    for (int i = 1; i < argc; i++)
        if (bench_file(argv[i]))
            return EXIT_FAILURE;
    return EXIT_SUCCESS;
}
