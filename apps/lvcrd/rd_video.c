/*
 * lvcrd --video: rate-distortion of lvc's video coding (include/lvc/video.h)
 * against x264 and x265, on a folder of clips (doc/rd.md, "Video").
 *
 * Every clip becomes a YUV4MPEG2 file first (raw .yuv and, with FFmpeg,
 * .mp4 and other containers are written into RESULTS_DIR/src/), so that
 * every codec starts from the same 8-bit planes and the distortion is
 * measured on them: lvc through the public API (lvc_video_encode_*, then
 * lvc_video_decode_*; its RGB output is converted back to the source's
 * format with lvc_yuv_from_rgb), x264 and x265 through libavcodec, fed
 * the planes themselves. PSNR of Y, Cb and Cr from the squared error
 * pooled over all frames, and (6 Y + Cb + Cr) / 8, as lvcdec --ref
 * reports them. Writes video.csv (a row per point, as each finishes) and
 * video.md (tables and BD-rates, at the end).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "lvc/lvc.h"
#include "lvc/video.h"
#include "apps/lvcrd/rd_bdrate.h"
#include "apps/lvcrd/rd_codec.h"
#include "apps/lvcrd/rd_run.h"

#if LVC_HAVE_FFMPEG
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#endif

#define MAX_CLIPS 256
#define MAX_PTS 16
#define MAX_NOTES 64

/* The configurations measured, in table order. */
enum { C_LVC, C_LVC_INTRA, C_X264, C_X265, NCODECS };
static const char *const codec_names[NCODECS] = { "lvc", "lvc-intra", "x264", "x265" };

typedef struct VOptions {
    const char *dir, *outdir, *model;
    double q[MAX_PTS], crf[MAX_PTS];
    int nq, ncrf;
    int gop, frames, threads;
    int want[NCODECS];
    int quiet, verbose;
} VOptions;

/* One measured point: sizes of the whole stream, PSNR from the squared
 * error pooled over the frames, seconds per frame. */
typedef struct VPoint {
    double param;
    size_t bytes;
    double bpp, kbps;
    double psnr[3], psnr_yuv;   /* Y, Cb, Cr; Cb and Cr NAN for mono */
    double enc_s, dec_s;
} VPoint;

typedef struct VCurve {
    int n;
    VPoint p[MAX_PTS];
} VCurve;

/* A clip as measured: its planes (frames * frame_size bytes) are the
 * reference of every codec. */
typedef struct Clip {
    char name[256];
    const char *kind;           /* "y4m", "raw", "container" */
    char y4m[4096];             /* the file lvc reads */
    LvcVideoFormat fmt;
    int frames;
    size_t frame_size;
    uint8_t *planes;
    /* The best lvc can reach: the source through 8-bit RGB and back
     * (lvc codes RGB; what the conversion clips or rounds is lost). */
    double ceil_psnr[3], ceil_yuv;
    VCurve curve[NCODECS];
    int ok;                     /* prepared and at least one point */
} Clip;

typedef struct VRun {
    VOptions o;
    Clip *clips;
    int num_clips;
    char notes[MAX_NOTES][320];
    int num_notes;
    char cmdline[2048];
    FILE *csv;
    long points, failed;
    size_t x264_sei_bytes;      /* x264's version SEI, per stream, as removed */
} VRun;

static void note(VRun *r, const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "lvcrd: %s\n", buf);
    if (r->num_notes < MAX_NOTES)
        snprintf(r->notes[r->num_notes++], sizeof(r->notes[0]), "%s", buf);
}

static void usage(FILE *f)
{
    fputs("usage: lvcrd --video CLIP_DIR -o RESULTS_DIR [options]\n"
          "Codes the first frames of every clip of CLIP_DIR (*.y4m; raw 4:2:0 *.yuv named\n"
          "with their size, e.g. foo_352x288_30fps.yuv; *.mp4, *.mkv, *.mov, *.webm, *.avi\n"
          "when built with FFmpeg) with lvc (GOP and intra only), x264 and x265, and\n"
          "writes video.csv and video.md into RESULTS_DIR.\n"
          "  -q, --quality LIST   lvc qualities (default 10,30,50,70,90)\n"
          "  --crf LIST           x264 and x265 CRFs (default 40,34,28,22,16)\n"
          "  --codec LIST         of lvc,lvc-intra,x264,x265 (default: all)\n"
          "  --gop N              intra period of lvc, x264 and x265, 1..65535 (default 32)\n"
          "  --frames N           first N frames of each clip, 0 = all (default 30)\n"
          "  --model NAME         lvc model (default: this build's default)\n"
          "  --threads N          threads per encoder and decoder, 0 = all cores (default 0)\n"
          "  --quiet              no progress\n"
          "  --verbose            codec library messages\n"
          "  -h, --help           this text\n", f);
}

static int parse_list(const char *s, double lo, double hi, double *out)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        const double v = strtod(p, &end);
        if (end == p || errno || !(v >= lo && v <= hi) || n == MAX_PTS)
            return -1;
        out[n++] = v;
        p = end;
        if (*p == ',' && p[1])
            p++;
        else if (*p)
            return -1;
    }
    return n;
}

static int parse_codecs(const char *s, int want[NCODECS])
{
    char buf[256];
    if (strlen(s) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", s);
    memset(want, 0, NCODECS * sizeof(*want));
    int any = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < NCODECS && strcmp(t, codec_names[k]))
            k++;
        if (k == NCODECS)
            return -1;
        want[k] = any = 1;
    }
    return any ? 0 : -1;
}

/* 0: run, 1: --help printed, -1: error printed. */
static int parse_options(VOptions *o, int argc, char **argv)
{
    enum { O_VIDEO = 256, O_CRF, O_CODEC, O_GOP, O_FRAMES, O_MODEL, O_THREADS, O_QUIET,
           O_VERBOSE };
    static const struct option longopts[] = {
        { "video", no_argument, NULL, O_VIDEO },
        { "quality", required_argument, NULL, 'q' },
        { "crf", required_argument, NULL, O_CRF },
        { "codec", required_argument, NULL, O_CODEC },
        { "gop", required_argument, NULL, O_GOP },
        { "frames", required_argument, NULL, O_FRAMES },
        { "model", required_argument, NULL, O_MODEL },
        { "threads", required_argument, NULL, O_THREADS },
        { "quiet", no_argument, NULL, O_QUIET },
        { "verbose", no_argument, NULL, O_VERBOSE },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const double q_default[] = { 10, 30, 50, 70, 90 };
    static const double crf_default[] = { 40, 34, 28, 22, 16 };
    memset(o, 0, sizeof(*o));
    o->nq = 5;
    memcpy(o->q, q_default, sizeof(q_default));
    o->ncrf = 5;
    memcpy(o->crf, crf_default, sizeof(crf_default));
    o->gop = LVC_VIDEO_DEFAULT_GOP;
    o->frames = 30;
    for (int k = 0; k < NCODECS; k++)
        o->want[k] = 1;
    optind = 0;   /* full re-initialisation: lvcrd_main may run more than once */
    opterr = 0;
    int c, li = -1;
    while ((li = -1, c = getopt_long(argc, argv, "q:o:h", longopts, &li)) != -1) {
        switch (c) {
        case O_VIDEO:
            break;
        case 'q':
            if ((o->nq = parse_list(optarg, 0, 100, o->q)) <= 0)
                goto bad;
            break;
        case O_CRF:
            if ((o->ncrf = parse_list(optarg, 0, 51, o->crf)) <= 0)
                goto bad;
            break;
        case O_CODEC:
            if (parse_codecs(optarg, o->want) < 0)
                goto bad;
            break;
        case O_GOP:
            if (lvcrd_parse_int(optarg, 1, LVC_VIDEO_MAX_GOP, &o->gop) < 0)
                goto bad;
            break;
        case O_FRAMES:
            if (lvcrd_parse_int(optarg, 0, 1000000, &o->frames) < 0)
                goto bad;
            break;
        case O_MODEL:
            o->model = optarg;
            break;
        case O_THREADS:
            if (lvcrd_parse_int(optarg, 0, 256, &o->threads) < 0)
                goto bad;
            break;
        case O_QUIET: o->quiet = 1; break;
        case O_VERBOSE: o->verbose = 1; break;
        case 'o': o->outdir = optarg; break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            if (optopt)
                fprintf(stderr, "lvcrd: bad option or missing value: -%c (try lvcrd --video "
                        "--help)\n", optopt);
            else
                fprintf(stderr, "lvcrd: bad option: %s (try lvcrd --video --help)\n",
                        argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc - 1 || !o->outdir) {
        fprintf(stderr, "lvcrd: need one CLIP_DIR and -o RESULTS_DIR (try lvcrd --video "
                "--help)\n");
        return -1;
    }
    o->dir = argv[optind];
    return 0;
bad:
    fprintf(stderr, "lvcrd: bad value for %s%s: %s\n", li >= 0 ? "--" : "-",
            li >= 0 ? longopts[li].name : "q", optarg);
    return -1;
}

/* ------------------------------------------------------------- clips */

static int ends_with_ci(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcasecmp(s + n - k, suffix);
}

static int is_container(const char *name)
{
    static const char *const ext[] = { ".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi" };
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
        if (ends_with_ci(name, ext[i]))
            return 1;
    return 0;
}

static int is_clip(const char *name)
{
    return name[0] != '.' &&
           (ends_with_ci(name, ".y4m") || ends_with_ci(name, ".yuv") || is_container(name));
}

static int cmp_clip(const void *a, const void *b)
{
    return strcmp(((const Clip *)a)->name, ((const Clip *)b)->name);
}

static unsigned long digits(const char *p, const char **end)
{
    unsigned long v = 0;
    while (isdigit((unsigned char)*p) && v < 100000000)
        v = 10 * v + (unsigned long)(*p++ - '0');
    *end = p;
    return v;
}

/* The size "_WxH" of a raw clip's name, and its rate: "pNN" right after
 * the size ("_80x44p15") or "_NNfps" anywhere; 25/1 otherwise. */
static int raw_name_format(const char *name, LvcVideoFormat *fmt)
{
    lvc_video_format_default(fmt);
    int found = 0;
    for (const char *p = strchr(name, '_'); p && !found; p = strchr(p + 1, '_')) {
        const char *e;
        if (!isdigit((unsigned char)p[1]))
            continue;
        const unsigned long w = digits(p + 1, &e);
        if (*e != 'x' || !isdigit((unsigned char)e[1]))
            continue;
        const unsigned long h = digits(e + 1, &e);
        if (isdigit((unsigned char)*e) || w < 1 || w > 65535 || h < 1 || h > 65535)
            continue;
        fmt->width = (uint32_t)w;
        fmt->height = (uint32_t)h;
        found = 1;
        if (*e == 'p' && isdigit((unsigned char)e[1])) {
            const unsigned long r = digits(e + 1, &e);
            if (r >= 1 && r <= 1000 && !isdigit((unsigned char)*e))
                fmt->fps_num = (uint32_t)r;
        }
    }
    if (!found)
        return -1;
    for (const char *p = strchr(name, '_'); p; p = strchr(p + 1, '_')) {
        const char *e;
        if (!isdigit((unsigned char)p[1]))
            continue;
        const unsigned long r = digits(p + 1, &e);
        if (!strncasecmp(e, "fps", 3) && r >= 1 && r <= 1000) {
            fmt->fps_num = (uint32_t)r;
            fmt->fps_den = 1;
        }
    }
    return 0;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    return -1;
}

static void plane_dims(const LvcVideoFormat *f, int p, uint32_t *w, uint32_t *h)
{
    *w = f->width;
    *h = f->height;
    if (p == 0)
        return;
    if (f->chroma == LVC_CHROMA_MONO) {
        *w = *h = 0;
        return;
    }
    if (f->chroma != LVC_CHROMA_444)
        *w = (f->width + 1) / 2;
    if (f->chroma == LVC_CHROMA_420)
        *h = (f->height + 1) / 2;
}

static void write_y4m_header(FILE *f, uint32_t w, uint32_t h, uint32_t fps_num,
                             uint32_t fps_den, uint32_t sar_num, uint32_t sar_den,
                             int center, int full)
{
    fprintf(f, "YUV4MPEG2 W%u H%u F%u:%u Ip A%u:%u C%s%s\n", (unsigned)w, (unsigned)h,
            (unsigned)fps_num, (unsigned)fps_den, (unsigned)sar_num, (unsigned)sar_den,
            center ? "420jpeg" : "420mpeg2", full ? " XCOLORRANGE=FULL" : "");
}

/* A raw 4:2:0 clip's first frames as a .y4m. */
static int raw_to_y4m(const char *in, const char *name, const char *out, int max_frames,
                      char *err, size_t err_size)
{
    LvcVideoFormat fmt;
    if (raw_name_format(name, &fmt) < 0) {
        snprintf(err, err_size, "no frame size _WxH in the name of a raw .yuv clip");
        return -1;
    }
    const size_t fsize = lvc_yuv_frame_size(&fmt);
    FILE *fi = fopen(in, "rb");
    if (!fi) {
        snprintf(err, err_size, "cannot open: %s", strerror(errno));
        return -1;
    }
    uint8_t *buf = malloc(fsize ? fsize : 1);
    FILE *fo = buf ? fopen(out, "wb") : NULL;
    int n = 0, ret = -1;
    if (!buf || !fo) {
        snprintf(err, err_size, "cannot write its Y4M copy: %s",
                 buf ? strerror(errno) : "out of memory");
        goto end;
    }
    write_y4m_header(fo, fmt.width, fmt.height, fmt.fps_num, fmt.fps_den, 0, 0, 0, 0);
    while (!max_frames || n < max_frames) {
        const size_t got = fread(buf, 1, fsize, fi);
        if (got < fsize)
            break;
        fputs("FRAME\n", fo);
        fwrite(buf, 1, fsize, fo);
        n++;
    }
    if (ferror(fi)) {
        snprintf(err, err_size, "read error: %s", strerror(errno));
        goto end;
    }
    if (!n) {
        snprintf(err, err_size, "shorter than one %ux%u 4:2:0 frame (%zu bytes)",
                 fmt.width, fmt.height, fsize);
        goto end;
    }
    ret = 0;
end:
    if (fo && (ferror(fo) | fclose(fo)) && !ret) {
        snprintf(err, err_size, "writing its Y4M copy failed");
        ret = -1;
    }
    fclose(fi);
    free(buf);
    return ret;
}

#if LVC_HAVE_FFMPEG

typedef struct Y4mOut {
    FILE *f;
    struct SwsContext *sws;
    AVFrame *tmp;               /* the frame converted to 4:2:0 8 bit */
    int width, height, n, max;
    enum AVPixelFormat in_fmt;
    AVRational fps, sar;
} Y4mOut;

static int y4m_put(Y4mOut *y, const AVFrame *fr, char *err, size_t err_size)
{
    int full = fr->color_range == AVCOL_RANGE_JPEG;
    const enum AVPixelFormat ff = (enum AVPixelFormat)lvcrd_av_unj(fr->format, &full);
    if (!y->n) {
        y->width = fr->width;
        y->height = fr->height;
        y->in_fmt = (enum AVPixelFormat)fr->format;
        write_y4m_header(y->f, (uint32_t)fr->width, (uint32_t)fr->height,
                         (uint32_t)y->fps.num, (uint32_t)y->fps.den,
                         (uint32_t)(y->sar.num > 0 ? y->sar.num : 0),
                         (uint32_t)(y->sar.num > 0 ? y->sar.den : 0),
                         fr->chroma_location == AVCHROMA_LOC_CENTER, full);
        if (ff != AV_PIX_FMT_YUV420P) {
            /* Other layouts and depths: to 4:2:0 8 bit, range and matrix
             * kept (RGB: the matrix the Y4M reader will assume). */
            const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(ff);
            const int rgb = d && (d->flags & AV_PIX_FMT_FLAG_RGB);
            const int flags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP |
                              SWS_BITEXACT;
            y->sws = sws_getContext(fr->width, fr->height, ff, fr->width, fr->height,
                                    AV_PIX_FMT_YUV420P, flags, NULL, NULL, NULL);
            y->tmp = av_frame_alloc();
            if (!y->sws || !y->tmp) {
                snprintf(err, err_size, "swscale cannot convert %s to yuv420p",
                         av_get_pix_fmt_name(ff));
                return -1;
            }
            const int cs = (int64_t)fr->width * fr->height < 1280 * 720 ? SWS_CS_ITU601
                                                                          : SWS_CS_ITU709;
            const int *coefs = sws_getCoefficients(cs);
            sws_setColorspaceDetails(y->sws, coefs, rgb ? 1 : full, coefs, rgb ? 0 : full, 0,
                                     1 << 16, 1 << 16);
            y->tmp->format = AV_PIX_FMT_YUV420P;
            y->tmp->width = fr->width;
            y->tmp->height = fr->height;
            if (av_frame_get_buffer(y->tmp, 0) < 0) {
                snprintf(err, err_size, "out of memory");
                return -1;
            }
        }
    } else if (fr->width != y->width || fr->height != y->height ||
               fr->format != (int)y->in_fmt) {
        snprintf(err, err_size, "frame %d is %dx%d %s, the first %dx%d %s", y->n, fr->width,
                 fr->height, av_get_pix_fmt_name((enum AVPixelFormat)fr->format), y->width,
                 y->height, av_get_pix_fmt_name(y->in_fmt));
        return -1;
    }
    const AVFrame *src = fr;
    if (y->sws) {
        if (sws_scale(y->sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fr->height,
                      y->tmp->data, y->tmp->linesize) != fr->height) {
            snprintf(err, err_size, "swscale failed");
            return -1;
        }
        src = y->tmp;
    }
    fputs("FRAME\n", y->f);
    for (int p = 0; p < 3; p++) {
        const int w = p ? (y->width + 1) / 2 : y->width, h = p ? (y->height + 1) / 2 : y->height;
        for (int r = 0; r < h; r++)
            fwrite(src->data[p] + (size_t)r * src->linesize[p], 1, (size_t)w, y->f);
    }
    y->n++;
    return 0;
}

/* Decodes the best video stream of a container into a .y4m of its first
 * max_frames frames (0 = all), 4:2:0 8 bit. */
static int container_to_y4m(const char *in, const char *out, int max_frames, int threads,
                            int verbose, char *err, size_t err_size)
{
    /* the clip's own defects are not ours to report, beyond the one line */
    const int log_level = av_log_get_level();
    if (!verbose)
        av_log_set_level(AV_LOG_FATAL);
    AVFormatContext *fc = NULL;
    AVCodecContext *dc = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    Y4mOut y = { 0 };
    int ret = -1, averr;
    y.max = max_frames;
    if (!pkt || !fr) {
        snprintf(err, err_size, "out of memory");
        goto end;
    }
    if ((averr = avformat_open_input(&fc, in, NULL, NULL)) < 0) {
        lvcrd_av_err(err, err_size, "libavformat cannot open it", averr);
        goto end;
    }
    if ((averr = avformat_find_stream_info(fc, NULL)) < 0) {
        lvcrd_av_err(err, err_size, "libavformat", averr);
        goto end;
    }
    const AVCodec *dec = NULL;
    const int si = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, &dec, 0);
    if (si < 0 || !dec) {
        snprintf(err, err_size, si == AVERROR_DECODER_NOT_FOUND
                                    ? "no decoder for its video stream in this libavcodec"
                                    : "no video stream");
        goto end;
    }
    const AVStream *st = fc->streams[si];
    if (!(dc = avcodec_alloc_context3(dec)) ||
        avcodec_parameters_to_context(dc, st->codecpar) < 0) {
        snprintf(err, err_size, "out of memory");
        goto end;
    }
    dc->thread_count = threads;
    if ((averr = avcodec_open2(dc, dec, NULL)) < 0) {
        lvcrd_av_err(err, err_size, "opening the decoder", averr);
        goto end;
    }
    y.fps = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate
          : st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0 ? st->r_frame_rate
          : (AVRational){ 25, 1 };
    av_reduce(&y.fps.num, &y.fps.den, y.fps.num, y.fps.den, 1000000);
    y.sar = st->sample_aspect_ratio.num > 0 ? st->sample_aspect_ratio
                                             : st->codecpar->sample_aspect_ratio;
    if (!(y.f = fopen(out, "wb"))) {
        snprintf(err, err_size, "cannot write its Y4M copy: %s", strerror(errno));
        goto end;
    }
    int eof = 0;
    while (!eof && (!y.max || y.n < y.max)) {
        averr = av_read_frame(fc, pkt);
        if (averr == AVERROR_EOF) {
            eof = 1;
            averr = avcodec_send_packet(dc, NULL);
        } else if (averr < 0) {
            lvcrd_av_err(err, err_size, "reading", averr);
            goto end;
        } else {
            averr = pkt->stream_index == si ? avcodec_send_packet(dc, pkt) : 0;
            av_packet_unref(pkt);
        }
        if (averr < 0 && averr != AVERROR(EAGAIN)) {
            lvcrd_av_err(err, err_size, "decoding", averr);
            goto end;
        }
        while ((!y.max || y.n < y.max) && (averr = avcodec_receive_frame(dc, fr)) >= 0) {
            const int r = y4m_put(&y, fr, err, err_size);
            av_frame_unref(fr);
            if (r < 0)
                goto end;
        }
        if (averr < 0 && averr != AVERROR(EAGAIN) && averr != AVERROR_EOF) {
            lvcrd_av_err(err, err_size, "decoding", averr);
            goto end;
        }
    }
    if (!y.n) {
        snprintf(err, err_size, "no frame decoded");
        goto end;
    }
    ret = 0;
end:
    if (y.f && (ferror(y.f) | fclose(y.f)) && !ret) {
        snprintf(err, err_size, "writing its Y4M copy failed");
        ret = -1;
    }
    sws_freeContext(y.sws);
    av_frame_free(&y.tmp);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    avformat_close_input(&fc);
    av_log_set_level(log_level);
    return ret;
}

#endif /* LVC_HAVE_FFMPEG */

/* ---------------------------------------------------------- distortion */

typedef struct Dist {
    double se[3], cnt[3];
} Dist;

/* Adds the squared errors of one decoded frame (planes p[] with strides)
 * against the source planes src (packed). */
static void dist_add(Dist *d, const LvcVideoFormat *f, uint8_t *const p[3],
                     const int stride[3], const uint8_t *src)
{
    for (int k = 0; k < 3; k++) {
        uint32_t w, h;
        plane_dims(f, k, &w, &h);
        double s = 0;
        for (uint32_t y = 0; y < h; y++) {
            const uint8_t *a = p[k] + (size_t)y * (size_t)stride[k];
            for (uint32_t x = 0; x < w; x++) {
                const double e = (double)a[x] - src[x];
                s += e * e;
            }
            src += w;
        }
        d->se[k] += s;
        d->cnt[k] += (double)w * h;
    }
}

static double psnr_of(double se, double n)
{
    if (n <= 0)
        return NAN;
    return se > 0 ? 10.0 * log10(255.0 * 255.0 * n / se) : 100.0;
}

static void dist_psnr(const Dist *d, double psnr[3], double *yuv)
{
    for (int k = 0; k < 3; k++)
        psnr[k] = psnr_of(d->se[k], d->cnt[k]);
    /* the usual weighting of the planes' PSNR for 4:2:0 video */
    *yuv = d->cnt[1] > 0 ? (6 * psnr[0] + psnr[1] + psnr[2]) / 8 : psnr[0];
}

static void finish_point(const Clip *c, const Dist *d, size_t bytes, double enc_s,
                         double dec_s, double param, VPoint *pt)
{
    memset(pt, 0, sizeof(*pt));
    pt->param = param;
    pt->bytes = bytes;
    pt->bpp = bytes * 8.0 / ((double)c->fmt.width * c->fmt.height * c->frames);
    pt->kbps = bytes * 8.0 / 1000.0 * c->fmt.fps_num / c->fmt.fps_den / c->frames;
    dist_psnr(d, pt->psnr, &pt->psnr_yuv);
    pt->enc_s = enc_s / c->frames;
    pt->dec_s = dec_s / c->frames;
}

/* The planes of a packed frame buffer in format f. */
static void packed_planes(const LvcVideoFormat *f, uint8_t *buf, uint8_t *p[3], int stride[3])
{
    for (int k = 0; k < 3; k++) {
        uint32_t w, h;
        plane_dims(f, k, &w, &h);
        p[k] = buf;
        stride[k] = (int)w;
        buf += (size_t)w * h;
    }
}

/* src (3 channels, 16 bit) rounded to 8 bits into dst (allocated). */
static void rgb16_to_8(const LvcImage *src, LvcImage *dst)
{
    for (int y = 0; y < src->height; y++) {
        const uint16_t *a = (const uint16_t *)(const void *)(src->data + (size_t)y * src->stride);
        uint8_t *b = dst->data + (size_t)y * dst->stride;
        for (int x = 0; x < 3 * src->width; x++)
            b[x] = (uint8_t)((a[x] * 255u + 32767u) / 65535u);
    }
}



/* Prepares a clip: its .y4m (written into src/ for other inputs) and the
 * planes of its first frames. */
static int prepare_clip(VRun *r, Clip *c, char *err, size_t err_size)
{
    char in[4096];
    snprintf(in, sizeof(in), "%s/%s", r->o.dir, c->name);
    if (ends_with_ci(c->name, ".y4m")) {
        c->kind = "y4m";
        snprintf(c->y4m, sizeof(c->y4m), "%s", in);
    } else {
        char src[4096];
        snprintf(src, sizeof(src), "%s/src", r->o.outdir);
        if (make_dir(src) < 0) {
            snprintf(err, err_size, "%s/src: %s", r->o.outdir, strerror(errno));
            return -1;
        }
        snprintf(c->y4m, sizeof(c->y4m), "%s/src/%s.y4m", r->o.outdir, c->name);
        if (ends_with_ci(c->name, ".yuv")) {
            c->kind = "raw";
            if (raw_to_y4m(in, c->name, c->y4m, r->o.frames, err, err_size) < 0)
                return -1;
        } else {
            c->kind = "container";
#if LVC_HAVE_FFMPEG
            if (container_to_y4m(in, c->y4m, r->o.frames, r->o.threads, r->o.verbose, err,
                                 err_size) < 0)
                return -1;
#else
            snprintf(err, err_size, "lvcrd was built without FFmpeg");
            return -1;
#endif
        }
    }
    FILE *f = fopen(c->y4m, "rb");
    if (!f) {
        snprintf(err, err_size, "cannot open its Y4M: %s", strerror(errno));
        return -1;
    }
    LvcYuvReader *rd = NULL;
    LvcImage img = { 0 }, img8 = { 0 };
    uint8_t *rt = NULL;
    Dist d;
    memset(&d, 0, sizeof(d));
    int ret = lvc_y4m_reader_open(&rd, f, 0, &c->fmt);
    if (ret < 0) {
        snprintf(err, err_size, "YUV4MPEG2 header: %s", lvc_error_string(ret));
        fclose(f);
        return -1;
    }
    c->frame_size = lvc_yuv_frame_size(&c->fmt);
    size_t cap = 0;
    if ((ret = lvc_image_alloc(&img8, (int)c->fmt.width, (int)c->fmt.height, 3, 8)) < 0 ||
        !(rt = malloc(c->frame_size)))
        ret = LVC_ERR_NOMEM;
    while (ret >= 0 && (!r->o.frames || c->frames < r->o.frames)) {
        if ((ret = lvc_yuv_read_frame(rd, &img)) <= 0)
            break;
        size_t ps = 0;
        const uint8_t *p = lvc_yuv_reader_planes(rd, &ps);
        if (!p || ps != c->frame_size) {
            ret = LVC_ERR_INVALID_ARG;
            break;
        }
        rgb16_to_8(&img, &img8);
        lvc_image_free(&img);
        if ((ret = lvc_yuv_from_rgb(&c->fmt, &img8, rt)) < 0)
            break;
        uint8_t *pp[3];
        int stride[3];
        packed_planes(&c->fmt, rt, pp, stride);
        dist_add(&d, &c->fmt, pp, stride, p);
        if ((size_t)c->frames == cap) {
            cap = cap ? 2 * cap : 32;
            uint8_t *np = cap <= SIZE_MAX / c->frame_size
                        ? realloc(c->planes, cap * c->frame_size) : NULL;
            if (!np) {
                ret = LVC_ERR_NOMEM;
                break;
            }
            c->planes = np;
        }
        memcpy(c->planes + (size_t)c->frames * c->frame_size, p, ps);
        c->frames++;
    }
    lvc_yuv_reader_close(&rd);
    fclose(f);
    lvc_image_free(&img);
    lvc_image_free(&img8);
    free(rt);
    if (ret == LVC_ERR_TRUNCATED && c->frames) {
        note(r, "%s: frame %d is cut short; the %d before it are used", c->name, c->frames,
             c->frames);
        ret = 0;
    }
    if (ret < 0) {
        snprintf(err, err_size, "frame %d: %s", c->frames, lvc_error_string(ret));
        return -1;
    }
    if (!c->frames) {
        snprintf(err, err_size, "no frames");
        return -1;
    }
    dist_psnr(&d, c->ceil_psnr, &c->ceil_yuv);
    return 0;
}

/* ----------------------------------------------------------------- lvc */

static int append(uint8_t **buf, size_t *size, size_t *cap, const uint8_t *data, size_t n)
{
    if (n > *cap - *size) {
        size_t nc = *cap ? *cap : 65536;
        while (nc - *size < n)
            nc *= 2;
        uint8_t *nb = realloc(*buf, nc);
        if (!nb)
            return LVC_ERR_NOMEM;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *size, data, n);
    *size += n;
    return 0;
}

/* Codes the clip as lvcenc would (header, then a box per frame; the size
 * is the stream's) and decodes it as lvcdec does. Timed: the header and
 * the frames, not opening the encoder or decoder (the model load) nor the
 * conversions between the source's Y'CbCr and RGB. */
static int lvc_point(const VRun *r, const Clip *c, int gop, double q, VPoint *pt, char *err,
                     size_t err_size)
{
    FILE *f = fopen(c->y4m, "rb");
    LvcYuvReader *rd = NULL;
    LvcVideoEncoder *enc = NULL;
    LvcVideoDecoder *dec = NULL;
    LvcImage img = { 0 };
    LvcVideoFormat fmt;
    uint8_t *stream = NULL, *out = NULL, *planes = malloc(c->frame_size);
    size_t size = 0, cap = 0, n = 0;
    double te = 0, td = 0, t0;
    Dist d;
    memset(&d, 0, sizeof(d));
    int ret = LVC_ERR_NOMEM, i;
    if (!f || !planes) {
        snprintf(err, err_size, "%s", f ? "out of memory" : strerror(errno));
        goto end;
    }
    if ((ret = lvc_y4m_reader_open(&rd, f, 0, &fmt)) < 0) {
        snprintf(err, err_size, "reading the Y4M: %s", lvc_error_string(ret));
        goto end;
    }
    LvcVideoEncoderSettings s;
    lvc_video_encoder_default_settings(&s);
    s.model = r->o.model;
    s.quality = (float)q;
    s.gop = gop;
    s.threads = r->o.threads;
    s.verbose = r->o.verbose;
    if ((ret = lvc_video_encoder_open(&enc, &s, &c->fmt)) < 0) {
        snprintf(err, err_size, "lvc_video_encoder_open: %s%s", lvc_error_string(ret),
                 ret == LVC_ERR_UNSUPPORTED ? " (video needs elic or checkerboard)" : "");
        goto end;
    }
    t0 = lvcrd_now();
    ret = lvc_video_encode_header(enc, &out, &n);
    te += lvcrd_now() - t0;
    if (ret < 0 || (ret = append(&stream, &size, &cap, out, n)) < 0) {
        snprintf(err, err_size, "lvc_video_encode_header: %s", lvc_error_string(ret));
        goto end;
    }
    free(out);
    out = NULL;
    for (i = 0; i < c->frames; i++) {
        if ((ret = lvc_yuv_read_frame(rd, &img)) <= 0) {
            ret = ret ? ret : LVC_ERR_TRUNCATED;
            snprintf(err, err_size, "reading frame %d: %s", i, lvc_error_string(ret));
            goto end;
        }
        t0 = lvcrd_now();
        ret = lvc_video_encode_frame(enc, &img, &out, &n, NULL);
        te += lvcrd_now() - t0;
        lvc_image_free(&img);
        if (ret < 0 || (ret = append(&stream, &size, &cap, out, n)) < 0) {
            snprintf(err, err_size, "lvc_video_encode_frame %d: %s", i, lvc_error_string(ret));
            goto end;
        }
        free(out);
        out = NULL;
    }
    lvc_video_encoder_close(&enc);

    LvcDecoderSettings ds;
    lvc_decoder_default_settings(&ds);
    ds.threads = r->o.threads;
    ds.verbose = r->o.verbose;
    LvcVideoInfo info;
    size_t pos = 0, used = 0;
    if ((ret = lvc_video_decoder_open(&dec, &ds)) < 0 ||
        (ret = lvc_video_decode_header(dec, stream, size, &used, &info)) < 0) {
        snprintf(err, err_size, "lvc_video_decode_header: %s", lvc_error_string(ret));
        goto end;
    }
    pos = used;
    i = 0;
    while (pos < size) {
        t0 = lvcrd_now();
        ret = lvc_video_decode_frame(dec, stream + pos, size - pos, &used, &img, NULL);
        td += lvcrd_now() - t0;
        if (ret < 0) {
            snprintf(err, err_size, "lvc_video_decode_frame %d: %s", i, lvc_error_string(ret));
            goto end;
        }
        pos += used;
        if (ret == 0)
            continue;
        if (i == c->frames || (ret = lvc_yuv_from_rgb(&c->fmt, &img, planes)) < 0) {
            ret = ret < 0 ? ret : LVC_ERR_CORRUPT;
            snprintf(err, err_size, "decoded frame %d: %s", i, lvc_error_string(ret));
            goto end;
        }
        uint8_t *p[3];
        int stride[3];
        packed_planes(&c->fmt, planes, p, stride);
        dist_add(&d, &c->fmt, p, stride, c->planes + (size_t)i * c->frame_size);
        lvc_image_free(&img);
        i++;
    }
    if (i != c->frames) {
        ret = LVC_ERR_CORRUPT;
        snprintf(err, err_size, "decoded %d frames of %d", i, c->frames);
        goto end;
    }
    finish_point(c, &d, size, te, td, q, pt);
    ret = 0;
end:
    lvc_image_free(&img);
    lvc_video_encoder_close(&enc);
    lvc_video_decoder_close(&dec);
    lvc_yuv_reader_close(&rd);
    if (f)
        fclose(f);
    free(out);
    free(stream);
    free(planes);
    return ret;
}

/* ------------------------------------------------------- x264 and x265 */

#if LVC_HAVE_FFMPEG

static const char *const av_encoders[2] = { "libx264", "libx265" };
static const char *const av_decoders[2] = { "h264", "hevc" };

/* Removes from an H.264 Annex B packet the SEI NAL units whose first
 * message is user data unregistered (payload type 5): x264 writes its
 * version and every option there (some 600 bytes in the first packet),
 * which a decoder ignores; x265's counterpart is turned off by info=0.
 * Returns the new size. */
static size_t strip_h264_user_sei(uint8_t *p, size_t n)
{
    size_t s = 0;
    while (s + 3 <= n && !(p[s] == 0 && p[s + 1] == 0 && p[s + 2] == 1))
        s++;
    if (s + 3 > n)
        return n;
    size_t out = s;
    while (s < n) {
        const size_t nal = s + 3;
        size_t next = nal;
        while (next + 3 <= n && !(p[next] == 0 && p[next + 1] == 0 && p[next + 2] == 1))
            next++;
        if (next + 3 > n)
            next = n;
        const int drop = nal + 1 < next && (p[nal] & 0x1f) == 6 && p[nal + 1] == 5;
        if (!drop) {
            memmove(p + out, p + s, next - s);
            out += next - s;
        }
        s = next;
    }
    return out;
}

static enum AVPixelFormat pix_fmt_of(const LvcVideoFormat *f)
{
    switch (f->chroma) {
    case LVC_CHROMA_420: return AV_PIX_FMT_YUV420P;
    case LVC_CHROMA_422: return AV_PIX_FMT_YUV422P;
    case LVC_CHROMA_444: return AV_PIX_FMT_YUV444P;
    default: return AV_PIX_FMT_GRAY8;
    }
}

typedef struct Packets {
    uint8_t *data;
    size_t size, cap;
    size_t *end;                /* end offset of each packet */
    int n, cap_n;
} Packets;

static int packets_add(Packets *pk, const uint8_t *data, size_t n)
{
    if (pk->n == pk->cap_n) {
        const int nc = pk->cap_n ? 2 * pk->cap_n : 64;
        size_t *ne = realloc(pk->end, (size_t)nc * sizeof(*ne));
        if (!ne)
            return LVC_ERR_NOMEM;
        pk->end = ne;
        pk->cap_n = nc;
    }
    int ret = append(&pk->data, &pk->size, &pk->cap, data, n);
    if (ret < 0)
        return ret;
    pk->end[pk->n++] = pk->size;
    return 0;
}

static int configure(AVCodecContext *ctx, int which, double crf, int gop, int threads,
                     int verbose)
{
    char buf[160];
    snprintf(buf, sizeof(buf), "%g", crf);
    int ret = av_opt_set(ctx->priv_data, "crf", buf, 0);
    if (ret >= 0)
        ret = av_opt_set(ctx->priv_data, "preset", "medium", 0);
    /* tune=psnr: no psycho-visual RD or adaptive quantisation, which
     * trade PSNR for perceived detail */
    if (ret >= 0)
        ret = av_opt_set(ctx->priv_data, "tune", "psnr", 0);
    if (ret >= 0 && which == 1) {
        /* info=0: no SEI naming the options; log-level none: quiet. The
         * pools are x265's worker threads (its default: all cores). */
        int k = snprintf(buf, sizeof(buf), "keyint=%d:bframes=0:info=0:log-level=%s", gop,
                         verbose ? "info" : "none");
        if (threads > 0)
            snprintf(buf + k, sizeof(buf) - (size_t)k, ":pools=%d", threads);
        ret = av_opt_set(ctx->priv_data, "x265-params", buf, 0);
    }
    return ret;
}

/* Encodes the clip's planes with x264 (which 0) or x265 (1) at crf and
 * decodes the packets back. Timed: sending frames and receiving packets
 * (encode), sending packets and receiving frames (decode); not opening
 * the codecs. */
static int av_point(VRun *r, const Clip *c, int which, double crf, VPoint *pt, char *err,
                    size_t err_size)
{
    AVCodecContext *enc = NULL, *dec = NULL;
    AVFrame *frame = av_frame_alloc(), *out = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    Packets pk = { 0 };
    double te = 0, td = 0, t0;
    Dist d;
    memset(&d, 0, sizeof(d));
    int ret = LVC_ERR_NOMEM, averr, nout = 0;
    const enum AVPixelFormat pf = pix_fmt_of(&c->fmt);
    const AVCodec *codec = avcodec_find_encoder_by_name(av_encoders[which]);
    const AVCodec *dcodec = avcodec_find_decoder_by_name(av_decoders[which]);
    if (!frame || !out || !pkt) {
        snprintf(err, err_size, "out of memory");
        goto end;
    }
    ret = LVC_ERR_UNSUPPORTED;
    if (!codec || !dcodec) {
        snprintf(err, err_size, "%s or %s not in this libavcodec", av_encoders[which],
                 av_decoders[which]);
        goto end;
    }
    if (!(enc = avcodec_alloc_context3(codec))) {
        ret = LVC_ERR_NOMEM;
        snprintf(err, err_size, "out of memory");
        goto end;
    }
    enc->width = (int)c->fmt.width;
    enc->height = (int)c->fmt.height;
    enc->pix_fmt = pf;
    enc->time_base = (AVRational){ (int)c->fmt.fps_den, (int)c->fmt.fps_num };
    enc->framerate = (AVRational){ (int)c->fmt.fps_num, (int)c->fmt.fps_den };
    enc->gop_size = r->o.gop;
    enc->max_b_frames = 0;   /* low delay, as lvc */
    enc->thread_count = r->o.threads;
    enc->color_range = c->fmt.full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    enc->colorspace = c->fmt.matrix == LVC_MATRIX_BT709 ? AVCOL_SPC_BT709 : AVCOL_SPC_BT470BG;
    enc->chroma_sample_location = c->fmt.siting == LVC_SITING_CENTER ? AVCHROMA_LOC_CENTER
                                                                     : AVCHROMA_LOC_LEFT;
    if ((averr = configure(enc, which, crf, r->o.gop, r->o.threads, r->o.verbose)) < 0) {
        lvcrd_av_err(err, err_size, "encoder option", averr);
        goto end;
    }
    if ((averr = avcodec_open2(enc, codec, NULL)) < 0) {
        lvcrd_av_err(err, err_size, "opening the encoder", averr);
        goto end;
    }
    frame->format = pf;
    frame->width = enc->width;
    frame->height = enc->height;
    frame->color_range = enc->color_range;
    frame->colorspace = enc->colorspace;
    if ((averr = av_frame_get_buffer(frame, 0)) < 0) {
        ret = LVC_ERR_NOMEM;
        lvcrd_av_err(err, err_size, "frame buffer", averr);
        goto end;
    }
    size_t removed = 0;
    for (int i = 0; i <= c->frames; i++) {
        const AVFrame *in = NULL;
        if (i < c->frames) {
            if ((averr = av_frame_make_writable(frame)) < 0) {
                lvcrd_av_err(err, err_size, "frame buffer", averr);
                goto end;
            }
            const uint8_t *src = c->planes + (size_t)i * c->frame_size;
            for (int k = 0; k < 3; k++) {
                uint32_t w, h;
                plane_dims(&c->fmt, k, &w, &h);
                for (uint32_t y = 0; y < h; y++, src += w)
                    memcpy(frame->data[k] + (size_t)y * (size_t)frame->linesize[k], src, w);
            }
            frame->pts = i;
            in = frame;
        }
        t0 = lvcrd_now();
        averr = avcodec_send_frame(enc, in);
        while (averr >= 0 && (averr = avcodec_receive_packet(enc, pkt)) >= 0) {
            te += lvcrd_now() - t0;
            size_t n = (size_t)pkt->size;
            if (which == 0) {
                n = strip_h264_user_sei(pkt->data, n);
                removed += (size_t)pkt->size - n;
            }
            ret = packets_add(&pk, pkt->data, n);
            av_packet_unref(pkt);
            if (ret < 0) {
                snprintf(err, err_size, "out of memory");
                goto end;
            }
            t0 = lvcrd_now();
        }
        te += lvcrd_now() - t0;
        ret = LVC_ERR_UNSUPPORTED;
        if (averr != AVERROR(EAGAIN) && averr != AVERROR_EOF) {
            lvcrd_av_err(err, err_size, "encoding", averr);
            goto end;
        }
    }
    if (which == 0 && removed)
        r->x264_sei_bytes = removed;

    if (!(dec = avcodec_alloc_context3(dcodec))) {
        ret = LVC_ERR_NOMEM;
        snprintf(err, err_size, "out of memory");
        goto end;
    }
    dec->thread_count = r->o.threads;
    if ((averr = avcodec_open2(dec, dcodec, NULL)) < 0) {
        lvcrd_av_err(err, err_size, "opening the decoder", averr);
        goto end;
    }
    ret = LVC_ERR_CORRUPT;
    for (int i = 0; i <= pk.n; i++) {
        AVPacket *in = NULL;
        if (i < pk.n) {
            const size_t start = i ? pk.end[i - 1] : 0;
            if ((averr = av_new_packet(pkt, (int)(pk.end[i] - start))) < 0) {
                lvcrd_av_err(err, err_size, "packet", averr);
                goto end;
            }
            memcpy(pkt->data, pk.data + start, pk.end[i] - start);
            in = pkt;
        }
        t0 = lvcrd_now();
        averr = avcodec_send_packet(dec, in);
        av_packet_unref(pkt);
        while (averr >= 0 && (averr = avcodec_receive_frame(dec, out)) >= 0) {
            td += lvcrd_now() - t0;
            int full = 0;
            if (nout == c->frames || out->width != enc->width || out->height != enc->height ||
                (enum AVPixelFormat)lvcrd_av_unj(out->format, &full) != pf) {
                snprintf(err, err_size, "decoded frame %d: %dx%d %s, expected %dx%d %s", nout,
                         out->width, out->height,
                         av_get_pix_fmt_name((enum AVPixelFormat)out->format), enc->width,
                         enc->height, av_get_pix_fmt_name(pf));
                goto end;
            }
            dist_add(&d, &c->fmt, out->data, out->linesize,
                     c->planes + (size_t)nout * c->frame_size);
            nout++;
            av_frame_unref(out);
            t0 = lvcrd_now();
        }
        td += lvcrd_now() - t0;
        if (averr != AVERROR(EAGAIN) && averr != AVERROR_EOF) {
            lvcrd_av_err(err, err_size, "decoding", averr);
            goto end;
        }
    }
    if (nout != c->frames) {
        snprintf(err, err_size, "decoded %d frames of %d", nout, c->frames);
        goto end;
    }
    finish_point(c, &d, pk.size, te, td, crf, pt);
    ret = 0;
end:
    free(pk.data);
    free(pk.end);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    av_frame_free(&out);
    avcodec_free_context(&enc);
    avcodec_free_context(&dec);
    return ret;
}

#endif /* LVC_HAVE_FFMPEG */

/* ------------------------------------------------------------- results */

static void csv_row(VRun *r, const Clip *c, int k, const VPoint *p)
{
    /* a name with a comma or a quote is quoted */
    if (strpbrk(c->name, ",\"\n")) {
        fputc('"', r->csv);
        for (const char *s = c->name; *s; s++)
            fprintf(r->csv, *s == '"' ? "\"\"" : "%c", *s);
        fputc('"', r->csv);
    } else {
        fputs(c->name, r->csv);
    }
    fprintf(r->csv, ",%s,%g,%d,%u,%u,%zu,%.6f,%.3f,%.4f,", codec_names[k], p->param,
            c->frames, c->fmt.width, c->fmt.height, p->bytes, p->bpp, p->kbps, p->psnr[0]);
    if (isfinite(p->psnr[1]))
        fprintf(r->csv, "%.4f,%.4f,", p->psnr[1], p->psnr[2]);
    else
        fputs(",,", r->csv);
    fprintf(r->csv, "%.4f,%.6f,%.6f\n", p->psnr_yuv, p->enc_s, p->dec_s);
    fflush(r->csv);
}

/* BD-rate of curve t against curve a on PSNR-YUV (y = 0) or PSNR-Y (1). */
static int bd_of(const VCurve *a, const VCurve *t, int y, double *bd)
{
    double ra[MAX_PTS], qa[MAX_PTS], rt[MAX_PTS], qt[MAX_PTS];
    for (int i = 0; i < a->n; i++) {
        ra[i] = a->p[i].bpp;
        qa[i] = y ? a->p[i].psnr[0] : a->p[i].psnr_yuv;
    }
    for (int i = 0; i < t->n; i++) {
        rt[i] = t->p[i].bpp;
        qt[i] = y ? t->p[i].psnr[0] : t->p[i].psnr_yuv;
    }
    return lvcrd_bd_rate(ra, qa, a->n, rt, qt, t->n, bd);
}

static void fmt_bd(int ret, double bd, char *buf, size_t size)
{
    if (ret == 0)
        snprintf(buf, size, "%+.1f%%", bd);
    else
        snprintf(buf, size, "%s", ret == LVC_ERR_UNSUPPORTED ? "no overlap" : "–");
}

static const char *source_of(const Clip *c)
{
    return !strcmp(c->kind, "y4m") ? "Y4M"
         : !strcmp(c->kind, "raw") ? "raw 4:2:0, written to src/ as Y4M"
                                   : "decoded with libavcodec, written to src/ as Y4M";
}

static int write_md(VRun *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const VOptions *o = &r->o;
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
    const char *model = o->model ? o->model : lvc_model_default();
    char threads[48] = "threads on all cores";
    if (o->threads)
        snprintf(threads, sizeof(threads), "%d thread%s", o->threads, o->threads > 1 ? "s" : "");
    fprintf(f, "# Video coding: rate and PSNR\n\nGenerated by lvcrd (lvc %s) on %s.\n\n"
               "```\n%s\n```\n\n", lvc_version(), date, r->cmdline);
    char frames[48] = "All frames";
    if (o->frames)
        snprintf(frames, sizeof(frames), "The first %d frame%s", o->frames,
                 o->frames == 1 ? "" : "s");
    fprintf(f, "%s of each clip. `lvc`: model %s, GOP %d (inter frames); `lvc-intra`: "
               "every frame intra (GOP 1); qualities in `param`. ", frames,
            model ? model : "(none)", o->gop);
    fprintf(f, "`x264` and `x265` (libavcodec %s): preset medium, tune psnr, keyint %d, no "
               "B-frames, CRF in `param`, fed the source planes (4:2:0 8 bit); sizes are the "
               "elementary stream (x264's version SEI removed, x265 `info=0`). ",
#if LVC_HAVE_FFMPEG
            AV_STRINGIFY(LIBAVCODEC_VERSION),
#else
            "not built in",
#endif
            o->gop);
    fprintf(f, "PSNR of the decoded Y, Cb, Cr planes against the source's (lvc's RGB output "
               "converted back to the source format), from the squared error pooled over all "
               "frames; PSNR-YUV = (6 Y + Cb + Cr) / 8. bpp = bits / (width x height x "
               "frames); kbit/s at the clip's frame rate. Seconds per frame of the coding "
               "calls (model load and codec setup excluded) with %s.\n\n", threads);
    for (int i = 0; i < r->num_clips; i++) {
        const Clip *c = &r->clips[i];
        if (!c->ok)
            continue;
        fprintf(f, "## %s\n\n%ux%u, %d frame%s at %.4g fps (%s). lvc's ceiling, the "
                   "source through 8-bit RGB and back: PSNR-Y %.2f, PSNR-YUV %.2f dB.\n\n"
                   "| codec | param | bytes | bpp | kbit/s | PSNR-Y | PSNR-Cb | PSNR-Cr | "
                   "PSNR-YUV | enc s/frame | dec s/frame |\n"
                   "|---|---|---|---|---|---|---|---|---|---|---|\n",
                c->name, c->fmt.width, c->fmt.height, c->frames, c->frames == 1 ? "" : "s",
                (double)c->fmt.fps_num / c->fmt.fps_den, source_of(c), c->ceil_psnr[0],
                c->ceil_yuv);
        for (int k = 0; k < NCODECS; k++) {
            for (int j = 0; j < c->curve[k].n; j++) {
                const VPoint *p = &c->curve[k].p[j];
                fprintf(f, "| %s | %g | %zu | %.4f | %.1f | %.2f |", codec_names[k], p->param,
                        p->bytes, p->bpp, p->kbps, p->psnr[0]);
                if (isfinite(p->psnr[1]))
                    fprintf(f, " %.2f | %.2f |", p->psnr[1], p->psnr[2]);
                else
                    fputs(" – | – |", f);
                fprintf(f, " %.2f | %.3f | %.3f |\n", p->psnr_yuv, p->enc_s, p->dec_s);
            }
        }
        fputs("\n", f);
    }

    /* BD-rates against lvc-intra and x264, per clip and averaged */
    static const int anchors[2] = { C_LVC_INTRA, C_X264 };
    fputs("## BD-rate\n\nPer clip, of each configuration against `lvc-intra` and against "
          "`x264`, on PSNR-YUV and on PSNR-Y (PCHIP of log rate over PSNR, over the "
          "overlapping PSNR range; negative: fewer bits for the same PSNR). The average is "
          "the mean over the clips where both curves have points that overlap (their count "
          "in brackets when not every clip).\n\n"
          "| clip | codec | vs lvc-intra, YUV | vs lvc-intra, Y | vs x264, YUV | vs x264, Y |\n"
          "|---|---|---|---|---|---|\n", f);
    double sum[NCODECS][4];
    int cnt[NCODECS][4];
    memset(sum, 0, sizeof(sum));
    memset(cnt, 0, sizeof(cnt));
    int nclips = 0;
    for (int i = 0; i < r->num_clips; i++) {
        const Clip *c = &r->clips[i];
        if (!c->ok)
            continue;
        nclips++;
        for (int k = 0; k < NCODECS; k++) {
            if (!c->curve[k].n)
                continue;
            fprintf(f, "| %s | %s |", c->name, codec_names[k]);
            for (int a = 0; a < 2; a++) {
                for (int y = 0; y < 2; y++) {
                    char b[32];
                    double bd = 0;
                    int ret = LVC_ERR_INVALID_ARG;
                    if (c->curve[anchors[a]].n)
                        ret = bd_of(&c->curve[anchors[a]], &c->curve[k], y, &bd);
                    if (k == anchors[a])
                        snprintf(b, sizeof(b), "0");
                    else
                        fmt_bd(ret, bd, b, sizeof(b));
                    fprintf(f, " %s |", b);
                    if (ret == 0) {
                        sum[k][2 * a + y] += bd;
                        cnt[k][2 * a + y]++;
                    }
                }
            }
            fputs("\n", f);
        }
    }
    for (int k = 0; k < NCODECS; k++) {
        int any = 0;
        for (int m = 0; m < 4; m++)
            any |= cnt[k][m] > 0;
        if (!any)
            continue;
        fprintf(f, "| **average** | %s |", codec_names[k]);
        for (int m = 0; m < 4; m++) {
            if (k == anchors[m / 2])
                fputs(" 0 |", f);
            else if (!cnt[k][m])
                fputs(" – |", f);
            else if (cnt[k][m] < nclips)
                fprintf(f, " %+.1f%% (%d) |", sum[k][m] / cnt[k][m], cnt[k][m]);
            else
                fprintf(f, " %+.1f%% |", sum[k][m] / cnt[k][m]);
        }
        fputs("\n", f);
    }
    if (r->num_notes || r->x264_sei_bytes) {
        fputs("\n## Notes\n\n", f);
        if (r->x264_sei_bytes)
            fprintf(f, "- x264's version SEI (user data unregistered, about %zu bytes per stream) "
                       "is removed from its streams before they are measured and decoded.\n",
                    r->x264_sei_bytes);
        for (int i = 0; i < r->num_notes; i++)
            fprintf(f, "- %s\n", r->notes[i]);
    }
    const int bad = ferror(f);
    return fclose(f) || bad ? -1 : 0;
}

/* --------------------------------------------------------------- main */

static int list_clips(VRun *r)
{
    DIR *d = opendir(r->o.dir);
    if (!d) {
        fprintf(stderr, "lvcrd: %s: %s\n", r->o.dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_clip(e->d_name) || strlen(e->d_name) >= sizeof(r->clips[0].name))
            continue;
        if (r->num_clips == MAX_CLIPS) {
            fprintf(stderr, "lvcrd: %s: more than %d clips, the rest is ignored\n", r->o.dir,
                    MAX_CLIPS);
            break;
        }
        snprintf(r->clips[r->num_clips++].name, sizeof(r->clips[0].name), "%s", e->d_name);
    }
    closedir(d);
    if (!r->num_clips) {
        fprintf(stderr, "lvcrd: %s: no .y4m, .yuv or video file\n", r->o.dir);
        return -1;
    }
    qsort(r->clips, (size_t)r->num_clips, sizeof(*r->clips), cmp_clip);
    return 0;
}

static void quote_cmdline(char *out, size_t size, int argc, char **argv)
{
    out[0] = 0;
    for (int i = 0; i < argc; i++) {
        /* shell-quoted so that the command in video.md can be pasted */
        const size_t l = strlen(out);
        const int plain = argv[i][0] && !argv[i][strspn(argv[i],
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%")];
        if (plain || strchr(argv[i], '\''))
            snprintf(out + l, size - l, "%s%s", i ? " " : "", argv[i]);
        else
            snprintf(out + l, size - l, "%s'%s'", i ? " " : "", argv[i]);
    }
}

static void run_clip(VRun *r, int ci)
{
    Clip *c = &r->clips[ci];
    char err[512];
    if (prepare_clip(r, c, err, sizeof(err)) < 0) {
        note(r, "%s/%s: %s (clip skipped)", r->o.dir, c->name, err);
        return;
    }
    if (!r->o.quiet)
        fprintf(stderr, "lvcrd: [%d/%d] %s: %ux%u, %d frames at %.4g fps; through 8-bit RGB "
                "and back: PSNR-Y %.2f YUV %.2f dB\n", ci + 1, r->num_clips, c->name,
                c->fmt.width, c->fmt.height, c->frames, (double)c->fmt.fps_num / c->fmt.fps_den,
                c->ceil_psnr[0], c->ceil_yuv);
    for (int k = 0; k < NCODECS; k++) {
        if (!r->o.want[k])
            continue;
        const int lvc = k == C_LVC || k == C_LVC_INTRA;
#if !LVC_HAVE_FFMPEG
        if (!lvc)
            continue;   /* noted once by the caller */
#endif
        const int np = lvc ? r->o.nq : r->o.ncrf;
        for (int j = 0; j < np; j++) {
            const double param = lvc ? r->o.q[j] : r->o.crf[j];
            VPoint *p = &c->curve[k].p[c->curve[k].n];
            int ret;
            if (lvc)
                ret = lvc_point(r, c, k == C_LVC ? r->o.gop : 1, param, p, err, sizeof(err));
            else
#if LVC_HAVE_FFMPEG
                ret = av_point(r, c, k == C_X265, param, p, err, sizeof(err));
#else
                ret = LVC_ERR_UNSUPPORTED;
#endif
            if (ret < 0) {
                r->failed++;
                note(r, "%s %s %s %g: %s", c->name, codec_names[k], lvc ? "q" : "crf", param,
                     err);
                continue;
            }
            c->curve[k].n++;
            c->ok = 1;
            r->points++;
            csv_row(r, c, k, p);
            if (!r->o.quiet)
                fprintf(stderr, "lvcrd: [%d/%d] %s %s %s %g: %zu bytes, %.4f bpp, %.1f kbit/s, "
                        "PSNR-Y %.2f YUV %.2f dB, enc %.3f dec %.3f s/frame\n", ci + 1,
                        r->num_clips, c->name, codec_names[k], lvc ? "q" : "crf", param,
                        p->bytes, p->bpp, p->kbps, p->psnr[0], p->psnr_yuv, p->enc_s, p->dec_s);
        }
    }
}

int lvcrd_video_main(int argc, char **argv)
{
    VRun *r = calloc(1, sizeof(*r));
    if (!r || !(r->clips = calloc(MAX_CLIPS, sizeof(*r->clips)))) {
        fprintf(stderr, "lvcrd: out of memory\n");
        free(r);
        return LVCRD_EXIT_IO;
    }
    int status = LVCRD_EXIT_USAGE;
    quote_cmdline(r->cmdline, sizeof(r->cmdline), argc, argv);
    const int po = parse_options(&r->o, argc, argv);
    if (po != 0) {
        status = po > 0 ? LVCRD_EXIT_OK : LVCRD_EXIT_USAGE;
        goto end;
    }
    if (r->o.want[C_LVC] || r->o.want[C_LVC_INTRA]) {
        const char *m = r->o.model ? r->o.model : lvc_model_default();
        if (!m || !lvc_model_find(m)) {
            fprintf(stderr, "lvcrd: lvc model '%s' is not registered in this build\n",
                    m ? m : "(default)");
            goto end;
        }
    }
    status = LVCRD_EXIT_IO;
    if (list_clips(r) < 0)
        goto end;
    if (make_dir(r->o.outdir) < 0) {
        fprintf(stderr, "lvcrd: %s: %s\n", r->o.outdir, strerror(errno));
        goto end;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/video.csv", r->o.outdir);
    if (!(r->csv = fopen(path, "w"))) {
        fprintf(stderr, "lvcrd: %s: %s\n", path, strerror(errno));
        goto end;
    }
    fputs("clip,codec,param,frames,width,height,bytes,bpp,kbps,psnr_y,psnr_cb,psnr_cr,"
          "psnr_yuv,enc_s_per_frame,dec_s_per_frame\n", r->csv);
    lvcrd_av_log_level(r->o.verbose);
    for (int k = C_X264; k <= C_X265; k++) {
        if (!r->o.want[k])
            continue;
#if LVC_HAVE_FFMPEG
        if (!avcodec_find_encoder_by_name(av_encoders[k - C_X264]) ||
            !avcodec_find_decoder_by_name(av_decoders[k - C_X264])) {
            note(r, "%s: %s or the %s decoder is not in this libavcodec, skipped",
                 codec_names[k], av_encoders[k - C_X264], av_decoders[k - C_X264]);
            r->o.want[k] = 0;
        }
#else
        note(r, "%s: lvcrd was built without FFmpeg, skipped", codec_names[k]);
        r->o.want[k] = 0;
#endif
    }
    for (int i = 0; i < r->num_clips; i++)
        run_clip(r, i);
    if (fclose(r->csv)) {
        r->csv = NULL;
        fprintf(stderr, "lvcrd: %s: write failed\n", path);
        goto end;
    }
    r->csv = NULL;
    snprintf(path, sizeof(path), "%s/video.md", r->o.outdir);
    if (write_md(r, path) < 0) {
        fprintf(stderr, "lvcrd: %s: cannot write\n", path);
        goto end;
    }
    if (!r->points) {
        fprintf(stderr, "lvcrd: nothing could be measured\n");
        status = LVCRD_EXIT_NOPOINT;
        goto end;
    }
    if (!r->o.quiet)
        printf("lvcrd: %ld point(s), %ld failed; results in %s (video.md, video.csv)\n",
               r->points, r->failed, r->o.outdir);
    status = LVCRD_EXIT_OK;
end:
    if (r->csv)
        fclose(r->csv);
    for (int i = 0; i < r->num_clips; i++)
        free(r->clips[i].planes);
    free(r->clips);
    free(r);
    return status;
}
