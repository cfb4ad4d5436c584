/*
 * Unit tests for common/: hashes against known-answer vectors, allocation
 * checks and fault injection, arena, thread pool, byte reader/writer.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/bits.h"
#include "common/cpu.h"
#include "common/crc32.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "common/thread.h"

/* ------------------------------------------------------------ crc32 */

START_TEST(test_crc32_vectors)
{
    ck_assert_uint_eq(lvc_crc32(0, "", 0), 0);
    ck_assert_uint_eq(lvc_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(lvc_crc32(0, "The quick brown fox jumps over the lazy dog", 43),
                      0x414FA339u);
    /* "IEND" chunk CRC of every PNG file. */
    ck_assert_uint_eq(lvc_crc32(0, "IEND", 4), 0xAE426082u);
}
END_TEST

START_TEST(test_crc32_incremental)
{
    /* Every split point and misalignment gives the one-shot value. */
    uint8_t buf[301];
    for (int i = 0; i < 301; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    for (int off = 0; off < 8; off++) {
        uint32_t whole = lvc_crc32(0, buf + off, 250);
        for (int cut = 0; cut <= 250; cut += 7) {
            uint32_t c = lvc_crc32(0, buf + off, (size_t)cut);
            c = lvc_crc32(c, buf + off + cut, (size_t)(250 - cut));
            ck_assert_uint_eq(c, whole);
        }
    }
    /* Bitwise reference for the slicing path. */
    uint32_t ref = 0xFFFFFFFFu;
    for (int i = 0; i < 301; i++) {
        ref ^= buf[i];
        for (int k = 0; k < 8; k++)
            ref = (ref >> 1) ^ (0xEDB88320u & (0u - (ref & 1)));
    }
    ck_assert_uint_eq(lvc_crc32(0, buf, 301), ~ref);
}
END_TEST

/* ------------------------------------------------------------ sha256 */

static void check_sha(const uint8_t *d, size_t n, const char *hex)
{
    uint8_t out[32];
    char s[65];
    lvc_sha256(d, n, out);
    lvc_hex_encode(out, 32, s);
    ck_assert_str_eq(s, hex);
}

START_TEST(test_sha256_vectors)
{
    check_sha((const uint8_t *)"", 0,
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha((const uint8_t *)"abc", 3,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha((const uint8_t *)"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* One million 'a', fed in uneven pieces through the incremental API. */
    static uint8_t a[1000];
    memset(a, 'a', sizeof(a));
    LvcSha256 s;
    lvc_sha256_init(&s);
    size_t left = 1000000, step = 1;
    while (left) {
        size_t n = step < left ? step : left;
        n = n > sizeof(a) ? sizeof(a) : n;
        lvc_sha256_update(&s, a, n);
        left -= n;
        step = step * 3 % 997 + 1;
    }
    uint8_t out[32];
    char hex[65];
    lvc_sha256_final(&s, out);
    lvc_hex_encode(out, 32, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(test_hex_decode)
{
    uint8_t out[4];
    ck_assert_int_eq(lvc_hex_decode("00fFa5", out, 3), 0);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 0xff);
    ck_assert_uint_eq(out[2], 0xa5);
    ck_assert_int_eq(lvc_hex_decode("00f", out, 2), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_hex_decode("00ff1", out, 2), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvc_hex_decode("0g", out, 1), LVC_ERR_INVALID_ARG);
}
END_TEST

/* ------------------------------------------------------------ memory */

START_TEST(test_alloc_overflow)
{
    ck_assert_ptr_null(lvc_malloc_array(SIZE_MAX / 2 + 1, 2));
    ck_assert_ptr_null(lvc_calloc(SIZE_MAX / 8, 16));
    ck_assert_ptr_null(lvc_malloc(SIZE_MAX));
    ck_assert_ptr_null(lvc_malloc(SIZE_MAX - 8));
    ck_assert_ptr_null(lvc_aligned_malloc(SIZE_MAX - 100, 64));
    ck_assert_ptr_null(lvc_aligned_malloc(16, 48)); /* not a power of two */
    size_t r;
    ck_assert_int_eq(lvc_mul_size(SIZE_MAX, 2, &r), -1);
    ck_assert_int_eq(lvc_mul_size(SIZE_MAX, 1, &r), 0);
    ck_assert_uint_eq(r, SIZE_MAX);
    uint32_t *p = lvc_calloc(1000, sizeof(*p));
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(p[i], 0);
    lvc_free(p);
    lvc_free(NULL);
}
END_TEST

START_TEST(test_alloc_limit)
{
    size_t base = lvc_mem_in_use();
    lvc_mem_set_limit(base + 100000);
    void *a = lvc_malloc(60000);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_ge(lvc_mem_in_use(), base + 60000);
    ck_assert_ptr_null(lvc_malloc(60000));
    void *b = lvc_realloc(a, 200000);
    ck_assert_ptr_null(b); /* a is untouched */
    lvc_free(a);
    ck_assert_uint_eq(lvc_mem_in_use(), base);
    a = lvc_malloc(60000);
    ck_assert_ptr_nonnull(a);
    lvc_free(a);
    lvc_mem_set_limit(0);
    ck_assert_uint_eq(lvc_mem_in_use(), base);
}
END_TEST

/* Blocks of 2 MiB and more are mapped on their own (huge pages where
 * granted): alignment, contents through realloc in and out of that size,
 * accounting and the cap behave as for small blocks. */
START_TEST(test_alloc_big_blocks)
{
    const size_t base = lvc_mem_in_use();
    const size_t big = (size_t)3 << 20;
    uint8_t *p = lvc_aligned_malloc(big, 64);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    ck_assert_uint_ge(lvc_mem_in_use(), base + big);
    ck_assert_uint_le(lvc_mem_in_use(), base + big + 8192);   /* padding is not charged */
    for (size_t i = 0; i < big; i++)
        p[i] = (uint8_t)(i * 31 + 7);
    lvc_free(p);
    ck_assert_uint_eq(lvc_mem_in_use(), base);

    uint8_t *q = lvc_malloc(1000);
    ck_assert_ptr_nonnull(q);
    for (int i = 0; i < 1000; i++)
        q[i] = (uint8_t)i;
    q = lvc_realloc(q, big);                                  /* small -> big */
    ck_assert_ptr_nonnull(q);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(q[i], (uint8_t)i);
    memset(q + 1000, 0xab, big - 1000);
    q = lvc_realloc(q, 2 * big);                              /* big -> bigger */
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(q[999], (uint8_t)999);
    ck_assert_uint_eq(q[big - 1], 0xab);
    q = lvc_realloc(q, 500);                                  /* big -> small */
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(q[499], (uint8_t)499);
    lvc_free(q);
    ck_assert_uint_eq(lvc_mem_in_use(), base);

    lvc_mem_set_limit(base + big);
    ck_assert_ptr_null(lvc_malloc(big));                      /* the header does not fit */
    ck_assert_uint_eq(lvc_mem_in_use(), base);
    lvc_mem_set_limit(0);
    lvc_mem_fail_after(0);
    ck_assert_ptr_null(lvc_malloc(big));
    ck_assert_uint_eq(lvc_mem_in_use(), base);
}
END_TEST

START_TEST(test_alloc_fail_injection)
{
    lvc_mem_fail_after(0);
    ck_assert_ptr_null(lvc_malloc(10));
    void *p = lvc_malloc(10); /* one-shot: disarmed again */
    ck_assert_ptr_nonnull(p);
    lvc_free(p);

    lvc_mem_fail_after(2);
    void *a = lvc_malloc(1), *b = lvc_calloc(2, 2), *c = lvc_aligned_malloc(8, 256);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(c);
    lvc_free(a);
    lvc_free(b);

    /* The writer (plain malloc) honours injection too. */
    LvcByteWriter w;
    lvc_bw_init(&w);
    lvc_mem_fail_after(0);
    lvc_bw_u32le(&w, 1);
    ck_assert_int_eq(w.err, LVC_ERR_NOMEM);
    lvc_bw_free(&w);

    /* Pool creation: every failure point returns NOMEM and leaks nothing. */
    size_t base = lvc_mem_in_use();
    for (long n = 0;; n++) {
        LvcPool *pool;
        lvc_mem_fail_after(n);
        int ret = lvc_pool_create(&pool, 3);
        lvc_mem_fail_after(-1);
        if (ret == 0) {
            lvc_pool_destroy(&pool);
            break;
        }
        ck_assert_int_eq(ret, LVC_ERR_NOMEM);
        ck_assert_ptr_null(pool);
        ck_assert_uint_eq(lvc_mem_in_use(), base);
    }
    ck_assert_uint_eq(lvc_mem_in_use(), base);
}
END_TEST

START_TEST(test_aligned_and_realloc)
{
    for (size_t align = 1; align <= 8192; align *= 2) {
        uint8_t *p = lvc_aligned_malloc(100, align);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % align, 0);
        memset(p, 0xab, 100);
        lvc_aligned_free(p);
    }
    uint8_t *p = lvc_malloc(10);
    for (int i = 0; i < 10; i++)
        p[i] = (uint8_t)i;
    p = lvc_realloc(p, 100000);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(p[i], i);
    lvc_freep(&p);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_arena)
{
    LvcArena a;
    ck_assert_int_eq(lvc_arena_init(&a, 10000), 0);
    ck_assert_uint_eq((uintptr_t)a.base % 64, 0);
    uint8_t *x = lvc_arena_alloc(&a, 3, 1);
    ck_assert_ptr_nonnull(x);
    for (size_t al = 1; al <= 4096; al *= 2) {
        size_t mark = lvc_arena_mark(&a);
        uint8_t *p = lvc_arena_alloc(&a, 5, al);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % al, 0);
        ck_assert(p >= x + 3);
        lvc_arena_release(&a, mark);
    }
    ck_assert_ptr_null(lvc_arena_alloc(&a, 16, 3));
    ck_assert_ptr_null(lvc_arena_alloc(&a, 10000, 1));
    ck_assert_ptr_null(lvc_arena_alloc(&a, SIZE_MAX, 1));
    ck_assert_uint_eq(a.used, 3);
    ck_assert_uint_ge(a.peak, 3 + 5);
    lvc_arena_reset(&a);
    ck_assert_ptr_eq(lvc_arena_alloc(&a, 10000, 64), a.base);
    ck_assert_ptr_null(lvc_arena_alloc(&a, 1, 1));
    ck_assert_uint_eq(lvc_arena_need(3, 5, 16), 21);
    ck_assert_uint_eq(lvc_arena_need(SIZE_MAX - 3, 5, 16), SIZE_MAX);
    lvc_arena_free(&a);
    lvc_arena_free(&a);
    ck_assert_ptr_null(lvc_arena_alloc(&a, 1, 1));
}
END_TEST

/* ------------------------------------------------------------ threads */

typedef struct PoolTest {
    atomic_int *count;
    atomic_int bad_thread;
    int nthreads;
    LvcPool *pool;
} PoolTest;

static void count_job(void *arg, int job, int thread)
{
    PoolTest *t = arg;
    atomic_fetch_add(&t->count[job], 1);
    if (thread < 0 || thread >= t->nthreads)
        atomic_store(&t->bad_thread, 1);
}

static void nested_job(void *arg, int job, int thread)
{
    PoolTest *t = arg;
    (void)thread;
    /* A nested run on the same pool must run inline, not deadlock. */
    PoolTest inner = *t;
    lvc_pool_run(t->pool, 1, count_job, &inner);
    (void)job;
}

START_TEST(test_pool)
{
    enum { NJOBS = 1000 };
    static atomic_int count[NJOBS];
    const int tcs[] = { 0, 1, 2, 3, 4, 8, 17 };
    for (size_t k = 0; k < sizeof(tcs) / sizeof(tcs[0]); k++) {
        LvcPool *pool;
        ck_assert_int_eq(lvc_pool_create(&pool, tcs[k]), 0);
        PoolTest t = { count, 0, lvc_pool_threads(pool), pool };
        ck_assert_int_eq(t.nthreads, tcs[k] < 1 ? 1 : tcs[k]);
        for (int rep = 0; rep < 20; rep++) {
            int njobs = (rep * 97) % NJOBS + (rep == 0 ? 0 : 1);
            for (int j = 0; j < NJOBS; j++)
                atomic_store(&count[j], 0);
            ck_assert_int_eq(lvc_pool_run(pool, njobs, count_job, &t), 0);
            for (int j = 0; j < NJOBS; j++)
                ck_assert_int_eq(atomic_load(&count[j]), j < njobs ? 1 : 0);
        }
        ck_assert_int_eq(atomic_load(&t.bad_thread), 0);
        for (int j = 0; j < NJOBS; j++)
            atomic_store(&count[j], 0);
        ck_assert_int_eq(lvc_pool_run(pool, 50, nested_job, &t), 0);
        ck_assert_int_eq(atomic_load(&count[0]), 50);
        ck_assert_int_eq(lvc_pool_run(pool, -1, count_job, &t), LVC_ERR_INVALID_ARG);
        lvc_pool_destroy(&pool);
        ck_assert_ptr_null(pool);
    }
    PoolTest t = { count, 0, 1, NULL };
    for (int j = 0; j < 5; j++)
        atomic_store(&count[j], 0);
    ck_assert_int_eq(lvc_pool_run(NULL, 5, count_job, &t), 0);
    ck_assert_int_eq(atomic_load(&count[4]), 1);
    ck_assert_int_ge(lvc_cpu_count(), 1);
}
END_TEST

/* ------------------------------------------------------------ bytes */

START_TEST(test_byte_reader_bounds)
{
    uint8_t buf[16];
    for (int i = 0; i < 16; i++)
        buf[i] = (uint8_t)(0x10 + i);
    /* Every read type from every position of every length: no read may go
     * past the end (ASan checks the memory side), and err must be set
     * exactly when the read did not fit. */
    for (size_t size = 0; size <= 16; size++) {
        uint8_t *exact = malloc(size ? size : 1);
        memcpy(exact, buf, size);
        for (int kind = 0; kind < 6; kind++) {
            LvcByteReader r;
            lvc_br_init(&r, exact, size);
            size_t need = kind == 0 ? 1 : kind == 1 ? 2 : kind == 2 ? 4 : kind == 3 ? 8 : 3;
            size_t ok_reads = size / need;
            size_t reads = kind == 5 ? size + 1 : ok_reads + 2;
            for (size_t i = 0; i < reads; i++) {
                uint64_t v = 0;
                uint8_t tmp[3];
                switch (kind) {
                case 0: v = lvc_br_u8(&r); break;
                case 1: v = lvc_br_u16le(&r); break;
                case 2: v = lvc_br_u32le(&r); break;
                case 3: v = lvc_br_u64le(&r); break;
                case 4: lvc_br_bytes(&r, tmp, 3); v = tmp[0]; break;
                case 5: v = lvc_br_varint(&r); break;
                }
                if (kind < 5 && i < ok_reads) {
                    ck_assert_int_eq(r.err, 0);
                    ck_assert_uint_eq(v & 0xff, 0x10 + i * need);
                } else if (kind < 5) {
                    ck_assert_int_eq(r.err, LVC_ERR_TRUNCATED);
                    ck_assert_uint_eq(v, 0);
                }
                ck_assert(r.p <= r.end);
            }
            if (kind == 5) /* bytes 0x10.. have no continuation bit */
                ck_assert_int_eq(r.err, LVC_ERR_TRUNCATED);
        }
        free(exact);
    }
    LvcByteReader r;
    lvc_br_init(&r, buf, 16);
    ck_assert_uint_eq(lvc_br_u32le(&r), 0x13121110u);
    ck_assert_uint_eq(lvc_br_u16le(&r), 0x1514u);
    ck_assert_uint_eq(lvc_br_u64le(&r), 0x1d1c1b1a19181716ull);
    ck_assert_ptr_null(lvc_br_ptr(&r, 3));
    ck_assert_int_eq(r.err, LVC_ERR_TRUNCATED);
    ck_assert_uint_eq(lvc_br_left(&r), 0);
}
END_TEST

START_TEST(test_varint)
{
    const uint64_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX,
                              (uint64_t)1 << 56, UINT64_MAX - 1, UINT64_MAX };
    LvcByteWriter w;
    lvc_bw_init(&w);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        lvc_bw_varint(&w, vals[i]);
        lvc_bw_svarint(&w, -(int64_t)(vals[i] >> 1) - 1);
    }
    lvc_bw_svarint(&w, INT64_MIN);
    lvc_bw_svarint(&w, INT64_MAX);
    ck_assert_int_eq(w.err, 0);
    LvcByteReader r;
    lvc_br_init(&r, w.buf, w.size);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        ck_assert_uint_eq(lvc_br_varint(&r), vals[i]);
        ck_assert_int_eq(lvc_br_svarint(&r), -(int64_t)(vals[i] >> 1) - 1);
    }
    ck_assert_int_eq(lvc_br_svarint(&r), INT64_MIN);
    ck_assert_int_eq(lvc_br_svarint(&r), INT64_MAX);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(lvc_br_left(&r), 0);
    lvc_bw_free(&w);

    /* 2^64 (10th byte payload 2) and 11-byte encodings are corrupt. */
    const uint8_t over[10] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02 };
    lvc_br_init(&r, over, sizeof(over));
    ck_assert_uint_eq(lvc_br_varint(&r), 0);
    ck_assert_int_eq(r.err, LVC_ERR_CORRUPT);
    const uint8_t longer[11] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0 };
    lvc_br_init(&r, longer, sizeof(longer));
    lvc_br_varint(&r);
    ck_assert_int_eq(r.err, LVC_ERR_CORRUPT);
    const uint8_t cut[2] = { 0xff, 0xff };
    lvc_br_init(&r, cut, sizeof(cut));
    lvc_br_varint(&r);
    ck_assert_int_eq(r.err, LVC_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_byte_writer)
{
    LvcByteWriter w;
    lvc_bw_init(&w);
    for (int i = 0; i < 100000; i++)
        lvc_bw_u32le(&w, (uint32_t)i * 2654435761u);
    lvc_bw_u8(&w, 7);
    lvc_bw_u16le(&w, 0xbeef);
    lvc_bw_u64le(&w, 0x0123456789abcdefull);
    lvc_bw_patch_u32le(&w, 4, 0xdeadbeef);
    ck_assert_int_eq(w.err, 0);
    uint8_t *out;
    size_t size;
    ck_assert_int_eq(lvc_bw_detach(&w, &out, &size), 0);
    ck_assert_uint_eq(size, 400000 + 1 + 2 + 8);
    ck_assert_uint_eq(lvc_rl32(out + 4), 0xdeadbeef);
    ck_assert_uint_eq(lvc_rl32(out + 8), 2u * 2654435761u);
    ck_assert_uint_eq(out[400000], 7);
    ck_assert_uint_eq(lvc_rl16(out + 400001), 0xbeef);
    ck_assert_uint_eq(lvc_rl64(out + 400003), 0x0123456789abcdefull);
    free(out); /* detached buffers are plain malloc memory */

    uint8_t fixed[10];
    memset(fixed, 0x55, sizeof(fixed));
    lvc_bw_init_fixed(&w, fixed, 6);
    lvc_bw_u32le(&w, 0x11223344);
    lvc_bw_u32le(&w, 0x55667788); /* does not fit: dropped, sticky error */
    lvc_bw_u8(&w, 1);
    ck_assert_int_eq(w.err, LVC_ERR_BUFFER_FULL);
    ck_assert_uint_eq(w.size, 4);
    ck_assert_uint_eq(fixed[4], 0x55);
    lvc_bw_patch_u32le(&w, 1, 0); /* no-op once in error */
    ck_assert_uint_eq(lvc_rl32(fixed), 0x11223344);

    lvc_bw_init(&w);
    w.max = 1000;
    for (int i = 0; i < 300; i++)
        lvc_bw_u32le(&w, 1);
    ck_assert_int_eq(w.err, LVC_ERR_LIMIT);
    ck_assert_uint_eq(w.size, 1000);
    ck_assert_int_eq(lvc_bw_detach(&w, &out, &size), LVC_ERR_LIMIT);
    ck_assert_ptr_null(out);

    lvc_bw_init(&w);
    ck_assert_int_eq(lvc_bw_detach(&w, &out, &size), 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(size, 0);
    free(out);
}
END_TEST

/* ------------------------------------------------------------ misc */

START_TEST(test_error_version_cpu)
{
    for (int e = 0; e >= -20; e--) {
        const char *s = lvc_error_string(e);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_ne(s, "unknown error");
    }
    ck_assert_str_eq(lvc_error_string(-1000), "unknown error");
    ck_assert_str_eq(lvc_version(), LVC_VERSION_STRING);
    ck_assert_uint_eq(lvc_version_int(), (LVC_VERSION_MAJOR << 16) |
                      (LVC_VERSION_MINOR << 8) | LVC_VERSION_PATCH);

    unsigned m;
    ck_assert_int_eq(lvc_cpu_mask_from_name("avx2", &m), 0);
    ck_assert_uint_eq(m & LVC_CPU_AVX512F, 0);
    ck_assert_uint_ne(m & LVC_CPU_SSE2, 0);
    ck_assert_int_eq(lvc_cpu_mask_from_name("bogus", &m), LVC_ERR_INVALID_ARG);
    unsigned det = lvc_cpu_flags_detected();
#if defined(__x86_64__)
    ck_assert_uint_ne(det & LVC_CPU_SSE2, 0);
#endif
    lvc_cpu_set_mask(LVC_CPU_SSE2);
    ck_assert_uint_eq(lvc_cpu_flags(), det & LVC_CPU_SSE2);
    lvc_cpu_set_mask(0);
    ck_assert_uint_eq(lvc_cpu_flags(), 0);
    lvc_cpu_set_mask(LVC_CPU_ALL);
    ck_assert_uint_eq(lvc_cpu_flags(), det);
    char buf[64];
    lvc_cpu_flags_string(LVC_CPU_SSE2 | LVC_CPU_AVX2, buf, sizeof(buf));
    ck_assert_str_eq(buf, "sse2 avx2");
    lvc_cpu_flags_string(LVC_CPU_ALL, buf, 8); /* truncation stays in bounds */
}
END_TEST

static int log_calls;
static void log_cb(void *opaque, int level, const char *msg)
{
    (void)opaque;
    (void)level;
    ck_assert_str_eq(msg, "x=42");
    log_calls++;
}

START_TEST(test_log)
{
    lvc_log_set_callback(log_cb, NULL);
    lvc_log_set_level(LVC_LOG_INFO);
    lvc_log(LVC_LOG_INFO, "x=%d", 42);
    lvc_log(LVC_LOG_DEBUG, "x=%d", 43);
    lvc_log_set_level(LVC_LOG_QUIET);
    lvc_log(LVC_LOG_ERROR, "x=%d", 44);
    ck_assert_int_eq(log_calls, 1);
    lvc_log_set_callback(NULL, NULL);
    lvc_log_set_level(LVC_LOG_WARNING);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_crc32_vectors);
    tcase_add_test(tc, test_crc32_incremental);
    tcase_add_test(tc, test_sha256_vectors);
    tcase_add_test(tc, test_hex_decode);
    tcase_add_test(tc, test_alloc_overflow);
    tcase_add_test(tc, test_alloc_limit);
    tcase_add_test(tc, test_alloc_fail_injection);
    tcase_add_test(tc, test_alloc_big_blocks);
    tcase_add_test(tc, test_aligned_and_realloc);
    tcase_add_test(tc, test_arena);
    tcase_add_test(tc, test_pool);
    tcase_add_test(tc, test_byte_reader_bounds);
    tcase_add_test(tc, test_varint);
    tcase_add_test(tc, test_byte_writer);
    tcase_add_test(tc, test_error_version_cpu);
    tcase_add_test(tc, test_log);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
