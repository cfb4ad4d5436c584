/*
 * Splat I/O tests: scene allocation; PLY round trips (exact, in the 3DGS
 * layout); PLYs built here in ascii, little- and big-endian binary with
 * every scalar type, properties in odd orders, extra properties and
 * elements with lists before and after the vertex element; the f_rest
 * mapping of every SH degree; refused PLYs (truncation at every offset,
 * bad magic, missing or duplicate properties, bad f_rest counts, limits,
 * non-finite values, absurd counts in tiny files, without large
 * allocations); the ".splat" layout (exact conversions of hand-made
 * records, round trips within the quantization, bad sizes and values);
 * and the file functions (format by name and by magic, no temporary or
 * partial file left behind).
 *
 * Every fixture is built in memory.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lvc/splat.h"
#include "common/mem.h"
#include "tests/splat/test_splat.h"

/* ------------------------------------------------------------ helpers */

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static float uni(float lo, float hi)
{
    return lo + (hi - lo) * (float)(rng() & 0xffff) / 65536.0f;
}

/* A random finite scene. */
static void make_scene(LvcSplats *s, uint32_t n, int degree, uint32_t seed)
{
    rng_state = seed;
    ck_assert_int_eq(lvc_splats_alloc(s, n, degree), 0);
    const size_t k = (size_t)LVC_SPLAT_SH_COEFFS(degree);
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++) {
            s->position[i * 3 + c] = uni(-50.0f, 50.0f);
            s->scale[i * 3 + c] = uni(-8.0f, 1.0f);
        }
        for (int c = 0; c < 4; c++)
            s->rotation[i * 4 + c] = uni(-1.0f, 1.0f);
        s->rotation[i * 4] += 1.5f;     /* norm well away from 0 */
        s->opacity[i] = uni(-8.0f, 8.0f);
        for (size_t j = 0; j < 3 * k; j++)
            s->sh[i * 3 * k + j] = j % k ? uni(-0.3f, 0.3f) : uni(-1.7f, 1.7f);
    }
}

static void assert_same_scene(const LvcSplats *a, const LvcSplats *b)
{
    ck_assert_uint_eq(a->count, b->count);
    ck_assert_int_eq(a->sh_degree, b->sh_degree);
    const size_t n = a->count, k = (size_t)LVC_SPLAT_SH_COEFFS(a->sh_degree);
    if (!n)
        return;
    ck_assert_mem_eq(a->position, b->position, n * 3 * sizeof(float));
    ck_assert_mem_eq(a->scale, b->scale, n * 3 * sizeof(float));
    ck_assert_mem_eq(a->rotation, b->rotation, n * 4 * sizeof(float));
    ck_assert_mem_eq(a->opacity, b->opacity, n * sizeof(float));
    ck_assert_mem_eq(a->sh, b->sh, n * 3 * k * sizeof(float));
}

static void assert_zeroed(const LvcSplats *s)
{
    static const LvcSplats zero;
    ck_assert_mem_eq(s, &zero, sizeof(zero));
}

/* A growing byte buffer (test memory: plain malloc). */
typedef struct Buf {
    uint8_t *p;
    size_t n, cap;
} Buf;

static void buf_put(Buf *b, const void *src, size_t n)
{
    if (!n)
        return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void buf_printf(Buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    ck_assert(n >= 0 && (size_t)n < sizeof(tmp));
    buf_put(b, tmp, (size_t)n);
}

/* Reads s from b (PLY), after filling s with junk to check it is set. */
static int read_ply(const Buf *b, LvcSplats *s, uint32_t max_count)
{
    memset(s, 0xa5, sizeof(*s));
    const int err = lvc_ply_read_mem(b->p, b->n, s, max_count);
    if (err)
        assert_zeroed(s);
    return err;
}

/* ---------------------------------------------------------- PLY builder */

typedef struct Prop {
    const char *type, *name;
} Prop;

enum { FMT_ASCII, FMT_LE, FMT_BE };

typedef struct PlyOpts {
    int fmt;
    int crlf;            /* "\r\n" line ends (header, and ascii data) */
    int face_before;     /* an element with a list property before vertex */
    int edge_after;      /* and one after */
    uint32_t count;
} PlyOpts;

static int type_is_float(const char *t)
{
    return !strcmp(t, "float") || !strcmp(t, "float32") || !strcmp(t, "double") ||
           !strcmp(t, "float64");
}

static int type_size(const char *t)
{
    static const struct { const char *name; int size; } types[] = {
        { "char", 1 }, { "int8", 1 }, { "uchar", 1 }, { "uint8", 1 }, { "short", 2 },
        { "int16", 2 }, { "ushort", 2 }, { "uint16", 2 }, { "int", 4 }, { "int32", 4 },
        { "uint", 4 }, { "uint32", 4 }, { "float", 4 }, { "float32", 4 }, { "double", 8 },
        { "float64", 8 },
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(t, types[i].name))
            return types[i].size;
    ck_abort_msg("unknown type %s", t);
    return 0;
}

/* The value of property j of vertex i: distinct across the properties of
 * a vertex, an integer in 0..99 for integer types (fits every one). */
static double prop_value(const Prop *props, int j, uint32_t i)
{
    const int v = (int)(((uint32_t)j * 7 + i * 3) % 100);
    return type_is_float(props[j].type) ? v * 0.25 - 10.0 : v;
}

static void put_value(Buf *b, const char *type, double v, int fmt, int last)
{
    if (fmt == FMT_ASCII) {
        buf_printf(b, last ? "%.17g" : "%.17g ", v);
        return;
    }
    const int n = type_size(type);
    uint64_t u;
    if (!strcmp(type, "float") || !strcmp(type, "float32")) {
        const float f = (float)v;
        uint32_t u32;
        memcpy(&u32, &f, 4);
        u = u32;
    } else if (n == 8) {
        memcpy(&u, &v, 8);
    } else {
        u = (uint64_t)(int64_t)v;
    }
    uint8_t bytes[8];
    for (int i = 0; i < n; i++)
        bytes[fmt == FMT_BE ? n - 1 - i : i] = (uint8_t)(u >> (8 * i));
    buf_put(b, bytes, (size_t)n);
}

static void end_line(Buf *b, const PlyOpts *o)
{
    buf_put(b, o->crlf ? "\r\n" : "\n", o->crlf ? 2 : 1);
}

/* A PLY with a vertex element of these properties, values by prop_value. */
static Buf make_ply(const Prop *props, int nprops, const PlyOpts *o)
{
    static const char *const fmt_names[] = { "ascii", "binary_little_endian",
                                             "binary_big_endian" };
    Buf b = { 0 };
    buf_printf(&b, "ply");
    end_line(&b, o);
    buf_printf(&b, "format %s 1.0", fmt_names[o->fmt]);
    end_line(&b, o);
    buf_printf(&b, "comment made by test_splat_io");
    end_line(&b, o);
    buf_printf(&b, "obj_info nothing to see");
    end_line(&b, o);
    if (o->face_before) {
        buf_printf(&b, "element face 3");
        end_line(&b, o);
        buf_printf(&b, "property uchar flags");
        end_line(&b, o);
        buf_printf(&b, "property list uchar int vertex_indices");
        end_line(&b, o);
    }
    buf_printf(&b, "element vertex %u", o->count);
    end_line(&b, o);
    for (int j = 0; j < nprops; j++) {
        buf_printf(&b, "property %s %s", props[j].type, props[j].name);
        end_line(&b, o);
    }
    if (o->edge_after) {
        buf_printf(&b, "element edge 2");
        end_line(&b, o);
        buf_printf(&b, "property int a");
        end_line(&b, o);
        buf_printf(&b, "property list uint double w");
        end_line(&b, o);
    }
    buf_printf(&b, "end_header");
    end_line(&b, o);
    const int f = o->fmt;
    if (o->face_before) {
        /* lists of 0, 1 and 2 items */
        for (int r = 0; r < 3; r++) {
            put_value(&b, "uchar", 10 + r, f, 0);
            put_value(&b, "uchar", r, f, r == 0);
            for (int k = 0; k < r; k++)
                put_value(&b, "int", -1000 * k - 7, f, k == r - 1);
            if (f == FMT_ASCII)
                end_line(&b, o);
        }
    }
    for (uint32_t i = 0; i < o->count; i++) {
        for (int j = 0; j < nprops; j++)
            put_value(&b, props[j].type, prop_value(props, j, i), f, j == nprops - 1);
        if (f == FMT_ASCII)
            end_line(&b, o);
    }
    if (o->edge_after) {
        for (int r = 0; r < 2; r++) {
            put_value(&b, "int", r, f, 0);
            put_value(&b, "uint", 2 - r, f, 0);
            for (int k = 0; k < 2 - r; k++)
                put_value(&b, "double", 0.5 * k, f, k == 1 - r);
            if (f == FMT_ASCII)
                end_line(&b, o);
        }
    }
    return b;
}

/* Where the property of this name lands in s for splat i, by the mapping
 * of splat.h (NULL for a property lvc does not read). */
static const float *field(const LvcSplats *s, const char *name, uint32_t i)
{
    const int k = LVC_SPLAT_SH_COEFFS(s->sh_degree);
    int v;
    char tail;
    /* only canonical numbers name fields: f_rest_01 is another property */
    const char *d = name + strcspn(name, "0123456789");
    if (*d && ((d[0] == '0' && d[1]) || d[strspn(d, "0123456789")]))
        return NULL;
    if (!strcmp(name, "x") || !strcmp(name, "y") || !strcmp(name, "z"))
        return &s->position[i * 3 + (size_t)(name[0] - 'x')];
    if (!strcmp(name, "opacity"))
        return &s->opacity[i];
    if (sscanf(name, "scale_%d%c", &v, &tail) == 1)
        return &s->scale[i * 3 + (size_t)v];
    if (sscanf(name, "rot_%d%c", &v, &tail) == 1)
        return &s->rotation[i * 4 + (size_t)v];
    if (sscanf(name, "f_dc_%d%c", &v, &tail) == 1)
        return &s->sh[(i * 3 + (size_t)v) * k];
    if (sscanf(name, "f_rest_%d%c", &v, &tail) == 1) {
        const int c = v / (k - 1), kk = v % (k - 1) + 1;
        return &s->sh[(i * 3 + (size_t)c) * k + kk];
    }
    return NULL;
}

/* s holds exactly the values make_ply wrote. */
static void check_values(const LvcSplats *s, const Prop *props, int nprops, uint32_t count)
{
    ck_assert_uint_eq(s->count, count);
    for (uint32_t i = 0; i < count; i++) {
        for (int j = 0; j < nprops; j++) {
            const float *got = field(s, props[j].name, i);
            if (got)
                ck_assert_msg(*got == (float)prop_value(props, j, i),
                              "splat %u %s: %g, expected %g", i, props[j].name, *got,
                              (float)prop_value(props, j, i));
        }
    }
}

/* The 3DGS property list of an SH degree, in 3DGS order. */
static int gs_props(Prop *props, int degree, char names[][24])
{
    static const char *const head[] = { "x", "y", "z", "nx", "ny", "nz",
                                        "f_dc_0", "f_dc_1", "f_dc_2" };
    static const char *const tail[] = { "opacity", "scale_0", "scale_1", "scale_2",
                                        "rot_0", "rot_1", "rot_2", "rot_3" };
    int n = 0;
    for (int i = 0; i < 9; i++)
        props[n++] = (Prop){ "float", head[i] };
    const int nrest = 3 * (LVC_SPLAT_SH_COEFFS(degree) - 1);
    for (int i = 0; i < nrest; i++) {
        snprintf(names[i], 24, "f_rest_%d", i);
        props[n++] = (Prop){ "float", names[i] };
    }
    for (int i = 0; i < 8; i++)
        props[n++] = (Prop){ "float", tail[i] };
    return n;
}

/* A minimal valid binary little-endian PLY (3DGS layout, degree 0). */
static Buf small_ply(uint32_t count, int face, int edge)
{
    Prop props[80];
    char names[45][24];
    const int n = gs_props(props, 0, names);
    const PlyOpts o = { .fmt = FMT_LE, .face_before = face, .edge_after = edge,
                        .count = count };
    return make_ply(props, n, &o);
}

/* ------------------------------------------------------------- tests */

START_TEST(test_alloc_free)
{
    LvcSplats s;
    ck_assert_int_eq(lvc_splats_alloc(&s, 0, 2), 0);
    ck_assert_uint_eq(s.count, 0);
    ck_assert_int_eq(s.sh_degree, 2);
    ck_assert_ptr_null(s.position);
    ck_assert_ptr_null(s.sh);
    lvc_splats_free(&s);
    assert_zeroed(&s);

    ck_assert_int_eq(lvc_splats_alloc(&s, 7, 3), 0);
    ck_assert_uint_eq(s.count, 7);
    for (size_t i = 0; i < 7 * 3 * 16; i++)
        ck_assert(s.sh[i] == 0.0f);
    for (size_t i = 0; i < 7 * 4; i++)
        ck_assert(s.rotation[i] == 0.0f);
    ck_assert(s.opacity[6] == 0.0f && s.position[20] == 0.0f && s.scale[20] == 0.0f);
    lvc_splats_free(&s);
    assert_zeroed(&s);
    lvc_splats_free(&s);
    lvc_splats_free(NULL);

    memset(&s, 0xa5, sizeof(s));
    ck_assert_int_eq(lvc_splats_alloc(&s, 3, 4), LVC_ERR_INVALID_ARG);
    assert_zeroed(&s);
    memset(&s, 0xa5, sizeof(s));
    ck_assert_int_eq(lvc_splats_alloc(&s, 3, -1), LVC_ERR_INVALID_ARG);
    assert_zeroed(&s);
    ck_assert_int_eq(lvc_splats_alloc(&s, LVC_SPLAT_MAX_COUNT + 1u, 0), LVC_ERR_LIMIT);
    assert_zeroed(&s);
    ck_assert_int_eq(lvc_splats_alloc(NULL, 3, 0), LVC_ERR_INVALID_ARG);

    /* an allocation failure leaves nothing behind */
    const size_t mem0 = lvc_mem_in_use();
    for (long f = 0; f < 5; f++) {
        lvc_mem_fail_after(f);
        memset(&s, 0xa5, sizeof(s));
        ck_assert_int_eq(lvc_splats_alloc(&s, 10, 1), LVC_ERR_NOMEM);
        assert_zeroed(&s);
        ck_assert_uint_eq(lvc_mem_in_use(), mem0);
    }
    lvc_mem_fail_after(-1);
}
END_TEST

START_TEST(test_ply_round_trip)
{
    /* exact for every degree, including an empty scene */
    for (int degree = 0; degree <= 3; degree++) {
        static const uint32_t counts[] = { 0, 1, 37 };
        for (int c = 0; c < 3; c++) {
            LvcSplats s, t;
            make_scene(&s, counts[c], degree, 100u + (uint32_t)(degree * 3 + c));
            uint8_t *buf;
            size_t size;
            ck_assert_int_eq(lvc_ply_write_mem(&s, &buf, &size), 0);
            Buf b = { buf, size, size };
            ck_assert_int_eq(read_ply(&b, &t, 0), 0);
            assert_same_scene(&s, &t);
            lvc_splats_free(&t);
            lvc_splat_buffer_free(buf);
            lvc_splats_free(&s);
        }
    }
}
END_TEST

START_TEST(test_ply_written_layout)
{
    /* The writer's header is the 3DGS one, byte for byte, and the records
     * hold the fields in its order, little-endian. */
    for (int degree = 0; degree <= 3; degree++) {
        LvcSplats s;
        make_scene(&s, 3, degree, 7u + (uint32_t)degree);
        const int k = LVC_SPLAT_SH_COEFFS(degree), nrest = 3 * (k - 1);
        for (uint32_t i = 0; i < 3; i++)
            for (int c = 0; c < 3; c++)
                for (int j = 0; j < k; j++)
                    s.sh[(i * 3 + (uint32_t)c) * (uint32_t)k + (uint32_t)j] =
                        (float)(1000 * i + 100 * (uint32_t)c + (uint32_t)j);
        uint8_t *buf;
        size_t size;
        ck_assert_int_eq(lvc_ply_write_mem(&s, &buf, &size), 0);

        Buf want = { 0 };
        buf_printf(&want, "ply\nformat binary_little_endian 1.0\nelement vertex 3\n");
        buf_printf(&want, "property float x\nproperty float y\nproperty float z\n");
        buf_printf(&want, "property float nx\nproperty float ny\nproperty float nz\n");
        buf_printf(&want, "property float f_dc_0\nproperty float f_dc_1\n"
                          "property float f_dc_2\n");
        for (int j = 0; j < nrest; j++)
            buf_printf(&want, "property float f_rest_%d\n", j);
        buf_printf(&want, "property float opacity\n");
        buf_printf(&want, "property float scale_0\nproperty float scale_1\n"
                          "property float scale_2\n");
        buf_printf(&want, "property float rot_0\nproperty float rot_1\n"
                          "property float rot_2\nproperty float rot_3\n");
        buf_printf(&want, "end_header\n");
        const size_t rec = (size_t)(17 + nrest) * 4;
        ck_assert_uint_eq(size, want.n + 3 * rec);
        ck_assert_mem_eq(buf, want.p, want.n);

        for (uint32_t i = 0; i < 3; i++) {
            const uint8_t *r = buf + want.n + i * rec;
            float v[62];
            for (int f = 0; f < 17 + nrest; f++) {
                const uint32_t u = (uint32_t)r[4 * f] | (uint32_t)r[4 * f + 1] << 8 |
                                   (uint32_t)r[4 * f + 2] << 16 | (uint32_t)r[4 * f + 3] << 24;
                memcpy(&v[f], &u, 4);
            }
            ck_assert(v[0] == s.position[i * 3] && v[2] == s.position[i * 3 + 2]);
            ck_assert(v[3] == 0.0f && v[4] == 0.0f && v[5] == 0.0f);
            for (int c = 0; c < 3; c++)
                ck_assert(v[6 + c] == (float)(1000 * i + 100 * (uint32_t)c));
            /* f_rest_j = channel j / (K - 1), coefficient j % (K - 1) + 1 */
            for (int j = 0; j < nrest; j++)
                ck_assert(v[9 + j] == (float)(1000 * i + 100 * (uint32_t)(j / (k - 1)) +
                                              (uint32_t)(j % (k - 1) + 1)));
            ck_assert(v[9 + nrest] == s.opacity[i]);
            for (int c = 0; c < 3; c++)
                ck_assert(v[10 + nrest + c] == s.scale[i * 3 + (uint32_t)c]);
            for (int c = 0; c < 4; c++)
                ck_assert(v[13 + nrest + c] == s.rotation[i * 4 + (uint32_t)c]);
        }
        free(want.p);
        lvc_splat_buffer_free(buf);
        lvc_splats_free(&s);
    }
}
END_TEST

/* Every scalar type name, properties out of order, extra ones. */
static const Prop odd_props[] = {
    { "float", "opacity" }, { "double", "x" }, { "uchar", "rot_0" }, { "float", "f_dc_2" },
    { "short", "nx" }, { "int", "scale_1" }, { "double", "y" }, { "char", "rot_2" },
    { "ushort", "custom" }, { "float", "f_dc_0" }, { "uint", "rot_3" }, { "float32", "z" },
    { "float64", "scale_0" }, { "int16", "rot_1" }, { "uint8", "f_dc_1" },
    { "int32", "scale_2" }, { "uint16", "ny" }, { "int8", "nz" }, { "uint32", "extra_u32" },
    { "double", "f_rest" }, { "float", "f_rest_01" },
};

START_TEST(test_ply_formats_odd_order)
{
    const int n = (int)(sizeof(odd_props) / sizeof(odd_props[0]));
    for (int fmt = FMT_ASCII; fmt <= FMT_BE; fmt++) {
        for (int variant = 0; variant < 4; variant++) {
            const PlyOpts o = { .fmt = fmt, .crlf = variant & 1, .face_before = variant >= 2,
                                .edge_after = variant >= 1, .count = 5 };
            Buf b = make_ply(odd_props, n, &o);
            LvcSplats s;
            ck_assert_msg(read_ply(&b, &s, 0) == 0, "format %d variant %d", fmt, variant);
            ck_assert_int_eq(s.sh_degree, 0);
            check_values(&s, odd_props, n, 5);
            lvc_splats_free(&s);
            free(b.p);
        }
    }
}
END_TEST

START_TEST(test_ply_ascii_literal)
{
    /* A hand-written file, to check values without the builder: \r\n line
     * ends, a face element with lists before the vertex element, an
     * exponent, a negative integer, extra whitespace. */
    static const char text[] =
        "ply\r\n"
        "format ascii 1.0\r\n"
        "comment hand made\r\n"
        "element face 2\r\n"
        "property list uchar uint vertex_indices\r\n"
        "element vertex 2\r\n"
        "property float rot_3\r\n"
        "property double x\r\n"
        "property float y\r\n"
        "property float z\r\n"
        "property uchar opacity\r\n"
        "property float nx\r\n"
        "property char scale_0\r\n"
        "property float scale_1\r\n"
        "property float scale_2\r\n"
        "property float rot_0\r\n"
        "property float rot_1\r\n"
        "property float rot_2\r\n"
        "property float f_dc_0\r\n"
        "property float f_dc_1\r\n"
        "property float f_dc_2\r\n"
        "end_header\r\n"
        "3 0 1 2\r\n"
        "0\r\n"
        "0.5 1.25e2 -2 3 200 nan -5 -4.5 -4 1 0 0 0.1 0.2 0.3\r\n"
        "  -0.5\t1 2\r\n 3 0 0 -1 -2 -3 0 1 0 -0.1 -0.2 -0.3\r\n";
    Buf b = { (uint8_t *)text, sizeof(text) - 1, 0 };
    LvcSplats s;
    ck_assert_int_eq(read_ply(&b, &s, 0), 0);
    ck_assert_uint_eq(s.count, 2);
    ck_assert_int_eq(s.sh_degree, 0);
    ck_assert(s.position[0] == 125.0f && s.position[1] == -2.0f && s.position[2] == 3.0f);
    ck_assert(s.opacity[0] == 200.0f && s.opacity[1] == 0.0f);
    ck_assert(s.scale[0] == -5.0f && s.scale[1] == -4.5f && s.scale[2] == -4.0f);
    ck_assert(s.rotation[0] == 1.0f && s.rotation[1] == 0.0f && s.rotation[3] == 0.5f);
    ck_assert(s.rotation[7] == -0.5f);
    ck_assert(s.sh[0] == 0.1f && s.sh[1] == 0.2f && s.sh[2] == 0.3f);
    ck_assert(s.position[3] == 1.0f && s.position[4] == 2.0f && s.position[5] == 3.0f);
    ck_assert(s.scale[3] == -1.0f && s.scale[4] == -2.0f && s.scale[5] == -3.0f);
    ck_assert(s.rotation[4] == 0.0f && s.rotation[5] == 1.0f && s.rotation[6] == 0.0f);
    ck_assert(s.sh[3] == -0.1f && s.sh[5] == -0.3f);
    lvc_splats_free(&s);
}
END_TEST

START_TEST(test_ply_sh_degrees)
{
    /* Each degree in ascii and both binaries, the f_rest properties
     * reversed and first, so that only the names place them. */
    for (int degree = 0; degree <= 3; degree++) {
        Prop gs[80], props[80];
        char names[45][24];
        const int n = gs_props(gs, degree, names);
        int m = 0;
        for (int j = n - 1; j >= 0; j--)
            if (!strncmp(gs[j].name, "f_rest_", 7))
                props[m++] = gs[j];
        for (int j = 0; j < n; j++)
            if (strncmp(gs[j].name, "f_rest_", 7))
                props[m++] = gs[j];
        for (int fmt = FMT_ASCII; fmt <= FMT_BE; fmt++) {
            const PlyOpts o = { .fmt = fmt, .count = 4 };
            Buf b = make_ply(props, m, &o);
            LvcSplats s;
            ck_assert_int_eq(read_ply(&b, &s, 0), 0);
            ck_assert_int_eq(s.sh_degree, degree);
            check_values(&s, props, m, 4);
            /* spelled out: f_rest is channel-major */
            const uint32_t K = (uint32_t)LVC_SPLAT_SH_COEFFS(degree);
            for (int j = 0; j < m; j++) {
                const float want = (float)prop_value(props, j, 2);
                if (degree == 1 && !strcmp(props[j].name, "f_rest_3"))
                    ck_assert(s.sh[(2 * 3 + 1) * K + 1] == want);    /* G, k 1 */
                if (degree == 1 && !strcmp(props[j].name, "f_rest_2"))
                    ck_assert(s.sh[(2 * 3 + 0) * K + 3] == want);    /* R, k 3 */
                if (degree == 3 && !strcmp(props[j].name, "f_rest_15"))
                    ck_assert(s.sh[(2 * 3 + 1) * K + 1] == want);
                if (degree == 3 && !strcmp(props[j].name, "f_rest_44"))
                    ck_assert(s.sh[(2 * 3 + 2) * K + 15] == want);
                if (degree == 2 && !strcmp(props[j].name, "f_rest_16"))
                    ck_assert(s.sh[(2 * 3 + 2) * K + 1] == want);
                if (!strcmp(props[j].name, "f_dc_2"))
                    ck_assert(s.sh[(2 * 3 + 2) * K] == want);
            }
            lvc_splats_free(&s);
            free(b.p);
        }
    }
}
END_TEST

START_TEST(test_ply_truncated)
{
    /* Cut anywhere, a binary PLY is refused as truncated: header, the
     * face lists before the vertices, the vertices, the edges after. */
    for (int fmt = FMT_LE; fmt <= FMT_BE; fmt++) {
        const int n = (int)(sizeof(odd_props) / sizeof(odd_props[0]));
        const PlyOpts o = { .fmt = fmt, .face_before = 1, .edge_after = 1, .count = 2 };
        Buf b = make_ply(odd_props, n, &o);
        LvcSplats s;
        ck_assert_int_eq(read_ply(&b, &s, 0), 0);
        lvc_splats_free(&s);
        for (size_t len = 0; len < b.n; len++) {
            uint8_t *cut = malloc(len ? len : 1);     /* exact size: ASan sees overreads */
            memcpy(cut, b.p, len);
            Buf c = { cut, len, len };
            ck_assert_msg(read_ply(&c, &s, 0) == LVC_ERR_TRUNCATED, "cut at %zu of %zu", len,
                          b.n);
            free(cut);
        }
        free(b.p);
    }
    /* ascii: a cut before the last value is an error (a cut inside the
     * last number leaves a shorter, valid number) */
    const int n = (int)(sizeof(odd_props) / sizeof(odd_props[0]));
    const PlyOpts o = { .fmt = FMT_ASCII, .face_before = 1, .edge_after = 1, .count = 2 };
    Buf b = make_ply(odd_props, n, &o);
    size_t last = b.n - 1;
    while (last > 0 && (b.p[last] == '\n' || b.p[last] == '\r'))
        last--;
    while (last > 0 && b.p[last - 1] != ' ' && b.p[last - 1] != '\n')
        last--;
    for (size_t len = 0; len < last; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, b.p, len);
        Buf c = { cut, len, len };
        LvcSplats s;
        ck_assert_msg(read_ply(&c, &s, 0) < 0, "ascii cut at %zu", len);
        free(cut);
    }
    free(b.p);
}
END_TEST

/* Replaces the first occurrence of from by to in b (a header edit). */
static void buf_replace(Buf *b, const char *from, const char *to)
{
    const size_t nf = strlen(from), nt = strlen(to);
    uint8_t *at = NULL;
    for (size_t i = 0; i + nf <= b->n && !at; i++)
        if (!memcmp(b->p + i, from, nf))
            at = b->p + i;
    ck_assert_msg(at != NULL, "'%s' not found", from);
    const size_t off = (size_t)(at - b->p);
    Buf r = { 0 };
    buf_put(&r, b->p, off);
    buf_put(&r, to, nt);
    buf_put(&r, b->p + off + nf, b->n - off - nf);
    free(b->p);
    *b = r;
}

/* The PLY of small_ply(2, face, 0) with one header edit; expects err. */
static void expect_edit(const char *from, const char *to, int err)
{
    Buf b = small_ply(2, 1, 0);
    buf_replace(&b, from, to);
    LvcSplats s;
    const int got = read_ply(&b, &s, 0);
    ck_assert_msg(got == err, "'%s' -> '%s': %d, expected %d", from, to, got, err);
    lvc_splats_free(&s);
    free(b.p);
}

START_TEST(test_ply_bad_headers)
{
    /* the base file reads */
    expect_edit("ply", "ply", 0);
    /* magic */
    expect_edit("ply\n", "plx\n", LVC_ERR_FORMAT);
    expect_edit("ply\n", "PLY\n", LVC_ERR_FORMAT);
    expect_edit("ply\n", "ply \n", LVC_ERR_FORMAT);
    /* format line */
    expect_edit("binary_little_endian", "binary_middle_endian", LVC_ERR_FORMAT);
    expect_edit("1.0", "2.0", LVC_ERR_VERSION);
    expect_edit("format binary_little_endian 1.0\n", "", LVC_ERR_FORMAT);
    expect_edit("format binary_little_endian 1.0\n",
                "format binary_little_endian 1.0\nformat ascii 1.0\n", LVC_ERR_FORMAT);
    /* missing required properties */
    expect_edit("property float rot_3\n", "", LVC_ERR_FORMAT);
    expect_edit("property float x\n", "property float nx2\n", LVC_ERR_FORMAT);
    expect_edit("property float opacity\n", "property float alpha\n", LVC_ERR_FORMAT);
    expect_edit("property float f_dc_1\n", "property float f_dc_3\n", LVC_ERR_FORMAT);
    /* f_rest counts: 10, a gap, one beyond the largest degree */
    {
        char rest[512] = "";
        for (int j = 0; j < 10; j++)
            snprintf(rest + strlen(rest), sizeof(rest) - strlen(rest),
                     "property float f_rest_%d\n", j);
        strcat(rest, "property float opacity\n");
        expect_edit("property float opacity\n", rest, LVC_ERR_FORMAT);
    }
    expect_edit("property float opacity\n",
                "property float f_rest_0\nproperty float f_rest_1\nproperty float f_rest_2\n"
                "property float f_rest_3\nproperty float f_rest_4\nproperty float f_rest_5\n"
                "property float f_rest_6\nproperty float f_rest_7\nproperty float f_rest_9\n"
                "property float opacity\n", LVC_ERR_FORMAT);
    expect_edit("property float opacity\n", "property float f_rest_45\nproperty float opacity\n",
                LVC_ERR_FORMAT);
    /* duplicates */
    expect_edit("property float nx\n", "property float y\n", LVC_ERR_FORMAT);
    expect_edit("element face 3\n", "element vertex 3\n", LVC_ERR_FORMAT);
    expect_edit("property uchar flags\n", "property uchar flags\nproperty int flags\n",
                LVC_ERR_FORMAT);
    /* list on the vertex element, list of floats' count, no vertex */
    expect_edit("property float nx\n", "property list uchar float nx\n", LVC_ERR_FORMAT);
    expect_edit("property list uchar int", "property list float int", LVC_ERR_FORMAT);
    expect_edit("element vertex", "element vertices", LVC_ERR_FORMAT);
    /* syntax */
    expect_edit("property float nx\n", "property half nx\n", LVC_ERR_FORMAT);
    expect_edit("property float nx\n", "property float nx extra\n", LVC_ERR_FORMAT);
    expect_edit("property float nx\n", "properties float nx\n", LVC_ERR_FORMAT);
    expect_edit("element face 3\n", "element face 3 4\n", LVC_ERR_FORMAT);
    expect_edit("element face 3\n", "element face -3\n", LVC_ERR_FORMAT);
    expect_edit("element face 3\n", "element face 99999999999999999999999\n", LVC_ERR_FORMAT);
    expect_edit("end_header", "end_header x", LVC_ERR_FORMAT);
    expect_edit("comment made", "\ncomment made", 0);    /* a blank line is fine */
    expect_edit("element face 3\n", "property int early\nelement face 3\n", LVC_ERR_FORMAT);
    /* end_header missing: the data never ends the header */
    expect_edit("end_header\n", "end_heade\n", LVC_ERR_FORMAT);
}
END_TEST

START_TEST(test_ply_header_limits)
{
    /* a header over 64 KiB: refused however it would go on */
    Buf b = small_ply(1, 0, 0);
    Buf big = { 0 };
    buf_put(&big, "ply\n", 4);
    for (int i = 0; i < 1200; i++)
        buf_printf(&big, "comment %0100d\n", i);
    buf_put(&big, b.p + 4, b.n - 4);
    LvcSplats s;
    ck_assert_int_eq(read_ply(&big, &s, 0), LVC_ERR_LIMIT);
    free(big.p);

    /* more than 1024 properties (on an element lvc would skip) */
    Buf many = { 0 };
    buf_printf(&many, "ply\nformat ascii 1.0\nelement junk 0\n");
    for (int i = 0; i < 1100; i++)
        buf_printf(&many, "property uchar p%d\n", i);
    buf_printf(&many, "end_header\n");
    ck_assert_int_eq(read_ply(&many, &s, 0), LVC_ERR_LIMIT);
    free(many.p);
    free(b.p);
}
END_TEST

START_TEST(test_ply_limits)
{
    /* max_count: refused before anything is allocated for the splats */
    Buf b = small_ply(10, 0, 0);
    LvcSplats s;
    ck_assert_int_eq(read_ply(&b, &s, 10), 0);
    lvc_splats_free(&s);
    lvc_mem_reset_peak();
    const size_t mem0 = lvc_mem_in_use();
    ck_assert_int_eq(read_ply(&b, &s, 9), LVC_ERR_LIMIT);
    ck_assert_uint_le(lvc_mem_peak() - mem0, 128 * 1024);   /* the header table only */
    ck_assert_uint_eq(lvc_mem_in_use(), mem0);
    free(b.p);

    /* absurd counts in tiny files */
    static const struct { const char *from, *to; uint32_t max; int err; } cases[] = {
        { "element vertex 2", "element vertex 4000000000", 0, LVC_ERR_LIMIT },
        { "element vertex 2", "element vertex 4000000000", LVC_SPLAT_MAX_COUNT, LVC_ERR_LIMIT },
        { "element vertex 2", "element vertex 1000000", 0, LVC_ERR_TRUNCATED },
        { "element face 3", "element face 4000000000", 0, LVC_ERR_TRUNCATED },
        { "element face 3", "element face 9223372036854775807", 0, LVC_ERR_TRUNCATED },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b = small_ply(2, 1, 0);
        buf_replace(&b, cases[i].from, cases[i].to);
        lvc_mem_reset_peak();
        ck_assert_int_eq(read_ply(&b, &s, cases[i].max), cases[i].err);
        ck_assert_uint_le(lvc_mem_peak() - mem0, 128 * 1024);
        free(b.p);
        /* ascii too: each value takes a byte at least */
        Prop props[80];
        char names[45][24];
        const int n = gs_props(props, 0, names);
        const PlyOpts o = { .fmt = FMT_ASCII, .face_before = 1, .count = 2 };
        b = make_ply(props, n, &o);
        buf_replace(&b, cases[i].from, cases[i].to);
        lvc_mem_reset_peak();
        ck_assert_int_eq(read_ply(&b, &s, cases[i].max), cases[i].err);
        ck_assert_uint_le(lvc_mem_peak() - mem0, 128 * 1024);
        free(b.p);
    }

    /* A list claiming more items than the data holds, binary and ascii;
     * in ascii an element whose records are empty lines of no properties
     * costs nothing whatever its count. */
    b = small_ply(2, 1, 0);
    /* the third face record's count (2) becomes 250 */
    const uint8_t *end = memmem(b.p, b.n, "end_header\n", 11);
    ck_assert_ptr_nonnull(end);
    const size_t at = (size_t)(end - b.p) + 11 + 2 + 6 + 1;   /* records of 2, 6 bytes */
    ck_assert_uint_eq(b.p[at], 2);
    b.p[at] = 250;
    ck_assert_int_eq(read_ply(&b, &s, 0), LVC_ERR_TRUNCATED);
    free(b.p);
    static const char empty_elem[] =
        "ply\nformat ascii 1.0\nelement nothing 4000000000\nelement vertex 0\n"
        "property float x\nproperty float y\nproperty float z\nproperty float scale_0\n"
        "property float scale_1\nproperty float scale_2\nproperty float rot_0\n"
        "property float rot_1\nproperty float rot_2\nproperty float rot_3\n"
        "property float opacity\nproperty float f_dc_0\nproperty float f_dc_1\n"
        "property float f_dc_2\nend_header\n";
    Buf e = { (uint8_t *)empty_elem, sizeof(empty_elem) - 1, 0 };
    ck_assert_int_eq(read_ply(&e, &s, 0), 0);
    ck_assert_uint_eq(s.count, 0);
    ck_assert_ptr_null(s.position);
    lvc_splats_free(&s);
}
END_TEST

START_TEST(test_ply_bad_values)
{
    Prop props[80];
    char names[45][24];
    const int n = gs_props(props, 1, names);
    LvcSplats s;
    /* binary: NaN and infinities where lvc reads them; a double beyond
     * the float range */
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    for (int k = 0; k < 3; k++) {
        for (int j = 0; j < n; j++) {
            const PlyOpts o = { .fmt = FMT_LE, .count = 2 };
            Buf b = make_ply(props, n, &o);
            const size_t data = b.n - 2 * (size_t)n * 4;
            memcpy(b.p + data + ((size_t)n + (size_t)j) * 4, &bad[k], 4);   /* splat 1 */
            const int skipped = props[j].name[0] == 'n';                    /* nx ny nz */
            ck_assert_msg(read_ply(&b, &s, 0) == (skipped ? 0 : LVC_ERR_CORRUPT), "%s",
                          props[j].name);
            lvc_splats_free(&s);
            free(b.p);
        }
    }
    static const Prop dprops[] = {
        { "double", "x" }, { "float", "y" }, { "float", "z" }, { "float", "scale_0" },
        { "float", "scale_1" }, { "float", "scale_2" }, { "float", "rot_0" },
        { "float", "rot_1" }, { "float", "rot_2" }, { "float", "rot_3" },
        { "float", "opacity" }, { "float", "f_dc_0" }, { "float", "f_dc_1" },
        { "float", "f_dc_2" },
    };
    const PlyOpts od = { .fmt = FMT_BE, .count = 1 };
    Buf b = make_ply(dprops, 14, &od);
    const size_t x_at = b.n - 8 - 13 * 4;
    const uint8_t big[8] = { 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c };   /* 1e300 */
    memcpy(b.p + x_at, big, 8);
    ck_assert_int_eq(read_ply(&b, &s, 0), LVC_ERR_CORRUPT);
    free(b.p);

    /* ascii: nan, inf, garbage, an integer property out of its range or
     * not an integer, a negative list count */
    static const struct { const char *from, *to; int err; } cases[] = {
        { "\n-9.25 ", "\n-9.25 ", 0 },                 /* x of splat 1 */
        { "\n-9.25 ", "\nnan ", LVC_ERR_CORRUPT },
        { "\n-9.25 ", "\n-inf ", LVC_ERR_CORRUPT },
        { "\n-9.25 ", "\n1e999 ", LVC_ERR_CORRUPT },
        { "\n-9.25 ", "\n0.2.5 ", LVC_ERR_CORRUPT },
        { "\n-9.25 ", "\n0,25 ", LVC_ERR_CORRUPT },
        { "\n-9.25 ", "\nabc ", LVC_ERR_CORRUPT },
        { "\n10 0\n", "\n256 0\n", LVC_ERR_CORRUPT },   /* uchar flags */
        { "\n10 0\n", "\n-1 0\n", LVC_ERR_CORRUPT },
        { "\n10 0\n", "\n1.5 0\n", LVC_ERR_CORRUPT },
        { "\n10 0\n", "\n10 -1\n", LVC_ERR_CORRUPT },   /* list count */
        { "\n10 0\n", "\n10 2 5 6\n", 0 },          /* a list of 2 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const PlyOpts o = { .fmt = FMT_ASCII, .face_before = 1, .count = 2 };
        Buf a = make_ply(props, n, &o);
        ck_assert_int_eq(read_ply(&a, &s, 0), 0);
        lvc_splats_free(&s);
        buf_replace(&a, cases[i].from, cases[i].to);
        const int got = read_ply(&a, &s, 0);
        ck_assert_msg(got == cases[i].err, "'%s' -> '%s': %d", cases[i].from, cases[i].to, got);
        lvc_splats_free(&s);
        free(a.p);
    }
}
END_TEST

START_TEST(test_ply_args)
{
    LvcSplats s;
    Buf b = small_ply(1, 0, 0);
    ck_assert_int_eq(lvc_ply_read_mem(b.p, b.n, NULL, 0), LVC_ERR_INVALID_ARG);
    memset(&s, 0xa5, sizeof(s));
    ck_assert_int_eq(lvc_ply_read_mem(NULL, 10, &s, 0), LVC_ERR_INVALID_ARG);
    assert_zeroed(&s);
    ck_assert_int_eq(lvc_ply_read_mem(NULL, 0, &s, 0), LVC_ERR_TRUNCATED);
    free(b.p);

    uint8_t *buf = (uint8_t *)&s;
    size_t size = 5;
    ck_assert_int_eq(lvc_ply_write_mem(NULL, &buf, &size), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(size, 0);
    make_scene(&s, 4, 1, 3);
    ck_assert_int_eq(lvc_ply_write_mem(&s, NULL, &size), LVC_ERR_INVALID_ARG);
    /* non-finite values would write a file that does not read back */
    s.sh[5] = NAN;
    ck_assert_int_eq(lvc_ply_write_mem(&s, &buf, &size), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splat_write_mem(&s, &buf, &size), LVC_ERR_INVALID_ARG);
    s.sh[5] = 0.0f;
    s.sh_degree = 4;
    ck_assert_int_eq(lvc_ply_write_mem(&s, &buf, &size), LVC_ERR_INVALID_ARG);
    s.sh_degree = 1;
    float *keep = s.rotation;
    s.rotation = NULL;
    ck_assert_int_eq(lvc_ply_write_mem(&s, &buf, &size), LVC_ERR_INVALID_ARG);
    s.rotation = keep;
    lvc_splats_free(&s);

    /* allocation failures: an error and nothing held */
    make_scene(&s, 4, 2, 5);
    uint8_t *ply;
    size_t ply_size;
    ck_assert_int_eq(lvc_ply_write_mem(&s, &ply, &ply_size), 0);
    const size_t mem0 = lvc_mem_in_use();
    for (long f = 0; f < 8; f++) {
        LvcSplats t;
        lvc_mem_fail_after(f);
        const int err = lvc_ply_read_mem(ply, ply_size, &t, 0);
        lvc_mem_fail_after(-1);
        ck_assert(err == 0 || err == LVC_ERR_NOMEM);
        if (err == 0)
            assert_same_scene(&s, &t);
        lvc_splats_free(&t);
        ck_assert_uint_eq(lvc_mem_in_use(), mem0);
    }
    lvc_splat_buffer_free(ply);
    lvc_splats_free(&s);
}
END_TEST

/* ------------------------------------------------------------ .splat */

static void splat_record(uint8_t *p, const float pos[3], const float lin[3],
                         const uint8_t rgba[4], const uint8_t rot[4])
{
    for (int c = 0; c < 3; c++) {
        memcpy(p + 4 * c, &pos[c], 4);       /* the tests run on little-endian hosts */
        memcpy(p + 12 + 4 * c, &lin[c], 4);
    }
    memcpy(p + 24, rgba, 4);
    memcpy(p + 28, rot, 4);
}

static int host_is_le(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

START_TEST(test_splat_read_literal)
{
    if (!host_is_le())
        return;
    uint8_t rec[3 * 32];
    splat_record(rec, (const float[3]){ 1.5f, -2.0f, 3.0f }, (const float[3]){ 1.0f, 0.5f, 2.0f },
                 (const uint8_t[4]){ 0, 255, 128, 0 }, (const uint8_t[4]){ 255, 128, 0, 128 });
    splat_record(rec + 32, (const float[3]){ 0, 0, 0 }, (const float[3]){ 1e-30f, 1e30f, 1.0f },
                 (const uint8_t[4]){ 1, 2, 3, 255 }, (const uint8_t[4]){ 128, 128, 128, 128 });
    splat_record(rec + 64, (const float[3]){ 0, 0, 0 }, (const float[3]){ 1, 1, 1 },
                 (const uint8_t[4]){ 1, 2, 3, 128 }, (const uint8_t[4]){ 0, 64, 192, 200 });
    LvcSplats s;
    memset(&s, 0xa5, sizeof(s));
    ck_assert_int_eq(lvc_splat_read_mem(rec, sizeof(rec), &s, 0), 0);
    ck_assert_uint_eq(s.count, 3);
    ck_assert_int_eq(s.sh_degree, 0);
    ck_assert(s.position[0] == 1.5f && s.position[1] == -2.0f && s.position[2] == 3.0f);
    ck_assert(s.scale[0] == 0.0f);
    ck_assert_float_eq_tol(s.scale[1], logf(0.5f), 1e-6f);
    ck_assert_float_eq_tol(s.scale[2], logf(2.0f), 1e-6f);
    ck_assert_float_eq_tol(s.scale[3], logf(1e-30f), 1e-4f);
    ck_assert_float_eq_tol(s.scale[4], logf(1e30f), 1e-4f);
    ck_assert_float_eq_tol(s.sh[0], -0.5f / 0.28209479f, 1e-5f);
    ck_assert_float_eq_tol(s.sh[1], 0.5f / 0.28209479f, 1e-5f);
    ck_assert_float_eq_tol(s.sh[2], (128.0f / 255.0f - 0.5f) / 0.28209479f, 1e-6f);
    /* alpha 0 and 255: logits clamped to -12, +12; 128 exact */
    ck_assert(s.opacity[0] == -12.0f);
    ck_assert(s.opacity[1] == 12.0f);
    ck_assert_float_eq_tol(s.opacity[2], logf(128.0f / 127.0f), 1e-6f);
    ck_assert(s.rotation[0] == 127.0f / 128.0f && s.rotation[1] == 0.0f &&
              s.rotation[2] == -1.0f && s.rotation[3] == 0.0f);
    ck_assert(s.rotation[4] == 0.0f && s.rotation[7] == 0.0f);
    ck_assert(s.rotation[8] == -1.0f && s.rotation[9] == -0.5f && s.rotation[10] == 0.5f &&
              s.rotation[11] == 72.0f / 128.0f);
    lvc_splats_free(&s);

    /* sizes, limits, values */
    ck_assert_int_eq(lvc_splat_read_mem(rec, 33, &s, 0), LVC_ERR_FORMAT);
    ck_assert_int_eq(lvc_splat_read_mem(rec, 31, &s, 0), LVC_ERR_FORMAT);
    ck_assert_int_eq(lvc_splat_read_mem(rec, 95, &s, 0), LVC_ERR_FORMAT);
    assert_zeroed(&s);
    ck_assert_int_eq(lvc_splat_read_mem(rec, 0, &s, 0), 0);
    ck_assert_uint_eq(s.count, 0);
    ck_assert_int_eq(lvc_splat_read_mem(NULL, 0, &s, 0), 0);
    ck_assert_int_eq(lvc_splat_read_mem(NULL, 32, &s, 0), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splat_read_mem(rec, 96, &s, 2), LVC_ERR_LIMIT);
    ck_assert_int_eq(lvc_splat_read_mem(rec, 64, &s, 2), 0);
    lvc_splats_free(&s);
    static const struct { int at; float v; } bad[] = {
        { 0, NAN }, { 8, INFINITY }, { 12, 0.0f }, { 16, -1.0f }, { 20, NAN },
        { 12, INFINITY }, { 16, -0.0f },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t r2[sizeof(rec)];
        memcpy(r2, rec, sizeof(rec));
        memcpy(r2 + 64 + bad[i].at, &bad[i].v, 4);
        memset(&s, 0xa5, sizeof(s));
        ck_assert_int_eq(lvc_splat_read_mem(r2, sizeof(r2), &s, 0), LVC_ERR_CORRUPT);
        assert_zeroed(&s);
    }
}
END_TEST

START_TEST(test_splat_write_literal)
{
    if (!host_is_le())
        return;
    LvcSplats s;
    ck_assert_int_eq(lvc_splats_alloc(&s, 3, 1), 0);
    /* splat 0: neutral; splat 1: extremes; splat 2: a zero rotation */
    s.rotation[0] = 2.0f;
    s.sh[5] = 9.0f;                        /* degree-1 coefficients are dropped */
    s.position[3] = -7.25f;
    s.scale[3] = 200.0f;                   /* exp overflows: clamped */
    s.scale[4] = -200.0f;                  /* exp underflows: clamped */
    s.scale[5] = logf(3.0f);
    for (int c = 0; c < 3; c++)
        s.sh[(1 * 3 + c) * 4] = c == 0 ? 10.0f : c == 1 ? -10.0f : 1.0f;
    s.opacity[1] = 40.0f;
    s.opacity[2] = -40.0f;
    s.rotation[4] = -1.0f;
    s.rotation[5] = 1.0f;
    s.rotation[6] = 0.0f;
    s.rotation[7] = 1e-3f;
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(lvc_splat_write_mem(&s, &buf, &size), 0);
    ck_assert_uint_eq(size, 96);
    float f;
    memcpy(&f, buf + 12, 4);
    ck_assert(f == 1.0f);
    ck_assert_mem_eq(buf + 24, ((const uint8_t[8]){ 128, 128, 128, 128, 255, 128, 128, 128 }), 8);
    memcpy(&f, buf + 32, 4);
    ck_assert(f == -7.25f);
    memcpy(&f, buf + 44, 4);
    ck_assert(f == FLT_MAX);
    memcpy(&f, buf + 48, 4);
    ck_assert(f > 0.0f && f <= FLT_MIN);
    memcpy(&f, buf + 52, 4);
    ck_assert_float_eq_tol(f, 3.0f, 1e-6f);
    /* colour 0.5 + 0.28209479 * 1 = 0.782 -> 199.4 -> 199; rotation
     * normalised: (-1, 1, 0, 0.001) / 1.414 -> 37.5, 218.5, 128, 128.09 */
    ck_assert_mem_eq(buf + 56, ((const uint8_t[8]){ 255, 0, 199, 255, 37, 219, 128, 128 }), 8);
    ck_assert_mem_eq(buf + 88, ((const uint8_t[8]){ 128, 128, 128, 0, 255, 128, 128, 128 }), 8);
    /* what was written reads back (its log scales are finite) */
    LvcSplats t;
    ck_assert_int_eq(lvc_splat_read_mem(buf, size, &t, 0), 0);
    ck_assert(isfinite(t.scale[3]) && isfinite(t.scale[4]));
    lvc_splats_free(&t);
    lvc_splat_buffer_free(buf);
    lvc_splats_free(&s);
}
END_TEST

START_TEST(test_splat_round_trip)
{
    /* Within the quantization: positions exact, log scales to float
     * rounding, f_dc to half a colour step, sigmoid(opacity) to half an
     * alpha step, the normalised rotation to a rotation step. */
    for (int degree = 0; degree <= 3; degree += 3) {
        LvcSplats s, t;
        make_scene(&s, 200, degree, 77u + (uint32_t)degree);
        uint8_t *buf;
        size_t size;
        ck_assert_int_eq(lvc_splat_write_mem(&s, &buf, &size), 0);
        ck_assert_uint_eq(size, 200 * 32);
        memset(&t, 0xa5, sizeof(t));
        ck_assert_int_eq(lvc_splat_read_mem(buf, size, &t, 0), 0);
        ck_assert_uint_eq(t.count, 200);
        ck_assert_int_eq(t.sh_degree, 0);
        const size_t k = (size_t)LVC_SPLAT_SH_COEFFS(degree);
        for (size_t i = 0; i < 200; i++) {
            for (int c = 0; c < 3; c++) {
                ck_assert(t.position[i * 3 + c] == s.position[i * 3 + c]);
                ck_assert_float_eq_tol(t.scale[i * 3 + c], s.scale[i * 3 + c], 2e-6f);
                ck_assert_float_eq_tol(t.sh[i * 3 + c], s.sh[(i * 3 + c) * k],
                                       0.5f / 255.0f / 0.28209479f + 1e-5f);
            }
            const double a0 = 1.0 / (1.0 + exp(-(double)s.opacity[i]));
            const double a1 = 1.0 / (1.0 + exp(-(double)t.opacity[i]));
            ck_assert_double_eq_tol(a0, a1, 0.5 / 255.0 + 1e-6);
            double n0 = 0, n1 = 0;
            for (int c = 0; c < 4; c++) {
                n0 += (double)s.rotation[i * 4 + c] * s.rotation[i * 4 + c];
                n1 += (double)t.rotation[i * 4 + c] * t.rotation[i * 4 + c];
            }
            for (int c = 0; c < 4; c++)
                ck_assert_double_eq_tol(s.rotation[i * 4 + c] / sqrt(n0),
                                        t.rotation[i * 4 + c] / sqrt(n1), 2.0 / 128.0);
        }
        /* a second generation keeps the colours and alphas exactly */
        uint8_t *buf2;
        size_t size2;
        ck_assert_int_eq(lvc_splat_write_mem(&t, &buf2, &size2), 0);
        ck_assert_uint_eq(size2, size);
        for (size_t i = 0; i < 200; i++)
            ck_assert_mem_eq(buf2 + i * 32 + 24, buf + i * 32 + 24, 4);
        lvc_splat_buffer_free(buf2);
        lvc_splat_buffer_free(buf);
        lvc_splats_free(&t);
        lvc_splats_free(&s);
    }
}
END_TEST

/* ------------------------------------------------------------- files */

static char tmp_dir[256];

static void make_tmp_dir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/lvc_test_splat_XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

/* Names in tmp_dir, sorted, joined by spaces. */
static void dir_list(char *out, size_t n)
{
    struct dirent **ents;
    const int k = scandir(tmp_dir, &ents, NULL, alphasort);
    ck_assert_int_ge(k, 0);
    out[0] = '\0';
    for (int i = 0; i < k; i++) {
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
            if (out[0])
                strncat(out, " ", n - strlen(out) - 1);
            strncat(out, ents[i]->d_name, n - strlen(out) - 1);
        }
        free(ents[i]);
    }
    free(ents);
}

static void clean_tmp_dir(void)
{
    struct dirent **ents;
    const int k = scandir(tmp_dir, &ents, NULL, alphasort);
    for (int i = 0; i < k; i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", tmp_dir, ents[i]->d_name);
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
            unlink(p);
        free(ents[i]);
    }
    if (k >= 0)
        free(ents);
    rmdir(tmp_dir);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fclose(f);
    return n;
}

START_TEST(test_files)
{
    make_tmp_dir();
    char ply[300], splat[300], list[1024];
    snprintf(ply, sizeof(ply), "%s/scene.ply", tmp_dir);
    snprintf(splat, sizeof(splat), "%s/scene.splat", tmp_dir);
    LvcSplats s, t;
    make_scene(&s, 50, 2, 9);

    /* PLY: exact; .splat by the name, 32 bytes a splat */
    ck_assert_int_eq(lvc_splats_write_file(ply, &s), 0);
    ck_assert_int_eq(lvc_splats_read_file(ply, &t, 0), 0);
    assert_same_scene(&s, &t);
    lvc_splats_free(&t);
    ck_assert_int_eq(lvc_splats_write_file(splat, &s), 0);
    ck_assert_int_eq(file_size(splat), 50 * 32);
    ck_assert_int_eq(lvc_splats_read_file(splat, &t, 0), 0);
    ck_assert_uint_eq(t.count, 50);
    ck_assert_int_eq(t.sh_degree, 0);
    lvc_splats_free(&t);
    ck_assert_int_eq(lvc_splats_read_file(splat, &t, 49), LVC_ERR_LIMIT);
    dir_list(list, sizeof(list));
    ck_assert_str_eq(list, "scene.ply scene.splat");

    /* overwriting replaces the file; a refused scene leaves the old one
     * whole and no temporary file */
    LvcSplats small;
    make_scene(&small, 3, 0, 10);
    ck_assert_int_eq(lvc_splats_write_file(ply, &small), 0);
    ck_assert_int_eq(lvc_splats_read_file(ply, &t, 0), 0);
    assert_same_scene(&small, &t);
    lvc_splats_free(&t);
    const long before = file_size(ply);
    small.position[4] = NAN;
    ck_assert_int_eq(lvc_splats_write_file(ply, &small), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(file_size(ply), before);
    char fresh[300];
    snprintf(fresh, sizeof(fresh), "%s/fresh.ply", tmp_dir);
    ck_assert_int_eq(lvc_splats_write_file(fresh, &small), LVC_ERR_INVALID_ARG);
    dir_list(list, sizeof(list));
    ck_assert_str_eq(list, "scene.ply scene.splat");
    lvc_splats_free(&small);

    /* a folder that does not exist, a path that is a folder */
    char nodir[300];
    snprintf(nodir, sizeof(nodir), "%s/missing/scene.ply", tmp_dir);
    ck_assert_int_eq(lvc_splats_write_file(nodir, &s), LVC_ERR_IO);
    ck_assert_int_eq(lvc_splats_write_file(tmp_dir, &s), LVC_ERR_IO);
    dir_list(list, sizeof(list));
    ck_assert_str_eq(list, "scene.ply scene.splat");
    ck_assert_int_eq(lvc_splats_read_file(nodir, &t, 0), LVC_ERR_IO);
    ck_assert_int_eq(lvc_splats_write_file(NULL, &s), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_splats_read_file(NULL, &t, 0), LVC_ERR_INVALID_ARG);

    /* the magic decides, with \r\n too, not the name */
    char crlf[300];
    snprintf(crlf, sizeof(crlf), "%s/crlf.splat", tmp_dir);
    Prop props[80];
    char names[45][24];
    const int n = gs_props(props, 1, names);
    const PlyOpts o = { .fmt = FMT_BE, .crlf = 1, .count = 3 };
    Buf b = make_ply(props, n, &o);
    FILE *f = fopen(crlf, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b.p, 1, b.n, f), b.n);
    fclose(f);
    free(b.p);
    ck_assert_int_eq(lvc_splats_read_file(crlf, &t, 0), 0);
    ck_assert_int_eq(t.sh_degree, 1);
    check_values(&t, props, n, 3);
    lvc_splats_free(&t);

    /* a file over 4 GiB is refused before it is read (sparse: no disk) */
    char huge[300];
    snprintf(huge, sizeof(huge), "%s/huge.splat", tmp_dir);
    const int fd = open(huge, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    const int sized = ftruncate(fd, ((off_t)4 << 30) + 32) == 0;
    close(fd);
    if (sized) {
        lvc_mem_reset_peak();
        const size_t mem0 = lvc_mem_in_use();
        ck_assert_int_eq(lvc_splats_read_file(huge, &t, 0), LVC_ERR_LIMIT);
        ck_assert_uint_le(lvc_mem_peak() - mem0, 1 << 20);
    }
    lvc_splats_free(&s);
    clean_tmp_dir();
}
END_TEST

TCase *lvc_test_splat_io_tcase(void)
{
    TCase *tc = tcase_create("splat_io");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_alloc_free);
    tcase_add_test(tc, test_ply_round_trip);
    tcase_add_test(tc, test_ply_written_layout);
    tcase_add_test(tc, test_ply_formats_odd_order);
    tcase_add_test(tc, test_ply_ascii_literal);
    tcase_add_test(tc, test_ply_sh_degrees);
    tcase_add_test(tc, test_ply_truncated);
    tcase_add_test(tc, test_ply_bad_headers);
    tcase_add_test(tc, test_ply_header_limits);
    tcase_add_test(tc, test_ply_limits);
    tcase_add_test(tc, test_ply_bad_values);
    tcase_add_test(tc, test_ply_args);
    tcase_add_test(tc, test_splat_read_literal);
    tcase_add_test(tc, test_splat_write_literal);
    tcase_add_test(tc, test_splat_round_trip);
    tcase_add_test(tc, test_files);
    return tc;
}
