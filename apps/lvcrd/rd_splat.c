/*
 * lvcrd --splats: rate-distortion of the Gaussian-splat coder (doc/splats.md).
 *
 * For every scene (*.ply, *.splat) of a folder, sorted by name: the lvc
 * stream at each quality (public API, as lvcenc writes it; the size is the
 * stream's), decoded as lvcdec decodes it, and rendered against the
 * original from orbit cameras (render PSNR, as lvcdec --ref). Beside it the
 * scene's own file (the size of the PLY, lossless) and the 32-byte .splat
 * layout (its size and render PSNR). Writes splats.csv and splats.md.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lvc/splat.h"
#include "apps/lvcrd/rd_run.h"
#include "cli_common.h"
#include "splat_cli.h"

#define MAX_SCENES 256
#define MAX_Q 32

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_scene(const char *name)
{
    const size_t n = strlen(name);
    return (n > 4 && !strcmp(name + n - 4, ".ply")) || (n > 6 && !strcmp(name + n - 6, ".splat"));
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) || st.st_size <= 0 || (uint64_t)st.st_size > LVC_CLI_MAX_INPUT) {
        fclose(f);
        return -1;
    }
    *size = (size_t)st.st_size;
    *data = malloc(*size);
    const int ok = *data && fread(*data, 1, *size, f) == *size;
    fclose(f);
    if (!ok) {
        free(*data);
        *data = NULL;
        return -1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: lvcrd --splats SCENE_DIR -o RESULTS_DIR [options]\n"
          "Codes every *.ply and *.splat scene of SCENE_DIR at each quality and\n"
          "writes splats.csv and splats.md into RESULTS_DIR.\n"
          "  -q LIST          qualities (default 0,10,25,40,50,60,75,90,100)\n"
          "  --views N        orbit views rendered per comparison (default 8)\n"
          "  --size N         render side in pixels (default 256)\n"
          "  --threads N      threads (default 0 = all cores)\n"
          "  --quiet          no progress\n"
          "  -h, --help       this text\n", f);
}

int lvcrd_splat_main(int argc, char **argv)
{
    enum { O_SPLATS = 256, O_VIEWS, O_SIZE, O_THREADS, O_QUIET };
    static const struct option longopts[] = {
        { "splats", no_argument, NULL, O_SPLATS },
        { "views", required_argument, NULL, O_VIEWS },
        { "size", required_argument, NULL, O_SIZE },
        { "threads", required_argument, NULL, O_THREADS },
        { "quiet", no_argument, NULL, O_QUIET },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    double q[MAX_Q] = { 0, 10, 25, 40, 50, 60, 75, 90, 100 };
    int nq = 9, views = 8, side = 256, threads = 0, quiet = 0;
    const char *outdir = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "q:o:h", longopts, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case O_SPLATS:
            break;
        case 'o':
            outdir = optarg;
            break;
        case 'q': {
            nq = 0;
            const char *p = optarg;
            while (*p) {
                errno = 0;
                const double x = strtod(p, &end);
                if (end == p || errno || !(x >= 0 && x <= 100) || nq == MAX_Q)
                    goto bad;
                q[nq++] = x;
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                    goto bad;
            }
            if (!nq)
                goto bad;
            break;
        }
        case O_VIEWS:
        case O_SIZE:
        case O_THREADS:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (*end || errno || end == optarg || v < (c == O_THREADS ? 0 : 1) ||
                v > (c == O_SIZE ? 4096 : 256))
                goto bad;
            if (c == O_VIEWS)
                views = (int)v;
            else if (c == O_SIZE)
                side = (int)v;
            else
                threads = (int)v;
            break;
        case O_QUIET:
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return LVCRD_EXIT_OK;
        default:
            goto bad;
        }
    }
    if (optind != argc - 1 || !outdir)
        goto bad;
    const char *dir = argv[optind];

    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "lvcrd: %s: %s\n", dir, strerror(errno));
        return LVCRD_EXIT_IO;
    }
    char *names[MAX_SCENES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_SCENES)
        if (is_scene(e->d_name) && (names[n] = strdup(e->d_name)))
            n++;
    closedir(d);
    if (!n) {
        fprintf(stderr, "lvcrd: %s: no .ply or .splat scene\n", dir);
        return LVCRD_EXIT_IO;
    }
    qsort(names, (size_t)n, sizeof(*names), cmp_str);
    if (mkdir(outdir, 0777) && errno != EEXIST) {
        fprintf(stderr, "lvcrd: %s: %s\n", outdir, strerror(errno));
        for (int i = 0; i < n; i++)
            free(names[i]);
        return LVCRD_EXIT_IO;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/splats.csv", outdir);
    FILE *csv = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/splats.md", outdir);
    FILE *md = fopen(path, "w");
    int status = csv && md ? LVCRD_EXIT_OK : LVCRD_EXIT_IO;
    if (status)
        fprintf(stderr, "lvcrd: cannot write into %s\n", outdir);
    else {
        fputs("scene,splats,sh_degree,codec,quality,bytes,bits_per_splat,ratio,render_psnr,"
              "encode_s,decode_s\n", csv);
        fprintf(md, "# Splat coding: rate and render PSNR\n\n"
                "Render PSNR against the original scene: %d orbit views of %dx%d "
                "(`lvcrd --splats`, doc/splats.md). `ratio` is the scene file's size over "
                "the coded size.\n\n"
                "| scene | splats | SH | codec | q | bytes | bits/splat | ratio | PSNR dB |"
                " enc s | dec s |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
                views, side, side);
    }
    int measured = 0;
    for (int i = 0; i < n && !status; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        uint8_t *data = NULL;
        size_t size = 0;
        LvcSplats ref, alt;
        memset(&ref, 0, sizeof(ref));
        memset(&alt, 0, sizeof(alt));
        int err = read_file(path, &data, &size) ? LVC_ERR_IO
                  : size > 3 && !memcmp(data, "ply", 3) ? lvc_ply_read_mem(data, size, &ref, 0)
                      : lvc_splat_read_mem(data, size, &ref, 0);
        free(data);
        if (err < 0) {
            fprintf(stderr, "lvcrd: %s: %s (skipped)\n", path, lvc_error_string(err));
            continue;
        }
        const double fbytes = (double)size;
#define ROW(codec, qq, bytes, psnr, te, td)                                                  \
    do {                                                                                     \
        fprintf(csv, "%s,%u,%d,%s,%s,%zu,%.3f,%.3f,%.4f,%.4f,%.4f\n", names[i],              \
                (unsigned)ref.count, ref.sh_degree, codec, qq, (size_t)(bytes),                \
                (bytes) * 8.0 / (ref.count ? ref.count : 1), fbytes / (bytes), psnr, te, td); \
        fprintf(md, "| %s | %u | %d | %s | %s | %zu | %.2f | %.1f | %.2f | %.3f | %.3f |\n",  \
                names[i], (unsigned)ref.count, ref.sh_degree, codec, qq, (size_t)(bytes),     \
                (bytes) * 8.0 / (ref.count ? ref.count : 1), fbytes / (bytes), psnr, te, td); \
        fflush(csv);                                                                         \
        measured++;                                                                          \
    } while (0)
        ROW("file", "-", size, INFINITY, 0.0, 0.0);
        /* The 32-byte .splat layout. */
        uint8_t *sb = NULL;
        size_t ssize = 0;
        if (lvc_splat_write_mem(&ref, &sb, &ssize) == 0 &&
            lvc_splat_read_mem(sb, ssize, &alt, 0) == 0) {
            const double p = lvc_cli_splat_psnr(&alt, &ref, views, side, threads);
            ROW(".splat", "-", ssize, p, 0.0, 0.0);
        }
        lvc_splat_buffer_free(sb);
        lvc_splats_free(&alt);
        for (int k = 0; k < nq; k++) {
            LvcSplatSettings set;
            lvc_splat_default_settings(&set);
            set.quality = (float)q[k];
            set.threads = threads;
            uint8_t *stream = NULL;
            size_t bytes = 0;
            const double t0 = now();
            err = lvc_encode_splats(&set, &ref, &stream, &bytes, NULL);
            const double t1 = now();
            if (!err)
                err = lvc_decode_splats(stream, bytes, &alt, 0);
            const double t2 = now();
            lvc_splat_buffer_free(stream);
            if (err) {
                fprintf(stderr, "lvcrd: %s q %g: %s\n", names[i], q[k], lvc_error_string(err));
                continue;
            }
            const double p = lvc_cli_splat_psnr(&alt, &ref, views, side, threads);
            lvc_splats_free(&alt);
            char qs[16];
            snprintf(qs, sizeof(qs), "%g", q[k]);
            ROW("lvc", qs, bytes, p, t1 - t0, t2 - t1);
            if (!quiet)
                fprintf(stderr, "%s q %g: %zu bytes, %.2f bits/splat, %.2f dB\n", names[i],
                        q[k], bytes, bytes * 8.0 / (ref.count ? ref.count : 1), p);
        }
#undef ROW
        lvc_splats_free(&ref);
    }
    if (csv && fclose(csv))
        status = LVCRD_EXIT_IO;
    if (md && fclose(md))
        status = LVCRD_EXIT_IO;
    for (int i = 0; i < n; i++)
        free(names[i]);
    if (!status && !measured) {
        fprintf(stderr, "lvcrd: nothing could be measured\n");
        status = LVCRD_EXIT_NOPOINT;
    }
    return status;
bad:
    fprintf(stderr, "lvcrd: invalid option or value (lvcrd --splats --help)\n");
    return LVCRD_EXIT_USAGE;
}
