/*
 * Video in lvcenc, lvcdec and lvcinfo (apps/video_cli.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video_cli.h"

static int ends_with_ci(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (tolower((unsigned char)s[n - k + i]) != suffix[i])
            return 0;
    return 1;
}

int lvc_cli_is_video_name(const char *path)
{
    return path && (ends_with_ci(path, ".y4m") || ends_with_ci(path, ".yuv"));
}

int lvc_cli_is_y4m(const uint8_t *data, size_t size)
{
    return size >= 10 && !memcmp(data, "YUV4MPEG2 ", 10);
}

int lvc_cli_is_video_stream(const uint8_t *data, size_t size)
{
    return size >= 6 && !memcmp(data, "\x89LVC", 4) && data[5] == 2;
}

int lvc_cli_parse_size(const char *s, uint32_t *w, uint32_t *h)
{
    char *end;
    errno = 0;
    const unsigned long a = strtoul(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X') || !isdigit((unsigned char)s[0]))
        return -1;
    const char *t = end + 1;
    if (!isdigit((unsigned char)*t))
        return -1;
    const unsigned long b = strtoul(t, &end, 10);
    if (*end || errno || a < 1 || a > 65535 || b < 1 || b > 65535)
        return -1;
    *w = (uint32_t)a;
    *h = (uint32_t)b;
    return 0;
}

int lvc_cli_parse_rate(const char *s, uint32_t *num, uint32_t *den)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    const unsigned long a = strtoul(s, &end, 10);
    unsigned long b = 1;
    if (*end == '/') {
        const char *t = end + 1;
        if (!isdigit((unsigned char)*t))
            return -1;
        b = strtoul(t, &end, 10);
    }
    if (*end || errno || a < 1 || a > 1000000 || b < 1 || b > 1000000)
        return -1;
    *num = (uint32_t)a;
    *den = (uint32_t)b;
    return 0;
}

static const char *chroma_name(int c)
{
    static const char *const names[4] = { "4:2:0", "4:2:2", "4:4:4", "mono" };
    return c >= 0 && c < 4 ? names[c] : "?";
}

/* Opens the reader of a .y4m or .yuv file, or of a Y4M in memory (data
 * not NULL). */
static int open_source(const char *path, const char *name, int raw, const LvcVideoFormat *raw_fmt,
                       uint64_t max_pixels, const uint8_t *data, size_t size, FILE **f,
                       LvcYuvReader **r, LvcVideoFormat *fmt)
{
    *f = data ? fmemopen((void *)(uintptr_t)data, size, "rb") : fopen(path, "rb");
    if (!*f) {
        lvc_cli_error(name, "cannot open: %s", strerror(errno));
        return LVC_EXIT_IO;
    }
    int err;
    if (raw) {
        *fmt = *raw_fmt;
        err = lvc_yuv_reader_open_raw(r, *f, fmt);
    } else {
        err = lvc_y4m_reader_open(r, *f, max_pixels, fmt);
    }
    if (err < 0) {
        fclose(*f);
        *f = NULL;
        return lvc_cli_lib_error(name, err, raw ? NULL : "reading the YUV4MPEG2 header");
    }
    return 0;
}

int lvc_cli_encode_video(const LvcCliVideoEnc *o, LvcCliOutput *out, FILE *report)
{
    const char *in_name = lvc_cli_name(o->input, 0);
    const char *out_name = o->output ? lvc_cli_name(o->output, 1) : "(none)";
    const int raw = !o->data && ends_with_ci(o->input, ".yuv");
    const double t0 = lvc_cli_now();
    if (raw && !o->width) {
        lvc_cli_error(in_name, "a raw .yuv input needs --video-size WxH");
        return LVC_EXIT_USAGE;
    }
    if (!raw && o->width) {
        lvc_cli_error(in_name, "--video-size applies to raw .yuv input only");
        return LVC_EXIT_USAGE;
    }
    LvcVideoFormat fmt;
    lvc_video_format_default(&fmt);
    fmt.width = o->width;
    fmt.height = o->height;
    /* the matrix by size, as the Y4M reader chooses it */
    fmt.matrix = (uint64_t)o->width * o->height >= 1280 * 720 ? LVC_MATRIX_BT709
                                                               : LVC_MATRIX_BT601;
    if (raw && (uint64_t)o->width * o->height >
                   (o->max_pixels ? o->max_pixels : (UINT64_C(1) << 28))) {
        lvc_cli_error(in_name, "%ux%u is above the pixel limit", o->width, o->height);
        return LVC_EXIT_RESOURCE;
    }
    FILE *f = NULL;
    LvcYuvReader *r = NULL;
    LvcVideoEncoder *enc = NULL;
    LvcImage frame = { 0 };
    uint8_t *buf = NULL;
    size_t size = 0, total = 0;
    int status = open_source(o->input, in_name, raw, &fmt, o->max_pixels, o->data, o->size, &f,
                             &r, &fmt);
    if (status)
        return status;
    if (o->fps_num) {
        fmt.fps_num = o->fps_num;
        fmt.fps_den = o->fps_den;
    }
    LvcVideoEncoderSettings s;
    lvc_video_encoder_default_settings(&s);
    s.model = o->model;
    s.quality = (float)o->quality;
    s.gop = (int)o->gop;
    s.threads = o->threads;
    s.backend = o->backend;
    s.tile_size = o->tile;
    s.verbose = o->verbose > 1 ? 2 : o->verbose;
    int err = lvc_video_encoder_open(&enc, &s, &fmt);
    if (err < 0) {
        status = lvc_cli_lib_error(in_name, err, err == LVC_ERR_UNSUPPORTED
                                                     ? "video needs elic or checkerboard"
                                                     : NULL);
        goto end;
    }
    if ((err = lvc_video_encode_header(enc, &buf, &size)) < 0) {
        status = lvc_cli_lib_error(in_name, err, NULL);
        goto end;
    }
    if (o->output && (status = lvc_cli_output_write(out, buf, size)))
        goto end;
    total += size;
    free(buf);
    buf = NULL;
    long n = 0, nintra = 0;
    double t_frames = 0;
    for (;;) {
        if (o->frames && n >= o->frames)
            break;
        err = lvc_yuv_read_frame(r, &frame);
        if (err == 0)
            break;
        if (err < 0) {
            lvc_cli_error(in_name, "frame %ld: %s", n, lvc_error_string(err));
            status = lvc_cli_exit_code(err);
            goto end;
        }
        const double tf = lvc_cli_now();
        LvcVideoFrameInfo fi;
        err = lvc_video_encode_frame(enc, &frame, &buf, &size, &fi);
        lvc_image_free(&frame);
        if (err < 0) {
            lvc_cli_error(in_name, "frame %ld: %s", n, lvc_error_string(err));
            status = lvc_cli_exit_code(err);
            goto end;
        }
        t_frames += lvc_cli_now() - tf;
        if (o->verbose)
            fprintf(stderr, "frame %u %s %zu bytes, blocks intra %u inter %u skip %u\n",
                    fi.index, fi.intra ? "I" : "P", fi.bytes, fi.blocks_intra,
                    fi.blocks_inter, fi.blocks_skip);
        if (o->output && (status = lvc_cli_output_write(out, buf, size)))
            goto end;
        total += size;
        nintra += fi.intra;
        free(buf);
        buf = NULL;
        n++;
    }
    if (!n) {
        lvc_cli_error(in_name, "no frames");
        status = LVC_EXIT_DATA;
        goto end;
    }
    if (o->output &&
        (status = lvc_cli_output_commit(out, o->force ? LVC_CLI_OUT_FORCE : 0)))
        goto end;
    const double secs = lvc_cli_now() - t0;
    const double bpp = total * 8.0 / ((double)fmt.width * fmt.height * n);
    const double kbps = total * 8.0 / 1000.0 * fmt.fps_num / fmt.fps_den / n;
    if (o->json) {
        fputs("{\"input\":", report);
        lvc_cli_json_string(report, o->input);
        fputs(",\"output\":", report);
        lvc_cli_json_string(report, o->output);
        fprintf(report, ",\"kind\":\"video\",\"width\":%u,\"height\":%u,\"frames\":%ld,"
                "\"intra_frames\":%ld,\"bytes\":%zu,\"bpp\":", fmt.width, fmt.height, n,
                nintra, total);
        lvc_cli_json_double(report, bpp, 5);
        fputs(",\"kbps\":", report);
        lvc_cli_json_double(report, kbps, 3);
        fputs(",\"quality\":", report);
        lvc_cli_json_double(report, o->quality, 2);
        fprintf(report, ",\"gop\":%ld,\"seconds\":", o->gop ? o->gop : LVC_VIDEO_DEFAULT_GOP);
        lvc_cli_json_double(report, secs, 6);
        fputs(",\"encode_seconds_per_frame\":", report);
        lvc_cli_json_double(report, t_frames / n, 6);
        fputs("}\n", report);
    } else if (!o->quiet) {
        fprintf(stderr, "%s -> %s: %ux%u %s, %ld frames (%ld intra), %zu bytes, %.4f bpp, "
                "%.1f kbit/s at %.5g fps, q %.1f, %.3f s/frame\n", in_name, out_name,
                fmt.width, fmt.height, chroma_name(fmt.chroma), n, nintra, total, bpp, kbps,
                (double)fmt.fps_num / fmt.fps_den, o->quality, t_frames / n);
    }
end:
    if (status && o->output)
        lvc_cli_output_abort(out);
    free(buf);
    lvc_image_free(&frame);
    lvc_video_encoder_close(&enc);
    lvc_yuv_reader_close(&r);
    if (f)
        fclose(f);
    return status;
}

/* Squared errors of one frame's planes against the source's, per plane
 * (Y, Cb, Cr), and the sample counts. */
static void plane_errors(const LvcVideoFormat *fmt, const uint8_t *a, const uint8_t *b,
                         double se[3], double cnt[3])
{
    const size_t ny = (size_t)fmt->width * fmt->height;
    size_t nc = 0;
    if (fmt->chroma == LVC_CHROMA_420)
        nc = (size_t)((fmt->width + 1) / 2) * ((fmt->height + 1) / 2);
    else if (fmt->chroma == LVC_CHROMA_422)
        nc = (size_t)((fmt->width + 1) / 2) * fmt->height;
    else if (fmt->chroma == LVC_CHROMA_444)
        nc = ny;
    const size_t n[3] = { ny, nc, nc };
    size_t off = 0;
    for (int p = 0; p < 3; p++) {
        double s = 0;
        for (size_t i = 0; i < n[p]; i++) {
            const double d = (double)a[off + i] - b[off + i];
            s += d * d;
        }
        se[p] += s;
        cnt[p] += (double)n[p];
        off += n[p];
    }
}

static double psnr_of(double se, double n)
{
    if (n <= 0)
        return 0;
    return se > 0 ? 10.0 * log10(255.0 * 255.0 * n / se) : 100.0;
}

int lvc_cli_decode_video(const LvcCliVideoDec *o, const uint8_t *data, size_t size,
                         LvcCliOutput *out, FILE *report)
{
    const char *in_name = lvc_cli_name(o->input, 0);
    const char *out_name = o->output ? lvc_cli_name(o->output, 1) : "(none)";
    const double t0 = lvc_cli_now();
    LvcVideoDecoder *dec = NULL;
    LvcYuvWriter *w = NULL;
    LvcYuvReader *rr = NULL;
    FILE *fo = NULL, *fr = NULL;
    LvcImage frame = { 0 }, src = { 0 };
    uint8_t *planes = NULL;
    int status = 0;
    LvcDecoderSettings s;
    lvc_decoder_default_settings(&s);
    s.threads = o->threads;
    s.backend = o->backend;
    s.max_pixels = o->max_pixels;
    s.verbose = o->verbose > 1 ? 2 : o->verbose;
    int err = lvc_video_decoder_open(&dec, &s);
    LvcVideoInfo info;
    size_t pos = 0, used = 0;
    if (!err)
        err = lvc_video_decode_header(dec, data, size, &used, &info);
    if (err < 0) {
        status = lvc_cli_lib_error(in_name, err, NULL);
        goto end;
    }
    pos = used;
    const LvcVideoFormat *fmt = &info.format;
    const size_t fsize = lvc_yuv_frame_size(fmt);
    if (o->ref) {
        LvcVideoFormat rf;
        if ((status = open_source(o->ref, o->ref, ends_with_ci(o->ref, ".yuv"), fmt, 0, NULL, 0,
                                  &fr, &rr, &rf)))
            goto end;
        if (rf.width != fmt->width || rf.height != fmt->height || rf.chroma != fmt->chroma) {
            lvc_cli_error(o->ref, "%ux%u %s, the stream is %ux%u %s", rf.width, rf.height,
                          chroma_name(rf.chroma), fmt->width, fmt->height,
                          chroma_name(fmt->chroma));
            status = LVC_EXIT_DATA;
            goto end;
        }
        if (!(planes = malloc(fsize ? fsize : 1))) {
            status = lvc_cli_lib_error(in_name, LVC_ERR_NOMEM, NULL);
            goto end;
        }
    }
    if (o->output) {
        fo = fopen(lvc_cli_output_path(out), "wb");
        if (!fo || (err = lvc_yuv_writer_open(&w, fo, fmt, ends_with_ci(o->output, ".yuv"))) < 0) {
            status = fo ? lvc_cli_lib_error(out_name, err, NULL) : LVC_EXIT_IO;
            if (!fo)
                lvc_cli_error(out_name, "cannot write: %s", strerror(errno));
            goto end;
        }
    }
    long n = 0, nintra = 0;
    double se[3] = { 0, 0, 0 }, cnt[3] = { 0, 0, 0 };
    const int need_picture = o->output || o->ref;
    while (pos < size) {
        LvcVideoFrameInfo fi;
        err = lvc_video_decode_frame(dec, data + pos, size - pos, &used,
                                     need_picture ? &frame : NULL, &fi);
        if (err < 0) {
            lvc_cli_error(in_name, "frame %ld: %s", n, lvc_error_string(err));
            status = lvc_cli_exit_code(err);
            goto end;
        }
        pos += used;
        if (err == 0)
            continue;
        n++;
        nintra += fi.intra;
        if (w && (err = lvc_yuv_write_frame(w, &frame)) < 0) {
            status = lvc_cli_lib_error(out_name, err, NULL);
            goto end;
        }
        if (rr) {
            err = lvc_yuv_read_frame(rr, &src);
            if (err <= 0) {
                lvc_cli_error(o->ref, err ? lvc_error_string(err) : "fewer frames than the "
                              "stream");
                status = err ? lvc_cli_exit_code(err) : LVC_EXIT_DATA;
                goto end;
            }
            size_t ps = 0;
            const uint8_t *sp = lvc_yuv_reader_planes(rr, &ps);
            if ((err = lvc_yuv_from_rgb(fmt, &frame, planes)) < 0 || !sp || ps != fsize) {
                status = lvc_cli_lib_error(in_name, err < 0 ? err : LVC_ERR_INVALID_ARG, NULL);
                goto end;
            }
            plane_errors(fmt, planes, sp, se, cnt);
            lvc_image_free(&src);
        }
        lvc_image_free(&frame);
    }
    if (!n) {
        lvc_cli_error(in_name, "no frames");
        status = LVC_EXIT_DATA;
        goto end;
    }
    uint8_t digest[32];
    char hex[65] = "";
    if (lvc_video_decoder_symbols_digest(dec, digest) == 0)
        lvc_cli_hex(digest, 32, hex);
    if (o->verify && memcmp(digest, o->expected, 32)) {
        lvc_cli_error(in_name, "symbols digest %s differs from the expected one", hex);
        status = LVC_EXIT_VERIFY;
        goto end;
    }
    if (fo) {
        lvc_yuv_writer_close(&w);
        const int bad = ferror(fo);
        if (fclose(fo) || bad) {
            fo = NULL;
            lvc_cli_error(out_name, "write failed");
            status = LVC_EXIT_IO;
            goto end;
        }
        fo = NULL;
        if ((status = lvc_cli_output_commit(out, o->force ? LVC_CLI_OUT_FORCE : 0)))
            goto end;
    }
    if (o->print_digest)
        fprintf(report, "%s\n", hex);
    const double secs = lvc_cli_now() - t0;
    const double py = psnr_of(se[0], cnt[0]), pu = psnr_of(se[1], cnt[1]),
                 pv = psnr_of(se[2], cnt[2]);
    /* the usual weighted average of the planes' PSNR for 4:2:0 video */
    const double pyuv = cnt[1] > 0 ? (6 * py + pu + pv) / 8 : py;
    if (o->json) {
        fputs("{\"input\":", report);
        lvc_cli_json_string(report, o->input);
        fputs(",\"output\":", report);
        lvc_cli_json_string(report, o->output);
        fprintf(report, ",\"kind\":\"video\",\"width\":%u,\"height\":%u,\"frames\":%ld,"
                "\"intra_frames\":%ld,\"bytes\":%zu,\"bpp\":", fmt->width, fmt->height, n,
                nintra, size);
        lvc_cli_json_double(report, size * 8.0 / ((double)fmt->width * fmt->height * n), 5);
        fputs(",\"seconds\":", report);
        lvc_cli_json_double(report, secs, 6);
        fputs(",\"seconds_per_frame\":", report);
        lvc_cli_json_double(report, secs / n, 6);
        if (rr) {
            fputs(",\"psnr_y\":", report);
            lvc_cli_json_double(report, py, 4);
            if (cnt[1] > 0) {
                fputs(",\"psnr_cb\":", report);
                lvc_cli_json_double(report, pu, 4);
                fputs(",\"psnr_cr\":", report);
                lvc_cli_json_double(report, pv, 4);
            }
            fputs(",\"psnr_yuv\":", report);
            lvc_cli_json_double(report, pyuv, 4);
        }
        fprintf(report, ",\"symbols_sha256\":\"%s\"}\n", hex);
    } else if (!o->quiet) {
        char extra[160] = "";
        if (rr && cnt[1] > 0)
            snprintf(extra, sizeof(extra), ", PSNR Y %.2f Cb %.2f Cr %.2f YUV %.2f dB", py, pu,
                     pv, pyuv);
        else if (rr)
            snprintf(extra, sizeof(extra), ", PSNR Y %.2f dB", py);
        fprintf(stderr, "%s -> %s: %ux%u, %ld frames (%ld intra), %.3f s/frame%s\n", in_name,
                out_name, fmt->width, fmt->height, n, nintra, secs / n, extra);
    }
end:
    if (status && o->output)
        lvc_cli_output_abort(out);
    lvc_yuv_writer_close(&w);
    if (fo)
        fclose(fo);
    lvc_yuv_reader_close(&rr);
    if (fr)
        fclose(fr);
    free(planes);
    lvc_image_free(&frame);
    lvc_image_free(&src);
    lvc_video_decoder_close(&dec);
    return status;
}

int lvc_cli_info_video(const char *input, const uint8_t *data, size_t size, int json,
                       int verbose)
{
    LvcVideoInfo info;
    size_t n = 0;
    int err = lvc_video_stream_info(data, size, &info, NULL, 0, &n);
    LvcVideoFrameInfo *frames = NULL;
    if (!err && n) {
        frames = calloc(n, sizeof(*frames));
        err = frames ? lvc_video_stream_info(data, size, &info, frames, n, &n)
                     : LVC_ERR_NOMEM;
    }
    if (err < 0) {
        free(frames);
        return lvc_cli_lib_error(lvc_cli_name(input, 0), err, NULL);
    }
    size_t intra = 0, ibytes = 0, pbytes = 0;
    for (size_t i = 0; i < n; i++) {
        intra += (size_t)frames[i].intra;
        if (frames[i].intra)
            ibytes += frames[i].bytes;
        else
            pbytes += frames[i].bytes;
    }
    const LvcVideoFormat *f = &info.format;
    const LvcModelInfo *m = lvc_cli_model_by_id(info.model_id);
    char wid[2 * LVC_WEIGHTS_ID_SIZE + 1];
    lvc_cli_hex(info.weights_id, LVC_WEIGHTS_ID_SIZE, wid);
    if (json) {
        fputs("{\"input\":", stdout);
        lvc_cli_json_string(stdout, input);
        printf(",\"kind\":\"video\",\"bytes\":%zu,\"width\":%u,\"height\":%u,\"fps_num\":%u,"
               "\"fps_den\":%u,\"chroma\":\"%s\",\"frames\":%zu,\"intra_frames\":%zu,"
               "\"gop\":%d,\"quality\":", size, f->width, f->height, f->fps_num, f->fps_den,
               chroma_name(f->chroma), n, intra, info.gop);
        lvc_cli_json_double(stdout, info.quality, 2);
        printf(",\"model_id\":%u,\"model\":", info.model_id);
        lvc_cli_json_string(stdout, m ? m->name : NULL);
        printf(",\"weights_id\":\"%s\",\"intra_bytes\":%zu,\"inter_bytes\":%zu", wid, ibytes,
               pbytes);
        if (verbose) {
            fputs(",\"frame_list\":[", stdout);
            for (size_t i = 0; i < n; i++)
                printf("%s{\"index\":%u,\"intra\":%s,\"bytes\":%zu}", i ? "," : "",
                       frames[i].index, frames[i].intra ? "true" : "false", frames[i].bytes);
            fputs("]", stdout);
        }
        fputs("}\n", stdout);
    } else {
        printf("%s: lvc video stream, %zu bytes\n", lvc_cli_name(input, 0), size);
        printf("  frames      %zu (%zu intra), %ux%u, %.6g fps, source %s%s, %s\n", n, intra,
               f->width, f->height, (double)f->fps_num / f->fps_den, chroma_name(f->chroma),
               f->full_range ? " full range" : "", f->matrix ? "BT.709" : "BT.601");
        printf("  model       %s (id %u, weights %s), quality %.2f, GOP %d, tiles %dx%d\n",
               m ? m->name : "unknown", info.model_id, wid, info.quality, info.gop,
               info.tile_w, info.tile_h);
        printf("  bytes       intra frames %zu (%.0f per frame), inter frames %zu (%.0f per "
               "frame)\n", ibytes, intra ? (double)ibytes / intra : 0.0, pbytes,
               n > intra ? (double)pbytes / (n - intra) : 0.0);
        for (size_t i = 0; verbose && i < n; i++)
            printf("  frame %-5u %s %zu bytes\n", frames[i].index, frames[i].intra ? "I" : "P",
                   frames[i].bytes);
    }
    free(frames);
    return fflush(stdout) == 0 ? LVC_EXIT_OK : LVC_EXIT_IO;
}
