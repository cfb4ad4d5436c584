/*
 * Fuzz target: PNG input (lvc_png_read_mem, libpng behind setjmp).
 *
 * max_pixels is small so that each run is fast and the limit itself is
 * exercised. A decoded image must match the limit, have a valid layout and
 * a readable pixel buffer; written back as PNG and read again it must give
 * the same samples (PNG is lossless).
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    LvcImage img;
    memset(&img, 0xa5, sizeof(img));
    if (lvc_png_read_mem(data, size, &img, FUZZ_MAX_PIXELS) < 0) {
        lvc_fuzz_check_failed_read(&img, mem0);
        return 0;
    }
    lvc_fuzz_check_image(&img, FUZZ_MAX_PIXELS);

    uint8_t *png = NULL;
    size_t png_size = 0;
    const int wr = lvc_png_write_mem(&img, &png, &png_size);
    if (wr == 0) {
        LvcImage back;
        const int rr = lvc_png_read_mem(png, png_size, &back, FUZZ_MAX_PIXELS);
        if (rr == 0 && !lvc_fuzz_same_image(&img, &back))
            lvc_fuzz_fail("PNG write/read round trip changed the image");
        if (rr < 0 && rr != LVC_ERR_NOMEM)
            lvc_fuzz_fail("a PNG written by lvc does not read back");
        lvc_image_free(&back);
        free(png);
    } else if (wr != LVC_ERR_NOMEM) {
        lvc_fuzz_fail("a decoded image does not write as PNG");
    }
    lvc_image_free(&img);
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after a read");
    return 0;
}
