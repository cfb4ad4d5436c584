/*
 * Entropy coding of the latents of every tile (codec/latent.c).
 *
 * Per tile (normative, doc/bitstream.md "Latent substreams"):
 *   Z substream: z_hat[c][y][x] for c, y, x in order, each coded with the
 *     model's factorized table of channel c (escape for values outside it).
 *     z_hat must lie in [-32768, 32767].
 *   Y substream: params = h_s(z_hat) (integer, doc/integer-nn.md); for c, y,
 *     x in order (context models: slice by slice, each in its two
 *     checkerboard passes, all in this one substream), q[c][y][x] coded
 *     with the Gaussian table
 *     lvc_scale_index_q(params[c][y][x], out_fa); the latent is
 *     y_hat = (q * 2^out_fa + params[M + c][y][x]) / 2^out_fa.
 */
#ifndef LVC_CODEC_LATENT_H
#define LVC_CODEC_LATENT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/pipeline.h"
#include "common/sha256.h"

/* Temporal coding of video frames (doc/bitstream.md 6.2; context models
 * only). ref holds a frame's latents as the contexts see them (q * 2^out_fa
 * + mean, saturated to int16), tile by tile (tile t at
 * lvc_latent_ref_offset(m, g, t), M x th x tw). Coding a frame with a
 * LvcLatentTemporal leaves that frame's latents in ref; an inter frame
 * reads the previous frame's there first, position by position, and codes
 * each block of 2^block_log2 latents per side, in every slice and pass,
 * with the image model's parameters ("intra"), around the reference with a
 * sharper scale ("inter") or as a copy of it ("skip"). */
enum { LVC_BLOCK_INTRA = 0, LVC_BLOCK_INTER = 1, LVC_BLOCK_SKIP = 2, LVC_BLOCK_MODES = 3 };
#define LVC_SCALE_SHIFT_BITS 5  /* the inter scale shift is 0 .. 31 table steps */

typedef struct LvcLatentTemporal {
    int16_t *ref;
    int inter;
    int block_log2;             /* 1 .. 4 */
    uint32_t blocks[LVC_BLOCK_MODES]; /* added to: blocks coded in each mode */
} LvcLatentTemporal;

size_t lvc_latent_ref_offset(const LvcModel *m, const LvcGeometry *g, int t);

typedef struct LvcLatentStreams {
    int ntiles;
    uint8_t **z, **y;          /* malloc'd substreams: z[tile], y[tile] */
    size_t *z_size, *y_size;
} LvcLatentStreams;

/* Code y (M x hl x wl, gain-free) at quality q into per-tile substreams.
 * tp: NULL for an image, else the video frame's temporal state. */
int lvc_latent_encode(const LvcModel *m, LvcNn *nn, const LvcGeometry *g, const LvcTensor *y,
                      float q, LvcLatentTemporal *tp, LvcLatentStreams *out);
void lvc_latent_streams_free(LvcLatentStreams *s);

/* Decode tile t from its substreams into yhat (M x hl x wl host floats,
 * gain removed with inv_gain). tile_digest gets the SHA-256 of the tile's
 * decoded symbols: z_hat as int16 LE, then q as int32 LE, in coding order.
 * The stream's symbols digest is the SHA-256 of the tile digests in tile
 * order (so tiles may be decoded in parallel). */
typedef struct LvcTileStreams {
    const uint8_t *z;           /* NULL when absent */
    size_t z_size;
    const uint8_t *y;           /* NULL when absent */
    size_t y_size;
} LvcTileStreams;

/* Hyper-latent values of tile t (0 without a hyperprior), and their
 * entropy decoding from the tile's Z substream. The decoder reads every
 * tile's Z before it allocates anything sized by the image, so a stream
 * that declares a large image without the data for it fails early. */
size_t lvc_latent_z_count(const LvcModel *m, const LvcGeometry *g, int t);
int lvc_latent_decode_z(const LvcModel *m, const LvcGeometry *g, int t, const uint8_t *buf,
                        size_t size, int16_t *zhat);

/* Decode the latents of tile t given its z_hat (from lvc_latent_decode_z).
 * tp as for the encoder (NULL for an image; calls sharing one must not run
 * at the same time). yhat may have data NULL: then only the symbols and
 * tp->ref are decoded. */
int lvc_latent_decode_tile(const LvcModel *m, LvcNn *nn, const LvcGeometry *g, int t,
                           const LvcTileStreams *ts, const int16_t *zhat, const float *inv_gain,
                           LvcTensor *yhat, LvcLatentTemporal *tp,
                           uint8_t tile_digest[LVC_SHA256_SIZE]);

#endif /* LVC_CODEC_LATENT_H */
