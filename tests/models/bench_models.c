/*
 * Benchmark (prints, asserts nothing): encode and decode seconds per image
 * and MAC/pixel for every shipped model, and the peak memory of a large
 * decode.
 *
 *   bench_models [IMAGE.png] [--threads N] [--big SIDE] [--reps N] [--model NAME]
 *
 * --model runs one model only (e.g. under a profiler); --big 0 skips the
 * large decode.
 *
 * Peak memory is the library's own allocation high-water mark
 * (lvc_mem_peak: every buffer of the codec, nn activations included) and
 * the process's maximum resident set (getrusage), measured around a decode
 * of a SIDE x SIDE synthetic image (default 2048; the figure uses
 * --big 4096).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/mem.h"
#include "lvc/lvc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void synthetic(LvcImage *img, int side)
{
    if (lvc_image_alloc(img, side, side, 3, 8) < 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
            for (int c = 0; c < 3; c++)
                img->data[(size_t)y * img->stride + x * 3 + c] =
                    (uint8_t)(128 + 100 * sin(x / (13.0 + c)) * cos(y / 17.0));
}

int main(int argc, char **argv)
{
    const char *path = NULL, *only = NULL;
    int threads = 0, big = 2048, reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--big") && i + 1 < argc)
            big = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            only = argv[++i];
        else
            path = argv[i];
    }
    LvcImage img = { 0 };
    if (path) {
        if (lvc_png_read_file(path, &img, 0) < 0) {
            fprintf(stderr, "bench_models: cannot read %s\n", path);
            return 1;
        }
    } else {
        synthetic(&img, 512);
        path = "synthetic 512x512";
    }
    printf("image: %s (%dx%d), threads %d (0 = all cores), best of %d\n", path, img.width,
           img.height, threads, reps);
    printf("%-14s %8s %10s %10s %12s %12s %12s\n", "model", "bpp", "enc s", "dec s",
           "1st dec s", "enc MAC/px", "dec MAC/px");
    for (int m = 0; m < lvc_model_count(); m++) {
        const LvcModelInfo *info = lvc_model_info(m);
        if (only && strcmp(only, info->name))
            continue;
        LvcEncoderSettings es;
        lvc_encoder_default_settings(&es);
        es.model = info->name;
        es.threads = threads;
        LvcDecoderSettings ds;
        lvc_decoder_default_settings(&ds);
        ds.threads = threads;
        LvcEncoder *enc = NULL;
        LvcDecoder *dec = NULL;
        if (lvc_encoder_open(&enc, &es) < 0 || lvc_decoder_open(&dec, &ds) < 0) {
            printf("%-14s cannot open\n", info->name);
            continue;
        }
        double te = 1e9, td = 1e9, tfirst = 0;
        size_t size = 0;
        for (int r = 0; r < reps; r++) {
            uint8_t *buf = NULL;
            double t0 = now();
            if (lvc_encode_image(enc, &img, &buf, &size) < 0)
                break;
            double t1 = now();
            LvcImage out;
            if (lvc_decode_image(dec, buf, size, &out) < 0) {
                free(buf);
                break;
            }
            double t2 = now();
            lvc_image_free(&out);
            free(buf);
            /* the first decode also loads the model (weights check,
             * layer preparation, probability tables) */
            if (r == 0)
                tfirst = t2 - t1;
            te = fmin(te, t1 - t0);
            td = fmin(td, t2 - t1);
        }
        printf("%-14s %8.4f %10.3f %10.3f %12.3f %12.0f %12.0f\n", info->name,
               size * 8.0 / ((double)img.width * img.height), te, td, tfirst,
               info->macs_per_pixel_enc, info->macs_per_pixel_dec);
        lvc_encoder_close(&enc);
        lvc_decoder_close(&dec);
    }
    lvc_image_free(&img);

    /* peak memory of a large decode (default model) */
    if (big > 0 && lvc_model_count() > 0) {
        LvcImage bimg;
        synthetic(&bimg, big);
        LvcEncoderSettings es;
        lvc_encoder_default_settings(&es);
        es.threads = threads;
        LvcEncoder *enc = NULL;
        uint8_t *buf = NULL;
        size_t size = 0;
        if (lvc_encoder_open(&enc, &es) == 0 && lvc_encode_image(enc, &bimg, &buf, &size) == 0) {
            lvc_encoder_close(&enc);
            lvc_image_free(&bimg);
            LvcDecoderSettings ds;
            lvc_decoder_default_settings(&ds);
            ds.threads = threads;
            LvcDecoder *dec = NULL;
            LvcImage out;
            lvc_mem_reset_peak();
            const size_t base = lvc_mem_in_use();
            double t0 = now();
            if (lvc_decoder_open(&dec, &ds) == 0 && lvc_decode_image(dec, buf, size, &out) == 0) {
                double t1 = now();
                struct rusage ru;
                getrusage(RUSAGE_SELF, &ru);
                const double img_mb = (double)out.stride * out.height / 1048576.0;
                printf("decode %dx%d (%s): %.2f s, library peak %.1f MiB (output image %.1f MiB "
                       "of it), process max RSS %.1f MiB (includes the encode before it)\n",
                       big, big, lvc_model_default(), t1 - t0,
                       (lvc_mem_peak() - base) / 1048576.0, img_mb, ru.ru_maxrss / 1024.0);
                lvc_image_free(&out);
            }
            lvc_decoder_close(&dec);
        } else {
            lvc_encoder_close(&enc);
            lvc_image_free(&bimg);
        }
        free(buf);
    }
    return 0;
}
