/*
 * LvcImage allocation (public API, include/lvc/lvc.h).
 */
#include <limits.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/mem.h"

int lvc_image_alloc(LvcImage *img, int width, int height, int channels, int bit_depth)
{
    if (!img)
        return LVC_ERR_INVALID_ARG;
    memset(img, 0, sizeof(*img));
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16))
        return LVC_ERR_INVALID_ARG;
    if (width < 1 || height < 1)
        return LVC_ERR_DIMENSIONS;
    size_t stride, total;
    const size_t px = (size_t)channels * (size_t)(bit_depth / 8);
    if (lvc_mul_size((size_t)width, px, &stride) ||
        lvc_mul_size(stride, (size_t)height, &total))
        return LVC_ERR_NOMEM;
    uint8_t *data = lvc_malloc(total);
    if (!data)
        return LVC_ERR_NOMEM;
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->bit_depth = bit_depth;
    img->stride = stride;
    img->data = data;
    return 0;
}

void lvc_image_free(LvcImage *img)
{
    if (!img)
        return;
    lvc_free(img->data);
    memset(img, 0, sizeof(*img));
}
