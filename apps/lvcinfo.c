/*
 * lvcinfo: describe an lvc stream without decoding it — header fields, the
 * model it needs (and whether this build has it), and its boxes.
 *
 *   lvcinfo IN.lvc [--json]
 *
 * Uses the public API only (lvc_stream_info, lvc_stream_boxes).
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "splat_cli.h"
#include "video_cli.h"

enum { OPT_JSON = 256 };

static const struct option long_options[] = {
    { "json",    no_argument, NULL, OPT_JSON },
    { "help",    no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
    fputs(
        "Usage: lvcinfo IN.lvc [--json]\n"
        "Print the header, the boxes and the substreams of an lvc stream (\"-\" = stdin).\n"
        "\n"
        "      --json      print one JSON object\n"
        "  -h, --help      this help\n"
        "  -V, --version   print the version\n"
        "\n"
        "Exit status: 0 ok, 1 usage, 2 I/O, 3 invalid or corrupt stream, 6 resources.\n",
        f);
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case 1: return "image";
    default: return "unknown";
    }
}

/* Box types come from the file: show non-printable bytes as '?'. */
static void box_type(const LvcBoxInfo *box, char type[5])
{
    for (int k = 0; k < 4; k++) {
        const unsigned char ch = (unsigned char)box->type[k];
        type[k] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    type[4] = '\0';
}

static void what_name(int what, char out[16])
{
    static const char *const names[] = { "Z", "Y", "alpha", "params" };
    if (what >= 0 && what < 4)
        snprintf(out, 16, "%s", names[what]);
    else
        snprintf(out, 16, "model-%d", what);
}

/* Whether this build can decode the stream, and if not, why. */
static const char *availability(const LvcStreamInfo *info, const LvcModelInfo *m)
{
    if (!m)
        return "no (model not in this build)";
    if (memcmp(m->weights_hash, info->weights_id, LVC_WEIGHTS_ID_SIZE))
        return "no (this build has other weights)";
    return "yes";
}

static void print_text(const char *name, size_t size, const LvcStreamInfo *info,
                       const LvcBoxInfo *boxes, int num_boxes, const LvcSubstreamInfo *subs,
                       int num_subs)
{
    const LvcModelInfo *m = lvc_cli_model_by_id(info->model_id);
    char hash[2 * LVC_WEIGHTS_ID_SIZE + 1];
    lvc_cli_hex(info->weights_id, LVC_WEIGHTS_ID_SIZE, hash);
    const double pixels = (double)info->width * (double)info->height;

    printf("file:        %s\n", name);
    printf("size:        %zu bytes", size);
    if (pixels > 0)
        printf(" (%.4f bpp)", (double)size * 8.0 / pixels);
    printf("\n");
    printf("kind:        %s (%d)\n", kind_name(info->kind), info->kind);
    printf("version:     %d\n", info->version);
    printf("dimensions:  %dx%d\n", info->width, info->height);
    printf("channels:    %d\n", info->channels);
    printf("bit depth:   %d\n", info->bit_depth);
    printf("quality:     %.2f\n", info->quality);
    printf("model:       %s (id %u)\n", m && m->name ? m->name : "unknown", (unsigned)info->model_id);
    printf("weights:     %s\n", hash);
    printf("available:   %s\n", availability(info, m));
    if (info->tile_w > 0 && info->tile_h > 0)
        printf("tiling:      %dx%d (%d x %d tiles)\n", info->tile_w, info->tile_h,
               (info->width + info->tile_w - 1) / info->tile_w,
               (info->height + info->tile_h - 1) / info->tile_h);
    else
        printf("tiling:      none\n");
    printf("boxes:       %d\n", num_boxes);
    if (num_boxes > 0)
        printf("  %-4s  %12s  %12s  %-9s  %s\n", "type", "offset", "payload", "mandatory", "crc32");
    for (int i = 0; i < num_boxes; i++) {
        char type[5];
        box_type(&boxes[i], type);
        printf("  %-4s  %12llu  %12llu  %-9s  %08x\n", type,
               (unsigned long long)boxes[i].offset,
               (unsigned long long)boxes[i].payload_size,
               boxes[i].mandatory ? "yes" : "no", (unsigned)boxes[i].crc32);
    }
    if (num_subs < 0)
        printf("substreams:  not listed (more than %d boxes or substreams)\n", 1 << 20);
    else
        printf("substreams:  %d\n", num_subs);
    if (num_subs > 0)
        printf("  %6s  %4s  %-8s  %12s  %12s\n", "tile", "pass", "what", "offset", "size");
    for (int i = 0; i < num_subs; i++) {
        char what[16];
        what_name(subs[i].what, what);
        printf("  %6u  %4d  %-8s  %12llu  %12llu\n", (unsigned)subs[i].tile, subs[i].pass, what,
               (unsigned long long)subs[i].offset, (unsigned long long)subs[i].size);
    }
}

static void print_json(const char *path, size_t size, const LvcStreamInfo *info,
                       const LvcBoxInfo *boxes, int num_boxes, const LvcSubstreamInfo *subs,
                       int num_subs)
{
    const LvcModelInfo *m = lvc_cli_model_by_id(info->model_id);
    char hash[2 * LVC_WEIGHTS_ID_SIZE + 1];
    lvc_cli_hex(info->weights_id, LVC_WEIGHTS_ID_SIZE, hash);
    const double pixels = (double)info->width * (double)info->height;
    FILE *f = stdout;

    fputs("{\"file\":", f);
    lvc_cli_json_string(f, path);
    fprintf(f, ",\"size\":%zu,\"bpp\":", size);
    lvc_cli_json_double(f, pixels > 0 ? (double)size * 8.0 / pixels : 0.0, 6);
    fprintf(f, ",\"kind\":%d,\"kind_name\":\"%s\",\"version\":%d", info->kind,
            kind_name(info->kind), info->version);
    fprintf(f, ",\"width\":%d,\"height\":%d,\"channels\":%d,\"bit_depth\":%d,\"quality\":",
            info->width, info->height, info->channels, info->bit_depth);
    lvc_cli_json_double(f, info->quality, 3);
    fprintf(f, ",\"model_id\":%u,\"model\":", (unsigned)info->model_id);
    lvc_cli_json_string(f, m ? m->name : NULL);
    fprintf(f, ",\"weights_id\":\"%s\",\"model_available\":%s", hash,
            m && !memcmp(m->weights_hash, info->weights_id, LVC_WEIGHTS_ID_SIZE) ? "true" : "false");
    fprintf(f, ",\"tile_w\":%d,\"tile_h\":%d,\"boxes\":[", info->tile_w, info->tile_h);
    for (int i = 0; i < num_boxes; i++) {
        char type[5];
        box_type(&boxes[i], type);
        fprintf(f, "%s{\"type\":", i ? "," : "");
        lvc_cli_json_string(f, type);
        fprintf(f, ",\"offset\":%llu,\"payload_size\":%llu,\"mandatory\":%s,\"crc32\":\"%08x\"}",
                (unsigned long long)boxes[i].offset,
                (unsigned long long)boxes[i].payload_size,
                boxes[i].mandatory ? "true" : "false", (unsigned)boxes[i].crc32);
    }
    if (num_subs < 0) {   /* more than the library lists */
        fputs("],\"substreams\":null}\n", f);
        return;
    }
    fputs("],\"substreams\":[", f);
    for (int i = 0; i < num_subs; i++) {
        char what[16];
        what_name(subs[i].what, what);
        fprintf(f, "%s{\"tile\":%u,\"pass\":%d,\"what\":\"%s\",\"offset\":%llu,\"size\":%llu}",
                i ? "," : "", (unsigned)subs[i].tile, subs[i].pass, what,
                (unsigned long long)subs[i].offset, (unsigned long long)subs[i].size);
    }
    fputs("]}\n", f);
}

int main(int argc, char **argv)
{
    lvc_cli_init(argv[0]);
    int json = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hV", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = 1; break;
        case 'h':
            usage(stdout);
            return LVC_EXIT_OK;
        case 'V':
            printf("lvcinfo %s (library %s)\n", LVC_VERSION_STRING, lvc_version());
            return LVC_EXIT_OK;
        default:
            return lvc_cli_option_error(c, argv);
        }
    }
    const char *path = NULL;
    int rc = lvc_cli_one_input(argc, argv, &path);
    if (rc >= 0)
        return rc;
    const char *name = lvc_cli_name(path, 0);

    uint8_t *data = NULL;
    size_t size = 0;
    LvcBoxInfo *boxes = NULL;
    LvcSubstreamInfo *subs = NULL;
    int status = lvc_cli_read_input(path, LVC_CLI_MAX_INPUT, &data, &size);
    if (status)
        return status;

    if (lvc_cli_is_splat_stream(data, size)) {
        status = lvc_cli_info_splats(path, data, size, json);
        goto end;
    }
    if (lvc_cli_is_video_stream(data, size)) {
        status = lvc_cli_info_video(path, data, size, json, 1);
        goto end;
    }
    LvcStreamInfo info;
    memset(&info, 0, sizeof(info));
    int err = lvc_stream_info(data, size, &info);
    if (err < 0) {
        status = lvc_cli_lib_error(name, err, err == LVC_ERR_CRC ? "corrupt stream" : NULL);
        goto end;
    }

    /* The header's count sizes the table; if the walk finds more, retry
     * once with the real count. */
    /* Every box takes at least its 4-byte type: a larger count is not
     * worth allocating for. */
    const size_t max_boxes = size / 4 + 1 < (size_t)INT_MAX ? size / 4 + 1 : (size_t)INT_MAX;
    int cap = info.num_boxes > 0 ? info.num_boxes : 1;
    if ((size_t)cap > max_boxes)
        cap = (int)max_boxes;
    int num_boxes = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        free(boxes);
        boxes = calloc((size_t)cap, sizeof(*boxes));
        if (!boxes) {
            lvc_cli_error(name, "out of memory");
            status = LVC_EXIT_RESOURCE;
            goto end;
        }
        err = lvc_stream_boxes(data, size, boxes, cap, &num_boxes);
        if (err < 0) {
            status = lvc_cli_lib_error(name, err, err == LVC_ERR_CRC ? "corrupt stream" : NULL);
            goto end;
        }
        if (num_boxes <= cap || (size_t)cap >= max_boxes)
            break;
        cap = (size_t)num_boxes < max_boxes ? num_boxes : (int)max_boxes;
    }
    if (num_boxes < 0)
        num_boxes = 0;
    if (num_boxes > cap)
        num_boxes = cap;

    /* Count, then list (the count is bounded by the library). */
    int num_subs = 0;
    err = lvc_stream_substreams(data, size, NULL, 0, &num_subs);
    if (err == LVC_ERR_LIMIT) {
        num_subs = -1;   /* more than the library lists: header and boxes only */
    } else if (err < 0) {
        status = lvc_cli_lib_error(name, err, NULL);
        goto end;
    }
    subs = calloc(num_subs > 0 ? (size_t)num_subs : 1, sizeof(*subs));
    if (!subs) {
        lvc_cli_error(name, "out of memory");
        status = LVC_EXIT_RESOURCE;
        goto end;
    }
    int listed = 0;
    if (num_subs > 0 && (err = lvc_stream_substreams(data, size, subs, num_subs, &listed)) < 0) {
        status = lvc_cli_lib_error(name, err, NULL);
        goto end;
    }

    if (json)
        print_json(path, size, &info, boxes, num_boxes, subs, num_subs);
    else
        print_text(name, size, &info, boxes, num_boxes, subs, num_subs);
    if (fflush(stdout) != 0) {
        lvc_cli_error(NULL, "write error on <stdout>");
        status = LVC_EXIT_IO;
    }

end:
    free(data);
    free(boxes);
    free(subs);
    return status;
}
