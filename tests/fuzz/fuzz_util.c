/*
 * Helpers shared by the fuzz targets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"

#include "common/bits.h"
#include "common/crc32.h"
#include "codec/image_io.h"
#include "common/mem.h"
#include "tests/fuzz/fuzz.h"

size_t lvc_fuzz_fix_crcs(uint8_t *buf, size_t size)
{
    size_t pos = 6, changed = 0;   /* after magic, version, kind */
    while (pos + 6 <= size) {
        /* LEB128 length after type(4) and flags(1); any length that fits. */
        uint64_t len = 0;
        size_t i = 0, p = pos + 5;
        for (;; i++) {
            if (i == 5 || p + i >= size)
                return changed;
            len |= (uint64_t)(buf[p + i] & 0x7f) << (7 * i);
            if (!(buf[p + i] & 0x80))
                break;
        }
        const size_t hdr = 5 + i + 1;
        if (len > size || pos + hdr + len + 4 > size)
            return changed;
        const size_t at = pos + hdr + (size_t)len;
        const uint32_t crc = lvc_crc32(0, buf + pos, hdr + (size_t)len);
        const uint8_t want[4] = { (uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
                                  (uint8_t)(crc >> 24) };
        int diff = 0;
        for (int k = 0; k < 4; k++) {
            diff |= buf[at + k] != want[k];
            buf[at + k] = want[k];
        }
        changed += (size_t)diff;
        pos = at + 4;
    }
    return changed;
}

/* Skip one LEB128 varint at *pos within the first n bytes; 0 when it does
 * not end there. */
static int skip_varint(const uint8_t *p, size_t n, size_t *pos)
{
    for (int i = 0; i < 5 && *pos < n; i++)
        if (!(p[(*pos)++] & 0x80))
            return 1;
    return 0;
}

void lvc_fuzz_set_model(uint8_t *buf, size_t size)
{
    /* file header (6), "ihdr", flags, a one-byte length, payload
     * (doc/bitstream.md 4.2): width, height, four bytes, quality, overlap,
     * tile_w, tile_h, model id (varints), the weights id. The model id is
     * rewritten only where the default's fits the bytes it has. */
    const LvcModelInfo *mi = lvc_model_find(lvc_model_default());
    if (!mi || size < 6 + 6 || memcmp(buf + 6, "ihdr", 4) || (buf[11] & 0x80))
        return;
    const size_t n = buf[11] < size - 12 ? buf[11] : size - 12;
    uint8_t *p = buf + 12;
    size_t pos = 0;
    for (int k = 0; k < 7; k++) {
        if (k == 2)
            pos += 4;
        if (k == 6) {
            /* the model id varint */
            const size_t at = pos;
            if (!skip_varint(p, n, &pos))
                return;
            uint8_t id[LVC_VARINT_MAX];
            LvcByteWriter w;
            lvc_bw_init_fixed(&w, id, sizeof(id));
            lvc_bw_varint(&w, mi->id);
            if (w.size == pos - at)
                memcpy(p + at, id, w.size);
            break;
        }
        if (!skip_varint(p, n, &pos))
            return;
    }
    if (pos + LVC_WEIGHTS_ID_SIZE <= n)
        memcpy(p + pos, mi->weights_hash, LVC_WEIGHTS_ID_SIZE);
}

void lvc_fuzz_fail(const char *what)
{
    fprintf(stderr, "lvc fuzz: broken promise: %s\n", what);
    fflush(stderr);
    abort();
}

void lvc_fuzz_check_image(const LvcImage *img, uint64_t max_pixels)
{
    if (lvc_image_check(img) < 0)
        lvc_fuzz_fail("a returned image is malformed");
    if (max_pixels && (uint64_t)img->width * (uint64_t)img->height > max_pixels)
        lvc_fuzz_fail("a returned image is above max_pixels");
    const size_t row = (size_t)img->width * img->channels * (img->bit_depth / 8);
    unsigned sum = 0;
    for (int y = 0; y < img->height; y++)
        for (size_t x = 0; x < row; x++)
            sum += img->data[(size_t)y * img->stride + x];
    volatile unsigned sink = sum;
    (void)sink;
}

void lvc_fuzz_check_failed_read(const LvcImage *img, size_t mem0)
{
    if (img->data || img->width || img->height)
        lvc_fuzz_fail("failed read left a non-zeroed image");
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after a failed read");
}

int lvc_fuzz_same_image(const LvcImage *a, const LvcImage *b)
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
