/*
 * Fuzz target: the video stream decoder (lvc_video_decode_header and
 * lvc_video_decode_frame, kind 2, doc/bitstream.md section 6.2) and
 * lvc_video_stream_info.
 *
 * The pixel limit is small so that each run is fast and the limit itself
 * is exercised; the picture is synthesised for the first frame only (the
 * latents, where the stream's rules live, are decoded for all). A mutant
 * that fails on a CRC is retried with its CRCs rewritten. A decode must
 * never leave a picture behind after a failure; when every box decodes,
 * the stream info must agree on the frame count and types, and when the
 * info accepts a stream whose frames all decode, the two must agree.
 */
#include <stdlib.h>
#include <string.h>

#include "lvc/video.h"
#include "common/log.h"
#include "common/mem.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAX_PIXELS (128 * 64)
#define FUZZ_MAX_FRAMES 3
#define FUZZ_PICTURES 1

/* One decoder for the whole run: opening the model is the slow part. */
static LvcVideoDecoder *dec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lvc_log_set_level(LVC_LOG_QUIET);
    LvcDecoderSettings s;
    lvc_decoder_default_settings(&s);
    s.threads = 1;
    s.backend = LVC_BACKEND_CPU;
    s.max_pixels = FUZZ_MAX_PIXELS;
    if (lvc_video_decoder_open(&dec, &s) < 0)
        lvc_fuzz_fail("cannot open a decoder");
    return 0;
}

static int one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (one(data, size) != LVC_ERR_CRC)
        return 0;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (lvc_fuzz_fix_crcs(copy, size))
        one(copy, size);
    free(copy);
    return 0;
}

static int one(const uint8_t *data, size_t size)
{
    LvcVideoDecoder *d = dec;
    LvcVideoInfo info;
    size_t used = 0, pos = 0;
    int err = lvc_video_decode_header(d, data, size, &used, &info);
    LvcVideoFrameInfo frames[FUZZ_MAX_FRAMES];
    size_t n = 0;
    int all_ok = err == 0;
    if (!err) {
        if (info.format.width < 1 || info.format.height < 1 ||
            (uint64_t)info.format.width * info.format.height > FUZZ_MAX_PIXELS)
            lvc_fuzz_fail("header accepted outside the limits");
        pos = used;
        while (pos < size && n < FUZZ_MAX_FRAMES) {
            LvcImage pic;
            memset(&pic, 0xa5, sizeof(pic));
            LvcVideoFrameInfo fi;
            const int r = lvc_video_decode_frame(d, data + pos, size - pos, &used,
                                                 n < FUZZ_PICTURES ? &pic : NULL, &fi);
            if (r < 0) {
                if (n < FUZZ_PICTURES && (pic.data || pic.width))
                    lvc_fuzz_fail("a failed decode left a picture behind");
                all_ok = 0;
                err = r;
                break;
            }
            if (!used || used > size - pos)
                lvc_fuzz_fail("consumed size out of range");
            pos += used;
            if (r == 0)
                continue;
            if (n < FUZZ_PICTURES) {
                if (!pic.data || pic.width != (int)info.format.width ||
                    pic.height != (int)info.format.height || pic.channels != 3)
                    lvc_fuzz_fail("decoded picture of the wrong size");
                lvc_image_free(&pic);
            }
            frames[n++] = fi;
        }
    }
    if (all_ok && pos == size) {
        /* every box decoded: the info must list the same frames (it does
         * not apply the decoder's pixel limit) */
        LvcVideoInfo vi;
        LvcVideoFrameInfo list[FUZZ_MAX_FRAMES];
        size_t m = 0;
        if (lvc_video_stream_info(data, size, &vi, list, FUZZ_MAX_FRAMES, &m) < 0)
            lvc_fuzz_fail("stream info rejects a stream the decoder accepts");
        if (m != n)
            lvc_fuzz_fail("stream info counts other frames");
        for (size_t i = 0; i < n; i++)
            if (list[i].index != frames[i].index || list[i].intra != frames[i].intra ||
                list[i].bytes != frames[i].bytes)
                lvc_fuzz_fail("stream info disagrees on a frame");
    }
    return err;
}
