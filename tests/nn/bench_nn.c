/*
 * Benchmark: the convolutions of a hyperprior synthesis transform (Balle et
 * al. 2018, N=128, M=192) from a 48x32xM latent to a 768x512x3 image:
 *   A) 4 transposed 5x5 stride-2 convs (with IGDN between them)
 *   B) the sub-pixel variant: conv3x3 to 4*Cout channels + pixel shuffle 2
 * timed per layer on ref and cpu, with achieved GFLOP/s (2 FLOP per MAC)
 * next to cblas_sgemm on a GEMM of the same M and K measured in the same
 * run (single thread, like one lvc job), and the ratio; plus the peak
 * workspace of the planned activations and the per-thread scratch.
 *
 * ref is slow, so it runs on a latent of 12x8 by default (GFLOP/s hardly
 * depends on the size); --full-ref runs it at full size. Usage:
 *   bench_nn [--threads N] [--full-ref] [--reps R]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/thread.h"
#include "nn/nn.h"

#if LVC_HAVE_OPENBLAS
#include <cblas.h>
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(float *p, size_t n, float s)
{
    uint32_t r = 1;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        p[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * s;
    }
}

typedef struct Layer {
    const char *name;
    int transposed, cin, cout, k, stride, pad, out_pad, shuffle;
} Layer;

static const Layer synth_a[] = {
    { "convT5x5 s2 M->N", 1, 192, 128, 5, 2, 2, 1, 0 },
    { "convT5x5 s2 N->N", 1, 128, 128, 5, 2, 2, 1, 0 },
    { "convT5x5 s2 N->N", 1, 128, 128, 5, 2, 2, 1, 0 },
    { "convT5x5 s2 N->3", 1, 128, 3, 5, 2, 2, 1, 0 },
};
static const Layer synth_b[] = {
    { "conv3x3 M->4N +PS", 0, 192, 512, 3, 1, 1, 0, 2 },
    { "conv3x3 N->4N +PS", 0, 128, 512, 3, 1, 1, 0, 2 },
    { "conv3x3 N->4N +PS", 0, 128, 512, 3, 1, 1, 0, 2 },
    { "conv3x3 N->12 +PS", 0, 128, 12, 3, 1, 1, 0, 2 },
};

/* MACs of one layer for an h x w input. */
static double layer_macs(const Layer *l, int h, int w)
{
    if (l->transposed)
        return (double)l->cin * l->cout * l->k * l->k * h * w;
    return (double)l->cin * l->cout * l->k * l->k * h * w;
}

/* Time one layer; returns seconds per run (best of reps). */
static double time_layer(LvcNn *nn, const Layer *L, int h, int w, int reps, int *oh, int *ow,
                         size_t *scratch)
{
    LvcConvParams p;
    LvcNnLayer *l = NULL;
    LvcTensor x, y, s;
    size_t nw = (size_t)L->cin * L->cout * L->k * L->k;
    float *wt = malloc(nw * sizeof(float)), *b = calloc((size_t)L->cout, sizeof(float));
    double best = 1e30;

    fill(wt, nw, 0.05f);
    lvc_conv_params_init(&p, L->cin, L->cout, L->k, L->k);
    p.stride_h = p.stride_w = L->stride;
    lvc_conv_params_pad(&p, L->pad, L->pad);
    p.out_pad_h = p.out_pad_w = L->out_pad;
    if ((L->transposed ? lvc_nn_convt_create(nn, &p, wt, b, &l)
                       : lvc_nn_conv_create(nn, &p, wt, b, &l)) < 0) {
        fprintf(stderr, "layer create failed\n");
        exit(1);
    }
    if (L->transposed)
        lvc_convt_out_shape(&p, h, w, oh, ow);
    else
        lvc_conv_out_shape(&p, h, w, oh, ow);
    lvc_nn_tensor_alloc(nn, &x, L->cin, h, w, LVC_NN_F32, 0);
    lvc_nn_tensor_alloc(nn, &y, L->cout, *oh, *ow, LVC_NN_F32, 0);
    if (L->shuffle)
        lvc_nn_tensor_alloc(nn, &s, L->cout / 4, *oh * 2, *ow * 2, LVC_NN_F32, 0);
    {
        float *hx = malloc(lvc_tensor_bytes(&x));
        fill(hx, lvc_tensor_elems(&x), 1.0f);
        lvc_nn_tensor_write(nn, &x, hx);
        free(hx);
    }
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        lvc_nn_forward(nn, l, &x, &y);
        if (L->shuffle)
            lvc_nn_pixel_shuffle(nn, &y, 2, &s);
        lvc_nn_sync(nn);
        t0 = now() - t0;
        if (t0 < best)
            best = t0;
    }
    if (L->shuffle) {
        *oh *= 2;
        *ow *= 2;
        lvc_nn_tensor_free(nn, &s);
    }
    *scratch = lvc_nn_scratch_bytes(nn) / (size_t)lvc_nn_threads(nn);
    lvc_nn_tensor_free(nn, &x);
    lvc_nn_tensor_free(nn, &y);
    lvc_nn_layer_free(nn, &l);
    free(wt);
    free(b);
    return best;
}

#if LVC_HAVE_OPENBLAS
void openblas_set_num_threads(int num_threads);

static double sgemm_gflops(int M, int N, int K, int reps)
{
    float *a = malloc((size_t)M * K * 4), *b = malloc((size_t)K * N * 4),
          *c = malloc((size_t)M * N * 4);
    double best = 1e30;
    fill(a, (size_t)M * K, 1.0f);
    fill(b, (size_t)K * N, 1.0f);
    openblas_set_num_threads(1);
    for (int r = 0; r < reps + 1; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f,
                    c, N);
        t0 = now() - t0;
        if (r && t0 < best)
            best = t0;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * M * N * K / best * 1e-9;
}
#endif

static void run(const char *title, const Layer *L, int n, int threads, int full_ref, int reps)
{
    printf("\n%s\n", title);
    printf("%-20s %-15s %9s %9s %9s %9s %9s %9s %7s\n", "layer", "out", "ref ms", "ref GF/s",
           "cpu1 ms", "cpu1 GF/s", "cpuN ms", "cpuN GF/s", "ratio");
    int h = 32, w = 48;
    double tot[3] = { 0, 0, 0 }, totf = 0;
    for (int i = 0; i < n; i++) {
        int oh, ow, rh = full_ref ? h : h / 4, rw = full_ref ? w : w / 4, th, tw;
        double gf = 2.0 * layer_macs(&L[i], h, w) * 1e-9;
        double gfr = 2.0 * layer_macs(&L[i], rh, rw) * 1e-9;
        double tr, t1 = 0, tn = 0, sg = 0;
        int gm = 0, gk = 0;
        size_t scratch = 0;
        LvcNn *nn = NULL;

        lvc_nn_open(&nn, LVC_BACKEND_REF, threads);
        tr = time_layer(nn, &L[i], rh, rw, 1, &th, &tw, &scratch);
        lvc_nn_close(&nn);
        if (lvc_nn_open(&nn, LVC_BACKEND_CPU, 1) == 0) {
            t1 = time_layer(nn, &L[i], h, w, reps, &oh, &ow, &scratch);
            lvc_nn_close(&nn);
            lvc_nn_open(&nn, LVC_BACKEND_CPU, threads);
            tn = time_layer(nn, &L[i], h, w, reps, &oh, &ow, &scratch);
            lvc_nn_close(&nn);
        } else {
            oh = th * (full_ref ? 1 : 4);
            ow = tw * (full_ref ? 1 : 4);
        }
#if LVC_HAVE_OPENBLAS
        {
            /* The GEMM the cpu backend runs for this layer, N = 4096: im2col
             * has M = cout, K = cin * taps (per output phase for transposed
             * convs: about k*k/s^2 taps); layers with <= 16 output channels
             * use kn2row: M = cout * k*k, K = cin (see nn/cpu/cpu.c). */
            int kn2row = L[i].cout <= 16 && L[i].cin >= 8 && (L[i].transposed || L[i].stride == 1);
            int taps = L[i].transposed ? (L[i].k + L[i].stride - 1) / L[i].stride *
                                             ((L[i].k + L[i].stride - 1) / L[i].stride)
                                       : L[i].k * L[i].k;
            gm = kn2row ? L[i].cout * L[i].k * L[i].k : L[i].cout;
            gk = kn2row ? L[i].cin : L[i].cin * taps;
            sg = sgemm_gflops(gm, 4096, gk, 2);
        }
#endif
        {
            char out[32];
            snprintf(out, sizeof(out), "%dx%dx%d", ow, oh,
                     L[i].shuffle ? L[i].cout / 4 : L[i].cout);
            printf("%-20s %-15s %9.1f %9.2f %9.1f %9.2f %9.1f %9.2f %7.2f\n", L[i].name, out,
                   tr * 1e3, gfr / tr, t1 * 1e3, t1 > 0 ? gf / t1 : 0, tn * 1e3,
                   tn > 0 ? gf / tn : 0, t1 > 0 && sg > 0 ? (gf / t1) / sg : 0);
            printf("%-20s %-15s sgemm M=%d K=%d N=4096 (1 thread): %.2f GFLOP/s; "
                   "scratch/thread %.1f MiB\n", "", "", gm, gk, sg,
                   scratch / 1048576.0);
        }
        tot[0] += tr * (full_ref ? 1 : 16);
        tot[1] += t1;
        tot[2] += tn;
        totf += gf;
        h = oh;
        w = ow;
    }
    printf("%-20s %-15s %9.1f %9s %9.1f %9.2f %9.1f %9.2f   (ref total extrapolated)\n",
           "total", "", tot[0] * 1e3, "", tot[1] * 1e3, tot[1] > 0 ? totf / tot[1] : 0,
           tot[2] * 1e3, tot[2] > 0 ? totf / tot[2] : 0);
}

/* Integer hyper-synthesis style layer: qconv 3x3 N->N (int8 weights) +
 * ReLU on a 24x16 map, ref vs cpu. */
static void bench_qconv(int threads, int reps)
{
    const int N = 128, H = 16, W = 24;
    LvcQConvParams q;
    int8_t *w = malloc((size_t)N * N * 9);
    int16_t *x = malloc((size_t)N * H * W * 2);
    double macs = (double)N * N * 9 * H * W;
    memset(&q, 0, sizeof(q));
    lvc_conv_params_init(&q.conv, N, N, 3, 3);
    lvc_conv_params_pad(&q.conv, 1, 1);
    q.wbits = 8; q.fw = 7; q.fa_in = 4; q.fa_out = 4; q.act = LVC_ACT_RELU;
    for (int i = 0; i < N * N * 9; i++)
        w[i] = (int8_t)((i * 37) % 255 - 127);
    for (int i = 0; i < N * H * W; i++)
        x[i] = (int16_t)((i * 101) % 4001 - 2000);
    printf("\nqconv 3x3 %d->%d int8 on %dx%d (integer path, bit-exact):\n", N, N, W, H);
    for (int b = 0; b < 2; b++) {
        LvcNn *nn = NULL;
        LvcNnLayer *l = NULL;
        LvcTensor tx, ty;
        double best = 1e30;
        if (lvc_nn_open(&nn, b ? LVC_BACKEND_CPU : LVC_BACKEND_REF, threads) < 0)
            continue;
        lvc_nn_qconv_create(nn, &q, w, NULL, &l);
        lvc_nn_tensor_alloc(nn, &tx, N, H, W, LVC_NN_I16, 4);
        lvc_nn_tensor_alloc(nn, &ty, N, H, W, LVC_NN_I16, 4);
        lvc_nn_tensor_write(nn, &tx, x);
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            lvc_nn_forward(nn, l, &tx, &ty);
            t0 = now() - t0;
            if (t0 < best)
                best = t0;
        }
        printf("  %-4s %8.2f ms %8.2f GOP/s\n", b ? "cpu" : "ref", best * 1e3,
               2 * macs / best * 1e-9);
        lvc_nn_tensor_free(nn, &tx);
        lvc_nn_tensor_free(nn, &ty);
        lvc_nn_layer_free(nn, &l);
        lvc_nn_close(&nn);
    }
    free(w);
    free(x);
}

static void workspace(void)
{
    /* Activations of synthesis A with IGDN in place-free form: x -> c1 ->
     * g1 -> c2 -> g2 -> c3 -> g3 -> out; each lives from its producer to
     * its consumer. */
    LvcNnPlan *plan = NULL;
    int c[8] = { 192, 128, 128, 128, 128, 128, 128, 3 };
    int h = 32, w = 48;
    size_t sum = 0;
    lvc_nn_plan_create(&plan);
    for (int i = 0; i < 8; i++) {
        lvc_nn_plan_add(plan, c[i], h, w, LVC_NN_F32, 0, i, i + 1);
        sum += (size_t)c[i] * h * w * 4;
        if (i % 2 == 0) {   /* conv steps double the size */
            h *= 2;
            w *= 2;
        }
    }
    printf("\nworkspace (synthesis A activations): peak %.1f MiB planned vs %.1f MiB if "
           "all were allocated\n", lvc_nn_plan_peak(plan) / 1048576.0, sum / 1048576.0);
    lvc_nn_plan_free(&plan);
}

int main(int argc, char **argv)
{
    int threads = lvc_cpu_count(), full_ref = 0, reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--full-ref"))
            full_ref = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
    }
    if (threads < 1)
        threads = 1;
    printf("bench_nn: hyperprior synthesis N=128 M=192, latent 48x32 -> 768x512; "
           "%d threads; ref on %s\n", threads, full_ref ? "full size" : "a 12x8 latent");
    printf("ratio = cpu (1 thread) GFLOP/s / cblas_sgemm (1 thread) GFLOP/s\n");
    run("A) transposed 5x5 convs (Balle 2018)", synth_a, 4, threads, full_ref, reps);
    run("B) sub-pixel: conv3x3 + pixel shuffle", synth_b, 4, threads, full_ref, reps);
    bench_qconv(threads, reps);
    workspace();
    return 0;
}
