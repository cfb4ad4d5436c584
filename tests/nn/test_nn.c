/*
 * nn kernels: every op of the cpu (and, with a GPU, cuda) backend against
 * nn/ref.
 *
 * Float bound: |out - ref| <= 1e-5 * (sum |x*w| + |b|) + 1e-6 per element,
 * where the magnitude is computed by running ref on |x|, |w|, |b| (two
 * summation orders of K terms differ by at most ~2*K*eps times that
 * magnitude; in practice ~sqrt(K)*eps). Elementwise ops: 1e-6 relative.
 * Integer ops: bit-exact. cpu with 1, 2 and 3 threads: bit-identical.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cpu.h"
#include "nn/nn.h"

static uint32_t rng = 12345;
static uint32_t rnd32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}
static float rndf(void)
{
    return (float)((rnd32() >> 8) * (1.0 / 8388608.0)) * 2.0f - 1.0f;
}
static void fill(float *p, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++)
        p[i] = rndf() * scale;
}
static void fill_i16(int16_t *p, size_t n, int lim)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (int16_t)((int)(rnd32() % (2u * lim + 1)) - lim);
}

static float *fabs_copy(const float *p, size_t n)
{
    float *q = malloc(n * sizeof(float) + 4);
    for (size_t i = 0; i < n; i++)
        q[i] = fabsf(p[i]);
    return q;
}

/* Run one float layer on a backend; returns output in a malloc'd array. */
typedef struct Spec {
    int kind;                  /* 0 conv, 1 convt, 2 gdn, 3 linear */
    LvcConvParams p;
    LvcGdnKind gdn;
    int c, in, out;
    LvcNnAct act;
} Spec;

static float *run_float(LvcBackend be, int threads, const Spec *s, const float *w,
                        const float *b, const float *x, int xc, int xh, int xw, int *oc,
                        int *oh, int *ow)
{
    LvcNn *nn = NULL;
    LvcNnLayer *l = NULL;
    LvcTensor tx, ty;
    float *out;
    int ret;

    ck_assert_int_eq(lvc_nn_open(&nn, be, threads), 0);
    switch (s->kind) {
    case 0: ret = lvc_nn_conv_create(nn, &s->p, w, b, &l); break;
    case 1: ret = lvc_nn_convt_create(nn, &s->p, w, b, &l); break;
    case 2: ret = lvc_nn_gdn_create(nn, s->gdn, s->c, b, w, &l); break;
    default: ret = lvc_nn_linear_create(nn, s->in, s->out, w, b, s->act, 0.1f, &l); break;
    }
    ck_assert_int_eq(ret, 0);
    if (s->kind == 0)
        ck_assert_int_eq(lvc_conv_out_shape(&s->p, xh, xw, oh, ow), 0);
    else if (s->kind == 1)
        ck_assert_int_eq(lvc_convt_out_shape(&s->p, xh, xw, oh, ow), 0);
    else if (s->kind == 2)
        *oh = xh, *ow = xw;
    else
        *oh = xh, *ow = s->out;
    *oc = s->kind <= 1 ? s->p.cout : s->kind == 2 ? s->c : 1;
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &tx, xc, xh, xw, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &ty, *oc, *oh, *ow, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_write(nn, &tx, x), 0);
    ck_assert_int_eq(lvc_nn_forward(nn, l, &tx, &ty), 0);
    out = malloc(lvc_tensor_bytes(&ty));
    ck_assert_int_eq(lvc_nn_tensor_read(nn, &ty, out), 0);
    lvc_nn_tensor_free(nn, &tx);
    lvc_nn_tensor_free(nn, &ty);
    lvc_nn_layer_free(nn, &l);
    lvc_nn_close(&nn);
    return out;
}

static double max_err_seen, max_rel_seen;   /* |out-ref|, |out-ref| / sum|x*w| */

/* Compare backend be against ref for a spec with random data. */
static void check_float(const Spec *s, int xc, int xh, int xw, LvcBackend be)
{
    size_t nw, nb, nx = (size_t)xc * xh * xw;
    float *w, *b, *x, *ref, *mag, *out, *aw, *ab, *ax;
    int oc, oh, ow, oc2, oh2, ow2;
    size_t n;

    if (s->kind <= 1) {
        nw = (size_t)s->p.cin * (s->p.cout / s->p.groups) * s->p.kh * s->p.kw;
        nb = (size_t)s->p.cout;
    } else if (s->kind == 2) {
        nw = (size_t)s->c * s->c;
        nb = (size_t)s->c;
    } else {
        nw = (size_t)s->in * s->out;
        nb = (size_t)s->out;
    }
    w = calloc(nw, 4); b = calloc(nb, 4); x = calloc(nx, 4);
    fill(w, nw, 0.5f);
    fill(b, nb, 0.5f);
    fill(x, nx, 1.0f);
    if (s->kind == 2) {   /* GDN: positive beta and gamma */
        for (size_t i = 0; i < nw; i++) w[i] = fabsf(w[i]) * 0.2f;
        for (size_t i = 0; i < nb; i++) b[i] = 1.0f + fabsf(b[i]);
    }
    ref = run_float(LVC_BACKEND_REF, 1, s, w, b, x, xc, xh, xw, &oc, &oh, &ow);
    aw = fabs_copy(w, nw); ab = fabs_copy(b, nb); ax = fabs_copy(x, nx);
    {
        Spec sa = *s;
        sa.p.act = LVC_ACT_NONE;
        sa.act = LVC_ACT_NONE;
        if (s->kind == 2)
            sa.gdn = LVC_IGDN_SIMPLE;   /* magnitude: |x| * (b + sum g|x|) */
        mag = run_float(LVC_BACKEND_REF, 1, &sa, aw, ab, ax, xc, xh, xw, &oc2, &oh2, &ow2);
    }
    out = run_float(be, 3, s, w, b, x, xc, xh, xw, &oc2, &oh2, &ow2);
    ck_assert_int_eq(oh, oh2);
    ck_assert_int_eq(ow, ow2);
    n = (size_t)oc * oh * ow;
    for (size_t i = 0; i < n; i++) {
        double tol = 1e-5 * (s->kind == 2 ? 1.0 + fabs(mag[i]) : fabs(mag[i])) + 1e-6;
        double e = fabs((double)out[i] - ref[i]);
        if (e > max_err_seen)
            max_err_seen = e;
        if (mag[i] > 0 && e / fabs(mag[i]) > max_rel_seen)
            max_rel_seen = e / fabs(mag[i]);
        if (!(e <= tol))
            ck_abort_msg("kind %d k%dx%d s%d pad %d/%d/%d/%d d%d g%d cin %d cout %d in "
                         "%dx%d: elem %zu out %g ref %g (tol %g)",
                         s->kind, s->p.kh, s->p.kw, s->p.stride_h, s->p.pad_top,
                         s->p.pad_bottom, s->p.pad_left, s->p.pad_right, s->p.dil_h,
                         s->p.groups, s->p.cin, s->p.cout, xh, xw, i, out[i], ref[i], tol);
    }
    /* Thread-count independence (cpu): 1 and 2 threads equal 3 threads. */
    if (be == LVC_BACKEND_CPU)
        for (int t = 1; t <= 2; t++) {
            float *o2 = run_float(be, t, s, w, b, x, xc, xh, xw, &oc2, &oh2, &ow2);
            ck_assert_msg(!memcmp(o2, out, n * 4), "cpu result depends on threads (%d)", t);
            free(o2);
        }
    free(w); free(b); free(x); free(ref); free(mag); free(out); free(aw); free(ab); free(ax);
}

static LvcBackend bes[2];
static int ntest_backends;

static void init_backends(void)
{
    ntest_backends = 0;
    if (lvc_nn_backend_available(LVC_BACKEND_CPU))
        bes[ntest_backends++] = LVC_BACKEND_CPU;
    if (lvc_nn_backend_available(LVC_BACKEND_CUDA))
        bes[ntest_backends++] = LVC_BACKEND_CUDA;
}

static void check_all(const Spec *s, int xc, int xh, int xw)
{
    for (int i = 0; i < ntest_backends; i++)
        check_float(s, xc, xh, xw, bes[i]);
}

/* ------------------------------------------------------------ conv */

static const uint8_t mask_a5[25] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t mask_cb3[9] = { 0, 1, 0, 1, 0, 1, 0, 1, 0 };

START_TEST(test_conv_edges)
{
    static const struct { int cin, cout, k, s, pt, pb, pl, pr, d, g, h, w; } c[] = {
        { 3, 5, 3, 1, 1, 1, 1, 1, 1, 1, 7, 5 },
        { 3, 5, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1 },       /* 1x1 image */
        { 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1 },
        { 13, 7, 1, 1, 0, 0, 0, 0, 1, 1, 9, 11 },     /* 1x1 conv: direct GEMM */
        { 13, 7, 1, 2, 0, 0, 0, 0, 1, 1, 9, 11 },     /* 1x1 stride 2 */
        { 5, 9, 5, 2, 2, 2, 2, 2, 1, 1, 17, 13 },
        { 5, 9, 5, 2, 2, 1, 0, 3, 1, 1, 17, 13 },     /* asymmetric padding */
        { 6, 4, 3, 3, 0, 0, 0, 0, 1, 1, 10, 11 },     /* stride 3, no pad */
        { 6, 4, 3, 1, 2, 2, 2, 2, 2, 2, 8, 7 },       /* dilation, groups */
        { 6, 6, 5, 1, 2, 2, 2, 2, 1, 6, 9, 7 },       /* depthwise */
        { 6, 12, 3, 2, 1, 1, 1, 1, 1, 6, 9, 7 },      /* grouped, cpg 1, opg 2 */
        { 4, 4, 5, 1, 4, 4, 4, 4, 1, 1, 3, 2 },       /* padding larger than input */
        { 2, 3, 7, 1, 0, 0, 0, 0, 1, 1, 7, 7 },       /* kernel == input */
        { 3, 5, 3, 2, 0, 0, 0, 0, 1, 1, 3, 3 },       /* single output */
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        Spec s = { 0 };
        lvc_conv_params_init(&s.p, c[i].cin, c[i].cout, c[i].k, c[i].k);
        s.p.stride_h = s.p.stride_w = c[i].s;
        s.p.pad_top = c[i].pt; s.p.pad_bottom = c[i].pb;
        s.p.pad_left = c[i].pl; s.p.pad_right = c[i].pr;
        s.p.dil_h = s.p.dil_w = c[i].d;
        s.p.groups = c[i].g;
        s.p.act = (LvcNnAct)(i % 5);
        s.p.act_param = 0.2f;
        check_all(&s, c[i].cin, c[i].h, c[i].w);
    }
}
END_TEST

START_TEST(test_conv_random)
{
    for (int it = 0; it < 40; it++) {
        Spec s = { 0 };
        int g = 1 + (int)(rnd32() % 3);
        int cin = g * (1 + (int)(rnd32() % 6)), cout = g * (1 + (int)(rnd32() % 6));
        int kh = 1 + (int)(rnd32() % 5), kw = 1 + (int)(rnd32() % 5);
        lvc_conv_params_init(&s.p, cin, cout, kh, kw);
        s.p.stride_h = 1 + (int)(rnd32() % 3);
        s.p.stride_w = 1 + (int)(rnd32() % 3);
        s.p.dil_h = 1 + (int)(rnd32() % 2);
        s.p.dil_w = 1 + (int)(rnd32() % 2);
        s.p.pad_top = (int)(rnd32() % 3); s.p.pad_bottom = (int)(rnd32() % 3);
        s.p.pad_left = (int)(rnd32() % 3); s.p.pad_right = (int)(rnd32() % 3);
        s.p.groups = g;
        {
            int h = s.p.dil_h * (kh - 1) + 1 + (int)(rnd32() % 12);
            int w = s.p.dil_w * (kw - 1) + 1 + (int)(rnd32() % 12);
            check_all(&s, cin, h, w);
        }
    }
}
END_TEST

START_TEST(test_conv_masked)
{
    Spec s = { 0 };
    uint8_t m[25];
    ck_assert_int_eq(lvc_nn_mask_causal(m, 5, 0), 0);
    ck_assert(!memcmp(m, mask_a5, 25));
    ck_assert_int_eq(lvc_nn_mask_causal(m, 5, 1), 0);
    ck_assert_int_eq(m[12], 1);
    ck_assert_int_eq(m[13], 0);
    ck_assert_int_eq(lvc_nn_mask_checkerboard(m, 3), 0);
    ck_assert(!memcmp(m, mask_cb3, 9));
    ck_assert_int_eq(lvc_nn_mask_checkerboard(m, 4), LVC_ERR_INVALID_ARG);
    lvc_conv_params_init(&s.p, 5, 7, 5, 5);
    lvc_conv_params_pad(&s.p, 2, 2);
    s.p.mask = mask_a5;
    check_all(&s, 5, 9, 8);
    lvc_conv_params_init(&s.p, 4, 8, 3, 3);
    lvc_conv_params_pad(&s.p, 1, 1);
    s.p.mask = mask_cb3;
    s.p.groups = 2;
    check_all(&s, 4, 6, 7);
}
END_TEST

START_TEST(test_conv_large)
{
    Spec s = { 0 };
    lvc_conv_params_init(&s.p, 48, 40, 3, 3);
    lvc_conv_params_pad(&s.p, 1, 1);
    check_all(&s, 48, 83, 97);     /* many im2col bands */
    lvc_conv_params_init(&s.p, 32, 24, 5, 5);
    lvc_conv_params_pad(&s.p, 2, 2);
    s.p.stride_h = s.p.stride_w = 2;
    check_all(&s, 32, 130, 67);
    /* Few output channels, stride 1 (kn2row path): several row bands, a
     * mask, dilation, asymmetric padding. */
    lvc_conv_params_init(&s.p, 32, 12, 3, 3);
    s.p.pad_top = 2; s.p.pad_bottom = 0; s.p.pad_left = 1; s.p.pad_right = 3;
    s.p.dil_h = 2;
    s.p.mask = mask_cb3;
    check_all(&s, 32, 150, 120);
    /* Winograd F(2x2, 3x3) (3x3, stride 1, pad 1, >= 16 channels): odd
     * and tiny sizes (partial 2x2 tiles at the right and bottom edges,
     * tiles reading only padding), a fused activation, several bands of
     * tiles per plane. */
    {
        static const int sz[][2] = { { 1, 1 }, { 1, 2 }, { 2, 3 }, { 5, 7 }, { 33, 18 },
                                     { 64, 65 } };
        for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
            lvc_conv_params_init(&s.p, i & 1 ? 16 : 24, i & 1 ? 40 : 16, 3, 3);
            lvc_conv_params_pad(&s.p, 1, 1);
            s.p.act = i % 3 == 2 ? LVC_ACT_RELU : LVC_ACT_NONE;
            check_all(&s, s.p.cin, sz[i][0], sz[i][1]);
        }
        s.p.act = LVC_ACT_NONE;
        lvc_conv_params_init(&s.p, 128, 96, 3, 3);   /* g_s-like widths */
        lvc_conv_params_pad(&s.p, 1, 1);
        check_all(&s, 128, 37, 29);
    }
    /* too wide for the kn2row band: falls back to im2col */
    lvc_conv_params_init(&s.p, 8, 16, 5, 5);
    lvc_conv_params_pad(&s.p, 2, 2);
    check_all(&s, 8, 3, 3000);
}
END_TEST

/* ------------------------------------------------------------ convt */

START_TEST(test_convt)
{
    static const struct { int cin, cout, k, s, p, op, d, g, h, w; } c[] = {
        { 6, 4, 5, 2, 2, 1, 1, 1, 5, 4 },          /* Balle 2018 */
        { 4, 6, 4, 2, 1, 0, 1, 2, 3, 5 },
        { 3, 5, 3, 2, 1, 1, 2, 1, 4, 4 },          /* dilation */
        { 5, 3, 3, 3, 0, 2, 1, 1, 3, 2 },
        { 3, 2, 2, 4, 0, 1, 1, 1, 3, 3 },          /* stride > kernel: empty phases */
        { 2, 3, 3, 2, 1, 1, 1, 1, 1, 1 },          /* 1x1 input */
        { 7, 5, 1, 1, 0, 0, 1, 1, 6, 5 },
        { 5, 7, 3, 1, 1, 0, 1, 1, 6, 5 },          /* stride 1 */
        { 9, 3, 5, 2, 2, 1, 1, 3, 7, 6 },          /* groups 3 */
        { 24, 16, 5, 2, 2, 1, 1, 1, 40, 33 },      /* larger */
        { 32, 3, 5, 2, 2, 1, 1, 1, 70, 61 },       /* RGB output: kn2row, bands */
        { 16, 3, 4, 3, 1, 2, 2, 1, 20, 17 },       /* kn2row, stride 3, dilation */
        { 8, 2, 5, 2, 2, 1, 1, 1, 2, 2100 },       /* kn2row too wide: fallback */
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        Spec s = { .kind = 1 };
        lvc_conv_params_init(&s.p, c[i].cin, c[i].cout, c[i].k, c[i].k);
        s.p.stride_h = s.p.stride_w = c[i].s;
        lvc_conv_params_pad(&s.p, c[i].p, c[i].p);
        s.p.out_pad_h = s.p.out_pad_w = c[i].op;
        s.p.dil_h = s.p.dil_w = c[i].d;
        s.p.groups = c[i].g;
        s.p.act = (LvcNnAct)(i % 4);
        check_all(&s, c[i].cin, c[i].h, c[i].w);
    }
}
END_TEST

START_TEST(test_convt_asymmetric_stride)
{
    Spec s = { .kind = 1 };
    lvc_conv_params_init(&s.p, 4, 3, 3, 5);
    s.p.stride_h = 2;
    s.p.stride_w = 3;
    s.p.pad_top = s.p.pad_bottom = 1;
    s.p.pad_left = s.p.pad_right = 2;
    s.p.out_pad_h = 1;
    check_all(&s, 4, 5, 6);
}
END_TEST

/* ------------------------------------------------------------ GDN, linear */

START_TEST(test_gdn)
{
    for (int k = 0; k < 4; k++) {
        Spec s = { .kind = 2, .gdn = (LvcGdnKind)k, .c = 13 };
        check_all(&s, 13, 9, 7);
        s.c = 1;
        check_all(&s, 1, 1, 1);
    }
}
END_TEST

/* The AVX2 and C paths of the cpu GDN give the same bits. */
START_TEST(test_gdn_simd)
{
    float beta[19], gamma[19 * 19], x[19 * 5 * 13];
    int oc, oh, ow;
    if (!lvc_nn_backend_available(LVC_BACKEND_CPU))
        return;
    fill(gamma, 19 * 19, 0.1f);
    for (int i = 0; i < 19 * 19; i++) gamma[i] = fabsf(gamma[i]);
    for (int i = 0; i < 19; i++) beta[i] = 1.0f + (float)i / 19;
    fill(x, 19 * 5 * 13, 2.0f);
    for (int k = 0; k < 4; k++) {
        Spec s = { .kind = 2, .gdn = (LvcGdnKind)k, .c = 19 };
        float *a, *b;
        lvc_cpu_set_mask(0);
        a = run_float(LVC_BACKEND_CPU, 2, &s, gamma, beta, x, 19, 5, 13, &oc, &oh, &ow);
        lvc_cpu_set_mask(LVC_CPU_ALL);
        b = run_float(LVC_BACKEND_CPU, 2, &s, gamma, beta, x, 19, 5, 13, &oc, &oh, &ow);
        ck_assert(!memcmp(a, b, sizeof(float) * 19 * 5 * 13));
        free(a);
        free(b);
    }
}
END_TEST

/* The AVX2 and C paths of the cpu Winograd transforms give the same bits:
 * runs of 8 interior tiles, rows and columns at the borders, the
 * activations the vector path takes (none, relu, leaky) and one it leaves
 * to the C path (gelu). */
START_TEST(test_wino_simd)
{
    static const int sz[][2] = { { 40, 53 }, { 19, 70 }, { 6, 35 } };
    static const LvcNnAct acts[] = { LVC_ACT_NONE, LVC_ACT_RELU, LVC_ACT_LEAKY_RELU,
                                     LVC_ACT_GELU };
    float *w = malloc(sizeof(float) * 24 * 16 * 9), b[16];
    float *x = malloc(sizeof(float) * 24 * 40 * 70);
    if (!lvc_nn_backend_available(LVC_BACKEND_CPU)) {
        free(w);
        free(x);
        return;
    }
    fill(w, 24 * 16 * 9, 0.2f);
    fill(b, 16, 0.5f);
    fill(x, 24 * 40 * 70, 2.0f);
    for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++)
        for (size_t k = 0; k < sizeof(acts) / sizeof(acts[0]); k++) {
            Spec s = { 0 };
            int oc, oh, ow;
            float *a, *c;
            lvc_conv_params_init(&s.p, 24, 16, 3, 3);
            lvc_conv_params_pad(&s.p, 1, 1);
            s.p.act = acts[k];
            s.p.act_param = 0.1f;
            lvc_cpu_set_mask(0);
            a = run_float(LVC_BACKEND_CPU, 1, &s, w, b, x, 24, sz[i][0], sz[i][1], &oc, &oh, &ow);
            lvc_cpu_set_mask(LVC_CPU_ALL);
            c = run_float(LVC_BACKEND_CPU, 2, &s, w, b, x, 24, sz[i][0], sz[i][1], &oc, &oh, &ow);
            ck_assert(!memcmp(a, c, sizeof(float) * (size_t)oc * oh * ow));
            free(a);
            free(c);
        }
    free(w);
    free(x);
}
END_TEST

START_TEST(test_linear)
{
    Spec s = { .kind = 3, .in = 13, .out = 7, .act = LVC_ACT_GELU };
    check_all(&s, 1, 300, 13);
    s.in = 1;
    s.out = 1;
    s.act = LVC_ACT_NONE;
    check_all(&s, 1, 1, 1);
}
END_TEST

/* ------------------------------------------------------------ qconv */

static int16_t *run_q(LvcBackend be, int threads, const LvcQConvParams *q, const void *w,
                      const int32_t *b, const int16_t *x, int h, int w_, int *oh, int *ow)
{
    LvcNn *nn = NULL;
    LvcNnLayer *l = NULL;
    LvcTensor tx, ty;
    int16_t *out;

    ck_assert_int_eq(lvc_nn_open(&nn, be, threads), 0);
    ck_assert_int_eq(lvc_nn_qconv_create(nn, q, w, b, &l), 0);
    ck_assert_int_eq(lvc_conv_out_shape(&q->conv, h, w_, oh, ow), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &tx, q->conv.cin, h, w_, LVC_NN_I16, q->fa_in), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &ty, q->conv.cout, *oh, *ow, LVC_NN_I16, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_write(nn, &tx, x), 0);
    ck_assert_int_eq(lvc_nn_forward(nn, l, &tx, &ty), 0);
    ck_assert_int_eq(ty.frac, q->fa_out);
    out = malloc(lvc_tensor_bytes(&ty));
    ck_assert_int_eq(lvc_nn_tensor_read(nn, &ty, out), 0);
    lvc_nn_tensor_free(nn, &tx);
    lvc_nn_tensor_free(nn, &ty);
    lvc_nn_layer_free(nn, &l);
    lvc_nn_close(&nn);
    return out;
}

/* Scalar model of doc/integer-nn.md for one output, independent of ref. */
static int16_t q_model(const LvcQConvParams *q, const int16_t *w16, const int32_t *b,
                       const int16_t *x, int h, int w_, int co, int oy, int ox)
{
    const LvcConvParams *p = &q->conv;
    int cpg = p->cin / p->groups, g = co / (p->cout / p->groups);
    int64_t acc = b ? b[co] : 0;
    int s = q->fa_in + q->fw - q->fa_out;
    for (int ci = 0; ci < cpg; ci++)
        for (int ky = 0; ky < p->kh; ky++)
            for (int kx = 0; kx < p->kw; kx++) {
                int iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
                int ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w_)
                    continue;
                if (p->mask && !p->mask[ky * p->kw + kx])
                    continue;
                acc += (int64_t)x[((size_t)(g * cpg + ci) * h + iy) * w_ + ix] *
                       w16[(((size_t)co * cpg + ci) * p->kh + ky) * p->kw + kx];
            }
    if (s > 0)
        acc = (acc + ((int64_t)1 << (s - 1))) >> s;
    acc = acc < -32768 ? -32768 : acc > 32767 ? 32767 : acc;
    switch (q->act) {
    case LVC_ACT_RELU: acc = acc < 0 ? 0 : acc; break;
    case LVC_ACT_LEAKY_RELU: acc = acc < 0 ? acc >> q->act_param : acc; break;
    case LVC_ACT_CLIP_RELU: acc = acc < 0 ? 0 : acc > q->act_param ? q->act_param : acc; break;
    default: break;
    }
    return (int16_t)acc;
}

static void check_q(const LvcQConvParams *q, int h, int w_, int xlim, int wlim)
{
    const LvcConvParams *p = &q->conv;
    size_t nw = (size_t)p->cin / p->groups * p->cout * p->kh * p->kw;
    size_t nx = (size_t)p->cin * h * w_;
    int16_t *w16 = malloc(nw * 2), *x = malloc(nx * 2), *ref, *out;
    int8_t *w8 = malloc(nw);
    int32_t *b = malloc((size_t)p->cout * 4);
    int oh, ow;

    fill_i16(w16, nw, wlim);
    if (q->wbits == 8)
        for (size_t i = 0; i < nw; i++)
            w8[i] = (int8_t)(w16[i] >> 8), w16[i] = w8[i];
    fill_i16(x, nx, xlim);
    if (xlim < 0)       /* worst case: every weight wlim, every input -2^15 */
        for (size_t i = 0; i < nx || i < nw; i++) {
            if (i < nx)
                x[i] = -32768;
            if (i < nw)
                w16[i] = (int16_t)wlim;
        }
    for (int i = 0; i < p->cout; i++)
        b[i] = (int32_t)(rnd32() % 2000001) - 1000000;
    ref = run_q(LVC_BACKEND_REF, 1, q, q->wbits == 8 ? (void *)w8 : (void *)w16, b, x, h, w_,
                &oh, &ow);
    for (int co = 0; co < p->cout; co++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                ck_assert_int_eq(ref[((size_t)co * oh + oy) * ow + ox],
                                 q_model(q, w16, b, x, h, w_, co, oy, ox));
    for (int i = 0; i < ntest_backends; i++)
        for (int t = 1; t <= 3; t++) {
            out = run_q(bes[i], t, q, q->wbits == 8 ? (void *)w8 : (void *)w16, b,
                        x, h, w_, &oh, &ow);
            ck_assert_msg(!memcmp(out, ref, (size_t)p->cout * oh * ow * 2),
                          "qconv %s (%d threads) differs from ref",
                          lvc_nn_backend_name(bes[i]), t);
            free(out);
        }
    free(w16); free(w8); free(x); free(b); free(ref);
}

START_TEST(test_qconv)
{
    static const struct { int cin, cout, k, s, pad, g, wbits, fw, fa_in, fa_out, act, ap, h, w,
                          xlim, wlim; } c[] = {
        { 5, 7, 3, 1, 1, 1, 8, 8, 0, 4, LVC_ACT_RELU, 0, 6, 7, 3000, 32767 },
        { 4, 6, 5, 2, 2, 1, 16, 12, 4, 2, LVC_ACT_LEAKY_RELU, 3, 9, 8, 32767, 32767 },
        { 4, 4, 3, 1, 1, 2, 16, 0, 0, 0, LVC_ACT_NONE, 0, 5, 5, 32767, 32767 }, /* saturates */
        { 3, 3, 3, 1, 1, 3, 8, 6, 2, 0, LVC_ACT_CLIP_RELU, 255, 7, 6, 32767, 32767 },
        { 6, 5, 1, 1, 0, 1, 16, 30, 30, 0, LVC_ACT_NONE, 0, 4, 4, 32767, 32767 }, /* s = 60 */
        { 2, 3, 3, 2, 0, 1, 16, 14, 8, 22, LVC_ACT_NONE, 0, 9, 9, 32767, 32767 }, /* s = 0 */
        { 1, 1, 1, 1, 0, 1, 8, 1, 0, 0, LVC_ACT_LEAKY_RELU, 15, 1, 1, 32767, 32767 },
        { 40, 36, 3, 1, 1, 1, 8, 7, 3, 4, LVC_ACT_RELU, 0, 31, 29, 32767, 32767 }, /* big */
        /* the cpu int32-pairs path (AVX2): sums of several int32 chunks */
        { 40, 36, 3, 1, 1, 1, 16, 12, 3, 4, LVC_ACT_NONE, 0, 31, 29, 32767, 2000 },
        { 24, 10, 3, 1, 1, 2, 16, 12, 3, 4, LVC_ACT_NONE, 0, 17, 23, 32767, 4000 },
        /* ... at the int32 bound: chunks of 32 pairs of 1000, one pair of
         * 32767s; 2 pairs of -32768 pass it (the double path); odd rows */
        { 40, 37, 3, 1, 1, 1, 16, 20, 10, 0, LVC_ACT_NONE, 0, 13, 21, -1, 1000 },
        { 8, 5, 3, 1, 1, 1, 16, 30, 10, 4, LVC_ACT_NONE, 0, 9, 19, -1, 32767 },
        { 8, 5, 3, 1, 1, 1, 16, 30, 10, 4, LVC_ACT_NONE, 0, 9, 19, -1, -32768 },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        LvcQConvParams q;
        memset(&q, 0, sizeof(q));
        lvc_conv_params_init(&q.conv, c[i].cin, c[i].cout, c[i].k, c[i].k);
        q.conv.stride_h = q.conv.stride_w = c[i].s;
        lvc_conv_params_pad(&q.conv, c[i].pad, c[i].pad);
        q.conv.groups = c[i].g;
        q.wbits = c[i].wbits;
        q.fw = c[i].fw;
        q.fa_in = c[i].fa_in;
        q.fa_out = c[i].fa_out;
        q.act = (LvcNnAct)c[i].act;
        q.act_param = c[i].ap;
        check_q(&q, c[i].h, c[i].w, c[i].xlim, c[i].wlim);
    }
    {
        LvcQConvParams q;
        memset(&q, 0, sizeof(q));
        lvc_conv_params_init(&q.conv, 4, 6, 5, 5);
        lvc_conv_params_pad(&q.conv, 2, 2);
        q.conv.mask = mask_a5;
        q.wbits = 8; q.fw = 7; q.fa_in = 2; q.fa_out = 3; q.act = LVC_ACT_RELU;
        check_q(&q, 8, 9, 20000, 32767);
        q.conv.stride_h = 2;
        q.conv.pad_bottom = 0;   /* asymmetric */
        check_q(&q, 8, 9, 20000, 32767);
    }
}
END_TEST

START_TEST(test_qconv_invalid)
{
    LvcNn *nn = NULL;
    LvcNnLayer *l = NULL;
    LvcQConvParams q;
    int16_t w[9] = { 0 };

    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_REF, 1), 0);
    memset(&q, 0, sizeof(q));
    lvc_conv_params_init(&q.conv, 1, 1, 3, 3);
    q.wbits = 16;
    q.fw = 2; q.fa_in = 0; q.fa_out = 3;     /* s < 0 */
    ck_assert_int_eq(lvc_nn_qconv_create(nn, &q, w, NULL, &l), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(l);
    q.fa_out = 0;
    q.wbits = 4;
    ck_assert_int_eq(lvc_nn_qconv_create(nn, &q, w, NULL, &l), LVC_ERR_INVALID_ARG);
    q.wbits = 16;
    q.act = LVC_ACT_GELU;
    ck_assert_int_eq(lvc_nn_qconv_create(nn, &q, w, NULL, &l), LVC_ERR_INVALID_ARG);
    q.act = LVC_ACT_LEAKY_RELU;
    q.act_param = 16;
    ck_assert_int_eq(lvc_nn_qconv_create(nn, &q, w, NULL, &l), LVC_ERR_INVALID_ARG);
    q.act_param = 1;
    ck_assert_int_eq(lvc_nn_qconv_create(nn, &q, w, NULL, &l), 0);
    {
        LvcTensor x, y;
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &x, 1, 3, 3, LVC_NN_I16, 1), 0);
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &y, 1, 1, 1, LVC_NN_I16, 0), 0);
        /* frac of x differs from fa_in */
        ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &y), LVC_ERR_INVALID_ARG);
        x.frac = 0;
        ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &y), 0);
        lvc_nn_tensor_free(nn, &x);
        lvc_nn_tensor_free(nn, &y);
    }
    lvc_nn_layer_free(nn, &l);
    lvc_nn_close(&nn);
}
END_TEST

/* ------------------------------------------------------------ integer elementwise */

static int16_t qadd_model(int a, int fa, int b, int fb, int fy)
{
    /* Exact rational: (a/2^fa + b/2^fb) * 2^fy, rounded half up, saturated. */
    long double v = ((long double)a / (1 << fa) + (long double)b / (1 << fb)) * (1 << fy);
    long double r = floorl(v + 0.5L);
    return (int16_t)(r < -32768 ? -32768 : r > 32767 ? 32767 : r);
}

START_TEST(test_qadd_requant)
{
    static const int16_t edge[] = { -32768, -32767, -3, -2, -1, 0, 1, 2, 3, 32766, 32767 };
    const int ne = sizeof(edge) / sizeof(edge[0]);
    const int n = ne * ne;
    static const int fr[][3] = { { 0, 0, 0 }, { 4, 2, 3 }, { 0, 8, 8 }, { 8, 0, 2 },
                                 { 12, 12, 0 }, { 3, 5, 10 }, { 30, 0, 1 } };
    for (int bi = 0; bi < 1 + ntest_backends; bi++) {
        LvcBackend be = bi ? bes[bi - 1] : LVC_BACKEND_REF;
        LvcNn *nn = NULL;
        LvcTensor a, b, y;
        int16_t ha[121], hb[121], hy[121];
        ck_assert_int_eq(lvc_nn_open(&nn, be, 2), 0);
        for (int i = 0; i < n; i++)
            ha[i] = edge[i / ne], hb[i] = edge[i % ne];
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &a, 1, 11, 11, LVC_NN_I16, 0), 0);
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &b, 1, 11, 11, LVC_NN_I16, 0), 0);
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &y, 1, 11, 11, LVC_NN_I16, 0), 0);
        lvc_nn_tensor_write(nn, &a, ha);
        lvc_nn_tensor_write(nn, &b, hb);
        for (size_t f = 0; f < sizeof(fr) / sizeof(fr[0]); f++) {
            a.frac = fr[f][0]; b.frac = fr[f][1]; y.frac = fr[f][2];
            ck_assert_int_eq(lvc_nn_qadd(nn, &a, &b, &y), 0);
            lvc_nn_tensor_read(nn, &y, hy);
            for (int i = 0; i < n; i++)
                ck_assert_int_eq(hy[i], qadd_model(ha[i], a.frac, hb[i], b.frac, y.frac));
            ck_assert_int_eq(lvc_nn_requant(nn, &a, &y), 0);
            lvc_nn_tensor_read(nn, &y, hy);
            for (int i = 0; i < n; i++)
                ck_assert_int_eq(hy[i], qadd_model(ha[i], a.frac, 0, 0, y.frac));
        }
        lvc_nn_tensor_free(nn, &a);
        lvc_nn_tensor_free(nn, &b);
        lvc_nn_tensor_free(nn, &y);
        lvc_nn_close(&nn);
    }
}
END_TEST

START_TEST(test_quantize)
{
    LvcNn *nn = NULL;
    LvcTensor x, q, d;
    const float hx[8] = { 0.5f, -0.5f, 1.49f, -1.5f, 1e9f, -1e9f, NAN, 0.1234f };
    int16_t hq[8];
    float hd[8];
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_REF, 1), 0);
    lvc_nn_tensor_alloc(nn, &x, 1, 1, 8, LVC_NN_F32, 0);
    lvc_nn_tensor_alloc(nn, &q, 1, 1, 8, LVC_NN_I16, 0);
    lvc_nn_tensor_alloc(nn, &d, 1, 1, 8, LVC_NN_F32, 0);
    lvc_nn_tensor_write(nn, &x, hx);
    ck_assert_int_eq(lvc_nn_quantize(nn, &x, &q), 0);
    lvc_nn_tensor_read(nn, &q, hq);
    ck_assert_int_eq(hq[0], 1);      /* round half up */
    ck_assert_int_eq(hq[1], 0);
    ck_assert_int_eq(hq[2], 1);
    ck_assert_int_eq(hq[3], -1);
    ck_assert_int_eq(hq[4], 32767);
    ck_assert_int_eq(hq[5], -32768);
    ck_assert_int_eq(hq[6], 0);
    q.frac = 10;
    ck_assert_int_eq(lvc_nn_quantize(nn, &x, &q), 0);
    ck_assert_int_eq(lvc_nn_dequantize(nn, &q, &d), 0);
    lvc_nn_tensor_read(nn, &d, hd);
    ck_assert_float_eq_tol(hd[7], 0.1234f, 1.0f / 2048);
    lvc_nn_tensor_free(nn, &x);
    lvc_nn_tensor_free(nn, &q);
    lvc_nn_tensor_free(nn, &d);
    lvc_nn_close(&nn);
}
END_TEST

/* ------------------------------------------------------------ reindexing */

START_TEST(test_shuffle_upsample)
{
    for (int bi = 0; bi < 1 + ntest_backends; bi++) {
        LvcBackend be = bi ? bes[bi - 1] : LVC_BACKEND_REF;
        LvcNn *nn = NULL;
        LvcTensor a, b, c, u;
        float ha[2 * 9 * 3 * 5], hb[2 * 9 * 3 * 5], hu[2 * 9 * 3 * 5 * 4];
        int16_t qa[8 * 2 * 3], qc[8 * 2 * 3];
        ck_assert_int_eq(lvc_nn_open(&nn, be, 2), 0);
        fill(ha, 2 * 9 * 15, 1.0f);
        lvc_nn_tensor_alloc(nn, &a, 18, 3, 5, LVC_NN_F32, 0);
        lvc_nn_tensor_alloc(nn, &b, 2, 9, 15, LVC_NN_F32, 0);
        lvc_nn_tensor_alloc(nn, &c, 18, 3, 5, LVC_NN_F32, 0);
        lvc_nn_tensor_write(nn, &a, ha);
        ck_assert_int_eq(lvc_nn_pixel_shuffle(nn, &a, 3, &b), 0);
        lvc_nn_tensor_read(nn, &b, hb);
        /* out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x] */
        ck_assert_float_eq(hb[(1 * 9 + 4) * 15 + 7], ha[((1 * 9 + 1 * 3 + 1) * 3 + 1) * 5 + 2]);
        ck_assert_int_eq(lvc_nn_pixel_unshuffle(nn, &b, 3, &c), 0);
        lvc_nn_tensor_read(nn, &c, hb);
        ck_assert(!memcmp(ha, hb, sizeof(ha)));
        ck_assert_int_eq(lvc_nn_pixel_shuffle(nn, &a, 2, &b), LVC_ERR_INVALID_ARG);
        /* nearest */
        lvc_nn_tensor_free(nn, &b);
        lvc_nn_tensor_alloc(nn, &u, 18, 6, 10, LVC_NN_F32, 0);
        ck_assert_int_eq(lvc_nn_upsample_nearest(nn, &a, 2, &u), 0);
        lvc_nn_tensor_read(nn, &u, hu);
        ck_assert_float_eq(hu[(5 * 6 + 3) * 10 + 9], ha[(5 * 3 + 1) * 5 + 4]);
        ck_assert_int_eq(lvc_nn_upsample_bilinear(nn, &a, 2, &u), 0);
        lvc_nn_tensor_read(nn, &u, hu);
        {
            /* dst (1, 3): src y = 0.25 (rows 0, 1), x = 1.25 (cols 1, 2) */
            float v00 = ha[0 * 5 + 1], v01 = ha[0 * 5 + 2], v10 = ha[1 * 5 + 1], v11 = ha[1 * 5 + 2];
            ck_assert_float_eq_tol(hu[1 * 10 + 3], 0.75f * (0.75f * v00 + 0.25f * v01) +
                                   0.25f * (0.75f * v10 + 0.25f * v11), 1e-6f);
        }
        lvc_nn_tensor_free(nn, &u);
        /* int16 shuffle keeps frac */
        lvc_nn_tensor_free(nn, &a);
        lvc_nn_tensor_free(nn, &c);
        lvc_nn_tensor_alloc(nn, &b, 8, 2, 3, LVC_NN_I16, 5);
        lvc_nn_tensor_alloc(nn, &u, 2, 4, 6, LVC_NN_I16, 0);
        lvc_nn_tensor_alloc(nn, &c, 8, 2, 3, LVC_NN_I16, 0);
        fill_i16(qa, 48, 32767);
        lvc_nn_tensor_write(nn, &b, qa);
        ck_assert_int_eq(lvc_nn_pixel_shuffle(nn, &b, 2, &u), 0);
        ck_assert_int_eq(u.frac, 5);
        ck_assert_int_eq(lvc_nn_pixel_unshuffle(nn, &u, 2, &c), 0);
        lvc_nn_tensor_read(nn, &c, qc);
        ck_assert(!memcmp(qa, qc, sizeof(qa)));
        lvc_nn_tensor_free(nn, &b);
        lvc_nn_tensor_free(nn, &c);
        lvc_nn_tensor_free(nn, &u);
        lvc_nn_close(&nn);
    }
}
END_TEST

START_TEST(test_elementwise)
{
    const size_t n = 5 * 7 * 3;
    float ha[105], hb[105], r[105], o[105];
    const float sc[5] = { 1.5f, -2.0f, 0.0f, 3.0f, 0.25f }, bi[5] = { 1, 2, 3, 4, 5 };
    fill(ha, n, 3.0f);
    fill(hb, n, 3.0f);
    for (int k = 0; k < ntest_backends; k++) {
        LvcNn *ref = NULL, *nn = NULL;
        LvcTensor ra, rb, ry, a, b, y;
        lvc_nn_open(&ref, LVC_BACKEND_REF, 1);
        lvc_nn_open(&nn, bes[k], 2);
        lvc_nn_tensor_alloc(ref, &ra, 5, 7, 3, LVC_NN_F32, 0);
        lvc_nn_tensor_alloc(ref, &rb, 5, 7, 3, LVC_NN_F32, 0);
        lvc_nn_tensor_alloc(ref, &ry, 5, 7, 3, LVC_NN_F32, 0);
        lvc_nn_tensor_alloc(nn, &a, 5, 7, 3, LVC_NN_F32, 0);
        lvc_nn_tensor_alloc(nn, &b, 5, 7, 3, LVC_NN_F32, 0);
        lvc_nn_tensor_alloc(nn, &y, 5, 7, 3, LVC_NN_F32, 0);
        lvc_nn_tensor_write(ref, &ra, ha); lvc_nn_tensor_write(ref, &rb, hb);
        lvc_nn_tensor_write(nn, &a, ha); lvc_nn_tensor_write(nn, &b, hb);
        for (int op = 0; op < 8; op++) {
            switch (op) {
            case 0: lvc_nn_add(ref, &ra, &rb, &ry); lvc_nn_add(nn, &a, &b, &y); break;
            case 1: lvc_nn_mul(ref, &ra, &rb, &ry); lvc_nn_mul(nn, &a, &b, &y); break;
            case 2: lvc_nn_scale(ref, &ra, sc, bi, &ry); lvc_nn_scale(nn, &a, sc, bi, &y); break;
            default:
                lvc_nn_act(ref, &ra, &ry, (LvcNnAct)(op - 3), 0.1f);
                lvc_nn_act(nn, &a, &y, (LvcNnAct)(op - 3), 0.1f);
            }
            lvc_nn_tensor_read(ref, &ry, r);
            lvc_nn_tensor_read(nn, &y, o);
            for (size_t i = 0; i < n; i++)
                ck_assert_float_eq_tol(o[i], r[i], 1e-6f * (1.0f + fabsf(r[i])));
        }
        lvc_nn_tensor_free(ref, &ra); lvc_nn_tensor_free(ref, &rb); lvc_nn_tensor_free(ref, &ry);
        lvc_nn_tensor_free(nn, &a); lvc_nn_tensor_free(nn, &b); lvc_nn_tensor_free(nn, &y);
        lvc_nn_close(&ref);
        lvc_nn_close(&nn);
    }
}
END_TEST

START_TEST(test_concat_views)
{
    LvcNn *nn = NULL;
    LvcTensor a, b, y, v;
    float ha[2 * 6], hb[3 * 6], hy[5 * 6];
    const LvcTensor *xs[2];
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_AUTO, 1), 0);
    fill(ha, 12, 1.0f);
    fill(hb, 18, 1.0f);
    lvc_nn_tensor_alloc(nn, &a, 2, 2, 3, LVC_NN_F32, 0);
    lvc_nn_tensor_alloc(nn, &b, 3, 2, 3, LVC_NN_F32, 0);
    lvc_nn_tensor_alloc(nn, &y, 5, 2, 3, LVC_NN_F32, 0);
    lvc_nn_tensor_write(nn, &a, ha);
    lvc_nn_tensor_write(nn, &b, hb);
    xs[0] = &a;
    xs[1] = &b;
    ck_assert_int_eq(lvc_nn_concat(nn, xs, 2, &y), 0);
    lvc_nn_tensor_read(nn, &y, hy);
    ck_assert(!memcmp(hy, ha, sizeof(ha)));
    ck_assert(!memcmp(hy + 12, hb, sizeof(hb)));
    ck_assert_int_eq(lvc_tensor_channels(&y, 2, 3, &v), 0);
    ck_assert_int_eq(v.c, 3);
    ck_assert_ptr_eq(v.data, (float *)y.data + 12);
    ck_assert_int_eq(lvc_tensor_channels(&y, 3, 3, &v), LVC_ERR_INVALID_ARG);
    xs[1] = &a;
    ck_assert_int_eq(lvc_nn_concat(nn, xs, 2, &y), LVC_ERR_INVALID_ARG);
    lvc_nn_tensor_free(nn, &a);
    lvc_nn_tensor_free(nn, &b);
    lvc_nn_tensor_free(nn, &y);
    lvc_nn_close(&nn);
}
END_TEST

/* ------------------------------------------------------------ plan, backends */

START_TEST(test_plan)
{
    LvcNnPlan *plan = NULL;
    LvcNn *nn = NULL;
    LvcNnWorkspace *ws = NULL;
    int id[6];
    /* A chain: t0 -> t1 -> t2 -> t3, plus a skip t4 alive over everything. */
    ck_assert_int_eq(lvc_nn_plan_create(&plan), 0);
    id[0] = lvc_nn_plan_add(plan, 3, 64, 64, LVC_NN_F32, 0, 0, 1);
    id[1] = lvc_nn_plan_add(plan, 16, 32, 32, LVC_NN_F32, 0, 1, 2);
    id[2] = lvc_nn_plan_add(plan, 16, 32, 32, LVC_NN_F32, 0, 2, 3);
    id[3] = lvc_nn_plan_add(plan, 32, 16, 16, LVC_NN_I16, 4, 3, 4);
    id[4] = lvc_nn_plan_add(plan, 1, 1, 1, LVC_NN_F32, 0, 0, 4);
    id[5] = lvc_nn_plan_add(plan, 1, 1, 1, LVC_NN_F32, 0, 5, 2);   /* last < first */
    ck_assert_int_eq(id[5], LVC_ERR_INVALID_ARG);
    {
        size_t peak = lvc_nn_plan_peak(plan);
        size_t sum = 3 * 64 * 64 * 4 + 2 * 16 * 32 * 32 * 4 + 32 * 16 * 16 * 2 + 64;
        /* Peak: at step 1 t0 + t1 + t4 are alive (49152 + 65536 + 64). */
        ck_assert_uint_ge(peak, 49152 + 65536 + 64);
        ck_assert_uint_lt(peak, sum);
    }
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_REF, 1), 0);
    ck_assert_int_eq(lvc_nn_workspace_create(nn, plan, &ws), 0);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            static const int first[5] = { 0, 1, 2, 3, 0 }, last[5] = { 1, 2, 3, 4, 4 };
            LvcTensor a, b;
            if (i == j || first[i] > last[j] || first[j] > last[i])
                continue;
            lvc_nn_workspace_tensor(ws, id[i], &a);
            lvc_nn_workspace_tensor(ws, id[j], &b);
            ck_assert((uint8_t *)a.data + lvc_tensor_bytes(&a) <= (uint8_t *)b.data ||
                      (uint8_t *)b.data + lvc_tensor_bytes(&b) <= (uint8_t *)a.data);
            ck_assert_uint_eq((uintptr_t)a.data % 64, 0);
        }
    {
        LvcTensor t;
        ck_assert_int_eq(lvc_nn_workspace_tensor(ws, id[3], &t), 0);
        ck_assert_int_eq(t.dtype, LVC_NN_I16);
        ck_assert_int_eq(t.frac, 4);
        ck_assert_int_eq(lvc_nn_workspace_tensor(ws, 99, &t), LVC_ERR_INVALID_ARG);
    }
    lvc_nn_workspace_free(nn, &ws);
    ck_assert_ptr_null(ws);
    lvc_nn_plan_free(&plan);
    lvc_nn_close(&nn);
    ck_assert_ptr_null(nn);
}
END_TEST

START_TEST(test_backend_select)
{
    LvcNn *nn = NULL;
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_AUTO, 0), 0);
    if (lvc_nn_backend_available(LVC_BACKEND_CUDA))
        ck_assert_int_eq(lvc_nn_backend(nn), LVC_BACKEND_CUDA);
    else if (lvc_nn_backend_available(LVC_BACKEND_CPU))
        ck_assert_int_eq(lvc_nn_backend(nn), LVC_BACKEND_CPU);
    else
        ck_assert_int_eq(lvc_nn_backend(nn), LVC_BACKEND_REF);
    ck_assert_int_ge(lvc_nn_threads(nn), 1);
    lvc_nn_close(&nn);
    if (!lvc_nn_backend_available(LVC_BACKEND_CUDA)) {
        printf("no CUDA device: skipping the cuda backend\n");
        ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_CUDA, 1), LVC_ERR_BACKEND);
        ck_assert_ptr_null(nn);
    }
    ck_assert_int_eq(lvc_nn_open(&nn, (LvcBackend)7, 1), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_REF, -1), LVC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_invalid_shapes)
{
    LvcNn *nn = NULL;
    LvcNnLayer *l = NULL;
    LvcConvParams p;
    LvcTensor x, y;
    float w[2 * 3 * 9] = { 0 };
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_AUTO, 1), 0);
    lvc_conv_params_init(&p, 3, 2, 3, 3);
    p.groups = 2;    /* does not divide cin */
    ck_assert_int_eq(lvc_nn_conv_create(nn, &p, w, NULL, &l), LVC_ERR_INVALID_ARG);
    p.groups = 1;
    p.stride_h = 0;
    ck_assert_int_eq(lvc_nn_conv_create(nn, &p, w, NULL, &l), LVC_ERR_INVALID_ARG);
    p.stride_h = 1;
    p.pad_top = 1;   /* asymmetric padding on a transposed conv */
    ck_assert_int_eq(lvc_nn_convt_create(nn, &p, w, NULL, &l), LVC_ERR_INVALID_ARG);
    p.pad_top = 0;
    ck_assert_int_eq(lvc_nn_conv_create(nn, &p, w, NULL, &l), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &x, 3, 2, 2, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &y, 2, 1, 1, LVC_NN_F32, 0), 0);
    /* input smaller than the kernel */
    ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &y), LVC_ERR_DIMENSIONS);
    lvc_nn_tensor_free(nn, &x);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &x, 3, 3, 4, LVC_NN_F32, 0), 0);
    ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &y), LVC_ERR_INVALID_ARG);   /* y is 1x1 */
    ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &x), LVC_ERR_INVALID_ARG);
    lvc_nn_tensor_free(nn, &x);
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &x, 0, 3, 4, LVC_NN_F32, 0), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(x.data);
    lvc_nn_tensor_free(nn, &y);
    lvc_nn_layer_free(nn, &l);
    ck_assert_ptr_null(l);
    lvc_nn_close(&nn);
}
END_TEST

static Suite *nn_suite(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_backend_select);
    tcase_add_test(tc, test_conv_edges);
    tcase_add_test(tc, test_conv_random);
    tcase_add_test(tc, test_conv_masked);
    tcase_add_test(tc, test_conv_large);
    tcase_add_test(tc, test_convt);
    tcase_add_test(tc, test_convt_asymmetric_stride);
    tcase_add_test(tc, test_gdn);
    tcase_add_test(tc, test_gdn_simd);
    tcase_add_test(tc, test_wino_simd);
    tcase_add_test(tc, test_linear);
    tcase_add_test(tc, test_qconv);
    tcase_add_test(tc, test_qconv_invalid);
    tcase_add_test(tc, test_qadd_requant);
    tcase_add_test(tc, test_quantize);
    tcase_add_test(tc, test_shuffle_upsample);
    tcase_add_test(tc, test_elementwise);
    tcase_add_test(tc, test_concat_views);
    tcase_add_test(tc, test_plan);
    tcase_add_test(tc, test_invalid_shapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    init_backends();
    sr = srunner_create(nn_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("largest float deviation from ref: %g absolute, %g relative to sum|x*w|\n",
           max_err_seen, max_rel_seen);
    return failed ? 1 : 0;
}
