/*
 * Fuzz target: whole-file decode through the public API
 * (lvc_decode_image), with max_pixels = 2^16 so that one run stays short.
 *
 * One decoder per embedded model is opened and warmed up once (model
 * loading is the slow part) and reused, as an application decoding many
 * files would; a stream goes to the decoder of the model it names (the
 * default model's when its header does not parse), so every run starts
 * and ends with the same memory in use. A mutant that fails on a
 * CRC or on the model is retried with the default model's id and weights
 * hash written into its header and its CRCs rewritten, so the header
 * rules, the tile geometry, the rANS payloads and the alpha planes get
 * fuzzed as well, and the corpus stays useful after the weights change. A
 * decoded image must match what lvc_stream_info says of the stream.
 */
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/log.h"
#include "common/mem.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAX_PIXELS (UINT64_C(1) << 16)

#define MAX_MODELS 16
static struct {
    uint32_t id;
    LvcDecoder *dec;
} decs[MAX_MODELS];
static int num_decs;
static int default_dec;

/* A decoder with model `name` loaded (by decoding a small stream of it),
 * so that later runs start from the same memory in use. */
static LvcDecoder *warm_decoder(const char *name, LvcBackend *backend)
{
    LvcDecoderSettings s;
    lvc_decoder_default_settings(&s);
    s.threads = 1;
    s.backend = *backend;
    s.max_pixels = FUZZ_MAX_PIXELS;
    LvcDecoder *dec = NULL;
    if (lvc_decoder_open(&dec, &s) < 0) {
        /* A build without the CPU backend still has the reference one. */
        *backend = s.backend = LVC_BACKEND_REF;
        if (lvc_decoder_open(&dec, &s) < 0)
            lvc_fuzz_fail("cannot open a decoder");
    }
    LvcEncoderSettings es;
    lvc_encoder_default_settings(&es);
    es.threads = 1;
    es.backend = s.backend;
    es.model = name;
    LvcEncoder *enc = NULL;
    LvcImage img;
    uint8_t *buf = NULL;
    size_t size = 0;
    if (lvc_encoder_open(&enc, &es) < 0 || lvc_image_alloc(&img, 16, 16, 3, 8) < 0)
        lvc_fuzz_fail("cannot open an encoder");
    memset(img.data, 0x80, img.stride * 16);
    if (lvc_encode_image(enc, &img, &buf, &size) < 0)
        lvc_fuzz_fail("cannot encode the warm-up image");
    lvc_image_free(&img);
    if (lvc_decode_image(dec, buf, size, &img) < 0)
        lvc_fuzz_fail("cannot decode the warm-up stream");
    lvc_image_free(&img);
    free(buf);
    lvc_encoder_close(&enc);
    return dec;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lvc_log_set_level(LVC_LOG_QUIET);
    LvcBackend backend = LVC_BACKEND_CPU;
    const char *def = lvc_model_default();
    for (int i = 0; i < lvc_model_count() && num_decs < MAX_MODELS; i++) {
        const LvcModelInfo *m = lvc_model_info(i);
        if (def && !strcmp(m->name, def))
            default_dec = num_decs;
        decs[num_decs].id = m->id;
        decs[num_decs].dec = warm_decoder(m->name, &backend);
        num_decs++;
    }
    if (!num_decs)
        lvc_fuzz_fail("no model in this build");
    return 0;
}

/* The decoder of the model the stream names, else the default one. */
static LvcDecoder *decoder_for(const uint8_t *buf, size_t size)
{
    LvcStreamInfo info;
    if (lvc_stream_info(buf, size, &info) == 0)
        for (int i = 0; i < num_decs; i++)
            if (decs[i].id == info.model_id)
                return decs[i].dec;
    return decs[default_dec].dec;
}

static int run_one(const uint8_t *buf, size_t size)
{
    LvcDecoder *dec = decoder_for(buf, size);
    LvcImage img;
    memset(&img, 0xa5, sizeof(img));
    const int ret = lvc_decode_image(dec, buf, size, &img);
    if (ret < 0) {
        if (img.data || img.width || img.height)
            lvc_fuzz_fail("failed decode left a non-zeroed image");
        return ret;
    }
    LvcStreamInfo info;
    if (lvc_stream_info(buf, size, &info) < 0)
        lvc_fuzz_fail("a decodable stream has no stream info");
    if (img.width != info.width || img.height != info.height ||
        img.channels != info.channels || img.bit_depth != info.bit_depth)
        lvc_fuzz_fail("decoded image does not match the stream header");
    lvc_fuzz_check_image(&img, FUZZ_MAX_PIXELS);
    uint8_t digest[32];
    if (lvc_decoder_symbols_digest(dec, digest) < 0)
        lvc_fuzz_fail("no symbol digest after a successful decode");
    lvc_image_free(&img);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t mem0 = lvc_mem_in_use();
    const int ret = run_one(data, size);
    if (ret == LVC_ERR_CRC || ret == LVC_ERR_MODEL_HASH || ret == LVC_ERR_MODEL_UNKNOWN) {
        uint8_t *copy = malloc(size);
        if (copy) {
            memcpy(copy, data, size);
            lvc_fuzz_set_model(copy, size);
            if (lvc_fuzz_fix_crcs(copy, size) || ret != LVC_ERR_CRC)
                run_one(copy, size);
            free(copy);
        }
    }
    if (lvc_mem_in_use() != mem0)
        lvc_fuzz_fail("memory still held after a decode");
    return 0;
}
