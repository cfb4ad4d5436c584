/*
 * Fuzz target: Netpbm input (lvc_pnm_read_mem: PGM, PPM, PAM).
 *
 * max_pixels is small so that each run is fast and the limit itself is
 * exercised. A decoded image must match the limit, have a valid layout and
 * a readable pixel buffer; written back as PAM (and as PGM/PPM when it has
 * no alpha) and read again it must give the same samples: the written
 * maxval is 255 or 65535, so the round trip is exact.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/image_io.h"
#include "lvc/lvc.h"
#include "common/log.h"
#include "common/mem.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAX_PIXELS (UINT64_C(1) << 16)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lvc_log_set_level(LVC_LOG_QUIET);
    return 0;
}

static void round_trip(const LvcImage *img, int pam)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    const int wr = lvc_pnm_write_mem(img, pam, &buf, &size);
    if (wr == LVC_ERR_NOMEM)
        return;
    if (wr < 0)
        lvc_fuzz_fail("a decoded image does not write as PNM");
    LvcImage back;
    const int rr = lvc_pnm_read_mem(buf, size, &back, FUZZ_MAX_PIXELS);
    if (rr == 0 && !lvc_fuzz_same_image(img, &back))
        lvc_fuzz_fail("PNM write/read round trip changed the image");
    if (rr < 0 && rr != LVC_ERR_NOMEM)
        lvc_fuzz_fail("a PNM written by lvc does not read back");
    lvc_image_free(&back);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    LvcImage img;
    memset(&img, 0xa5, sizeof(img));
    if (lvc_pnm_read_mem(data, size, &img, FUZZ_MAX_PIXELS) < 0) {
        lvc_fuzz_check_failed_read(&img, mem0);
        return 0;
    }
    lvc_fuzz_check_image(&img, FUZZ_MAX_PIXELS);
    round_trip(&img, 1);
    if (img.channels == 1 || img.channels == 3)
        round_trip(&img, 0);
    lvc_image_free(&img);
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after a read");
    return 0;
}
