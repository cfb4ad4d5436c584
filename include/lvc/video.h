/*
 * liblvc: video (doc/video.md).
 *
 * A video is coded as an lvc stream of kind 2 (doc/bitstream.md section
 * 6.2): a file header, a `vhdr` box, then one `vfrm` box per frame. Frames
 * go through the image autoencoder; an inter frame codes its latents with
 * the image model's entropy model or conditioned on the previous frame's
 * decoded latents, block by block, as the encoder finds cheapest. Intra
 * frames start every group of pictures (GOP), so decoding can start there.
 *
 * Frames are RGB LvcImages (8 or 16 bit) in and out; the YUV4MPEG2 (.y4m)
 * and raw I420 readers and writer below convert from and to Y'CbCr.
 *
 * Conventions as in lvc.h: functions return 0 or a negative LvcError; on
 * failure every output is zeroed and owns nothing.
 */
#ifndef LVC_VIDEO_H
#define LVC_VIDEO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lvc/lvc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------- source format */

/* Chroma subsampling of the Y'CbCr source. */
typedef enum LvcChroma {
    LVC_CHROMA_420  = 0,   /* half width, half height */
    LVC_CHROMA_422  = 1,   /* half width */
    LVC_CHROMA_444  = 2,
    LVC_CHROMA_MONO = 3,   /* luma only */
} LvcChroma;

/* Horizontal position of 4:2:0 / 4:2:2 chroma samples. */
typedef enum LvcChromaSiting {
    LVC_SITING_CENTER = 0, /* between the two luma samples (Y4M C420jpeg, C420) */
    LVC_SITING_LEFT   = 1, /* on the left luma sample (C420mpeg2, C420paldv, C422) */
} LvcChromaSiting;

/* Y'CbCr matrix. */
typedef enum LvcMatrix {
    LVC_MATRIX_BT601 = 0,
    LVC_MATRIX_BT709 = 1,
} LvcMatrix;

/* How Y'CbCr maps to the RGB frames that are coded. */
typedef enum LvcRgbMapping {
    /* The code values through the full-range matrix (Y' 0..255 to 0..1,
     * C centred on 128 with 255 steps), whatever the range. Every code
     * value survives the round trip, the super-white and super-black of
     * limited-range video included; a limited-range picture looks washed
     * out in this RGB. The default, and what lvcenc codes. */
    LVC_RGB_CODE_VALUES = 0,
    /* The range's nominal levels (16..235 and 16..240 in limited range)
     * to 0..1, values outside clamped: the RGB a display shows. */
    LVC_RGB_NOMINAL = 1,
} LvcRgbMapping;

/* How the frames are presented. The coded signal is always RGB; this is
 * carried in the stream so a decoder writes the source's format back. */
typedef struct LvcVideoFormat {
    uint32_t width, height;     /* luma samples, 1 .. 65535 */
    uint32_t fps_num, fps_den;  /* frame rate; both >= 1 (default 25/1) */
    uint32_t sar_num, sar_den;  /* sample aspect ratio; 0:0 unknown */
    uint8_t chroma;             /* LvcChroma */
    uint8_t siting;             /* LvcChromaSiting */
    uint8_t matrix;             /* LvcMatrix */
    uint8_t full_range;         /* 0: Y' 16..235, C 16..240; 1: 0..255 */
    uint8_t rgb_mapping;        /* LvcRgbMapping of the readers, writer and
                                 * lvc_yuv_from_rgb; the encoder records it,
                                 * so give it the format the frames were
                                 * converted with */
    uint8_t reserved[27];       /* zero */
} LvcVideoFormat;

/* 25 fps, 4:2:0 mpeg2 siting, BT.601, limited range, code-value RGB
 * mapping, size zero. */
LVC_API void lvc_video_format_default(LvcVideoFormat *f);

/* ------------------------------------------------------ YUV file I/O */

/* A reader of YUV4MPEG2 or raw planar 8-bit Y'CbCr. It yields each frame
 * as 16-bit RGB (the conversion keeps what 8-bit RGB would round away) and,
 * for measurements, as the source's own planes. */
typedef struct LvcYuvReader LvcYuvReader;

/* YUV4MPEG2: the stream header is parsed here (W, H, F, A, C, I, X
 * tokens; progressive 8-bit only: "Ip" or none, C420jpeg, C420mpeg2,
 * C420paldv, C420, C422, C444, Cmono; XCOLORRANGE=FULL|LIMITED; other X
 * tokens are ignored). An interlaced, high-bit-depth or alpha stream is
 * LVC_ERR_FORMAT; a malformed header LVC_ERR_CORRUPT. fmt gets the
 * stream's format (matrix BT.601 below 1280x720 luma, else BT.709, as
 * Y4M carries no matrix). max_pixels (0 = default) bounds width*height.
 * f is not closed by the reader. */
LVC_API int lvc_y4m_reader_open(LvcYuvReader **r, FILE *f, uint64_t max_pixels,
                                LvcVideoFormat *fmt);
/* Raw planar frames (I420, I422, I444 or luma only) with no header, in
 * the format fmt gives (width, height and chroma set by the caller). */
LVC_API int lvc_yuv_reader_open_raw(LvcYuvReader **r, FILE *f, const LvcVideoFormat *fmt);
/* The next frame: 1 and *rgb (3 channels, 16 bit; owned by the caller,
 * lvc_image_free) when there is one, 0 at the end of the file,
 * LVC_ERR_TRUNCATED for a partial frame, LVC_ERR_CORRUPT for a bad Y4M
 * frame header. */
LVC_API int lvc_yuv_read_frame(LvcYuvReader *r, LvcImage *rgb);
/* The planes of the frame last read (Y, then Cb, Cr unless mono), tightly
 * packed in the source layout, valid until the next read; *size gets
 * their byte count. NULL before the first frame. */
LVC_API const uint8_t *lvc_yuv_reader_planes(const LvcYuvReader *r, size_t *size);
/* The RGB mapping of the frames read from now on (a Y4M header has none:
 * the reader starts with LVC_RGB_CODE_VALUES). */
LVC_API int lvc_yuv_reader_set_rgb_mapping(LvcYuvReader *r, int mapping);
LVC_API void lvc_yuv_reader_close(LvcYuvReader **r);

/* A YUV4MPEG2 writer (raw planar when raw is nonzero) in format fmt. The
 * stream header is written with the first frame. */
typedef struct LvcYuvWriter LvcYuvWriter;
LVC_API int lvc_yuv_writer_open(LvcYuvWriter **w, FILE *f, const LvcVideoFormat *fmt, int raw);
/* Convert an RGB frame (3 channels, 8 or 16 bit, fmt's size) and write
 * it. */
LVC_API int lvc_yuv_write_frame(LvcYuvWriter *w, const LvcImage *rgb);
/* Bytes of one frame's planes in format fmt (0 if fmt is invalid). */
LVC_API size_t lvc_yuv_frame_size(const LvcVideoFormat *fmt);
/* Convert RGB to the planes of format fmt, as the writer does, into
 * planes (lvc_yuv_frame_size bytes). */
LVC_API int lvc_yuv_from_rgb(const LvcVideoFormat *fmt, const LvcImage *rgb, uint8_t *planes);
LVC_API void lvc_yuv_writer_close(LvcYuvWriter **w);

/* --------------------------------------------------------------- coding */

#define LVC_VIDEO_DEFAULT_GOP 32
#define LVC_VIDEO_MAX_GOP 65535

typedef struct LvcVideoEncoderSettings {
    const char *model;       /* model name; NULL = default. Models with a
                              * context model (elic, checkerboard) only. */
    float quality;           /* 0 .. 100, every frame; default 75 */
    int gop;                 /* an intra frame every gop frames; 1 = intra
                              * only; 0 = LVC_VIDEO_DEFAULT_GOP */
    int threads;
    LvcBackend backend;
    int tile_size;           /* as in LvcEncoderSettings */
    int verbose;
    uint8_t reserved[64];
} LvcVideoEncoderSettings;

/* Statistics of one coded frame. */
typedef struct LvcVideoFrameInfo {
    uint32_t index;          /* 0-based frame number */
    int intra;               /* 1 intra frame, 0 inter frame */
    size_t bytes;            /* size of its box */
    /* Inter frames: latent blocks coded intra / conditioned on the previous
     * frame / copied from it, summed over the slices and passes. */
    uint32_t blocks_intra, blocks_inter, blocks_skip;
} LvcVideoFrameInfo;

typedef struct LvcVideoEncoder LvcVideoEncoder;
LVC_API void lvc_video_encoder_default_settings(LvcVideoEncoderSettings *s);
/* fmt gives the frame size, rate and the format to record. */
LVC_API int lvc_video_encoder_open(LvcVideoEncoder **enc, const LvcVideoEncoderSettings *s,
                                   const LvcVideoFormat *fmt);
/* The stream's start: the file header and the vhdr box. *out is malloc'd
 * (free()). */
LVC_API int lvc_video_encode_header(LvcVideoEncoder *enc, uint8_t **out, size_t *out_size);
/* Code the next frame (RGB, 8 or 16 bit, the format's size) into one vfrm
 * box. *out is malloc'd (free()). info may be NULL. */
LVC_API int lvc_video_encode_frame(LvcVideoEncoder *enc, const LvcImage *frame, uint8_t **out,
                                   size_t *out_size, LvcVideoFrameInfo *info);
LVC_API void lvc_video_encoder_close(LvcVideoEncoder **enc);

/* What the stream's header says. */
typedef struct LvcVideoInfo {
    LvcVideoFormat format;
    float quality;
    int gop;
    uint32_t model_id;
    uint8_t weights_id[LVC_WEIGHTS_ID_SIZE];
    int tile_w, tile_h;
    uint8_t reserved[32];
} LvcVideoInfo;

/* Parse a whole stream's header and boxes (checking CRCs and the frame
 * order rules) without decoding: *info, and the index, type and box size
 * of up to max_frames frames into frames[] (NULL with max_frames 0 to
 * count only); *num_frames gets the count. The block counts of frames[]
 * are 0. */
LVC_API int lvc_video_stream_info(const uint8_t *buf, size_t size, LvcVideoInfo *info,
                                  LvcVideoFrameInfo *frames, size_t max_frames,
                                  size_t *num_frames);

typedef struct LvcVideoDecoder LvcVideoDecoder;
/* The settings are those of the image decoder. */
LVC_API int lvc_video_decoder_open(LvcVideoDecoder **dec, const LvcDecoderSettings *s);
/* Parse the file header and the vhdr box at the start of buf; *consumed
 * gets their size. Opens the model the stream names. Calling it again
 * starts another stream (the model stays open if it is the same). */
LVC_API int lvc_video_decode_header(LvcVideoDecoder *dec, const uint8_t *buf, size_t size,
                                    size_t *consumed, LvcVideoInfo *info);
/* Decode the box at the start of buf (after the header): 1 and a frame in
 * *frame (RGB, 8 bit; the caller's, lvc_image_free) for a vfrm box, 0 for
 * an optional box that was skipped (*frame zeroed); *consumed gets the
 * box's size either way. Frames must come in order; an inter frame needs
 * the one before it (LVC_ERR_CORRUPT otherwise). With frame NULL the
 * latents are decoded (so the next frame can be) but not the picture.
 * On an error, *consumed is still the box's size when its framing (type,
 * flags, length) is intact, else 0: a caller can skip a damaged or
 * refused frame and resume at the next intra frame. */
LVC_API int lvc_video_decode_frame(LvcVideoDecoder *dec, const uint8_t *buf, size_t size,
                                   size_t *consumed, LvcImage *frame, LvcVideoFrameInfo *info);
/* SHA-256 of the entropy-decoded symbols of the frames decoded so far, in
 * order (doc/bitstream.md 6.2). */
LVC_API int lvc_video_decoder_symbols_digest(const LvcVideoDecoder *dec, uint8_t digest[32]);
LVC_API void lvc_video_decoder_close(LvcVideoDecoder **dec);

#ifdef __cplusplus
}
#endif

#endif /* LVC_VIDEO_H */
