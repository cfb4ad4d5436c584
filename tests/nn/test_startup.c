/*
 * Start-up cost paths: the model-file loader without hash verification
 * (LVC_MODELFILE_NO_VERIFY) and with immutable buffers verified once per
 * process (lvc_modelfile_add_static); the registry's build-time weights
 * hashes against a SHA-256 computed here; the CUDA plugin loader (a missing
 * plugin or GPU falls back to cpu under AUTO and fails cleanly when cuda is
 * asked for).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sha256.h"
#include "models/modelfile.h"
#include "models/registry.h"
#include "nn/nn.h"

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

/* A valid .lvcm (doc/model-file.md): metadata "M=192\nN=128\n" padded to
 * 16 bytes, one f32 tensor "w" of 16 elements, the trailer hash. Layout:
 * header 0..64, meta 64..76, table 80..208, data 256..320, trailer. */
#define F_META  64
#define F_TABLE 80
#define F_DATA  256
#define F_SIZE  (F_DATA + 64 + 32)
static uint8_t *make_file(void)
{
    static const char meta[] = "M=192\nN=128\n";
    uint8_t *b = calloc(1, F_SIZE);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "LVCM\r\n\x1a\n", 8);
    put32(b + 8, 1);
    put32(b + 12, 64);
    put64(b + 16, F_SIZE);
    put64(b + 24, F_META);
    put64(b + 32, strlen(meta));
    put64(b + 40, F_TABLE);
    put32(b + 48, 1);
    put64(b + 56, F_DATA);
    memcpy(b + F_META, meta, strlen(meta));
    memcpy(b + F_TABLE, "w", 1);
    put32(b + F_TABLE + 88, 1);          /* f32 */
    put32(b + F_TABLE + 92, 1);          /* ndim */
    put32(b + F_TABLE + 96, 16);         /* shape */
    put64(b + F_TABLE + 112, 0);
    put64(b + F_TABLE + 120, 64);
    for (int i = 0; i < 64; i++)
        b[F_DATA + i] = (uint8_t)(i * 7 + 1);
    lvc_sha256(b, F_SIZE - 32, b + F_SIZE - 32);
    return b;
}

START_TEST(test_no_verify)
{
    uint8_t *b = make_file();
    LvcModelFile *mf = NULL;
    int64_t n = 0;

    ck_assert_int_eq(lvc_modelfile_open_mem_flags(b, F_SIZE, 0, &mf), 0);
    lvc_modelfile_close(&mf);
    ck_assert_int_eq(lvc_modelfile_open_mem_flags(b, F_SIZE, 1u << 7, &mf), LVC_ERR_INVALID_ARG);
    ck_assert_ptr_null(mf);

    /* A flipped tensor byte: refused when verified, accepted (trailer taken
     * as the hash) when not. */
    b[F_DATA + 5] ^= 0x10;
    ck_assert_int_eq(lvc_modelfile_open_mem(b, F_SIZE, &mf), LVC_ERR_CRC);
    ck_assert_ptr_null(mf);
    ck_assert_int_eq(lvc_modelfile_open_mem_flags(b, F_SIZE, LVC_MODELFILE_NO_VERIFY, &mf), 0);
    ck_assert_mem_eq(lvc_modelfile_hash(mf), b + F_SIZE - 32, 32);
    ck_assert_int_eq(lvc_modelfile_meta_int(mf, "N", &n), 0);
    ck_assert_int_eq(n, 128);
    lvc_modelfile_close(&mf);

    /* Structural checks still run unverified. */
    put32(b + 48, 2);                    /* tensor count */
    ck_assert_int_eq(lvc_modelfile_open_mem_flags(b, F_SIZE, LVC_MODELFILE_NO_VERIFY, &mf),
                     LVC_ERR_MODEL_FILE);
    put32(b + 48, 1);
    put64(b + F_TABLE + 120, 4096);      /* tensor bytes past the data */
    ck_assert_int_eq(lvc_modelfile_open_mem_flags(b, F_SIZE, LVC_MODELFILE_NO_VERIFY, &mf),
                     LVC_ERR_MODEL_FILE);
    put64(b + F_TABLE + 120, 64);
    for (size_t len = 0; len < F_SIZE; len++) {
        ck_assert_int_lt(lvc_modelfile_open_mem_flags(b, len, LVC_MODELFILE_NO_VERIFY, &mf), 0);
        ck_assert_ptr_null(mf);
    }
    free(b);
}
END_TEST

START_TEST(test_static_verified_once)
{
    uint8_t *b = make_file(), *bad = make_file();
    LvcModelFile *mf = NULL;

    ck_assert_int_eq(lvc_modelfile_add_static(NULL, 1, 0), LVC_ERR_INVALID_ARG);

    /* A corrupt static buffer is refused on every open: only a successful
     * verification is remembered. */
    bad[F_DATA] ^= 1;
    ck_assert_int_eq(lvc_modelfile_add_static(bad, F_SIZE, 0), 0);
    ck_assert_int_eq(lvc_modelfile_add_static(bad, F_SIZE, 0), 0);   /* no-op */
    ck_assert_int_eq(lvc_modelfile_open_mem(bad, F_SIZE, &mf), LVC_ERR_CRC);
    ck_assert_int_eq(lvc_modelfile_open_mem(bad, F_SIZE, &mf), LVC_ERR_CRC);

    ck_assert_int_eq(lvc_modelfile_add_static(b, F_SIZE, 0), 0);
    ck_assert_int_eq(lvc_modelfile_open_mem(b, F_SIZE, &mf), 0);
    lvc_modelfile_close(&mf);
    /* Verified once: a later change to the (promised immutable) bytes is
     * no longer hashed, which is the point; the same bytes at another
     * address, or with another size, are still verified. */
    b[F_DATA + 9] ^= 0x40;
    ck_assert_int_eq(lvc_modelfile_open_mem(b, F_SIZE, &mf), 0);
    ck_assert_mem_eq(lvc_modelfile_hash(mf), b + F_SIZE - 32, 32);
    lvc_modelfile_close(&mf);
    uint8_t *copy = malloc(F_SIZE);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, b, F_SIZE);
    ck_assert_int_eq(lvc_modelfile_open_mem(copy, F_SIZE, &mf), LVC_ERR_CRC);
    ck_assert_int_eq(lvc_modelfile_open_mem(b, F_SIZE - 1, &mf), LVC_ERR_TRUNCATED);
    free(copy);

    /* Registered as verified elsewhere (the build's check of embedded
     * weights): never hashed, so even a damaged copy opens; the trailer is
     * taken as its hash. */
    uint8_t *pre = make_file();
    pre[F_DATA + 3] ^= 0x08;
    ck_assert_int_eq(lvc_modelfile_add_static(pre, F_SIZE, 1), 0);
    ck_assert_int_eq(lvc_modelfile_open_mem(pre, F_SIZE, &mf), 0);
    ck_assert_mem_eq(lvc_modelfile_hash(mf), pre + F_SIZE - 32, 32);
    lvc_modelfile_close(&mf);
    free(pre);
    free(b);
    free(bad);
}
END_TEST

/* The weights hash that streams carry is computed at build time; it must be
 * the SHA-256 of the embedded blob, and the blob must still verify. */
START_TEST(test_registry_hashes)
{
    const int n = lvc_model_count();
    for (int i = 0; i < n; i++) {
        const LvcModelInfo *info = lvc_model_info(i);
        const LvcRegistryEntry *e = lvc_registry_by_name(info->name);
        uint8_t digest[32];
        LvcModelFile *mf = NULL;

        ck_assert_ptr_nonnull(e);
        lvc_sha256(e->blob, e->size, digest);
        ck_assert_msg(!memcmp(digest, info->weights_hash, 32), "%s: weights hash", info->name);
        ck_assert_msg(info->macs_per_pixel_dec > 0 && info->macs_per_pixel_enc > 0,
                      "%s: MACs", info->name);
        for (int k = 0; k < 2; k++) {
            ck_assert_int_eq(lvc_modelfile_open_mem(e->blob, e->size, &mf), 0);
            ck_assert_mem_eq(lvc_modelfile_hash(mf), e->blob + e->size - 32, 32);
            lvc_modelfile_close(&mf);
        }
    }
}
END_TEST

/* Without the plugin or a GPU, AUTO falls back to a host backend and an
 * explicit cuda request fails cleanly; with both, cuda opens. */
START_TEST(test_cuda_fallback)
{
    LvcNn *nn = NULL;
    const int have = lvc_nn_backend_available(LVC_BACKEND_CUDA);

    ck_assert_int_eq(lvc_nn_backend_available(LVC_BACKEND_CUDA), have);   /* cached */
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_AUTO, 1), 0);
    ck_assert_int_eq(lvc_nn_backend(nn), have ? LVC_BACKEND_CUDA
                     : lvc_nn_backend_available(LVC_BACKEND_CPU) ? LVC_BACKEND_CPU
                     : LVC_BACKEND_REF);
    lvc_nn_close(&nn);
    if (have) {
        ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_CUDA, 1), 0);
        ck_assert_int_eq(lvc_nn_backend(nn), LVC_BACKEND_CUDA);
        lvc_nn_close(&nn);
    } else {
        fprintf(stderr, "test_startup: cuda backend unavailable here (no plugin or no GPU)\n");
        ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_CUDA, 1), LVC_ERR_BACKEND);
        ck_assert_ptr_null(nn);
    }
}
END_TEST

/* The point of the plugin: without a GPU, using the library maps none of
 * the CUDA libraries (each process start paid ~0.2 s for them). */
START_TEST(test_no_cuda_mapped)
{
    LvcNn *nn = NULL;
    char line[4096];
    FILE *f;

    if (!access("/dev/nvidiactl", F_OK) || !access("/dev/dxg", F_OK) || getenv("LVC_CUDA_PLUGIN")) {
        fprintf(stderr, "test_startup: GPU node or plugin path present, mapping check skipped\n");
        return;
    }
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_AUTO, 1), 0);
    lvc_nn_close(&nn);
    ck_assert_int_eq(lvc_nn_backend_available(LVC_BACKEND_CUDA), 0);
    f = fopen("/proc/self/maps", "r");
    if (!f)
        return;     /* not Linux */
    while (fgets(line, sizeof(line), f))
        ck_assert_msg(!strstr(line, "libcudart") && !strstr(line, "libcublas") &&
                      !strstr(line, "libcudnn") && !strstr(line, "liblvc_cuda"),
                      "CUDA library mapped without a GPU: %s", line);
    fclose(f);
}
END_TEST

/* Run with $LVC_CUDA_PLUGIN naming a missing file or a library that is not
 * the plugin: the backend must be unavailable, with AUTO falling back. */
START_TEST(test_cuda_bad_plugin)
{
    LvcNn *nn = NULL;
    ck_assert_int_eq(lvc_nn_backend_available(LVC_BACKEND_CUDA), 0);
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_CUDA, 1), LVC_ERR_BACKEND);
    ck_assert_ptr_null(nn);
    ck_assert_int_eq(lvc_nn_open(&nn, LVC_BACKEND_AUTO, 1), 0);
    ck_assert_int_ne(lvc_nn_backend(nn), LVC_BACKEND_CUDA);
    lvc_nn_close(&nn);
}
END_TEST

/* argv[1]: "bad-plugin" for the case above; anything else (or nothing):
 * the other tests, whatever the plugin and GPU situation is. The loader's
 * answer is cached per process, hence one process per situation. */
int main(int argc, char **argv)
{
    Suite *s = suite_create("startup");
    TCase *tc = tcase_create("startup");
    SRunner *sr;
    int failed;

    if (argc > 1 && !strcmp(argv[1], "bad-plugin")) {
        tcase_add_test(tc, test_cuda_bad_plugin);
    } else {
        tcase_add_test(tc, test_no_verify);
        tcase_add_test(tc, test_static_verified_once);
        tcase_add_test(tc, test_registry_hashes);
        tcase_add_test(tc, test_cuda_fallback);
        tcase_add_test(tc, test_no_cuda_mapped);
    }
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
