/*
 * Fuzz target: YUV input (include/lvc/video.h): lvc_y4m_reader_open,
 * lvc_yuv_read_frame and lvc_yuv_reader_planes on every input, through a
 * FILE from fmemopen; on inputs that do not start like a Y4M stream also
 * lvc_yuv_reader_open_raw, with a small format (size, chroma, siting,
 * matrix, range) taken from the first three bytes. Every frame read is
 * written again (lvc_yuv_writer_*, to an open_memstream) and read back.
 *
 * Promises checked: a failed open leaves *r NULL, the format zeroed and
 * no memory held; an opened stream has a valid format within max_pixels
 * (2^16 here, so runs stay fast and the limit itself is exercised); each
 * frame is a 16-bit RGB image of that size, every sample readable, with
 * planes of lvc_yuv_frame_size bytes; a failed read leaves a zeroed
 * image and no planes; a frame written and read back gives the same
 * format and exactly the planes lvc_yuv_from_rgb gives; in luma-only
 * formats those planes are the source's (clamped to 16..235 in limited
 * range with the nominal RGB mapping); no memory is held after a run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/video.h"
#include "common/log.h"
#include "common/mem.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAX_PIXELS (UINT64_C(1) << 16)
#define FUZZ_MAX_FRAMES 8

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lvc_log_set_level(LVC_LOG_QUIET);
    return 0;
}

static int format_valid(const LvcVideoFormat *f)
{
    return f->width >= 1 && f->height >= 1 &&
           (uint64_t)f->width * f->height <= FUZZ_MAX_PIXELS && f->fps_num >= 1 &&
           f->fps_den >= 1 && (!f->sar_num) == (!f->sar_den) && f->chroma <= LVC_CHROMA_MONO &&
           f->siting <= LVC_SITING_LEFT && f->matrix <= LVC_MATRIX_BT709 &&
           f->full_range <= 1 && lvc_yuv_frame_size(f) > 0;
}

/* The same format as far as a Y4M header carries it (siting of 4:2:0
 * only; 4:2:2 is always cosited). */
static int same_y4m_format(const LvcVideoFormat *a, const LvcVideoFormat *b)
{
    return a->width == b->width && a->height == b->height && a->fps_num == b->fps_num &&
           a->fps_den == b->fps_den && a->sar_num == b->sar_num && a->sar_den == b->sar_den &&
           a->chroma == b->chroma && a->matrix == b->matrix && a->full_range == b->full_range &&
           (a->chroma != LVC_CHROMA_420 || a->siting == b->siting);
}

/* Writes rgb in format f (Y4M or raw) to memory, reads it back and checks
 * the planes against lvc_yuv_from_rgb; src are the planes rgb was read
 * from. */
static void rewrite(const LvcVideoFormat *f, const LvcImage *rgb, const uint8_t *src, int raw)
{
    const size_t size = lvc_yuv_frame_size(f);
    char *buf = NULL;
    size_t len = 0;
    uint8_t *want = malloc(size);
    if (!want)
        return;
    int err = lvc_yuv_from_rgb(f, rgb, want);
    if (err == LVC_ERR_NOMEM)
        goto done;
    if (err)
        lvc_fuzz_fail("a frame read does not convert back");
    if (f->chroma == LVC_CHROMA_MONO) {
        for (size_t i = 0; i < size; i++) {
            unsigned y = src[i];
            if (!f->full_range && f->rgb_mapping == LVC_RGB_NOMINAL)
                y = y < 16 ? 16 : y > 235 ? 235 : y;
            if (want[i] != y)
                lvc_fuzz_fail("luma did not survive Y -> grey RGB -> Y");
        }
    }
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        goto done;
    LvcYuvWriter *w;
    err = lvc_yuv_writer_open(&w, out, f, raw);
    if (!err) {
        err = lvc_yuv_write_frame(w, rgb);
        lvc_yuv_writer_close(&w);
    }
    fclose(out);
    if (err && err != LVC_ERR_NOMEM)
        lvc_fuzz_fail("a frame read does not write");
    if (!err) {
        FILE *in = fmemopen(buf, len, "rb");
        if (!in)
            lvc_fuzz_fail("fmemopen failed on a written stream");
        LvcYuvReader *r;
        LvcVideoFormat back;
        err = raw ? lvc_yuv_reader_open_raw(&r, in, f)
                  : lvc_y4m_reader_open(&r, in, FUZZ_MAX_PIXELS, &back);
        if (err && err != LVC_ERR_NOMEM)
            lvc_fuzz_fail("a written stream does not open");
        if (!err) {
            if (!raw && !same_y4m_format(f, &back))
                lvc_fuzz_fail("a written Y4M header reads as another format");
            LvcImage again;
            err = lvc_yuv_read_frame(r, &again);
            if (err == 1) {
                size_t ps;
                const uint8_t *p = lvc_yuv_reader_planes(r, &ps);
                if (!p || ps != size || memcmp(p, want, size))
                    lvc_fuzz_fail("written planes differ from lvc_yuv_from_rgb");
                lvc_image_free(&again);
                if (lvc_yuv_read_frame(r, &again) != 0)
                    lvc_fuzz_fail("a written one-frame stream holds more");
            } else if (err != LVC_ERR_NOMEM) {
                lvc_fuzz_fail("a written frame does not read back");
            }
            lvc_yuv_reader_close(&r);
        }
        fclose(in);
    }
done:
    free(buf);
    free(want);
}

/* Reads the frames of an opened reader, checking each. */
static void read_frames(LvcYuvReader *r, const LvcVideoFormat *f, int raw)
{
    const size_t size = lvc_yuv_frame_size(f);
    for (int i = 0; i < FUZZ_MAX_FRAMES; i++) {
        LvcImage rgb;
        memset(&rgb, 0xa5, sizeof(rgb));
        const int ret = lvc_yuv_read_frame(r, &rgb);
        if (ret != 1) {
            if (ret > 1)
                lvc_fuzz_fail("lvc_yuv_read_frame returned a positive value other than 1");
            if (rgb.data || rgb.width || rgb.height)
                lvc_fuzz_fail("a failed read left a non-zeroed image");
            if (lvc_yuv_reader_planes(r, NULL))
                lvc_fuzz_fail("planes after a failed read");
            if (ret == 0 || ret == LVC_ERR_TRUNCATED || ret == LVC_ERR_CORRUPT ||
                ret == LVC_ERR_NOMEM)
                return;
            lvc_fuzz_fail("lvc_yuv_read_frame returned an unexpected error");
        }
        lvc_fuzz_check_image(&rgb, FUZZ_MAX_PIXELS);
        if ((uint32_t)rgb.width != f->width || (uint32_t)rgb.height != f->height ||
            rgb.channels != 3 || rgb.bit_depth != 16)
            lvc_fuzz_fail("a frame does not match the format");
        size_t ps;
        const uint8_t *p = lvc_yuv_reader_planes(r, &ps);
        if (!p || ps != size)
            lvc_fuzz_fail("the planes of a frame have the wrong size");
        uint8_t *src = malloc(size);
        if (src) {
            memcpy(src, p, size);
            rewrite(f, &rgb, src, raw);
            free(src);
        }
        lvc_image_free(&rgb);
    }
}

static void fuzz_y4m(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (!f)
        return;
    LvcYuvReader *r = (LvcYuvReader *)(uintptr_t)1;
    LvcVideoFormat fmt;
    memset(&fmt, 0xa5, sizeof(fmt));
    const int err = lvc_y4m_reader_open(&r, f, FUZZ_MAX_PIXELS, &fmt);
    if (err) {
        static const LvcVideoFormat zero;
        if (r || memcmp(&fmt, &zero, sizeof(fmt)))
            lvc_fuzz_fail("a failed open left outputs set");
        if (err != LVC_ERR_CORRUPT && err != LVC_ERR_FORMAT && err != LVC_ERR_DIMENSIONS &&
            err != LVC_ERR_TRUNCATED && err != LVC_ERR_NOMEM)
            lvc_fuzz_fail("lvc_y4m_reader_open returned an unexpected error");
    } else {
        if (!r || !format_valid(&fmt))
            lvc_fuzz_fail("an opened stream has an invalid format");
        read_frames(r, &fmt, 0);
        lvc_yuv_reader_close(&r);
        if (r)
            lvc_fuzz_fail("close did not clear the handle");
    }
    fclose(f);
}

static void fuzz_raw(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    LvcVideoFormat fmt;
    lvc_video_format_default(&fmt);
    fmt.width = 1 + data[0] % 48u;
    fmt.height = 1 + data[1] % 48u;
    fmt.chroma = data[2] & 3;
    fmt.siting = (data[2] >> 2) & 1;
    fmt.matrix = (data[2] >> 3) & 1;
    fmt.full_range = (data[2] >> 4) & 1;
    fmt.rgb_mapping = (data[2] >> 5) & 1;
    FILE *f = fmemopen((void *)(uintptr_t)(data + 3), size - 3, "rb");
    if (!f)
        return;
    LvcYuvReader *r;
    const int err = lvc_yuv_reader_open_raw(&r, f, &fmt);
    if (err && err != LVC_ERR_NOMEM)
        lvc_fuzz_fail("a raw reader of a valid format does not open");
    if (!err) {
        read_frames(r, &fmt, 1);
        lvc_yuv_reader_close(&r);
    }
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    fuzz_y4m(data, size);
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after a Y4M run");
    if (size < 4 || memcmp(data, "YUV4", 4)) {
        fuzz_raw(data, size);
        if (lvc_mem_in_use() != mem0)
            lvc_fuzz_fail("memory still held after a raw run");
    }
    return 0;
}
