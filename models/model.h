/*
 * Learned autoencoder models: the internal interface the codec uses.
 *
 * A model couples an architecture (the hyperparameters and forward graphs in
 * models/<arch>.c) with a weight file (.lvcm). Layers are created on one nn
 * context (backend). Running a model does not modify it: on a host backend
 * several threads may run it at once, each on its own worker context
 * (lvc_nn_open_worker) and its own tensors, as the decoder does with tiles.
 *
 * Graph (every architecture of the image zoo):
 *   y      = g_a(x) * gain(q)            float, encoder only
 *   z      = h_a(y)                      float, encoder only
 *   z_hat  = round(z)                    integers, factorized prior (z_cdf)
 *   params = h_s(z_hat)                  INTEGER network: int16 at out_fa bits,
 *                                        channels [0, M) scales, [M, 2M) means
 *   y_hat  = q + mean                    q entropy-coded with the Gaussian
 *                                        table chosen by the scale
 *   x_hat  = g_s(y_hat * inv_gain(q))    float
 */
#ifndef LVC_MODELS_MODEL_H
#define LVC_MODELS_MODEL_H

#include <stdint.h>

#include "lvc/lvc.h"
#include "entropy/cdf.h"
#include "nn/nn.h"

#define LVC_MODEL_DOWNSCALE 16   /* pixels per latent */
#define LVC_MODEL_ZSCALE    4    /* latents per hyper-latent */
#define LVC_MODEL_MAX_LEVELS 16
#define LVC_Y_CDF_PREC       16   /* precision of the Gaussian tables */
#define LVC_MODEL_MAX_SLICES 8

typedef enum LvcArch {
    LVC_ARCH_FACTORIZED = 1,   /* y: one factorized table per channel */
    LVC_ARCH_HYPERPRIOR = 2,   /* h_a(|y|); h_s gives scales, means are 0 */
    LVC_ARCH_MEANSCALE  = 3,   /* h_a(y); h_s gives scales and means */
    LVC_ARCH_CHECKERBOARD = 4, /* meanscale + two-pass checkerboard context */
    LVC_ARCH_ELIC = 5,         /* channel slices x checkerboard passes (ELIC) */
} LvcArch;

typedef struct LvcModelFile LvcModelFile;

typedef struct LvcModel {
    const LvcModelInfo *info;
    LvcArch arch;
    int N, M, L;
    int out_fa;                          /* h_s output fractional bits */
    int has_hyper;                       /* h_a/h_s/z exist */
    int has_means;                       /* params hold means after the scales */
    int has_ctx;                         /* context models: h_s gives 2M
                                          * features; per slice, spatial (sc)
                                          * and channel (cc) contexts and the
                                          * parameter network (ep) give the
                                          * params, in two checkerboard passes */
    float gain[LVC_MODEL_MAX_LEVELS * 1024];
    float inv_gain[LVC_MODEL_MAX_LEVELS * 1024];
    LvcNnLayer *ga_conv[4], *ga_gdn[3];
    LvcNnLayer *gs_conv[4], *gs_igdn[3];
    LvcNnLayer *ha_conv[3];
    LvcNnLayer *hs_conv[3];
    int nslices;                         /* 1 for checkerboard */
    int slice_c[LVC_MODEL_MAX_SLICES];   /* channels of each slice */
    LvcNnLayer *sc_conv[LVC_MODEL_MAX_SLICES];      /* spatial context */
    LvcNnLayer *cc_conv[LVC_MODEL_MAX_SLICES];      /* channel context (k >= 1) */
    LvcNnLayer *ep_conv[LVC_MODEL_MAX_SLICES][3];   /* parameter network */
    int sc_cout[LVC_MODEL_MAX_SLICES], cc_cout[LVC_MODEL_MAX_SLICES];
    int ep_cout[LVC_MODEL_MAX_SLICES][3];
    int hs_shuffle[3];                   /* pixel-shuffle factor after layer */
    int hs_cout[3];                      /* output channels of h_s layers */
    LvcCdfSet z_cdf;                     /* one table per z channel */
    LvcCdfSet y_cdf;                     /* Gaussian tables by scale index, or
                                          * (factorized) one table per channel */
    int decoder_only;                    /* g_a and h_a not loaded */
} LvcModel;

/* Model open flags. LVC_MODEL_DECODER_ONLY leaves out the encoder's layers
 * (g_a, h_a): their tensors are checked (present, shapes) but not converted
 * or prepared, which halves a decoder's start-up; analysis then fails with
 * LVC_ERR_INVALID_ARG. */
enum { LVC_MODEL_DECODER_ONLY = 1 << 0 };

/* Open the registered model `name` (NULL = default) on nn. On success *m
 * is owned by the caller (lvc_model_close with the same nn); on failure
 * *m is NULL. */
int lvc_model_open(LvcModel **m, const char *name, unsigned flags, LvcNn *nn);
/* The same from a .lvcm in memory (borrowed until close returns; info is
 * NULL): tests and tools use it for models that are not embedded. */
int lvc_model_open_mem(LvcModel **m, const uint8_t *blob, size_t size, unsigned flags,
                       LvcNn *nn);
/* A file that shares a trunk (doc/model-file.md) takes it from the embedded
 * model with that weights hash; this form takes it from trunk_blob instead
 * (whose SHA-256 must be the one the file names; borrowed for the call). */
int lvc_model_open_mem_trunk(LvcModel **m, const uint8_t *blob, size_t size,
                             const uint8_t *trunk_blob, size_t trunk_size, unsigned flags,
                             LvcNn *nn);
void lvc_model_close(LvcModel **m, LvcNn *nn);

/* Architecture loaders (models/<arch>.c): fill m from a weight file. */
int lvc_autoencoder_load(LvcModel *m, const LvcModelFile *mf, unsigned flags, LvcNn *nn);

/* Gain vectors for a quality in [0, 100] (log-linear interpolation between
 * the trained levels). gain and inv_gain have M entries. */
void lvc_model_gains(const LvcModel *m, float quality, float *gain, float *inv_gain);

/* Activation buffers of the float transforms, kept across calls (windows)
 * so that a caller running many windows allocates, and the OS maps pages,
 * once instead of per window. Zero-initialise; release with
 * lvc_model_scratch_free. Not shared between threads. */
typedef struct LvcModelScratch {
    LvcTensor a, b;
    size_t elems;       /* capacity of each, in elements */
} LvcModelScratch;

void lvc_model_scratch_free(LvcNn *nn, LvcModelScratch *s);
/* Grow the scratch for analysis/synthesis of an h x w latent window (so
 * that windows of different sizes do not reallocate). */
int lvc_model_scratch_reserve(const LvcModel *m, LvcNn *nn, LvcModelScratch *s, int h, int w);

/* x: 3 x H x W F32 in [0,1], H and W multiples of 16 -> y: M x H/16 x W/16
 * (without gain). scratch may be NULL (buffers for this call only). */
int lvc_model_analysis(const LvcModel *m, LvcNn *nn, LvcModelScratch *scratch,
                       const LvcTensor *x, LvcTensor *y);
/* y: M x h x w (with gain), h and w multiples of 4 -> z: N x h/4 x w/4. */
int lvc_model_hyper_analysis(const LvcModel *m, LvcNn *nn, const LvcTensor *y, LvcTensor *z);
/* z_hat: N x h x w I16 (frac 0) -> params: (has_means ? 2M : M) x 4h x 4w
 * I16 (frac out_fa). */
int lvc_model_hyper_synthesis(const LvcModel *m, LvcNn *nn, const LvcTensor *zhat,
                              LvcTensor *params);
/* Context models, slice k (channels slice_c[k]):
 *   sc = spatial context(y_hat of the slice at the anchors, I16 at out_fa,
 *        zeros elsewhere)                                  -> sc_cout[k] ch
 *   cc = channel context(y_hat of all earlier slices)      -> cc_cout[k] ch
 *   params = ep(concat(hyper, sc or zeros, cc if k >= 1))  -> 2 slice_c[k] ch
 *        (scales then means, I16 at out_fa). sc NULL is the anchors' pass. */
int lvc_model_spatial_context(const LvcModel *m, LvcNn *nn, int k, const LvcTensor *yanchor,
                              LvcTensor *sc);
int lvc_model_channel_context(const LvcModel *m, LvcNn *nn, int k, const LvcTensor *yprev,
                              LvcTensor *cc);
int lvc_model_entropy_params(const LvcModel *m, LvcNn *nn, int k, const LvcTensor *hyper,
                             const LvcTensor *sc, const LvcTensor *cc, LvcTensor *params);

/* y_hat (M x h x w, already multiplied by inv_gain) -> x: 3 x 16h x 16w.
 * scratch may be NULL. */
int lvc_model_synthesis(const LvcModel *m, LvcNn *nn, LvcModelScratch *scratch,
                        const LvcTensor *yhat, LvcTensor *x);

/* Multiply-accumulates per pixel of the decoder (decoder=1) or of the whole
 * encoder (analysis + the decoder's hyper-synthesis), for widths N, M. */
double lvc_model_macs_per_pixel(LvcArch arch, int N, int M, int decoder);

#endif /* LVC_MODELS_MODEL_H */
