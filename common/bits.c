#include <stdlib.h>

#include "common/bits.h"
#include "common/mem.h"

int lvc_bw_grow(LvcByteWriter *w, size_t n)
{
    if (w->err)
        return w->err;
    if (n <= w->cap - w->size)
        return 0;
    if (w->fixed)
        return w->err = LVC_ERR_BUFFER_FULL;
    if (n > SIZE_MAX - w->size)
        return w->err = LVC_ERR_NOMEM;
    size_t need = w->size + n;
    if (w->max && need > w->max)
        return w->err = LVC_ERR_LIMIT;
    /* Geometric growth keeps appends amortised O(1). */
    size_t cap = w->cap < 256 ? 256 : w->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (w->max && cap > w->max)
        cap = w->max;
    if (lvc_mem_inject_fail())
        return w->err = LVC_ERR_NOMEM;
    uint8_t *nb = realloc(w->buf, cap);
    if (!nb)
        return w->err = LVC_ERR_NOMEM;
    w->buf = nb;
    w->cap = cap;
    return 0;
}

int lvc_bw_detach(LvcByteWriter *w, uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    if (w->err) {
        int err = w->err;
        lvc_bw_free(w);
        return err;
    }
    if (!w->buf) {
        if (lvc_mem_inject_fail() || !(w->buf = malloc(1)))
            return LVC_ERR_NOMEM;
    }
    *out = w->buf;
    *size = w->size;
    memset(w, 0, sizeof(*w));
    return 0;
}

void lvc_bw_free(LvcByteWriter *w)
{
    if (!w->fixed)
        free(w->buf);
    memset(w, 0, sizeof(*w));
}
