/*
 * Fuzz target: Gaussian-splat scene input (lvc_ply_read_mem: PLY in ascii
 * and both binary byte orders; lvc_splat_read_mem: the 32-byte ".splat"
 * records).
 *
 * Every input goes through both readers (a .splat file has no magic: any
 * multiple of 32 bytes is one). max_count is small so that each run is
 * fast and the limit itself is exercised. A failed read must leave the
 * scene zeroed and no memory held. A scene read must be within the limit,
 * of a valid degree, with every value finite; written back as PLY and read
 * again it must be identical bit for bit; written as .splat it must read
 * back, and a scene read from a .splat must come back within the
 * quantization of the format (colours and alphas exactly).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/splat.h"
#include "common/log.h"
#include "common/mem.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAX_COUNT 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lvc_log_set_level(LVC_LOG_QUIET);
    return 0;
}

static size_t sh_count(const LvcSplats *s)
{
    return (size_t)s->count * 3 * (size_t)LVC_SPLAT_SH_COEFFS(s->sh_degree);
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static void check_scene(const LvcSplats *s)
{
    if (s->count > FUZZ_MAX_COUNT)
        lvc_fuzz_fail("a scene read is above max_count");
    if (s->sh_degree < 0 || s->sh_degree > LVC_SPLAT_MAX_SH_DEGREE)
        lvc_fuzz_fail("a scene read has a bad SH degree");
    if (!s->count)
        return;
    const size_t n = s->count;
    if (!s->position || !s->scale || !s->rotation || !s->opacity || !s->sh)
        lvc_fuzz_fail("a scene read lacks an array");
    if (!all_finite(s->position, 3 * n) || !all_finite(s->scale, 3 * n) ||
        !all_finite(s->rotation, 4 * n) || !all_finite(s->opacity, n) ||
        !all_finite(s->sh, sh_count(s)))
        lvc_fuzz_fail("a scene read holds a non-finite value");
}

static int same_scene(const LvcSplats *a, const LvcSplats *b)
{
    if (a->count != b->count || a->sh_degree != b->sh_degree)
        return 0;
    if (!a->count)
        return 1;
    const size_t n = a->count;
    return !memcmp(a->position, b->position, 3 * n * sizeof(float)) &&
           !memcmp(a->scale, b->scale, 3 * n * sizeof(float)) &&
           !memcmp(a->rotation, b->rotation, 4 * n * sizeof(float)) &&
           !memcmp(a->opacity, b->opacity, n * sizeof(float)) &&
           !memcmp(a->sh, b->sh, sh_count(a) * sizeof(float));
}

/* b, read from the .splat written from a (itself read from a .splat),
 * matches it within the format's quantization. */
static int close_splats(const LvcSplats *a, const LvcSplats *b)
{
    if (a->count != b->count || b->sh_degree != 0)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        for (int c = 0; c < 3; c++) {
            if (memcmp(&a->position[i * 3 + c], &b->position[i * 3 + c], sizeof(float)))
                return 0;
            /* a linear scale that is a denormal float or near FLT_MAX is
             * clamped on writing */
            const float sa = a->scale[i * 3 + c], sb = b->scale[i * 3 + c];
            if (sa > -87.0f && sa < 88.0f && fabsf(sa - sb) > 1e-4f)
                return 0;
            if (a->sh[i * 3 + c] != b->sh[i * 3 + c])
                return 0;
        }
        if (a->opacity[i] != b->opacity[i])
            return 0;
        double na = 0, nb = 0;
        for (int c = 0; c < 4; c++) {
            na += (double)a->rotation[i * 4 + c] * a->rotation[i * 4 + c];
            nb += (double)b->rotation[i * 4 + c] * b->rotation[i * 4 + c];
        }
        if (na == 0.0)
            continue;        /* written as the identity */
        for (int c = 0; c < 4; c++)
            if (fabs(a->rotation[i * 4 + c] / sqrt(na) - b->rotation[i * 4 + c] / sqrt(nb)) >
                2.0 / 128.0)
                return 0;
    }
    return 1;
}

/* Writes s as PLY and as .splat and reads both back. */
static void round_trip(const LvcSplats *s, int from_splat)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    LvcSplats back;
    int wr = lvc_ply_write_mem(s, &buf, &size);
    if (wr < 0 && wr != LVC_ERR_NOMEM)
        lvc_fuzz_fail("a scene read does not write as PLY");
    if (wr == 0) {
        const int rr = lvc_ply_read_mem(buf, size, &back, FUZZ_MAX_COUNT);
        if (rr == 0 && !same_scene(s, &back))
            lvc_fuzz_fail("PLY write/read round trip changed the scene");
        if (rr < 0 && rr != LVC_ERR_NOMEM)
            lvc_fuzz_fail("a PLY written by lvc does not read back");
        lvc_splats_free(&back);
        lvc_splat_buffer_free(buf);
    }
    wr = lvc_splat_write_mem(s, &buf, &size);
    if (wr < 0 && wr != LVC_ERR_NOMEM)
        lvc_fuzz_fail("a scene read does not write as .splat");
    if (wr == 0) {
        if (size != (size_t)s->count * 32)
            lvc_fuzz_fail("a .splat written by lvc has the wrong size");
        const int rr = lvc_splat_read_mem(buf, size, &back, FUZZ_MAX_COUNT);
        if (rr < 0 && rr != LVC_ERR_NOMEM)
            lvc_fuzz_fail("a .splat written by lvc does not read back");
        if (rr == 0 && from_splat && !close_splats(s, &back))
            lvc_fuzz_fail(".splat write/read round trip moved a value beyond its step");
        lvc_splats_free(&back);
        lvc_splat_buffer_free(buf);
    }
}

static void one_reader(const uint8_t *data, size_t size, int splat)
{
    const size_t mem0 = lvc_mem_in_use();
    LvcSplats s;
    memset(&s, 0xa5, sizeof(s));
    const int err = splat ? lvc_splat_read_mem(data, size, &s, FUZZ_MAX_COUNT)
                          : lvc_ply_read_mem(data, size, &s, FUZZ_MAX_COUNT);
    if (err < 0) {
        static const LvcSplats zero;
        if (memcmp(&s, &zero, sizeof(s)))
            lvc_fuzz_fail("a failed read left a non-zeroed scene");
        if (lvc_mem_in_use() != mem0)
            lvc_fuzz_fail("memory still held after a failed read");
        return;
    }
    check_scene(&s);
    round_trip(&s, splat);
    lvc_splats_free(&s);
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after a read");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_reader(data, size, 0);
    one_reader(data, size, 1);
    return 0;
}
