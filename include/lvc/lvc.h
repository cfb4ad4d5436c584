/*
 * lvc — learned image codec: public API.
 *
 * Conventions (as in dav1d):
 *  - Every function returning int returns 0 (LVC_OK) on success or a negative
 *    LvcError code. lvc_error_string() names a code.
 *  - Settings structs are filled by *_default_settings() first, then edited;
 *    they end in reserved[] so fields can be added without breaking the ABI.
 *  - Ownership is stated on every function, for success and failure.
 *  - Nothing here aborts on bad input.
 */
#ifndef LVC_LVC_H
#define LVC_LVC_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(LVC_BUILDING_DLL)
#define LVC_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define LVC_API __attribute__((visibility("default")))
#else
#define LVC_API
#endif

/* ABI version: bump the major part on incompatible changes. */
#define LVC_ABI_VERSION 0x0100

/* Error codes. Explicitly numbered: values are stable across versions. */
typedef enum LvcError {
    LVC_OK                  = 0,
    LVC_ERR_NOMEM           = -1,  /* allocation failed or exceeded the cap */
    LVC_ERR_INVALID_ARG     = -2,  /* bad argument from the caller */
    LVC_ERR_IO              = -3,  /* read/write failure */
    LVC_ERR_BAD_MAGIC       = -4,  /* not an lvc stream / model file */
    LVC_ERR_VERSION         = -5,  /* unsupported format version */
    LVC_ERR_TRUNCATED       = -6,  /* data ends early */
    LVC_ERR_CRC             = -7,  /* checksum mismatch */
    LVC_ERR_LENGTH          = -8,  /* a length points past the end */
    LVC_ERR_DIMENSIONS      = -9,  /* width/height zero or beyond the limit */
    LVC_ERR_UNKNOWN_BOX     = -10, /* unknown mandatory box */
    LVC_ERR_MODEL_HASH      = -11, /* stream made with other weights */
    LVC_ERR_MODEL_UNKNOWN   = -12, /* no model with that id/name */
    LVC_ERR_CORRUPT         = -13, /* inconsistent content */
    LVC_ERR_BUFFER_FULL     = -14, /* output buffer too small */
    LVC_ERR_UNSUPPORTED     = -15, /* valid but not supported by this build */
    LVC_ERR_MODEL_FILE      = -16, /* malformed model file */
    LVC_ERR_LIMIT           = -17, /* a configured resource limit was hit */
    LVC_ERR_BACKEND         = -18, /* backend unavailable (e.g. no GPU) */
    LVC_ERR_KIND            = -19, /* stream kind does not match the call */
    LVC_ERR_FORMAT          = -20, /* unsupported input image format */
} LvcError;

/* Static string naming the error; never NULL. */
LVC_API const char *lvc_error_string(int err);

/* Bitstream format version this library writes and reads (doc/bitstream.md;
 * LvcStreamInfo.version of a stream). Streams of other versions are
 * rejected with LVC_ERR_VERSION. */
#define LVC_BITSTREAM_VERSION 3

/* A stream names the weights it was made with by the first
 * LVC_WEIGHTS_ID_SIZE bytes of their SHA-256 (LvcModelInfo.weights_hash):
 * LvcStreamInfo.weights_id. */
#define LVC_WEIGHTS_ID_SIZE 8

/* Library version as a string ("0.2.0") and as (major<<16 | minor<<8 | patch). */
LVC_API const char *lvc_version(void);
LVC_API unsigned lvc_version_int(void);

/* ------------------------------------------------------------------ images */

/* Pixel formats of LvcImage. Samples are interleaved; 16-bit samples are
 * native-endian uint16_t. */
typedef enum LvcPixelFormat {
    LVC_PIX_GRAY  = 1,
    LVC_PIX_GRAYA = 2,
    LVC_PIX_RGB   = 3,
    LVC_PIX_RGBA  = 4,
} LvcPixelFormat;

typedef struct LvcImage {
    int width;
    int height;
    int channels;    /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (= LvcPixelFormat) */
    int bit_depth;   /* 8 or 16 */
    size_t stride;   /* bytes per row */
    uint8_t *data;   /* owned by the image when allocated by lvc */
} LvcImage;

/* Allocate the pixel buffer of an image. On success img->data is owned by
 * the caller and released with lvc_image_free(); on failure img is zeroed. */
LVC_API int lvc_image_alloc(LvcImage *img, int width, int height, int channels,
                            int bit_depth);
/* Release img->data and zero the struct. Safe on a zeroed image. */
LVC_API void lvc_image_free(LvcImage *img);

/* PNG input/output (libpng). Reading accepts 1/2/4/8/16-bit gray, gray+alpha,
 * RGB, RGBA and palette images; palette and sub-8-bit gray are expanded to
 * 8 bits, palette with tRNS to RGBA. On success *img is owned by the caller;
 * on failure it is zeroed. max_pixels (0 = default limit) bounds width*height
 * before any allocation. */
LVC_API int lvc_png_read_file(const char *path, LvcImage *img, uint64_t max_pixels);
LVC_API int lvc_png_read_mem(const uint8_t *buf, size_t size, LvcImage *img,
                             uint64_t max_pixels);
/* Write img as PNG (8 or 16 bit, channels as in img). */
LVC_API int lvc_png_write_file(const char *path, const LvcImage *img);

/* Netpbm input/output: binary PGM (P5), PPM (P6) and PAM (P7, tuple types
 * GRAYSCALE, GRAYSCALE_ALPHA, RGB, RGB_ALPHA, BLACKANDWHITE and
 * BLACKANDWHITE_ALPHA, or none). Reading takes the first image of the file;
 * a maxval below 256 gives 8-bit samples, a larger one 16-bit, and a maxval
 * other than 255 or 65535 is rescaled to the full range with rounding. A
 * sample above maxval is LVC_ERR_CORRUPT; the plain (ASCII) formats and PBM
 * are LVC_ERR_FORMAT. max_pixels as for PNG. */
LVC_API int lvc_pnm_read_file(const char *path, LvcImage *img, uint64_t max_pixels);
LVC_API int lvc_pnm_read_mem(const uint8_t *buf, size_t size, LvcImage *img,
                             uint64_t max_pixels);
/* Write img with maxval 255 or 65535: as PAM when pam is nonzero, else as
 * PGM (gray) or PPM (RGB); an image with alpha needs PAM (LVC_ERR_FORMAT
 * otherwise, and no file is written). */
LVC_API int lvc_pnm_write_file(const char *path, const LvcImage *img, int pam);

/* ----------------------------------------------------------------- models */

typedef struct LvcModelInfo {
    const char *name;        /* "elic", "hyperprior", ... */
    uint32_t id;             /* model id stored in streams */
    uint8_t weights_hash[32];/* SHA-256 of the weights */
    const char *description;
    double macs_per_pixel_dec;
    double macs_per_pixel_enc;
} LvcModelInfo;

/* Number of registered (embedded) models, and their descriptions. The
 * returned pointers are static. */
LVC_API int lvc_model_count(void);
LVC_API const LvcModelInfo *lvc_model_info(int index);
LVC_API const LvcModelInfo *lvc_model_find(const char *name);
/* Name of the default model. */
LVC_API const char *lvc_model_default(void);

/* ---------------------------------------------------------------- backend */

typedef enum LvcBackend {
    LVC_BACKEND_AUTO = 0,  /* cuda if a GPU is present, else cpu */
    LVC_BACKEND_REF  = 1,  /* portable C reference */
    LVC_BACKEND_CPU  = 2,  /* OpenBLAS + SIMD */
    LVC_BACKEND_CUDA = 3,  /* cuDNN/cuBLAS */
} LvcBackend;

/* ---------------------------------------------------------------- encoder */

typedef struct LvcEncoderSettings {
    const char *model;       /* model name; NULL = default */
    float quality;           /* 0 (smallest) .. 100 (best); default 75 */
    double target_bpp;       /* > 0: search quality for this bpp (overrides quality) */
    uint64_t target_bytes;   /* > 0: search quality for this size (overrides both) */
    int threads;             /* 0 = number of cores */
    LvcBackend backend;
    int tile_size;           /* 0 = default; luma pixels per tile side, multiple of 64 */
    uint64_t max_pixels;     /* 0 = default limit */
    int verbose;             /* library log to stderr (process-wide, set by
                              * open): 0 nothing, 1 info, 2 debug */
    uint8_t reserved[64];
} LvcEncoderSettings;

typedef struct LvcEncoder LvcEncoder;

LVC_API void lvc_encoder_default_settings(LvcEncoderSettings *s);
/* On success *enc is owned by the caller (release with lvc_encoder_close);
 * on failure *enc is NULL. */
LVC_API int lvc_encoder_open(LvcEncoder **enc, const LvcEncoderSettings *s);
/* Encode one image. On success *out is a malloc'd buffer owned by the caller
 * (free() it) of *out_size bytes; on failure *out is NULL and *out_size 0.
 * The image is not modified. */
LVC_API int lvc_encode_image(LvcEncoder *enc, const LvcImage *img,
                             uint8_t **out, size_t *out_size);
/* Quality actually used for the last encode (after a bpp/size search). */
LVC_API float lvc_encoder_last_quality(const LvcEncoder *enc);
/* Closes and sets *enc to NULL. Safe on NULL. */
LVC_API void lvc_encoder_close(LvcEncoder **enc);

/* ---------------------------------------------------------------- decoder */

typedef struct LvcDecoderSettings {
    int threads;             /* 0 = number of cores; entropy tiles are decoded
                              * in parallel on the ref and cpu backends. The
                              * output does not depend on it. */
    LvcBackend backend;
    uint64_t max_pixels;     /* refuse larger images before allocating; 0 = default */
    int verbose;             /* as in LvcEncoderSettings */
    uint8_t reserved[64];
} LvcDecoderSettings;

typedef struct LvcDecoder LvcDecoder;

LVC_API void lvc_decoder_default_settings(LvcDecoderSettings *s);
LVC_API int lvc_decoder_open(LvcDecoder **dec, const LvcDecoderSettings *s);
/* Decode one image stream. On success *img is owned by the caller
 * (lvc_image_free); on failure it is zeroed. The decoded bit depth and
 * channel count are those recorded in the stream. */
LVC_API int lvc_decode_image(LvcDecoder *dec, const uint8_t *buf, size_t size,
                             LvcImage *img);
/* SHA-256 of the entropy-decoded symbols of the last decode (the exact part
 * that every conforming decoder must reproduce). */
LVC_API int lvc_decoder_symbols_digest(const LvcDecoder *dec, uint8_t digest[32]);
LVC_API void lvc_decoder_close(LvcDecoder **dec);

/* ------------------------------------------------------------ stream info */

typedef struct LvcStreamInfo {
    int version;
    int kind;                /* 1 = image */
    int width, height;
    int channels, bit_depth;
    float quality;
    uint32_t model_id;
    uint8_t weights_id[LVC_WEIGHTS_ID_SIZE]; /* first bytes of the weights' SHA-256 */
    int tile_w, tile_h;
    int num_boxes;
} LvcStreamInfo;

/* Parse the header and boxes (checking CRCs) without decoding. */
LVC_API int lvc_stream_info(const uint8_t *buf, size_t size, LvcStreamInfo *info);

typedef struct LvcBoxInfo {
    char type[5];            /* four characters, NUL-terminated */
    int mandatory;           /* 1 if a decoder must understand it */
    uint64_t offset;         /* offset of the box header in the stream */
    uint64_t payload_size;
    uint32_t crc32;
} LvcBoxInfo;

/* List the boxes of a stream (up to max_boxes into boxes[]; *num_boxes gets
 * the total count). Validates structure and CRCs. */
LVC_API int lvc_stream_boxes(const uint8_t *buf, size_t size, LvcBoxInfo *boxes,
                             int max_boxes, int *num_boxes);

/* One entropy-coded substream of a stream (doc/bitstream.md 4.4). */
typedef struct LvcSubstreamInfo {
    uint32_t tile;           /* tile index, row-major */
    int pass;                /* context-model pass / slice group, 0..255 */
    int what;                /* 0 Z, 1 Y, 2 alpha, 3 params, 128.. model-private */
    uint64_t offset;         /* offset of its first data byte in the stream */
    uint64_t size;           /* data bytes */
} LvcSubstreamInfo;

/* List the substreams of a stream in stream order (up to max_subs into
 * subs[]; *num_subs gets the total count). Validates like lvc_stream_boxes;
 * a stream of more than 2^20 boxes or substreams is LVC_ERR_LIMIT. */
LVC_API int lvc_stream_substreams(const uint8_t *buf, size_t size, LvcSubstreamInfo *subs,
                                  int max_subs, int *num_subs);

#ifdef __cplusplus
}
#endif

#endif /* LVC_LVC_H */
