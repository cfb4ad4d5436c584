/*
 * Little-endian loads/stores, and bounded byte reader/writer for parsing
 * and building containers.
 *
 * LvcByteReader never reads past end: a read that does not fit sets err
 * (sticky) and yields 0, so a parser can read a whole header and check err
 * once at the end. LvcByteWriter grows a buffer (plain malloc memory, so a
 * detached buffer may be handed to API users for free()) or writes into a
 * fixed caller buffer; failures set err (sticky) and drop the write.
 */
#ifndef LVC_COMMON_BITS_H
#define LVC_COMMON_BITS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lvc/lvc.h"

static inline uint16_t lvc_rl16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t lvc_rl32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t lvc_rl64(const uint8_t *p)
{
    return (uint64_t)lvc_rl32(p) | (uint64_t)lvc_rl32(p + 4) << 32;
}
static inline void lvc_wl16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void lvc_wl32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void lvc_wl64(uint8_t *p, uint64_t v)
{
    lvc_wl32(p, (uint32_t)v);
    lvc_wl32(p + 4, (uint32_t)(v >> 32));
}

/* Zigzag mapping of signed to unsigned (0,-1,1,-2.. -> 0,1,2,3..). */
static inline uint64_t lvc_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}
static inline int64_t lvc_unzigzag64(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Longest LEB128 encoding of a uint64_t. */
#define LVC_VARINT_MAX 10

/* ------------------------------------------------------------ reader */

typedef struct LvcByteReader {
    const uint8_t *p, *end;
    int err; /* 0, LVC_ERR_TRUNCATED (read past end) or LVC_ERR_CORRUPT */
} LvcByteReader;

static inline void lvc_br_init(LvcByteReader *r, const uint8_t *buf, size_t size)
{
    r->p = buf;
    r->end = buf + size;
    r->err = 0;
}

static inline size_t lvc_br_left(const LvcByteReader *r)
{
    return (size_t)(r->end - r->p);
}

/* Returns a pointer to the next n bytes and advances, or NULL (err set, the
 * position moved to the end) when fewer remain. */
static inline const uint8_t *lvc_br_ptr(LvcByteReader *r, size_t n)
{
    if (n > lvc_br_left(r)) {
        r->p = r->end;
        if (!r->err)
            r->err = LVC_ERR_TRUNCATED;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

static inline void lvc_br_skip(LvcByteReader *r, size_t n) { (void)lvc_br_ptr(r, n); }

/* Copies n bytes into dst, or zero-fills dst on a short read. */
static inline void lvc_br_bytes(LvcByteReader *r, void *dst, size_t n)
{
    const uint8_t *q = lvc_br_ptr(r, n);
    if (q)
        memcpy(dst, q, n);
    else if (n)
        memset(dst, 0, n);
}

static inline uint8_t lvc_br_u8(LvcByteReader *r)
{
    const uint8_t *q = lvc_br_ptr(r, 1);
    return q ? q[0] : 0;
}
static inline uint16_t lvc_br_u16le(LvcByteReader *r)
{
    const uint8_t *q = lvc_br_ptr(r, 2);
    return q ? lvc_rl16(q) : 0;
}
static inline uint32_t lvc_br_u32le(LvcByteReader *r)
{
    const uint8_t *q = lvc_br_ptr(r, 4);
    return q ? lvc_rl32(q) : 0;
}
static inline uint64_t lvc_br_u64le(LvcByteReader *r)
{
    const uint8_t *q = lvc_br_ptr(r, 8);
    return q ? lvc_rl64(q) : 0;
}

/* Unsigned LEB128, at most 10 bytes. A value above 2^64-1 or an 11th byte
 * sets LVC_ERR_CORRUPT; running out of input sets LVC_ERR_TRUNCATED.
 * Returns 0 on error. Non-minimal encodings (trailing 0x80..0x00) are
 * accepted. */
static inline uint64_t lvc_br_varint(LvcByteReader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < LVC_VARINT_MAX; i++) {
        if (r->p >= r->end) {
            if (!r->err)
                r->err = LVC_ERR_TRUNCATED;
            return 0;
        }
        uint8_t b = *r->p++;
        /* The 10th byte holds only bit 63: payload above 1 overflows. */
        if (i == LVC_VARINT_MAX - 1 && (b & 0x7e)) {
            if (!r->err)
                r->err = LVC_ERR_CORRUPT;
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return v;
    }
    if (!r->err)
        r->err = LVC_ERR_CORRUPT;
    return 0;
}

static inline int64_t lvc_br_svarint(LvcByteReader *r)
{
    return lvc_unzigzag64(lvc_br_varint(r));
}

/* ------------------------------------------------------------ writer */

typedef struct LvcByteWriter {
    uint8_t *buf;
    size_t size;    /* bytes written */
    size_t cap;
    size_t max;     /* growth limit in bytes (0: none) */
    int fixed;      /* buf belongs to the caller and never grows */
    int err;        /* 0, LVC_ERR_NOMEM, LVC_ERR_BUFFER_FULL or LVC_ERR_LIMIT */
} LvcByteWriter;

/* Growing writer, initially empty (no allocation until the first put). */
static inline void lvc_bw_init(LvcByteWriter *w)
{
    memset(w, 0, sizeof(*w));
}

/* Writer over a caller buffer of cap bytes; overflow sets
 * LVC_ERR_BUFFER_FULL and nothing past cap is ever written. */
static inline void lvc_bw_init_fixed(LvcByteWriter *w, uint8_t *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
    w->fixed = 1;
}

/* Ensures room for n more bytes; 0 or the (sticky) error. */
int lvc_bw_grow(LvcByteWriter *w, size_t n);

static inline int lvc_bw_reserve(LvcByteWriter *w, size_t n)
{
    if (w->err)
        return w->err;
    if (n <= w->cap - w->size)
        return 0;
    return lvc_bw_grow(w, n);
}

static inline void lvc_bw_bytes(LvcByteWriter *w, const void *src, size_t n)
{
    if (n && !lvc_bw_reserve(w, n)) {
        memcpy(w->buf + w->size, src, n);
        w->size += n;
    }
}
static inline void lvc_bw_u8(LvcByteWriter *w, uint8_t v)
{
    if (!lvc_bw_reserve(w, 1))
        w->buf[w->size++] = v;
}
static inline void lvc_bw_u16le(LvcByteWriter *w, uint16_t v)
{
    if (!lvc_bw_reserve(w, 2)) {
        lvc_wl16(w->buf + w->size, v);
        w->size += 2;
    }
}
static inline void lvc_bw_u32le(LvcByteWriter *w, uint32_t v)
{
    if (!lvc_bw_reserve(w, 4)) {
        lvc_wl32(w->buf + w->size, v);
        w->size += 4;
    }
}
static inline void lvc_bw_u64le(LvcByteWriter *w, uint64_t v)
{
    if (!lvc_bw_reserve(w, 8)) {
        lvc_wl64(w->buf + w->size, v);
        w->size += 8;
    }
}
/* Minimal LEB128 encoding (1..10 bytes). */
static inline void lvc_bw_varint(LvcByteWriter *w, uint64_t v)
{
    uint8_t tmp[LVC_VARINT_MAX];
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        tmp[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    lvc_bw_bytes(w, tmp, n);
}
static inline void lvc_bw_svarint(LvcByteWriter *w, int64_t v)
{
    lvc_bw_varint(w, lvc_zigzag64(v));
}

/* Overwrite 4 bytes already written at pos (back-patching a length field).
 * Sets LVC_ERR_INVALID_ARG if pos+4 > size. */
static inline void lvc_bw_patch_u32le(LvcByteWriter *w, size_t pos, uint32_t v)
{
    if (w->err)
        return;
    if (pos > w->size || w->size - pos < 4) {
        w->err = LVC_ERR_INVALID_ARG;
        return;
    }
    lvc_wl32(w->buf + pos, v);
}

/* Growing writer: hands the buffer (plain malloc memory, release with
 * free()) and its size to the caller and resets w. If w->err is set,
 * returns it, frees the buffer and sets *out = NULL, *size = 0. An empty
 * writer yields a valid 1-byte allocation with *size = 0. For a fixed
 * writer *out is the caller's buffer. */
int lvc_bw_detach(LvcByteWriter *w, uint8_t **out, size_t *size);
/* Frees a growing writer's buffer; zeroes w. */
void lvc_bw_free(LvcByteWriter *w);

#endif /* LVC_COMMON_BITS_H */
