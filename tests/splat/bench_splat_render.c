/*
 * Benchmark of the splat renderer: 8 orbit views of a scene at 256x256
 * with 1 and 2 threads. Prints ms per view and splats per second; asserts
 * nothing about time.
 *
 *   bench_splat_render SCENE.ply|SCENE.splat [size]
 *   bench_splat_render synthetic:N [size]      (N random splats, degree 3)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lvc/lvc.h"
#include "lvc/splat.h"

#define VIEWS 8

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float uniform(uint32_t *state, float lo, float hi)
{
    *state = *state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(*state >> 8) / 16777216.0f;
}

static int synthetic(LvcSplats *s, uint32_t n)
{
    int ret = lvc_splats_alloc(s, n, 3);
    if (ret < 0)
        return ret;
    uint32_t seed = 1;
    for (uint32_t i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
            s->position[i * 3 + k] = uniform(&seed, -1.0f, 1.0f);
            s->scale[i * 3 + k] = uniform(&seed, -5.5f, -3.0f);
        }
        for (int k = 0; k < 4; k++)
            s->rotation[i * 4 + k] = uniform(&seed, -1.0f, 1.0f);
        s->opacity[i] = uniform(&seed, -2.0f, 4.0f);
        for (int k = 0; k < 48; k++)
            s->sh[(size_t)i * 48 + k] = uniform(&seed, -1.0f, 1.0f) * (k % 16 ? 0.2f : 1.0f);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("usage: %s SCENE.ply|SCENE.splat|synthetic:N [size]\n"
               "renders %d orbit views at size x size (default 256) with 1 and 2 threads\n",
               argv[0], VIEWS);
        return 0;
    }
    const int size = argc > 2 ? atoi(argv[2]) : 256;
    LvcSplats s = { 0 };
    int ret;
    if (!strncmp(argv[1], "synthetic:", 10))
        ret = synthetic(&s, (uint32_t)strtoul(argv[1] + 10, NULL, 10));
    else
        ret = lvc_splats_read_file(argv[1], &s, 0);
    if (ret < 0) {
        fprintf(stderr, "%s: %s\n", argv[1], lvc_error_string(ret));
        return 1;
    }
    LvcSplatCamera cams[VIEWS];
    float *img[2] = { malloc((size_t)size * size * 3 * sizeof(float) * VIEWS),
                      malloc((size_t)size * size * 3 * sizeof(float) * VIEWS) };
    if (!img[0] || !img[1]) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if ((ret = lvc_splats_orbit_cameras(&s, VIEWS, size, size, cams)) < 0) {
        fprintf(stderr, "orbit cameras: %s\n", lvc_error_string(ret));
        return 1;
    }
    printf("%s: %u splats, SH degree %d, %d views at %dx%d\n", argv[1], s.count, s.sh_degree,
           VIEWS, size, size);
    for (int t = 0; t < 2; t++) {
        const int threads = t + 1;
        double best = 1e30, total = 0.0, mean = 0.0;
        const double cpu0 = cpu_now();
        for (int v = 0; v < VIEWS; v++) {
            float *out = img[t] + (size_t)v * size * size * 3;
            const double t0 = now();
            if ((ret = lvc_splats_render(&s, &cams[v], threads, out)) < 0) {
                fprintf(stderr, "render: %s\n", lvc_error_string(ret));
                return 1;
            }
            const double dt = now() - t0;
            total += dt;
            best = dt < best ? dt : best;
            for (size_t i = 0; i < (size_t)size * size * 3; i++)
                mean += out[i];
        }
        const double cpu = cpu_now() - cpu0;
        mean /= (double)VIEWS * size * size * 3;
        /* CPU time is summed over threads: on a loaded machine it shows the
         * work per view when wall time does not */
        printf("threads %d: %8.2f ms/view (best %.2f, cpu %.2f), %6.2f Msplats/s, "
               "mean pixel %.4f\n", threads, 1e3 * total / VIEWS, 1e3 * best, 1e3 * cpu / VIEWS,
               1e-6 * s.count * VIEWS / total, mean);
    }
    /* FNV-1a of the images: renders are bit-exact across thread counts and
     * builds of the same code, so this tells changes of output apart from
     * changes of speed. */
    uint64_t hash = 14695981039346656037u;
    const unsigned char *bytes = (const unsigned char *)img[0];
    for (size_t i = 0; i < (size_t)size * size * 3 * sizeof(float) * VIEWS; i++)
        hash = (hash ^ bytes[i]) * 1099511628211u;
    printf("1 and 2 threads identical: %s; image hash %016llx\n",
           memcmp(img[0], img[1], (size_t)size * size * 3 * sizeof(float) * VIEWS) ? "NO" : "yes",
           (unsigned long long)hash);
    free(img[0]);
    free(img[1]);
    lvc_splats_free(&s);
    return 0;
}
