/*
 * Gaussian-splat scenes: allocation, and the PLY and ".splat" layouts
 * (include/lvc/splat.h).
 *
 * The PLY reader parses the header into a table of elements and
 * properties, checks before allocating anything that the data can hold
 * what the header claims, then reads the elements in file order: each
 * vertex property goes straight to its place in LvcSplats, other
 * properties and elements are stepped over (a list by reading its count).
 * Every loop advances through the input, so no count in a header can make
 * the reader spin or allocate beyond a small multiple of the input size.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lvc/splat.h"
#include "common/bits.h"
#include "common/log.h"
#include "common/mem.h"

/* ------------------------------------------------------------- scenes */

int lvc_splats_alloc(LvcSplats *s, uint32_t count, int sh_degree)
{
    if (!s)
        return LVC_ERR_INVALID_ARG;
    memset(s, 0, sizeof(*s));
    if (sh_degree < 0 || sh_degree > LVC_SPLAT_MAX_SH_DEGREE)
        return LVC_ERR_INVALID_ARG;
    if (count > LVC_SPLAT_MAX_COUNT)
        return LVC_ERR_LIMIT;
    s->sh_degree = sh_degree;
    if (!count)
        return 0;
    /* Separate blocks: a caller may replace one array by its own. The
     * products cannot overflow: count <= 2^26, 3 * K <= 48. */
    const size_t n = count;
    const size_t k = (size_t)LVC_SPLAT_SH_COEFFS(sh_degree);
    s->position = lvc_calloc(n * 3, sizeof(float));
    s->scale = lvc_calloc(n * 3, sizeof(float));
    s->rotation = lvc_calloc(n * 4, sizeof(float));
    s->opacity = lvc_calloc(n, sizeof(float));
    s->sh = lvc_calloc(n * 3 * k, sizeof(float));
    if (!s->position || !s->scale || !s->rotation || !s->opacity || !s->sh) {
        lvc_splats_free(s);
        return LVC_ERR_NOMEM;
    }
    s->count = count;
    return 0;
}

void lvc_splats_free(LvcSplats *s)
{
    if (!s)
        return;
    lvc_free(s->position);
    lvc_free(s->scale);
    lvc_free(s->rotation);
    lvc_free(s->opacity);
    lvc_free(s->sh);
    memset(s, 0, sizeof(*s));
}

void lvc_splat_buffer_free(uint8_t *buf)
{
    /* Output buffers come from LvcByteWriter: plain malloc. */
    free(buf);
}

/* A scene the writers accept: a valid degree and count, arrays present,
 * every value finite (a non-finite one would write a file that the
 * readers refuse). */
static int splats_check(const LvcSplats *s)
{
    if (!s || s->sh_degree < 0 || s->sh_degree > LVC_SPLAT_MAX_SH_DEGREE ||
        s->count > LVC_SPLAT_MAX_COUNT)
        return LVC_ERR_INVALID_ARG;
    if (!s->count)
        return 0;
    if (!s->position || !s->scale || !s->rotation || !s->opacity || !s->sh)
        return LVC_ERR_INVALID_ARG;
    const size_t n = s->count;
    const size_t k = (size_t)LVC_SPLAT_SH_COEFFS(s->sh_degree);
    const struct { const float *v; size_t len; } arrays[5] = {
        { s->position, n * 3 }, { s->scale, n * 3 }, { s->rotation, n * 4 },
        { s->opacity, n }, { s->sh, n * 3 * k },
    };
    for (int a = 0; a < 5; a++)
        for (size_t i = 0; i < arrays[a].len; i++)
            if (!isfinite(arrays[a].v[i]))
                return LVC_ERR_INVALID_ARG;
    return 0;
}

static uint32_t clamp_max_count(uint32_t max_count)
{
    if (!max_count)
        return LVC_SPLAT_DEFAULT_MAX_COUNT;
    return max_count > LVC_SPLAT_MAX_COUNT ? LVC_SPLAT_MAX_COUNT : max_count;
}

/* ------------------------------------------------------------ PLY header */

/* Bounds on a header: real ones are a few hundred bytes and a few dozen
 * properties. */
#define PLY_MAX_HEADER (64 * 1024)
#define PLY_MAX_PROPS 1024
#define PLY_MAX_ELEMENTS 256

enum { PLY_ASCII = 1, PLY_BLE, PLY_BBE };

enum { PLY_I8 = 1, PLY_U8, PLY_I16, PLY_U16, PLY_I32, PLY_U32, PLY_F32, PLY_F64 };
static const uint8_t ply_type_size[] = { 0, 1, 1, 2, 2, 4, 4, 4, 8 };

/* Destinations of the vertex properties lvc reads. */
enum {
    SLOT_POS = 0,          /* x y z */
    SLOT_SCALE = 3,        /* scale_0..2 */
    SLOT_ROT = 6,          /* rot_0..3 */
    SLOT_OPACITY = 10,
    SLOT_DC = 11,          /* f_dc_0..2 */
    SLOT_REST = 14,        /* f_rest_0..44 */
    SLOT_REQUIRED = 14,    /* slots below this one must all be present */
    SLOT_COUNT = 14 + 45,
    SLOT_NONE = -1,        /* skipped */
    SLOT_BAD_REST = -2,    /* f_rest_N with N >= 45 */
};

typedef struct PlyProp {
    const char *name;
    size_t name_len;
    uint8_t type;          /* of the value; of the items of a list */
    uint8_t count_type;    /* of a list's count; 0 for a scalar */
    int slot;              /* vertex element: SLOT_*, else SLOT_NONE */
    float *dst;            /* vertex element, slot >= 0: value of splat i */
    size_t stride;         /*   goes to dst[i * stride] */
} PlyProp;

typedef struct PlyElement {
    const char *name;
    size_t name_len;
    uint64_t count;
    uint32_t first, nprops;   /* its properties: props[first, first + nprops) */
    int has_list;
    uint64_t min_record;      /* bytes (binary) or tokens (ascii) of a record, at least */
} PlyElement;

typedef struct PlyHeader {
    int format;
    size_t data;              /* offset of the first data byte */
    uint32_t nelements, nprops;
    int vertex;               /* index of the vertex element */
    int sh_degree;
    PlyElement elements[PLY_MAX_ELEMENTS];
    PlyProp props[PLY_MAX_PROPS];
} PlyHeader;

typedef struct PlyTok {
    const char *p;
    size_t n;
} PlyTok;

static int tok_is(PlyTok t, const char *s)
{
    const size_t n = strlen(s);
    return t.n == n && !memcmp(t.p, s, n);
}

static int ply_type(PlyTok t)
{
    static const struct { const char *name; uint8_t type; } types[] = {
        { "char", PLY_I8 }, { "int8", PLY_I8 }, { "uchar", PLY_U8 }, { "uint8", PLY_U8 },
        { "short", PLY_I16 }, { "int16", PLY_I16 }, { "ushort", PLY_U16 },
        { "uint16", PLY_U16 }, { "int", PLY_I32 }, { "int32", PLY_I32 },
        { "uint", PLY_U32 }, { "uint32", PLY_U32 }, { "float", PLY_F32 },
        { "float32", PLY_F32 }, { "double", PLY_F64 }, { "float64", PLY_F64 },
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (tok_is(t, types[i].name))
            return types[i].type;
    return 0;
}

/* Splits a header line at spaces and tabs into at most max tokens;
 * returns the token count, or max + 1 when there are more. */
static int ply_split(const char *p, size_t n, PlyTok *t, int max)
{
    int count = 0;
    size_t i = 0;
    for (;;) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n)
            return count;
        if (count == max)
            return max + 1;
        const size_t start = i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        t[count].p = p + start;
        t[count].n = i - start;
        count++;
    }
}

/* The next header line, without its end of line ("\n" or "\r\n"). A
 * header that has not ended within PLY_MAX_HEADER bytes is refused. */
static int ply_line(const uint8_t *buf, size_t size, size_t *pos, const char **line,
                    size_t *len)
{
    const size_t lim = size < PLY_MAX_HEADER ? size : PLY_MAX_HEADER;
    const size_t start = *pos;
    const uint8_t *nl = start < lim ? memchr(buf + start, '\n', lim - start) : NULL;
    if (!nl)
        return lim < size ? LVC_ERR_LIMIT : LVC_ERR_TRUNCATED;
    size_t end = (size_t)(nl - buf);
    *pos = end + 1;
    if (end > start && buf[end - 1] == '\r')
        end--;
    *line = (const char *)buf + start;
    *len = end - start;
    return 0;
}

/* An element count: decimal digits only, below 2^63. */
static int ply_count(PlyTok t, uint64_t *out)
{
    if (!t.n)
        return LVC_ERR_FORMAT;
    uint64_t v = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return LVC_ERR_FORMAT;
        const unsigned d = (unsigned)(t.p[i] - '0');
        if (v > (((uint64_t)1 << 63) - 1 - d) / 10)
            return LVC_ERR_FORMAT;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The slot of a vertex property name: SLOT_NONE for a property lvc does
 * not read (nx, ny, nz, anything else). */
static int ply_slot(const char *name, size_t n)
{
    static const char *const fixed[SLOT_REQUIRED] = {
        "x", "y", "z", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
        "opacity", "f_dc_0", "f_dc_1", "f_dc_2",
    };
    for (int i = 0; i < SLOT_REQUIRED; i++)
        if (strlen(fixed[i]) == n && !memcmp(fixed[i], name, n))
            return i;
    /* f_rest_N, N in canonical decimal (no leading zero) */
    if (n <= 7 || memcmp(name, "f_rest_", 7))
        return SLOT_NONE;
    const char *d = name + 7;
    const size_t nd = n - 7;
    if (nd > 1 && d[0] == '0')
        return SLOT_NONE;
    unsigned v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i] < '0' || d[i] > '9')
            return SLOT_NONE;
        if (v < 1000)
            v = v * 10 + (unsigned)(d[i] - '0');
    }
    return v < SLOT_COUNT - SLOT_REST ? SLOT_REST + (int)v : SLOT_BAD_REST;
}

static int ply_add_element(PlyHeader *h, const PlyTok *t, int n)
{
    if (n != 3)
        return LVC_ERR_FORMAT;
    if (h->nelements == PLY_MAX_ELEMENTS)
        return LVC_ERR_LIMIT;
    for (uint32_t e = 0; e < h->nelements; e++)
        if (h->elements[e].name_len == t[1].n && !memcmp(h->elements[e].name, t[1].p, t[1].n))
            return LVC_ERR_FORMAT;     /* two elements of one name */
    PlyElement *el = &h->elements[h->nelements];
    memset(el, 0, sizeof(*el));
    el->name = t[1].p;
    el->name_len = t[1].n;
    el->first = h->nprops;
    const int err = ply_count(t[2], &el->count);
    if (err)
        return err;
    if (tok_is(t[1], "vertex"))
        h->vertex = (int)h->nelements;
    h->nelements++;
    return 0;
}

static int ply_add_property(PlyHeader *h, const PlyTok *t, int n)
{
    if (!h->nelements)
        return LVC_ERR_FORMAT;         /* a property before any element */
    if (h->nprops == PLY_MAX_PROPS)
        return LVC_ERR_LIMIT;
    PlyElement *el = &h->elements[h->nelements - 1];
    const int is_vertex = (int)h->nelements - 1 == h->vertex;
    PlyProp *p = &h->props[h->nprops];
    memset(p, 0, sizeof(*p));
    p->slot = SLOT_NONE;
    PlyTok name;
    if (n >= 2 && tok_is(t[1], "list")) {
        if (n != 5 || is_vertex)
            return LVC_ERR_FORMAT;
        const int ct = ply_type(t[2]);
        p->type = (uint8_t)ply_type(t[3]);
        if (!ct || ct == PLY_F32 || ct == PLY_F64 || !p->type)
            return LVC_ERR_FORMAT;
        p->count_type = (uint8_t)ct;
        name = t[4];
    } else {
        if (n != 3)
            return LVC_ERR_FORMAT;
        p->type = (uint8_t)ply_type(t[1]);
        if (!p->type)
            return LVC_ERR_FORMAT;
        name = t[2];
    }
    for (uint32_t i = el->first; i < h->nprops; i++)
        if (h->props[i].name_len == name.n && !memcmp(h->props[i].name, name.p, name.n))
            return LVC_ERR_FORMAT;     /* two properties of one name */
    p->name = name.p;
    p->name_len = name.n;
    if (is_vertex) {
        p->slot = ply_slot(name.p, name.n);
        if (p->slot == SLOT_BAD_REST)
            return LVC_ERR_FORMAT;
    }
    el->nprops++;
    h->nprops++;
    return 0;
}

static int ply_parse_header(const uint8_t *buf, size_t size, PlyHeader *h)
{
    h->format = 0;
    h->nelements = h->nprops = 0;
    h->vertex = -1;
    /* The magic first: anything that does not start like a PLY is not
     * one, however long. */
    static const char m1[] = "ply\n", m2[] = "ply\r\n";
    const size_t n1 = size < 4 ? size : 4, n2 = size < 5 ? size : 5;
    if (memcmp(buf, m1, n1) && memcmp(buf, m2, n2))
        return LVC_ERR_FORMAT;
    size_t pos = 0;
    const char *line;
    size_t len;
    int err = ply_line(buf, size, &pos, &line, &len);
    if (err)
        return err;
    int have_format = 0;
    for (;;) {
        if ((err = ply_line(buf, size, &pos, &line, &len)))
            return err;
        PlyTok t[5];
        const int n = ply_split(line, len, t, 5);
        if (n == 0)
            continue;
        if (tok_is(t[0], "comment") || tok_is(t[0], "obj_info"))
            continue;
        if (tok_is(t[0], "end_header")) {
            if (n != 1)
                return LVC_ERR_FORMAT;
            break;
        }
        if (tok_is(t[0], "format")) {
            if (have_format || n != 3)
                return LVC_ERR_FORMAT;
            if (tok_is(t[1], "ascii"))
                h->format = PLY_ASCII;
            else if (tok_is(t[1], "binary_little_endian"))
                h->format = PLY_BLE;
            else if (tok_is(t[1], "binary_big_endian"))
                h->format = PLY_BBE;
            else
                return LVC_ERR_FORMAT;
            if (!tok_is(t[2], "1.0"))
                return LVC_ERR_VERSION;
            have_format = 1;
        } else if (tok_is(t[0], "element")) {
            if ((err = ply_add_element(h, t, n)))
                return err;
        } else if (tok_is(t[0], "property")) {
            if ((err = ply_add_property(h, t, n)))
                return err;
        } else {
            return LVC_ERR_FORMAT;
        }
    }
    if (!have_format || h->vertex < 0)
        return LVC_ERR_FORMAT;
    h->data = pos;

    /* The vertex properties: every required one, and f_rest_0..R-1 for an
     * R of some SH degree. Names are unique, so counting suffices. */
    const PlyElement *v = &h->elements[h->vertex];
    int required = 0, rest = 0, rest_max = -1;
    for (uint32_t i = v->first; i < v->first + v->nprops; i++) {
        const int slot = h->props[i].slot;
        if (slot >= 0 && slot < SLOT_REQUIRED)
            required++;
        else if (slot >= SLOT_REST) {
            rest++;
            if (slot - SLOT_REST > rest_max)
                rest_max = slot - SLOT_REST;
        }
    }
    if (required != SLOT_REQUIRED || rest != rest_max + 1)
        return LVC_ERR_FORMAT;
    h->sh_degree = -1;
    for (int d = 0; d <= LVC_SPLAT_MAX_SH_DEGREE; d++)
        if (rest == 3 * (LVC_SPLAT_SH_COEFFS(d) - 1))
            h->sh_degree = d;
    return h->sh_degree < 0 ? LVC_ERR_FORMAT : 0;
}

/* Checks that the data can hold what the header claims, at the least
 * (empty lists), so that a large count in a small file is refused before
 * anything is allocated for it. */
static int ply_check_size(PlyHeader *h, size_t size)
{
    const uint64_t left = size - h->data;
    uint64_t need = 0;
    for (uint32_t e = 0; e < h->nelements; e++) {
        PlyElement *el = &h->elements[e];
        uint64_t rec = 0;
        for (uint32_t i = el->first; i < el->first + el->nprops; i++) {
            const PlyProp *p = &h->props[i];
            if (p->count_type)
                el->has_list = 1;
            if (h->format == PLY_ASCII)
                rec++;             /* a value or a list's count: one token */
            else
                rec += ply_type_size[p->count_type ? p->count_type : p->type];
        }
        el->min_record = rec;
        /* ascii: a token takes one byte at least */
        if (rec && el->count > (left - need) / rec)
            return LVC_ERR_TRUNCATED;
        need += el->count * rec;
    }
    return 0;
}

/* ------------------------------------------------------------ PLY data */

typedef struct PlyReader {
    const uint8_t *buf;
    size_t size, pos;
    int format;
    char point;            /* the C library's decimal point (ascii) */
} PlyReader;

static uint64_t ply_load(const uint8_t *p, int bytes, int be)
{
    uint64_t v = 0;
    if (be)
        for (int i = 0; i < bytes; i++)
            v = v << 8 | p[i];
    else
        for (int i = bytes - 1; i >= 0; i--)
            v = v << 8 | p[i];
    return v;
}

/* A binary value of a type at p, as a double (exact for every type). */
static double ply_bin_value(const uint8_t *p, int type, int be)
{
    const uint64_t u = ply_load(p, ply_type_size[type], be);
    switch (type) {
    case PLY_I8: return (double)(int8_t)(uint8_t)u;
    case PLY_U8: return (double)u;
    case PLY_I16: return (double)(int16_t)(uint16_t)u;
    case PLY_U16: return (double)u;
    case PLY_I32: return (double)(int32_t)(uint32_t)u;
    case PLY_U32: return (double)u;
    case PLY_F32: {
        const uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, 4);
        return f;
    }
    default: {
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    }
}

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The next whitespace-separated ascii token. */
static int ply_token(PlyReader *r, const char **tok, size_t *len)
{
    while (r->pos < r->size && is_ws(r->buf[r->pos]))
        r->pos++;
    if (r->pos == r->size)
        return LVC_ERR_TRUNCATED;
    const size_t start = r->pos;
    while (r->pos < r->size && !is_ws(r->buf[r->pos]))
        r->pos++;
    *tok = (const char *)r->buf + start;
    *len = r->pos - start;
    return 0;
}

/* An ascii number. strtod reads it, from a terminated copy (the data is
 * not terminated) with '.' swapped for the locale's decimal point. A value
 * of an integer type must be an integer in the type's range. */
static int ply_ascii_value(PlyReader *r, int type, double *out)
{
    const char *t;
    size_t n;
    int err = ply_token(r, &t, &n);
    if (err)
        return err;
    char num[128];
    if (n >= sizeof(num))
        return LVC_ERR_CORRUPT;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == ',' || t[i] == '\0')
            return LVC_ERR_CORRUPT;
        num[i] = t[i] == '.' ? r->point : t[i];
    }
    num[n] = '\0';
    char *end;
    const double v = strtod(num, &end);
    if (end != num + n)
        return LVC_ERR_CORRUPT;
    if (type != PLY_F32 && type != PLY_F64) {
        static const double lo[] = { 0, -128, 0, -32768, 0, -2147483648.0, 0 };
        static const double hi[] = { 0, 127, 255, 32767, 65535, 2147483647.0, 4294967295.0 };
        if (!(v >= lo[type] && v <= hi[type]) || v != floor(v))
            return LVC_ERR_CORRUPT;
    }
    *out = v;
    return 0;
}

/* A value of the type, binary or ascii. */
static int ply_value(PlyReader *r, int type, double *out)
{
    if (r->format == PLY_ASCII)
        return ply_ascii_value(r, type, out);
    const size_t bytes = ply_type_size[type];
    if (bytes > r->size - r->pos)
        return LVC_ERR_TRUNCATED;
    *out = ply_bin_value(r->buf + r->pos, type, r->format == PLY_BBE);
    r->pos += bytes;
    return 0;
}

/* Steps over n values of a type (a list's items, an unread property). */
static int ply_skip(PlyReader *r, int type, uint64_t n)
{
    if (r->format != PLY_ASCII) {
        const size_t bytes = ply_type_size[type];
        if (n > (r->size - r->pos) / bytes)
            return LVC_ERR_TRUNCATED;
        r->pos += (size_t)n * bytes;
        return 0;
    }
    /* Each token takes a byte at least: a count beyond what is left
     * cannot be met, and the loop below ends within the input. Skipped
     * values are still checked to be numbers of their type. */
    if (n > r->size - r->pos)
        return LVC_ERR_TRUNCATED;
    for (uint64_t i = 0; i < n; i++) {
        double v;
        const int err = ply_ascii_value(r, type, &v);
        if (err)
            return err;
    }
    return 0;
}

/* Steps over an element lvc does not read. */
static int ply_skip_element(PlyReader *r, const PlyHeader *h, const PlyElement *el)
{
    if (!el->nprops || !el->count)
        return 0;
    /* Binary without lists: min_record bytes a record (ply_check_size saw
     * that count * min_record does not overflow). */
    if (!el->has_list && r->format != PLY_ASCII)
        return ply_skip(r, PLY_U8, el->count * el->min_record);
    /* Otherwise a record takes a byte at least (a token or a list's count),
     * so this ends with the input whatever the count. */
    for (uint64_t rec = 0; rec < el->count; rec++) {
        for (uint32_t i = el->first; i < el->first + el->nprops; i++) {
            const PlyProp *p = &h->props[i];
            int err;
            if (!p->count_type) {
                err = ply_skip(r, p->type, 1);
            } else {
                double n;
                err = ply_value(r, p->count_type, &n);
                if (!err && n < 0)
                    err = LVC_ERR_CORRUPT;
                if (!err)
                    err = ply_skip(r, p->type, (uint64_t)n);
            }
            if (err)
                return err;
        }
    }
    return 0;
}

static int ply_read_vertices(PlyReader *r, const PlyHeader *h, uint32_t count)
{
    const PlyElement *el = &h->elements[h->vertex];
    const PlyProp *props = &h->props[el->first];
    for (uint32_t i = 0; i < count; i++) {
        for (uint32_t j = 0; j < el->nprops; j++) {
            const PlyProp *p = &props[j];
            int err;
            if (p->slot < 0) {
                err = ply_skip(r, p->type, 1);
            } else {
                double v;
                err = ply_value(r, p->type, &v);
                if (!err) {
                    const float f = (float)v;
                    if (!isfinite(f))
                        return LVC_ERR_CORRUPT;
                    p->dst[(size_t)i * p->stride] = f;
                }
            }
            if (err)
                return err;
        }
    }
    return 0;
}

/* Points every read vertex property at its array in s. */
static void ply_bind(PlyHeader *h, LvcSplats *s)
{
    const PlyElement *el = &h->elements[h->vertex];
    const size_t k = (size_t)LVC_SPLAT_SH_COEFFS(s->sh_degree);
    for (uint32_t j = el->first; j < el->first + el->nprops; j++) {
        PlyProp *p = &h->props[j];
        const int slot = p->slot;
        if (slot < 0)
            continue;
        if (slot < SLOT_SCALE) {
            p->dst = s->position + slot;
            p->stride = 3;
        } else if (slot < SLOT_ROT) {
            p->dst = s->scale + (slot - SLOT_SCALE);
            p->stride = 3;
        } else if (slot < SLOT_OPACITY) {
            p->dst = s->rotation + (slot - SLOT_ROT);
            p->stride = 4;
        } else if (slot == SLOT_OPACITY) {
            p->dst = s->opacity;
            p->stride = 1;
        } else if (slot < SLOT_REST) {
            p->dst = s->sh + (size_t)(slot - SLOT_DC) * k;
            p->stride = 3 * k;
        } else {
            /* f_rest is channel-major: f_rest_{c * (K - 1) + k - 1} */
            const size_t j_rest = (size_t)(slot - SLOT_REST);
            const size_t c = j_rest / (k - 1), kk = j_rest % (k - 1) + 1;
            p->dst = s->sh + c * k + kk;
            p->stride = 3 * k;
        }
    }
}

int lvc_ply_read_mem(const uint8_t *buf, size_t size, LvcSplats *s, uint32_t max_count)
{
    if (!s)
        return LVC_ERR_INVALID_ARG;
    memset(s, 0, sizeof(*s));
    if (!buf && size)
        return LVC_ERR_INVALID_ARG;
    static const uint8_t empty[1];
    if (!buf)
        buf = empty;
    max_count = clamp_max_count(max_count);
    PlyHeader *h = lvc_malloc(sizeof(*h));
    if (!h)
        return LVC_ERR_NOMEM;
    int err = ply_parse_header(buf, size, h);
    if (!err && h->elements[h->vertex].count > max_count)
        err = LVC_ERR_LIMIT;
    if (!err)
        err = ply_check_size(h, size);
    if (!err)
        err = lvc_splats_alloc(s, (uint32_t)h->elements[h->vertex].count, h->sh_degree);
    if (!err) {
        if (s->count)              /* no arrays to point into otherwise */
            ply_bind(h, s);
        const struct lconv *lc = localeconv();
        PlyReader r = { .buf = buf, .size = size, .pos = h->data, .format = h->format,
                        .point = lc && lc->decimal_point && lc->decimal_point[0]
                                 ? lc->decimal_point[0] : '.' };
        for (uint32_t e = 0; e < h->nelements && !err; e++) {
            if ((int)e == h->vertex)
                err = ply_read_vertices(&r, h, s->count);
            else
                err = ply_skip_element(&r, h, &h->elements[e]);
        }
    }
    lvc_free(h);
    if (err)
        lvc_splats_free(s);
    return err;
}

/* ------------------------------------------------------------ PLY write */

static void put_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    lvc_wl32(p, u);
}

int lvc_ply_write_mem(const LvcSplats *s, uint8_t **buf, size_t *size)
{
    if (buf)
        *buf = NULL;
    if (size)
        *size = 0;
    if (!buf || !size)
        return LVC_ERR_INVALID_ARG;
    int err = splats_check(s);
    if (err)
        return err;
    const int k = LVC_SPLAT_SH_COEFFS(s->sh_degree);
    const int nrest = 3 * (k - 1);
    LvcByteWriter w;
    lvc_bw_init(&w);
    char line[64];
    int n = snprintf(line, sizeof(line), "ply\nformat binary_little_endian 1.0\n"
                     "element vertex %u\n", (unsigned)s->count);
    lvc_bw_bytes(&w, line, (size_t)n);
    static const char *const head[] = { "x", "y", "z", "nx", "ny", "nz",
                                        "f_dc_0", "f_dc_1", "f_dc_2" };
    static const char *const tail[] = { "opacity", "scale_0", "scale_1", "scale_2",
                                        "rot_0", "rot_1", "rot_2", "rot_3" };
    for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
        n = snprintf(line, sizeof(line), "property float %s\n", head[i]);
        lvc_bw_bytes(&w, line, (size_t)n);
    }
    for (int i = 0; i < nrest; i++) {
        n = snprintf(line, sizeof(line), "property float f_rest_%d\n", i);
        lvc_bw_bytes(&w, line, (size_t)n);
    }
    for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
        n = snprintf(line, sizeof(line), "property float %s\n", tail[i]);
        lvc_bw_bytes(&w, line, (size_t)n);
    }
    lvc_bw_bytes(&w, "end_header\n", 11);
    /* 17 + nrest floats a splat; count <= 2^26 keeps this in size_t */
    const size_t record = (size_t)(17 + nrest) * 4;
    if (lvc_bw_reserve(&w, record * s->count)) {
        lvc_bw_free(&w);
        return LVC_ERR_NOMEM;
    }
    uint8_t *p = w.buf + w.size;
    for (size_t i = 0; i < s->count; i++) {
        const float *sh = s->sh + i * 3 * (size_t)k;
        for (int c = 0; c < 3; c++, p += 4)
            put_f32(p, s->position[i * 3 + c]);
        for (int c = 0; c < 3; c++, p += 4)
            put_f32(p, 0.0f);
        for (int c = 0; c < 3; c++, p += 4)
            put_f32(p, sh[c * k]);
        for (int c = 0; c < 3; c++)
            for (int j = 1; j < k; j++, p += 4)
                put_f32(p, sh[c * k + j]);
        put_f32(p, s->opacity[i]);
        p += 4;
        for (int c = 0; c < 3; c++, p += 4)
            put_f32(p, s->scale[i * 3 + c]);
        for (int c = 0; c < 4; c++, p += 4)
            put_f32(p, s->rotation[i * 4 + c]);
    }
    w.size += record * s->count;
    return lvc_bw_detach(&w, buf, size);
}

/* ---------------------------------------------------------------- .splat */

#define SPLAT_RECORD 32
#define SH_C0 0.28209479f
/* Opacity logit of alpha 0 or 255, whose logit is infinite. */
#define SPLAT_MAX_LOGIT 12.0

static float get_f32(const uint8_t *p)
{
    const uint32_t u = lvc_rl32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int lvc_splat_read_mem(const uint8_t *buf, size_t size, LvcSplats *s, uint32_t max_count)
{
    if (!s)
        return LVC_ERR_INVALID_ARG;
    memset(s, 0, sizeof(*s));
    if (!buf && size)
        return LVC_ERR_INVALID_ARG;
    if (size % SPLAT_RECORD)
        return LVC_ERR_FORMAT;
    if (size / SPLAT_RECORD > clamp_max_count(max_count))
        return LVC_ERR_LIMIT;
    int err = lvc_splats_alloc(s, (uint32_t)(size / SPLAT_RECORD), 0);
    if (err)
        return err;
    for (size_t i = 0; i < s->count; i++) {
        const uint8_t *p = buf + i * SPLAT_RECORD;
        for (int c = 0; c < 3; c++) {
            const float x = get_f32(p + 4 * c);
            const float lin = get_f32(p + 12 + 4 * c);
            /* the log of a zero or negative (or non-finite) scale is no
             * number; that of a denormal one is */
            if (!isfinite(x) || !isfinite(lin) || !(lin > 0.0f)) {
                lvc_splats_free(s);
                return LVC_ERR_CORRUPT;
            }
            s->position[i * 3 + c] = x;
            s->scale[i * 3 + c] = logf(lin);
            s->sh[i * 3 + c] = ((float)p[24 + c] / 255.0f - 0.5f) / SH_C0;
        }
        const double a = p[27] / 255.0;
        double logit = a <= 0.0 ? -SPLAT_MAX_LOGIT : a >= 1.0 ? SPLAT_MAX_LOGIT
                                                              : log(a / (1.0 - a));
        if (logit < -SPLAT_MAX_LOGIT)
            logit = -SPLAT_MAX_LOGIT;
        if (logit > SPLAT_MAX_LOGIT)
            logit = SPLAT_MAX_LOGIT;
        s->opacity[i] = (float)logit;
        for (int c = 0; c < 4; c++)
            s->rotation[i * 4 + c] = ((float)p[28 + c] - 128.0f) / 128.0f;
    }
    return 0;
}

/* round(v) clamped to [0, 255]; NaN gives 0. */
static uint8_t to_u8(double v)
{
    const double r = floor(v + 0.5);
    if (!(r >= 0.0))
        return 0;
    return r >= 255.0 ? 255 : (uint8_t)r;
}

int lvc_splat_write_mem(const LvcSplats *s, uint8_t **buf, size_t *size)
{
    if (buf)
        *buf = NULL;
    if (size)
        *size = 0;
    if (!buf || !size)
        return LVC_ERR_INVALID_ARG;
    int err = splats_check(s);
    if (err)
        return err;
    LvcByteWriter w;
    lvc_bw_init(&w);
    /* count <= 2^26: no overflow */
    const size_t total = (size_t)s->count * SPLAT_RECORD;
    if (lvc_bw_reserve(&w, total)) {
        lvc_bw_free(&w);
        return LVC_ERR_NOMEM;
    }
    const size_t k = (size_t)LVC_SPLAT_SH_COEFFS(s->sh_degree);
    uint8_t *p = w.buf;
    for (size_t i = 0; i < s->count; i++, p += SPLAT_RECORD) {
        for (int c = 0; c < 3; c++) {
            put_f32(p + 4 * c, s->position[i * 3 + c]);
            /* A linear scale that overflows or underflows a float would
             * not read back (its log must be finite): clamp it. */
            float lin = expf(s->scale[i * 3 + c]);
            if (!(lin <= FLT_MAX))
                lin = FLT_MAX;
            if (!(lin >= FLT_MIN))
                lin = FLT_MIN;
            put_f32(p + 12 + 4 * c, lin);
            p[24 + c] = to_u8((0.5 + (double)SH_C0 * s->sh[(i * 3 + c) * k]) * 255.0);
        }
        p[27] = to_u8(255.0 / (1.0 + exp(-(double)s->opacity[i])));
        const float *q = s->rotation + i * 4;
        const double norm = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] +
                                 (double)q[2] * q[2] + (double)q[3] * q[3]);
        for (int c = 0; c < 4; c++) {
            /* A zero quaternion (no rotation at all) is written as the
             * identity. */
            const double v = norm > 0.0 ? q[c] / norm : c == 0;
            p[28 + c] = to_u8(v * 128.0 + 128.0);
        }
    }
    w.size = total;
    return lvc_bw_detach(&w, buf, size);
}

/* ----------------------------------------------------------------- files */

/* Files larger than this are refused before they are read. */
#define SPLAT_MAX_FILE ((uint64_t)4 << 30)

static int read_whole(FILE *f, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    struct stat st;
    size_t cap = 1 << 16;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > SPLAT_MAX_FILE || (uint64_t)st.st_size >= SIZE_MAX)
            return LVC_ERR_LIMIT;
        cap = (size_t)st.st_size + 1;    /* + 1: the end shows without a regrowth */
    }
    uint8_t *buf = lvc_malloc(cap);
    if (!buf)
        return LVC_ERR_NOMEM;
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            /* a pipe or a file that grew: stop one byte past the bound */
            if ((uint64_t)n > SPLAT_MAX_FILE) {
                lvc_free(buf);
                return LVC_ERR_LIMIT;
            }
            size_t ncap = cap < SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
            if ((uint64_t)ncap > SPLAT_MAX_FILE + 1)
                ncap = (size_t)(SPLAT_MAX_FILE + 1);
            uint8_t *nb = lvc_realloc(buf, ncap);
            if (!nb) {
                lvc_free(buf);
                return LVC_ERR_NOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        const size_t want = cap - n;
        const size_t got = fread(buf + n, 1, want, f);
        n += got;
        if (ferror(f)) {
            lvc_free(buf);
            return LVC_ERR_IO;
        }
        if (got < want)
            break;      /* the end of the file */
    }
    if ((uint64_t)n > SPLAT_MAX_FILE) {
        lvc_free(buf);
        return LVC_ERR_LIMIT;
    }
    *out = buf;
    *out_size = n;
    return 0;
}

int lvc_splats_read_file(const char *path, LvcSplats *s, uint32_t max_count)
{
    if (!s)
        return LVC_ERR_INVALID_ARG;
    memset(s, 0, sizeof(*s));
    if (!path)
        return LVC_ERR_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f) {
        lvc_log(LVC_LOG_DEBUG, "cannot open %s", path);
        return LVC_ERR_IO;
    }
    uint8_t *buf;
    size_t size;
    int err = read_whole(f, &buf, &size);
    fclose(f);
    if (err)
        return err;
    if ((size >= 4 && !memcmp(buf, "ply\n", 4)) || (size >= 5 && !memcmp(buf, "ply\r\n", 5)))
        err = lvc_ply_read_mem(buf, size, s, max_count);
    else
        err = lvc_splat_read_mem(buf, size, s, max_count);
    lvc_free(buf);
    return err;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        const ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int lvc_splats_write_file(const char *path, const LvcSplats *s)
{
    if (!path || !*path)
        return LVC_ERR_INVALID_ARG;
    const size_t len = strlen(path);
    const int splat = len >= 6 && !strcmp(path + len - 6, ".splat");
    /* Built in memory first: a refused scene creates no file at all. */
    uint8_t *buf;
    size_t size;
    int err = splat ? lvc_splat_write_mem(s, &buf, &size) : lvc_ply_write_mem(s, &buf, &size);
    if (err)
        return err;
    /* A temporary name beside path (same filesystem, so rename is atomic),
     * created exclusively with the usual mode (umask applies). */
    static atomic_uint serial;
    char *tmp = malloc(len + 48);
    if (!tmp) {
        free(buf);
        return LVC_ERR_NOMEM;
    }
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        snprintf(tmp, len + 48, "%s.%ld.%u.tmp", path, (long)getpid(),
                 atomic_fetch_add(&serial, 1));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        lvc_log(LVC_LOG_DEBUG, "cannot create a temporary file beside %s", path);
        free(tmp);
        free(buf);
        return LVC_ERR_IO;
    }
    if (write_all(fd, buf, size) || fsync(fd))
        err = LVC_ERR_IO;
    if (close(fd) && !err)
        err = LVC_ERR_IO;
    if (!err && rename(tmp, path)) {
        lvc_log(LVC_LOG_DEBUG, "cannot rename into %s", path);
        err = LVC_ERR_IO;
    }
    if (err)
        unlink(tmp);
    free(tmp);
    free(buf);
    return err;
}
