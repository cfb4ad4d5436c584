#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec/alpha.h"
#include "common/mem.h"

static size_t plane_bytes(const LvcImage *img, uint32_t w, uint32_t h)
{
    return (size_t)w * h * (img->bit_depth / 8);
}

static uint32_t get_alpha(const LvcImage *img, uint32_t x, uint32_t y)
{
    const int a = img->channels - 1;
    const uint8_t *row = img->data + (size_t)y * img->stride;
    if (img->bit_depth == 16)
        return ((const uint16_t *)row)[(size_t)x * img->channels + a];
    return row[(size_t)x * img->channels + a];
}

static void set_alpha(LvcImage *img, uint32_t x, uint32_t y, uint32_t v)
{
    const int a = img->channels - 1;
    uint8_t *row = img->data + (size_t)y * img->stride;
    if (img->bit_depth == 16)
        ((uint16_t *)row)[(size_t)x * img->channels + a] = (uint16_t)v;
    else
        row[(size_t)x * img->channels + a] = (uint8_t)v;
}

int lvc_alpha_encode(const LvcImage *img, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                     uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    const size_t n = plane_bytes(img, w, h);
    const uint32_t mask = img->bit_depth == 16 ? 0xffffu : 0xffu;
    uint8_t *raw = lvc_malloc(n ? n : 1);
    if (!raw)
        return LVC_ERR_NOMEM;
    size_t k = 0;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            const uint32_t v = get_alpha(img, x0 + x, y0 + y);
            const uint32_t pred = x ? get_alpha(img, x0 + x - 1, y0 + y)
                                    : (y ? get_alpha(img, x0, y0 + y - 1) : 0);
            const uint32_t d = (v - pred) & mask;
            if (img->bit_depth == 16)
                raw[k++] = (uint8_t)(d >> 8);
            raw[k++] = (uint8_t)d;
        }
    }
    uLongf cap = compressBound((uLong)n);
    uint8_t *z = malloc(cap);
    if (!z) {
        lvc_free(raw);
        return LVC_ERR_NOMEM;
    }
    const int zr = compress2(z, &cap, raw, (uLong)n, 9);
    lvc_free(raw);
    if (zr != Z_OK) {
        free(z);
        return zr == Z_MEM_ERROR ? LVC_ERR_NOMEM : LVC_ERR_INVALID_ARG;
    }
    *out = z;
    *out_size = cap;
    return 0;
}

int lvc_alpha_decode(LvcImage *img, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                     const uint8_t *buf, size_t size)
{
    const size_t n = plane_bytes(img, w, h);
    const uint32_t mask = img->bit_depth == 16 ? 0xffffu : 0xffu;
    uint8_t *raw = lvc_malloc(n + 1);
    if (!raw)
        return LVC_ERR_NOMEM;
    /* one spare byte: output that does not fit means the data is longer
     * than the plane, which is corrupt */
    uLongf got = (uLongf)(n + 1);
    const int zr = uncompress(raw, &got, buf, (uLong)size);
    if (zr != Z_OK || got != n) {
        lvc_free(raw);
        return zr == Z_MEM_ERROR ? LVC_ERR_NOMEM : LVC_ERR_CORRUPT;
    }
    size_t k = 0;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint32_t d = raw[k++];
            if (img->bit_depth == 16)
                d = (d << 8) | raw[k++];
            const uint32_t pred = x ? get_alpha(img, x0 + x - 1, y0 + y)
                                    : (y ? get_alpha(img, x0, y0 + y - 1) : 0);
            set_alpha(img, x0 + x, y0 + y, (pred + d) & mask);
        }
    }
    lvc_free(raw);
    return 0;
}
