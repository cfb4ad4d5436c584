/*
 * The Gaussian-splat side of lvcenc, lvcdec and lvcinfo (include/lvc/splat.h,
 * doc/splats.md). Public API only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "splat_cli.h"

int lvc_cli_is_splat_input(const uint8_t *data, size_t size, const char *path)
{
    if (size >= 4 && (!memcmp(data, "ply\n", 4) || (size >= 5 && !memcmp(data, "ply\r\n", 5))))
        return 1;
    const size_t n = path ? strlen(path) : 0;
    return n >= 6 && !strcmp(path + n - 6, ".splat");
}

int lvc_cli_is_splat_stream(const uint8_t *data, size_t size)
{
    return size >= 6 && !memcmp(data, "\x89LVC", 4) && data[5] == 3;
}

static int read_scene(const char *name, const uint8_t *data, size_t size, LvcSplats *s)
{
    const int is_ply = size >= 4 && !memcmp(data, "ply", 3) && (data[3] == '\n' || data[3] == '\r');
    const int err = is_ply ? lvc_ply_read_mem(data, size, s, 0)
                           : lvc_splat_read_mem(data, size, s, 0);
    if (err < 0)
        return lvc_cli_lib_error(name, err, is_ply ? "PLY scene" : ".splat scene");
    return 0;
}

static int ends_with(const char *s, const char *tail)
{
    const size_t n = s ? strlen(s) : 0, m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

/* The start of the JSON summary of lvcenc and lvcdec: files, scene, stream
 * bytes (the object is left open). */
static void json_head(FILE *f, const char *input, const char *output, const LvcSplats *s,
                      size_t bytes)
{
    fputs("{\"input\":", f);
    lvc_cli_json_string(f, input);
    fputs(",\"output\":", f);
    lvc_cli_json_string(f, output);
    fprintf(f, ",\"kind\":\"splats\",\"splats\":%u,\"sh_degree\":%d,\"bytes\":%zu",
            (unsigned)s->count, s->sh_degree, bytes);
}

int lvc_cli_encode_splats(const LvcCliSplatEnc *o, const uint8_t *data, size_t size,
                          LvcCliOutput *out, FILE *report)
{
    const char *in_name = lvc_cli_name(o->input, 0);
    const char *out_name = o->output ? lvc_cli_name(o->output, 1) : "(none)";
    const double t0 = lvc_cli_now();
    LvcSplats s;
    int status = read_scene(in_name, data, size, &s);
    if (status)
        return status;
    const double t_read = lvc_cli_now();

    LvcSplatSettings set;
    lvc_splat_default_settings(&set);
    set.quality = (float)o->quality;
    set.position_bits = o->bits[0];
    set.rotation_bits = o->bits[1];
    set.scale_bits = o->bits[2];
    set.opacity_bits = o->bits[3];
    set.color_bits = o->bits[4];
    set.sh_bits = o->bits[5];
    set.sh_degree = o->sh_degree;
    set.sh_codebook = o->sh_codebook;
    set.threads = o->threads;
    set.target_bytes = o->target_bytes;
    uint8_t *stream = NULL;
    size_t stream_size = 0;
    int err = lvc_encode_splats(&set, &s, &stream, &stream_size, NULL);
    if (err < 0) {
        status = lvc_cli_lib_error(in_name, err, NULL);
        goto end;
    }
    const double t_enc = lvc_cli_now();
    LvcSplatStreamInfo info;
    const double q_used = lvc_splat_stream_info(stream, stream_size, &info) == 0
                              ? info.quality : o->quality;
    if (o->output) {
        status = lvc_cli_output_write(out, stream, stream_size);
        if (!status)
            status = lvc_cli_output_commit(out, o->force ? LVC_CLI_OUT_FORCE : 0);
        if (status)
            goto end;
    }
    const double t_end = lvc_cli_now();
    const double bits = s.count ? stream_size * 8.0 / s.count : 0;
    if (o->json) {
        json_head(report, o->input, o->output, &s, stream_size);
        fprintf(report, ",\"input_bytes\":%zu,\"bits_per_splat\":", size);
        lvc_cli_json_double(report, bits, 3);
        fputs(",\"quality\":", report);
        lvc_cli_json_double(report, q_used, 3);
        fputs(",\"seconds\":", report);
        lvc_cli_json_double(report, t_end - t0, 6);
        fputs(",\"encode_seconds\":", report);
        lvc_cli_json_double(report, t_enc - t_read, 6);
        fputs("}\n", report);
    } else if (!o->quiet) {
        fprintf(stderr, "%s -> %s: %u splats (SH degree %d), %zu bytes, %.2f bits/splat, "
                "%.1fx smaller, q %.1f, %.3f s\n",
                in_name, out_name, (unsigned)s.count, s.sh_degree, stream_size, bits,
                stream_size ? (double)size / stream_size : 0.0, q_used, t_end - t0);
    }
end:
    lvc_splat_buffer_free(stream);
    lvc_splats_free(&s);
    return status;
}

double lvc_cli_splat_psnr(const LvcSplats *a, const LvcSplats *ref, int views, int side,
                          int threads)
{
    LvcSplatCamera *cams = calloc((size_t)views, sizeof(*cams));
    float *ra = malloc((size_t)side * side * 3 * sizeof(float));
    float *rb = malloc((size_t)side * side * 3 * sizeof(float));
    double se = 0, psnr = -1;
    if (!cams || !ra || !rb || lvc_splats_orbit_cameras(ref, views, side, side, cams) < 0)
        goto end;
    for (int v = 0; v < views; v++) {
        if (lvc_splats_render(a, &cams[v], threads, ra) < 0 ||
            lvc_splats_render(ref, &cams[v], threads, rb) < 0)
            goto end;
        for (size_t i = 0; i < (size_t)side * side * 3; i++) {
            /* On the 8-bit grid a viewer would show. */
            const double d = nearbyint(ra[i] * 255.0) - nearbyint(rb[i] * 255.0);
            se += d * d;
        }
    }
    const double mse = se / ((double)views * side * side * 3);
    psnr = mse > 0 ? 10.0 * log10(255.0 * 255.0 / mse) : 100.0;
end:
    free(cams);
    free(ra);
    free(rb);
    return psnr;
}

int lvc_cli_decode_splats(const LvcCliSplatDec *o, const uint8_t *data, size_t size,
                          LvcCliOutput *out, FILE *report)
{
    const char *in_name = lvc_cli_name(o->input, 0);
    const char *out_name = o->output ? lvc_cli_name(o->output, 1) : "(none)";
    const double t0 = lvc_cli_now();
    static const char *const image_ext[] = { ".png", ".ppm", ".pgm", ".pnm", ".pam" };
    for (size_t i = 0; o->output && i < sizeof(image_ext) / sizeof(image_ext[0]); i++) {
        if (ends_with(o->output, image_ext[i])) {
            lvc_cli_error(out_name, "a splat stream decodes to a scene: name the output "
                          ".ply or .splat");
            return LVC_EXIT_USAGE;
        }
    }
    LvcSplats s, ref;
    memset(&ref, 0, sizeof(ref));
    uint8_t *file = NULL;
    size_t file_size = 0;
    int err = lvc_decode_splats(data, size, &s, 0);
    if (err < 0)
        return lvc_cli_lib_error(in_name, err, err == LVC_ERR_CRC ? "corrupt stream" : NULL);
    const double t_dec = lvc_cli_now();
    int status = 0;
    double psnr = -1;
    if (o->ref) {
        uint8_t *rd = NULL;
        size_t rsize = 0;
        status = lvc_cli_read_input(o->ref, LVC_CLI_MAX_INPUT, &rd, &rsize);
        if (!status)
            status = read_scene(o->ref, rd, rsize, &ref);
        free(rd);
        if (status)
            goto end;
        psnr = lvc_cli_splat_psnr(&s, &ref, o->ref_views, o->ref_side, o->threads);
        if (psnr < 0) {
            lvc_cli_error(o->ref, "cannot render the scenes to compare them");
            status = LVC_EXIT_RESOURCE;
            goto end;
        }
    }
    if (o->output) {
        err = ends_with(o->output, ".splat") ? lvc_splat_write_mem(&s, &file, &file_size)
                                             : lvc_ply_write_mem(&s, &file, &file_size);
        if (err < 0) {
            status = lvc_cli_lib_error(out_name, err, NULL);
            goto end;
        }
        status = lvc_cli_output_write(out, file, file_size);
        if (!status)
            status = lvc_cli_output_commit(out, o->force ? LVC_CLI_OUT_FORCE : 0);
        if (status)
            goto end;
    }
    const double t_end = lvc_cli_now();
    if (o->json) {
        json_head(report, o->input, o->output, &s, size);
        fputs(",\"seconds\":", report);
        lvc_cli_json_double(report, t_end - t0, 6);
        fputs(",\"decode_seconds\":", report);
        lvc_cli_json_double(report, t_dec - t0, 6);
        if (o->ref) {
            fputs(",\"render_psnr\":", report);
            lvc_cli_json_double(report, psnr, 4);
        }
        fputs("}\n", report);
    } else if (!o->quiet) {
        char extra[80] = "";
        if (o->ref)
            snprintf(extra, sizeof(extra), ", render PSNR %.2f dB (%d views of %dx%d)", psnr,
                     o->ref_views, o->ref_side, o->ref_side);
        fprintf(stderr, "%s -> %s: %u splats (SH degree %d), %.3f s%s\n", in_name, out_name,
                (unsigned)s.count, s.sh_degree, t_end - t0, extra);
    }
end:
    lvc_splat_buffer_free(file);
    lvc_splats_free(&s);
    lvc_splats_free(&ref);
    return status;
}

int lvc_cli_info_splats(const char *input, const uint8_t *data, size_t size, int json)
{
    LvcSplatStreamInfo info;
    const int err = lvc_splat_stream_info(data, size, &info);
    if (err < 0)
        return lvc_cli_lib_error(lvc_cli_name(input, 0), err, NULL);
    static const char *const names[6] = { "position", "rotation", "scale", "opacity",
                                          "color", "sh" };
    if (json) {
        fputs("{\"input\":", stdout);
        lvc_cli_json_string(stdout, input);
        fprintf(stdout, ",\"kind\":\"splats\",\"bytes\":%zu,\"splats\":%u,\"sh_degree\":%d",
                size, (unsigned)info.count, info.sh_degree);
        fputs(",\"quality\":", stdout);
        lvc_cli_json_double(stdout, info.quality, 2);
        fprintf(stdout, ",\"position_bits\":%d,\"position_step\":%.9g", info.position_bits,
                info.position_step);
        fprintf(stdout, ",\"step_bits\":{\"rotation\":%d,\"scale\":%d,\"opacity\":%d,"
                "\"color\":%d,\"sh\":%d},\"attribute_bytes\":{",
                info.rotation_bits, info.scale_bits, info.opacity_bits, info.color_bits,
                info.sh_bits);
        for (int a = 0; a < 6; a++)
            fprintf(stdout, "%s\"%s\":%llu", a ? "," : "", names[a],
                    (unsigned long long)info.attribute_bytes[a]);
        fputs("}}\n", stdout);
    } else {
        printf("%s: lvc splat stream, %zu bytes\n", lvc_cli_name(input, 0), size);
        printf("  splats        %u, SH degree %d, quality %.2f\n", (unsigned)info.count,
               info.sh_degree, info.quality);
        printf("  position grid 2^%d cells on the longest axis, step %.6g\n",
               info.position_bits, info.position_step);
        printf("  steps         rotation 2^-%d, log scale 2^-%d, opacity logit 2^-%d, "
               "colour 2^-%d, SH 2^-%d\n", info.rotation_bits, info.scale_bits,
               info.opacity_bits, info.color_bits, info.sh_bits);
        for (int a = 0; a < 6; a++) {
            if (!info.attribute_bytes[a] && a == 5)
                continue;
            printf("  %-13s %llu bytes (%.2f bits/splat)\n", names[a],
                   (unsigned long long)info.attribute_bytes[a],
                   info.count ? info.attribute_bytes[a] * 8.0 / info.count : 0.0);
        }
    }
    return fflush(stdout) == 0 ? LVC_EXIT_OK : LVC_EXIT_IO;
}
