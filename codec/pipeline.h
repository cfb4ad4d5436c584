/*
 * The image pipeline shared by encoder and decoder: geometry of the padded
 * image, latent grid, entropy tiles and processing windows.
 *
 * Geometry (normative, doc/bitstream.md "Image coding"):
 *   The coded image is the input padded on the right and bottom to multiples
 *   of 64 pixels by repeating the last column/row (Wp x Hp). The latent grid
 *   is Wp/16 x Hp/16. Entropy tiles are tile_w x tile_h pixels (multiples of
 *   64, from the header); a tile covers latents [x0/16, x1/16) and codes its
 *   own z (h_a of the tile's latents only) and y. The synthesis runs over
 *   windows of LVC_WINDOW latents with LVC_WINDOW_MARGIN latents of context,
 *   which is wider than the receptive field of g_s, so the reconstruction is
 *   the same as a single full-image pass, with bounded memory.
 */
#ifndef LVC_CODEC_PIPELINE_H
#define LVC_CODEC_PIPELINE_H

#include <stdint.h>

#include "lvc/lvc.h"
#include "models/model.h"
#include "nn/nn.h"

#define LVC_PAD_MULTIPLE    64
#define LVC_WINDOW          32   /* latents per processing window side */
#define LVC_WINDOW_MARGIN   2    /* latents of context around a window */
#define LVC_DEFAULT_TILE    1024 /* pixels */
#define LVC_DEFAULT_MAX_DEC_PIXELS (UINT64_C(1) << 28)

typedef struct LvcGeometry {
    int width, height;        /* image */
    int wp, hp;               /* padded to multiples of 64 */
    int wl, hl;               /* latent grid */
    int tile_w, tile_h;       /* pixels */
    int tiles_x, tiles_y;
} LvcGeometry;

int lvc_geometry_init(LvcGeometry *g, int width, int height, int tile_w, int tile_h);
/* Latent rectangle [lx0, lx1) x [ly0, ly1) of tile t. */
void lvc_geometry_tile(const LvcGeometry *g, int t, int *lx0, int *ly0, int *lx1, int *ly1);

/* Run g_a over the padded image (read from img through the padding rule)
 * in windows, writing y (M x hl x wl, without gain). */
int lvc_pipeline_analysis(const LvcModel *m, LvcNn *nn, const LvcGeometry *g,
                          const LvcImage *img, LvcTensor *y);
/* Run g_s over y_hat (M x hl x wl, gain removed) in windows and write the
 * reconstruction into out (allocated by the caller with the image's size,
 * channels and bit depth). Gray outputs take the mean of the three planes. */
int lvc_pipeline_synthesis(const LvcModel *m, LvcNn *nn, const LvcGeometry *g,
                           const LvcTensor *yhat, LvcImage *out);

#endif /* LVC_CODEC_PIPELINE_H */
