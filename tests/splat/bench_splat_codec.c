/*
 * Benchmark of the splat coder: for a scene, encode and decode time at a
 * few qualities (best of 3 and of 5 runs), the stream size, and the
 * decoder's peak memory; as a baseline in the same run, the time to parse the scene's
 * own PLY (or .splat) from memory. Asserts nothing about time.
 *
 *   bench_splat_codec SCENE.ply|SCENE.splat
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lvc/lvc.h"
#include "lvc/splat.h"
#include "common/mem.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best of `reps` runs of the read, in seconds. */
static double time_read(const uint8_t *buf, size_t size, int ply, int reps)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        LvcSplats s;
        const double t0 = now();
        const int err = ply ? lvc_ply_read_mem(buf, size, &s, 0) : lvc_splat_read_mem(buf, size, &s, 0);
        const double dt = now() - t0;
        if (err < 0)
            return -1;
        lvc_splats_free(&s);
        best = dt < best ? dt : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("usage: %s SCENE.ply|SCENE.splat\n", argv[0]);
        return 0;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    const long fsize = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *file = malloc(fsize > 0 ? (size_t)fsize : 1);
    if (!file || fread(file, 1, (size_t)fsize, f) != (size_t)fsize) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 1;
    }
    fclose(f);
    const int ply = fsize >= 4 && !memcmp(file, "ply", 3);
    LvcSplats s;
    int err = ply ? lvc_ply_read_mem(file, (size_t)fsize, &s, 0)
                  : lvc_splat_read_mem(file, (size_t)fsize, &s, 0);
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", argv[1], lvc_error_string(err));
        return 1;
    }
    const double t_read = time_read(file, (size_t)fsize, ply, 5);
    printf("%s: %u splats, SH degree %d, %ld bytes; parsing it takes %.2f ms\n", argv[1],
           s.count, s.sh_degree, fsize, 1e3 * t_read);
    printf("%5s %9s %7s %10s %10s %10s %12s\n", "q", "bytes", "bits/sp", "enc ms", "dec ms",
           "dec/parse", "dec peak MB");
    static const float qs[] = { 10, 50, 75, 100 };
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        LvcSplatSettings set;
        lvc_splat_default_settings(&set);
        set.quality = qs[i];
        double te = 1e30;
        uint8_t *stream = NULL;
        size_t size = 0;
        for (int r = 0; r < 3; r++) {
            lvc_splat_buffer_free(stream);
            stream = NULL;
            const double t0 = now();
            if ((err = lvc_encode_splats(&set, &s, &stream, &size, NULL)) < 0) {
                fprintf(stderr, "encode: %s\n", lvc_error_string(err));
                return 1;
            }
            te = now() - t0 < te ? now() - t0 : te;
        }
        double td = 1e30;
        size_t peak = 0;
        for (int r = 0; r < 5; r++) {
            LvcSplats d;
            const size_t base = lvc_mem_in_use();
            lvc_mem_reset_peak();
            const double t0 = now();
            if ((err = lvc_decode_splats(stream, size, &d, 0)) < 0) {
                fprintf(stderr, "decode: %s\n", lvc_error_string(err));
                return 1;
            }
            const double dt = now() - t0;
            td = dt < td ? dt : td;
            peak = lvc_mem_peak() - base;
            lvc_splats_free(&d);
        }
        printf("%5.0f %9zu %7.2f %10.2f %10.2f %10.2f %12.2f\n", qs[i], size,
               s.count ? size * 8.0 / s.count : 0.0, 1e3 * te, 1e3 * td,
               t_read > 0 ? td / t_read : 0.0, peak / 1048576.0);
        lvc_splat_buffer_free(stream);
    }
    lvc_splats_free(&s);
    free(file);
    return 0;
}
