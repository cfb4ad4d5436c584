/*
 * lvcrd: rate-distortion evaluation of lvc models and classical codecs on a
 * folder of PNG images. See doc/rd.md.
 */
#include "config.h"

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
#include <unistd.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_bdrate.h"
#include "apps/lvcrd/rd_codec.h"
#include "apps/lvcrd/rd_json.h"
#include "apps/lvcrd/rd_metrics.h"
#include "apps/lvcrd/rd_results.h"
#include "apps/lvcrd/rd_run.h"
#include "apps/lvcrd/rd_svg.h"

#define MAX_CODECS 32
#define MAX_ANCHORS 16
#define MAX_IMAGES 100000

typedef struct Options {
    const char *dataset;
    const char *outdir;
    const char *models[MAX_CODECS];
    int num_models;
    char codec_list[1024];
    double lvc_params[LVC_RD_MAX_POINTS];
    int num_lvc_params;
    int lvc_bpp;                  /* lvc_params are target bpp */
    struct { char name[64]; double params[LVC_RD_MAX_POINTS]; int n; } sweeps[MAX_CODECS];
    int num_sweeps;
    const char *anchors[MAX_ANCHORS];
    int num_anchors;
    int threads;
    int max_images;
    int quiet, resume, verbose;
    double bpp_max;
    const char *title;
} Options;

typedef struct CodecRun {
    LvcRdCodec codec;
    int failed;                   /* points that failed this run */
    char first_error[256];
    LvcRdCurve curve;
    int incomplete;
} CodecRun;

typedef struct Run {
    Options o;
    char **images;                /* file names, sorted */
    int num_images;
    CodecRun *codecs;
    int num_codecs;
    LvcRdCurve *anchors;
    int num_anchors;
    char notes[64][320];
    int num_notes;
    char cmdline[2048];
    FILE *notes_file;
    int tty;
    double start;
    long total_points, done_points, computed_points, failed_points;
} Run;

static void note(Run *r, const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (r->tty && !r->o.quiet)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "lvcrd: %s\n", buf);
    if (r->notes_file) {
        fprintf(r->notes_file, "%s\n", buf);
        fflush(r->notes_file);
    }
    if (r->num_notes < (int)(sizeof(r->notes) / sizeof(r->notes[0])))
        snprintf(r->notes[r->num_notes++], sizeof(r->notes[0]), "%s", buf);
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: lvcrd DATASET_DIR -o RESULTS_DIR [options]\n"
"Encodes and decodes every PNG in DATASET_DIR with each codec at each rate and\n"
"writes RD curves (CompressAI JSON), a per-image CSV, BD-rates, an SVG plot and\n"
"summary.md into RESULTS_DIR.\n"
"  --model NAME[,NAME]   lvc model(s) to evaluate (repeatable); implies lvc\n"
"  -q LIST               lvc qualities, e.g. 10,30,50,70,90\n"
"  --bpp LIST            lvc target bits per pixel instead of qualities\n"
"  --codec LIST          codecs: lvc,%s; 'all' = every\n"
"                        classical codec of this build (default: lvc)\n"
"  --sweep CODEC=LIST    replace a classical codec's parameter sweep\n"
"  --threads N           threads per encoder/decoder (default 1)\n"
"  --anchor FILE.json    published curve to compare with (repeatable)\n"
"  --max-images N        use the first N images (sorted by name)\n"
"  --bpp-max X           bpp axis limit of the plot (default: automatic)\n"
"  --title TEXT          plot and summary title\n"
"  --resume              keep the points already in RESULTS_DIR/per_image.csv\n"
"  --quiet               no progress display\n"
"  --verbose             codec library messages\n"
"  -h, --help            this text\n"
"Gaussian-splat scenes: lvcrd --splats SCENE_DIR -o RESULTS_DIR (--splats --help)\n"
"Video clips: lvcrd --video CLIP_DIR -o RESULTS_DIR (--video --help)\n",
            lvcrd_av_codec_names()[0] ? lvcrd_av_codec_names() : "(no FFmpeg)");
}

static int parse_list(const char *s, double *out, int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        const double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || n == max)
            return -1;
        out[n++] = v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n;
}

int lvcrd_parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static void append_list(char *dst, size_t size, const char *item)
{
    const size_t l = strlen(dst);
    snprintf(dst + l, size - l, "%s%s", l ? "," : "", item);
}

static int parse_options(Run *r, int argc, char **argv)
{
    Options *o = &r->o;
    enum { O_MODEL = 256, O_BPP, O_CODEC, O_SWEEP, O_THREADS, O_ANCHOR, O_MAXIMG,
           O_QUIET, O_RESUME, O_VERBOSE, O_BPPMAX, O_TITLE };
    static const struct option longopts[] = {
        { "model", required_argument, NULL, O_MODEL },
        { "bpp", required_argument, NULL, O_BPP },
        { "codec", required_argument, NULL, O_CODEC },
        { "sweep", required_argument, NULL, O_SWEEP },
        { "threads", required_argument, NULL, O_THREADS },
        { "anchor", required_argument, NULL, O_ANCHOR },
        { "max-images", required_argument, NULL, O_MAXIMG },
        { "quiet", no_argument, NULL, O_QUIET },
        { "resume", no_argument, NULL, O_RESUME },
        { "verbose", no_argument, NULL, O_VERBOSE },
        { "bpp-max", required_argument, NULL, O_BPPMAX },
        { "title", required_argument, NULL, O_TITLE },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    o->threads = 1;
    optind = 0;   /* full re-initialisation: lvcrd_main may run more than once */
    opterr = 0;
    int c, li = -1;
    while ((li = -1, c = getopt_long(argc, argv, "q:o:h", longopts, &li)) != -1) {
        switch (c) {
        case O_MODEL:
            if (o->num_models == MAX_CODECS)
                goto bad;
            o->models[o->num_models++] = optarg;
            break;
        case 'q':
        case O_BPP:
            if (o->num_lvc_params) {
                fprintf(stderr, "lvcrd: give -q or --bpp once\n");
                return -1;
            }
            o->lvc_bpp = c == O_BPP;
            if ((o->num_lvc_params = parse_list(optarg, o->lvc_params,
                                                LVC_RD_MAX_POINTS)) <= 0)
                goto bad;
            for (int i = 0; i < o->num_lvc_params; i++)
                if (o->lvc_params[i] < 0 || (!o->lvc_bpp && o->lvc_params[i] > 100) ||
                    (o->lvc_bpp && o->lvc_params[i] <= 0))
                    goto bad;
            break;
        case O_CODEC:
            append_list(o->codec_list, sizeof(o->codec_list), optarg);
            break;
        case O_SWEEP: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || (size_t)(eq - optarg) >= sizeof(o->sweeps[0].name) ||
                o->num_sweeps == MAX_CODECS)
                goto bad;
            int k = o->num_sweeps++;
            memcpy(o->sweeps[k].name, optarg, (size_t)(eq - optarg));
            o->sweeps[k].name[eq - optarg] = 0;
            if ((o->sweeps[k].n = parse_list(eq + 1, o->sweeps[k].params,
                                             LVC_RD_MAX_POINTS)) <= 0)
                goto bad;
            break;
        }
        case O_THREADS:
            if (lvcrd_parse_int(optarg, 1, 256, &o->threads) < 0)
                goto bad;
            break;
        case O_ANCHOR:
            if (o->num_anchors == MAX_ANCHORS)
                goto bad;
            o->anchors[o->num_anchors++] = optarg;
            break;
        case O_MAXIMG:
            if (lvcrd_parse_int(optarg, 1, MAX_IMAGES, &o->max_images) < 0)
                goto bad;
            break;
        case O_QUIET: o->quiet = 1; break;
        case O_RESUME: o->resume = 1; break;
        case O_VERBOSE: o->verbose = 1; break;
        case O_BPPMAX: {
            char *end;
            o->bpp_max = strtod(optarg, &end);
            if (*end || !(o->bpp_max > 0) || !isfinite(o->bpp_max))
                goto bad;
            break;
        }
        case O_TITLE: o->title = optarg; break;
        case 'o': o->outdir = optarg; break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            if (optopt)
                fprintf(stderr, "lvcrd: bad option or missing value: -%c\n", optopt);
            else
                fprintf(stderr, "lvcrd: bad option: %s\n", argv[optind - 1]);
            fprintf(stderr, "lvcrd: try lvcrd --help\n");
            return -1;
        }
    }
    if (optind != argc - 1 || !o->outdir) {
        fprintf(stderr, "lvcrd: need one DATASET_DIR and -o RESULTS_DIR (try --help)\n");
        return -1;
    }
    o->dataset = argv[optind];
    return 0;
bad:
    fprintf(stderr, "lvcrd: bad value for %s%s: %s\n", li >= 0 ? "--" : "-",
            li >= 0 ? longopts[li].name : "q", optarg);
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_png_ext(const char *n)
{
    const size_t l = strlen(n);
    return l > 4 && !strcasecmp(n + l - 4, ".png");
}

static int list_images(Run *r)
{
    DIR *d = opendir(r->o.dataset);
    if (!d) {
        fprintf(stderr, "lvcrd: %s: %s\n", r->o.dataset, strerror(errno));
        return -1;
    }
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !has_png_ext(e->d_name) ||
            strlen(e->d_name) >= sizeof(((LvcRdPoint *)0)->image))
            continue;
        if (r->num_images == cap) {
            if (cap >= MAX_IMAGES) {
                fprintf(stderr, "lvcrd: %s: more than %d images, the rest is ignored\n",
                        r->o.dataset, MAX_IMAGES);
                break;
            }
            const int nc = cap ? 2 * cap : 64;
            char **ni = realloc(r->images, (size_t)nc * sizeof(*ni));
            if (!ni)
                goto nomem;
            r->images = ni;
            cap = nc;
        }
        if (!(r->images[r->num_images] = strdup(e->d_name)))
            goto nomem;
        r->num_images++;
    }
    closedir(d);
    if (r->num_images == 0) {
        fprintf(stderr, "lvcrd: %s: no .png images\n", r->o.dataset);
        return -1;
    }
    qsort(r->images, (size_t)r->num_images, sizeof(*r->images), cmp_str);
    if (r->o.max_images && r->num_images > r->o.max_images) {
        for (int i = r->o.max_images; i < r->num_images; i++)
            free(r->images[i]);
        r->num_images = r->o.max_images;
    }
    return 0;
nomem:
    closedir(d);
    fprintf(stderr, "lvcrd: out of memory listing %s\n", r->o.dataset);
    return -1;
}

/* Adds codec c (already set up) to the run, applying --sweep / -q. */
static int add_codec(Run *r, const LvcRdCodec *c)
{
    for (int i = 0; i < r->num_codecs; i++)
        if (!strcmp(r->codecs[i].codec.name, c->name))
            return 0;
    if (r->num_codecs == MAX_CODECS)
        return -1;
    CodecRun *cr = &r->codecs[r->num_codecs++];
    memset(cr, 0, sizeof(*cr));
    cr->codec = *c;
    for (int i = 0; i < r->o.num_sweeps; i++) {
        if (!strcmp(r->o.sweeps[i].name, c->name)) {
            cr->codec.num_params = r->o.sweeps[i].n;
            memcpy(cr->codec.params, r->o.sweeps[i].params,
                   (size_t)r->o.sweeps[i].n * sizeof(double));
        }
    }
    return 0;
}

static int setup_codecs(Run *r)
{
    char list[1024];
    char why[256];
    LvcRdCodec c;
    int want_lvc = r->o.num_models > 0 || !r->o.codec_list[0];
    snprintf(list, sizeof(list), "%s", r->o.codec_list);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "lvc")) {
            want_lvc = 1;
        } else if (!strcmp(tok, "all")) {
            char all[256];
            snprintf(all, sizeof(all), "%s", lvcrd_av_codec_names());
            for (char *s2 = NULL, *t2 = strtok_r(all, ",", &s2); t2;
                 t2 = strtok_r(NULL, ",", &s2)) {
                if (lvcrd_av_codec_setup(t2, r->o.threads, &c, why, sizeof(why)) == 0)
                    add_codec(r, &c);
                else
                    note(r, "%s", why);
            }
        } else {
            const int ret = lvcrd_av_codec_setup(tok, r->o.threads, &c, why, sizeof(why));
            if (ret == LVC_ERR_INVALID_ARG) {
                fprintf(stderr, "lvcrd: %s\n", why);
                return -1;
            }
            if (ret < 0)
                note(r, "%s", why);
            else if (add_codec(r, &c) < 0)
                return -1;
        }
    }
    for (int i = 0; i < r->o.num_sweeps; i++) {
        int found = 0;
        for (int k = 0; k < r->num_codecs; k++)
            found |= !strcmp(r->codecs[k].codec.name, r->o.sweeps[i].name);
        if (!found)
            note(r, "--sweep %s: codec not in this run, ignored", r->o.sweeps[i].name);
    }
    if (want_lvc) {
        const int n = r->o.num_models ? r->o.num_models : 1;
        for (int i = 0; i < n; i++) {
            char names[256];
            snprintf(names, sizeof(names), "%s",
                     r->o.num_models ? r->o.models[i] : "");
            char *save = NULL, *tok = strtok_r(names, ",", &save);
            do {
                if (lvcrd_lvc_codec_setup(tok && *tok ? tok : NULL, r->o.lvc_bpp,
                                          r->o.threads, &c, why, sizeof(why)) < 0) {
                    note(r, "%s", why);
                    continue;
                }
                if (r->o.num_lvc_params) {
                    c.num_params = r->o.num_lvc_params;
                    memcpy(c.params, r->o.lvc_params,
                           (size_t)c.num_params * sizeof(double));
                } else if (r->o.lvc_bpp) {
                    c.num_params = 0;
                }
                if (add_codec(r, &c) < 0)
                    return -1;
            } while ((tok = strtok_r(NULL, ",", &save)));
        }
    }
    if (r->num_codecs == 0) {
        fprintf(stderr, "lvcrd: no codec available to evaluate\n");
        return -1;
    }
    return 0;
}

/* Reads a PNG as 8-bit RGB: gray is replicated, alpha dropped, 16 bits
 * rounded to 8. */
static int load_rgb(const char *path, LvcRdImage *out, char *err, size_t err_size)
{
    LvcImage img = { 0 };
    int ret = lvc_png_read_file(path, &img, 0);
    if (ret < 0) {
        snprintf(err, err_size, "%s", lvc_error_string(ret));
        return ret;
    }
    if ((ret = lvcrd_image_alloc(out, img.width, img.height)) < 0) {
        snprintf(err, err_size, "%s", lvc_error_string(ret));
        lvc_image_free(&img);
        return ret;
    }
    const int ch = img.channels, color = ch >= 3;
    for (int y = 0; y < img.height; y++) {
        const uint8_t *row = img.data + (size_t)y * img.stride;
        uint8_t *dst = out->data + (size_t)y * out->stride;
        for (int x = 0; x < img.width; x++) {
            for (int k = 0; k < 3; k++) {
                const int src_k = color ? k : 0;
                const size_t i = (size_t)x * ch + src_k;
                if (img.bit_depth == 16) {
                    const uint16_t v = ((const uint16_t *)(const void *)row)[i];
                    dst[3 * x + k] = (uint8_t)((v * 255u + 32767u) / 65535u);
                } else {
                    dst[3 * x + k] = row[i];
                }
            }
        }
    }
    lvc_image_free(&img);
    return 0;
}

static void fmt_eta(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "--");
    else if (s < 60)
        snprintf(buf, size, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)s / 3600, ((int)s / 60) % 60);
}

static void progress(Run *r, int image, const LvcRdCodec *c, double param, int newline)
{
    if (r->o.quiet)
        return;
    char eta[32];
    const double el = lvcrd_now() - r->start;
    const double per = r->computed_points ? el / (double)r->computed_points : NAN;
    fmt_eta(per * (double)(r->total_points - r->done_points), eta, sizeof(eta));
    if (r->tty) {
        fprintf(stderr, "\r\033[K[%d/%d images] %ld/%ld points  %s %s=%g  %s  ETA %s",
                image, r->num_images, r->done_points, r->total_points,
                c ? c->name : "", c ? c->param_name : "", c ? param : 0.0,
                image < r->num_images ? r->images[image] : "", eta);
        if (newline)
            fputc('\n', stderr);
    } else if (newline) {
        /* Not a terminal (a log file): one line per finished image. */
        fprintf(stderr, "lvcrd: [%d/%d images] %ld/%ld points, elapsed %.0fs, ETA %s\n",
                image, r->num_images, r->done_points, r->total_points, el, eta);
    }
    fflush(stderr);
}

static int run_points(Run *r, LvcRdStore *store)
{
    for (int k = 0; k < r->num_codecs; k++)
        r->total_points += (long)r->codecs[k].codec.num_params * r->num_images;
    r->start = lvcrd_now();
    for (int i = 0; i < r->num_images; i++) {
        LvcRdImage src = { 0 };
        int loaded = 0;
        for (int k = 0; k < r->num_codecs; k++) {
            CodecRun *cr = &r->codecs[k];
            for (int p = 0; p < cr->codec.num_params; p++) {
                const double param = cr->codec.params[p];
                char key[32], err[256];
                lvcrd_param_key(param, key, sizeof(key));
                if (lvcrd_store_find(store, cr->codec.name, key, r->images[i]) >= 0) {
                    r->done_points++;
                    continue;
                }
                if (!loaded) {
                    char path[4096];
                    snprintf(path, sizeof(path), "%s/%s", r->o.dataset, r->images[i]);
                    if (load_rgb(path, &src, err, sizeof(err)) < 0) {
                        note(r, "%s: cannot read (%s), image skipped", path, err);
                        loaded = -1;
                    } else {
                        loaded = 1;
                    }
                }
                if (loaded < 0) {
                    r->done_points++;
                    r->failed_points++;
                    continue;
                }
                progress(r, i, &cr->codec, param, 0);
                LvcRdImage rec = { 0 };
                LvcRdCoded res;
                int ret = cr->codec.code(&cr->codec, param, &src, &rec, &res, err,
                                         sizeof(err));
                LvcRdPoint pt;
                memset(&pt, 0, sizeof(pt));
                if (ret >= 0) {
                    const int w = src.width, h = src.height;
                    pt.psnr = lvcrd_psnr_from_mse(
                        lvcrd_mse_rgb(src.data, src.stride, rec.data, rec.stride, w, h));
                    pt.psnr_y = lvcrd_psnr_from_mse(
                        lvcrd_mse_y(src.data, src.stride, rec.data, rec.stride, w, h));
                    ret = lvcrd_msssim_rgb(src.data, src.stride, rec.data, rec.stride, w,
                                           h, &pt.msssim);
                    if (ret < 0)
                        snprintf(err, sizeof(err), "MS-SSIM: %s", lvc_error_string(ret));
                }
                lvcrd_image_free(&rec);
                r->done_points++;
                r->computed_points++;
                if (ret < 0) {
                    r->failed_points++;
                    if (cr->failed++ == 0) {
                        snprintf(cr->first_error, sizeof(cr->first_error), "%s", err);
                        note(r, "%s %s=%s %s: %s (further failures of %s are counted "
                                "in summary.md)", cr->codec.name, cr->codec.param_name, key,
                             r->images[i], err, cr->codec.name);
                    } else if (r->notes_file) {
                        fprintf(r->notes_file, "%s %s=%s %s: %s\n", cr->codec.name,
                                cr->codec.param_name, key, r->images[i], err);
                        fflush(r->notes_file);
                    }
                    continue;
                }
                snprintf(pt.codec, sizeof(pt.codec), "%s", cr->codec.name);
                snprintf(pt.param, sizeof(pt.param), "%s", key);
                snprintf(pt.image, sizeof(pt.image), "%s", r->images[i]);
                pt.width = src.width;
                pt.height = src.height;
                pt.bytes = res.bytes;
                pt.bpp = 8.0 * (double)res.bytes / ((double)src.width * src.height);
                pt.enc_s = res.enc_s;
                pt.dec_s = res.dec_s;
                pt.threads = cr->codec.threads;
                if ((ret = lvcrd_store_add(store, &pt)) < 0) {
                    fprintf(stderr, "\nlvcrd: cannot write per_image.csv: %s\n",
                            lvc_error_string(ret));
                    lvcrd_image_free(&src);
                    return -1;
                }
            }
        }
        lvcrd_image_free(&src);
        progress(r, i + 1, NULL, 0, i + 1 == r->num_images || !r->tty);
    }
    return 0;
}

static void sanitize(const char *in, char *out, size_t size)
{
    size_t n = 0;
    for (; *in && n + 1 < size; in++)
        out[n++] = ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
                    (*in >= '0' && *in <= '9') || *in == '-' || *in == '_' || *in == '.')
                   ? *in : '_';
    out[n] = 0;
}

/* quality: 0 PSNR-RGB, 1 MS-SSIM (dB). Returns 0 and *bd or a negative
 * code (not enough points / no overlap). */
static int bd_of(const LvcRdCurve *anchor, const LvcRdCurve *test, int quality, double *bd)
{
    double qa[LVC_RD_MAX_POINTS], qt[LVC_RD_MAX_POINTS];
    if (quality == 0 ? !(anchor->has_psnr && test->has_psnr)
                     : !(anchor->has_msssim && test->has_msssim))
        return LVC_ERR_UNSUPPORTED;
    for (int i = 0; i < anchor->n; i++)
        qa[i] = quality == 0 ? anchor->psnr[i] : lvcrd_msssim_db(anchor->msssim[i]);
    for (int i = 0; i < test->n; i++)
        qt[i] = quality == 0 ? test->psnr[i] : lvcrd_msssim_db(test->msssim[i]);
    return lvcrd_bd_rate(anchor->bpp, qa, anchor->n, test->bpp, qt, test->n, bd);
}

static void fmt_bd(const LvcRdCurve *a, const LvcRdCurve *t, int q, char *buf, size_t size)
{
    double bd;
    const int ret = bd_of(a, t, q, &bd);
    if (ret == 0)
        snprintf(buf, size, "%+.1f%%", bd);
    else
        snprintf(buf, size, "%s", ret == LVC_ERR_UNSUPPORTED ? "n/a" : "too few points");
}

static int write_outputs(Run *r)
{
    char path[4096], fname[128];
    int ret;
    const int ncurves = r->num_codecs + r->num_anchors;
    const LvcRdCurve **all = calloc((size_t)ncurves + 1, sizeof(*all));
    if (!all)
        return -1;
    int n = 0;
    for (int k = 0; k < r->num_codecs; k++) {
        CodecRun *cr = &r->codecs[k];
        LvcRdCurve *c = &cr->curve;
        c->is_anchor = 0;
        snprintf(c->name, sizeof(c->name), "%s", cr->codec.label);
        snprintf(c->description, sizeof(c->description), "%s; measured by lvcrd on %d images of %s",
                 cr->codec.description, r->num_images, r->o.dataset);
        snprintf(c->param_name, sizeof(c->param_name), "%s", cr->codec.param_name);
        c->macs_per_pixel = cr->codec.macs_per_pixel;
        /* c->threads stays that of the points (resumed points keep the
         * thread count they were measured with) */
        if (c->n == 0)
            continue;
        sanitize(cr->codec.name, fname, sizeof(fname));
        snprintf(path, sizeof(path), "%s/%s.json", r->o.outdir, fname);
        if ((ret = lvcrd_curve_write_json(path, c)) < 0) {
            fprintf(stderr, "lvcrd: %s: cannot write\n", path);
            free(all);
            return -1;
        }
        all[n++] = c;
    }
    const int nmeasured = n;
    for (int a = 0; a < r->num_anchors; a++)
        all[n++] = &r->anchors[a];

    snprintf(path, sizeof(path), "%s/rd.svg", r->o.outdir);
    char title[512];
    if (r->o.title) {
        snprintf(title, sizeof(title), "%s", r->o.title);
    } else {
        /* Basename of the dataset folder, trailing slashes ignored. */
        char ds[1024];
        snprintf(ds, sizeof(ds), "%s", r->o.dataset);
        size_t l = strlen(ds);
        while (l > 1 && ds[l - 1] == '/')
            ds[--l] = 0;
        const char *base = strrchr(ds, '/');
        snprintf(title, sizeof(title), "Rate-distortion on %s (%d images)",
                 base && base[1] ? base + 1 : ds, r->num_images);
    }
    if (lvcrd_svg_write(path, all, n, title, r->o.bpp_max) < 0) {
        fprintf(stderr, "lvcrd: %s: cannot write\n", path);
        free(all);
        return -1;
    }

    snprintf(path, sizeof(path), "%s/bdrate.csv", r->o.outdir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "lvcrd: %s: %s\n", path, strerror(errno));
        free(all);
        return -1;
    }
    fprintf(f, "curve,anchor,metric,bd_rate_percent\n");
    for (int t = 0; t < n; t++) {
        for (int a = 0; a < r->num_anchors; a++) {
            for (int q = 0; q < 2; q++) {
                double bd;
                fprintf(f, "\"%s\",\"%s\",%s,", all[t]->name, r->anchors[a].name,
                        q == 0 ? "psnr-rgb" : "ms-ssim-rgb-db");
                if (bd_of(&r->anchors[a], all[t], q, &bd) == 0)
                    fprintf(f, "%.4f\n", bd);
                else
                    fprintf(f, "\n");
            }
        }
    }
    fclose(f);

    snprintf(path, sizeof(path), "%s/summary.md", r->o.outdir);
    if (!(f = fopen(path, "w"))) {
        fprintf(stderr, "lvcrd: %s: %s\n", path, strerror(errno));
        free(all);
        return -1;
    }
    fprintf(f, "# %s\n\n", title);
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(f, "Generated by lvcrd (lvc %s) on %s.\n\n```\n%s\n```\n\n", lvc_version(), date,
            r->cmdline);
    fprintf(f, "![RD curves](rd.svg)\n\n");
    fprintf(f, "Averages over the %d images: per-image bpp, PSNR and MS-SSIM are computed "
               "first and then averaged (CompressAI's convention). PSNR-RGB over the 8-bit "
               "R, G, B samples; MS-SSIM RGB as pytorch-msssim (5 scales, per channel, "
               "averaged); times are wall-clock seconds per image with the stated threads. "
               "BD-rate: PCHIP of log(bpp) over quality, exact integral over the "
               "overlapping quality range; MS-SSIM BD-rates use -10 log10(1 - MS-SSIM). "
               "Negative is better than the anchor.\n\n", r->num_images);
    fprintf(f, "| curve | points | bpp range | PSNR-RGB range (dB) |");
    for (int a = 0; a < r->num_anchors; a++)
        fprintf(f, " BD-rate PSNR vs %s | BD-rate MS-SSIM vs %s |", r->anchors[a].name,
                r->anchors[a].name);
    fprintf(f, " enc s | dec s | threads | MAC/px |\n|---|---|---|---|");
    for (int a = 0; a < r->num_anchors; a++)
        fprintf(f, "---|---|");
    fprintf(f, "---|---|---|---|\n");
    for (int t = 0; t < n; t++) {
        const LvcRdCurve *c = all[t];
        double et = 0, dt = 0;
        for (int i = 0; i < c->n; i++) {
            et += c->enc_time[i];
            dt += c->dec_time[i];
        }
        fprintf(f, "| %s%s | %d | %.3f–%.3f | %.2f–%.2f |", c->name,
                c->is_anchor ? " (anchor)" : "", c->n, c->bpp[0], c->bpp[c->n - 1],
                c->psnr[0], c->psnr[c->n - 1]);
        for (int a = 0; a < r->num_anchors; a++) {
            char b0[32], b1[32];
            fmt_bd(&r->anchors[a], c, 0, b0, sizeof(b0));
            fmt_bd(&r->anchors[a], c, 1, b1, sizeof(b1));
            fprintf(f, " %s | %s |", b0, b1);
        }
        if (c->is_anchor || !c->has_times)
            fprintf(f, " (published) | (published) | | |\n");
        else if (c->macs_per_pixel > 0)
            fprintf(f, " %.3f | %.3f | %d | %.0f |\n", et / c->n, dt / c->n, c->threads,
                    c->macs_per_pixel);
        else
            fprintf(f, " %.3f | %.3f | %d | – |\n", et / c->n, dt / c->n, c->threads);
    }
    fprintf(f, "\nenc s / dec s: mean over the curve's points of the mean time per "
               "image.\n\n## Points\n\n");
    for (int t = 0; t < nmeasured; t++) {
        const LvcRdCurve *c = all[t];
        fprintf(f, "### %s\n\n%s\n\n| %s | bpp | PSNR-RGB | PSNR-Y | MS-SSIM | enc s | dec s |\n"
                   "|---|---|---|---|---|---|---|\n", c->name, c->description, c->param_name);
        for (int i = 0; i < c->n; i++)
            fprintf(f, "| %g | %.4f | %.3f | %.3f | %.5f | %.3f | %.3f |\n", c->param[i],
                    c->bpp[i], c->psnr[i], c->psnr_y[i], c->msssim[i], c->enc_time[i],
                    c->dec_time[i]);
        fprintf(f, "\n");
    }
    int any_note = r->num_notes > 0;
    for (int k = 0; k < r->num_codecs; k++)
        any_note |= r->codecs[k].failed || r->codecs[k].incomplete || !r->codecs[k].curve.n;
    if (any_note) {
        fprintf(f, "## Notes\n\n");
        for (int k = 0; k < r->num_codecs; k++) {
            const CodecRun *cr = &r->codecs[k];
            if (cr->failed)
                fprintf(f, "- %s: %d point(s) failed in this run; first error: %s\n",
                        cr->codec.name, cr->failed, cr->first_error);
            if (cr->incomplete)
                fprintf(f, "- %s: %d rate(s) left out of the curve because not every "
                           "image has a point (see per_image.csv)\n",
                        cr->codec.name, cr->incomplete);
            if (!cr->curve.n)
                fprintf(f, "- %s: no complete rate, no curve\n", cr->codec.name);
        }
        for (int i = 0; i < r->num_notes; i++)
            fprintf(f, "- %s\n", r->notes[i]);
    }
    const int bad = ferror(f);
    fclose(f);
    free(all);
    if (bad)
        return -1;

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

int lvcrd_main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--splats"))
            return lvcrd_splat_main(argc, argv);
        else if (!strcmp(argv[i], "--video"))
            return lvcrd_video_main(argc, argv);
    Run *r = calloc(1, sizeof(*r));
    if (!r) {
        fprintf(stderr, "lvcrd: out of memory\n");
        return LVCRD_EXIT_IO;
    }
    int status = LVCRD_EXIT_USAGE;
    LvcRdStore store = { 0 };
    r->codecs = calloc(MAX_CODECS, sizeof(*r->codecs));
    r->anchors = calloc(MAX_ANCHORS, sizeof(*r->anchors));
    if (!r->codecs || !r->anchors) {
        fprintf(stderr, "lvcrd: out of memory\n");
        status = LVCRD_EXIT_IO;
        goto end;
    }
    for (int i = 0; i < argc; i++) {
        /* Shell-quoted so that the command in summary.md can be pasted. */
        const size_t l = strlen(r->cmdline);
        const int plain = argv[i][0] && !argv[i][strspn(argv[i],
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%")];
        if (plain || strchr(argv[i], '\''))
            snprintf(r->cmdline + l, sizeof(r->cmdline) - l, "%s%s", i ? " " : "", argv[i]);
        else
            snprintf(r->cmdline + l, sizeof(r->cmdline) - l, "%s'%s'", i ? " " : "", argv[i]);
    }
    const int po = parse_options(r, argc, argv);
    if (po != 0) {
        status = po > 0 ? LVCRD_EXIT_OK : LVCRD_EXIT_USAGE;
        goto end;
    }
    r->tty = isatty(2);
    lvcrd_av_log_level(r->o.verbose);

    for (int a = 0; a < r->o.num_anchors; a++) {
        char err[512];
        if (lvcrd_curve_load_json(r->o.anchors[a], &r->anchors[a], err, sizeof(err)) < 0) {
            fprintf(stderr, "lvcrd: anchor %s\n", err);
            goto end;
        }
        r->num_anchors++;
    }
    status = LVCRD_EXIT_IO;
    if (list_images(r) < 0)
        goto end;
    if (make_dir(r->o.outdir) < 0) {
        fprintf(stderr, "lvcrd: %s: %s\n", r->o.outdir, strerror(errno));
        goto end;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/notes.txt", r->o.outdir);
    r->notes_file = fopen(path, r->o.resume ? "a" : "w");
    status = LVCRD_EXIT_USAGE;
    if (setup_codecs(r) < 0)
        goto end;
    for (int k = 0; k < r->num_codecs; k++)
        if (r->codecs[k].codec.num_params == 0)
            note(r, "%s: no rate to evaluate (give -q or --bpp)", r->codecs[k].codec.name);

    status = LVCRD_EXIT_IO;
    char err[512];
    snprintf(path, sizeof(path), "%s/per_image.csv", r->o.outdir);
    if (lvcrd_store_open(&store, path, r->o.resume, err, sizeof(err)) < 0) {
        fprintf(stderr, "lvcrd: %s\n", err);
        goto end;
    }
    /* Points made with other weights or another bitstream format are not
     * points of these: drop them. */
    LvcRdVersions versions;
    char vpath[4096];
    snprintf(vpath, sizeof(vpath), "%s/versions.txt", r->o.outdir);
    lvcrd_versions_load(&versions, vpath);
    for (int k = 0; k < r->num_codecs; k++) {
        const LvcRdCodec *c = &r->codecs[k].codec;
        if (!c->version[0])
            continue;
        const char *was = lvcrd_versions_get(&versions, c->name);
        if (r->o.resume && (!was || strcmp(was, c->version))) {
            const int n = lvcrd_store_drop(&store, c->name);
            if (n < 0) {
                fprintf(stderr, "lvcrd: %s: %s\n", path, lvc_error_string(n));
                goto end;
            }
            if (n > 0 && was)
                note(r, "%s: %d stored point(s) were made with other weights or another "
                        "bitstream format (%s); computed again", c->name, n, was);
            else if (n > 0)
                note(r, "%s: %d stored point(s) have no recorded weights; computed again",
                     c->name, n);
        }
        if (lvcrd_versions_set(&versions, c->name, c->version) < 0) {
            fprintf(stderr, "lvcrd: %s: too many codecs recorded\n", vpath);
            goto end;
        }
    }
    if (lvcrd_versions_save(&versions, vpath) < 0) {
        fprintf(stderr, "lvcrd: %s: cannot write\n", vpath);
        goto end;
    }
    if (r->o.resume && store.n && !r->o.quiet)
        fprintf(stderr, "lvcrd: resuming: %d point(s) already done\n", store.n);
    if (run_points(r, &store) < 0)
        goto end;

    int curves = 0;
    for (int k = 0; k < r->num_codecs; k++) {
        CodecRun *cr = &r->codecs[k];
        lvcrd_store_curve(&store, cr->codec.name, cr->codec.params, cr->codec.num_params,
                          (const char *const *)r->images, r->num_images, &cr->curve,
                          &cr->incomplete);
        curves += cr->curve.n > 0;
    }
    if (write_outputs(r) < 0)
        goto end;
    if (!r->o.quiet) {
        printf("lvcrd: %ld point(s), %ld failed; results in %s (summary.md, rd.svg)\n",
               r->done_points, r->failed_points, r->o.outdir);
        for (int k = 0; k < r->num_codecs; k++) {
            const LvcRdCurve *c = &r->codecs[k].curve;
            for (int a = 0; a < r->num_anchors; a++) {
                char b0[32], b1[32];
                fmt_bd(&r->anchors[a], c, 0, b0, sizeof(b0));
                fmt_bd(&r->anchors[a], c, 1, b1, sizeof(b1));
                printf("  %-22s vs %-24s BD-rate PSNR %8s  MS-SSIM %8s\n", c->name,
                       r->anchors[a].name, c->n ? b0 : "-", c->n ? b1 : "-");
            }
        }
    }
    status = curves > 0 ? LVCRD_EXIT_OK : LVCRD_EXIT_NOPOINT;
    if (!curves)
        fprintf(stderr, "lvcrd: no codec produced a complete curve (see %s/notes.txt)\n",
                r->o.outdir);
end:
    lvcrd_lvc_release();
    lvcrd_store_close(&store);
    if (r->notes_file)
        fclose(r->notes_file);
    for (int i = 0; i < r->num_images; i++)
        free(r->images[i]);
    free(r->images);
    free(r->codecs);
    free(r->anchors);
    free(r);
    return status;
}
