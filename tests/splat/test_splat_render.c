/*
 * Splat renderer tests (lvc_splats_render, lvc_splats_orbit_cameras) on
 * small scenes built in memory: analytic values of one splat, culling,
 * depth order, SH view dependence, anisotropy, thread independence, the
 * orbit cameras and argument checks.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/splat.h"
#include "common/mem.h"
#include "tests/splat/test_splat.h"

#define SH_C0 0.28209479177387814
#define SH_C1 0.4886025119029199

/* Scenes are allocated here with calloc (and freed with scene_free) so the
 * tests do not depend on the I/O module. */
static LvcSplats scene_new(uint32_t count, int degree)
{
    const size_t K = (size_t)LVC_SPLAT_SH_COEFFS(degree);
    LvcSplats s = { .count = count, .sh_degree = degree };
    s.position = calloc((size_t)count * 3 + 1, sizeof(float));
    s.scale = calloc((size_t)count * 3 + 1, sizeof(float));
    s.rotation = calloc((size_t)count * 4 + 1, sizeof(float));
    s.opacity = calloc((size_t)count + 1, sizeof(float));
    s.sh = calloc((size_t)count * 3 * K + 1, sizeof(float));
    ck_assert(s.position && s.scale && s.rotation && s.opacity && s.sh);
    for (uint32_t i = 0; i < count; i++)
        s.rotation[(size_t)i * 4] = 1.0f;
    return s;
}

static void scene_free(LvcSplats *s)
{
    free(s->position);
    free(s->scale);
    free(s->rotation);
    free(s->opacity);
    free(s->sh);
    memset(s, 0, sizeof(*s));
}

/* Splat i: isotropic std sigma at (x, y, z), opacity logit, DC colour rgb. */
static void set_splat(LvcSplats *s, uint32_t i, float x, float y, float z, float sigma,
                      float logit, float r, float g, float b)
{
    const int K = LVC_SPLAT_SH_COEFFS(s->sh_degree);
    s->position[i * 3 + 0] = x;
    s->position[i * 3 + 1] = y;
    s->position[i * 3 + 2] = z;
    for (int k = 0; k < 3; k++)
        s->scale[i * 3 + k] = logf(sigma);
    s->rotation[i * 4 + 0] = 1.0f;
    s->rotation[i * 4 + 1] = s->rotation[i * 4 + 2] = s->rotation[i * 4 + 3] = 0.0f;
    s->opacity[i] = logit;
    const float rgb[3] = { r, g, b };
    for (int c = 0; c < 3; c++)
        s->sh[((size_t)i * 3 + c) * K] = (float)((rgb[c] - 0.5) / SH_C0);
}

/* Camera at the origin looking along +z; image x = world x, image y = world y. */
static LvcSplatCamera front_camera(int w, int h, float fov)
{
    LvcSplatCamera c = { .position = { 0, 0, 0 }, .forward = { 0, 0, 1 }, .up = { 0, -1, 0 },
                         .fov_y = fov, .width = w, .height = h };
    return c;
}

static float *render(const LvcSplats *s, const LvcSplatCamera *c, int threads)
{
    float *rgb = malloc((size_t)c->width * c->height * 3 * sizeof(float));
    ck_assert_ptr_nonnull(rgb);
    ck_assert_int_eq(lvc_splats_render(s, c, threads, rgb), 0);
    return rgb;
}

static const float *px(const float *rgb, int w, int x, int y)
{
    return rgb + ((size_t)y * w + x) * 3;
}

static double sum_image(const float *rgb, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += rgb[i];
    return sum;
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

START_TEST(test_single_splat_analytic)
{
    enum { W = 65, H = 65 };
    const float fov = (float)(60.0 * M_PI / 180.0);
    const double z = 5.0, sigma = 0.1, logit = 2.0;
    const double col[3] = { 0.8, 0.5, 0.2 };
    LvcSplats s = scene_new(1, 0);
    set_splat(&s, 0, 0, 0, (float)z, (float)sigma, (float)logit, (float)col[0],
              (float)col[1], (float)col[2]);
    LvcSplatCamera cam = front_camera(W, H, fov);
    float *rgb = render(&s, &cam, 1);

    const double f = 0.5 * H / tan(0.5 * (double)fov);
    const double var = (f * sigma / z) * (f * sigma / z) + 0.3; /* with dilation */
    const double op = sigmoid(logit);
    /* centre pixel: the splat's own colour times its opacity */
    for (int c = 0; c < 3; c++)
        ck_assert_double_eq_tol(px(rgb, W, 32, 32)[c], op * col[c], 2e-5);
    /* off-centre values follow the dilated Gaussian, not the raw one */
    for (int d = 1; d <= 3; d++) {
        const double a = op * exp(-0.5 * d * d / var);
        const double raw = op * exp(-0.5 * d * d / (var - 0.3));
        ck_assert(fabs(a - raw) * col[0] > 1e-3);
        ck_assert_double_eq_tol(px(rgb, W, 32 + d, 32)[0], a * col[0], 2e-5);
        ck_assert_double_eq_tol(px(rgb, W, 32, 32 - d)[2], a * col[2], 2e-5);
    }
    /* radially symmetric: mirror images and the transpose are equal */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                const float v = px(rgb, W, x, y)[c];
                ck_assert_float_eq(v, px(rgb, W, W - 1 - x, y)[c]);
                ck_assert_float_eq(v, px(rgb, W, x, H - 1 - y)[c]);
                ck_assert_float_eq(v, px(rgb, W, y, x)[c]);
            }
    /* a compact blob: nothing beyond 3 sigma */
    ck_assert_float_eq(px(rgb, W, 32 + 5, 32)[0], 0.0f);
    ck_assert_float_eq(px(rgb, W, 0, 0)[0], 0.0f);
    /* off-axis the blob moves by f * x / z pixels */
    s.position[0] = (float)(10.0 * z / f);
    free(rgb);
    rgb = render(&s, &cam, 1);
    ck_assert_double_eq_tol(px(rgb, W, 42, 32)[0], op * col[0], 1e-4);
    ck_assert(px(rgb, W, 41, 32)[0] < px(rgb, W, 42, 32)[0]);
    ck_assert_float_eq(px(rgb, W, 32, 32)[0], 0.0f);
    free(rgb);
    scene_free(&s);
}
END_TEST

START_TEST(test_culled)
{
    enum { W = 33, H = 33 };
    LvcSplatCamera cam = front_camera(W, H, 1.0f);
    LvcSplats s = scene_new(3, 0);
    set_splat(&s, 0, 0, 0, -5.0f, 0.5f, 4.0f, 1, 1, 1);   /* behind */
    set_splat(&s, 1, 0, 0, 0.1f, 0.05f, 4.0f, 1, 1, 1);   /* before the near plane */
    set_splat(&s, 2, 50.0f, 0, 5.0f, 0.1f, 4.0f, 1, 1, 1); /* off screen */
    float *rgb = render(&s, &cam, 2);
    ck_assert_double_eq(sum_image(rgb, (size_t)W * H * 3), 0.0);
    free(rgb);
    /* a nearer near plane shows the splat at depth 0.1; a negative or NaN
     * one is refused */
    cam.near_plane = 0.05f;
    rgb = render(&s, &cam, 2);
    ck_assert(px(rgb, W, 16, 16)[0] > 0.5f);
    free(rgb);
    rgb = malloc((size_t)W * H * 3 * sizeof(float));
    cam.near_plane = -1.0f;
    ck_assert_int_eq(lvc_splats_render(&s, &cam, 1, rgb), LVC_ERR_INVALID_ARG);
    cam.near_plane = NAN;
    ck_assert_int_eq(lvc_splats_render(&s, &cam, 1, rgb), LVC_ERR_INVALID_ARG);
    free(rgb);
    cam.near_plane = 0.0f;
    /* the same splat in front is seen */
    s.position[2] = 5.0f;
    rgb = render(&s, &cam, 2);
    ck_assert(px(rgb, W, 16, 16)[0] > 0.9f);
    free(rgb);
    scene_free(&s);

    /* an empty scene renders black */
    LvcSplats e = { 0 };
    rgb = malloc((size_t)W * H * 3 * sizeof(float));
    ck_assert_ptr_nonnull(rgb);
    memset(rgb, 0x7f, (size_t)W * H * 3 * sizeof(float));
    ck_assert_int_eq(lvc_splats_render(&e, &cam, 0, rgb), 0);
    ck_assert_double_eq(sum_image(rgb, (size_t)W * H * 3), 0.0);
    free(rgb);
}
END_TEST

START_TEST(test_depth_order)
{
    enum { W = 41, H = 41 };
    LvcSplatCamera cam = front_camera(W, H, 1.0f);
    /* near red (opacity sigmoid(3)), far green (alpha capped at 0.99) */
    const double op_r = sigmoid(3.0);
    LvcSplats a = scene_new(2, 0), b = scene_new(2, 0);
    set_splat(&a, 0, 0, 0, 4.0f, 0.2f, 3.0f, 1, 0, 0);
    set_splat(&a, 1, 0, 0, 6.0f, 0.2f, 5.0f, 0, 1, 0);
    set_splat(&b, 1, 0, 0, 4.0f, 0.2f, 3.0f, 1, 0, 0);
    set_splat(&b, 0, 0, 0, 6.0f, 0.2f, 5.0f, 0, 1, 0);
    float *ra = render(&a, &cam, 1), *rb = render(&b, &cam, 1);
    const float *c = px(ra, W, 20, 20);
    ck_assert_double_eq_tol(c[0], op_r, 1e-5);
    ck_assert_double_eq_tol(c[1], (1.0 - op_r) * 0.99, 1e-5);
    ck_assert_double_eq_tol(c[2], 0.0, 1e-6);
    ck_assert_mem_eq(ra, rb, (size_t)W * H * 3 * sizeof(float));
    free(ra);
    free(rb);
    /* move green in front: it dominates */
    a.position[1 * 3 + 2] = 3.0f;
    ra = render(&a, &cam, 1);
    c = px(ra, W, 20, 20);
    ck_assert_double_eq_tol(c[1], 0.99, 1e-5);
    ck_assert_double_eq_tol(c[0], 0.01 * op_r, 1e-5);
    free(ra);
    /* equal depths are deterministic (input order breaks the tie) */
    a.position[1 * 3 + 2] = 4.0f;
    ra = render(&a, &cam, 1);
    rb = render(&a, &cam, 2);
    ck_assert_mem_eq(ra, rb, (size_t)W * H * 3 * sizeof(float));
    ck_assert(px(ra, W, 20, 20)[0] > 0.9f * (float)op_r);
    free(ra);
    free(rb);
    scene_free(&a);
    scene_free(&b);
}
END_TEST

/* Degree 1: red carries the y coefficient (k = 1), green z (k = 2), blue x
 * (k = 3). 3DGS: colour = C0 dc - C1 y sh1 + C1 z sh2 - C1 x sh3 + 0.5 with
 * (x, y, z) the unit direction from the camera to the splat. */
START_TEST(test_sh_view_dependence)
{
    enum { W = 17, H = 17 };
    const double coef = 0.4;
    LvcSplats s = scene_new(1, 1);
    set_splat(&s, 0, 0, 0, 0, 0.2f, 8.0f, 0.5f, 0.5f, 0.5f); /* alpha 0.99 */
    s.sh[0 * 4 + 1] = (float)coef;
    s.sh[1 * 4 + 2] = (float)coef;
    s.sh[2 * 4 + 3] = (float)coef;
    for (int axis = 0; axis < 3; axis++) {
        for (int sign = -1; sign <= 1; sign += 2) {
            /* camera on -sign * axis looking along sign * axis: dir = sign * e_axis */
            LvcSplatCamera cam = { .fov_y = 1.0f, .width = W, .height = H };
            cam.position[axis] = (float)(-5 * sign);
            cam.forward[axis] = (float)sign;
            cam.up[(axis + 1) % 3] = 1.0f;
            float *rgb = render(&s, &cam, 1);
            const float *c = px(rgb, W, 8, 8);
            double expect[3] = { 0.5, 0.5, 0.5 };
            if (axis == 0)
                expect[2] -= SH_C1 * sign * coef;
            else if (axis == 1)
                expect[0] -= SH_C1 * sign * coef;
            else
                expect[1] += SH_C1 * sign * coef;
            for (int k = 0; k < 3; k++)
                ck_assert_double_eq_tol(c[k], 0.99 * expect[k], 1e-5);
            free(rgb);
        }
    }
    scene_free(&s);

    /* Degree 3 seen along +-z: k = 6 is C2[2] (2z^2 - x^2 - y^2) = 0.6308 on
     * both sides, k = 12 is C3[3] z (2z^2 - 3x^2 - 3y^2) = +-0.7464, odd. */
    LvcSplats h = scene_new(1, 3);
    set_splat(&h, 0, 0, 0, 0, 0.2f, 8.0f, 0.5f, 0.5f, 0.5f);
    h.sh[0 * 16 + 6] = 0.3f;
    h.sh[1 * 16 + 12] = 0.3f;
    h.sh[2 * 16 + 5] = 0.3f; /* yz: zero along the axis */
    for (int sign = -1; sign <= 1; sign += 2) {
        LvcSplatCamera cam = { .position = { 0, 0, (float)(-5 * sign) },
                               .forward = { 0, 0, (float)sign }, .up = { 0, 1, 0 },
                               .fov_y = 1.0f, .width = W, .height = H };
        float *rgb = render(&h, &cam, 1);
        const float *c = px(rgb, W, 8, 8);
        ck_assert_double_eq_tol(c[0], 0.99 * (0.5 + 0.3 * 2 * 0.31539156525252005), 1e-5);
        ck_assert_double_eq_tol(c[1], 0.99 * (0.5 + 0.3 * sign * 2 * 0.3731763325901154), 1e-5);
        ck_assert_double_eq_tol(c[2], 0.99 * 0.5, 1e-5);
        free(rgb);
    }
    scene_free(&h);
}
END_TEST

START_TEST(test_anisotropic_rotation)
{
    enum { W = 65, H = 65 };
    LvcSplatCamera cam = front_camera(W, H, 1.0f);
    LvcSplats s = scene_new(1, 0);
    set_splat(&s, 0, 0, 0, 5.0f, 0.05f, 3.0f, 0.9f, 0.6f, 0.3f);
    s.scale[0] = logf(0.4f); /* long along x */
    float *a = render(&s, &cam, 1);
    /* wide, not tall */
    ck_assert(px(a, W, 32 + 8, 32)[0] > 0.1f);
    ck_assert_float_eq(px(a, W, 32, 32 + 8)[0], 0.0f);
    /* 90 degrees about the view axis z: q = (cos 45, 0, 0, sin 45) */
    s.rotation[0] = (float)cos(M_PI / 4);
    s.rotation[3] = (float)sin(M_PI / 4);
    float *b = render(&s, &cam, 1);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                ck_assert_double_eq_tol(px(b, W, x, y)[c], px(a, W, y, x)[c], 1e-5);
    ck_assert(px(b, W, 32, 32 + 8)[0] > 0.1f);
    /* the quaternion need not be normalised */
    for (int k = 0; k < 4; k++)
        s.rotation[k] *= 3.0f;
    float *c = render(&s, &cam, 1);
    for (size_t i = 0; i < (size_t)W * H * 3; i++)
        ck_assert_double_eq_tol(c[i], b[i], 1e-6);
    /* +45 degrees about z takes the long axis x to (1, 1, 0) / sqrt 2, i.e.
     * right and down in the image (a transposed rotation would go up) */
    s.rotation[0] = (float)cos(M_PI / 8);
    s.rotation[1] = s.rotation[2] = 0.0f;
    s.rotation[3] = (float)sin(M_PI / 8);
    float *d = render(&s, &cam, 1);
    ck_assert(px(d, W, 32 + 6, 32 + 6)[0] > 0.1f);
    ck_assert(px(d, W, 32 - 6, 32 - 6)[0] > 0.1f);
    ck_assert_float_eq(px(d, W, 32 + 6, 32 - 6)[0], 0.0f);
    ck_assert_float_eq(px(d, W, 32 - 6, 32 + 6)[0], 0.0f);
    free(a);
    free(b);
    free(c);
    free(d);
    scene_free(&s);
}
END_TEST

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static float uniform(uint32_t *state, float lo, float hi)
{
    return lo + (hi - lo) * (float)lcg(state) / 16777216.0f;
}

/* A random cloud: count splats of degree 3 in a box around the origin. */
static LvcSplats random_scene(uint32_t count, uint32_t seed)
{
    LvcSplats s = scene_new(count, 3);
    for (uint32_t i = 0; i < count; i++) {
        for (int k = 0; k < 3; k++) {
            s.position[i * 3 + k] = uniform(&seed, -1.0f, 1.0f);
            s.scale[i * 3 + k] = uniform(&seed, -5.0f, -2.0f);
        }
        for (int k = 0; k < 4; k++)
            s.rotation[i * 4 + k] = uniform(&seed, -1.0f, 1.0f);
        s.opacity[i] = uniform(&seed, -2.0f, 4.0f);
        for (int k = 0; k < 3 * 16; k++)
            s.sh[(size_t)i * 48 + k] = uniform(&seed, -1.0f, 1.0f) * (k % 16 ? 0.2f : 1.0f);
    }
    return s;
}

START_TEST(test_threads_identical)
{
    LvcSplats s = random_scene(3000, 7);
    LvcSplatCamera cams[3];
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, 3, 97, 61, cams), 0);
    const size_t n = (size_t)97 * 61 * 3;
    for (int v = 0; v < 3; v++) {
        float *r1 = render(&s, &cams[v], 1);
        float *r2 = render(&s, &cams[v], 2);
        float *r3 = render(&s, &cams[v], 3);
        float *r0 = render(&s, &cams[v], 0);
        ck_assert_mem_eq(r1, r2, n * sizeof(float));
        ck_assert_mem_eq(r1, r3, n * sizeof(float));
        ck_assert_mem_eq(r1, r0, n * sizeof(float));
        ck_assert(sum_image(r1, n) > 0.05 * (double)n);
        for (size_t i = 0; i < n; i++)
            ck_assert(r1[i] >= 0.0f && r1[i] <= 1.0f);
        free(r0);
        free(r1);
        free(r2);
        free(r3);
    }
    scene_free(&s);
}
END_TEST

static double norm3(const double *v)
{
    return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

START_TEST(test_orbit_cameras)
{
    /* median centre (1, 2, 3) despite an outlier that moves the mean */
    LvcSplats s = scene_new(5, 0);
    const float pos[5][3] = {
        { 0, 2, 3 }, { 1, 1, 3 }, { 1, 2, 2 }, { 2, 3, 4 }, { 1000, -500, 900 },
    };
    memcpy(s.position, pos, sizeof(pos));
    enum { N = 12 };
    LvcSplatCamera a[N], b[N];
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, N, 64, 48, a), 0);
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, N, 64, 48, b), 0);
    ck_assert_mem_eq(a, b, sizeof(a));
    const double centre[3] = { 1, 2, 3 };
    double dist0 = 0.0;
    for (int k = 0; k < N; k++) {
        double to_c[3], fwd[3], up[3];
        for (int i = 0; i < 3; i++) {
            to_c[i] = centre[i] - a[k].position[i];
            fwd[i] = a[k].forward[i];
            up[i] = a[k].up[i];
        }
        const double d = norm3(to_c), nf = norm3(fwd), nu = norm3(up);
        ck_assert(d > 0.0 && nf > 0.0 && nu > 0.0);
        /* looks at the centre */
        const double cosang = (to_c[0] * fwd[0] + to_c[1] * fwd[1] + to_c[2] * fwd[2]) / (d * nf);
        ck_assert_double_eq_tol(cosang, 1.0, 1e-6);
        /* up is far from parallel to forward */
        const double cu = fabs(up[0] * fwd[0] + up[1] * fwd[1] + up[2] * fwd[2]) / (nu * nf);
        ck_assert(cu < 0.95);
        /* all on one sphere */
        if (k == 0)
            dist0 = d;
        ck_assert_double_eq_tol(d, dist0, 1e-4 * dist0);
        ck_assert_double_eq_tol(a[k].fov_y, 50.0 * M_PI / 180.0, 1e-6);
        ck_assert_int_eq(a[k].width, 64);
        ck_assert_int_eq(a[k].height, 48);
    }
    /* radius: 90th percentile (nearest rank) of the distances = the outlier's
     * for 5 splats; distance 2.5 radii */
    const double rad = sqrt(999.0 * 999.0 + 502.0 * 502.0 + 897.0 * 897.0);
    ck_assert_double_eq_tol(dist0, 2.5 * rad, 1e-3 * rad);
    ck_assert_float_eq(a[0].near_plane, 0.2f);   /* a large scene: 3DGS's */
    /* cameras are spread: not all in one place */
    double spread = 0.0;
    for (int i = 0; i < 3; i++)
        spread += fabs((double)a[0].position[i] - a[N - 1].position[i]);
    ck_assert(spread > dist0);
    scene_free(&s);

    /* one splat: a unit radius; it is seen in the middle of every view */
    LvcSplats one = scene_new(1, 0);
    set_splat(&one, 0, 3.0f, -1.0f, 2.0f, 0.05f, 5.0f, 1, 1, 1);
    LvcSplatCamera c1[4];
    ck_assert_int_eq(lvc_splats_orbit_cameras(&one, 4, 33, 33, c1), 0);
    for (int k = 0; k < 4; k++) {
        const double d[3] = { c1[k].position[0] - 3.0, c1[k].position[1] + 1.0,
                              c1[k].position[2] - 2.0 };
        ck_assert_double_eq_tol(norm3(d), 2.5, 1e-5);
        float *rgb = render(&one, &c1[k], 1);
        ck_assert(px(rgb, 33, 16, 16)[0] > 0.9f);
        ck_assert_float_eq(px(rgb, 33, 0, 0)[0], 0.0f);
        free(rgb);
    }
    /* n = 1 */
    ck_assert_int_eq(lvc_splats_orbit_cameras(&one, 1, 33, 33, c1), 0);
    scene_free(&one);

    /* a small scene (radius about 0.1, cameras about 0.25 away): the near
     * plane comes in to a tenth of the distance */
    LvcSplats small = scene_new(10, 0);
    for (int i = 0; i < 10; i++)
        set_splat(&small, i, 0.1f * (float)cos(i * 0.628), 0, 0.1f * (float)sin(i * 0.628),
                  0.01f, 5.0f, 1, 1, 1);
    LvcSplatCamera cs[1];
    ck_assert_int_eq(lvc_splats_orbit_cameras(&small, 1, 33, 33, cs), 0);
    ck_assert_double_eq_tol(cs[0].near_plane, 0.025, 1e-3);
    scene_free(&small);
}
END_TEST

START_TEST(test_invalid_args)
{
    LvcSplats s = scene_new(1, 0);
    set_splat(&s, 0, 0, 0, 5.0f, 0.1f, 2.0f, 1, 1, 1);
    float *rgb = malloc((size_t)20 * 20 * 3 * sizeof(float));
    ck_assert_ptr_nonnull(rgb);
    const LvcSplatCamera good = front_camera(20, 20, 1.0f);
    ck_assert_int_eq(lvc_splats_render(&s, &good, 1, rgb), 0);

    ck_assert_int_eq(lvc_splats_render(NULL, &good, 1, rgb), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_render(&s, NULL, 1, rgb), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_render(&s, &good, 1, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_render(&s, &good, -1, rgb), LVC_ERR_INVALID_ARG);
    LvcSplatCamera c;
    const int bad_sizes[][2] = { { 0, 20 }, { 20, 0 }, { -1, 20 }, { 16385, 1 }, { 1, 16385 } };
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        c = good;
        c.width = bad_sizes[i][0];
        c.height = bad_sizes[i][1];
        ck_assert_int_eq(lvc_splats_render(&s, &c, 1, rgb), LVC_ERR_INVALID_ARG);
    }
    const float bad_fov[] = { 0.0f, -1.0f, (float)M_PI, 4.0f, NAN, INFINITY };
    for (size_t i = 0; i < sizeof(bad_fov) / sizeof(bad_fov[0]); i++) {
        c = good;
        c.fov_y = bad_fov[i];
        ck_assert_int_eq(lvc_splats_render(&s, &c, 1, rgb), LVC_ERR_INVALID_ARG);
    }
    c = good;
    memset(c.forward, 0, sizeof(c.forward));
    ck_assert_int_eq(lvc_splats_render(&s, &c, 1, rgb), LVC_ERR_INVALID_ARG);
    c = good;
    memset(c.up, 0, sizeof(c.up));
    ck_assert_int_eq(lvc_splats_render(&s, &c, 1, rgb), LVC_ERR_INVALID_ARG);
    c = good;
    c.up[0] = 0.0f, c.up[1] = 0.0f, c.up[2] = -2.0f; /* parallel to forward */
    /* failure zeroes the output */
    for (int i = 0; i < 20 * 20 * 3; i++)
        rgb[i] = 0.5f;
    ck_assert_int_eq(lvc_splats_render(&s, &c, 1, rgb), LVC_ERR_INVALID_ARG);
    ck_assert_double_eq(sum_image(rgb, (size_t)20 * 20 * 3), 0.0);
    c = good;
    c.position[0] = NAN;
    ck_assert_int_eq(lvc_splats_render(&s, &c, 1, rgb), LVC_ERR_INVALID_ARG);
    c = good;
    c.forward[1] = INFINITY;
    ck_assert_int_eq(lvc_splats_render(&s, &c, 1, rgb), LVC_ERR_INVALID_ARG);
    /* a scene that is not one */
    s.sh_degree = 4;
    ck_assert_int_eq(lvc_splats_render(&s, &good, 1, rgb), LVC_ERR_INVALID_ARG);
    s.sh_degree = 0;
    float *keep = s.sh;
    s.sh = NULL;
    ck_assert_int_eq(lvc_splats_render(&s, &good, 1, rgb), LVC_ERR_INVALID_ARG);
    s.sh = keep;

    /* orbit cameras */
    LvcSplatCamera cams[2];
    LvcSplats empty = { 0 };
    ck_assert_int_eq(lvc_splats_orbit_cameras(&empty, 2, 20, 20, cams), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_orbit_cameras(NULL, 2, 20, 20, cams), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, 2, 20, 20, NULL), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, 0, 20, 20, cams), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, 2, 0, 20, cams), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, 2, 20, 16385, cams), LVC_ERR_INVALID_ARG);
    s.position[0] = NAN; /* no finite position left */
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, 2, 20, 20, cams), LVC_ERR_INVALID_ARG);

    /* non-finite splat values are skipped, not propagated */
    set_splat(&s, 0, 0, 0, 5.0f, 0.1f, 2.0f, 1, 1, 1);
    s.scale[1] = INFINITY;
    ck_assert_int_eq(lvc_splats_render(&s, &good, 1, rgb), 0);
    ck_assert_double_eq(sum_image(rgb, (size_t)20 * 20 * 3), 0.0);
    s.scale[1] = logf(0.1f);
    s.sh[0] = NAN;
    ck_assert_int_eq(lvc_splats_render(&s, &good, 1, rgb), 0);
    ck_assert_double_eq(sum_image(rgb, (size_t)20 * 20 * 3), 0.0);
    /* a huge splat far off to the side: extreme pixel offsets and conics
     * give no NaN or out-of-range pixels */
    set_splat(&s, 0, 1e18f, 1e18f, 5.0f, 1e19f, 2.0f, 1, 1, 1);
    ck_assert_int_eq(lvc_splats_render(&s, &good, 1, rgb), 0);
    for (int i = 0; i < 20 * 20 * 3; i++)
        ck_assert(rgb[i] >= 0.0f && rgb[i] <= 1.0f);
    set_splat(&s, 0, 0, 0, 5.0f, 0.1f, 2.0f, 1, 1, 1);
    s.sh[0] = 1.0f;
    memset(s.rotation, 0, 4 * sizeof(float)); /* zero quaternion */
    ck_assert_int_eq(lvc_splats_render(&s, &good, 1, rgb), 0);
    ck_assert_double_eq(sum_image(rgb, (size_t)20 * 20 * 3), 0.0);
    free(rgb);
    scene_free(&s);
}
END_TEST

/* Tile lists beyond the bound are refused before any rendering: 20000
 * splats filling a 16384 x 16 image need 20000 x 1024 entries > 2^24. */
START_TEST(test_list_limit)
{
    enum { W = 16384, H = 16, N = 20000 };
    LvcSplats s = scene_new(N, 0);
    for (uint32_t i = 0; i < N; i++)
        set_splat(&s, i, 0, 0, 1.0f + 1e-4f * (float)i, 10.0f, 2.0f, 1, 1, 1);
    LvcSplatCamera cam = front_camera(W, H, 0.01f);
    float *rgb = malloc((size_t)W * H * 3 * sizeof(float));
    ck_assert_ptr_nonnull(rgb);
    ck_assert_int_eq(lvc_splats_render(&s, &cam, 1, rgb), LVC_ERR_LIMIT);
    ck_assert_double_eq(sum_image(rgb, (size_t)W * H * 3), 0.0);
    /* a few such splats are fine */
    s.count = 100;
    ck_assert_int_eq(lvc_splats_render(&s, &cam, 2, rgb), 0);
    ck_assert(px(rgb, W, 0, 0)[0] > 0.9f && px(rgb, W, W - 1, H - 1)[0] > 0.9f);
    s.count = N;
    free(rgb);
    scene_free(&s);
}
END_TEST

/* Every allocation failure is reported, leaves a zeroed image and leaks
 * nothing (the sanitizer build checks the last part). */
START_TEST(test_alloc_failure)
{
    LvcSplats s = random_scene(500, 3);
    LvcSplatCamera cams[1];
    ck_assert_int_eq(lvc_splats_orbit_cameras(&s, 1, 40, 24, cams), 0);
    const size_t n = (size_t)40 * 24 * 3;
    float *ref = render(&s, &cams[0], 2);
    float *rgb = malloc(n * sizeof(float));
    ck_assert_ptr_nonnull(rgb);
    int failures = 0;
    for (long k = 0;; k++) {
        lvc_mem_fail_after(k);
        const int ret = lvc_splats_render(&s, &cams[0], 2, rgb);
        lvc_mem_fail_after(-1);
        if (ret == 0) {
            ck_assert_mem_eq(rgb, ref, n * sizeof(float));
            break;
        }
        ck_assert_int_eq(ret, LVC_ERR_NOMEM);
        ck_assert_double_eq(sum_image(rgb, n), 0.0);
        failures++;
        ck_assert_int_lt(k, 100);
    }
    ck_assert_int_gt(failures, 3);
    for (long k = 0;; k++) {
        LvcSplatCamera c[3];
        lvc_mem_fail_after(k);
        const int ret = lvc_splats_orbit_cameras(&s, 3, 40, 24, c);
        lvc_mem_fail_after(-1);
        if (ret == 0)
            break;
        ck_assert_int_eq(ret, LVC_ERR_NOMEM);
        ck_assert_int_lt(k, 10);
    }
    free(ref);
    free(rgb);
    scene_free(&s);
}
END_TEST

TCase *lvc_test_splat_render_tcase(void)
{
    TCase *tc = tcase_create("splat_render");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_single_splat_analytic);
    tcase_add_test(tc, test_culled);
    tcase_add_test(tc, test_depth_order);
    tcase_add_test(tc, test_sh_view_dependence);
    tcase_add_test(tc, test_anisotropic_rotation);
    tcase_add_test(tc, test_threads_identical);
    tcase_add_test(tc, test_orbit_cameras);
    tcase_add_test(tc, test_invalid_args);
    tcase_add_test(tc, test_list_limit);
    tcase_add_test(tc, test_alloc_failure);
    return tc;
}
