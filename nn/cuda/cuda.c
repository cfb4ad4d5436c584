/*
 * nn/cuda: cuDNN / cuBLAS backend, built into the plugin liblvc_cuda.so
 * (see nn/cuda/plugin.h; liblvc loads it with nn/cuda/loader.c).
 *
 * Tensors live in device memory (cudaMalloc); every op is enqueued on the
 * context's stream and lvc_nn_tensor_read / lvc_nn_sync wait for it.
 * conv2d is cudnnConvolutionForward with IMPLICIT_PRECOMP_GEMM (all forward
 * algorithms are deterministic; IMPLICIT_GEMM when PRECOMP declines),
 * transposed conv2d is cudnnConvolutionBackwardData with ALGO_1
 * (deterministic; ALGO_0, which uses atomics, only as a fallback). Math type CUDNN_FMA_MATH and CUBLAS_DEFAULT_MATH: no TF32, so
 * the results stay within the float bound of tests/nn. Asymmetric padding
 * (not expressible in the legacy cuDNN descriptor) pads into scratch first.
 * Linear layers and the matrix part of GDN are cublasSgemm; everything
 * else, and the integer convolution (int64 accumulation, bit-exact), are
 * the kernels of kernels.cu.
 *
 * Device scratch (cuDNN workspace, padded inputs, GDN norms) grows when a
 * larger size is first needed and is reused afterwards.
 *
 * Without a device (cudaGetDeviceCount fails or returns 0) the backend is
 * unavailable: the plugin's available() says why and init returns
 * LVC_ERR_BACKEND.
 *
 * The plugin links no part of liblvc (a process may hold the library
 * statically): host allocations go through the allocator the library
 * passes in, everything else used here is inline in nn/nn.h.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "nn/cuda/plugin.h"
#include "nn/ops.h"

/* kernels.cu */
int lvc_cuk_bias_act(void *stream, float *y, const float *b, int C, size_t hw, int act,
                     float p);
int lvc_cuk_fill_bias(void *stream, float *y, const float *b, size_t rows, int cols);
int lvc_cuk_act(void *stream, const float *x, float *y, size_t n, int act, float p);
int lvc_cuk_binary(void *stream, const float *a, const float *b, float *y, size_t n, int mul);
int lvc_cuk_scale(void *stream, const float *x, const float *s, const float *b, float *y,
                  int C, size_t hw);
int lvc_cuk_square(void *stream, const float *x, float *y, size_t n, int absval);
int lvc_cuk_gdn_post(void *stream, const float *x, const float *nrm, const float *beta,
                     float *y, int C, size_t hw, int kind);
int lvc_cuk_shuffle(void *stream, const void *x, void *y, int es, int C, int H, int W, int r,
                    int inverse);
int lvc_cuk_upsample(void *stream, const float *x, float *y, int C, int H, int W, int r,
                     int bilinear);
int lvc_cuk_pad(void *stream, const float *x, float *y, int C, int H, int W, int pt, int pl,
                int OH, int OW);
int lvc_cuk_qconv(void *stream, const int16_t *x, const int16_t *w, const int32_t *b,
                  int16_t *y, const int *args);
int lvc_cuk_qadd(void *stream, const int16_t *a, int fa, const int16_t *b, int fb,
                 int16_t *y, int fy, size_t n);
int lvc_cuk_quantize(void *stream, const float *x, int16_t *y, size_t n, int f);
int lvc_cuk_dequantize(void *stream, const int16_t *x, float *y, size_t n, int f);

typedef struct CudaCtx {
    cudaStream_t stream;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    void *scratch[3];          /* [0] cuDNN workspace, [1] padded input / sq, [2] norm */
    size_t scratch_size[3];
    float *vec;                /* small device vectors (scale/bias uploads) */
    size_t vec_size;
} CudaCtx;

typedef struct CudaLayer {
    void *w, *b;               /* device copies */
    cudnnFilterDescriptor_t wdesc;
    cudnnConvolutionDescriptor_t cdesc;
} CudaLayer;

static const LvcCudaHost *host;

static pthread_once_t avail_once = PTHREAD_ONCE_INIT;
static int avail;
static const char *avail_why = "";

static void probe(void)
{
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    avail = err == cudaSuccess && n > 0;
    if (err != cudaSuccess)
        avail_why = cudaGetErrorString(err);
    else if (n <= 0)
        avail_why = "no CUDA device";
}

static int cu_available(const char **why)
{
    pthread_once(&avail_once, probe);
    if (!avail && why)
        *why = avail_why;
    return avail;
}

#define CK(call) do { if ((call) != cudaSuccess) return LVC_ERR_BACKEND; } while (0)
#define CKDNN(call) do { if ((call) != CUDNN_STATUS_SUCCESS) return LVC_ERR_BACKEND; } while (0)
#define CKBLAS(call) do { if ((call) != CUBLAS_STATUS_SUCCESS) return LVC_ERR_BACKEND; } while (0)
#define CKK(call) do { if ((call) < 0) return LVC_ERR_BACKEND; } while (0)

static CudaCtx *ctx(LvcNn *nn)
{
    return nn->priv;
}

static int grow(LvcNn *nn, int i, size_t bytes)
{
    CudaCtx *c = ctx(nn);
    void *p;
    if (bytes <= c->scratch_size[i])
        return 0;
    cudaStreamSynchronize(c->stream);
    cudaFree(c->scratch[i]);
    c->scratch[i] = NULL;
    c->scratch_size[i] = 0;
    if (cudaMalloc(&p, bytes) != cudaSuccess)
        return LVC_ERR_NOMEM;
    c->scratch[i] = p;
    c->scratch_size[i] = bytes;
    return 0;
}

static void *cu_alloc(LvcNn *nn, size_t size)
{
    void *p = NULL;
    (void)nn;
    if (cudaMalloc(&p, size ? size : 1) != cudaSuccess)
        return NULL;
    return p;
}

static void cu_free(LvcNn *nn, void *p)
{
    cudaStreamSynchronize(ctx(nn)->stream);
    cudaFree(p);
}

static int cu_write(LvcNn *nn, void *dst, const void *src, size_t n)
{
    CK(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, ctx(nn)->stream));
    CK(cudaStreamSynchronize(ctx(nn)->stream));
    return 0;
}

static int cu_read(LvcNn *nn, void *dst, const void *src, size_t n)
{
    CK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, ctx(nn)->stream));
    CK(cudaStreamSynchronize(ctx(nn)->stream));
    return 0;
}

static int cu_sync(LvcNn *nn)
{
    CK(cudaStreamSynchronize(ctx(nn)->stream));
    return 0;
}

static int act_code(LvcNnAct a)
{
    return (int)a;   /* same numbering as kernels.cu */
}

/* ------------------------------------------------------------ layers */

static void cu_layer_release(LvcNn *nn, LvcNnLayer *l)
{
    CudaLayer *cl = l->priv;
    if (!cl)
        return;
    cudaStreamSynchronize(ctx(nn)->stream);
    cudaFree(cl->w);
    cudaFree(cl->b);
    if (cl->wdesc)
        cudnnDestroyFilterDescriptor(cl->wdesc);
    if (cl->cdesc)
        cudnnDestroyConvolutionDescriptor(cl->cdesc);
    host->free(cl);
    l->priv = NULL;
}

static int upload(void **dst, const void *src, size_t n)
{
    CK(cudaMalloc(dst, n ? n : 1));
    CK(cudaMemcpy(*dst, src, n, cudaMemcpyHostToDevice));
    return 0;
}

static int cu_layer_prepare_(LvcNn *nn, LvcNnLayer *l, CudaLayer *cl)
{
    const LvcConvParams *p = &l->p;
    int ret;

    switch (l->kind) {
    case LVC_LAYER_CONV:
    case LVC_LAYER_CONVT: {
        size_t nw = (size_t)p->cin * (p->cout / p->groups) * p->kh * p->kw;
        int sym = p->pad_top == p->pad_bottom && p->pad_left == p->pad_right;
        if ((ret = upload(&cl->w, l->w, nw * 4)) < 0 ||
            (ret = upload(&cl->b, l->b, (size_t)p->cout * 4)) < 0)
            return ret;
        CKDNN(cudnnCreateFilterDescriptor(&cl->wdesc));
        /* conv: K=cout, C=cin/g; convt (as the data gradient of a conv):
         * K=cin, C=cout/g. */
        if (l->kind == LVC_LAYER_CONV)
            CKDNN(cudnnSetFilter4dDescriptor(cl->wdesc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                             p->cout, p->cin / p->groups, p->kh, p->kw));
        else
            CKDNN(cudnnSetFilter4dDescriptor(cl->wdesc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                             p->cin, p->cout / p->groups, p->kh, p->kw));
        CKDNN(cudnnCreateConvolutionDescriptor(&cl->cdesc));
        CKDNN(cudnnSetConvolution2dDescriptor(cl->cdesc, sym ? p->pad_top : 0,
                                              sym ? p->pad_left : 0, p->stride_h,
                                              p->stride_w, p->dil_h, p->dil_w,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        CKDNN(cudnnSetConvolutionGroupCount(cl->cdesc, p->groups));
        CKDNN(cudnnSetConvolutionMathType(cl->cdesc, CUDNN_FMA_MATH));
        return 0;
    }
    case LVC_LAYER_GDN:
        if ((ret = upload(&cl->w, l->w, (size_t)l->c * l->c * 4)) < 0 ||
            (ret = upload(&cl->b, l->b, (size_t)l->c * 4)) < 0)
            return ret;
        return 0;
    case LVC_LAYER_LINEAR:
        if ((ret = upload(&cl->w, l->w, (size_t)l->in * l->out * 4)) < 0 ||
            (ret = upload(&cl->b, l->b, (size_t)l->out * 4)) < 0)
            return ret;
        return 0;
    case LVC_LAYER_QCONV: {
        size_t nw = (size_t)p->cin / p->groups * p->cout * p->kh * p->kw;
        if ((ret = upload(&cl->w, l->qw, nw * 2)) < 0 ||
            (ret = upload(&cl->b, l->qb, (size_t)p->cout * 4)) < 0)
            return ret;
        return 0;
    }
    }
    return LVC_ERR_INVALID_ARG;
}

static int cu_layer_prepare(LvcNn *nn, LvcNnLayer *l)
{
    CudaLayer *cl = host->calloc(1, sizeof(*cl));
    int ret;
    if (!cl)
        return LVC_ERR_NOMEM;
    l->priv = cl;
    if ((ret = cu_layer_prepare_(nn, l, cl)) < 0)
        cu_layer_release(nn, l);
    return ret;
}

static int tdesc(cudnnTensorDescriptor_t *d, int c, int h, int w)
{
    CKDNN(cudnnCreateTensorDescriptor(d));
    CKDNN(cudnnSetTensor4dDescriptor(*d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, c, h, w));
    return 0;
}

static int cu_conv(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    CudaCtx *c = ctx(nn);
    const CudaLayer *cl = l->priv;
    const LvcConvParams *p = &l->p;
    cudnnTensorDescriptor_t xd = NULL, yd = NULL;
    cudnnConvolutionFwdAlgo_t algo;
    const float one = 1.0f, zero = 0.0f;
    const void *xin = x->data;
    int H = x->h, W = x->w, ret = LVC_ERR_BACKEND;
    size_t ws = 0;

    if (p->pad_top != p->pad_bottom || p->pad_left != p->pad_right) {
        H = x->h + p->pad_top + p->pad_bottom;
        W = x->w + p->pad_left + p->pad_right;
        if ((ret = grow(nn, 1, (size_t)x->c * H * W * 4)) < 0)
            return ret;
        if (lvc_cuk_pad(c->stream, x->data, c->scratch[1], x->c, x->h, x->w, p->pad_top,
                        p->pad_left, H, W) < 0)
            return LVC_ERR_BACKEND;
        xin = c->scratch[1];
    }
    ret = LVC_ERR_BACKEND;
    if (tdesc(&xd, x->c, H, W) < 0 || tdesc(&yd, y->c, y->h, y->w) < 0)
        goto end;
    /* PRECOMP_GEMM first, IMPLICIT_GEMM (supports every geometry) when it
     * declines; both are deterministic. */
    for (int a = 0;; a++) {
        cudnnStatus_t st;
        if (a == 2)
            goto end;
        algo = a == 0 ? CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM
                      : CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
        if (cudnnGetConvolutionForwardWorkspaceSize(c->dnn, xd, cl->wdesc, cl->cdesc, yd,
                                                    algo, &ws) != CUDNN_STATUS_SUCCESS)
            continue;
        if ((ret = grow(nn, 0, ws)) < 0)
            goto end;
        ret = LVC_ERR_BACKEND;
        st = cudnnConvolutionForward(c->dnn, &one, xd, xin, cl->wdesc, cl->w, cl->cdesc, algo,
                                     c->scratch[0], ws, &zero, yd, y->data);
        if (st == CUDNN_STATUS_SUCCESS)
            break;
        if (st != CUDNN_STATUS_NOT_SUPPORTED)
            goto end;
    }
    if (lvc_cuk_bias_act(c->stream, y->data, cl->b, y->c, (size_t)y->h * y->w,
                         act_code(p->act), p->act_param) < 0)
        goto end;
    ret = 0;
end:
    if (xd)
        cudnnDestroyTensorDescriptor(xd);
    if (yd)
        cudnnDestroyTensorDescriptor(yd);
    return ret;
}

static int cu_convt(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    CudaCtx *c = ctx(nn);
    const CudaLayer *cl = l->priv;
    cudnnTensorDescriptor_t xd = NULL, yd = NULL;
    cudnnConvolutionBwdDataAlgo_t algo;
    const float one = 1.0f, zero = 0.0f;
    int ret = LVC_ERR_BACKEND;
    size_t ws = 0;

    if (tdesc(&xd, x->c, x->h, x->w) < 0 || tdesc(&yd, y->c, y->h, y->w) < 0)
        goto end;
    /* ALGO_1 is deterministic; ALGO_0 (atomics: run-to-run differences in
     * the last bits, still within the float bound) only when ALGO_1
     * declines the geometry. */
    for (int a = 0;; a++) {
        cudnnStatus_t st;
        if (a == 2)
            goto end;
        algo = a == 0 ? CUDNN_CONVOLUTION_BWD_DATA_ALGO_1 : CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
        if (cudnnGetConvolutionBackwardDataWorkspaceSize(c->dnn, cl->wdesc, xd, cl->cdesc, yd,
                                                         algo, &ws) != CUDNN_STATUS_SUCCESS)
            continue;
        if ((ret = grow(nn, 0, ws)) < 0)
            goto end;
        ret = LVC_ERR_BACKEND;
        st = cudnnConvolutionBackwardData(c->dnn, &one, cl->wdesc, cl->w, xd, x->data,
                                          cl->cdesc, algo, c->scratch[0], ws, &zero, yd,
                                          y->data);
        if (st == CUDNN_STATUS_SUCCESS)
            break;
        if (st != CUDNN_STATUS_NOT_SUPPORTED)
            goto end;
    }
    if (lvc_cuk_bias_act(c->stream, y->data, cl->b, y->c, (size_t)y->h * y->w,
                         act_code(l->p.act), l->p.act_param) < 0)
        goto end;
    ret = 0;
end:
    if (xd)
        cudnnDestroyTensorDescriptor(xd);
    if (yd)
        cudnnDestroyTensorDescriptor(yd);
    return ret;
}

static int cu_gdn(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    CudaCtx *c = ctx(nn);
    const CudaLayer *cl = l->priv;
    const int C = l->c, simple = l->gdn == LVC_GDN_SIMPLE || l->gdn == LVC_IGDN_SIMPLE;
    const size_t hw = (size_t)x->h * x->w;
    const float one = 1.0f, zero = 0.0f;
    int ret;

    if (hw > (size_t)1 << 30)
        return LVC_ERR_LIMIT;
    if ((ret = grow(nn, 1, (size_t)C * hw * 4)) < 0 || (ret = grow(nn, 2, (size_t)C * hw * 4)) < 0)
        return ret;
    CKK(lvc_cuk_square(c->stream, x->data, c->scratch[1], (size_t)C * hw, simple));
    /* Row-major N[C][hw] = G[C][C] S[C][hw], i.e. column-major
     * N^T(hw x C) = S^T(hw x C) G^T(C x C). */
    CKBLAS(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)hw, C, C, &one,
                       c->scratch[1], (int)hw, cl->w, C, &zero, c->scratch[2], (int)hw));
    CKK(lvc_cuk_gdn_post(c->stream, x->data, c->scratch[2], cl->b, y->data, C, hw,
                         (int)l->gdn));
    return 0;
}

static int cu_linear(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    CudaCtx *c = ctx(nn);
    const CudaLayer *cl = l->priv;
    const float one = 1.0f;

    CKK(lvc_cuk_fill_bias(c->stream, y->data, cl->b, (size_t)x->h, l->out));
    /* Row-major Y[rows][out] = X W^T: column-major Y^T(out x rows) =
     * W^T^T ... i.e. op(A)=T on W stored (in x out) column-major. */
    CKBLAS(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, l->out, x->h, l->in, &one, cl->w,
                       l->in, x->data, l->in, &one, y->data, l->out));
    if (l->act != LVC_ACT_NONE)
        CKK(lvc_cuk_act(c->stream, y->data, y->data, lvc_tensor_elems(y), act_code(l->act),
                        l->act_param));
    return 0;
}

static int cu_qconv(LvcNn *nn, const LvcNnLayer *l, const LvcTensor *x, LvcTensor *y)
{
    const CudaLayer *cl = l->priv;
    const LvcConvParams *p = &l->p;
    const int args[18] = {
        p->cin, p->cout, p->groups, p->kh, p->kw, p->stride_h, p->stride_w, p->pad_top,
        p->pad_left, p->dil_h, p->dil_w, x->h, x->w, y->h, y->w,
        l->q.fa_in + l->q.fw - l->q.fa_out, act_code(l->q.act), l->q.act_param,
    };
    CKK(lvc_cuk_qconv(ctx(nn)->stream, x->data, cl->w, cl->b, y->data, args));
    return 0;
}

/* ------------------------------------------------------------ elementwise */

static int cu_act(LvcNn *nn, const LvcTensor *x, LvcTensor *y, LvcNnAct act, float param)
{
    CKK(lvc_cuk_act(ctx(nn)->stream, x->data, y->data, lvc_tensor_elems(x), act_code(act),
                    param));
    return 0;
}

static int cu_add(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    CKK(lvc_cuk_binary(ctx(nn)->stream, a->data, b->data, y->data, lvc_tensor_elems(a), 0));
    return 0;
}

static int cu_mul(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    CKK(lvc_cuk_binary(ctx(nn)->stream, a->data, b->data, y->data, lvc_tensor_elems(a), 1));
    return 0;
}

static int cu_scale(LvcNn *nn, const LvcTensor *x, const float *s, const float *b,
                    LvcTensor *y)
{
    CudaCtx *c = ctx(nn);
    size_t need = (size_t)x->c * 2 * sizeof(float);
    if (need > c->vec_size) {
        cudaStreamSynchronize(c->stream);
        cudaFree(c->vec);
        c->vec = NULL;
        c->vec_size = 0;
        CK(cudaMalloc((void **)&c->vec, need));
        c->vec_size = need;
    }
    /* Synchronous copies: the host vectors may be freed after return. */
    CK(cudaMemcpyAsync(c->vec, s, (size_t)x->c * 4, cudaMemcpyHostToDevice, c->stream));
    if (b)
        CK(cudaMemcpyAsync(c->vec + x->c, b, (size_t)x->c * 4, cudaMemcpyHostToDevice,
                           c->stream));
    CK(cudaStreamSynchronize(c->stream));
    CKK(lvc_cuk_scale(c->stream, x->data, c->vec, b ? c->vec + x->c : NULL, y->data, x->c,
                      (size_t)x->h * x->w));
    return 0;
}

static int cu_upsample(LvcNn *nn, const LvcTensor *x, int r, int bilinear, LvcTensor *y)
{
    CKK(lvc_cuk_upsample(ctx(nn)->stream, x->data, y->data, x->c, x->h, x->w, r, bilinear));
    return 0;
}

static int cu_shuffle(LvcNn *nn, const LvcTensor *x, int r, int inverse, LvcTensor *y)
{
    const LvcTensor *big = inverse ? x : y, *small = inverse ? y : x;
    CKK(lvc_cuk_shuffle(ctx(nn)->stream, x->data, y->data, (int)lvc_nn_dtype_size(x->dtype),
                        big->c, small->h, small->w, r, inverse));
    return 0;
}

static int cu_copy(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    CK(cudaMemcpyAsync(y->data, x->data, lvc_tensor_bytes(x), cudaMemcpyDeviceToDevice,
                       ctx(nn)->stream));
    return 0;
}

static int cu_qadd(LvcNn *nn, const LvcTensor *a, const LvcTensor *b, LvcTensor *y)
{
    CKK(lvc_cuk_qadd(ctx(nn)->stream, a->data, a->frac, b->data, b->frac, y->data, y->frac,
                     lvc_tensor_elems(a)));
    return 0;
}

static int cu_requant(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    CKK(lvc_cuk_qadd(ctx(nn)->stream, x->data, x->frac, NULL, 0, y->data, y->frac,
                     lvc_tensor_elems(x)));
    return 0;
}

static int cu_quantize(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    CKK(lvc_cuk_quantize(ctx(nn)->stream, x->data, y->data, lvc_tensor_elems(x), y->frac));
    return 0;
}

static int cu_dequantize(LvcNn *nn, const LvcTensor *x, LvcTensor *y)
{
    CKK(lvc_cuk_dequantize(ctx(nn)->stream, x->data, y->data, lvc_tensor_elems(x), x->frac));
    return 0;
}

static void cu_close(LvcNn *nn)
{
    CudaCtx *c = ctx(nn);
    if (!c)
        return;
    if (c->stream)
        cudaStreamSynchronize(c->stream);
    for (int i = 0; i < 3; i++)
        cudaFree(c->scratch[i]);
    cudaFree(c->vec);
    if (c->blas)
        cublasDestroy(c->blas);
    if (c->dnn)
        cudnnDestroy(c->dnn);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    host->free(c);
    nn->priv = NULL;
}

static int cu_init(LvcNn *nn)
{
    CudaCtx *c;

    if (!cu_available(NULL))
        return LVC_ERR_BACKEND;
    c = host->calloc(1, sizeof(*c));
    if (!c)
        return LVC_ERR_NOMEM;
    nn->priv = c;
    nn->ops.close = cu_close;
    if (cudaStreamCreate(&c->stream) != cudaSuccess ||
        cudnnCreate(&c->dnn) != CUDNN_STATUS_SUCCESS ||
        cudnnSetStream(c->dnn, c->stream) != CUDNN_STATUS_SUCCESS ||
        cublasCreate(&c->blas) != CUBLAS_STATUS_SUCCESS ||
        cublasSetStream(c->blas, c->stream) != CUBLAS_STATUS_SUCCESS ||
        cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH) != CUBLAS_STATUS_SUCCESS) {
        cu_close(nn);
        nn->ops.close = NULL;
        return LVC_ERR_BACKEND;
    }
    nn->ops.conv = cu_conv;
    nn->ops.convt = cu_convt;
    nn->ops.gdn = cu_gdn;
    nn->ops.linear = cu_linear;
    nn->ops.qconv = cu_qconv;
    nn->ops.layer_prepare = cu_layer_prepare;
    nn->ops.layer_release = cu_layer_release;
    nn->ops.act = cu_act;
    nn->ops.add = cu_add;
    nn->ops.mul = cu_mul;
    nn->ops.scale = cu_scale;
    nn->ops.upsample = cu_upsample;
    nn->ops.shuffle = cu_shuffle;
    nn->ops.copy = cu_copy;
    nn->ops.qadd = cu_qadd;
    nn->ops.requant = cu_requant;
    nn->ops.quantize = cu_quantize;
    nn->ops.dequantize = cu_dequantize;
    nn->ops.mem_alloc = cu_alloc;
    nn->ops.mem_free = cu_free;
    nn->ops.mem_write = cu_write;
    nn->ops.mem_read = cu_read;
    nn->ops.sync = cu_sync;
    return 0;
}

static const LvcCudaPlugin plugin = {
    .available = cu_available,
    .init = cu_init,
};

int lvc_cuda_plugin_open(const LvcCudaHost *h, const LvcCudaPlugin **out)
{
    if (!h || !out)
        return LVC_ERR_INVALID_ARG;
    *out = NULL;
    if (h->abi != LVC_CUDA_PLUGIN_ABI || !h->version || strcmp(h->version, LVC_VERSION_FULL) ||
        h->nn_size != sizeof(LvcNn) || h->ops_size != sizeof(LvcNnOps) ||
        h->layer_size != sizeof(LvcNnLayer) || !h->calloc || !h->free)
        return LVC_ERR_VERSION;
    /* The library passes the same static description on every call. */
    host = h;
    *out = &plugin;
    return 0;
}
