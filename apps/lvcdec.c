/*
 * lvcdec: decode an lvc stream into a PNG or Netpbm (PGM, PPM, PAM) image.
 *
 *   lvcdec IN.lvc -o OUT.png [--verify SHA256HEX] [--symbols-digest] ...
 *
 * --verify compares the SHA-256 of the entropy-decoded symbols (the part
 * every conforming decoder reproduces bit-exactly) with the given digest;
 * the conformance suite runs it. Uses the public API only.
 */
#include <getopt.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "splat_cli.h"
#include "video_cli.h"

enum {
    OPT_THREADS = 256,
    OPT_BACKEND,
    OPT_VERIFY,
    OPT_DIGEST,
    OPT_QUIET,
    OPT_JSON,
    OPT_MAX_PIXELS,
    OPT_REF,
    OPT_FORMAT,
};

static const struct option long_options[] = {
    { "output",         required_argument, NULL, 'o' },
    { "threads",        required_argument, NULL, OPT_THREADS },
    { "backend",        required_argument, NULL, OPT_BACKEND },
    { "verify",         required_argument, NULL, OPT_VERIFY },
    { "symbols-digest", no_argument,       NULL, OPT_DIGEST },
    { "max-pixels",     required_argument, NULL, OPT_MAX_PIXELS },
    { "ref",            required_argument, NULL, OPT_REF },
    { "format",         required_argument, NULL, OPT_FORMAT },
    { "force",          no_argument,       NULL, 'f' },
    { "verbose",        no_argument,       NULL, 'v' },
    { "quiet",          no_argument,       NULL, OPT_QUIET },
    { "json",           no_argument,       NULL, OPT_JSON },
    { "help",           no_argument,       NULL, 'h' },
    { "version",        no_argument,       NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

typedef struct DecOptions {
    const char *input;
    const char *output;     /* NULL: decode only */
    long threads;
    LvcBackend backend;
    uint64_t max_pixels;
    int verify;
    uint8_t expected[32];
    int print_digest;
    const char *ref;        /* PNG or PNM to compare with (PSNR), or NULL */
    LvcCliImageFormat format;
    int force, verbose, quiet, json;
} DecOptions;

static void usage(FILE *f)
{
    fputs(
        "Usage: lvcdec IN.lvc -o OUT.png [options]\n"
        "Decode an lvc stream (\"-\" = stdin) into a PNG, PGM/PPM or PAM image\n"
        "(\"-\" = stdout); a splat stream into a PLY scene (.splat by the\n"
        "output's extension); a video stream into YUV4MPEG2 (raw planes for a\n"
        "name ending in .yuv) in the source's format.\n"
        "\n"
        "  -o, --output FILE      output image; without it, decode only\n"
        "      --format F         png, pnm (PGM or PPM; also ppm, pgm) or pam;\n"
        "                         default by the output's extension, else png\n"
        "      --threads N        worker threads, 0 = all cores (default)\n"
        "      --backend B        auto, ref, cpu or cuda (default auto)\n"
        "      --verify HEX       check the symbols digest (64 hex digits);\n"
        "                         exit status 5 and no output on mismatch\n"
        "      --symbols-digest   print the symbols digest\n"
        "      --max-pixels N     refuse larger images (0 = library default)\n"
        "      --ref FILE         report PSNR against this PNG or PNM image; for\n"
        "                         splats, of renders against this scene's (8\n"
        "                         views of 256x256 around it); for video, of the\n"
        "                         Y'CbCr planes against this .y4m (or .yuv in the\n"
        "                         stream's format)\n"
        "  -f, --force            overwrite an existing output file\n"
        "  -v, --verbose          more details\n"
        "      --quiet            no summary\n"
        "      --json             print the summary as one JSON object\n"
        "  -h, --help             this help\n"
        "  -V, --version          print the version\n"
        "\n"
        "Exit status: 0 ok, 1 usage, 2 I/O, 3 invalid or corrupt stream,\n"
        "4 unsupported (model not in this build), 5 digest mismatch, 6 resources.\n",
        f);
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, DecOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->backend = LVC_BACKEND_AUTO;

    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":o:fvhV", long_options, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!*optarg) {
                lvc_cli_error(NULL, "empty output file name");
                return LVC_EXIT_USAGE;
            }
            o->output = optarg;
            break;
        case OPT_THREADS:
            if ((rc = lvc_cli_opt_threads(optarg, &o->threads)))
                return rc;
            break;
        case OPT_BACKEND:
            if ((rc = lvc_cli_opt_backend(optarg, &o->backend)))
                return rc;
            break;
        case OPT_VERIFY:
            if (lvc_cli_parse_hex(optarg, o->expected, sizeof(o->expected))) {
                lvc_cli_error(NULL, "invalid --verify digest '%.80s' (expected 64 hex digits)", optarg);
                return LVC_EXIT_USAGE;
            }
            o->verify = 1;
            break;
        case OPT_MAX_PIXELS:
            if ((rc = lvc_cli_opt_max_pixels(optarg, &o->max_pixels)))
                return rc;
            break;
        case OPT_DIGEST: o->print_digest = 1; break;
        case OPT_REF: o->ref = optarg; break;
        case OPT_FORMAT:
            if ((rc = lvc_cli_opt_image_format(optarg, &o->format)))
                return rc;
            break;
        case 'f': o->force = 1; break;
        case 'v': o->verbose++; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_JSON: o->json = 1; break;
        case 'h':
            usage(stdout);
            return LVC_EXIT_OK;
        case 'V':
            printf("lvcdec %s (library %s)\n", LVC_VERSION_STRING, lvc_version());
            return LVC_EXIT_OK;
        default:
            return lvc_cli_option_error(c, argv);
        }
    }
    return lvc_cli_one_input(argc, argv, &o->input);
}

/* For a stream this build cannot decode, say which model it needs. */
static void model_hint(const uint8_t *buf, size_t size, char *hint, size_t hint_size)
{
    LvcStreamInfo info;
    hint[0] = '\0';
    if (lvc_stream_info(buf, size, &info) < 0)
        return;
    char want[2 * LVC_WEIGHTS_ID_SIZE + 1];
    lvc_cli_hex(info.weights_id, LVC_WEIGHTS_ID_SIZE, want);
    const LvcModelInfo *m = lvc_cli_model_by_id(info.model_id);
    if (!m) {
        snprintf(hint, hint_size, "stream needs model id %u, not in this build",
                 (unsigned)info.model_id);
    } else if (memcmp(m->weights_hash, info.weights_id, LVC_WEIGHTS_ID_SIZE)) {
        char have[2 * LVC_WEIGHTS_ID_SIZE + 1];
        lvc_cli_hex(m->weights_hash, LVC_WEIGHTS_ID_SIZE, have);
        snprintf(hint, hint_size, "stream needs %s weights %.16s..., this build has %.16s...",
                 m->name ? m->name : "model", want, have);
    }
}

/* Name the backend when it is the cause. */
static const char *backend_hint(int err, LvcBackend b, char *buf, size_t size)
{
    if (err != LVC_ERR_BACKEND)
        return NULL;
    snprintf(buf, size, "--backend %s", lvc_cli_backend_name(b));
    return buf;
}

/* PSNR over the colour channels (alpha excluded) at the decoded bit depth;
 * -1 when the reference cannot be compared. 100 for identical images. */
static double psnr_against(const LvcImage *img, const char *ref_path)
{
    LvcImage ref = { 0 };
    int err = lvc_png_read_file(ref_path, &ref, 0);
    if (err == LVC_ERR_FORMAT)
        err = lvc_pnm_read_file(ref_path, &ref, 0);
    if (err < 0)
        return -1.0;
    double psnr = -1.0;
    if (ref.width == img->width && ref.height == img->height &&
        ref.bit_depth == img->bit_depth && ref.channels == img->channels) {
        const int colors = img->channels >= 3 ? 3 : 1;
        const double maxv = img->bit_depth == 16 ? 65535.0 : 255.0;
        double se = 0.0;
        for (int y = 0; y < img->height; y++) {
            for (int x = 0; x < img->width; x++) {
                for (int c = 0; c < colors; c++) {
                    const size_t i = (size_t)x * img->channels + c;
                    double d;
                    if (img->bit_depth == 16)
                        d = (double)((const uint16_t *)(img->data + y * img->stride))[i] -
                            ((const uint16_t *)(ref.data + y * ref.stride))[i];
                    else
                        d = (double)img->data[y * img->stride + i] - ref.data[y * ref.stride + i];
                    se += d * d;
                }
            }
        }
        const double mse = se / ((double)img->width * img->height * colors);
        psnr = mse > 0.0 ? 10.0 * log10(maxv * maxv / mse) : 100.0;
    }
    lvc_image_free(&ref);
    return psnr;
}

int main(int argc, char **argv)
{
    lvc_cli_init(argv[0]);
    DecOptions o;
    int status = parse_options(argc, argv, &o);
    if (status >= 0)
        return status;

    const char *in_name = lvc_cli_name(o.input, 0);
    const char *out_name = o.output ? lvc_cli_name(o.output, 1) : "(none)";
    const int data_on_stdout = o.output && !strcmp(o.output, "-");
    FILE *report = data_on_stdout ? stderr : stdout;
    const unsigned out_flags = LVC_CLI_OUT_NEED_PATH | (o.force ? LVC_CLI_OUT_FORCE : 0);
    LvcCliOutput out = { .fd = -1, .sink = -1, .slot = -1 };
    LvcDecoder *dec = NULL;
    LvcImage img = { 0 };
    uint8_t *data = NULL;
    size_t size = 0;
    const double t0 = lvc_cli_now();

    if (o.output) {
        status = lvc_cli_output_open(&out, o.output, o.input, out_flags);
        if (status)
            goto end;
    }
    status = lvc_cli_read_input(o.input, LVC_CLI_MAX_INPUT, &data, &size);
    if (status)
        goto end;
    if (lvc_cli_is_video_stream(data, size)) {
        if (o.format != LVC_CLI_FMT_AUTO) {
            lvc_cli_error(NULL, "--format does not apply to video streams (the output is "
                          ".y4m, or raw planes for a .yuv name)");
            status = LVC_EXIT_USAGE;
            goto end;
        }
        LvcCliVideoDec vo = {
            .input = o.input, .output = o.output, .ref = o.ref, .threads = (int)o.threads,
            .backend = o.backend, .max_pixels = o.max_pixels, .verify = o.verify,
            .print_digest = o.print_digest, .force = o.force, .verbose = o.verbose,
            .quiet = o.quiet, .json = o.json,
        };
        memcpy(vo.expected, o.expected, 32);
        status = lvc_cli_decode_video(&vo, data, size, &out, report);
        goto end;
    }
    if (lvc_cli_is_splat_stream(data, size)) {
        if (o.verify || o.print_digest || o.format != LVC_CLI_FMT_AUTO ||
            o.backend != LVC_BACKEND_AUTO || o.max_pixels) {
            lvc_cli_error(NULL, "--verify, --symbols-digest, --format, --backend and "
                          "--max-pixels do not apply to splat streams");
            status = LVC_EXIT_USAGE;
            goto end;
        }
        const LvcCliSplatDec so = {
            .input = o.input, .output = o.output, .ref = o.ref,
            .ref_views = 8, .ref_side = 256, .threads = (int)o.threads,
            .force = o.force, .quiet = o.quiet, .json = o.json,
        };
        status = lvc_cli_decode_splats(&so, data, size, &out, report);
        goto end;
    }

    char hint[160] = "";
    LvcDecoderSettings s;
    lvc_decoder_default_settings(&s);
    s.threads = (int)o.threads;
    s.backend = o.backend;
    s.max_pixels = o.max_pixels;
    s.verbose = o.verbose > 1 ? 2 : o.verbose;
    int err = lvc_decoder_open(&dec, &s);
    if (err < 0) {
        status = lvc_cli_lib_error(in_name, err, backend_hint(err, o.backend, hint, sizeof(hint)));
        goto end;
    }
    const double t_read = lvc_cli_now();
    err = lvc_decode_image(dec, data, size, &img);
    if (err < 0) {
        if (err == LVC_ERR_MODEL_UNKNOWN || err == LVC_ERR_MODEL_HASH)
            model_hint(data, size, hint, sizeof(hint));
        else if (err == LVC_ERR_CRC)
            snprintf(hint, sizeof(hint), "corrupt stream");
        else
            backend_hint(err, o.backend, hint, sizeof(hint));
        status = lvc_cli_lib_error(in_name, err, hint);
        goto end;
    }
    const double t_dec = lvc_cli_now();

    uint8_t digest[32];
    char digest_hex[65] = "";
    const int have_digest = lvc_decoder_symbols_digest(dec, digest) == 0;
    if (have_digest)
        lvc_cli_hex(digest, 32, digest_hex);
    if ((o.verify || o.print_digest) && !have_digest) {
        lvc_cli_error(in_name, "the decoder gave no symbols digest");
        status = LVC_EXIT_UNSUPPORTED;
        goto end;
    }
    if (o.verify && memcmp(digest, o.expected, 32)) {
        char want[65];
        lvc_cli_hex(o.expected, 32, want);
        lvc_cli_error(in_name, "symbols digest mismatch: got %s, expected %s", digest_hex, want);
        status = LVC_EXIT_VERIFY;
        goto end;
    }

    /* The comparison comes before the output: a run that fails writes
     * nothing. */
    double psnr = -1.0;
    if (o.ref) {
        psnr = psnr_against(&img, o.ref);
        if (psnr < 0.0) {
            lvc_cli_error(o.ref, "cannot compare: unreadable, or not the decoded image's size/format");
            status = LVC_EXIT_DATA;
            goto end;
        }
    }

    if (o.output) {
        const LvcCliImageFormat fmt = lvc_cli_image_format(o.format, o.output);
        if (fmt == LVC_CLI_FMT_PNM && img.channels != 1 && img.channels != 3) {
            lvc_cli_error(out_name, "the image has an alpha channel, which PGM and PPM "
                          "cannot hold (use PAM or PNG)");
            status = LVC_EXIT_UNSUPPORTED;
            goto end;
        }
        if (fmt == LVC_CLI_FMT_PNG)
            err = lvc_png_write_file(lvc_cli_output_path(&out), &img);
        else
            err = lvc_pnm_write_file(lvc_cli_output_path(&out), &img, fmt == LVC_CLI_FMT_PAM);
        if (err < 0) {
            status = lvc_cli_lib_error(out_name, err, NULL);
            goto end;
        }
        status = lvc_cli_output_commit(&out, out_flags);
        if (status)
            goto end;
    }
    const double t_end = lvc_cli_now();

    if (o.json) {
        fputs("{\"input\":", report);
        lvc_cli_json_string(report, o.input);
        fputs(",\"output\":", report);
        lvc_cli_json_string(report, o.output);
        fprintf(report, ",\"width\":%d,\"height\":%d,\"channels\":%d,\"bit_depth\":%d,\"bytes\":%zu",
                img.width, img.height, img.channels, img.bit_depth, size);
        fputs(",\"symbols_digest\":", report);
        lvc_cli_json_string(report, have_digest ? digest_hex : NULL);
        fprintf(report, ",\"verified\":%s", o.verify ? "true" : "false");
        fputs(",\"seconds\":", report);
        lvc_cli_json_double(report, t_end - t0, 6);
        fputs(",\"decode_seconds\":", report);
        lvc_cli_json_double(report, t_dec - t_read, 6);
        if (o.ref) {
            fputs(",\"psnr\":", report);
            lvc_cli_json_double(report, psnr, 4);
        }
        fputs("}\n", report);
    } else {
        /* The digest alone on a line, for scripts: d=$(lvcdec x.lvc --symbols-digest --quiet) */
        if (o.print_digest)
            fprintf(report, "%s\n", digest_hex);
        if (!o.quiet) {
            if (o.verbose)
                fprintf(stderr, "backend %s, threads %ld; read %.3f s, decode %.3f s, write %.3f s\n",
                        lvc_cli_backend_name(o.backend), o.threads, t_read - t0,
                        t_dec - t_read, t_end - t_dec);
            char extra[64] = "";
            if (o.ref)
                snprintf(extra, sizeof(extra), ", PSNR %.2f dB", psnr);
            fprintf(stderr, "%s -> %s: %dx%d, %d channel(s), %d-bit, %.3f s%s%s\n",
                    in_name, out_name, img.width, img.height, img.channels, img.bit_depth,
                    t_end - t0, extra, o.verify ? ", symbols digest verified" : "");
        }
    }
    if (fflush(report) != 0) {
        lvc_cli_error(NULL, "cannot write the report");
        status = LVC_EXIT_IO;
    }

end:
    if (o.output)
        lvc_cli_output_abort(&out);
    free(data);
    lvc_image_free(&img);
    lvc_decoder_close(&dec);
    return status;
}
