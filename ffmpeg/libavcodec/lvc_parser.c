/*
 * lvc parser: splits concatenated lvc image streams (a pipe of frames)
 *
 * An lvc stream is a 6-byte file header ("\x89LVC", version, kind) followed
 * by boxes (4 type bytes in 0x20..0x7E, 1 flags byte, a LEB128 length of at
 * most 5 bytes, the payload, a 4-byte CRC) up to its end; lvc's
 * doc/bitstream.md, sections 2 and 3. A box type is printable ASCII, so a
 * stream ends where a byte that cannot start a box follows one of its boxes,
 * such as the 0x89 of the next stream. The parser walks the box lengths
 * without reading payloads; bytes that do not parse as a stream are passed
 * on, up to the next 0x89, as packets for the decoder to reject. Junk that
 * starts with a printable byte right after a stream parses as one more box
 * of it, and that stream (and what the junk box spans) fails to decode.
 *
 * This file is part of lvc's FFmpeg integration; it is copied into FFmpeg's
 * libavcodec by ffmpeg/build.sh in the lvc tree.
 *
 * FFmpeg is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

#include "parser.h"

enum LvcParseState {
    LVC_PARSE_HEADER,   /* inside the 6-byte file header */
    LVC_PARSE_BOX,      /* inside a box's type and flags (5 bytes) */
    LVC_PARSE_LENGTH,   /* inside a box's length varint */
    LVC_PARSE_SKIP,     /* inside a box's payload and CRC */
    LVC_PARSE_RESYNC,   /* not a stream: up to the next 0x89 */
};

typedef struct LvcParseContext {
    ParseContext pc;
    enum LvcParseState state;
    int count;          /* bytes of the header, box header or varint seen */
    uint64_t length;    /* varint value so far */
    uint64_t skip;      /* payload and CRC bytes still to pass */
} LvcParseContext;

static const uint8_t lvc_magic[4] = { 0x89, 'L', 'V', 'C' };

/* Offset of the next stream's first byte in buf, or END_NOT_FOUND. */
static int lvc_find_frame_end(LvcParseContext *p, const uint8_t *buf, int buf_size)
{
    int i = 0;

    while (i < buf_size) {
        uint8_t b = buf[i];

        switch (p->state) {
        case LVC_PARSE_HEADER:
            if (p->count < 4 && b != lvc_magic[p->count]) {
                p->state = LVC_PARSE_RESYNC;
                break;
            }
            i++;
            if (++p->count == 6) {
                p->state = LVC_PARSE_BOX;
                p->count = 0;
            }
            break;
        case LVC_PARSE_BOX:
            if (p->count == 0 && (b < 0x20 || b > 0x7E)) {
                /* not a box: the stream ended at the last one; what
                 * follows is the next stream (0x89) or junk */
                p->state = LVC_PARSE_HEADER;
                return i;
            }
            if (p->count < 4 && (b < 0x20 || b > 0x7E)) {
                p->state = LVC_PARSE_RESYNC;
                break;
            }
            i++;
            if (++p->count == 5) {
                p->state  = LVC_PARSE_LENGTH;
                p->count  = 0;
                p->length = 0;
            }
            break;
        case LVC_PARSE_LENGTH:
            p->length |= (uint64_t)(b & 0x7F) << (7 * p->count);
            i++;
            if (++p->count > 5 || p->length > UINT32_MAX) {
                p->state = LVC_PARSE_RESYNC;
            } else if (!(b & 0x80)) {
                p->state = LVC_PARSE_SKIP;
                p->skip  = p->length + 4;
            }
            break;
        case LVC_PARSE_SKIP: {
            uint64_t n = FFMIN(p->skip, (uint64_t)(buf_size - i));
            i       += n;
            p->skip -= n;
            if (!p->skip) {
                p->state = LVC_PARSE_BOX;
                p->count = 0;
            }
            break;
        }
        case LVC_PARSE_RESYNC:
            if (b == lvc_magic[0]) {
                p->state = LVC_PARSE_HEADER;
                p->count = 0;
                return i;
            }
            i++;
            break;
        }
    }
    return END_NOT_FOUND;
}

static int lvc_parse(AVCodecParserContext *s, AVCodecContext *avctx,
                     const uint8_t **poutbuf, int *poutbuf_size,
                     const uint8_t *buf, int buf_size)
{
    LvcParseContext *p = s->priv_data;
    int next;

    s->pict_type = AV_PICTURE_TYPE_I;
    s->key_frame = 1;
    s->duration  = 1;

    if (s->flags & PARSER_FLAG_COMPLETE_FRAMES) {
        next = buf_size;
    } else {
        next = lvc_find_frame_end(p, buf, buf_size);
        if (ff_combine_frame(&p->pc, next, &buf, &buf_size) < 0) {
            *poutbuf      = NULL;
            *poutbuf_size = 0;
            return buf_size;
        }
        /* a frame was cut at next (or flushed at the end): start afresh */
        p->state = LVC_PARSE_HEADER;
        p->count = 0;
    }
    *poutbuf      = buf;
    *poutbuf_size = buf_size;
    return next;
}

const AVCodecParser ff_lvc_parser = {
    .codec_ids      = { AV_CODEC_ID_LVC },
    .priv_data_size = sizeof(LvcParseContext),
    .parser_parse   = lvc_parse,
    .parser_close   = ff_parse_close,
};
