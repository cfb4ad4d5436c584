/*
 * .lvcm loader: a valid file built here from doc/model-file.md (independent
 * of lvcm.py, which the parity fixtures exercise), every truncation, every
 * flipped byte, and hand-broken fields re-hashed so that only the structural
 * checks can catch them.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sha256.h"
#include "models/modelfile.h"

typedef struct T {
    const char *name;
    uint32_t dtype, ndim, shape[4];
    const void *data;
} T;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}
static size_t al(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}
static size_t esize(uint32_t dt)
{
    return dt == 1 || dt == 5 || dt == 8 ? 4 : dt == 2 || dt == 4 || dt == 7 ? 2 : 1;
}

/* Serialise (tensors must be sorted by name). */
static uint8_t *build(const T *t, int n, const char *meta, size_t *size)
{
    size_t ml = strlen(meta), table = al(64 + ml, 8), data = al(table + 128 * (size_t)n, 64);
    size_t pos = 0, total;
    uint8_t *b;
    for (int i = 0; i < n; i++) {
        size_t e = 1;
        for (uint32_t d = 0; d < t[i].ndim; d++)
            e *= t[i].shape[d];
        pos = al(pos + e * esize(t[i].dtype), 64);
    }
    total = data + pos + 32;
    b = calloc(1, total);
    memcpy(b, "LVCM\r\n\x1a\n", 8);
    put32(b + 8, 1);
    put32(b + 12, 64);
    put64(b + 16, total);
    put64(b + 24, 64);
    put64(b + 32, ml);
    put64(b + 40, table);
    put32(b + 48, (uint32_t)n);
    put64(b + 56, data);
    memcpy(b + 64, meta, ml);
    pos = 0;
    for (int i = 0; i < n; i++) {
        uint8_t *e = b + table + 128 * (size_t)i;
        size_t el = 1, nb;
        for (uint32_t d = 0; d < t[i].ndim; d++)
            el *= t[i].shape[d];
        nb = el * esize(t[i].dtype);
        memcpy(e, t[i].name, strlen(t[i].name));
        put32(e + 88, t[i].dtype);
        put32(e + 92, t[i].ndim);
        for (int d = 0; d < 4; d++)
            put32(e + 96 + 4 * d, t[i].shape[d]);
        put64(e + 112, pos);
        put64(e + 120, nb);
        memcpy(b + data + pos, t[i].data, nb);
        pos = al(pos + nb, 64);
    }
    lvc_sha256(b, total - 32, b + total - 32);
    *size = total;
    return b;
}

static void rehash(uint8_t *b, size_t size)
{
    lvc_sha256(b, size - 32, b + size - 32);
}

static const float w_f32[2][3] = { { 1, 2, 3 }, { -4, 5.5f, 1e-3f } };
static const uint16_t w_f16[5] = { 0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555 };  /* 1 -2 2^-24 inf 0.333 */
static const int8_t w_i8[2][2][3][3] = { { { { 1 } } } };
static const int32_t s_i32 = -7;
static const uint16_t w_u16[3] = { 1, 65535, 2 };

static const char meta_txt[] = "M=192\nN=128\narch=meanscale\nbig=-9223372036854775808\n"
                               "lr=1.5e-4\nname=caf\xc3\xa9\n";

static uint8_t *valid(size_t *size)
{
    static const T t[] = {
        { "a.weight", 1, 2, { 2, 3 }, w_f32 },
        { "b.f16", 2, 1, { 5 }, w_f16 },
        { "c.i8", 3, 4, { 2, 2, 3, 3 }, w_i8 },
        { "d.scalar", 5, 0, { 0 }, &s_i32 },
        { "e.u16", 7, 1, { 3 }, w_u16 },
    };
    return build(t, 5, meta_txt, size);
}

START_TEST(test_valid)
{
    size_t size;
    uint8_t *b = valid(&size), digest[32];
    LvcModelFile *mf = NULL;
    const LvcModelTensor *t;
    LvcModelTensor mt;
    const float *f;
    const void *p;
    const char *s;
    int64_t iv;
    double dv;
    int32_t sc;

    ck_assert_int_eq(lvc_modelfile_open_mem(b, size, &mf), 0);
    ck_assert_int_eq(lvc_modelfile_count(mf), 5);
    lvc_sha256(b, size - 32, digest);
    ck_assert(!memcmp(lvc_modelfile_hash(mf), digest, 32));
    t = lvc_modelfile_find(mf, "c.i8");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, LVC_MT_I8);
    ck_assert_int_eq(t->ndim, 4);
    ck_assert_uint_eq(t->nelems, 36);
    ck_assert_uint_eq(((uintptr_t)t->data - (uintptr_t)b) % 64, 0);
    ck_assert_ptr_null(lvc_modelfile_find(mf, "c.i9"));
    ck_assert_ptr_eq(lvc_modelfile_tensor_at(mf, 0), lvc_modelfile_find(mf, "a.weight"));
    ck_assert_ptr_null(lvc_modelfile_tensor_at(mf, 5));
    {
        int shape[2] = { 2, -1 }, bad[2] = { 3, 2 };
        ck_assert_int_eq(lvc_modelfile_get_f32(mf, "a.weight", 2, shape, &f), 0);
        ck_assert_float_eq(f[4], 5.5f);
        ck_assert_ptr_eq(f, lvc_modelfile_find(mf, "a.weight")->data);  /* in place */
        ck_assert_int_eq(lvc_modelfile_get_f32(mf, "a.weight", 2, bad, &f), LVC_ERR_MODEL_FILE);
        ck_assert_int_eq(lvc_modelfile_get_f32(mf, "a.weight", 3, NULL, &f), LVC_ERR_MODEL_FILE);
        ck_assert_int_eq(lvc_modelfile_get_f32(mf, "c.i8", 4, NULL, &f), LVC_ERR_MODEL_FILE);
        ck_assert_int_eq(lvc_modelfile_get(mf, "c.i8", LVC_MT_I16, 4, NULL, &p),
                         LVC_ERR_MODEL_FILE);
        ck_assert_int_eq(lvc_modelfile_get(mf, "c.i8", LVC_MT_I8, 4, NULL, &p), 0);
        ck_assert_int_eq(((const int8_t *)p)[0], 1);
    }
    ck_assert_int_eq(lvc_modelfile_get_f32(mf, "b.f16", 1, NULL, &f), 0);
    ck_assert_float_eq(f[0], 1.0f);
    ck_assert_float_eq(f[1], -2.0f);
    ck_assert_float_eq(f[2], ldexpf(1.0f, -24));
    ck_assert(isinf(f[3]));
    ck_assert_float_eq_tol(f[4], 0.333f, 1e-3f);
    ck_assert_int_eq(lvc_modelfile_tensor_f32(mf, "b.f16", &mt), 0);
    ck_assert_ptr_nonnull(mt.owned);
    ck_assert_float_eq(mt.f32[1], -2.0f);
    lvc_model_tensor_release(&mt);
    ck_assert_int_eq(lvc_modelfile_tensor_f32(mf, "a.weight", &mt), 0);
    ck_assert_ptr_null(mt.owned);
    ck_assert_float_eq(mt.f32[2], 3.0f);
    lvc_model_tensor_release(&mt);
    ck_assert_int_eq(lvc_modelfile_tensor(mf, "e.u16", LVC_MT_U16, &mt), 0);
    ck_assert_uint_eq(((const uint16_t *)mt.data)[1], 65535);
    ck_assert_int_eq(lvc_modelfile_tensor(mf, "e.u16", LVC_MT_I16, &mt), LVC_ERR_MODEL_FILE);
    ck_assert_int_eq(lvc_modelfile_scalar_i32(mf, "d.scalar", &sc), 0);
    ck_assert_int_eq(sc, -7);
    ck_assert_int_eq(lvc_modelfile_scalar_i32(mf, "e.u16", &sc), LVC_ERR_MODEL_FILE);

    ck_assert_int_eq(lvc_modelfile_meta_count(mf), 6);
    ck_assert_int_eq(lvc_modelfile_meta_int(mf, "N", &iv), 0);
    ck_assert_int_eq(iv, 128);
    ck_assert_int_eq(lvc_modelfile_meta_int(mf, "big", &iv), 0);
    ck_assert(iv == INT64_MIN);
    ck_assert_int_eq(lvc_modelfile_meta_int(mf, "arch", &iv), LVC_ERR_MODEL_FILE);
    ck_assert_int_eq(lvc_modelfile_meta_int(mf, "lr", &iv), LVC_ERR_MODEL_FILE);
    ck_assert_int_eq(lvc_modelfile_meta_float(mf, "lr", &dv), 0);
    ck_assert(dv == 1.5e-4);
    ck_assert_int_eq(lvc_modelfile_meta_str(mf, "name", &s), 0);
    ck_assert_str_eq(s, "caf\xc3\xa9");
    ck_assert_int_eq(lvc_modelfile_meta_str(mf, "nope", &s), LVC_ERR_MODEL_FILE);
    lvc_modelfile_close(&mf);
    ck_assert_ptr_null(mf);
    lvc_modelfile_close(&mf);

    /* Unaligned buffer: f32 data is converted, not used in place. */
    {
        uint8_t *u = malloc(size + 1);
        memcpy(u + 1, b, size);
        ck_assert_int_eq(lvc_modelfile_open_mem(u + 1, size, &mf), 0);
        ck_assert_int_eq(lvc_modelfile_get_f32(mf, "a.weight", 2, NULL, &f), 0);
        ck_assert_uint_eq((uintptr_t)f % 4, 0);
        ck_assert_float_eq(f[5], 1e-3f);
        lvc_modelfile_close(&mf);
        free(u);
    }
    free(b);
}
END_TEST

START_TEST(test_empty_file)
{
    size_t size;
    uint8_t *b = build(NULL, 0, "", &size);
    LvcModelFile *mf = NULL;
    ck_assert_uint_eq(size, 96);
    ck_assert_int_eq(lvc_modelfile_open_mem(b, size, &mf), 0);
    ck_assert_int_eq(lvc_modelfile_count(mf), 0);
    ck_assert_int_eq(lvc_modelfile_meta_count(mf), 0);
    lvc_modelfile_close(&mf);
    free(b);
}
END_TEST

START_TEST(test_truncations)
{
    size_t size;
    uint8_t *b = valid(&size);
    LvcModelFile *mf = NULL;
    for (size_t n = 0; n < size; n++) {
        /* A copy of exactly n bytes, so a read past it would be caught by
         * ASan/valgrind. */
        uint8_t *c = malloc(n ? n : 1);
        memcpy(c, b, n);
        ck_assert_int_eq(lvc_modelfile_open_mem(c, n, &mf), LVC_ERR_TRUNCATED);
        ck_assert_ptr_null(mf);
        free(c);
    }
    free(b);
}
END_TEST

START_TEST(test_flipped_bytes)
{
    size_t size;
    uint8_t *b = valid(&size);
    LvcModelFile *mf = NULL;
    for (size_t i = 0; i < size; i++)
        for (int bit = 0; bit < 8; bit += 7) {
            int ret;
            b[i] ^= (uint8_t)(1 << bit);
            ret = lvc_modelfile_open_mem(b, size, &mf);
            b[i] ^= (uint8_t)(1 << bit);
            ck_assert_ptr_null(mf);
            if (i < 8)
                ck_assert_int_eq(ret, LVC_ERR_BAD_MAGIC);
            else if (i < 12)
                ck_assert_int_eq(ret, LVC_ERR_VERSION);
            else if (i >= 16 && i < 24)    /* file size field */
                ck_assert(ret == LVC_ERR_TRUNCATED || ret == LVC_ERR_MODEL_FILE);
            else
                ck_assert_int_eq(ret, LVC_ERR_CRC);
        }
    /* Trailing bytes. */
    {
        uint8_t *c = calloc(1, size + 1);
        memcpy(c, b, size);
        ck_assert_int_eq(lvc_modelfile_open_mem(c, size + 1, &mf), LVC_ERR_MODEL_FILE);
        free(c);
    }
    free(b);
}
END_TEST

/* Break one field, fix the hash, expect LVC_ERR_MODEL_FILE. */
static void expect_bad(size_t off, uint64_t v, int width)
{
    size_t size;
    uint8_t *b = valid(&size);
    LvcModelFile *mf = NULL;
    if (width == 8)
        put64(b + off, v);
    else if (width == 4)
        put32(b + off, (uint32_t)v);
    else
        b[off] = (uint8_t)v;
    rehash(b, size);
    ck_assert_msg(lvc_modelfile_open_mem(b, size, &mf) == LVC_ERR_MODEL_FILE,
                  "field at %zu = %llu accepted", off, (unsigned long long)v);
    ck_assert_ptr_null(mf);
    free(b);
}

START_TEST(test_bad_fields)
{
    const size_t ml = strlen(meta_txt), table = al(64 + ml, 8);
    const size_t e0 = table, e1 = table + 128, e3 = table + 384;
    expect_bad(12, 65, 4);                     /* header size */
    expect_bad(52, 1, 4);                      /* flags */
    expect_bad(24, 72, 8);                     /* meta offset */
    expect_bad(32, ml - 1, 8);                 /* meta size */
    expect_bad(40, table + 8, 8);              /* table offset */
    expect_bad(48, 6, 4);                      /* tensor count */
    expect_bad(48, 1u << 20, 4);
    expect_bad(56, 0, 8);                      /* data offset */
    expect_bad(e0 + 88, 0, 4);                 /* dtype 0 */
    expect_bad(e0 + 88, 9, 4);                 /* dtype 9 */
    expect_bad(e1 + 88, 1, 4);                 /* f16 -> f32: size mismatch */
    expect_bad(e0 + 92, 5, 4);                 /* ndim 5 */
    expect_bad(e0 + 92, 1, 4);                 /* ndim 1 but shape[1] set */
    expect_bad(e0 + 96, 0, 4);                 /* zero dim */
    expect_bad(e0 + 96, 3, 4);                 /* shape != nbytes */
    expect_bad(e0 + 100, 0xffffffffu, 4);      /* huge dim */
    expect_bad(e3 + 96, 1, 4);                 /* dim beyond ndim (scalar) */
    expect_bad(e1 + 112, 0, 8);                /* offset overlaps tensor 0 */
    expect_bad(e1 + 112, 65, 8);               /* misaligned offset */
    expect_bad(e1 + 112, 128, 8);              /* gap */
    expect_bad(e3 + 112, 1ull << 40, 8);       /* past the end */
    expect_bad(e0 + 120, 28, 8);               /* nbytes mismatch */
    expect_bad(e0, 0, 1);                      /* empty name */
    expect_bad(e1, 'a', 1);                    /* "a.f16" < "a.weight": unsorted */
    expect_bad(e1, '.', 1);                    /* "..f16" sorts before "a.weight" */
    expect_bad(e0 + 9, 'x', 1);                /* junk after the name's NUL */
    expect_bad(e0 + 87, 'x', 1);
    expect_bad(64, '=', 1);                    /* empty key: "==192" */
    expect_bad(64, ' ', 1);                    /* bad key character */
    expect_bad(64 + ml - 1, 'x', 1);           /* metadata not ending in newline */
    expect_bad(64 + ml - 2, 0xff, 1);          /* invalid UTF-8 */
    expect_bad(64 + 6, 'A', 1);                /* "M=..." then "A=...": keys unsorted */
}
END_TEST

/* Random corruption of the structure with a valid hash: open either
 * succeeds (then every tensor lies inside the buffer) or fails cleanly.
 * Run under ASan/valgrind to catch out-of-bounds reads. */
START_TEST(test_random_mutations)
{
    size_t size;
    uint8_t *b = valid(&size), *c = malloc(size);
    uint32_t r = 7;
    for (int it = 0; it < 3000; it++) {
        LvcModelFile *mf = NULL;
        int nmut = 1 + it % 4, ret;
        memcpy(c, b, size);
        for (int m = 0; m < nmut; m++) {
            r = r * 1664525u + 1013904223u;
            c[12 + (r >> 8) % (size - 44)] = (uint8_t)(r >> 24);
        }
        rehash(c, size);
        ret = lvc_modelfile_open_mem(c, size, &mf);
        if (ret == 0) {
            for (int i = 0; i < lvc_modelfile_count(mf); i++) {
                const LvcModelTensor *t = lvc_modelfile_tensor_at(mf, i);
                ck_assert((const uint8_t *)t->data >= c &&
                          (const uint8_t *)t->data + t->nbytes <= c + size - 32);
            }
            lvc_modelfile_close(&mf);
        } else {
            ck_assert(ret == LVC_ERR_MODEL_FILE || ret == LVC_ERR_TRUNCATED ||
                      ret == LVC_ERR_NOMEM);
            ck_assert_ptr_null(mf);
        }
    }
    free(b);
    free(c);
}
END_TEST

START_TEST(test_open_path)
{
    size_t size;
    uint8_t *b = valid(&size);
    char path[] = "/tmp/lvc_modelfile_XXXXXX";
    int fd = mkstemp(path);
    LvcModelFile *mf = NULL;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((int)write(fd, b, size), (int)size);
    close(fd);
    ck_assert_int_eq(lvc_modelfile_open_path(path, &mf), 0);
    ck_assert_int_eq(lvc_modelfile_count(mf), 5);
    lvc_modelfile_close(&mf);
    /* truncated on disk */
    ck_assert_int_eq(truncate(path, (off_t)size - 1), 0);
    ck_assert_int_eq(lvc_modelfile_open_path(path, &mf), LVC_ERR_TRUNCATED);
    ck_assert_int_eq(truncate(path, 0), 0);
    ck_assert_int_eq(lvc_modelfile_open_path(path, &mf), LVC_ERR_TRUNCATED);
    unlink(path);
    ck_assert_int_eq(lvc_modelfile_open_path(path, &mf), LVC_ERR_IO);
    ck_assert_int_eq(lvc_modelfile_open_path("/tmp", &mf), LVC_ERR_IO);
    ck_assert_ptr_null(mf);
    ck_assert_int_eq(lvc_modelfile_open_mem(NULL, 5, &mf), LVC_ERR_INVALID_ARG);
    free(b);
}
END_TEST

START_TEST(test_f16)
{
    ck_assert_float_eq(lvc_f16_to_f32(0x0000), 0.0f);
    ck_assert(signbit(lvc_f16_to_f32(0x8000)));
    ck_assert_float_eq(lvc_f16_to_f32(0x7bff), 65504.0f);
    ck_assert_float_eq(lvc_f16_to_f32(0x0400), ldexpf(1.0f, -14));
    ck_assert_float_eq(lvc_f16_to_f32(0x03ff), ldexpf(1023.0f, -24));
    ck_assert(isnan(lvc_f16_to_f32(0x7e00)));
    ck_assert(isinf(lvc_f16_to_f32(0xfc00)) && lvc_f16_to_f32(0xfc00) < 0);
}
END_TEST

/* I8 tensors with per-output-channel scales (doc/model-file.md): read as
 * floats q * scale[o]; a missing, mis-shaped, non-f32 or non-finite
 * scale tensor makes the float read fail. */
START_TEST(test_quantized_float)
{
    static const int8_t q[2][3] = { { 127, -1, 0 }, { -127, 64, 3 } };
    static const float sc_ok[2] = { 0.5f, 0.03125f };
    static const float sc_three[3] = { 1, 1, 1 };
    static const uint16_t sc_f16[2] = { 0x3c00, 0x3c00 };
    const float sc_inf[2] = { 1.0f, INFINITY };
    struct {
        const char *what;
        T scale;
        int ok;
    } cases[] = {
        { "per-channel scales", { "w.qscale", 1, 1, { 2 }, sc_ok }, 1 },
        { "scales of the wrong length", { "w.qscale", 1, 1, { 3 }, sc_three }, 0 },
        { "f16 scales", { "w.qscale", 2, 1, { 2 }, sc_f16 }, 0 },
        { "a non-finite scale", { "w.qscale", 1, 1, { 2 }, sc_inf }, 0 },
        { "no scales", { "w.zzz", 1, 1, { 2 }, sc_ok }, 0 },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const T t[] = { { "w", 3, 2, { 2, 3 }, q }, cases[k].scale };
        size_t size;
        uint8_t *b = build(t, 2, "arch=x\n", &size);
        LvcModelFile *mf = NULL;
        ck_assert_int_eq(lvc_modelfile_open_mem(b, size, &mf), 0);
        LvcModelTensor mt;
        const float *f = NULL;
        const int shape[2] = { 2, 3 };
        const int r1 = lvc_modelfile_tensor_f32(mf, "w", &mt);
        const int r2 = lvc_modelfile_get_f32(mf, "w", 2, shape, &f);
        if (cases[k].ok) {
            ck_assert_int_eq(r1, 0);
            ck_assert_int_eq(r2, 0);
            for (int i = 0; i < 6; i++) {
                const float want = (float)q[i / 3][i % 3] * sc_ok[i / 3];
                ck_assert_msg(mt.f32[i] == want && f[i] == want, "%s: element %d: %g, %g, want %g",
                              cases[k].what, i, mt.f32[i], f[i], want);
            }
        } else {
            ck_assert_msg(r1 == LVC_ERR_MODEL_FILE && r2 == LVC_ERR_MODEL_FILE,
                          "%s accepted (%d, %d)", cases[k].what, r1, r2);
        }
        lvc_model_tensor_release(&mt);
        lvc_modelfile_close(&mf);
        free(b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("modelfile");
    TCase *tc = tcase_create("lvcm");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_valid);
    tcase_add_test(tc, test_empty_file);
    tcase_add_test(tc, test_truncations);
    tcase_add_test(tc, test_flipped_bytes);
    tcase_add_test(tc, test_bad_fields);
    tcase_add_test(tc, test_random_mutations);
    tcase_add_test(tc, test_open_path);
    tcase_add_test(tc, test_f16);
    tcase_add_test(tc, test_quantized_float);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
