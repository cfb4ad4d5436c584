/*
 * Fuzz target: the .lvcm model-file loader (lvc_modelfile_open_mem) and
 * its accessors (tensors, f32/f16 conversion, metadata).
 *
 * The SHA-256 trailer would stop nearly every mutant at the first check, so
 * a mutant that fails is retried with its size field and trailer rewritten
 * to match its bytes; the structure behind the hash is what gets fuzzed.
 */
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "models/modelfile.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lvc_log_set_level(LVC_LOG_QUIET);
    return 0;
}

static void check_file(LvcModelFile *mf, const uint8_t *buf, size_t size)
{
    const int n = lvc_modelfile_count(mf);
    if (n < 0 || n > LVC_MODELFILE_MAX_TENSORS)
        lvc_fuzz_fail("tensor count outside the format's range");
    for (int i = 0; i < n; i++) {
        const LvcModelTensor *t = lvc_modelfile_tensor_at(mf, i);
        if (!t || !t->name)
            lvc_fuzz_fail("tensor_at returned NULL inside the count");
        const uint8_t *d = t->data;
        if (t->nbytes != t->nelems * lvc_model_dtype_size(t->dtype) || d < buf ||
            t->nbytes > size || (size_t)(d - buf) > size - t->nbytes)
            lvc_fuzz_fail("tensor data outside the file or of the wrong size");
        if (t->ndim < 0 || t->ndim > 4)
            lvc_fuzz_fail("tensor rank outside 0..4");
        if (lvc_modelfile_find(mf, t->name) != t)
            lvc_fuzz_fail("find does not return the tensor of that name");
        if (t->dtype == LVC_MT_F32 || t->dtype == LVC_MT_F16) {
            LvcModelTensor f;
            if (lvc_modelfile_tensor_f32(mf, t->name, &f) == 0) {
                float acc = 0.0f;
                for (uint64_t k = 0; k < f.nelems; k++)
                    acc += f.f32[k];
                volatile float sink = acc;
                (void)sink;
            }
            lvc_model_tensor_release(&f);
            const float *p;
            lvc_modelfile_get_f32(mf, t->name, t->ndim, NULL, &p);
        }
        int32_t v;
        lvc_modelfile_scalar_i32(mf, t->name, &v);
    }
    if (lvc_modelfile_tensor_at(mf, n) || lvc_modelfile_tensor_at(mf, -1))
        lvc_fuzz_fail("tensor_at accepted an index outside the count");
    const int nm = lvc_modelfile_meta_count(mf);
    for (int i = 0; i < nm; i++) {
        const char *k, *v;
        if (lvc_modelfile_meta_entry(mf, i, &k, &v) < 0 || !k || !v)
            lvc_fuzz_fail("meta_entry failed inside the count");
        const char *s;
        int64_t iv;
        double dv;
        if (lvc_modelfile_meta_str(mf, k, &s) < 0)
            lvc_fuzz_fail("meta_str misses a listed key");
        lvc_modelfile_meta_int(mf, k, &iv);
        lvc_modelfile_meta_float(mf, k, &dv);
    }
}

static int run_one(const uint8_t *buf, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    LvcModelFile *mf = (LvcModelFile *)&mem0;   /* must be reset to NULL */
    const int ret = lvc_modelfile_open_mem(buf, size, &mf);
    if (ret < 0) {
        if (mf)
            lvc_fuzz_fail("failed open left *mf set");
    } else {
        if (!mf || memcmp(lvc_modelfile_hash(mf), buf + size - 32, 32))
            lvc_fuzz_fail("opened file's hash is not its trailer");
        check_file(mf, buf, size);
        lvc_modelfile_close(&mf);
        if (mf)
            lvc_fuzz_fail("close did not reset the pointer");
    }
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after the model file was closed");
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Tensor data is 64-aligned relative to the file: give the file the
     * alignment a mapping has, so in-place f32 access is taken too. */
    uint8_t *copy = NULL;
    if (posix_memalign((void **)&copy, 64, size ? size : 1))
        return 0;
    memcpy(copy, data, size);
    const int ret = run_one(copy, size);
    if ((ret == LVC_ERR_CRC || ret == LVC_ERR_TRUNCATED || ret == LVC_ERR_MODEL_FILE) &&
        size >= LVC_MODELFILE_HEADER_SIZE + 32 && !memcmp(copy, "LVCM", 4)) {
        for (int i = 0; i < 8; i++)
            copy[16 + i] = (uint8_t)((uint64_t)size >> (8 * i));
        lvc_sha256(copy, size - 32, copy + size - 32);
        run_one(copy, size);
    }
    free(copy);
    return 0;
}
