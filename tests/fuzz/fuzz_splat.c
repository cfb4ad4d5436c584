/*
 * Fuzz target: the Gaussian-splat stream decoder (lvc_decode_splats, kind 3,
 * doc/bitstream.md section 6.1) and lvc_splat_stream_info.
 *
 * max_count is small so that each run is fast and the limit itself is
 * exercised. A mutant that fails on a CRC is retried with its CRCs
 * rewritten, so the header rules and the rANS payloads get fuzzed rather
 * than the checksum. A failed decode must leave the scene zeroed and no memory
 * held; a decoded scene must be within the limit, of a valid degree, with
 * every value finite, and agree with the stream info. It must encode again
 * (scalar SH, so no codebook search) and that stream must decode to the
 * same number of splats and degree.
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

static int finite_all(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static int one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (one(data, size) != LVC_ERR_CRC)
        return 0;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (lvc_fuzz_fix_crcs(copy, size))
        one(copy, size);
    free(copy);
    return 0;
}

static int one(const uint8_t *data, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    LvcSplats s;
    memset(&s, 0xa5, sizeof(s));
    const int err = lvc_decode_splats(data, size, &s, FUZZ_MAX_COUNT);
    if (err < 0) {
        if (s.count || s.position || s.sh)
            lvc_fuzz_fail("a failed decode left a scene behind");
        if (lvc_mem_in_use() != mem0)
            lvc_fuzz_fail("a failed decode leaked memory");
        return err;
    }
    if (s.count > FUZZ_MAX_COUNT || s.sh_degree < 0 || s.sh_degree > LVC_SPLAT_MAX_SH_DEGREE)
        lvc_fuzz_fail("decoded scene outside the limits");
    const size_t n = s.count, k = (size_t)LVC_SPLAT_SH_COEFFS(s.sh_degree);
    if (n && (!finite_all(s.position, n * 3) || !finite_all(s.scale, n * 3) ||
              !finite_all(s.rotation, n * 4) || !finite_all(s.opacity, n) ||
              !finite_all(s.sh, n * 3 * k)))
        lvc_fuzz_fail("decoded value not finite");
    LvcSplatStreamInfo info;
    if (lvc_splat_stream_info(data, size, &info) < 0 || info.count != s.count ||
        info.sh_degree != s.sh_degree)
        lvc_fuzz_fail("stream info disagrees with the decoder");

    LvcSplatSettings set;
    lvc_splat_default_settings(&set);
    set.quality = 90;
    set.sh_codebook = -1;
    set.threads = 1;
    uint8_t *buf = NULL;
    size_t bsize = 0;
    const int e2 = lvc_encode_splats(&set, &s, &buf, &bsize, NULL);
    if (e2 < 0 && e2 != LVC_ERR_NOMEM && e2 != LVC_ERR_UNSUPPORTED)
        lvc_fuzz_fail("a decoded scene does not encode");
    if (!e2) {
        LvcSplats t;
        const int e3 = lvc_decode_splats(buf, bsize, &t, FUZZ_MAX_COUNT);
        if (e3 < 0 && e3 != LVC_ERR_NOMEM)
            lvc_fuzz_fail("a stream written by lvc does not decode");
        if (!e3 && (t.count != s.count || t.sh_degree != s.sh_degree))
            lvc_fuzz_fail("re-encoded scene changed shape");
        lvc_splats_free(&t);
    }
    lvc_splat_buffer_free(buf);
    lvc_splats_free(&s);
    return 0;
}
