/*
 * liblvc: 3D Gaussian splats (doc/splats.md).
 *
 * A scene is a set of anisotropic 3D Gaussians as 3D Gaussian Splatting
 * (Kerbl et al. 2023) stores them: a centre, per-axis log scales, a rotation
 * quaternion, an opacity logit and spherical-harmonic colour coefficients.
 * lvc reads and writes the 3DGS PLY layout and the 32-byte ".splat" layout,
 * codes scenes as lvc streams of kind 3 (doc/bitstream.md section 6) and
 * renders them (for evaluation: the fidelity of a coded scene is measured on
 * renders of it against renders of the original).
 *
 * Conventions as in lvc.h: functions return 0 or a negative LvcError; on
 * failure every output is zeroed and owns nothing.
 */
#ifndef LVC_SPLAT_H
#define LVC_SPLAT_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LVC_SPLAT_MAX_SH_DEGREE 3
/* Default bound on the number of splats a reader or decoder accepts. */
#define LVC_SPLAT_DEFAULT_MAX_COUNT (1u << 24)
/* Hard bound (max_count above it is clamped to it). */
#define LVC_SPLAT_MAX_COUNT (1u << 26)

/* Coefficients per colour channel for an SH degree: (degree + 1)^2. */
#define LVC_SPLAT_SH_COEFFS(degree) (((degree) + 1) * ((degree) + 1))

/* A scene. Arrays are owned by the struct when lvc allocated them
 * (lvc_splats_alloc, readers, decoder) and released by lvc_splats_free. */
typedef struct LvcSplats {
    uint32_t count;
    int sh_degree;        /* 0..3 */
    float *position;      /* count x 3: x, y, z */
    float *scale;         /* count x 3: natural log of the standard deviation
                           * along each local axis (3DGS scale_0..2) */
    float *rotation;      /* count x 4: quaternion w, x, y, z (3DGS rot_0..3),
                           * any non-zero norm */
    float *opacity;       /* count: logit of the opacity (3DGS opacity) */
    float *sh;            /* count x 3 x K, K = LVC_SPLAT_SH_COEFFS(sh_degree):
                           * splat i, colour c (R, G, B), coefficient k at
                           * sh[(i * 3 + c) * K + k]. k = 0 is 3DGS f_dc_c;
                           * k >= 1 is f_rest_{c * (K - 1) + k - 1}. */
} LvcSplats;

/* Allocate the arrays for count splats (count may be 0: no arrays) with
 * SH degree sh_degree, zero-filled. On failure s is zeroed. */
LVC_API int lvc_splats_alloc(LvcSplats *s, uint32_t count, int sh_degree);
/* Release the arrays and zero the struct. Safe on a zeroed struct. */
LVC_API void lvc_splats_free(LvcSplats *s);

/* ------------------------------------------------------------------ I/O */

/* PLY (ascii, binary_little_endian, binary_big_endian) with one "vertex"
 * element carrying x y z, scale_0..2, rot_0..3, opacity, f_dc_0..2 and
 * f_rest_0..(3 * (K - 1) - 1) for K of degree 0..3 (0, 9, 24 or 45 f_rest).
 * Properties may be of any PLY scalar type and in any order; other vertex
 * properties (nx ny nz, ...) and other elements are skipped. Missing
 * required properties, an f_rest count that is not one of those, list
 * properties on the vertex element or data shorter than the header says
 * are LVC_ERR_FORMAT / LVC_ERR_TRUNCATED; non-finite values are
 * LVC_ERR_CORRUPT. More than max_count (0 = LVC_SPLAT_DEFAULT_MAX_COUNT)
 * vertices is LVC_ERR_LIMIT, checked before any allocation. */
LVC_API int lvc_ply_read_mem(const uint8_t *buf, size_t size, LvcSplats *s,
                             uint32_t max_count);
/* Write the 3DGS layout: binary_little_endian, float properties x y z
 * nx ny nz (zero) f_dc_0..2 f_rest_* opacity scale_0..2 rot_0..3. */
LVC_API int lvc_ply_write_mem(const LvcSplats *s, uint8_t **buf, size_t *size);

/* ".splat" (32 bytes per splat, little-endian: position 3 x f32, linear
 * scale 3 x f32, colour R G B and opacity as u8, rotation w x y z as u8
 * with q = (b - 128) / 128). Reading converts to the fields above (SH
 * degree 0, f_dc = (c / 255 - 0.5) / 0.28209479, opacity logit clamped to
 * +-12, log scale); a size that is not a multiple of 32 is LVC_ERR_FORMAT.
 * Writing converts back (degree > 0 coefficients are dropped). */
LVC_API int lvc_splat_read_mem(const uint8_t *buf, size_t size, LvcSplats *s,
                               uint32_t max_count);
LVC_API int lvc_splat_write_mem(const LvcSplats *s, uint8_t **buf, size_t *size);

/* Read a file as PLY when it begins with "ply\n", else as .splat. */
LVC_API int lvc_splats_read_file(const char *path, LvcSplats *s, uint32_t max_count);
/* Write as .splat when the name ends in ".splat", else as PLY. The file is
 * written to a temporary name beside it and renamed, so a failure leaves no
 * partial file. */
LVC_API int lvc_splats_write_file(const char *path, const LvcSplats *s);

/* Release a buffer returned by this API (lvc_*_write_mem, lvc_encode_splats). */
LVC_API void lvc_splat_buffer_free(uint8_t *buf);

/* --------------------------------------------------------------- coding */

typedef struct LvcSplatSettings {
    float quality;        /* 0..100 (default 75): sets every precision below
                           * that is 0 */
    int position_bits;    /* 0 = from quality; else 1..21: the position grid
                           * has 2^bits cells along the scene's longest axis */
    int rotation_bits;    /* 0 = from quality; else 2..15: quaternion
                           * components in steps of 2^-bits */
    int scale_bits;       /* 0 = from quality; else 1..16: log scales in steps
                           * of 2^-bits */
    int opacity_bits;     /* likewise for the opacity logit, 1..16 */
    int color_bits;       /* likewise for SH coefficient 0 (the base colour) */
    int sh_bits;          /* likewise for the SH coefficients of degree >= 1 */
    int sh_degree;        /* -1 = keep the input's; 0..3 = code at most this
                           * degree (higher coefficients are dropped) */
    int sh_codebook;      /* 0 = from quality; -1 = scalar-quantize the SH
                           * coefficients of degree >= 1; else 16..16384: the
                           * size of the vector codebook (k-means, built by
                           * the encoder and sent in the stream) they are
                           * coded with, one index per splat */
    int threads;          /* codebook search threads, 0 = all cores (builds
                           * with OpenBLAS use its threads instead) */
    uint64_t target_bytes;/* > 0: the largest quality whose stream has at
                           * most this many bytes (a search; the precisions
                           * set above still apply); the smallest stream
                           * when none fits. lvc_splat_stream_info gives
                           * the quality used. */
    int reserved[8];      /* zero */
} LvcSplatSettings;

LVC_API void lvc_splat_default_settings(LvcSplatSettings *s);

/* Encode a scene as a kind-3 lvc stream. On success *out (released with
 * lvc_splat_buffer_free) and *size hold the stream. Splats are reordered
 * along a space-filling curve: when order is not NULL it receives
 * in->count entries, order[j] = the index in `in` of decoded splat j. */
LVC_API int lvc_encode_splats(const LvcSplatSettings *s, const LvcSplats *in,
                              uint8_t **out, size_t *size, uint32_t *order);

/* Decode a kind-3 stream. More than max_count splats (0 = default) is
 * LVC_ERR_LIMIT before any allocation. Decoding is bit-exact: the same
 * stream gives the same floats on every machine. */
LVC_API int lvc_decode_splats(const uint8_t *buf, size_t size, LvcSplats *out,
                              uint32_t max_count);

/* What the header of a kind-3 stream says, and the size of each attribute's
 * substream (position, rotation, scale, opacity, colour, SH degrees >= 1).
 * Checks the structure and CRCs like the decoder, without decoding. */
typedef struct LvcSplatStreamInfo {
    uint32_t count;
    int sh_degree;            /* coded degree */
    float quality;
    int position_bits;        /* grid cells along the longest axis: 2^bits */
    double position_step;     /* grid step in scene units */
    int rotation_bits, scale_bits, opacity_bits, color_bits, sh_bits; /* steps 2^-bits */
    uint64_t attribute_bytes[6];
} LvcSplatStreamInfo;

LVC_API int lvc_splat_stream_info(const uint8_t *buf, size_t size, LvcSplatStreamInfo *info);

/* ------------------------------------------------------------ rendering */

/* A pinhole camera looking along `forward` with `up` (need not be
 * orthogonal to forward, not parallel to it), vertical field of view fov_y
 * in radians, image width x height. Splats at a depth of near_plane or
 * less are culled (0 = 0.2 scene units, as 3DGS). */
typedef struct LvcSplatCamera {
    float position[3];
    float forward[3];
    float up[3];
    float fov_y;
    int width, height;
    float near_plane;
} LvcSplatCamera;

/* n cameras on a sphere around the scene, looking at its centre: centre
 * and radius are taken robustly (median position, a percentile of the
 * distances to it) so stray far splats do not move them; the near plane is
 * 0.2 or a tenth of the distance, whichever is less. Deterministic. */
LVC_API int lvc_splats_orbit_cameras(const LvcSplats *s, int n, int width, int height,
                                     LvcSplatCamera *cams);

/* Render with 3DGS's model (EWA projection, SH colour, front-to-back alpha
 * blending over a black background) into rgb: width x height x 3 floats,
 * row-major, clamped to [0, 1]. threads: 0 = all cores. */
LVC_API int lvc_splats_render(const LvcSplats *s, const LvcSplatCamera *cam, int threads,
                              float *rgb);

#ifdef __cplusplus
}
#endif

#endif /* LVC_SPLAT_H */
