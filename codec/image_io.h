/*
 * Internal image helpers for the pipelines: PNG to memory, and conversion
 * between interleaved LvcImage samples and planar float RGB.
 */
#ifndef LVC_CODEC_IMAGE_IO_H
#define LVC_CODEC_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"

/* Default bound on width*height for PNG reading when max_pixels is 0. */
#define LVC_PNG_DEFAULT_MAX_PIXELS (UINT64_C(1) << 28)

/* Encode img as PNG into a malloc'd buffer (release with free()). On
 * failure *out is NULL and *out_size 0. */
int lvc_png_write_mem(const LvcImage *img, uint8_t **out, size_t *out_size);

/* Encode img as PAM (pam nonzero) or PGM/PPM into a malloc'd buffer
 * (release with free()); see lvc_pnm_write_file. */
int lvc_pnm_write_mem(const LvcImage *img, int pam, uint8_t **out, size_t *out_size);

/* Check that img is a well-formed image (dimensions >= 1, channels 1..4,
 * depth 8/16, stride large enough, data set). */
int lvc_image_check(const LvcImage *img);

/* Read the rectangle [x0, x0+w) x [y0, y0+h) of img into three planes
 * (R, G, B, each w*h floats, plane-major) with values in [0, 1]
 * (sample / 255 or / 65535). Gray is replicated into the three planes;
 * alpha is ignored. Coordinates outside the image repeat the nearest edge
 * pixel (the padding rule of the pipelines), so any rectangle with w, h >= 1
 * is valid. */
int lvc_image_to_planar_f32_rect(const LvcImage *img, int x0, int y0, int w, int h,
                                 float *planes);
/* The whole image: planes holds 3 * height * width floats. */
int lvc_image_to_planar_f32(const LvcImage *img, float *planes);

/* Write three planes (w*h floats each) into the rectangle at (x0, y0) of
 * img; the parts of the rectangle outside the image are skipped. Each value
 * v becomes floor(v * maxval + 0.5) clamped to [0, maxval] (NaN gives 0);
 * gray images take the mean of the three planes before rounding. Alpha
 * channels are set to opaque (maxval). */
int lvc_image_from_planar_f32_rect(LvcImage *img, int x0, int y0, int w, int h,
                                   const float *planes);
/* The whole image (img allocated by the caller with its size, channels and
 * depth); planes holds 3 * height * width floats. */
int lvc_image_from_planar_f32(LvcImage *img, const float *planes);

#endif /* LVC_CODEC_IMAGE_IO_H */
