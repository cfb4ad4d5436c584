/*
 * lvcrd: image buffers and the clock.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_codec.h"

int lvcrd_image_alloc(LvcRdImage *img, int w, int h)
{
    memset(img, 0, sizeof(*img));
    if (w <= 0 || h <= 0 || w > (1 << 20) || h > (1 << 20))
        return LVC_ERR_DIMENSIONS;
    const size_t stride = 3 * (size_t)w;
    if ((size_t)h > SIZE_MAX / stride)
        return LVC_ERR_NOMEM;
    img->data = malloc(stride * (size_t)h);
    if (!img->data)
        return LVC_ERR_NOMEM;
    img->width = w;
    img->height = h;
    img->stride = stride;
    return 0;
}

void lvcrd_image_free(LvcRdImage *img)
{
    if (!img)
        return;
    free(img->data);
    memset(img, 0, sizeof(*img));
}

double lvcrd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
