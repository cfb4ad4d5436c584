/*
 * lvcrd: per-point CSV store and averaging.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_results.h"

const char lvcrd_csv_header[] =
    "codec,param,image,width,height,bytes,bpp,psnr_rgb,psnr_y,ms_ssim_rgb,"
    "enc_s,dec_s,threads";

#define NFIELDS 13

void lvcrd_param_key(double param, char *buf, size_t size)
{
    snprintf(buf, size, "%.10g", param);
}

static void write_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Splits one CSV line in place (RFC 4180 quoting). Returns the field count
 * or -1 on a malformed line. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        if (*p == '"') {
            char *dst = ++p;
            fields[n++] = dst;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *dst++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *dst++ = *p++;
            }
            *dst = 0;
            if (*p == ',') {
                p++;
                continue;
            }
            return *p ? -1 : n;
        }
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            return n;
        *c = 0;
        p = c + 1;
    }
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return (end != s && *end == 0 && errno == 0) ? 0 : -1;
}

static int parse_line(char *line, LvcRdPoint *p)
{
    char *f[NFIELDS];
    double v[NFIELDS];
    if (split_csv(line, f, NFIELDS) != NFIELDS)
        return -1;
    for (int i = 3; i < NFIELDS; i++)
        if (parse_double(f[i], &v[i]) < 0)
            return -1;
    if (strlen(f[0]) >= sizeof(p->codec) || strlen(f[1]) >= sizeof(p->param) ||
        strlen(f[2]) >= sizeof(p->image) || !f[0][0] || !f[2][0])
        return -1;
    memset(p, 0, sizeof(*p));
    strcpy(p->codec, f[0]);
    strcpy(p->param, f[1]);
    strcpy(p->image, f[2]);
    p->width = (int)v[3];
    p->height = (int)v[4];
    p->bytes = (uint64_t)v[5];
    p->bpp = v[6];
    p->psnr = v[7];
    p->psnr_y = v[8];
    p->msssim = v[9];
    p->enc_s = v[10];
    p->dec_s = v[11];
    p->threads = (int)v[12];
    return 0;
}

static int push(LvcRdStore *s, const LvcRdPoint *p)
{
    if (s->n == s->cap) {
        if (s->cap > (1 << 24))
            return LVC_ERR_LIMIT;
        const int nc = s->cap ? 2 * s->cap : 256;
        LvcRdPoint *np = realloc(s->pts, (size_t)nc * sizeof(*np));
        if (!np)
            return LVC_ERR_NOMEM;
        s->pts = np;
        s->cap = nc;
    }
    s->pts[s->n++] = *p;
    return 0;
}

static void write_point(FILE *f, const LvcRdPoint *p)
{
    write_field(f, p->codec);
    fputc(',', f);
    write_field(f, p->param);
    fputc(',', f);
    write_field(f, p->image);
    /* %.17g: the averages computed from a resumed run equal those of an
     * uninterrupted one. */
    fprintf(f, ",%d,%d,%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%d\n", p->width,
            p->height, (unsigned long long)p->bytes, p->bpp, p->psnr, p->psnr_y,
            p->msssim, p->enc_s, p->dec_s, p->threads);
}

int lvcrd_store_open(LvcRdStore *s, const char *path, int resume, char *err,
                     size_t err_size)
{
    memset(s, 0, sizeof(*s));
    int ret;
    if (resume) {
        FILE *in = fopen(path, "r");
        if (in) {
            char line[4096];
            LvcRdPoint p;
            while (fgets(line, sizeof(line), in)) {
                const size_t l = strlen(line);
                /* A line without its newline was cut short: drop it. */
                if (l == 0 || line[l - 1] != '\n')
                    continue;
                line[l - 1] = 0;
                if (l >= 2 && line[l - 2] == '\r')
                    line[l - 2] = 0;
                if (parse_line(line, &p) < 0 ||
                    lvcrd_store_find(s, p.codec, p.param, p.image) >= 0)
                    continue;
                if ((ret = push(s, &p)) < 0) {
                    fclose(in);
                    snprintf(err, err_size, "%s: %s", path, lvc_error_string(ret));
                    lvcrd_store_close(s);
                    return ret;
                }
            }
            fclose(in);
        } else if (errno != ENOENT) {
            snprintf(err, err_size, "%s: %s", path, strerror(errno));
            return LVC_ERR_IO;
        }
    }
    /* Rewrite the file from memory: this removes partial lines and
     * duplicates, and gives a fresh file the header. */
    s->f = fopen(path, "w");
    if (!s->f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        lvcrd_store_close(s);
        return LVC_ERR_IO;
    }
    fprintf(s->f, "%s\n", lvcrd_csv_header);
    for (int i = 0; i < s->n; i++)
        write_point(s->f, &s->pts[i]);
    if (fflush(s->f) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        lvcrd_store_close(s);
        return LVC_ERR_IO;
    }
    return 0;
}

int lvcrd_store_find(const LvcRdStore *s, const char *codec, const char *param,
                     const char *image)
{
    for (int i = s->n - 1; i >= 0; i--)
        if (!strcmp(s->pts[i].image, image) && !strcmp(s->pts[i].param, param) &&
            !strcmp(s->pts[i].codec, codec))
            return i;
    return -1;
}

int lvcrd_store_add(LvcRdStore *s, const LvcRdPoint *p)
{
    int ret = push(s, p);
    if (ret < 0)
        return ret;
    if (s->f) {
        write_point(s->f, p);
        if (fflush(s->f) != 0)
            return LVC_ERR_IO;
    }
    return 0;
}

int lvcrd_store_drop(LvcRdStore *s, const char *codec)
{
    int kept = 0;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->pts[i].codec, codec))
            s->pts[kept++] = s->pts[i];
    const int dropped = s->n - kept;
    s->n = kept;
    if (!dropped || !s->f)
        return dropped;
    /* rewrite the file from memory */
    if (fflush(s->f) != 0 || fseek(s->f, 0, SEEK_SET) != 0 || ftruncate(fileno(s->f), 0) != 0)
        return LVC_ERR_IO;
    fprintf(s->f, "%s\n", lvcrd_csv_header);
    for (int i = 0; i < s->n; i++)
        write_point(s->f, &s->pts[i]);
    return fflush(s->f) != 0 ? LVC_ERR_IO : dropped;
}

void lvcrd_versions_load(LvcRdVersions *v, const char *path)
{
    memset(v, 0, sizeof(*v));
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        char codec[64], version[96];
        if (sscanf(line, "%63s %95s", codec, version) == 2)
            lvcrd_versions_set(v, codec, version);
    }
    fclose(f);
}

const char *lvcrd_versions_get(const LvcRdVersions *v, const char *codec)
{
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->codec[i], codec))
            return v->version[i];
    return NULL;
}

int lvcrd_versions_set(LvcRdVersions *v, const char *codec, const char *version)
{
    if (strlen(codec) >= sizeof(v->codec[0]) || strlen(version) >= sizeof(v->version[0]) ||
        strpbrk(codec, " \t\r\n") || strpbrk(version, " \t\r\n") || !*codec || !*version)
        return LVC_ERR_INVALID_ARG;
    int i = 0;
    while (i < v->n && strcmp(v->codec[i], codec))
        i++;
    if (i < v->n && version == v->version[i])
        return 0;
    if (i == v->n) {
        if (v->n == (int)(sizeof(v->codec) / sizeof(v->codec[0])))
            return LVC_ERR_LIMIT;
        v->n++;
    }
    if (codec != v->codec[i])
        memmove(v->codec[i], codec, strlen(codec) + 1);
    memmove(v->version[i], version, strlen(version) + 1);
    return 0;
}

int lvcrd_versions_save(const LvcRdVersions *v, const char *path)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return LVC_ERR_INVALID_ARG;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return LVC_ERR_IO;
    for (int i = 0; i < v->n; i++)
        fprintf(f, "%s %s\n", v->codec[i], v->version[i]);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return LVC_ERR_IO;
    }
    return 0;
}

void lvcrd_store_close(LvcRdStore *s)
{
    if (s->f)
        fclose(s->f);
    free(s->pts);
    memset(s, 0, sizeof(*s));
}

int lvcrd_store_curve(const LvcRdStore *s, const char *codec, const double *params,
                      int num_params, const char *const *images, int num_images,
                      LvcRdCurve *c, int *incomplete)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", codec);
    c->has_psnr = c->has_psnr_y = c->has_msssim = c->has_times = 1;
    c->images = num_images;
    *incomplete = 0;
    if (num_params > LVC_RD_MAX_POINTS)
        return LVC_ERR_LIMIT;
    for (int k = 0; k < num_params; k++) {
        char key[32];
        lvcrd_param_key(params[k], key, sizeof(key));
        double sum[6] = { 0 };
        int found = 0;
        for (int i = 0; i < num_images; i++) {
            const int idx = lvcrd_store_find(s, codec, key, images[i]);
            if (idx < 0)
                break;
            const LvcRdPoint *p = &s->pts[idx];
            sum[0] += p->bpp;
            sum[1] += p->psnr;
            sum[2] += p->psnr_y;
            sum[3] += p->msssim;
            sum[4] += p->enc_s;
            sum[5] += p->dec_s;
            c->threads = p->threads;
            found++;
        }
        if (found < num_images || num_images == 0) {
            (*incomplete)++;
            continue;
        }
        const int j = c->n++;
        c->param[j] = params[k];
        c->bpp[j] = sum[0] / num_images;
        c->psnr[j] = sum[1] / num_images;
        c->psnr_y[j] = sum[2] / num_images;
        c->msssim[j] = sum[3] / num_images;
        c->enc_time[j] = sum[4] / num_images;
        c->dec_time[j] = sum[5] / num_images;
    }
    lvcrd_curve_sort(c);
    return 0;
}
