/*
 * nn/cuda: small element-wise and reindexing kernels, and the integer
 * convolution. Launched from cuda_backend.c through the extern "C"
 * wrappers at the end (plain C, no CUDA types but cudaStream_t as void *).
 *
 * Float math: no fast-math (nvcc's default keeps IEEE division and sqrt;
 * -fmad=false is passed in meson so a*b+c is not contracted, as on the
 * host). The integer kernel accumulates in int64: exact, bit-identical to
 * nn/ref.
 */
#include <cuda_runtime.h>
#include <stdint.h>

#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_LEAKY 2
#define ACT_GELU 3
#define ACT_SIGMOID 4
#define ACT_CLIP 5

__device__ static inline float act_f32(float v, int act, float p)
{
    switch (act) {
    case ACT_RELU:    return v > 0.0f ? v : 0.0f;
    case ACT_LEAKY:   return v >= 0.0f ? v : v * p;
    case ACT_GELU:    return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    default:          return v;
    }
}

__device__ static inline int16_t sat16(long long v)
{
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

__device__ static inline long long round_shift(long long v, int s)
{
    return s > 0 ? (v + (1LL << (s - 1))) >> s : v;
}

#define LOOP(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); \
                        i += (size_t)gridDim.x * blockDim.x)

static unsigned grid_of(size_t n)
{
    size_t g = (n + 255) / 256;
    return (unsigned)(g > 65535 ? 65535 : g ? g : 1);
}

__global__ void k_bias_act(float *y, const float *b, int C, size_t hw, int act, float p)
{
    LOOP(i, (size_t)C * hw) {
        float v = y[i];
        if (b)
            v += b[i / hw];
        y[i] = act_f32(v, act, p);
    }
}

__global__ void k_fill_bias(float *y, const float *b, size_t rows, int cols)
{
    LOOP(i, rows * cols) y[i] = b[i % cols];
}

__global__ void k_act(const float *x, float *y, size_t n, int act, float p)
{
    LOOP(i, n) y[i] = act_f32(x[i], act, p);
}

__global__ void k_add(const float *a, const float *b, float *y, size_t n)
{
    LOOP(i, n) y[i] = a[i] + b[i];
}

__global__ void k_mul(const float *a, const float *b, float *y, size_t n)
{
    LOOP(i, n) y[i] = a[i] * b[i];
}

__global__ void k_scale(const float *x, const float *s, const float *b, float *y, int C,
                        size_t hw)
{
    LOOP(i, (size_t)C * hw) {
        size_t c = i / hw;
        y[i] = x[i] * s[c] + (b ? b[c] : 0.0f);
    }
}

__global__ void k_square(const float *x, float *y, size_t n, int absval)
{
    LOOP(i, n) y[i] = absval ? fabsf(x[i]) : x[i] * x[i];
}

__global__ void k_gdn_post(const float *x, const float *nrm, const float *beta, float *y,
                           int C, size_t hw, int kind)
{
    /* nrm is column-major (hw x C) from cuBLAS: nrm[c * hw + p]. */
    LOOP(i, (size_t)C * hw) {
        float n = nrm[i] + beta[i / hw];
        float v = x[i];
        switch (kind) {
        case 0: y[i] = v / sqrtf(n); break;
        case 1: y[i] = v * sqrtf(n); break;
        case 2: y[i] = v / n; break;
        default: y[i] = v * n; break;
        }
    }
}

/* pixel_shuffle / unshuffle on elements of es bytes (2 or 4). */
template <typename T>
__global__ void k_shuffle(const T *x, T *y, int C, int H, int W, int r, int inverse)
{
    /* Index over the large tensor (C, H*r, W*r). */
    size_t n = (size_t)C * H * r * W * r;
    LOOP(i, n) {
        size_t ow = (size_t)W * r, oh = (size_t)H * r;
        int bx = (int)(i % ow), by = (int)((i / ow) % oh), c = (int)(i / (ow * oh));
        int yy = by / r, ii = by % r, xx = bx / r, jj = bx % r;
        size_t si = (((size_t)c * r * r + (size_t)ii * r + jj) * H + yy) * W + xx;
        if (inverse)
            y[si] = x[i];
        else
            y[i] = x[si];
    }
}

__global__ void k_upsample(const float *x, float *y, int C, int H, int W, int r, int bilinear)
{
    const int OH = H * r, OW = W * r;
    LOOP(i, (size_t)C * OH * OW) {
        int ox = (int)(i % OW), oy = (int)((i / OW) % OH), c = (int)(i / ((size_t)OW * OH));
        const float *a = x + (size_t)c * H * W;
        if (!bilinear) {
            y[i] = a[(size_t)(oy / r) * W + ox / r];
        } else {
            float sc = 1.0f / (float)r;
            float sy = ((float)oy + 0.5f) * sc - 0.5f, sx = ((float)ox + 0.5f) * sc - 0.5f;
            sy = sy < 0.0f ? 0.0f : sy;
            sx = sx < 0.0f ? 0.0f : sx;
            int y0 = min((int)sy, H - 1), x0 = min((int)sx, W - 1);
            int y1 = y0 < H - 1 ? y0 + 1 : y0, x1 = x0 < W - 1 ? x0 + 1 : x0;
            float ly1 = sy - (float)y0, ly0 = 1.0f - ly1;
            float lx1 = sx - (float)x0, lx0 = 1.0f - lx1;
            y[i] = __fadd_rn(__fmul_rn(ly0, __fadd_rn(__fmul_rn(lx0, a[(size_t)y0 * W + x0]),
                                                      __fmul_rn(lx1, a[(size_t)y0 * W + x1]))),
                             __fmul_rn(ly1, __fadd_rn(__fmul_rn(lx0, a[(size_t)y1 * W + x0]),
                                                      __fmul_rn(lx1, a[(size_t)y1 * W + x1]))));
        }
    }
}

/* Zero-padded copy: out (C, H+pt+pb, W+pl+pr). */
__global__ void k_pad(const float *x, float *y, int C, int H, int W, int pt, int pl, int OH,
                      int OW)
{
    LOOP(i, (size_t)C * OH * OW) {
        int ox = (int)(i % OW), oy = (int)((i / OW) % OH), c = (int)(i / ((size_t)OW * OH));
        int iy = oy - pt, ix = ox - pl;
        y[i] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? x[((size_t)c * H + iy) * W + ix]
                                                        : 0.0f;
    }
}

struct QConvArgs {
    int cin, cout, groups, kh, kw, sh, sw, pt, pl, dh, dw;
    int H, W, OH, OW, s, act, act_param;
};

__global__ void k_qconv(const int16_t *x, const int16_t *w, const int32_t *b, int16_t *y,
                        QConvArgs a)
{
    const int cpg = a.cin / a.groups, opg = a.cout / a.groups;
    LOOP(i, (size_t)a.cout * a.OH * a.OW) {
        int ox = (int)(i % a.OW), oy = (int)((i / a.OW) % a.OH);
        int co = (int)(i / ((size_t)a.OW * a.OH)), g = co / opg;
        long long acc = b[co];
        for (int ci = 0; ci < cpg; ci++) {
            const int16_t *xc = x + (size_t)(g * cpg + ci) * a.H * a.W;
            const int16_t *wk = w + ((size_t)co * cpg + ci) * a.kh * a.kw;
            for (int ky = 0; ky < a.kh; ky++) {
                int iy = oy * a.sh - a.pt + ky * a.dh;
                if (iy < 0 || iy >= a.H)
                    continue;
                for (int kx = 0; kx < a.kw; kx++) {
                    int ix = ox * a.sw - a.pl + kx * a.dw;
                    if (ix < 0 || ix >= a.W)
                        continue;
                    acc += (int)xc[(size_t)iy * a.W + ix] * (int)wk[ky * a.kw + kx];
                }
            }
        }
        int16_t v = sat16(round_shift(acc, a.s));
        switch (a.act) {
        case ACT_RELU:  v = v < 0 ? 0 : v; break;
        case ACT_LEAKY: v = v < 0 ? (int16_t)(v >> a.act_param) : v; break;
        case ACT_CLIP:  v = v < 0 ? 0 : v > a.act_param ? (int16_t)a.act_param : v; break;
        default: break;
        }
        y[i] = v;
    }
}

__global__ void k_qadd(const int16_t *a, int fa, const int16_t *b, int fb, int16_t *y, int fy,
                       size_t n, int has_b)
{
    int F = fa > fb ? fa : fb;
    if (fy > F)
        F = fy;
    LOOP(i, n) {
        long long t = (long long)a[i] * (1LL << (F - fa));
        if (has_b)
            t += (long long)b[i] * (1LL << (F - fb));
        y[i] = sat16(round_shift(t, F - fy));
    }
}

__global__ void k_quantize(const float *x, int16_t *y, size_t n, int f)
{
    double sc = ldexp(1.0, f);
    LOOP(i, n) {
        double v = floor((double)x[i] * sc + 0.5);
        y[i] = v >= 32767.0 ? 32767 : v <= -32768.0 ? -32768 : v == v ? (int16_t)v : 0;
    }
}

__global__ void k_dequantize(const int16_t *x, float *y, size_t n, int f)
{
    float sc = ldexpf(1.0f, -f);
    LOOP(i, n) y[i] = (float)x[i] * sc;
}

/* ------------------------------------------------------------ wrappers */

extern "C" {

int lvc_cuk_bias_act(void *stream, float *y, const float *b, int C, size_t hw, int act,
                     float p)
{
    k_bias_act<<<grid_of((size_t)C * hw), 256, 0, (cudaStream_t)stream>>>(y, b, C, hw, act, p);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_fill_bias(void *stream, float *y, const float *b, size_t rows, int cols)
{
    k_fill_bias<<<grid_of(rows * cols), 256, 0, (cudaStream_t)stream>>>(y, b, rows, cols);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_act(void *stream, const float *x, float *y, size_t n, int act, float p)
{
    k_act<<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(x, y, n, act, p);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_binary(void *stream, const float *a, const float *b, float *y, size_t n, int mul)
{
    if (mul)
        k_mul<<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(a, b, y, n);
    else
        k_add<<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(a, b, y, n);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_scale(void *stream, const float *x, const float *s, const float *b, float *y,
                  int C, size_t hw)
{
    k_scale<<<grid_of((size_t)C * hw), 256, 0, (cudaStream_t)stream>>>(x, s, b, y, C, hw);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_square(void *stream, const float *x, float *y, size_t n, int absval)
{
    k_square<<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(x, y, n, absval);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_gdn_post(void *stream, const float *x, const float *nrm, const float *beta,
                     float *y, int C, size_t hw, int kind)
{
    k_gdn_post<<<grid_of((size_t)C * hw), 256, 0, (cudaStream_t)stream>>>(x, nrm, beta, y, C,
                                                                          hw, kind);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_shuffle(void *stream, const void *x, void *y, int es, int C, int H, int W, int r,
                    int inverse)
{
    size_t n = (size_t)C * H * r * W * r;
    if (es == 2)
        k_shuffle<int16_t><<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(
            (const int16_t *)x, (int16_t *)y, C, H, W, r, inverse);
    else
        k_shuffle<float><<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(
            (const float *)x, (float *)y, C, H, W, r, inverse);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_upsample(void *stream, const float *x, float *y, int C, int H, int W, int r,
                     int bilinear)
{
    k_upsample<<<grid_of((size_t)C * H * r * W * r), 256, 0, (cudaStream_t)stream>>>(
        x, y, C, H, W, r, bilinear);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_pad(void *stream, const float *x, float *y, int C, int H, int W, int pt, int pl,
                int OH, int OW)
{
    k_pad<<<grid_of((size_t)C * OH * OW), 256, 0, (cudaStream_t)stream>>>(x, y, C, H, W, pt,
                                                                          pl, OH, OW);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_qconv(void *stream, const int16_t *x, const int16_t *w, const int32_t *b,
                  int16_t *y, const int *args)
{
    QConvArgs a;
    a.cin = args[0]; a.cout = args[1]; a.groups = args[2]; a.kh = args[3]; a.kw = args[4];
    a.sh = args[5]; a.sw = args[6]; a.pt = args[7]; a.pl = args[8]; a.dh = args[9];
    a.dw = args[10]; a.H = args[11]; a.W = args[12]; a.OH = args[13]; a.OW = args[14];
    a.s = args[15]; a.act = args[16]; a.act_param = args[17];
    k_qconv<<<grid_of((size_t)a.cout * a.OH * a.OW), 256, 0, (cudaStream_t)stream>>>(x, w, b,
                                                                                    y, a);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_qadd(void *stream, const int16_t *a, int fa, const int16_t *b, int fb,
                 int16_t *y, int fy, size_t n)
{
    k_qadd<<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(a, fa, b, fb, y, fy, n, b != 0);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_quantize(void *stream, const float *x, int16_t *y, size_t n, int f)
{
    k_quantize<<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(x, y, n, f);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

int lvc_cuk_dequantize(void *stream, const int16_t *x, float *y, size_t n, int f)
{
    k_dequantize<<<grid_of(n), 256, 0, (cudaStream_t)stream>>>(x, y, n, f);
    return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

} /* extern "C" */
