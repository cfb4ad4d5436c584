/*
 * Fuzz target: the container parser (lvc_container_parse) and the public
 * views of it (lvc_stream_info, lvc_stream_boxes).
 *
 * Beyond "no crash", every parsed stream must be self-consistent: payload
 * pointers inside the input, substreams sorted and inside the tile grid,
 * tiles covering the image exactly, the public views agreeing with the
 * parser, and writing the parsed container back must give a stream that
 * parses to the same content. Mutants failing only on a CRC are retried
 * with the CRCs rewritten, so the rules behind the CRC get fuzzed too.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/container.h"
#include "lvc/lvc.h"
#include "common/log.h"
#include "common/mem.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lvc_log_set_level(LVC_LOG_QUIET);
    return 0;
}

static int inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t size)
{
    return p >= buf && n <= size && (size_t)(p - buf) <= size - n;
}

static void check_parsed(const LvcContainer *c, const uint8_t *buf, size_t size)
{
    const LvcImageHeader *h = &c->hdr;
    /* sstr boxes carry one substream each, tile boxes one or more */
    uint32_t nsub_boxes = 0;
    for (uint32_t i = 0; i < c->num_boxes; i++)
        nsub_boxes += !memcmp(c->boxes[i].type, LVC_BOX_SSTR, 4) ||
                      !memcmp(c->boxes[i].type, LVC_BOX_TILE, 4);
    if (c->num_boxes != 1 + (uint32_t)c->has_params + nsub_boxes + c->num_extra ||
        nsub_boxes > c->num_subs)
        lvc_fuzz_fail("box count does not add up");
    if (!h->num_tiles || h->num_tiles > c->num_subs)
        lvc_fuzz_fail("a tile without substream was accepted");
    if (c->has_params && !inside(c->params, c->params_size, buf, size))
        lvc_fuzz_fail("parm payload outside the input");
    uint64_t area = 0;
    for (uint32_t t = 0; t < h->num_tiles; t++) {
        uint32_t x0, y0, w, hh;
        if (lvc_container_tile_rect(h, t, &x0, &y0, &w, &hh) < 0)
            lvc_fuzz_fail("tile_rect refused a tile of the grid");
        if (!w || !hh || x0 + (uint64_t)w > h->width || y0 + (uint64_t)hh > h->height)
            lvc_fuzz_fail("tile rectangle outside the image");
        area += (uint64_t)w * hh;
    }
    if (area != (uint64_t)h->width * h->height)
        lvc_fuzz_fail("tiles do not cover the image exactly");
    for (uint32_t i = 0; i < c->num_subs; i++) {
        const LvcSubstream *s = &c->subs[i];
        if (!inside(s->data, s->size, buf, size))
            lvc_fuzz_fail("substream payload outside the input");
        if (s->tile >= h->num_tiles)
            lvc_fuzz_fail("substream of a tile outside the grid");
        if (i && (s[-1].tile > s->tile ||
                  (s[-1].tile == s->tile && (s[-1].pass > s->pass ||
                   (s[-1].pass == s->pass && s[-1].what >= s->what)))))
            lvc_fuzz_fail("substreams not sorted and unique");
        if (lvc_container_find(c, s->tile, s->pass, s->what) != s)
            lvc_fuzz_fail("lvc_container_find misses a substream");
    }
    for (uint32_t i = 0; i < c->num_extra; i++) {
        if (!inside(c->extra[i].data, c->extra[i].size, buf, size))
            lvc_fuzz_fail("extra box payload outside the input");
        if (c->extra[i].flags & LVC_BOX_MANDATORY)
            lvc_fuzz_fail("unknown mandatory box accepted");
    }
    for (uint32_t i = 0; i < c->num_boxes; i++)
        if (!inside(buf + c->boxes[i].payload_offset, c->boxes[i].payload_size, buf, size))
            lvc_fuzz_fail("box descriptor outside the input");
}

/* Writing a parsed container gives a stream with the same content. */
static void check_rewrite(const LvcContainer *c, const LvcContainerLimits *lim)
{
    uint8_t *out = NULL;
    size_t out_size = 0;
    int ret = lvc_container_write(c, &out, &out_size);
    if (ret == LVC_ERR_NOMEM)
        return;
    if (ret < 0)
        lvc_fuzz_fail("a parsed container does not write");
    LvcContainer d;
    ret = lvc_container_parse(out, out_size, lim, &d);
    if (ret == LVC_ERR_NOMEM) {
        free(out);
        return;
    }
    if (ret < 0)
        lvc_fuzz_fail("a written container does not parse");
    if (memcmp(&d.hdr, &c->hdr, sizeof(d.hdr)) || d.num_subs != c->num_subs ||
        d.num_extra != c->num_extra || d.has_params != c->has_params ||
        (c->has_params && (d.params_size != c->params_size ||
                           memcmp(d.params, c->params, c->params_size))))
        lvc_fuzz_fail("rewritten container differs (header, counts or parm)");
    for (uint32_t i = 0; i < c->num_subs; i++) {
        const LvcSubstream *a = &c->subs[i], *b = &d.subs[i];
        if (a->tile != b->tile || a->pass != b->pass || a->what != b->what ||
            a->size != b->size || (a->size && memcmp(a->data, b->data, a->size)))
            lvc_fuzz_fail("rewritten container differs (substreams)");
    }
    for (uint32_t i = 0; i < c->num_extra; i++) {
        const LvcRawBox *a = &c->extra[i], *b = &d.extra[i];
        if (memcmp(a->type, b->type, 4) || a->flags != b->flags || a->size != b->size ||
            (a->size && memcmp(a->data, b->data, a->size)))
            lvc_fuzz_fail("rewritten container differs (extra boxes)");
    }
    lvc_container_free(&d);
    free(out);
}

static int run_one(const uint8_t *buf, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    /* The limits of the format itself, as lvc_stream_info uses. */
    const LvcContainerLimits wide = { .max_pixels = UINT64_MAX, .max_side = INT32_MAX,
                                      .max_boxes = UINT32_MAX };
    LvcContainer c;
    const int ret = lvc_container_parse(buf, size, &wide, &c);
    if (ret == 0) {
        check_parsed(&c, buf, size);
        check_rewrite(&c, &wide);
    } else if (c.subs || c.boxes || c.extra || c.num_subs) {
        lvc_fuzz_fail("failed parse left a non-zeroed container");
    }

    /* Tighter limits (the decoder's defaults, a small one) may only turn
     * an accepted stream into a rejected one. */
    const LvcContainerLimits small = { .max_pixels = 4096, .max_side = 256, .max_boxes = 64 };
    const LvcContainerLimits *tight[2] = { NULL, &small };
    for (int k = 0; k < 2; k++) {
        LvcContainer s;
        const int r = lvc_container_parse(buf, size, tight[k], &s);
        if (r == 0 && ret != 0)
            lvc_fuzz_fail("a tighter limit accepted a rejected stream");
        if (r != 0 && ret == 0 && r != LVC_ERR_DIMENSIONS && r != LVC_ERR_LIMIT &&
            r != LVC_ERR_NOMEM)
            lvc_fuzz_fail("a tighter limit failed with a code other than a limit's");
        lvc_container_free(&s);
    }

    LvcStreamInfo info;
    const int ret_info = lvc_stream_info(buf, size, &info);
    if ((ret_info == 0) != (ret == 0) && ret != LVC_ERR_NOMEM && ret_info != LVC_ERR_NOMEM)
        lvc_fuzz_fail("lvc_stream_info and the parser disagree");
    if (ret_info == 0 && ret == 0 &&
        ((uint32_t)info.width != c.hdr.width || (uint32_t)info.height != c.hdr.height ||
         (uint32_t)info.num_boxes != c.num_boxes))
        lvc_fuzz_fail("lvc_stream_info reports other values than the parser");

    LvcBoxInfo boxes[4];
    int nb = -1;
    const int ret_boxes = lvc_stream_boxes(buf, size, boxes, 4, &nb);
    if (ret_boxes == 0 && ret == 0 && (uint32_t)nb != c.num_boxes)
        lvc_fuzz_fail("lvc_stream_boxes counts other boxes than the parser");
    if (ret_boxes == 0)
        for (int i = 0; i < nb && i < 4; i++)
            if (boxes[i].offset >= size || boxes[i].payload_size > size)
                lvc_fuzz_fail("lvc_stream_boxes reports a box outside the input");

    LvcSubstreamInfo subs[4];
    int nsub = -1;
    const int ret_subs = lvc_stream_substreams(buf, size, subs, 4, &nsub);
    if (ret == 0 && ret_subs == 0 && (uint32_t)nsub != c.num_subs)
        lvc_fuzz_fail("lvc_stream_substreams counts other substreams than the parser");
    if (ret == 0 && ret_subs != 0 && ret_subs != LVC_ERR_LIMIT && ret_subs != LVC_ERR_NOMEM)
        lvc_fuzz_fail("lvc_stream_substreams rejects a stream the parser accepts");
    if (ret_subs == 0)
        for (int i = 0; i < nsub && i < 4; i++)
            if (subs[i].offset > size || subs[i].size > size - subs[i].offset ||
                (ret == 0 && (subs[i].tile != c.subs[i].tile || subs[i].size != c.subs[i].size ||
                              buf + subs[i].offset != c.subs[i].data)))
                lvc_fuzz_fail("lvc_stream_substreams reports another substream");
    lvc_container_free(&c);
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after parsing");
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (run_one(data, size) != LVC_ERR_CRC)
        return 0;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (lvc_fuzz_fix_crcs(copy, size))
        run_one(copy, size);
    free(copy);
    return 0;
}
