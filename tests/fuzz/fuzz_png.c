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

static int same_pixels(const LvcImage *a, const LvcImage *b)
{
    if (a->width != b->width || a->height != b->height || a->channels != b->channels ||
        a->bit_depth != b->bit_depth)
        return 0;
    const size_t row = (size_t)a->width * a->channels * (a->bit_depth / 8);
    for (int y = 0; y < a->height; y++)
        if (memcmp(a->data + (size_t)y * a->stride, b->data + (size_t)y * b->stride, row))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    LvcImage img;
    memset(&img, 0xa5, sizeof(img));
    const int ret = lvc_png_read_mem(data, size, &img, FUZZ_MAX_PIXELS);
    if (ret < 0) {
        if (img.data || img.width || img.height)
            lvc_fuzz_fail("failed read left a non-zeroed image");
        if (lvc_mem_in_use() != mem0)
            lvc_fuzz_fail("memory still held after a failed read");
        return 0;
    }
    if (lvc_image_check(&img) < 0)
        lvc_fuzz_fail("read returned a malformed image");
    if ((uint64_t)img.width * (uint64_t)img.height > FUZZ_MAX_PIXELS)
        lvc_fuzz_fail("read returned an image above max_pixels");
    /* Touch every sample so that a short buffer shows under ASan. */
    const size_t row = (size_t)img.width * img.channels * (img.bit_depth / 8);
    unsigned sum = 0;
    for (int y = 0; y < img.height; y++)
        for (size_t x = 0; x < row; x++)
            sum += img.data[(size_t)y * img.stride + x];
    volatile unsigned sink = sum;
    (void)sink;

    uint8_t *png = NULL;
    size_t png_size = 0;
    const int wr = lvc_png_write_mem(&img, &png, &png_size);
    if (wr == 0) {
        LvcImage back;
        const int rr = lvc_png_read_mem(png, png_size, &back, FUZZ_MAX_PIXELS);
        if (rr == 0 && !same_pixels(&img, &back))
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
