/*
 * lvcrd: image quality metrics on interleaved 8-bit RGB.
 *
 * All metrics run in double precision on the 8-bit sample values (0..255),
 * which is what CompressAI does after rounding its reconstructions to 8 bits.
 */
#ifndef LVC_APPS_LVCRD_RD_METRICS_H
#define LVC_APPS_LVCRD_RD_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* PSNR of an error-free image: a finite stand-in so that averages and JSON
 * stay finite. Reported as is; a lossless point is rare in an RD sweep. */
#define LVC_RD_PSNR_MAX 100.0

/* Mean squared error over all w*h*3 samples of two interleaved RGB images
 * (rows stride_a / stride_b bytes apart). */
double lvcrd_mse_rgb(const uint8_t *a, size_t stride_a, const uint8_t *b,
                     size_t stride_b, int w, int h);

/* Mean squared error of BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B,
 * computed in double without rounding Y to integers (full-range, the
 * weights CompressAI and JPEG use). */
double lvcrd_mse_y(const uint8_t *a, size_t stride_a, const uint8_t *b,
                   size_t stride_b, int w, int h);

/* 10 log10(255^2 / mse), capped at LVC_RD_PSNR_MAX. */
double lvcrd_psnr_from_mse(double mse);

/* MS-SSIM of Wang, Simoncelli and Bovik (2003) as implemented by
 * pytorch-msssim (the one CompressAI calls): 5 scales with weights
 * 0.0448 0.2856 0.3001 0.2363 0.1333, an 11-tap Gaussian window of sigma 1.5
 * applied separably with no padding ("valid"), K1 = 0.01, K2 = 0.03,
 * data range 255; between scales a 2x2 average pooling that pads odd sizes
 * by one zero sample on each side and divides by 4 (torch avg_pool2d,
 * count_include_pad). cs and the last-scale SSIM are clamped at 0 (relu).
 * Each of R, G, B is scored alone and the three scores are averaged.
 * A dimension smaller than the window is not filtered (as in current
 * pytorch-msssim); the reference needs sides > 160 for a meaningful score.
 * Returns 0 and sets *out, or LVC_ERR_NOMEM / LVC_ERR_INVALID_ARG. */
int lvcrd_msssim_rgb(const uint8_t *a, size_t stride_a, const uint8_t *b,
                     size_t stride_b, int w, int h, double *out);

/* MS-SSIM in decibels, -10 log10(1 - msssim), the scale of CompressAI's
 * plots; capped at LVC_RD_PSNR_MAX. */
double lvcrd_msssim_db(double msssim);

#endif /* LVC_APPS_LVCRD_RD_METRICS_H */
