/*
 * Windowed analysis and synthesis over the padded image (codec/pipeline.h).
 */
#include <string.h>

#include "codec/pipeline.h"
#include "common/mem.h"

int lvc_geometry_init(LvcGeometry *g, int width, int height, int tile_w, int tile_h)
{
    if (width < 1 || height < 1 || tile_w < LVC_PAD_MULTIPLE || tile_h < LVC_PAD_MULTIPLE ||
        tile_w % LVC_PAD_MULTIPLE || tile_h % LVC_PAD_MULTIPLE)
        return LVC_ERR_INVALID_ARG;
    if (width > INT32_MAX - LVC_PAD_MULTIPLE || height > INT32_MAX - LVC_PAD_MULTIPLE)
        return LVC_ERR_DIMENSIONS;
    g->width = width;
    g->height = height;
    g->wp = (width + LVC_PAD_MULTIPLE - 1) / LVC_PAD_MULTIPLE * LVC_PAD_MULTIPLE;
    g->hp = (height + LVC_PAD_MULTIPLE - 1) / LVC_PAD_MULTIPLE * LVC_PAD_MULTIPLE;
    g->wl = g->wp / LVC_MODEL_DOWNSCALE;
    g->hl = g->hp / LVC_MODEL_DOWNSCALE;
    g->tile_w = tile_w;
    g->tile_h = tile_h;
    g->tiles_x = (width + tile_w - 1) / tile_w;
    g->tiles_y = (height + tile_h - 1) / tile_h;
    return 0;
}

void lvc_geometry_tile(const LvcGeometry *g, int t, int *lx0, int *ly0, int *lx1, int *ly1)
{
    const int tx = t % g->tiles_x, ty = t / g->tiles_x;
    const int tlw = g->tile_w / LVC_MODEL_DOWNSCALE, tlh = g->tile_h / LVC_MODEL_DOWNSCALE;
    *lx0 = tx * tlw;
    *ly0 = ty * tlh;
    *lx1 = tx == g->tiles_x - 1 ? g->wl : *lx0 + tlw;
    *ly1 = ty == g->tiles_y - 1 ? g->hl : *ly0 + tlh;
}

static float sample(const LvcImage *img, int x, int y, int c)
{
    const int ch = img->channels;
    const int src_c = ch >= 3 ? c : 0;  /* gray (+alpha) feeds all three planes */
    if (img->bit_depth == 16) {
        const uint16_t *row = (const uint16_t *)(img->data + (size_t)y * img->stride);
        return row[(size_t)x * ch + src_c] * (1.0f / 65535.0f);
    }
    const uint8_t *row = img->data + (size_t)y * img->stride;
    return row[(size_t)x * ch + src_c] * (1.0f / 255.0f);
}

/* Fill a 3 x h x w host buffer with the padded image at pixel (x0, y0). */
static void read_window(const LvcImage *img, int x0, int y0, int w, int h, float *dst)
{
    for (int c = 0; c < 3; c++) {
        for (int y = 0; y < h; y++) {
            const int sy = y0 + y < img->height ? y0 + y : img->height - 1;
            float *d = dst + ((size_t)c * h + y) * w;
            for (int x = 0; x < w; x++) {
                const int sx = x0 + x < img->width ? x0 + x : img->width - 1;
                d[x] = sample(img, sx, sy, c);
            }
        }
    }
}

static inline uint32_t quantize_sample(float v, uint32_t maxv)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return maxv;
    return (uint32_t)(v * (float)maxv + 0.5f);
}

/* Write the part of a 3 x h x w reconstruction at pixel (x0, y0) that lies
 * inside the image. */
static void write_window(LvcImage *out, int x0, int y0, int w, int h, const float *src)
{
    const int ch = out->channels;
    const uint32_t maxv = out->bit_depth == 16 ? 65535u : 255u;
    const size_t plane = (size_t)w * h;
    for (int y = 0; y < h && y0 + y < out->height; y++) {
        uint8_t *row = out->data + (size_t)(y0 + y) * out->stride;
        for (int x = 0; x < w && x0 + x < out->width; x++) {
            const size_t i = (size_t)y * w + x;
            const float r = src[i], g = src[plane + i], b = src[2 * plane + i];
            uint32_t v[4];
            int n;
            if (ch <= 2) {
                v[0] = quantize_sample((r + g + b) * (1.0f / 3.0f), maxv);
                n = 1;
            } else {
                v[0] = quantize_sample(r, maxv);
                v[1] = quantize_sample(g, maxv);
                v[2] = quantize_sample(b, maxv);
                n = 3;
            }
            const size_t px = (size_t)(x0 + x) * ch;
            for (int k = 0; k < n; k++) {
                if (out->bit_depth == 16)
                    ((uint16_t *)row)[px + k] = (uint16_t)v[k];
                else
                    row[px + k] = (uint8_t)v[k];
            }
        }
    }
}

/* The context rectangle (in latents) of the window starting at (wx, wy). */
static void window_rect(const LvcGeometry *g, int wx, int wy, int *cx0, int *cy0, int *cx1,
                        int *cy1, int *x1, int *y1)
{
    *x1 = wx + LVC_WINDOW < g->wl ? wx + LVC_WINDOW : g->wl;
    *y1 = wy + LVC_WINDOW < g->hl ? wy + LVC_WINDOW : g->hl;
    *cx0 = wx - LVC_WINDOW_MARGIN > 0 ? wx - LVC_WINDOW_MARGIN : 0;
    *cy0 = wy - LVC_WINDOW_MARGIN > 0 ? wy - LVC_WINDOW_MARGIN : 0;
    *cx1 = *x1 + LVC_WINDOW_MARGIN < g->wl ? *x1 + LVC_WINDOW_MARGIN : g->wl;
    *cy1 = *y1 + LVC_WINDOW_MARGIN < g->hl ? *y1 + LVC_WINDOW_MARGIN : g->hl;
}

static void reshape(LvcTensor *t, int c, int h, int w)
{
    t->c = c;
    t->h = h;
    t->w = w;
}

/* Image and latent tensors of the largest window of g, reshaped per
 * window (a window's c*h*w never exceeds them), and the transform's
 * scratch for that window. */
static int window_tensors(const LvcModel *m, LvcNn *nn, const LvcGeometry *g, LvcTensor *xt,
                          LvcTensor *yt, LvcModelScratch *scratch)
{
    const int span = LVC_WINDOW + 2 * LVC_WINDOW_MARGIN;
    const int S = LVC_MODEL_DOWNSCALE;
    const int lw = g->wl < span ? g->wl : span, lh = g->hl < span ? g->hl : span;
    int ret;
    if ((ret = lvc_model_scratch_reserve(m, nn, scratch, lh, lw)) < 0)
        return ret;
    if ((ret = lvc_nn_tensor_alloc(nn, xt, 3, lh * S, lw * S, LVC_NN_F32, 0)) < 0)
        return ret;
    if ((ret = lvc_nn_tensor_alloc(nn, yt, m->M, lh, lw, LVC_NN_F32, 0)) < 0) {
        lvc_nn_tensor_free(nn, xt);
        return ret;
    }
    return 0;
}

int lvc_pipeline_analysis(const LvcModel *m, LvcNn *nn, const LvcGeometry *g,
                          const LvcImage *img, LvcTensor *y)
{
    const int span = LVC_WINDOW + 2 * LVC_WINDOW_MARGIN;
    const int S = LVC_MODEL_DOWNSCALE;
    float *host = NULL, *yhost = NULL;
    LvcTensor xt = { 0 }, yt = { 0 };
    LvcModelScratch scratch = { 0 };
    int ret = LVC_ERR_NOMEM;
    host = lvc_malloc_array((size_t)3 * span * S * span * S, sizeof(float));
    yhost = lvc_malloc_array((size_t)m->M * span * span, sizeof(float));
    if (!host || !yhost)
        goto end;
    if ((ret = window_tensors(m, nn, g, &xt, &yt, &scratch)) < 0)
        goto end;
    float *ydst = (float *)y->data;
    for (int wy = 0; wy < g->hl; wy += LVC_WINDOW) {
        for (int wx = 0; wx < g->wl; wx += LVC_WINDOW) {
            int cx0, cy0, cx1, cy1, x1, y1;
            window_rect(g, wx, wy, &cx0, &cy0, &cx1, &cy1, &x1, &y1);
            const int cw = cx1 - cx0, chh = cy1 - cy0;
            read_window(img, cx0 * S, cy0 * S, cw * S, chh * S, host);
            reshape(&xt, 3, chh * S, cw * S);
            reshape(&yt, m->M, chh, cw);
            if ((ret = lvc_nn_tensor_write(nn, &xt, host)) < 0 ||
                (ret = lvc_model_analysis(m, nn, &scratch, &xt, &yt)) < 0 ||
                (ret = lvc_nn_tensor_read(nn, &yt, yhost)) < 0)
                goto end;
            for (int c = 0; c < m->M; c++)
                for (int ly = wy; ly < y1; ly++)
                    memcpy(ydst + ((size_t)c * g->hl + ly) * g->wl + wx,
                           yhost + ((size_t)c * chh + (ly - cy0)) * cw + (wx - cx0),
                           sizeof(float) * (size_t)(x1 - wx));
        }
    }
    ret = 0;
end:
    lvc_model_scratch_free(nn, &scratch);
    lvc_nn_tensor_free(nn, &xt);
    lvc_nn_tensor_free(nn, &yt);
    lvc_free(host);
    lvc_free(yhost);
    return ret;
}

int lvc_pipeline_synthesis(const LvcModel *m, LvcNn *nn, const LvcGeometry *g,
                           const LvcTensor *yhat, LvcImage *out)
{
    const int span = LVC_WINDOW + 2 * LVC_WINDOW_MARGIN;
    const int S = LVC_MODEL_DOWNSCALE;
    float *host = NULL, *yhost = NULL, *crop = NULL;
    LvcTensor xt = { 0 }, yt = { 0 };
    LvcModelScratch scratch = { 0 };
    int ret = LVC_ERR_NOMEM;
    host = lvc_malloc_array((size_t)3 * span * S * span * S, sizeof(float));
    yhost = lvc_malloc_array((size_t)m->M * span * span, sizeof(float));
    crop = lvc_malloc_array((size_t)3 * LVC_WINDOW * S * LVC_WINDOW * S, sizeof(float));
    if (!host || !yhost || !crop)
        goto end;
    if ((ret = window_tensors(m, nn, g, &xt, &yt, &scratch)) < 0)
        goto end;
    const float *ysrc = (const float *)yhat->data;
    for (int wy = 0; wy < g->hl; wy += LVC_WINDOW) {
        for (int wx = 0; wx < g->wl; wx += LVC_WINDOW) {
            int cx0, cy0, cx1, cy1, x1, y1;
            window_rect(g, wx, wy, &cx0, &cy0, &cx1, &cy1, &x1, &y1);
            const int cw = cx1 - cx0, chh = cy1 - cy0;
            for (int c = 0; c < m->M; c++)
                for (int ly = cy0; ly < cy1; ly++)
                    memcpy(yhost + ((size_t)c * chh + (ly - cy0)) * cw,
                           ysrc + ((size_t)c * g->hl + ly) * g->wl + cx0, sizeof(float) * (size_t)cw);
            reshape(&yt, m->M, chh, cw);
            reshape(&xt, 3, chh * S, cw * S);
            if ((ret = lvc_nn_tensor_write(nn, &yt, yhost)) < 0 ||
                (ret = lvc_model_synthesis(m, nn, &scratch, &yt, &xt)) < 0 ||
                (ret = lvc_nn_tensor_read(nn, &xt, host)) < 0)
                goto end;
            /* crop the window's own pixels out of the context */
            const int ow = (x1 - wx) * S, oh = (y1 - wy) * S;
            const int ox = (wx - cx0) * S, oy = (wy - cy0) * S;
            for (int c = 0; c < 3; c++)
                for (int yy = 0; yy < oh; yy++)
                    memcpy(crop + ((size_t)c * oh + yy) * ow,
                           host + ((size_t)c * chh * S + oy + yy) * (size_t)(cw * S) + ox,
                           sizeof(float) * (size_t)ow);
            if (wx * S < out->width && wy * S < out->height)
                write_window(out, wx * S, wy * S, ow, oh, crop);
        }
    }
    ret = 0;
end:
    lvc_model_scratch_free(nn, &scratch);
    lvc_nn_tensor_free(nn, &xt);
    lvc_nn_tensor_free(nn, &yt);
    lvc_free(host);
    lvc_free(yhost);
    lvc_free(crop);
    return ret;
}
