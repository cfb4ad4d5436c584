/*
 * The lvc container: a 6-byte file header followed by CRC-protected boxes.
 * doc/bitstream.md is the normative description; this header is the API the
 * encode/decode pipelines use to write and parse it.
 *
 * Parsing never copies payloads: every pointer in a parsed LvcContainer
 * points into the caller's buffer, which must outlive the container.
 */
#ifndef LVC_CODEC_CONTAINER_H
#define LVC_CODEC_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"

/* File header: magic, version, kind. */
#define LVC_CONTAINER_MAGIC        "\x89LVC"
#define LVC_CONTAINER_HEADER_SIZE  6
#define LVC_CONTAINER_VERSION      LVC_BITSTREAM_VERSION

enum {
    LVC_KIND_IMAGE  = 1,
    LVC_KIND_VIDEO  = 2,   /* reserved: not parsed by this version */
    LVC_KIND_SPLATS = 3,   /* reserved */
};

/* Box flags (one byte; the other bits are reserved and must be zero). */
#define LVC_BOX_MANDATORY 0x01

/* Box types of the image kind. */
#define LVC_BOX_IHDR "ihdr"  /* image header, first box, mandatory */
#define LVC_BOX_PARM "parm"  /* model side information, at most one, mandatory */
#define LVC_BOX_SSTR "sstr"  /* one entropy-coded substream, mandatory */
#define LVC_BOX_TILE "tile"  /* every substream of one tile, mandatory */

/* Smallest possible box: type(4) + flags(1) + length(1) + CRC(4). */
#define LVC_BOX_MIN_SIZE   10
/* Largest ihdr payload: seven varints of at most 5 bytes, four bytes, the
 * weights id and the box count varint. */
#define LVC_IHDR_MAX_SIZE  (8 * 5 + 4 + LVC_WEIGHTS_ID_SIZE)

/* Colour format of the coded planes (ihdr.color). */
enum {
    LVC_COLOR_RGB   = 0,   /* three planes R, G, B */
    LVC_COLOR_GRAY  = 1,   /* one plane; channels 1 or 2 only */
    LVC_COLOR_YCBCR = 2,   /* three planes, BT.709 full range (reserved for models) */
};

/* Alpha handling (ihdr.alpha_mode). */
enum {
    LVC_ALPHA_NONE = 0,    /* no alpha: channels is 1 or 3 */
    LVC_ALPHA_ZLIB = 1,    /* per-tile lossless alpha substream (what = ALPHA) */
};

/* What a substream holds (sstr.what). 4..127 are reserved (rejected);
 * 128..255 are private to the model named in the header. */
enum {
    LVC_SUB_Z      = 0,    /* hyper-latent */
    LVC_SUB_Y      = 1,    /* latent (one pass/slice group per 'pass') */
    LVC_SUB_ALPHA  = 2,    /* lossless alpha plane of the tile */
    LVC_SUB_PARAMS = 3,    /* per-tile model parameters (e.g. INR weights) */
    LVC_SUB_MODEL_FIRST = 128,
};

#define LVC_QUALITY_SCALE 100  /* ihdr.quality = round(q * 100), 0..10000 */
#define LVC_QUALITY_MAX   10000

/* Everything the ihdr box carries, plus the derived tile counts. */
typedef struct LvcImageHeader {
    uint32_t width, height;    /* 1 .. 2^31-1 */
    uint8_t channels;          /* channels of the decoded image, 1..4 */
    uint8_t bit_depth;         /* 8 or 16 */
    uint8_t color;             /* LVC_COLOR_* */
    uint8_t alpha_mode;        /* LVC_ALPHA_* */
    uint16_t quality;          /* quality * 100; the exact value the model used */
    uint16_t tile_overlap;     /* pixels of context on each inner tile edge */
    uint32_t tile_w, tile_h;   /* >= 1; may exceed the image (one tile) */
    uint32_t model_id;
    uint8_t weights_id[LVC_WEIGHTS_ID_SIZE]; /* first bytes of the SHA-256 of
                                              * the model's weights */
    /* Derived on parse (ignored by the writer, which derives them too). */
    uint32_t tiles_x, tiles_y, num_tiles;
} LvcImageHeader;

/* One substream (from an sstr box or an entry of a tile box). data points
 * into the stream (parse) or at caller memory (write). */
typedef struct LvcSubstream {
    uint32_t tile;             /* tile index, row-major, < num_tiles */
    uint8_t pass;              /* context-model pass / slice group */
    uint8_t what;              /* LVC_SUB_* */
    const uint8_t *data;
    size_t size;
} LvcSubstream;

/* A box the container layer does not interpret: on parse, the unknown
 * optional boxes that were skipped; on write, extra boxes appended after
 * the substreams (tests use it to craft streams). */
typedef struct LvcRawBox {
    char type[4];
    uint8_t flags;             /* LVC_BOX_MANDATORY or 0 */
    const uint8_t *data;
    size_t size;
} LvcRawBox;

/* Every box of a parsed stream, in stream order. */
typedef struct LvcBoxDesc {
    char type[4];
    uint8_t flags;
    size_t offset;             /* of the box's first byte (its type) */
    size_t payload_offset;
    size_t payload_size;
    uint32_t crc32;
} LvcBoxDesc;

typedef struct LvcContainer {
    int version, kind;
    LvcImageHeader hdr;
    /* parm box: has_params is 1 when present (params_size may be 0). */
    int has_params;
    const uint8_t *params;
    size_t params_size;
    /* Substreams of the sstr and tile boxes, sorted by (tile, pass, what),
     * no duplicates. */
    LvcSubstream *subs;
    uint32_t num_subs;
    /* Unknown optional boxes (parse) / extra boxes to append (write). */
    LvcRawBox *extra;
    uint32_t num_extra;
    /* All boxes including ihdr (parse only). */
    LvcBoxDesc *boxes;
    uint32_t num_boxes;
} LvcContainer;

/* Limits a parser enforces before allocating anything sized by the stream.
 * A zero field means the default. */
typedef struct LvcContainerLimits {
    uint64_t max_pixels;       /* width*height; default 1 << 28 */
    uint32_t max_side;         /* width and height; default 1 << 16 */
    uint32_t max_boxes;        /* boxes after ihdr, and substreams; default 1 << 20 */
} LvcContainerLimits;

#define LVC_DEFAULT_MAX_PIXELS (UINT64_C(1) << 28)
#define LVC_DEFAULT_MAX_SIDE   (UINT32_C(1) << 16)
#define LVC_DEFAULT_MAX_BOXES  (UINT32_C(1) << 20)

/* Parse and validate a whole image stream (header, every box, every CRC,
 * every structural rule of doc/bitstream.md). lim may be NULL (defaults).
 * On success *out holds arrays owned by it (release with
 * lvc_container_free) and pointers into buf; on failure *out is zeroed and
 * nothing is allocated. Errors: LVC_ERR_BAD_MAGIC, _VERSION, _KIND,
 * _TRUNCATED, _LENGTH, _CRC, _DIMENSIONS, _CORRUPT, _UNKNOWN_BOX, _LIMIT,
 * _NOMEM, _INVALID_ARG. */
int lvc_container_parse(const uint8_t *buf, size_t size,
                        const LvcContainerLimits *lim, LvcContainer *out);

/* Release what lvc_container_parse allocated and zero *c. Safe on a zeroed
 * container. Do not call it on a caller-built container given to write. */
void lvc_container_free(LvcContainer *c);

/* Serialize an image stream. c is read-only and caller-owned: c->hdr (the
 * derived tile fields are ignored), has_params/params, subs (any order:
 * they are written sorted, one tile box per tile), extra (written after
 * the substreams, flags and types as given); version, kind, boxes are ignored. The header and the
 * substream set are validated by the same rules as the parser (with no
 * size limits), so a stream that writes also parses. On success *out is a
 * malloc'd buffer of *out_size bytes that the caller releases with free();
 * on failure *out is NULL and *out_size 0. */
int lvc_container_write(const LvcContainer *c, uint8_t **out, size_t *out_size);
/* The box layer alone, for the kinds other than images (codec/splat.c).
 * next_box reads and checks the box at *pos (section 3.3: bounds, CRC, type
 * characters, reserved flags) and advances *pos past it. box_size is the
 * size of a box with that payload, or 0 when it cannot be written; put_box
 * writes one whose payload is prefix[np] followed by data[nd] at p (which
 * must have box_size(np + nd) bytes) and returns the end. */
int lvc_container_next_box(const uint8_t *buf, size_t size, size_t *pos, LvcBoxDesc *b);
/* The file header (section 2): magic, version, and that the kind is
 * `kind`; 0 or the error of the first failed check. */
int lvc_container_check_header(const uint8_t *buf, size_t size, int kind);
size_t lvc_container_box_size(size_t payload);
uint8_t *lvc_container_put_box(uint8_t *p, const char type[4], uint8_t flags,
                               const uint8_t *prefix, size_t np, const uint8_t *data,
                               size_t nd);


/* Check that the stream was made with the model (id, weights hash) the
 * caller has: 0 if the id matches and the stream's weights id is the first
 * LVC_WEIGHTS_ID_SIZE bytes of hash; LVC_ERR_MODEL_UNKNOWN if the id differs
 * (the caller looked up the wrong model); LVC_ERR_MODEL_HASH if the id
 * matches but the weights differ (the stream was made with another
 * training of that model). A message naming both hashes is logged at
 * error level on mismatch. */
int lvc_container_check_model(const LvcContainer *c, uint32_t id,
                              const uint8_t hash[32]);

/* The substream with this tag, or NULL (binary search). */
const LvcSubstream *lvc_container_find(const LvcContainer *c, uint32_t tile,
                                       unsigned pass, unsigned what);

/* Pixel rectangle of a tile (without overlap), clipped to the image.
 * LVC_ERR_INVALID_ARG if tile >= num_tiles. */
int lvc_container_tile_rect(const LvcImageHeader *h, uint32_t tile,
                            uint32_t *x0, uint32_t *y0, uint32_t *w, uint32_t *h_out);

/* Fill the derived fields (tiles_x, tiles_y, num_tiles) and validate the
 * header fields (no size limits). 0, LVC_ERR_DIMENSIONS or LVC_ERR_CORRUPT. */
int lvc_image_header_validate(LvcImageHeader *h);

#endif /* LVC_CODEC_CONTAINER_H */
