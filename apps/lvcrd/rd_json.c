/*
 * lvcrd: JSON reading (anchors) and writing (results).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_json.h"

#define MAX_DEPTH 64
#define MAX_FILE (64u << 20)

typedef struct Parser {
    const char *p, *end, *start;
    int depth;
} Parser;

static void skip_ws(Parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int parse_value(Parser *ps, LvcJson *v);

static int put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        const char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* ps->p at the opening quote. A decoded string is never longer than its
 * escaped form, so the raw length bounds the allocation. */
static int parse_string(Parser *ps, char **out)
{
    const char *s = ++ps->p;
    const char *q = s;
    while (q < ps->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= ps->end)
        return LVC_ERR_TRUNCATED;
    char *dst = malloc((size_t)(q - s) + 1);
    if (!dst)
        return LVC_ERR_NOMEM;
    size_t n = 0;
    while (ps->p < q) {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20) {
            free(dst);
            return LVC_ERR_CORRUPT;
        }
        if (c != '\\') {
            dst[n++] = c;
            continue;
        }
        c = *ps->p++;
        switch (c) {
        case '"': dst[n++] = '"'; break;
        case '\\': dst[n++] = '\\'; break;
        case '/': dst[n++] = '/'; break;
        case 'b': dst[n++] = '\b'; break;
        case 'f': dst[n++] = '\f'; break;
        case 'n': dst[n++] = '\n'; break;
        case 'r': dst[n++] = '\r'; break;
        case 't': dst[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (q - ps->p < 4 || hex4(ps->p, &cp) < 0) {
                free(dst);
                return LVC_ERR_CORRUPT;
            }
            ps->p += 4;
            /* \uXXXX is 6 bytes; its UTF-8 form at most 3 (4 for a
             * surrogate pair, which takes 12). */
            if (cp >= 0xD800 && cp < 0xDC00 && q - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u') {
                unsigned lo;
                if (hex4(ps->p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    ps->p += 6;
                }
            }
            n += (size_t)put_utf8(dst + n, cp);
            break;
        }
        default:
            free(dst);
            return LVC_ERR_CORRUPT;
        }
    }
    dst[n] = 0;
    ps->p = q + 1;
    *out = dst;
    return 0;
}

static int grow(LvcJson *v, int *cap, int with_keys)
{
    if (v->count < *cap)
        return 0;
    if (*cap > (1 << 24))
        return LVC_ERR_LIMIT;
    const int nc = *cap ? *cap * 2 : 8;
    LvcJson *items = realloc(v->items, (size_t)nc * sizeof(*items));
    if (!items)
        return LVC_ERR_NOMEM;
    v->items = items;
    if (with_keys) {
        char **keys = realloc(v->keys, (size_t)nc * sizeof(*keys));
        if (!keys)
            return LVC_ERR_NOMEM;
        v->keys = keys;
    }
    *cap = nc;
    return 0;
}

static int parse_container(Parser *ps, LvcJson *v, int object)
{
    const char close = object ? '}' : ']';
    int cap = 0, ret;
    v->type = object ? LVC_JSON_OBJECT : LVC_JSON_ARRAY;
    if (++ps->depth > MAX_DEPTH)
        return LVC_ERR_LIMIT;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        if ((ret = grow(v, &cap, object)) < 0)
            return ret;
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return LVC_ERR_CORRUPT;
            if ((ret = parse_string(ps, &key)) < 0)
                return ret;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                return LVC_ERR_CORRUPT;
            }
            ps->p++;
        }
        memset(&v->items[v->count], 0, sizeof(v->items[0]));
        if (object)
            v->keys[v->count] = key;
        v->count++; /* counted first so that lvcrd_json_free releases it */
        if ((ret = parse_value(ps, &v->items[v->count - 1])) < 0)
            return ret;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return LVC_ERR_TRUNCATED;
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            ps->depth--;
            return 0;
        }
        return LVC_ERR_CORRUPT;
    }
}

static int parse_value(Parser *ps, LvcJson *v)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return LVC_ERR_TRUNCATED;
    const char c = *ps->p;
    if (c == '{' || c == '[')
        return parse_container(ps, v, c == '{');
    if (c == '"') {
        v->type = LVC_JSON_STRING;
        return parse_string(ps, &v->string);
    }
    static const struct { const char *word; LvcJsonType type; double value; } words[] = {
        { "true", LVC_JSON_BOOL, 1 }, { "false", LVC_JSON_BOOL, 0 },
        { "null", LVC_JSON_NULL, 0 }, { "NaN", LVC_JSON_NUMBER, NAN },
        { "Infinity", LVC_JSON_NUMBER, INFINITY },
        { "-Infinity", LVC_JSON_NUMBER, -INFINITY },
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        const size_t l = strlen(words[i].word);
        if ((size_t)(ps->end - ps->p) >= l && !memcmp(ps->p, words[i].word, l)) {
            v->type = words[i].type;
            v->number = words[i].value;
            ps->p += l;
            return 0;
        }
    }
    /* strtod needs a terminated buffer: copy the number's characters. */
    char buf[64];
    size_t n = 0;
    while (ps->p + n < ps->end && n < sizeof(buf) - 1 &&
           strchr("+-0123456789.eE", ps->p[n]))
        n++;
    if (n == 0)
        return LVC_ERR_CORRUPT;
    memcpy(buf, ps->p, n);
    buf[n] = 0;
    char *endp;
    v->number = strtod(buf, &endp);
    if (endp != buf + n)
        return LVC_ERR_CORRUPT;
    v->type = LVC_JSON_NUMBER;
    ps->p += n;
    return 0;
}

static void json_clear(LvcJson *j)
{
    for (int i = 0; i < j->count; i++) {
        json_clear(&j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->string);
}

void lvcrd_json_free(LvcJson *j)
{
    if (!j)
        return;
    json_clear(j);
    free(j);
}

int lvcrd_json_parse(const char *text, size_t len, LvcJson **out, char *err,
                     size_t err_size)
{
    *out = NULL;
    LvcJson *j = calloc(1, sizeof(*j));
    if (!j)
        return LVC_ERR_NOMEM;
    Parser ps = { text, text + len, text, 0 };
    int ret = parse_value(&ps, j);
    if (ret == 0) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            ret = LVC_ERR_CORRUPT;
    }
    if (ret < 0) {
        if (err)
            snprintf(err, err_size, "JSON error (%s) at byte %zu",
                     lvc_error_string(ret), (size_t)(ps.p - ps.start));
        lvcrd_json_free(j);
        return ret;
    }
    *out = j;
    return 0;
}

const LvcJson *lvcrd_json_get(const LvcJson *obj, const char *key)
{
    if (!obj || obj->type != LVC_JSON_OBJECT)
        return NULL;
    for (int i = 0; i < obj->count; i++)
        if (!strcmp(obj->keys[i], key))
            return &obj->items[i];
    return NULL;
}

/* ------------------------------------------------------------------ curves */

static int read_file(const char *path, char **out, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return LVC_ERR_IO;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int ret = 0;
    for (;;) {
        if (cap - n < 65536) {
            if (cap >= MAX_FILE) {
                ret = LVC_ERR_LIMIT;
                break;
            }
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                ret = LVC_ERR_NOMEM;
                break;
            }
            buf = nb;
        }
        const size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                ret = LVC_ERR_IO;
            break;
        }
    }
    fclose(f);
    if (ret < 0) {
        free(buf);
        return ret;
    }
    *out = buf;
    *size = n;
    return 0;
}

static int get_array(const LvcJson *res, const char *key, double *dst, int *n)
{
    const LvcJson *a = lvcrd_json_get(res, key);
    if (!a || a->type != LVC_JSON_ARRAY)
        return 0;
    if (a->count > LVC_RD_MAX_POINTS)
        return LVC_ERR_LIMIT;
    if (*n >= 0 && a->count != *n)
        return LVC_ERR_CORRUPT;
    for (int i = 0; i < a->count; i++)
        dst[i] = a->items[i].type == LVC_JSON_NUMBER ? a->items[i].number : NAN;
    *n = a->count;
    return 1;
}

int lvcrd_curve_load_json(const char *path, LvcRdCurve *c, char *err, size_t err_size)
{
    char *text = NULL;
    size_t size = 0;
    LvcJson *j = NULL;
    int ret;
    memset(c, 0, sizeof(*c));
    if ((ret = read_file(path, &text, &size)) < 0) {
        snprintf(err, err_size, "%s: cannot read (%s)", path,
                 ret == LVC_ERR_IO ? strerror(errno) : lvc_error_string(ret));
        return ret;
    }
    char perr[128];
    if ((ret = lvcrd_json_parse(text, size, &j, perr, sizeof(perr))) < 0) {
        snprintf(err, err_size, "%s: %s", path, perr);
        goto end;
    }
    const LvcJson *name = lvcrd_json_get(j, "name");
    const LvcJson *desc = lvcrd_json_get(j, "description");
    const LvcJson *res = lvcrd_json_get(j, "results");
    if (!res || res->type != LVC_JSON_OBJECT) {
        snprintf(err, err_size, "%s: no \"results\" object", path);
        ret = LVC_ERR_FORMAT;
        goto end;
    }
    if (name && name->type == LVC_JSON_STRING) {
        snprintf(c->name, sizeof(c->name), "%s", name->string);
    } else {
        const char *base = strrchr(path, '/');
        snprintf(c->name, sizeof(c->name), "%s", base ? base + 1 : path);
    }
    if (desc && desc->type == LVC_JSON_STRING)
        snprintf(c->description, sizeof(c->description), "%s", desc->string);

    int n = -1;
    ret = get_array(res, "bpp", c->bpp, &n);
    if (ret <= 0) {
        snprintf(err, err_size, "%s: %s", path,
                 ret == 0 ? "no \"bpp\" array" : "too many points");
        ret = ret == 0 ? LVC_ERR_FORMAT : ret;
        goto end;
    }
    struct { const char *key; double *dst; int *has; } arrays[] = {
        { "psnr-rgb", c->psnr, &c->has_psnr },
        { "psnr-y", c->psnr_y, &c->has_psnr_y },
        { "ms-ssim-rgb", c->msssim, &c->has_msssim },
        { "encoding_time", c->enc_time, &c->has_times },
        { "decoding_time", c->dec_time, NULL },
    };
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        for (int k = 0; k < LVC_RD_MAX_POINTS; k++)
            arrays[i].dst[k] = NAN;
        ret = get_array(res, arrays[i].key, arrays[i].dst, &n);
        if (ret < 0) {
            snprintf(err, err_size, "%s: \"%s\" has %s", path, arrays[i].key,
                     ret == LVC_ERR_LIMIT ? "too many points"
                                          : "a different length than \"bpp\"");
            goto end;
        }
        if (arrays[i].has)
            *arrays[i].has = ret;
    }
    c->n = n;
    for (int k = 0; k < n; k++)
        c->param[k] = NAN;
    c->is_anchor = 1;
    lvcrd_curve_sort(c);
    ret = 0;
end:
    lvcrd_json_free(j);
    free(text);
    return ret;
}

void lvcrd_curve_sort(LvcRdCurve *c)
{
    /* Insertion sort: at most LVC_RD_MAX_POINTS points. */
    for (int i = 1; i < c->n; i++) {
        for (int k = i; k > 0 && c->bpp[k] < c->bpp[k - 1]; k--) {
            double *arr[] = { c->bpp, c->psnr, c->psnr_y, c->msssim, c->enc_time,
                              c->dec_time, c->param };
            for (size_t a = 0; a < sizeof(arr) / sizeof(arr[0]); a++) {
                const double t = arr[a][k];
                arr[a][k] = arr[a][k - 1];
                arr[a][k - 1] = t;
            }
        }
    }
}

void lvcrd_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        const unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void write_array(FILE *f, const char *key, const double *v, int n, int last)
{
    fprintf(f, "    \"%s\": [", key);
    for (int i = 0; i < n; i++) {
        /* JSON has no NaN: a missing value is null. %.17g round-trips. */
        if (isfinite(v[i]))
            fprintf(f, "%s\n      %.17g", i ? "," : "", v[i]);
        else
            fprintf(f, "%s\n      null", i ? "," : "");
    }
    fprintf(f, "\n    ]%s\n", last ? "" : ",");
}

int lvcrd_curve_write_json(const char *path, const LvcRdCurve *c)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return LVC_ERR_IO;
    fputs("{\n  \"name\": ", f);
    lvcrd_json_write_string(f, c->name);
    fputs(",\n  \"description\": ", f);
    lvcrd_json_write_string(f, c->description);
    fputs(",\n  \"results\": {\n", f);
    write_array(f, "bpp", c->bpp, c->n, 0);
    write_array(f, "psnr-rgb", c->psnr, c->n, 0);
    write_array(f, "psnr-y", c->psnr_y, c->n, 0);
    write_array(f, "ms-ssim-rgb", c->msssim, c->n, 0);
    write_array(f, "encoding_time", c->enc_time, c->n, 0);
    write_array(f, "decoding_time", c->dec_time, c->n, 1);
    fputs("  },\n  \"lvcrd\": {\n    \"param_name\": ", f);
    lvcrd_json_write_string(f, c->param_name);
    fputs(",\n", f);
    write_array(f, "params", c->param, c->n, 0);
    fprintf(f, "    \"threads\": %d,\n    \"images\": %d,\n", c->threads, c->images);
    if (c->macs_per_pixel > 0)
        fprintf(f, "    \"macs_per_pixel\": %.17g\n", c->macs_per_pixel);
    else
        fputs("    \"macs_per_pixel\": null\n", f);
    fputs("  }\n}\n", f);
    const int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return LVC_ERR_IO;
    return 0;
}
