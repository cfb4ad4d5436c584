/*
 * CPU renderer for Gaussian splat scenes: the forward pass of 3D Gaussian
 * Splatting (Kerbl et al. 2023, diff-gaussian-rasterization forward.cu),
 * used to evaluate splat coding by rendering a coded scene and its original
 * from the same cameras.
 *
 * Pipeline, as in 3DGS:
 *   1. preprocess (parallel over splats): camera-space centre, near-plane
 *      cull at depth 0.2, EWA projection of the 3D covariance to a 2D one
 *      plus the 0.3 px^2 low-pass dilation, SH colour in the viewing
 *      direction, opacity = sigmoid(logit), screen footprint;
 *   2. a stable radix sort of the visible splats by depth (ties keep input
 *      order, so the result is deterministic);
 *   3. binning into 16x16 tiles, each tile's list in depth order;
 *   4. per tile (parallel over tiles): front-to-back alpha blending with
 *      alpha = min(0.99, opacity * exp(-d^T conic d / 2)), alpha < 1/255
 *      skipped, a pixel stopping when its transmittance would drop below
 *      1e-4, black background.
 * Each pixel is written by one job and sees its splats in the sorted order,
 * so the image does not depend on the number of threads.
 *
 * One deliberate difference from 3DGS: a splat contributes only inside its
 * 3-sigma ellipse (d^T conic d <= 9) and is binned by that ellipse's
 * bounding box (narrowed further where opacity * exp(-m / 2) < 1/255 makes
 * the alpha test reject it anyway). 3DGS binned by a square of 3 sigma of the largest
 * eigenvalue and then evaluated every pixel of every tile it touched, so
 * the tails beyond 3 sigma (alpha < 0.0111 * opacity) appeared or not
 * depending on where tile boundaries fell. Here the image does not depend
 * on the tile size, and a splat's footprint is symmetric.
 *
 * Memory: the per-splat records are O(count); the tile lists are built one
 * band of tile rows at a time, each band holding at most MAX_BAND_ENTRIES
 * entries. A single tile row needing more than that is LVC_ERR_LIMIT.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/splat.h"
#include "common/mem.h"
#include "common/thread.h"

#define TILE 16
#define MAX_DIM 16384
#define NEAR_PLANE 0.2          /* 3DGS in_frustum(): depth <= 0.2 is culled */
#define DILATION 0.3            /* 3DGS computeCov2D() low-pass filter, px^2 */
#define FRUSTUM_CLAMP 1.3       /* 3DGS computeCov2D() clamp of x/z, y/z */
#define MIN_ALPHA (1.0f / 255.0f)
#define MIN_TRANSMITTANCE 0.0001f
#define MAX_ALPHA 0.99f
#define MAX_POWER 4.5f          /* d^T conic d / 2 at 3 sigma */
/* Tile-list entries (uint32 each) built at once: 64 MiB. */
#define MAX_BAND_ENTRIES ((uint64_t)1 << 24)
#define PREPROCESS_CHUNK 2048

/* 3DGS sh_utils / forward.cu constants. */
static const double SH_C0 = 0.28209479177387814;
static const double SH_C1 = 0.4886025119029199;
static const double SH_C2[5] = {
    1.0925484305920792, -1.0925484305920792, 0.31539156525252005,
    -1.0925484305920792, 0.5462742152960396,
};
static const double SH_C3[7] = {
    -0.5900435899266435, 2.890611442640554, -0.4570457994644658,
    0.3731763325901154, -0.4570457994644658, 1.445305721320277,
    -0.5900435899266435,
};

/* A splat as the rasterizer sees it. */
typedef struct Projected {
    float mx, my;            /* centre, pixel coordinates (pixel i at i) */
    float ca, cb, cc;        /* conic: inverse 2D covariance [ca cb; cb cc] */
    float opacity;
    float reach;             /* d^T conic d beyond which it adds nothing (padded) */
    float rgb[3];
    int32_t x0, x1, y0, y1;  /* pixels covered by the 3-sigma ellipse, inclusive */
} Projected;

/* The camera resolved to an orthonormal frame (rows right, down, forward). */
typedef struct View {
    double pos[3];
    double rot[3][3];
    double focal;            /* pixels */
    double cx, cy;           /* principal point, pixel coordinates */
    double limx, limy;       /* 1.3 * tan of the half field of view */
    double near;             /* depths at or below it are culled */
    int width, height;
} View;

typedef struct RenderCtx {
    const LvcSplats *s;
    const View *v;
    Projected *proj;         /* per input splat (preprocess) */
    uint32_t *depth_key;     /* per input splat, set where visible: float bits */
    uint8_t *visible;        /* per input splat */

    const Projected *sorted; /* visible splats in depth order */
    const uint32_t *list;    /* band's tile lists: indices into sorted */
    const uint32_t *offset;  /* per tile of the band: start in list (+1 end) */
    int tiles_x, band_ty0;
    float *rgb;
} RenderCtx;

static double dot3(const double *a, const double *b)
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(const double *a, const double *b, double *out)
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static int normalize3(double *a)
{
    const double n = sqrt(dot3(a, a));
    if (!(n > 0.0) || !isfinite(n))
        return -1;
    a[0] /= n;
    a[1] /= n;
    a[2] /= n;
    return 0;
}

static int valid_size(int width, int height)
{
    return width >= 1 && width <= MAX_DIM && height >= 1 && height <= MAX_DIM;
}

/* Camera frame: x right = forward x up, y down = forward x right, z forward
 * (right-handed, image y pointing down). */
static int make_view(const LvcSplatCamera *cam, View *v)
{
    if (!valid_size(cam->width, cam->height))
        return LVC_ERR_INVALID_ARG;
    if (!(cam->fov_y > 0.0f) || !(cam->fov_y < (float)M_PI))
        return LVC_ERR_INVALID_ARG;
    if (!(cam->near_plane >= 0.0f) || !isfinite(cam->near_plane))
        return LVC_ERR_INVALID_ARG;
    v->near = cam->near_plane > 0.0f ? cam->near_plane : NEAR_PLANE;
    double f[3], up[3], r[3], d[3];
    for (int i = 0; i < 3; i++) {
        f[i] = cam->forward[i];
        up[i] = cam->up[i];
        v->pos[i] = cam->position[i];
        if (!isfinite(v->pos[i]))
            return LVC_ERR_INVALID_ARG;
    }
    if (normalize3(f) < 0 || normalize3(up) < 0)
        return LVC_ERR_INVALID_ARG;
    cross3(f, up, r);
    /* sin of the angle between forward and up */
    if (!(sqrt(dot3(r, r)) > 1e-6))
        return LVC_ERR_INVALID_ARG;
    normalize3(r);
    cross3(f, r, d);
    normalize3(d);
    memcpy(v->rot[0], r, sizeof(r));
    memcpy(v->rot[1], d, sizeof(d));
    memcpy(v->rot[2], f, sizeof(f));
    const double tan_y = tan(0.5 * cam->fov_y);
    v->width = cam->width;
    v->height = cam->height;
    v->focal = 0.5 * cam->height / tan_y;
    v->cx = 0.5 * (cam->width - 1);
    v->cy = 0.5 * (cam->height - 1);
    v->limx = FRUSTUM_CLAMP * (0.5 * cam->width / v->focal);
    v->limy = FRUSTUM_CLAMP * tan_y;
    return 0;
}

/* 3DGS computeColorFromSH before its clamp at 0: sh holds the K
 * coefficients of one channel. */
static double eval_sh(int degree, const float *sh, const double *dir)
{
    double res = SH_C0 * sh[0];
    if (degree > 0) {
        const double x = dir[0], y = dir[1], z = dir[2];
        res = res - SH_C1 * y * sh[1] + SH_C1 * z * sh[2] - SH_C1 * x * sh[3];
        if (degree > 1) {
            const double xx = x * x, yy = y * y, zz = z * z;
            const double xy = x * y, yz = y * z, xz = x * z;
            res = res + SH_C2[0] * xy * sh[4] + SH_C2[1] * yz * sh[5] +
                  SH_C2[2] * (2.0 * zz - xx - yy) * sh[6] + SH_C2[3] * xz * sh[7] +
                  SH_C2[4] * (xx - yy) * sh[8];
            if (degree > 2) {
                res = res + SH_C3[0] * y * (3.0 * xx - yy) * sh[9] +
                      SH_C3[1] * xy * z * sh[10] +
                      SH_C3[2] * y * (4.0 * zz - xx - yy) * sh[11] +
                      SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * sh[12] +
                      SH_C3[4] * x * (4.0 * zz - xx - yy) * sh[13] +
                      SH_C3[5] * z * (xx - yy) * sh[14] +
                      SH_C3[6] * x * (xx - 3.0 * yy) * sh[15];
            }
        }
    }
    return res + 0.5;
}

/* Project splat i; returns 1 and fills *p and *depth when it is visible. */
static int project_splat(const LvcSplats *s, const View *v, uint32_t i, Projected *p,
                         float *depth)
{
    const float *pos = s->position + (size_t)i * 3;
    double t[3], cam[3];
    for (int k = 0; k < 3; k++)
        t[k] = (double)pos[k] - v->pos[k];
    for (int k = 0; k < 3; k++)
        cam[k] = dot3(v->rot[k], t);
    const double tz = cam[2];
    if (!(tz > v->near) || !isfinite(tz))
        return 0;
    const double opacity = 1.0 / (1.0 + exp(-(double)s->opacity[i]));
    /* alpha <= opacity, so such a splat never passes the alpha test */
    if (!((float)opacity >= MIN_ALPHA))
        return 0;

    /* Sigma = R S S^T R^T from the normalised quaternion and exp(log scale). */
    const float *q = s->rotation + (size_t)i * 4;
    double qw = q[0], qx = q[1], qy = q[2], qz = q[3];
    const double qn = sqrt(qw * qw + qx * qx + qy * qy + qz * qz);
    if (!(qn > 0.0) || !isfinite(qn))
        return 0;
    qw /= qn, qx /= qn, qy /= qn, qz /= qn;
    const double R[3][3] = {
        { 1.0 - 2.0 * (qy * qy + qz * qz), 2.0 * (qx * qy - qw * qz), 2.0 * (qx * qz + qw * qy) },
        { 2.0 * (qx * qy + qw * qz), 1.0 - 2.0 * (qx * qx + qz * qz), 2.0 * (qy * qz - qw * qx) },
        { 2.0 * (qx * qz - qw * qy), 2.0 * (qy * qz + qw * qx), 1.0 - 2.0 * (qx * qx + qy * qy) },
    };
    double var[3];
    for (int k = 0; k < 3; k++) {
        const double sc = exp((double)s->scale[(size_t)i * 3 + k]);
        var[k] = sc * sc;
    }

    /* EWA: J (with x/z, y/z clamped as 3DGS) times the world-to-camera
     * rotation gives T (2x3); Sigma' = T Sigma T^T + 0.3 I. */
    const double fz = v->focal / tz;
    double txz = cam[0] / tz, tyz = cam[1] / tz;
    txz = txz < -v->limx ? -v->limx : txz > v->limx ? v->limx : txz;
    tyz = tyz < -v->limy ? -v->limy : tyz > v->limy ? v->limy : tyz;
    const double J[2][3] = { { fz, 0.0, -fz * txz }, { 0.0, fz, -fz * tyz } };
    double T[2][3], TR[2][3];
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            T[a][b] = J[a][0] * v->rot[0][b] + J[a][1] * v->rot[1][b] + J[a][2] * v->rot[2][b];
    /* TR = T R, so T Sigma T^T = TR diag(var) TR^T */
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            TR[a][b] = T[a][0] * R[0][b] + T[a][1] * R[1][b] + T[a][2] * R[2][b];
    double c00 = DILATION, c01 = 0.0, c11 = DILATION;
    for (int k = 0; k < 3; k++) {
        c00 += TR[0][k] * TR[0][k] * var[k];
        c01 += TR[0][k] * TR[1][k] * var[k];
        c11 += TR[1][k] * TR[1][k] * var[k];
    }
    const double det = c00 * c11 - c01 * c01;
    if (!(det > 0.0) || !isfinite(det))
        return 0;

    /* Footprint: the 3-sigma ellipse, narrowed to where alpha can reach
     * 1/255 (opacity * exp(-m / 2) >= 1/255 needs m <= 2 ln(255 opacity)),
     * padded so float rounding in the pixel loop never falls outside it;
     * the pixel loop applies the exact tests. */
    double reach = 2.0 * log(255.0 * opacity);
    reach = reach < 2.0 * MAX_POWER ? reach : 2.0 * MAX_POWER;
    reach = reach * 1.001 + 0.001;
    const double mx = v->focal * cam[0] / tz + v->cx;
    const double my = v->focal * cam[1] / tz + v->cy;
    const double hx = sqrt(reach * c00), hy = sqrt(reach * c11);
    const double fx0 = ceil(mx - hx), fx1 = floor(mx + hx);
    const double fy0 = ceil(my - hy), fy1 = floor(my + hy);
    if (!(fx1 >= 0.0) || !(fx0 <= v->width - 1) || !(fy1 >= 0.0) || !(fy0 <= v->height - 1))
        return 0;
    if (!(fx0 <= fx1) || !(fy0 <= fy1))
        return 0;

    double dir[3];
    memcpy(dir, t, sizeof(dir));
    if (normalize3(dir) < 0)
        return 0;
    const int K = LVC_SPLAT_SH_COEFFS(s->sh_degree);
    for (int c = 0; c < 3; c++) {
        const double col = eval_sh(s->sh_degree, s->sh + ((size_t)i * 3 + c) * K, dir);
        if (!isfinite(col) || !isfinite((float)col))
            return 0;
        p->rgb[c] = col > 0.0 ? (float)col : 0.0f;
    }
    p->mx = (float)mx;
    p->my = (float)my;
    p->ca = (float)(c11 / det);
    p->cb = (float)(-c01 / det);
    p->cc = (float)(c00 / det);
    if (!isfinite(p->ca) || !isfinite(p->cb) || !isfinite(p->cc) || !isfinite(p->mx) ||
        !isfinite(p->my))
        return 0;
    p->opacity = (float)opacity;
    p->reach = (float)reach;
    p->x0 = fx0 < 0.0 ? 0 : (int32_t)fx0;
    p->x1 = fx1 > v->width - 1 ? v->width - 1 : (int32_t)fx1;
    p->y0 = fy0 < 0.0 ? 0 : (int32_t)fy0;
    p->y1 = fy1 > v->height - 1 ? v->height - 1 : (int32_t)fy1;
    *depth = (float)tz;
    return 1;
}

static void preprocess_job(void *arg, int job, int thread)
{
    RenderCtx *ctx = arg;
    const uint32_t begin = (uint32_t)job * PREPROCESS_CHUNK;
    uint32_t end = begin + PREPROCESS_CHUNK;
    if (end > ctx->s->count)
        end = ctx->s->count;
    for (uint32_t i = begin; i < end; i++) {
        float depth = 0.0f;
        ctx->visible[i] = (uint8_t)project_splat(ctx->s, ctx->v, i, &ctx->proj[i], &depth);
        if (ctx->visible[i]) {
            /* depth > 0.2: the float's bits order like the value */
            uint32_t bits;
            memcpy(&bits, &depth, sizeof(bits));
            ctx->depth_key[i] = bits;
        }
    }
}

/* Stable LSD radix sort of idx[0..n) by key[idx[]] (3 passes of 11 bits). */
static void sort_by_depth(uint32_t *idx, uint32_t *tmp, uint32_t n, const uint32_t *key)
{
    uint32_t hist[2048];
    for (int shift = 0; shift < 32; shift += 11) {
        memset(hist, 0, sizeof(hist));
        for (uint32_t j = 0; j < n; j++)
            hist[(key[idx[j]] >> shift) & 2047]++;
        uint32_t sum = 0;
        for (int b = 0; b < 2048; b++) {
            const uint32_t c = hist[b];
            hist[b] = sum;
            sum += c;
        }
        for (uint32_t j = 0; j < n; j++)
            tmp[hist[(key[idx[j]] >> shift) & 2047]++] = idx[j];
        memcpy(idx, tmp, (size_t)n * sizeof(*idx));
    }
}

static void render_tile_job(void *arg, int job, int thread)
{
    const RenderCtx *ctx = arg;
    const int tx = job % ctx->tiles_x;
    const int ty = ctx->band_ty0 + job / ctx->tiles_x;
    const int W = ctx->v->width, H = ctx->v->height;
    const int px0 = tx * TILE, py0 = ty * TILE;
    const int px1 = px0 + TILE < W ? px0 + TILE : W; /* exclusive */
    const int py1 = py0 + TILE < H ? py0 + TILE : H;
    float T[TILE * TILE], C[TILE * TILE * 3];
    uint8_t done[TILE * TILE];
    int remaining = (px1 - px0) * (py1 - py0);
    for (int k = 0; k < TILE * TILE; k++)
        T[k] = 1.0f;
    memset(C, 0, sizeof(C));
    memset(done, 0, sizeof(done));

    const uint32_t begin = ctx->offset[job], end = ctx->offset[job + 1];
    for (uint32_t e = begin; e < end && remaining > 0; e++) {
        const Projected *p = &ctx->sorted[ctx->list[e]];
        const int x0 = p->x0 > px0 ? p->x0 : px0, x1 = p->x1 < px1 - 1 ? p->x1 : px1 - 1;
        const int y0 = p->y0 > py0 ? p->y0 : py0, y1 = p->y1 < py1 - 1 ? p->y1 : py1 - 1;
        for (int y = y0; y <= y1; y++) {
            const float dy = p->my - (float)y;
            /* The row's span of the ellipse ca dx^2 + 2 cb dx dy + cc dy^2 <=
             * reach, one pixel wider on each side. */
            const float b = p->cb * dy;
            const float disc = b * b - p->ca * (p->cc * dy * dy - p->reach);
            if (!(disc >= 0.0f))
                continue;
            const float sq = sqrtf(disc);
            const float xl = p->mx - (sq - b) / p->ca - 1.0f;
            const float xh = p->mx + (sq + b) / p->ca + 1.0f;
            if (!(xl <= (float)x1) || !(xh >= (float)x0))
                continue;
            const int xs = xl <= (float)x0 ? x0 : (int)xl;
            const int xe = xh >= (float)x1 ? x1 : (int)xh;
            for (int x = xs; x <= xe; x++) {
                const int k = (y - py0) * TILE + (x - px0);
                if (done[k])
                    continue;
                const float dx = p->mx - (float)x;
                const float power = -0.5f * (p->ca * dx * dx + p->cc * dy * dy) - p->cb * dx * dy;
                /* also skips NaN (offsets of splats ~1e19 px away) */
                if (!(power <= 0.0f && power >= -MAX_POWER))
                    continue;
                float alpha = p->opacity * expf(power);
                if (alpha > MAX_ALPHA)
                    alpha = MAX_ALPHA;
                if (alpha < MIN_ALPHA)
                    continue;
                const float t_next = T[k] * (1.0f - alpha);
                if (t_next < MIN_TRANSMITTANCE) {
                    done[k] = 1;
                    remaining--;
                    continue;
                }
                const float w = alpha * T[k];
                C[k * 3 + 0] += p->rgb[0] * w;
                C[k * 3 + 1] += p->rgb[1] * w;
                C[k * 3 + 2] += p->rgb[2] * w;
                T[k] = t_next;
            }
        }
    }

    for (int y = py0; y < py1; y++) {
        float *row = ctx->rgb + ((size_t)y * W + px0) * 3;
        const float *src = C + (size_t)(y - py0) * TILE * 3;
        for (int k = 0; k < (px1 - px0) * 3; k++) {
            const float c = src[k];
            row[k] = c < 0.0f ? 0.0f : c > 1.0f ? 1.0f : c;
        }
    }
}

static int check_scene(const LvcSplats *s)
{
    if (s->sh_degree < 0 || s->sh_degree > LVC_SPLAT_MAX_SH_DEGREE ||
        s->count > LVC_SPLAT_MAX_COUNT)
        return LVC_ERR_INVALID_ARG;
    if (s->count && (!s->position || !s->scale || !s->rotation || !s->opacity || !s->sh))
        return LVC_ERR_INVALID_ARG;
    return 0;
}

int lvc_splats_render(const LvcSplats *s, const LvcSplatCamera *cam, int threads, float *rgb)
{
    if (!cam || !rgb)
        return LVC_ERR_INVALID_ARG;
    if (!valid_size(cam->width, cam->height))
        return LVC_ERR_INVALID_ARG;
    const size_t npix = (size_t)cam->width * (size_t)cam->height;
    memset(rgb, 0, npix * 3 * sizeof(*rgb));
    View v;
    int ret;
    if (!s || threads < 0 || (ret = check_scene(s)) < 0)
        return LVC_ERR_INVALID_ARG;
    if ((ret = make_view(cam, &v)) < 0)
        return ret;
    if (s->count == 0)
        return 0;

    const uint32_t n = s->count;
    const int tiles_x = (v.width + TILE - 1) / TILE, tiles_y = (v.height + TILE - 1) / TILE;
    const size_t ntiles = (size_t)tiles_x * tiles_y;
    RenderCtx ctx = { .s = s, .v = &v, .rgb = rgb, .tiles_x = tiles_x };
    LvcPool *pool = NULL;
    Projected *sorted = NULL;
    uint32_t *idx = NULL, *tmp = NULL, *count = NULL, *offset = NULL, *list = NULL;
    uint64_t *row_total = NULL;

    ctx.proj = lvc_malloc_array(n, sizeof(*ctx.proj));
    ctx.depth_key = lvc_malloc_array(n, sizeof(*ctx.depth_key));
    ctx.visible = lvc_malloc_array(n, sizeof(*ctx.visible));
    count = lvc_calloc(ntiles, sizeof(*count));
    row_total = lvc_calloc((size_t)tiles_y, sizeof(*row_total));
    ret = LVC_ERR_NOMEM;
    if (!ctx.proj || !ctx.depth_key || !ctx.visible || !count || !row_total)
        goto end;
    if (threads == 0)
        threads = lvc_cpu_count();
    if (threads > 1 && lvc_pool_create(&pool, threads) < 0)
        goto end;

    const int nchunks = (int)((n + PREPROCESS_CHUNK - 1) / PREPROCESS_CHUNK);
    lvc_pool_run(pool, nchunks, preprocess_job, &ctx);

    uint32_t nvis = 0;
    for (uint32_t i = 0; i < n; i++)
        nvis += ctx.visible[i];
    if (nvis == 0) {
        ret = 0;
        goto end;
    }
    idx = lvc_malloc_array(nvis, sizeof(*idx));
    tmp = lvc_malloc_array(nvis, sizeof(*tmp));
    sorted = lvc_malloc_array(nvis, sizeof(*sorted));
    if (!idx || !tmp || !sorted)
        goto end;
    for (uint32_t i = 0, j = 0; i < n; i++)
        if (ctx.visible[i])
            idx[j++] = i;
    sort_by_depth(idx, tmp, nvis, ctx.depth_key);
    for (uint32_t j = 0; j < nvis; j++)
        sorted[j] = ctx.proj[idx[j]];
    lvc_freep(&ctx.proj);
    lvc_freep(&tmp);
    ctx.sorted = sorted;

    /* Entries per tile and per tile row (at most 2^26 splats per tile). */
    for (uint32_t j = 0; j < nvis; j++) {
        const Projected *p = &sorted[j];
        const int tx0 = p->x0 / TILE, tx1 = p->x1 / TILE;
        for (int ty = p->y0 / TILE; ty <= p->y1 / TILE; ty++) {
            for (int tx = tx0; tx <= tx1; tx++)
                count[(size_t)ty * tiles_x + tx]++;
            row_total[ty] += (uint64_t)(tx1 - tx0 + 1);
        }
    }
    uint64_t max_band = 0;
    for (int ty = 0; ty < tiles_y; ty++)
        if (row_total[ty] > max_band)
            max_band = row_total[ty];
    if (max_band > MAX_BAND_ENTRIES) {
        ret = LVC_ERR_LIMIT;
        goto end;
    }
    /* Size the list buffer for the largest band the greedy split makes. */
    for (int ty = 0; ty < tiles_y;) {
        uint64_t band = 0;
        for (; ty < tiles_y && band + row_total[ty] <= MAX_BAND_ENTRIES; ty++)
            band += row_total[ty];
        if (band > max_band)
            max_band = band;
    }
    list = lvc_malloc_array(max_band ? (size_t)max_band : 1, sizeof(*list));
    offset = lvc_malloc_array(ntiles + 1, sizeof(*offset));
    if (!list || !offset)
        goto end;
    lvc_freep(&idx);
    uint32_t *cursor = count; /* reused: count -> write cursor per tile */

    for (int ty0 = 0; ty0 < tiles_y;) {
        int ty1 = ty0;
        uint64_t band = 0;
        while (ty1 < tiles_y && band + row_total[ty1] <= MAX_BAND_ENTRIES)
            band += row_total[ty1++];
        /* offsets of the band's tiles, relative to the band */
        const size_t t0 = (size_t)ty0 * tiles_x, t1 = (size_t)ty1 * tiles_x;
        uint32_t sum = 0;
        for (size_t t = t0; t < t1; t++) {
            const uint32_t c = count[t];
            offset[t - t0] = sum;
            cursor[t] = sum;
            sum += c;
        }
        offset[t1 - t0] = sum;
        for (uint32_t j = 0; j < nvis; j++) {
            const Projected *p = &sorted[j];
            int y0 = p->y0 / TILE, y1 = p->y1 / TILE;
            if (y1 < ty0 || y0 >= ty1)
                continue;
            y0 = y0 < ty0 ? ty0 : y0;
            y1 = y1 >= ty1 ? ty1 - 1 : y1;
            for (int ty = y0; ty <= y1; ty++)
                for (int tx = p->x0 / TILE; tx <= p->x1 / TILE; tx++)
                    list[cursor[(size_t)ty * tiles_x + tx]++] = j;
        }
        ctx.list = list;
        ctx.offset = offset;
        ctx.band_ty0 = ty0;
        lvc_pool_run(pool, (int)(t1 - t0), render_tile_job, &ctx);
        ty0 = ty1;
    }
    ret = 0;

end:
    lvc_pool_destroy(&pool);
    lvc_free(ctx.proj);
    lvc_free(ctx.depth_key);
    lvc_free(ctx.visible);
    lvc_free(sorted);
    lvc_free(idx);
    lvc_free(tmp);
    lvc_free(count);
    lvc_free(row_total);
    lvc_free(offset);
    lvc_free(list);
    if (ret < 0)
        memset(rgb, 0, npix * 3 * sizeof(*rgb));
    return ret;
}

/* ------------------------------------------------------------ cameras */

/* Cameras sit at ORBIT_DISTANCE x radius from the centre: the sphere holding
 * 90% of the splats then subtends asin(1 / 2.5) = 23.6 degrees, inside the
 * 25-degree half field of view, so that sphere fills most of the frame.
 * Their near plane is 3DGS's 0.2 scene units, or a tenth of their distance
 * when that is less, so that a small scene is not clipped by it. */
#define ORBIT_DISTANCE 2.5
#define ORBIT_FOV_DEG 50.0
#define ORBIT_PERCENTILE 0.9
/* Camera heights span +-0.9 of the sphere (never at the poles, where the up
 * vector would be parallel to the view direction). */
#define ORBIT_MAX_HEIGHT 0.9

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int lvc_splats_orbit_cameras(const LvcSplats *s, int n, int width, int height,
                             LvcSplatCamera *cams)
{
    if (!cams || n <= 0)
        return LVC_ERR_INVALID_ARG;
    memset(cams, 0, (size_t)n * sizeof(*cams));
    if (!s || !valid_size(width, height) || check_scene(s) < 0 || s->count == 0)
        return LVC_ERR_INVALID_ARG;

    /* Splats with a non-finite position are ignored. */
    uint32_t m = 0;
    double *v = lvc_malloc_array(s->count, sizeof(*v));
    if (!v)
        return LVC_ERR_NOMEM;
    for (uint32_t i = 0; i < s->count; i++) {
        const float *p = s->position + (size_t)i * 3;
        m += isfinite(p[0]) && isfinite(p[1]) && isfinite(p[2]);
    }
    if (m == 0) {
        lvc_free(v);
        return LVC_ERR_INVALID_ARG;
    }

    /* centre: per-axis median (mean of the middle two for an even count) */
    double centre[3];
    for (int a = 0; a < 3; a++) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < s->count; i++) {
            const float *p = s->position + (size_t)i * 3;
            if (isfinite(p[0]) && isfinite(p[1]) && isfinite(p[2]))
                v[j++] = p[a];
        }
        qsort(v, m, sizeof(*v), cmp_double);
        centre[a] = m & 1 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
    }
    /* radius: 90th percentile (nearest rank) of the distances to it */
    uint32_t j = 0;
    for (uint32_t i = 0; i < s->count; i++) {
        const float *p = s->position + (size_t)i * 3;
        if (!(isfinite(p[0]) && isfinite(p[1]) && isfinite(p[2])))
            continue;
        const double d[3] = { p[0] - centre[0], p[1] - centre[1], p[2] - centre[2] };
        v[j++] = sqrt(dot3(d, d));
    }
    qsort(v, m, sizeof(*v), cmp_double);
    double radius = v[(uint32_t)ceil(ORBIT_PERCENTILE * m) - 1];
    lvc_free(v);
    /* One splat, or all at one place: fall back to a unit radius. */
    if (!(radius > 1e-6 * (1.0 + sqrt(dot3(centre, centre)))) || !isfinite(radius))
        radius = 1.0;

    /* Fibonacci sphere: heights evenly spaced, azimuths a golden angle
     * apart. Up is -y, the usual up of 3DGS (COLMAP) scenes; never parallel
     * to forward since the heights stay within +-0.9. */
    const double golden = M_PI * (3.0 - sqrt(5.0));
    for (int k = 0; k < n; k++) {
        const double h = ORBIT_MAX_HEIGHT * (1.0 - 2.0 * (k + 0.5) / n);
        const double r = sqrt(1.0 - h * h);
        const double phi = golden * k;
        const double dir[3] = { r * cos(phi), -h, r * sin(phi) };
        LvcSplatCamera *c = &cams[k];
        for (int a = 0; a < 3; a++) {
            c->position[a] = (float)(centre[a] + ORBIT_DISTANCE * radius * dir[a]);
            c->forward[a] = (float)-dir[a];
        }
        c->up[0] = 0.0f;
        c->up[1] = -1.0f;
        c->up[2] = 0.0f;
        c->fov_y = (float)(ORBIT_FOV_DEG * M_PI / 180.0);
        c->near_plane = (float)fmin(NEAR_PLANE, 0.1 * ORBIT_DISTANCE * radius);
        c->width = width;
        c->height = height;
    }
    return 0;
}
