/*
 * lvcenc: encode a PNG or Netpbm (PGM, PPM, PAM) image, or a Gaussian-splat
 * scene (PLY, .splat), into an lvc stream.
 *
 *   lvcenc IN.png -o OUT.lvc [-q 0..100 | --bpp X | --size BYTES] ...
 *   lvcenc IN.ply -o OUT.lvc [-q 0..100] [--position-bits N] [--sh-degree N]
 *
 * Uses the public API only. Messages: a summary on stderr (or one JSON
 * object on stdout with --json); on failure exactly one line on stderr and a
 * non-zero exit status (see cli_common.h and lvcenc(1)).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "splat_cli.h"
#include "video_cli.h"

enum {
    OPT_BPP = 256,
    OPT_SIZE,
    OPT_THREADS,
    OPT_BACKEND,
    OPT_TILE,
    OPT_QUIET,
    OPT_JSON,
    OPT_LIST_MODELS,
    OPT_MAX_PIXELS,
    OPT_POSITION_BITS,   /* .. OPT_POSITION_BITS + 5: the six precisions */
    OPT_SH_DEGREE = OPT_POSITION_BITS + 6,
    OPT_SH_CODEBOOK,
    OPT_GOP,
    OPT_FRAMES,
    OPT_VIDEO_SIZE,
    OPT_FPS,
};

static const struct option long_options[] = {
    { "output",      required_argument, NULL, 'o' },
    { "quality",     required_argument, NULL, 'q' },
    { "bpp",         required_argument, NULL, OPT_BPP },
    { "size",        required_argument, NULL, OPT_SIZE },
    { "model",       required_argument, NULL, 'm' },
    { "threads",     required_argument, NULL, OPT_THREADS },
    { "backend",     required_argument, NULL, OPT_BACKEND },
    { "tile",        required_argument, NULL, OPT_TILE },
    { "max-pixels",  required_argument, NULL, OPT_MAX_PIXELS },
    { "position-bits", required_argument, NULL, OPT_POSITION_BITS },
    { "rotation-bits", required_argument, NULL, OPT_POSITION_BITS + 1 },
    { "scale-bits",  required_argument, NULL, OPT_POSITION_BITS + 2 },
    { "opacity-bits", required_argument, NULL, OPT_POSITION_BITS + 3 },
    { "color-bits",  required_argument, NULL, OPT_POSITION_BITS + 4 },
    { "sh-bits",     required_argument, NULL, OPT_POSITION_BITS + 5 },
    { "sh-degree",   required_argument, NULL, OPT_SH_DEGREE },
    { "sh-codebook", required_argument, NULL, OPT_SH_CODEBOOK },
    { "gop",         required_argument, NULL, OPT_GOP },
    { "frames",      required_argument, NULL, OPT_FRAMES },
    { "video-size",  required_argument, NULL, OPT_VIDEO_SIZE },
    { "fps",         required_argument, NULL, OPT_FPS },
    { "force",       no_argument,       NULL, 'f' },
    { "verbose",     no_argument,       NULL, 'v' },
    { "quiet",       no_argument,       NULL, OPT_QUIET },
    { "json",        no_argument,       NULL, OPT_JSON },
    { "list-models", no_argument,       NULL, OPT_LIST_MODELS },
    { "help",        no_argument,       NULL, 'h' },
    { "version",     no_argument,       NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

typedef struct EncOptions {
    const char *input;
    const char *output;      /* NULL: encode only, write nothing */
    double quality;
    double bpp;
    uint64_t size;
    const char *model;
    long threads;
    LvcBackend backend;
    long tile;
    uint64_t max_pixels;
    long splat_bits[6], sh_degree, sh_codebook;   /* splat scenes: LvcCliSplatEnc */
    long gop, frames;                             /* video: LvcCliVideoEnc */
    uint32_t video_w, video_h, fps_num, fps_den;
    int force, verbose, quiet, json;
} EncOptions;

/* No model lookup here: the registry's first use hashes the weights. */
static void usage(FILE *f)
{
    fputs(
        "Usage: lvcenc IN.png -o OUT.lvc [options]\n"
        "Encode a PNG or binary PGM/PPM/PAM image, or a Gaussian-splat scene (3DGS\n"
        "PLY or .splat), (\"-\" = stdin) into an lvc stream (\"-\" = stdout); a\n"
        "video (.y4m, a Y4M on stdin, or raw planar .yuv with --video-size) into\n"
        "a video stream.\n"
        "\n"
        "  -o, --output FILE   output stream; without it, encode and report only\n"
        "  -q, --quality Q     0 (smallest) .. 100 (best), default 75\n"
        "      --bpp X         search the quality for X bits per pixel\n"
        "      --size BYTES    search the quality for a stream of at most BYTES\n"
        "  -m, --model NAME    model; --list-models marks the default with *\n"
        "      --threads N     worker threads, 0 = all cores (default)\n"
        "      --backend B     auto, ref, cpu or cuda (default auto)\n"
        "      --tile N        tile side in pixels, multiple of 64; 0 = default\n"
        "      --max-pixels N  refuse larger images (0 = library default)\n"
        "Splat scenes (-q and --size apply; --bpp, -m, --tile, --backend do not):\n"
        "      --position-bits N  position grid of 2^N cells on the longest axis,\n"
        "                      1..21 (default, like the next five: from -q)\n"
        "      --rotation-bits N  quaternion step 2^-N, 2..15\n"
        "      --scale-bits N, --opacity-bits N, --color-bits N, --sh-bits N\n"
        "                      steps 2^-N (1..16) of the log scales, the opacity\n"
        "                      logit, the base colour and the higher SH\n"
        "      --sh-degree N   code spherical harmonics up to degree N, 0..3\n"
        "      --sh-codebook N code the SH of degree >= 1 with a codebook of N\n"
        "                      vectors (16..16384), or 0: one by one\n"
        "Video (-q, -m, --threads, --backend, --tile apply):\n"
        "      --gop N         an intra frame every N frames, 1..65535 (default 32;\n"
        "                      1 = intra only)\n"
        "      --frames N      code the first N frames only\n"
        "      --video-size WxH  frame size of a raw .yuv input (4:2:0)\n"
        "      --fps N[/D]     frame rate (raw input: default 25; y4m: override)\n"
        "  -f, --force         overwrite an existing output file\n"
        "  -v, --verbose       more details (repeat for library debug output)\n"
        "      --quiet         no summary\n"
        "      --json          print the summary as one JSON object\n"
        "      --list-models   list the models of this build and exit\n"
        "  -h, --help          this help\n"
        "  -V, --version       print the version\n"
        "\n"
        "Exit status: 0 ok, 1 usage, 2 I/O, 3 invalid input, 4 unsupported, 6 resources.\n",
        f);
}

static int list_models(int json)
{
    const int n = lvc_model_count();
    const char *def = lvc_model_default();
    if (json)
        fputs("[", stdout);
    else if (n <= 0)
        printf("no models in this build\n");
    for (int i = 0; i < n; i++) {
        const LvcModelInfo *m = lvc_model_info(i);
        if (!m)
            continue;
        char hash[65];
        lvc_cli_hex(m->weights_hash, 32, hash);
        const int is_default = def && m->name && !strcmp(def, m->name);
        if (json) {
            printf("%s{\"name\":", i ? "," : "");
            lvc_cli_json_string(stdout, m->name);
            printf(",\"id\":%u,\"weights_sha256\":\"%s\",\"default\":%s,\"description\":",
                   (unsigned)m->id, hash, is_default ? "true" : "false");
            lvc_cli_json_string(stdout, m->description);
            printf(",\"macs_per_pixel_dec\":");
            lvc_cli_json_double(stdout, m->macs_per_pixel_dec, 0);
            printf(",\"macs_per_pixel_enc\":");
            lvc_cli_json_double(stdout, m->macs_per_pixel_enc, 0);
            printf("}");
        } else {
            printf("%-16s id %-4u %s %.0f/%.0f MAC/px (dec/enc)  %.12s...  %s\n",
                   m->name ? m->name : "?", (unsigned)m->id, is_default ? "*" : " ",
                   m->macs_per_pixel_dec, m->macs_per_pixel_enc, hash,
                   m->description ? m->description : "");
        }
    }
    if (json)
        fputs("]\n", stdout);
    return fflush(stdout) == 0 ? LVC_EXIT_OK : LVC_EXIT_IO;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, EncOptions *o)
{
    int list = 0;
    memset(o, 0, sizeof(*o));
    o->quality = 75.0;
    o->backend = LVC_BACKEND_AUTO;
    o->sh_degree = -1;
    o->sh_codebook = -1;

    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":o:q:m:fvhV", long_options, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!*optarg) {
                lvc_cli_error(NULL, "empty output file name");
                return LVC_EXIT_USAGE;
            }
            o->output = optarg;
            break;
        case 'q':
            if (lvc_cli_parse_double(optarg, 0.0, 100.0, &o->quality)) {
                lvc_cli_error(NULL, "invalid quality '%s' (expected 0..100)", optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case OPT_BPP:
            if (lvc_cli_parse_double(optarg, 1e-6, 64.0, &o->bpp)) {
                lvc_cli_error(NULL, "invalid --bpp '%s' (expected a number in (0, 64])", optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case OPT_SIZE:
            if (lvc_cli_parse_u64(optarg, 1, UINT64_MAX, &o->size)) {
                lvc_cli_error(NULL, "invalid --size '%s' (expected a number of bytes > 0)", optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case 'm':
            if (!*optarg) {
                lvc_cli_error(NULL, "empty model name");
                return LVC_EXIT_USAGE;
            }
            o->model = optarg;
            break;
        case OPT_THREADS:
            if ((rc = lvc_cli_opt_threads(optarg, &o->threads)))
                return rc;
            break;
        case OPT_BACKEND:
            if ((rc = lvc_cli_opt_backend(optarg, &o->backend)))
                return rc;
            break;
        case OPT_TILE:
            if (lvc_cli_parse_long(optarg, 0, 1L << 16, &o->tile) || o->tile % 64) {
                lvc_cli_error(NULL, "invalid --tile '%s' (expected 0 or a multiple of 64)", optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case OPT_MAX_PIXELS:
            if ((rc = lvc_cli_opt_max_pixels(optarg, &o->max_pixels)))
                return rc;
            break;
        case OPT_POSITION_BITS:
        case OPT_POSITION_BITS + 1:
        case OPT_POSITION_BITS + 2:
        case OPT_POSITION_BITS + 3:
        case OPT_POSITION_BITS + 4:
        case OPT_POSITION_BITS + 5: {
            static const long lo[6] = { 1, 2, 1, 1, 1, 1 }, hi[6] = { 21, 15, 16, 16, 16, 16 };
            static const char *const name[6] = { "position", "rotation", "scale",
                                                 "opacity", "color", "sh" };
            const int k = c - OPT_POSITION_BITS;
            if (lvc_cli_parse_long(optarg, lo[k], hi[k], &o->splat_bits[k])) {
                lvc_cli_error(NULL, "invalid --%s-bits '%s' (expected %ld..%ld)", name[k],
                              optarg, lo[k], hi[k]);
                return LVC_EXIT_USAGE;
            }
            break;
        }
        case OPT_SH_DEGREE:
            if (lvc_cli_parse_long(optarg, 0, 3, &o->sh_degree)) {
                lvc_cli_error(NULL, "invalid --sh-degree '%s' (expected 0..3)", optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case OPT_SH_CODEBOOK:
            if (lvc_cli_parse_long(optarg, 0, 16384, &o->sh_codebook) ||
                (o->sh_codebook > 0 && o->sh_codebook < 16)) {
                lvc_cli_error(NULL, "invalid --sh-codebook '%s' (expected 0 or 16..16384)",
                              optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case OPT_GOP:
            if (lvc_cli_parse_long(optarg, 1, 65535, &o->gop)) {
                lvc_cli_error(NULL, "invalid --gop '%s' (expected 1..65535)", optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case OPT_FRAMES:
            if (lvc_cli_parse_long(optarg, 1, 1L << 30, &o->frames)) {
                lvc_cli_error(NULL, "invalid --frames '%s' (expected a count >= 1)", optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case OPT_VIDEO_SIZE:
            if (lvc_cli_parse_size(optarg, &o->video_w, &o->video_h)) {
                lvc_cli_error(NULL, "invalid --video-size '%s' (expected WxH, 1..65535 each)",
                              optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case OPT_FPS:
            if (lvc_cli_parse_rate(optarg, &o->fps_num, &o->fps_den)) {
                lvc_cli_error(NULL, "invalid --fps '%s' (expected N or N/D)", optarg);
                return LVC_EXIT_USAGE;
            }
            break;
        case 'f': o->force = 1; break;
        case 'v': o->verbose++; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_JSON: o->json = 1; break;
        case OPT_LIST_MODELS: list = 1; break;
        case 'h':
            usage(stdout);
            return LVC_EXIT_OK;
        case 'V':
            printf("lvcenc %s (library %s)\n", LVC_VERSION_STRING, lvc_version());
            return LVC_EXIT_OK;
        default:
            return lvc_cli_option_error(c, argv);
        }
    }
    if (list)
        return list_models(o->json);
    if ((rc = lvc_cli_one_input(argc, argv, &o->input)) >= 0)
        return rc;
    if (o->model && !lvc_model_find(o->model)) {
        lvc_cli_error(NULL, "unknown model '%s' (see --list-models)", o->model);
        return LVC_EXIT_UNSUPPORTED;
    }
    if (o->bpp > 0 && o->size > 0) {
        lvc_cli_error(NULL, "--bpp and --size are exclusive");
        return LVC_EXIT_USAGE;
    }
    return -1;
}

/* Name the backend when it is the cause. */
static const char *backend_hint(int err, LvcBackend b, char *buf, size_t size)
{
    if (err != LVC_ERR_BACKEND)
        return NULL;
    snprintf(buf, size, "--backend %s", lvc_cli_backend_name(b));
    return buf;
}

int main(int argc, char **argv)
{
    lvc_cli_init(argv[0]);
    EncOptions o;
    int status = parse_options(argc, argv, &o);
    if (status >= 0)
        return status;

    const char *in_name = lvc_cli_name(o.input, 0);
    const char *out_name = o.output ? lvc_cli_name(o.output, 1) : "(none)";
    const int data_on_stdout = o.output && !strcmp(o.output, "-");
    FILE *report = data_on_stdout ? stderr : stdout;
    LvcCliOutput out = { .fd = -1, .sink = -1, .slot = -1 };
    LvcEncoder *enc = NULL;
    LvcImage img = { 0 };
    uint8_t *data = NULL, *stream = NULL;
    size_t data_size = 0, stream_size = 0;
    const double t0 = lvc_cli_now();

    /* Output first: a refused or unwritable output fails before the work. */
    if (o.output) {
        status = lvc_cli_output_open(&out, o.output, o.input,
                                     o.force ? LVC_CLI_OUT_FORCE : 0);
        if (status)
            goto end;
    }

    const int video_opts = o.gop || o.frames || o.video_w || o.fps_num;
    const int from_stdin = !strcmp(o.input, "-");
    if (from_stdin) {
        /* a Y4M on stdin is recognised by its signature, and read whole */
        status = lvc_cli_read_input(o.input, LVC_CLI_MAX_INPUT, &data, &data_size);
        if (status)
            goto end;
    }
    if (lvc_cli_is_video_name(o.input) || (from_stdin && lvc_cli_is_y4m(data, data_size))) {
        int splat_opts = o.sh_degree >= 0 || o.sh_codebook >= 0;
        for (int k = 0; k < 6; k++)
            splat_opts |= o.splat_bits[k] != 0;
        if (o.bpp > 0 || o.size || splat_opts) {
            lvc_cli_error(NULL, "--bpp, --size and the splat options do not apply to video");
            status = LVC_EXIT_USAGE;
            goto end;
        }
        const LvcCliVideoEnc vo = {
            .input = o.input, .output = o.output, .data = from_stdin ? data : NULL,
            .size = data_size, .model = o.model, .quality = o.quality,
            .gop = o.gop, .frames = o.frames, .width = o.video_w, .height = o.video_h,
            .fps_num = o.fps_num, .fps_den = o.fps_den, .threads = (int)o.threads,
            .tile = (int)o.tile, .backend = o.backend, .max_pixels = o.max_pixels,
            .force = o.force, .verbose = o.verbose, .quiet = o.quiet, .json = o.json,
        };
        status = lvc_cli_encode_video(&vo, &out, report);
        goto end;
    }
    if (video_opts) {
        lvc_cli_error(NULL, "--gop, --frames, --video-size and --fps apply to video (.y4m, "
                      ".yuv) only");
        status = LVC_EXIT_USAGE;
        goto end;
    }
    if (!from_stdin && (status = lvc_cli_read_input(o.input, LVC_CLI_MAX_INPUT, &data,
                                                    &data_size)))
        goto end;
    if (lvc_cli_is_splat_input(data, data_size, o.input)) {
        if (o.bpp > 0 || o.model || o.tile || o.backend != LVC_BACKEND_AUTO || o.max_pixels) {
            lvc_cli_error(NULL, "--bpp, --model, --tile, --backend and --max-pixels "
                          "do not apply to splat scenes");
            status = LVC_EXIT_USAGE;
            goto end;
        }
        LvcCliSplatEnc so = {
            .input = o.input, .output = o.output, .quality = o.quality,
            .sh_degree = (int)o.sh_degree,
            .target_bytes = o.size,
            .sh_codebook = o.sh_codebook < 0 ? 0 : o.sh_codebook ? (int)o.sh_codebook : -1,
            .threads = (int)o.threads,
            .force = o.force, .quiet = o.quiet, .json = o.json,
        };
        for (int k = 0; k < 6; k++)
            so.bits[k] = (int)o.splat_bits[k];
        status = lvc_cli_encode_splats(&so, data, data_size, &out, report);
        goto end;
    }
    int splat_opts = o.sh_degree >= 0 || o.sh_codebook >= 0;
    for (int k = 0; k < 6; k++)
        splat_opts |= o.splat_bits[k] != 0;
    if (splat_opts) {
        lvc_cli_error(NULL, "--*-bits, --sh-degree and --sh-codebook apply to splat "
                      "scenes only");
        status = LVC_EXIT_USAGE;
        goto end;
    }
    status = lvc_cli_decode_image(in_name, data, data_size, &img, o.max_pixels);
    free(data);
    data = NULL;
    if (status)
        goto end;
    const double t_read = lvc_cli_now();

    /* After the input checks: a missing or broken input is the more
     * specific message. */
    const char *model_name = o.model ? o.model : lvc_model_default();
    const LvcModelInfo *model = model_name ? lvc_model_find(model_name) : NULL;
    if (!model) {
        if (model_name)
            lvc_cli_error(NULL, "unknown model '%s' (see --list-models)", model_name);
        else
            lvc_cli_error(NULL, "no model in this build");
        status = LVC_EXIT_UNSUPPORTED;
        goto end;
    }

    char hint[64];
    LvcEncoderSettings s;
    lvc_encoder_default_settings(&s);
    s.model = model->name;
    s.quality = (float)o.quality;
    s.target_bpp = o.bpp;
    s.target_bytes = o.size;
    s.threads = (int)o.threads;
    s.backend = o.backend;
    s.tile_size = (int)o.tile;
    s.max_pixels = o.max_pixels;
    s.verbose = o.verbose > 1 ? 2 : o.verbose;
    int err = lvc_encoder_open(&enc, &s);
    if (err < 0) {
        status = lvc_cli_lib_error(in_name, err, backend_hint(err, o.backend, hint, sizeof(hint)));
        goto end;
    }
    err = lvc_encode_image(enc, &img, &stream, &stream_size);
    if (err < 0) {
        status = lvc_cli_lib_error(in_name, err, backend_hint(err, o.backend, hint, sizeof(hint)));
        goto end;
    }
    const double t_enc = lvc_cli_now();
    const float q_used = lvc_encoder_last_quality(enc);

    if (o.output) {
        status = lvc_cli_output_write(&out, stream, stream_size);
        if (!status)
            status = lvc_cli_output_commit(&out, o.force ? LVC_CLI_OUT_FORCE : 0);
        if (status)
            goto end;
    }
    const double t_end = lvc_cli_now();

    const double pixels = (double)img.width * (double)img.height;
    const double bpp = pixels > 0 ? (double)stream_size * 8.0 / pixels : 0.0;
    if (o.json) {
        fputs("{\"input\":", report);
        lvc_cli_json_string(report, o.input);
        fputs(",\"output\":", report);
        lvc_cli_json_string(report, o.output);
        fprintf(report, ",\"width\":%d,\"height\":%d,\"channels\":%d,\"bit_depth\":%d",
                img.width, img.height, img.channels, img.bit_depth);
        fprintf(report, ",\"bytes\":%zu,\"bpp\":", stream_size);
        lvc_cli_json_double(report, bpp, 6);
        fputs(",\"quality\":", report);
        lvc_cli_json_double(report, q_used, 3);
        fputs(",\"model\":", report);
        lvc_cli_json_string(report, model->name);
        fprintf(report, ",\"model_id\":%u,\"backend\":\"%s\",\"threads\":%ld",
                (unsigned)model->id, lvc_cli_backend_name(o.backend), o.threads);
        fputs(",\"seconds\":", report);
        lvc_cli_json_double(report, t_end - t0, 6);
        fputs(",\"encode_seconds\":", report);
        lvc_cli_json_double(report, t_enc - t_read, 6);
        fputs("}\n", report);
    } else if (!o.quiet) {
        if (o.verbose) {
            char hash[65];
            lvc_cli_hex(model->weights_hash, 32, hash);
            fprintf(stderr, "model %s (id %u, weights %.16s...), backend %s, threads %ld, tile %ld\n",
                    model->name, (unsigned)model->id, hash, lvc_cli_backend_name(o.backend),
                    o.threads, o.tile);
            fprintf(stderr, "%d channel(s), %d-bit; read %.3f s, encode %.3f s, write %.3f s\n",
                    img.channels, img.bit_depth, t_read - t0, t_enc - t_read, t_end - t_enc);
        }
        fprintf(stderr, "%s -> %s: %dx%d, %zu bytes, %.4f bpp, q %.1f, %.3f s\n",
                in_name, out_name, img.width, img.height, stream_size, bpp, q_used, t_end - t0);
    }
    if (fflush(report) != 0) {
        lvc_cli_error(NULL, "cannot write the report");
        status = LVC_EXIT_IO;
    }

end:
    if (o.output)
        lvc_cli_output_abort(&out);
    free(data);
    free(stream);
    lvc_image_free(&img);
    lvc_encoder_close(&enc);
    return status;
}
