/*
 * lvc parser: splits concatenated lvc image streams (a pipe of frames)
 *
 * An lvc stream is a 6-byte file header ("\x89LVC", version, kind), an
 * `ihdr` box and the `num_boxes` boxes that `ihdr` announces; each box is 4
 * type bytes in 0x20..0x7E, a flags byte (0 or 1), a LEB128 length of at
 * most 5 bytes, the payload and a 4-byte CRC (lvc's doc/bitstream.md,
 * sections 2 to 4.2). The parser reads the box headers and the `ihdr`
 * payload (at most 52 bytes), skips the other payloads, and cuts each stream
 * after its last box. Bytes that do not parse as a stream are passed on as
 * packets for the decoder to reject, each up to the next 0x89 byte (which
 * starts every stream) or LVC_MAX_JUNK bytes; a stream is cut at
 * LVC_MAX_STREAM bytes the same way, so that the parser holds no more.
 *
 * This file is part of lvc's FFmpeg integration; it is copied into FFmpeg's
 * libavcodec by ffmpeg/build.sh in the lvc tree.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#include <string.h>

#include "parser.h"

#define LVC_MAX_STREAM (1 << 30)  /* as lvcenc's largest input */
#define LVC_MAX_JUNK   (1 << 20)
#define LVC_MAX_IHDR   52         /* the longest ihdr payload */

enum LvcParseState {
    LVC_PARSE_HEADER,   /* inside the 6-byte file header */
    LVC_PARSE_BOX,      /* inside a box's type and flags (5 bytes) */
    LVC_PARSE_LENGTH,   /* inside a box's length varint */
    LVC_PARSE_PAYLOAD,  /* inside a box's payload */
    LVC_PARSE_CRC,      /* inside a box's CRC */
    LVC_PARSE_RESYNC,   /* not a stream: up to the next 0x89 */
};

typedef struct LvcParseContext {
    ParseContext pc;
    enum LvcParseState state;
    int count;              /* bytes of the header, box header, varint or ihdr seen */
    uint8_t type[4];        /* the current box's type */
    uint64_t length;        /* the current box's length */
    uint64_t skip;          /* payload or CRC bytes still to pass */
    uint8_t ihdr[LVC_MAX_IHDR];
    int64_t boxes_left;     /* boxes still to come after the current one; -1 in ihdr */
    uint64_t consumed;      /* bytes of the current stream (or junk) so far */
} LvcParseContext;

static const uint8_t lvc_magic[4] = { 0x89, 'L', 'V', 'C' };

static av_cold int lvc_parse_init(AVCodecParserContext *s)
{
    LvcParseContext *p = s->priv_data;

    p->state      = LVC_PARSE_HEADER;
    p->count      = 0;
    p->boxes_left = -1;
    p->consumed   = 0;
    return 0;
}

static int lvc_varint(const uint8_t *b, int size, int *pos, uint64_t *v)
{
    *v = 0;
    for (int n = 0; n < 5; n++) {
        uint8_t c;

        if (*pos >= size)
            return -1;
        c   = b[(*pos)++];
        *v |= (uint64_t)(c & 0x7F) << (7 * n);
        if (!(c & 0x80))
            return 0;
    }
    return -1;
}

/* num_boxes, the last field of an ihdr payload (width, height: varints;
 * channels, bit_depth, color, alpha_mode: bytes; quality, tile_overlap,
 * tile_w, tile_h, model_id: varints; weights_id: 8 bytes; num_boxes), or -1
 * when the payload does not have that shape. */
static int64_t lvc_ihdr_num_boxes(const uint8_t *b, int size)
{
    int pos = 0;
    uint64_t v;

    for (int k = 0; k < 2; k++)
        if (lvc_varint(b, size, &pos, &v) < 0)
            return -1;
    pos += 4;
    for (int k = 0; k < 5; k++)
        if (lvc_varint(b, size, &pos, &v) < 0)
            return -1;
    pos += 8;
    if (lvc_varint(b, size, &pos, &v) < 0 || pos != size || v > UINT32_MAX)
        return -1;
    return v;
}

/* Offset in buf where the current stream (or junk) ends, or END_NOT_FOUND.
 * Every byte is consumed or a cut is made; a cut is only made after at least
 * one byte of the current stream, so each call makes progress. */
static int lvc_find_frame_end(LvcParseContext *p, const uint8_t *buf, int buf_size)
{
    int i = 0;

    while (i < buf_size) {
        uint8_t b = buf[i];
        uint64_t n;

        if (p->consumed >= LVC_MAX_STREAM ||
            (p->state == LVC_PARSE_RESYNC && p->consumed >= LVC_MAX_JUNK))
            return i;

        switch (p->state) {
        case LVC_PARSE_HEADER:
            /* the magic, version 3, a kind in 1..3: a stream cut inside its
             * header must not take the next stream's 0x89 for them */
            if ((p->count < 4 && b != lvc_magic[p->count]) ||
                (p->count == 4 && b != 3) || (p->count == 5 && (b < 1 || b > 3))) {
                p->state = LVC_PARSE_RESYNC;
                continue;
            }
            if (++p->count == 6) {
                p->state = LVC_PARSE_BOX;
                p->count = 0;
            }
            break;
        case LVC_PARSE_BOX:
            if (p->count < 4 && (b < 0x20 || b > 0x7E)) {
                if (b == lvc_magic[0])          /* a stream cut short, then the next */
                    return i;
                p->state = LVC_PARSE_RESYNC;
                continue;
            }
            if (p->count == 4 && b > 1) {       /* reserved flag bits */
                p->state = LVC_PARSE_RESYNC;
                continue;
            }
            if (p->count < 4)
                p->type[p->count] = b;
            if (++p->count == 5) {
                p->state  = LVC_PARSE_LENGTH;
                p->count  = 0;
                p->length = 0;
            }
            break;
        case LVC_PARSE_LENGTH:
            p->length |= (uint64_t)(b & 0x7F) << (7 * p->count);
            if ((++p->count == 5 && (b & 0x80)) || p->length > UINT32_MAX) {
                p->state = LVC_PARSE_RESYNC;
                continue;
            }
            if (b & 0x80)
                break;
            if (p->boxes_left < 0 &&
                (memcmp(p->type, "ihdr", 4) || p->length > LVC_MAX_IHDR)) {
                p->state = LVC_PARSE_RESYNC;
                continue;
            }
            p->state = LVC_PARSE_PAYLOAD;
            p->skip  = p->length;
            p->count = 0;
            break;
        case LVC_PARSE_PAYLOAD:
            if (!p->skip) {
                p->state = LVC_PARSE_CRC;
                p->skip  = 4;
                continue;
            }
            if (p->boxes_left < 0) {            /* ihdr: keep it */
                p->ihdr[p->count++] = b;
                p->skip--;
                break;
            }
            n            = FFMIN3(p->skip, (uint64_t)(buf_size - i),
                                  LVC_MAX_STREAM - p->consumed);
            i           += n;
            p->consumed += n;
            p->skip     -= n;
            continue;
        case LVC_PARSE_CRC:
            n            = FFMIN3(p->skip, (uint64_t)(buf_size - i),
                                  LVC_MAX_STREAM - p->consumed);
            i           += n;
            p->consumed += n;
            p->skip     -= n;
            if (p->skip)
                continue;                       /* the end of buf */
            if (p->boxes_left < 0) {
                p->boxes_left = lvc_ihdr_num_boxes(p->ihdr, p->count);
                if (p->boxes_left < 0) {
                    p->state = LVC_PARSE_RESYNC;
                    continue;
                }
            } else {
                p->boxes_left--;
            }
            if (!p->boxes_left)
                return i;                       /* after the stream's last box */
            p->state = LVC_PARSE_BOX;
            p->count = 0;
            continue;
        case LVC_PARSE_RESYNC:
            if (b == lvc_magic[0] && p->consumed)
                return i;
            break;
        }
        i++;
        p->consumed++;
    }
    return END_NOT_FOUND;
}

static int lvc_parse(AVCodecParserContext *s, AVCodecContext *avctx,
                     const uint8_t **poutbuf, int *poutbuf_size,
                     const uint8_t *buf, int buf_size)
{
    LvcParseContext *p = s->priv_data;
    int next, ret;

    s->pict_type = AV_PICTURE_TYPE_I;
    s->key_frame = 1;
    s->duration  = 1;

    if (s->flags & PARSER_FLAG_COMPLETE_FRAMES) {
        next = buf_size;
    } else {
        next = lvc_find_frame_end(p, buf, buf_size);
        ret  = ff_combine_frame(&p->pc, next, &buf, &buf_size);
        if (ret < 0) {
            if (ret == AVERROR(ENOMEM)) {
                av_log(avctx, AV_LOG_ERROR, "lvc parser: out of memory, a stream was dropped\n");
                lvc_parse_init(s);
            }
            *poutbuf      = NULL;
            *poutbuf_size = 0;
            return buf_size;
        }
        lvc_parse_init(s);      /* a stream was cut at next, or flushed at the end */
    }
    *poutbuf      = buf;
    *poutbuf_size = buf_size;
    return next;
}

const AVCodecParser ff_lvc_parser = {
    .codec_ids      = { AV_CODEC_ID_LVC },
    .priv_data_size = sizeof(LvcParseContext),
    .parser_init    = lvc_parse_init,
    .parser_parse   = lvc_parse,
    .parser_close   = ff_parse_close,
};
