/*
 * The lvc container (doc/bitstream.md): writer, validating parser, and the
 * public lvc_stream_info() / lvc_stream_boxes().
 *
 * The parser works in two passes over the buffer. The first walks every box
 * (bounds, CRC, flags, type characters, the ihdr rules) and counts them
 * without allocating; the second, run only on a structurally valid stream,
 * fills arrays sized by those counts. So nothing is allocated before the
 * dimensions, the box count and every CRC have been checked.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/bits.h"
#include "common/crc32.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "codec/container.h"

/* ------------------------------------------------------------ byte helpers */

/* Unsigned LEB128 limited to 32 bits. Returns the number of bytes used, 0
 * when the data ends inside the varint (*err = LVC_ERR_TRUNCATED), or 0
 * with *err = LVC_ERR_CORRUPT for an over-long (non-minimal) encoding or a
 * value above 2^32-1: the format wants exactly one encoding per value, so
 * that a stream's bytes are a function of its content. */
static size_t rd_varint(const uint8_t *p, size_t avail, uint32_t *val, int *err)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 5; i++) {
        if (i >= avail) {
            *err = LVC_ERR_TRUNCATED;
            return 0;
        }
        const uint8_t b = p[i];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if ((i > 0 && b == 0) || v > UINT32_MAX) {
                *err = LVC_ERR_CORRUPT;
                return 0;
            }
            *val = (uint32_t)v;
            return i + 1;
        }
    }
    *err = LVC_ERR_CORRUPT;
    return 0;
}

static size_t varint_size(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t wr_varint(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static int type_is(const char *t, const char *name)
{
    return !memcmp(t, name, 4);
}

static int type_valid(const uint8_t *t)
{
    for (int i = 0; i < 4; i++)
        if (t[i] < 0x20 || t[i] > 0x7e)
            return 0;
    return 1;
}

/* ------------------------------------------------------------ header rules */

int lvc_image_header_validate(LvcImageHeader *h)
{
    if (!h)
        return LVC_ERR_INVALID_ARG;
    if (h->width == 0 || h->height == 0 || h->width > INT32_MAX || h->height > INT32_MAX)
        return LVC_ERR_DIMENSIONS;
    if (h->channels < 1 || h->channels > 4)
        return LVC_ERR_CORRUPT;
    if (h->bit_depth != 8 && h->bit_depth != 16)
        return LVC_ERR_CORRUPT;
    switch (h->color) {
    case LVC_COLOR_RGB:
    case LVC_COLOR_YCBCR:
        break;
    case LVC_COLOR_GRAY:
        if (h->channels > 2)
            return LVC_ERR_CORRUPT;
        break;
    default:
        return LVC_ERR_CORRUPT;
    }
    const int has_alpha = h->channels == 2 || h->channels == 4;
    if (h->alpha_mode == LVC_ALPHA_NONE) {
        if (has_alpha)
            return LVC_ERR_CORRUPT;
    } else if (h->alpha_mode == LVC_ALPHA_ZLIB) {
        if (!has_alpha)
            return LVC_ERR_CORRUPT;
    } else {
        return LVC_ERR_CORRUPT;
    }
    if (h->quality > LVC_QUALITY_MAX)
        return LVC_ERR_CORRUPT;
    /* A tile may be larger than the image (pipelines pad to a multiple of
     * 64 and keep tile sizes multiples of 64); only zero is meaningless. */
    if (h->tile_w == 0 || h->tile_h == 0)
        return LVC_ERR_CORRUPT;
    const uint32_t tmin = h->tile_w < h->tile_h ? h->tile_w : h->tile_h;
    if (h->tile_overlap >= tmin)
        return LVC_ERR_CORRUPT;
    const uint64_t tx = (h->width + (uint64_t)h->tile_w - 1) / h->tile_w;
    const uint64_t ty = (h->height + (uint64_t)h->tile_h - 1) / h->tile_h;
    if (tx * ty > UINT32_MAX)
        return LVC_ERR_CORRUPT;
    h->tiles_x = (uint32_t)tx;
    h->tiles_y = (uint32_t)ty;
    h->num_tiles = (uint32_t)(tx * ty);
    return 0;
}

/* One varint of the ihdr payload at *pos (of n bytes): 0 or
 * LVC_ERR_CORRUPT (not minimal, or running past the payload). */
static int ihdr_varint(const uint8_t *p, size_t n, size_t *pos, uint32_t *v)
{
    int err = 0;
    const size_t nv = rd_varint(p + *pos, n - *pos, v, &err);
    *pos += nv;
    return nv ? 0 : LVC_ERR_CORRUPT;
}

/* The ihdr payload (doc/bitstream.md 4.2): varints and bytes, consumed
 * exactly. Returns 0 or LVC_ERR_CORRUPT (a varint that is not minimal,
 * runs past the payload or exceeds its field, or bytes left over); the
 * field rules are lvc_image_header_validate's. */
static int ihdr_unpack(const uint8_t *p, size_t n, LvcImageHeader *h, uint32_t *num_boxes)
{
    memset(h, 0, sizeof(*h));
    size_t pos = 0;
    uint32_t quality, overlap;
    if (ihdr_varint(p, n, &pos, &h->width) || ihdr_varint(p, n, &pos, &h->height) ||
        n - pos < 4)
        return LVC_ERR_CORRUPT;
    h->channels = p[pos];
    h->bit_depth = p[pos + 1];
    h->color = p[pos + 2];
    h->alpha_mode = p[pos + 3];
    pos += 4;
    if (ihdr_varint(p, n, &pos, &quality) || ihdr_varint(p, n, &pos, &overlap) ||
        ihdr_varint(p, n, &pos, &h->tile_w) || ihdr_varint(p, n, &pos, &h->tile_h) ||
        ihdr_varint(p, n, &pos, &h->model_id) || quality > UINT16_MAX ||
        overlap > UINT16_MAX || n - pos < LVC_WEIGHTS_ID_SIZE)
        return LVC_ERR_CORRUPT;
    h->quality = (uint16_t)quality;
    h->tile_overlap = (uint16_t)overlap;
    memcpy(h->weights_id, p + pos, LVC_WEIGHTS_ID_SIZE);
    pos += LVC_WEIGHTS_ID_SIZE;
    if (ihdr_varint(p, n, &pos, num_boxes))
        return LVC_ERR_CORRUPT;
    return pos == n ? 0 : LVC_ERR_CORRUPT;
}

/* Writes the ihdr payload; returns its size (at most LVC_IHDR_MAX_SIZE). */
static size_t ihdr_pack(uint8_t *p, const LvcImageHeader *h, uint32_t num_boxes)
{
    size_t n = 0;
    n += wr_varint(p + n, h->width);
    n += wr_varint(p + n, h->height);
    p[n++] = h->channels;
    p[n++] = h->bit_depth;
    p[n++] = h->color;
    p[n++] = h->alpha_mode;
    n += wr_varint(p + n, h->quality);
    n += wr_varint(p + n, h->tile_overlap);
    n += wr_varint(p + n, h->tile_w);
    n += wr_varint(p + n, h->tile_h);
    n += wr_varint(p + n, h->model_id);
    memcpy(p + n, h->weights_id, LVC_WEIGHTS_ID_SIZE);
    n += LVC_WEIGHTS_ID_SIZE;
    n += wr_varint(p + n, num_boxes);
    return n;
}

/* (tile, pass, what) as one sortable key. */
static uint64_t sub_key(uint32_t tile, unsigned pass, unsigned what)
{
    return ((uint64_t)tile << 16) | ((uint64_t)(pass & 0xff) << 8) | (what & 0xff);
}

static int what_valid(unsigned what)
{
    return what <= LVC_SUB_PARAMS || what >= LVC_SUB_MODEL_FIRST;
}

/* ------------------------------------------------------------------ parser */

/* One box as located by the walker. */
typedef struct BoxLoc {
    const uint8_t *type;
    uint8_t flags;
    size_t offset, payload_offset, payload_size;
    uint32_t crc;
} BoxLoc;

/* Read and check the box at *pos: bounds, CRC, type characters, flags.
 * Advances *pos past it. */
static int next_box(const uint8_t *buf, size_t size, size_t *pos, BoxLoc *b)
{
    size_t p = *pos;
    const size_t avail = size - p;
    if (avail < 6)
        return LVC_ERR_TRUNCATED;
    uint32_t len;
    int err = 0;
    const size_t nv = rd_varint(buf + p + 5, avail - 5, &len, &err);
    if (!nv)
        return err;
    const size_t hdr = 5 + nv;
    /* Payload and CRC must fit in what is left. */
    if ((uint64_t)len + 4 > avail - hdr)
        return LVC_ERR_LENGTH;
    const uint32_t crc = lvc_rl32(buf + p + hdr + len);
    if (lvc_crc32(0, buf + p, hdr + len) != crc)
        return LVC_ERR_CRC;
    if (!type_valid(buf + p))
        return LVC_ERR_CORRUPT;
    if (buf[p + 4] & ~LVC_BOX_MANDATORY)
        return LVC_ERR_CORRUPT;
    b->type = buf + p;
    b->flags = buf[p + 4];
    b->offset = p;
    b->payload_offset = p + hdr;
    b->payload_size = len;
    b->crc = crc;
    *pos = p + hdr + len + 4;
    return 0;
}

int lvc_container_check_header(const uint8_t *buf, size_t size, int kind)
{
    static const uint8_t magic[4] = { 0x89, 'L', 'V', 'C' };
    if (size < 4) {
        /* A prefix of the magic is a truncated stream, anything else is
         * not ours. */
        return size && memcmp(buf, magic, size) ? LVC_ERR_BAD_MAGIC : LVC_ERR_TRUNCATED;
    }
    if (memcmp(buf, magic, 4))
        return LVC_ERR_BAD_MAGIC;
    if (size < LVC_CONTAINER_HEADER_SIZE)
        return LVC_ERR_TRUNCATED;
    if (buf[4] != LVC_CONTAINER_VERSION)
        return LVC_ERR_VERSION;
    if (buf[5] != kind)
        return LVC_ERR_KIND;
    return 0;
}

static void box_desc(const BoxLoc *b, LvcBoxDesc *d)
{
    memcpy(d->type, b->type, 4);
    d->flags = b->flags;
    d->offset = b->offset;
    d->payload_offset = b->payload_offset;
    d->payload_size = b->payload_size;
    d->crc32 = b->crc;
}

int lvc_container_next_box(const uint8_t *buf, size_t size, size_t *pos, LvcBoxDesc *d)
{
    if (*pos > size)
        return LVC_ERR_TRUNCATED;
    BoxLoc b;
    const int err = next_box(buf, size, pos, &b);
    if (err)
        return err;
    box_desc(&b, d);
    return 0;
}

typedef enum BoxClass { BOX_IHDR, BOX_PARM, BOX_SSTR, BOX_TILE, BOX_EXTRA } BoxClass;

/* Classify a box after ihdr; an unknown mandatory box is an error, a known
 * box must carry the mandatory flag. */
static int classify(const BoxLoc *b, BoxClass *cls)
{
    const char *t = (const char *)b->type;
    if (type_is(t, LVC_BOX_IHDR))
        *cls = BOX_IHDR;
    else if (type_is(t, LVC_BOX_PARM))
        *cls = BOX_PARM;
    else if (type_is(t, LVC_BOX_SSTR))
        *cls = BOX_SSTR;
    else if (type_is(t, LVC_BOX_TILE))
        *cls = BOX_TILE;
    else {
        if (b->flags & LVC_BOX_MANDATORY)
            return LVC_ERR_UNKNOWN_BOX;
        *cls = BOX_EXTRA;
        return 0;
    }
    if (!(b->flags & LVC_BOX_MANDATORY))
        return LVC_ERR_CORRUPT;
    return 0;
}

static int parse_sstr(const uint8_t *buf, const BoxLoc *b, LvcSubstream *s)
{
    const uint8_t *p = buf + b->payload_offset;
    int err = LVC_ERR_CORRUPT;
    uint32_t tile;
    const size_t nv = rd_varint(p, b->payload_size, &tile, &err);
    /* A varint running past the payload is a malformed box, not a
     * truncated stream: the box itself is complete. */
    if (!nv)
        return LVC_ERR_CORRUPT;
    if (b->payload_size - nv < 2)
        return LVC_ERR_CORRUPT;
    s->tile = tile;
    s->pass = p[nv];
    s->what = p[nv + 1];
    s->data = p + nv + 2;
    s->size = b->payload_size - nv - 2;
    if (!what_valid(s->what))
        return LVC_ERR_CORRUPT;
    return 0;
}

/* Per-tile bookkeeping while walking substreams, which arrive sorted: only
 * the current tile's state is needed to check coverage and alpha. */
typedef struct TileCheck {
    uint64_t last_key;
    int have_last;
    uint32_t tiles_seen;      /* distinct tiles so far (tiles arrive in order) */
    uint32_t cur_tile;
    int cur_alpha;            /* alpha substreams in cur_tile */
    int cur_closed;           /* cur_tile came in a tile box: it is complete */
} TileCheck;

static int tile_check_end_tile(const TileCheck *tc, const LvcImageHeader *h)
{
    if (!tc->have_last)
        return 0;
    if (h->alpha_mode == LVC_ALPHA_ZLIB && tc->cur_alpha != 1)
        return LVC_ERR_CORRUPT;
    return 0;
}

static int tile_check_add(TileCheck *tc, const LvcImageHeader *h, const LvcSubstream *s)
{
    if (s->tile >= h->num_tiles)
        return LVC_ERR_CORRUPT;
    const uint64_t key = sub_key(s->tile, s->pass, s->what);
    if (tc->have_last && key <= tc->last_key)
        return LVC_ERR_CORRUPT;   /* out of order or duplicate */
    if (tc->have_last && s->tile == tc->cur_tile && tc->cur_closed)
        return LVC_ERR_CORRUPT;   /* more of a tile after its tile box */
    if (!tc->have_last || s->tile != tc->cur_tile) {
        int err = tile_check_end_tile(tc, h);
        if (err)
            return err;
        /* Tiles must be covered without gaps: the next tile seen must be
         * the next index. */
        if (s->tile != tc->tiles_seen)
            return LVC_ERR_CORRUPT;
        tc->tiles_seen++;
        tc->cur_tile = s->tile;
        tc->cur_alpha = 0;
        tc->cur_closed = 0;
    }
    if (s->what == LVC_SUB_ALPHA) {
        if (h->alpha_mode != LVC_ALPHA_ZLIB || s->pass != 0)
            return LVC_ERR_CORRUPT;
        tc->cur_alpha++;
    }
    tc->last_key = key;
    tc->have_last = 1;
    return 0;
}

static int tile_check_finish(const TileCheck *tc, const LvcImageHeader *h)
{
    int err = tile_check_end_tile(tc, h);
    if (err)
        return err;
    if (tc->tiles_seen != h->num_tiles)
        return LVC_ERR_CORRUPT;   /* a tile has no substream */
    return 0;
}

/* Reads the entry table of a tile box: tile, count, then per entry pass,
 * what and (all but the last) size; the data follow in entry order and the
 * last entry takes what is left. A tile box holds every substream of its
 * tile: none may come before it (in an sstr box) or after it. Calls
 * tile_check_add for every substream and stores them at subs (when not
 * NULL); more than room substreams is LVC_ERR_LIMIT, checked last so that
 * a malformed box reports CORRUPT whatever the limit. *n_out gets the
 * count. */
static int parse_tile(const uint8_t *buf, const BoxLoc *b, const LvcImageHeader *h,
                      TileCheck *tc, uint64_t room, LvcSubstream *subs, uint32_t *n_out)
{
    const uint8_t *p = buf + b->payload_offset;
    const size_t size = b->payload_size;
    int err = LVC_ERR_CORRUPT;
    uint32_t tile, n;
    size_t pos = rd_varint(p, size, &tile, &err);
    if (!pos)
        return LVC_ERR_CORRUPT;   /* the box is complete: a malformed table */
    size_t nv = rd_varint(p + pos, size - pos, &n, &err);
    if (!nv)
        return LVC_ERR_CORRUPT;
    pos += nv;
    /* every entry takes at least its two tag bytes */
    if (n == 0 || n > (size - pos) / 2)
        return LVC_ERR_CORRUPT;
    if (tc->have_last && tc->cur_tile == tile)
        return LVC_ERR_CORRUPT;   /* the tile already has substreams */
    /* First the table (sizes summed), then the data offsets. */
    size_t tab = pos;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (size - tab < 2)
            return LVC_ERR_CORRUPT;
        tab += 2;
        if (i + 1 < n) {
            uint32_t len;
            if (!(nv = rd_varint(p + tab, size - tab, &len, &err)))
                return LVC_ERR_CORRUPT;
            tab += nv;
            sum += len;
        }
    }
    if (sum > size - tab)
        return LVC_ERR_CORRUPT;   /* sizes run past the payload */
    size_t data = tab;
    for (uint32_t i = 0; i < n; i++) {
        LvcSubstream s = { .tile = tile, .pass = p[pos], .what = p[pos + 1] };
        pos += 2;
        uint32_t len = 0;
        if (i + 1 < n)
            pos += rd_varint(p + pos, size - pos, &len, &err);
        else
            len = (uint32_t)(size - data);
        if (!what_valid(s.what))
            return LVC_ERR_CORRUPT;
        s.data = p + data;
        s.size = len;
        data += len;
        if ((err = tile_check_add(tc, h, &s)))
            return err;
        /* (the fill pass has room: the count pass checked the same n) */
        if (subs && i < room)
            subs[i] = s;
    }
    if (n > room)
        return LVC_ERR_LIMIT;
    tc->cur_closed = 1;
    *n_out = n;
    return 0;
}

static uint64_t lim_or(uint64_t v, uint64_t def)
{
    return v ? v : def;
}

/* Validate the stream. With out == NULL only counts (first pass); with out
 * set, its arrays (already sized by the counts) are filled. */
static int walk(const uint8_t *buf, size_t size, const LvcContainerLimits *lim,
                LvcContainer *out, uint32_t *n_sub, uint32_t *n_extra,
                uint32_t *n_boxes, LvcImageHeader *hdr_out)
{
    int err = lvc_container_check_header(buf, size, LVC_KIND_IMAGE);
    if (err)
        return err;

    size_t pos = LVC_CONTAINER_HEADER_SIZE;
    BoxLoc b;
    err = next_box(buf, size, &pos, &b);
    if (err)
        return err;
    if (!type_is((const char *)b.type, LVC_BOX_IHDR) || !(b.flags & LVC_BOX_MANDATORY))
        return LVC_ERR_CORRUPT;   /* missing header box */
    LvcImageHeader h;
    uint32_t num_boxes;
    if ((err = ihdr_unpack(buf + b.payload_offset, b.payload_size, &h, &num_boxes)) ||
        (err = lvc_image_header_validate(&h)))
        return err;
    const uint64_t max_side = lim_or(lim ? lim->max_side : 0, LVC_DEFAULT_MAX_SIDE);
    const uint64_t max_pix = lim_or(lim ? lim->max_pixels : 0, LVC_DEFAULT_MAX_PIXELS);
    const uint64_t max_boxes = lim_or(lim ? lim->max_boxes : 0, LVC_DEFAULT_MAX_BOXES);
    if (h.width > max_side || h.height > max_side ||
        (uint64_t)h.width * h.height > max_pix)
        return LVC_ERR_DIMENSIONS;
    if (num_boxes > max_boxes)
        return LVC_ERR_LIMIT;
    if (h.num_tiles > num_boxes)
        return LVC_ERR_CORRUPT;   /* every tile needs a substream box */
    if ((uint64_t)num_boxes * LVC_BOX_MIN_SIZE > size - pos)
        return LVC_ERR_TRUNCATED;

    if (out)
        box_desc(&b, &out->boxes[0]);

    uint32_t ns = 0, ne = 0;
    int seen_parm = 0;
    TileCheck tc = { 0 };
    for (uint32_t i = 0; i < num_boxes; i++) {
        if (pos == size)
            return LVC_ERR_TRUNCATED;   /* fewer boxes than announced */
        if ((err = next_box(buf, size, &pos, &b)))
            return err;
        BoxClass cls;
        if ((err = classify(&b, &cls)))
            return err;
        switch (cls) {
        case BOX_IHDR:
            return LVC_ERR_CORRUPT;     /* duplicate header */
        case BOX_PARM:
            if (seen_parm || ns)
                return LVC_ERR_CORRUPT; /* at most one, before the substreams */
            seen_parm = 1;
            if (out) {
                out->has_params = 1;
                out->params = buf + b.payload_offset;
                out->params_size = b.payload_size;
            }
            break;
        case BOX_SSTR: {
            LvcSubstream s;
            if ((err = parse_sstr(buf, &b, &s)))
                return err;
            if ((err = tile_check_add(&tc, &h, &s)))
                return err;
            if (ns >= max_boxes)
                return LVC_ERR_LIMIT;
            if (out && out->subs)
                out->subs[ns] = s;
            ns++;
            break;
        }
        case BOX_TILE: {
            uint32_t n;
            if ((err = parse_tile(buf, &b, &h, &tc, max_boxes - ns,
                                  out && out->subs ? out->subs + ns : NULL, &n)))
                return err;
            ns += n;
            break;
        }
        case BOX_EXTRA:
            if (out) {
                LvcRawBox *x = &out->extra[ne];
                memcpy(x->type, b.type, 4);
                x->flags = b.flags;
                x->data = buf + b.payload_offset;
                x->size = b.payload_size;
            }
            ne++;
            break;
        }
        if (out)
            box_desc(&b, &out->boxes[i + 1]);
    }
    if ((err = tile_check_finish(&tc, &h)))
        return err;
    if (pos != size)
        return LVC_ERR_CORRUPT;   /* trailing data after the last box */
    *n_sub = ns;
    *n_extra = ne;
    *n_boxes = num_boxes + 1;
    *hdr_out = h;
    return 0;
}

/* The parser; with_subs 0 leaves subs NULL (num_subs still counted), for
 * the info calls: a tile box can hold a substream per two bytes, and
 * those calls parse with the format's limits, not the decoder's. */
static int parse(const uint8_t *buf, size_t size, const LvcContainerLimits *lim,
                 LvcContainer *out, int with_subs)
{
    if (!out)
        return LVC_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    if (!buf && size)
        return LVC_ERR_INVALID_ARG;
    if (!buf)
        return LVC_ERR_TRUNCATED;

    uint32_t ns, ne, nb;
    LvcImageHeader h;
    int err = walk(buf, size, lim, NULL, &ns, &ne, &nb, &h);
    if (err)
        return err;

    LvcContainer c = { 0 };
    c.version = LVC_CONTAINER_VERSION;
    c.kind = LVC_KIND_IMAGE;
    c.hdr = h;
    /* +1: a valid zero-size allocation even when a count is 0. */
    c.subs = with_subs ? lvc_malloc_array((size_t)ns + 1, sizeof(*c.subs)) : NULL;
    c.extra = lvc_malloc_array((size_t)ne + 1, sizeof(*c.extra));
    c.boxes = lvc_malloc_array(nb, sizeof(*c.boxes));
    if ((with_subs && !c.subs) || !c.extra || !c.boxes) {
        err = LVC_ERR_NOMEM;
        goto error;
    }
    err = walk(buf, size, lim, &c, &ns, &ne, &nb, &h);
    if (err)
        goto error;   /* cannot happen: same input as the first pass */
    c.num_subs = ns;
    c.num_extra = ne;
    c.num_boxes = nb;
    *out = c;
    return 0;

error:
    lvc_container_free(&c);
    return err;
}

int lvc_container_parse(const uint8_t *buf, size_t size,
                        const LvcContainerLimits *lim, LvcContainer *out)
{
    return parse(buf, size, lim, out, 1);
}

void lvc_container_free(LvcContainer *c)
{
    if (!c)
        return;
    lvc_free(c->subs);
    lvc_free(c->extra);
    lvc_free(c->boxes);
    memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ writer */

static int cmp_sub_ptr(const void *a, const void *b)
{
    const LvcSubstream *x = *(const LvcSubstream *const *)a;
    const LvcSubstream *y = *(const LvcSubstream *const *)b;
    const uint64_t kx = sub_key(x->tile, x->pass, x->what);
    const uint64_t ky = sub_key(y->tile, y->pass, y->what);
    return kx < ky ? -1 : kx > ky;
}

/* Bytes of a box with this payload size, or 0 when it cannot be written
 * (payload above 2^32-1 or size_t overflow). */
static size_t box_size(size_t payload)
{
    if (payload > UINT32_MAX)
        return 0;
    const size_t n = 4 + 1 + varint_size((uint32_t)payload) + 4;
    if (payload > SIZE_MAX - n)
        return 0;
    return n + payload;
}

/* Writes a box whose payload is prefix[np] followed by data[nd]. */
static uint8_t *put_box(uint8_t *p, const char type[4], uint8_t flags,
                        const uint8_t *prefix, size_t np, const uint8_t *data, size_t nd)
{
    uint8_t *start = p;
    memcpy(p, type, 4);
    p[4] = flags;
    p += 5;
    p += wr_varint(p, (uint32_t)(np + nd));
    if (np)
        memcpy(p, prefix, np);
    p += np;
    if (nd)
        memcpy(p, data, nd);
    p += nd;
    lvc_wl32(p, lvc_crc32(0, start, (size_t)(p - start)));
    return p + 4;
}

size_t lvc_container_box_size(size_t payload)
{
    return box_size(payload);
}

uint8_t *lvc_container_put_box(uint8_t *p, const char type[4], uint8_t flags,
                               const uint8_t *prefix, size_t np, const uint8_t *data,
                               size_t nd)
{
    return put_box(p, type, flags, prefix, np, data, nd);
}

/* The substreams order[i..j) of one tile: returns j and the tile box's
 * payload size, or 0 when it does not fit a box. */
static uint32_t tile_group(const LvcSubstream *const *order, uint32_t n, uint32_t i,
                           size_t *payload)
{
    uint32_t j = i + 1;
    while (j < n && order[j]->tile == order[i]->tile)
        j++;
    uint64_t sz = varint_size(order[i]->tile) + varint_size(j - i);
    for (uint32_t k = i; k < j; k++) {
        if (order[k]->size > UINT32_MAX || sz > UINT32_MAX)
            return 0;
        sz += 2 + (uint64_t)order[k]->size;
        if (k + 1 < j)
            sz += varint_size((uint32_t)order[k]->size);
    }
    if (sz > UINT32_MAX || sz > SIZE_MAX)
        return 0;
    *payload = (size_t)sz;
    return j;
}

/* Writes the tile box of the n substreams at subs (one tile, sorted). */
static uint8_t *put_tile_box(uint8_t *p, const LvcSubstream *const *subs, uint32_t n,
                             size_t payload)
{
    uint8_t *start = p;
    memcpy(p, LVC_BOX_TILE, 4);
    p[4] = LVC_BOX_MANDATORY;
    p += 5;
    p += wr_varint(p, (uint32_t)payload);
    p += wr_varint(p, subs[0]->tile);
    p += wr_varint(p, n);
    for (uint32_t k = 0; k < n; k++) {
        *p++ = subs[k]->pass;
        *p++ = subs[k]->what;
        if (k + 1 < n)
            p += wr_varint(p, (uint32_t)subs[k]->size);
    }
    for (uint32_t k = 0; k < n; k++) {
        if (subs[k]->size)
            memcpy(p, subs[k]->data, subs[k]->size);
        p += subs[k]->size;
    }
    lvc_wl32(p, lvc_crc32(0, start, (size_t)(p - start)));
    return p + 4;
}

int lvc_container_write(const LvcContainer *c, uint8_t **out, size_t *out_size)
{
    if (out)
        *out = NULL;
    if (out_size)
        *out_size = 0;
    if (!c || !out || !out_size)
        return LVC_ERR_INVALID_ARG;
    if ((c->num_subs && !c->subs) || (c->num_extra && !c->extra) ||
        (c->has_params && c->params_size && !c->params))
        return LVC_ERR_INVALID_ARG;

    LvcImageHeader h = c->hdr;
    int err = lvc_image_header_validate(&h);
    if (err)
        return err;

    const LvcSubstream **order = NULL;
    uint8_t *buf = NULL;
    order = lvc_malloc_array((size_t)c->num_subs + 1, sizeof(*order));
    if (!order)
        return LVC_ERR_NOMEM;
    for (uint32_t i = 0; i < c->num_subs; i++)
        order[i] = &c->subs[i];
    qsort(order, c->num_subs, sizeof(*order), cmp_sub_ptr);

    /* Same rules as the parser, so what we write parses. */
    TileCheck tc = { 0 };
    for (uint32_t i = 0; i < c->num_subs; i++) {
        const LvcSubstream *s = order[i];
        if ((s->size && !s->data) || !what_valid(s->what)) {
            err = LVC_ERR_INVALID_ARG;
            goto error;
        }
        if ((err = tile_check_add(&tc, &h, s)))
            goto error;
    }
    if ((err = tile_check_finish(&tc, &h)))
        goto error;
    /* One tile box per tile (the substreams arrive grouped by tile). */
    const uint64_t nboxes64 = (uint64_t)h.num_tiles + c->num_extra + (c->has_params ? 1 : 0);
    if (nboxes64 > UINT32_MAX) {
        err = LVC_ERR_LIMIT;
        goto error;
    }
    for (uint32_t i = 0; i < c->num_extra; i++) {
        const LvcRawBox *x = &c->extra[i];
        if (!type_valid((const uint8_t *)x->type) || (x->flags & ~LVC_BOX_MANDATORY) ||
            (x->size && !x->data)) {
            err = LVC_ERR_INVALID_ARG;
            goto error;
        }
    }

    /* Total size, overflow-checked. */
    uint8_t ihdr[LVC_IHDR_MAX_SIZE];
    const size_t ihdr_size = ihdr_pack(ihdr, &h, (uint32_t)nboxes64);
    size_t total = LVC_CONTAINER_HEADER_SIZE + box_size(ihdr_size);
    size_t bs;
    if (c->has_params) {
        if (!(bs = box_size(c->params_size)) || bs > SIZE_MAX - total)
            goto too_big;
        total += bs;
    }
    for (uint32_t i = 0, j; i < c->num_subs; i = j) {
        size_t payload;
        j = tile_group(order, c->num_subs, i, &payload);
        if (!j || !(bs = box_size(payload)) || bs > SIZE_MAX - total)
            goto too_big;
        total += bs;
    }
    for (uint32_t i = 0; i < c->num_extra; i++) {
        if (!(bs = box_size(c->extra[i].size)) || bs > SIZE_MAX - total)
            goto too_big;
        total += bs;
    }

    /* Plain malloc: the buffer is handed to API users who free() it. */
    if (lvc_mem_inject_fail() || !(buf = malloc(total))) {
        err = LVC_ERR_NOMEM;
        goto error;
    }
    uint8_t *p = buf;
    memcpy(p, LVC_CONTAINER_MAGIC, 4);
    p[4] = LVC_CONTAINER_VERSION;
    p[5] = LVC_KIND_IMAGE;
    p += LVC_CONTAINER_HEADER_SIZE;
    p = put_box(p, LVC_BOX_IHDR, LVC_BOX_MANDATORY, ihdr, ihdr_size, NULL, 0);
    if (c->has_params)
        p = put_box(p, LVC_BOX_PARM, LVC_BOX_MANDATORY, NULL, 0, c->params, c->params_size);
    for (uint32_t i = 0, j; i < c->num_subs; i = j) {
        size_t payload;
        j = tile_group(order, c->num_subs, i, &payload);
        p = put_tile_box(p, order + i, j - i, payload);
    }
    for (uint32_t i = 0; i < c->num_extra; i++) {
        const LvcRawBox *x = &c->extra[i];
        p = put_box(p, x->type, x->flags, NULL, 0, x->data, x->size);
    }
    lvc_free(order);
    *out = buf;
    *out_size = total;
    return 0;

too_big:
    err = LVC_ERR_LIMIT;
error:
    lvc_free(order);
    free(buf);
    return err;
}

/* --------------------------------------------------------------- helpers */

int lvc_container_check_model(const LvcContainer *c, uint32_t id, const uint8_t hash[32])
{
    if (!c || !hash)
        return LVC_ERR_INVALID_ARG;
    if (c->hdr.model_id != id) {
        lvc_log(LVC_LOG_ERROR, "stream needs model id %u, not %u",
                (unsigned)c->hdr.model_id, (unsigned)id);
        return LVC_ERR_MODEL_UNKNOWN;
    }
    if (memcmp(c->hdr.weights_id, hash, LVC_WEIGHTS_ID_SIZE)) {
        char want[2 * LVC_WEIGHTS_ID_SIZE + 1], have[2 * LVC_WEIGHTS_ID_SIZE + 1];
        lvc_hex_encode(c->hdr.weights_id, LVC_WEIGHTS_ID_SIZE, want);
        lvc_hex_encode(hash, LVC_WEIGHTS_ID_SIZE, have);
        lvc_log(LVC_LOG_ERROR,
                "stream was made with other weights for model id %u: "
                "stream wants weights %s..., this decoder has %s...",
                (unsigned)id, want, have);
        return LVC_ERR_MODEL_HASH;
    }
    return 0;
}

const LvcSubstream *lvc_container_find(const LvcContainer *c, uint32_t tile,
                                       unsigned pass, unsigned what)
{
    if (!c || !c->subs || pass > 0xff || what > 0xff)
        return NULL;
    const uint64_t key = sub_key(tile, pass, what);
    size_t lo = 0, hi = c->num_subs;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const LvcSubstream *s = &c->subs[mid];
        const uint64_t k = sub_key(s->tile, s->pass, s->what);
        if (k == key)
            return s;
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int lvc_container_tile_rect(const LvcImageHeader *h, uint32_t tile,
                            uint32_t *x0, uint32_t *y0, uint32_t *w, uint32_t *h_out)
{
    if (!h || !h->tiles_x || tile >= h->num_tiles)
        return LVC_ERR_INVALID_ARG;
    const uint32_t tx = tile % h->tiles_x, ty = tile / h->tiles_x;
    const uint64_t x = (uint64_t)tx * h->tile_w, y = (uint64_t)ty * h->tile_h;
    const uint64_t xe = x + h->tile_w < h->width ? x + h->tile_w : h->width;
    const uint64_t ye = y + h->tile_h < h->height ? y + h->tile_h : h->height;
    if (x0) *x0 = (uint32_t)x;
    if (y0) *y0 = (uint32_t)y;
    if (w) *w = (uint32_t)(xe - x);
    if (h_out) *h_out = (uint32_t)(ye - y);
    return 0;
}

/* ------------------------------------------------------------- public API */

/* The info calls describe any stream the format allows, so their limits
 * are those of the format, not the decoder's defaults. */
static const LvcContainerLimits info_limits = {
    .max_pixels = UINT64_MAX,
    .max_side = INT32_MAX,
    .max_boxes = UINT32_MAX,
};

int lvc_stream_info(const uint8_t *buf, size_t size, LvcStreamInfo *info)
{
    if (!info)
        return LVC_ERR_INVALID_ARG;
    memset(info, 0, sizeof(*info));
    LvcContainer c;
    int err = parse(buf, size, &info_limits, &c, 0);
    if (err)
        return err;
    info->version = c.version;
    info->kind = c.kind;
    info->width = (int)c.hdr.width;
    info->height = (int)c.hdr.height;
    info->channels = c.hdr.channels;
    info->bit_depth = c.hdr.bit_depth;
    info->quality = (float)c.hdr.quality / LVC_QUALITY_SCALE;
    info->model_id = c.hdr.model_id;
    memcpy(info->weights_id, c.hdr.weights_id, LVC_WEIGHTS_ID_SIZE);
    info->tile_w = (int)c.hdr.tile_w;
    info->tile_h = (int)c.hdr.tile_h;
    info->num_boxes = c.num_boxes > INT_MAX ? INT_MAX : (int)c.num_boxes;
    lvc_container_free(&c);
    return 0;
}

int lvc_stream_boxes(const uint8_t *buf, size_t size, LvcBoxInfo *boxes,
                     int max_boxes, int *num_boxes)
{
    if (num_boxes)
        *num_boxes = 0;
    if (!num_boxes || max_boxes < 0 || (max_boxes > 0 && !boxes))
        return LVC_ERR_INVALID_ARG;
    LvcContainer c;
    int err = parse(buf, size, &info_limits, &c, 0);
    if (err)
        return err;
    for (uint32_t i = 0; i < c.num_boxes && i < (uint32_t)max_boxes; i++) {
        const LvcBoxDesc *d = &c.boxes[i];
        LvcBoxInfo *o = &boxes[i];
        memcpy(o->type, d->type, 4);
        o->type[4] = 0;
        o->mandatory = (d->flags & LVC_BOX_MANDATORY) != 0;
        o->offset = d->offset;
        o->payload_size = d->payload_size;
        o->crc32 = d->crc32;
    }
    *num_boxes = c.num_boxes > INT_MAX ? INT_MAX : (int)c.num_boxes;
    lvc_container_free(&c);
    return 0;
}

int lvc_stream_substreams(const uint8_t *buf, size_t size, LvcSubstreamInfo *subs,
                          int max_subs, int *num_subs)
{
    if (num_subs)
        *num_subs = 0;
    if (!num_subs || max_subs < 0 || (max_subs > 0 && !subs))
        return LVC_ERR_INVALID_ARG;
    /* the format's limits, but a bounded substream count: the substreams
     * are stored (about 16 bytes each per 2 bytes of a hostile tile box) */
    const LvcContainerLimits lim = {
        .max_pixels = UINT64_MAX,
        .max_side = INT32_MAX,
        .max_boxes = LVC_DEFAULT_MAX_BOXES,
    };
    LvcContainer c;
    int err = parse(buf, size, &lim, &c, 1);
    if (err)
        return err;
    for (uint32_t i = 0; i < c.num_subs && i < (uint32_t)max_subs; i++) {
        const LvcSubstream *s = &c.subs[i];
        subs[i] = (LvcSubstreamInfo){ .tile = s->tile, .pass = s->pass, .what = s->what,
                                      .offset = (uint64_t)(s->data - buf), .size = s->size };
    }
    *num_subs = c.num_subs > INT_MAX ? INT_MAX : (int)c.num_subs;
    lvc_container_free(&c);
    return 0;
}
