/*
 * Lossless alpha planes (ihdr.alpha_mode = LVC_ALPHA_ZLIB): per tile, the
 * alpha samples in raster order (8-bit, or 16-bit big-endian), each
 * replaced by its difference (mod 2^bits) from the sample to its left (the
 * first of a row from the one above; the first of the tile from 0), then
 * zlib-compressed (RFC 1950). doc/bitstream.md "Alpha".
 */
#ifndef LVC_CODEC_ALPHA_H
#define LVC_CODEC_ALPHA_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"

/* Compress the alpha of img's rectangle; *out is malloc'd (free()). */
int lvc_alpha_encode(const LvcImage *img, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                     uint8_t **out, size_t *out_size);
/* Decompress into the alpha channel of img's rectangle. LVC_ERR_CORRUPT if
 * the data does not inflate to exactly w*h samples. */
int lvc_alpha_decode(LvcImage *img, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                     const uint8_t *buf, size_t size);

#endif /* LVC_CODEC_ALPHA_H */
