/*
 * lvcrd: classical codecs through FFmpeg's libavcodec, measured by the same
 * code path as lvc: RGB in, encoded bytes, decoded RGB out.
 *
 * Colour: YUV codecs get full-range BT.601 (the JPEG/JFIF convention),
 * converted by libswscale with accurate rounding and full chroma
 * interpolation, and signalled in the stream (colour range and matrix) where
 * the format can carry it. Decoded frames are converted back with the range
 * and matrix the decoder reports, falling back to the codec's convention
 * when it reports none (WebP: limited-range BT.601, done by libwebp itself).
 * Sizes are the bytes of the encoded packets, no container added: JPEG is a
 * JFIF file, WebP a RIFF file, AV1 a temporal unit of OBUs (an .avif file
 * adds a few hundred bytes of HEIF boxes), HEVC an Annex B access unit with
 * VPS/SPS/PPS (no HEIF), JPEG 2000 a raw codestream (no JP2 boxes), JPEG XL
 * a bare codestream.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_codec.h"

#if LVC_HAVE_FFMPEG

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

typedef struct AvDef {
    const char *name;
    const char *label;
    const char *description;
    const char *encoder;
    const char *decoders[3];
    enum AVPixelFormat enc_fmt;   /* what the encoder is fed */
    int yuv;                      /* enc_fmt is YUV: convert and signal BT.601 */
    int dec_full_range;           /* range of decoded YUV when unsignalled */
    int planes_are_ycbcr;         /* decoder sees 3 anonymous components */
    const char *param_name;
    int nparams;
    double params[12];
    int (*configure)(AVCodecContext *ctx, AVFrame *frame, double param, int threads);
} AvDef;

static int set_opt(AVCodecContext *ctx, const char *key, const char *value)
{
    return av_opt_set(ctx->priv_data, key, value, 0);
}

static int cfg_jpeg(AVCodecContext *ctx, AVFrame *frame, double q, int threads)
{
    /* Fixed quantiser: lambda from qscale, as `ffmpeg -q:v` does. */
    ctx->flags |= AV_CODEC_FLAG_QSCALE;
    ctx->global_quality = (int)lround(q * FF_QP2LAMBDA);
    frame->quality = ctx->global_quality;
    ctx->qmin = 1;
    ctx->qmax = 31;
    return set_opt(ctx, "huffman", "optimal");
}

static int cfg_webp(AVCodecContext *ctx, AVFrame *frame, double q, int threads)
{
    char buf[32];
    /* -m 4, cwebp's default method (libavcodec's default would be 0). */
    ctx->compression_level = 4;
    snprintf(buf, sizeof(buf), "%g", q);
    int ret = set_opt(ctx, "quality", buf);
    return ret < 0 ? ret : set_opt(ctx, "lossless", "0");
}

static int cfg_av1(AVCodecContext *ctx, AVFrame *frame, double crf, int threads)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)lround(crf));
    int ret = set_opt(ctx, "crf", buf);
    ctx->bit_rate = 0;  /* constant quality (AOM_Q) */
    if (ret >= 0)
        ret = set_opt(ctx, "cpu-used", "6");
    /* Options that an older libaom may lack are best-effort. */
    set_opt(ctx, "usage", "allintra");
    set_opt(ctx, "still-picture", "1");
    set_opt(ctx, "row-mt", threads > 1 ? "1" : "0");
    return ret;
}

static int cfg_j2k(AVCodecContext *ctx, AVFrame *frame, double ratio, int threads)
{
    /* libopenjpeg's wrapper sets the layer's compression ratio to
     * 2 * compression_level; irreversible selects the 9/7 wavelet and ICT,
     * the usual lossy configuration. */
    ctx->compression_level = (int)lround(ratio / 2.0);
    int ret = set_opt(ctx, "irreversible", "1");
    return ret < 0 ? ret : set_opt(ctx, "format", "j2k");
}

static int cfg_hevc(AVCodecContext *ctx, AVFrame *frame, double crf, int threads)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%g", crf);
    int ret = set_opt(ctx, "crf", buf);
    if (ret >= 0)
        ret = set_opt(ctx, "preset", "medium");
    /* tune=psnr turns off psycho-visual RD and adaptive quantisation, which
     * trade PSNR for perceived detail: the curves here are PSNR/MS-SSIM. */
    if (ret >= 0)
        ret = set_opt(ctx, "tune", "psnr");
    /* info=0 drops the ~2 kB SEI naming the encoder options, which would
     * dominate the size of a small still. */
    snprintf(buf, sizeof(buf), "keyint=1:info=0:log-level=error:frame-threads=1:pools=%d",
             threads);
    if (ret >= 0)
        ret = set_opt(ctx, "x265-params", buf);
    return ret;
}

static int cfg_jxl(AVCodecContext *ctx, AVFrame *frame, double distance, int threads)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%g", distance);
    int ret = set_opt(ctx, "distance", buf);
    return ret < 0 ? ret : set_opt(ctx, "effort", "7");
}

static const AvDef av_defs[] = {
    /* Field order: name, label, description, encoder, decoders, enc_fmt, yuv,
     * dec_full_range, planes_are_ycbcr, param_name, nparams, params. */
    { "jpeg", "JPEG 4:2:0", "JPEG 4:2:0 (libavcodec mjpeg, fixed qscale, optimal Huffman)",
      "mjpeg", { "mjpeg" }, AV_PIX_FMT_YUVJ420P, 1, 1, 0, "qscale",
      10, { 31, 20, 14, 10, 7, 5, 4, 3, 2, 1 }, cfg_jpeg },
    { "jpeg444", "JPEG 4:4:4", "JPEG 4:4:4 (libavcodec mjpeg, fixed qscale, optimal Huffman)",
      "mjpeg", { "mjpeg" }, AV_PIX_FMT_YUVJ444P, 1, 1, 0, "qscale",
      10, { 31, 20, 14, 10, 7, 5, 4, 3, 2, 1 }, cfg_jpeg },
    { "webp", "WebP", "WebP lossy (libwebp -m 4, RGB input converted by libwebp)",
      "libwebp", { "webp" }, AV_PIX_FMT_BGRA, 0, 0, 0, "quality",
      9, { 5, 15, 25, 35, 50, 65, 75, 85, 95 }, cfg_webp },
    { "avif", "AV1 4:4:4 (libaom)",
      "AV1 intra 4:4:4 (libaom-av1, allintra, cpu-used 6, crf)",
      "libaom-av1", { "libdav1d", "libaom-av1" }, AV_PIX_FMT_YUV444P, 1, 1, 0, "crf",
      9, { 62, 56, 50, 44, 38, 32, 26, 20, 14 }, cfg_av1 },
    /* libavcodec's JPEG 2000 encoders never enable the codestream's own
     * colour transform (COD MCT = 0), so R, G, B would be coded as three
     * unrelated images. They get full-range BT.601 YCbCr instead, which is
     * the matrix of JPEG 2000's ICT, rounded to 8 bits before the wavelet. */
    { "j2k", "JPEG 2000 (OpenJPEG)",
      "JPEG 2000 (libopenjpeg, 9/7 irreversible, one layer, YCbCr = ICT, 24/ratio bpp)",
      "libopenjpeg", { "libopenjpeg", "jpeg2000" }, AV_PIX_FMT_YUV444P, 1, 1, 1, "ratio",
      9, { 300, 200, 120, 80, 48, 32, 20, 12, 8 }, cfg_j2k },
    { "hevc", "HEVC 4:4:4 (x265)",
      "HEVC intra 4:4:4 (libx265 preset medium, tune psnr, keyint 1, crf)",
      "libx265", { "hevc" }, AV_PIX_FMT_YUV444P, 1, 1, 0, "crf",
      8, { 48, 43, 38, 34, 30, 26, 22, 18 }, cfg_hevc },
    { "jxl", "JPEG XL (libjxl)", "JPEG XL (libjxl effort 7, VarDCT, distance)",
      "libjxl", { "libjxl" }, AV_PIX_FMT_RGB24, 0, 1, 0, "distance",
      9, { 15, 10, 6, 4, 2.8, 1.9, 1.3, 0.8, 0.5 }, cfg_jxl },
};
#define NDEFS (int)(sizeof(av_defs) / sizeof(av_defs[0]))

const char *lvcrd_av_codec_names(void)
{
    return "jpeg,jpeg444,webp,avif,j2k,hevc,jxl";
}

void lvcrd_av_log_level(int verbose)
{
    av_log_set_level(verbose ? AV_LOG_INFO : AV_LOG_ERROR);
}

static const AVCodec *find_decoder(const AvDef *d)
{
    for (int i = 0; i < 3 && d->decoders[i]; i++) {
        const AVCodec *c = avcodec_find_decoder_by_name(d->decoders[i]);
        if (c)
            return c;
    }
    return NULL;
}

static int av_code(const LvcRdCodec *c, double param, const LvcRdImage *src,
                   LvcRdImage *rec, LvcRdCoded *res, char *err, size_t err_size);

int lvcrd_av_codec_setup(const char *name, int threads, LvcRdCodec *c,
                         char *note, size_t note_size)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < NDEFS; i++) {
        const AvDef *d = &av_defs[i];
        if (strcmp(name, d->name))
            continue;
        if (!avcodec_find_encoder_by_name(d->encoder)) {
            snprintf(note, note_size, "%s: encoder %s not in this libavcodec, skipped",
                     name, d->encoder);
            return LVC_ERR_UNSUPPORTED;
        }
        if (!find_decoder(d)) {
            snprintf(note, note_size, "%s: no decoder (%s) in this libavcodec, skipped",
                     name, d->decoders[0]);
            return LVC_ERR_UNSUPPORTED;
        }
        snprintf(c->name, sizeof(c->name), "%s", d->name);
        snprintf(c->label, sizeof(c->label), "%s", d->label);
        snprintf(c->description, sizeof(c->description), "%s; libavcodec %s",
                 d->description, AV_STRINGIFY(LIBAVCODEC_VERSION));
        snprintf(c->param_name, sizeof(c->param_name), "%s", d->param_name);
        c->num_params = d->nparams;
        memcpy(c->params, d->params, (size_t)d->nparams * sizeof(double));
        c->threads = threads;
        c->def = i;
        c->code = av_code;
        return 0;
    }
    snprintf(note, note_size, "unknown codec '%s' (known: lvc,%s)", name,
             lvcrd_av_codec_names());
    return LVC_ERR_INVALID_ARG;
}

void lvcrd_av_err(char *err, size_t err_size, const char *what, int averr)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, buf, sizeof(buf));
    snprintf(err, err_size, "%s: %s", what, buf);
}

/* Layout-equivalent non-"J" format: swscale is then told the range
 * explicitly instead of guessing it from a deprecated format. */
int lvcrd_av_unj(int f, int *full)
{
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

static int sws_matrix(enum AVColorSpace cs)
{
    switch (cs) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    default: return SWS_CS_ITU601;
    }
}

/* Converts between packed RGB24 and a frame. to_frame: RGB -> frame. */
static int convert(const LvcRdImage *img, AVFrame *frame, int to_frame, int full_range,
                   int matrix)
{
    int jfull = 0;
    const enum AVPixelFormat ff = (enum AVPixelFormat)lvcrd_av_unj(frame->format, &jfull);
    const int range = full_range || jfull;
    const int flags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT |
                      SWS_FULL_CHR_H_INP | SWS_BITEXACT;
    struct SwsContext *sws = to_frame
        ? sws_getContext(img->width, img->height, AV_PIX_FMT_RGB24, frame->width,
                         frame->height, ff, flags, NULL, NULL, NULL)
        : sws_getContext(frame->width, frame->height, ff, img->width, img->height,
                         AV_PIX_FMT_RGB24, flags, NULL, NULL, NULL);
    if (!sws)
        return LVC_ERR_UNSUPPORTED;
    const int *coefs = sws_getCoefficients(matrix);
    /* (inv_table, srcRange, table, dstRange): RGB sides are full range. */
    if (to_frame)
        sws_setColorspaceDetails(sws, coefs, 1, coefs, range, 0, 1 << 16, 1 << 16);
    else
        sws_setColorspaceDetails(sws, coefs, range, coefs, 1, 0, 1 << 16, 1 << 16);
    const uint8_t *src_rgb[4] = { img->data };
    const int rgb_stride[4] = { (int)img->stride };
    uint8_t *dst_rgb[4] = { img->data };
    int ret;
    if (to_frame)
        ret = sws_scale(sws, src_rgb, rgb_stride, 0, img->height, frame->data,
                        frame->linesize);
    else
        ret = sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0,
                        frame->height, dst_rgb, rgb_stride);
    sws_freeContext(sws);
    return ret == (to_frame ? frame->height : img->height) ? 0 : LVC_ERR_UNSUPPORTED;
}

/* A codestream without colour information decodes to "RGB" whose
 * components are really Y, Cb, Cr in codestream order: rebuild a full-range
 * BT.601 YUV 4:4:4 frame from them. *frame is replaced. */
static int components_to_ycbcr(AVFrame **frame, char *err, size_t err_size)
{
    AVFrame *in = *frame;
    const enum AVPixelFormat f = (enum AVPixelFormat)in->format;
    if (f == AV_PIX_FMT_YUV444P)
        return 0;
    if (f != AV_PIX_FMT_RGB24 && f != AV_PIX_FMT_GBRP) {
        snprintf(err, err_size, "unexpected decoded format %s for 3 components",
                 av_get_pix_fmt_name(f));
        return LVC_ERR_UNSUPPORTED;
    }
    AVFrame *y = av_frame_alloc();
    if (!y)
        return LVC_ERR_NOMEM;
    y->format = AV_PIX_FMT_YUV444P;
    y->width = in->width;
    y->height = in->height;
    if (av_frame_get_buffer(y, 0) < 0) {
        av_frame_free(&y);
        return LVC_ERR_NOMEM;
    }
    /* GBRP keeps component k in plane (k + 2) % 3 order G, B, R. */
    static const int gbrp_plane[3] = { 2, 0, 1 };
    for (int r = 0; r < in->height; r++) {
        for (int k = 0; k < 3; k++) {
            uint8_t *dst = y->data[k] + (size_t)r * y->linesize[k];
            if (f == AV_PIX_FMT_RGB24) {
                const uint8_t *s = in->data[0] + (size_t)r * in->linesize[0] + k;
                for (int x = 0; x < in->width; x++)
                    dst[x] = s[3 * x];
            } else {
                const int p = gbrp_plane[k];
                memcpy(dst, in->data[p] + (size_t)r * in->linesize[p], (size_t)in->width);
            }
        }
    }
    y->color_range = AVCOL_RANGE_JPEG;
    y->colorspace = AVCOL_SPC_BT470BG;
    av_frame_free(frame);
    *frame = y;
    return 0;
}

static int av_code(const LvcRdCodec *c, double param, const LvcRdImage *src,
                   LvcRdImage *rec, LvcRdCoded *res, char *err, size_t err_size)
{
    const AvDef *d = &av_defs[c->def];
    AVCodecContext *enc = NULL, *dec = NULL;
    AVFrame *frame = NULL, *out = NULL;
    AVPacket *pkt = NULL;
    uint8_t *stream = NULL;
    size_t size = 0, cap = 0;
    int ret, averr;

    memset(rec, 0, sizeof(*rec));
    memset(res, 0, sizeof(*res));
    const double t0 = lvcrd_now();
    const AVCodec *codec = avcodec_find_encoder_by_name(d->encoder);
    const AVCodec *dcodec = find_decoder(d);
    ret = LVC_ERR_UNSUPPORTED;
    if (!codec || !dcodec) {
        snprintf(err, err_size, "codec not available");
        goto error;
    }
    ret = LVC_ERR_NOMEM;
    if (!(enc = avcodec_alloc_context3(codec)) || !(frame = av_frame_alloc()) ||
        !(pkt = av_packet_alloc()) || !(out = av_frame_alloc())) {
        snprintf(err, err_size, "out of memory");
        goto error;
    }
    enc->width = src->width;
    enc->height = src->height;
    enc->pix_fmt = d->enc_fmt;
    enc->time_base = (AVRational){ 1, 25 };
    enc->framerate = (AVRational){ 25, 1 };
    enc->thread_count = c->threads > 0 ? c->threads : 1;
    enc->gop_size = 1;
    enc->flags |= AV_CODEC_FLAG_BITEXACT;  /* no encoder-version comments */
    if (d->yuv) {
        enc->color_range = AVCOL_RANGE_JPEG;
        enc->colorspace = AVCOL_SPC_BT470BG;
    }
    frame->format = d->enc_fmt;
    frame->width = src->width;
    frame->height = src->height;
    frame->pts = 0;
    if ((averr = av_frame_get_buffer(frame, 0)) < 0) {
        lvcrd_av_err(err, err_size, "frame buffer", averr);
        goto error;
    }
    if ((ret = convert(src, frame, 1, 1, SWS_CS_ITU601)) < 0) {
        snprintf(err, err_size, "swscale cannot convert RGB24 to %s",
                 av_get_pix_fmt_name(d->enc_fmt));
        goto error;
    }
    ret = LVC_ERR_INVALID_ARG;
    if ((averr = d->configure(enc, frame, param, enc->thread_count)) < 0) {
        lvcrd_av_err(err, err_size, "encoder option", averr);
        goto error;
    }
    if (d->yuv) {
        frame->color_range = enc->color_range;
        frame->colorspace = enc->colorspace;
    }
    ret = LVC_ERR_UNSUPPORTED;
    if ((averr = avcodec_open2(enc, codec, NULL)) < 0) {
        lvcrd_av_err(err, err_size, "opening the encoder", averr);
        goto error;
    }
    for (int flush = 0; flush < 2; flush++) {
        if ((averr = avcodec_send_frame(enc, flush ? NULL : frame)) < 0) {
            lvcrd_av_err(err, err_size, "encoding", averr);
            goto error;
        }
        while ((averr = avcodec_receive_packet(enc, pkt)) >= 0) {
            if ((size_t)pkt->size > cap - size) {
                const size_t ncap = 2 * (size + (size_t)pkt->size);
                uint8_t *ns = realloc(stream, ncap + AV_INPUT_BUFFER_PADDING_SIZE);
                if (!ns) {
                    ret = LVC_ERR_NOMEM;
                    av_packet_unref(pkt);
                    snprintf(err, err_size, "out of memory");
                    goto error;
                }
                stream = ns;
                cap = ncap;
            }
            memcpy(stream + size, pkt->data, (size_t)pkt->size);
            size += (size_t)pkt->size;
            av_packet_unref(pkt);
        }
        if (averr != AVERROR(EAGAIN) && averr != AVERROR_EOF) {
            lvcrd_av_err(err, err_size, "encoding", averr);
            goto error;
        }
    }
    if (size == 0) {
        snprintf(err, err_size, "encoder produced no data");
        goto error;
    }
    memset(stream + size, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    const double t1 = lvcrd_now();

    ret = LVC_ERR_NOMEM;
    if (!(dec = avcodec_alloc_context3(dcodec))) {
        snprintf(err, err_size, "out of memory");
        goto error;
    }
    dec->thread_count = enc->thread_count;
    ret = LVC_ERR_UNSUPPORTED;
    if ((averr = avcodec_open2(dec, dcodec, NULL)) < 0) {
        lvcrd_av_err(err, err_size, "opening the decoder", averr);
        goto error;
    }
    pkt->data = stream;
    pkt->size = (int)size;
    ret = LVC_ERR_CORRUPT;
    if ((averr = avcodec_send_packet(dec, pkt)) < 0 ||
        (averr = avcodec_send_packet(dec, NULL)) < 0) {
        lvcrd_av_err(err, err_size, "decoding", averr);
        goto error;
    }
    pkt->data = NULL;
    pkt->size = 0;
    if ((averr = avcodec_receive_frame(dec, out)) < 0) {
        lvcrd_av_err(err, err_size, "decoding", averr);
        goto error;
    }
    if (out->width != src->width || out->height != src->height) {
        snprintf(err, err_size, "decoded %dx%d, expected %dx%d", out->width, out->height,
                 src->width, src->height);
        goto error;
    }
    if ((ret = lvcrd_image_alloc(rec, src->width, src->height)) < 0) {
        snprintf(err, err_size, "out of memory");
        goto error;
    }
    if (d->planes_are_ycbcr && (ret = components_to_ycbcr(&out, err, err_size)) < 0)
        goto error;
    const int full = out->color_range == AVCOL_RANGE_JPEG ? 1
                   : out->color_range == AVCOL_RANGE_MPEG ? 0 : d->dec_full_range;
    if ((ret = convert(rec, out, 0, full, sws_matrix(out->colorspace))) < 0) {
        snprintf(err, err_size, "swscale cannot convert %s to RGB24",
                 av_get_pix_fmt_name((enum AVPixelFormat)out->format));
        goto error;
    }
    const double t2 = lvcrd_now();
    res->bytes = size;
    res->enc_s = t1 - t0;
    res->dec_s = t2 - t1;
    ret = 0;
error:
    if (ret < 0)
        lvcrd_image_free(rec);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    av_frame_free(&out);
    avcodec_free_context(&enc);
    avcodec_free_context(&dec);
    free(stream);
    return ret;
}

#else /* !LVC_HAVE_FFMPEG */

const char *lvcrd_av_codec_names(void)
{
    return "";
}

void lvcrd_av_log_level(int verbose)
{
}

int lvcrd_av_codec_setup(const char *name, int threads, LvcRdCodec *c,
                         char *note, size_t note_size)
{
    static const char *const known[] = { "jpeg", "jpeg444", "webp", "avif", "j2k",
                                         "hevc", "jxl" };
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (!strcmp(name, known[i])) {
            snprintf(note, note_size, "%s: lvcrd was built without FFmpeg, skipped", name);
            return LVC_ERR_UNSUPPORTED;
        }
    }
    snprintf(note, note_size, "unknown codec '%s' (known: lvc)", name);
    return LVC_ERR_INVALID_ARG;
}

#endif
