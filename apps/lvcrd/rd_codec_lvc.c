/*
 * lvcrd: lvc models through the public API, the real bitstream path: the
 * size is the length of the stream lvc_encode_image returns, and the
 * reconstruction is what lvc_decode_image makes of that stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_codec.h"

/* One decoder per lvc codec of the run, kept across images so that the
 * decode times are those of an image, not of loading the model (the first
 * use of each decodes its first stream once untimed). Closed by
 * lvcrd_lvc_release(). */
#define MAX_DECODERS 16
static struct {
    const LvcRdCodec *codec;
    LvcDecoder *dec;
} decoders[MAX_DECODERS];

void lvcrd_lvc_release(void)
{
    for (int i = 0; i < MAX_DECODERS; i++) {
        lvc_decoder_close(&decoders[i].dec);
        decoders[i].codec = NULL;
    }
}

/* The kept decoder of c, opened on first use (*fresh = 1 then). */
static int kept_decoder(const LvcRdCodec *c, LvcDecoder **dec, int *fresh)
{
    int free_slot = -1;
    *fresh = 0;
    for (int i = 0; i < MAX_DECODERS; i++) {
        if (decoders[i].codec == c && decoders[i].dec) {
            *dec = decoders[i].dec;
            return 0;
        }
        if (!decoders[i].dec && free_slot < 0)
            free_slot = i;
    }
    LvcDecoderSettings ds;
    lvc_decoder_default_settings(&ds);
    ds.threads = c->threads;
    int ret = lvc_decoder_open(dec, &ds);
    if (ret < 0)
        return ret;
    if (free_slot >= 0) {
        decoders[free_slot].codec = c;
        decoders[free_slot].dec = *dec;
    }
    *fresh = 1;
    return free_slot >= 0 ? 0 : 1;  /* 1: not kept, the caller closes it */
}

static int lvc_code(const LvcRdCodec *c, double param, const LvcRdImage *src,
                    LvcRdImage *rec, LvcRdCoded *res, char *err, size_t err_size)
{
    LvcEncoder *enc = NULL;
    LvcDecoder *dec = NULL;
    int close_dec = 0, fresh = 0;
    LvcImage out = { 0 };
    uint8_t *stream = NULL;
    size_t size = 0;
    int ret;

    memset(rec, 0, sizeof(*rec));
    memset(res, 0, sizeof(*res));
    /* The source is borrowed, not copied: lvc_encode_image does not modify
     * its input. */
    const LvcImage in = {
        .width = src->width, .height = src->height, .channels = 3, .bit_depth = 8,
        .stride = src->stride, .data = src->data,
    };
    LvcEncoderSettings es;
    lvc_encoder_default_settings(&es);
    es.model = c->model;
    es.threads = c->threads;
    if (c->target_bpp)
        es.target_bpp = param;
    else
        es.quality = (float)param;

    /* opening the encoder loads the model: not part of the image's time */
    if ((ret = lvc_encoder_open(&enc, &es)) < 0) {
        snprintf(err, err_size, "lvc_encoder_open: %s", lvc_error_string(ret));
        goto error;
    }
    const double t0 = lvcrd_now();
    if ((ret = lvc_encode_image(enc, &in, &stream, &size)) < 0) {
        snprintf(err, err_size, "lvc_encode_image: %s", lvc_error_string(ret));
        goto error;
    }
    const double t1 = lvcrd_now();

    if ((ret = kept_decoder(c, &dec, &fresh)) < 0) {
        snprintf(err, err_size, "lvc_decoder_open: %s", lvc_error_string(ret));
        goto error;
    }
    close_dec = ret == 1;
    if (fresh) {
        /* the first decode loads the model: untimed */
        if ((ret = lvc_decode_image(dec, stream, size, &out)) < 0) {
            snprintf(err, err_size, "lvc_decode_image: %s", lvc_error_string(ret));
            goto error;
        }
        lvc_image_free(&out);
    }
    const double t2a = lvcrd_now();
    if ((ret = lvc_decode_image(dec, stream, size, &out)) < 0) {
        snprintf(err, err_size, "lvc_decode_image: %s", lvc_error_string(ret));
        goto error;
    }
    const double t2 = lvcrd_now();
    if (out.width != src->width || out.height != src->height || out.channels != 3 ||
        out.bit_depth != 8) {
        snprintf(err, err_size, "decoded %dx%d, %d channels, %d bits; expected %dx%d RGB 8",
                 out.width, out.height, out.channels, out.bit_depth, src->width,
                 src->height);
        ret = LVC_ERR_CORRUPT;
        goto error;
    }
    if ((ret = lvcrd_image_alloc(rec, out.width, out.height)) < 0) {
        snprintf(err, err_size, "out of memory");
        goto error;
    }
    for (int y = 0; y < out.height; y++)
        memcpy(rec->data + (size_t)y * rec->stride, out.data + (size_t)y * out.stride,
               3 * (size_t)out.width);
    res->bytes = size;
    res->enc_s = t1 - t0;
    res->dec_s = t2 - t2a;
    ret = 0;
error:
    lvc_image_free(&out);
    free(stream);
    lvc_encoder_close(&enc);
    if (close_dec)
        lvc_decoder_close(&dec);
    return ret;
}

int lvcrd_lvc_codec_setup(const char *model, int target_bpp, int threads,
                          LvcRdCodec *c, char *note, size_t note_size)
{
    memset(c, 0, sizeof(*c));
    const char *name = model ? model : lvc_model_default();
    const LvcModelInfo *info = name ? lvc_model_find(name) : NULL;
    if (!info) {
        snprintf(note, note_size, "lvc model '%s' is not registered in this build",
                 name ? name : "(default)");
        return LVC_ERR_MODEL_UNKNOWN;
    }
    /* Target-bpp points get their own key: q=0.5 and bpp=0.5 must not be
     * mistaken for each other on --resume. */
    snprintf(c->name, sizeof(c->name), "lvc-%s%s", info->name, target_bpp ? "-bpp" : "");
    snprintf(c->label, sizeof(c->label), "lvc %s%s", info->name, target_bpp ? " (bpp)" : "");
    snprintf(c->description, sizeof(c->description), "lvc %s, model %s (%s)%s",
             lvc_version(), info->name, info->description ? info->description : "",
             target_bpp ? ", target bpp" : "");
    snprintf(c->model, sizeof(c->model), "%s", info->name);
    snprintf(c->param_name, sizeof(c->param_name), "%s", target_bpp ? "bpp" : "q");
    c->macs_per_pixel = info->macs_per_pixel_dec;
    /* the points of one set of weights, or of one bitstream format, are
     * not those of another */
    int k = snprintf(c->version, sizeof(c->version), "bitstream-%d,weights-sha256:",
                     LVC_BITSTREAM_VERSION);
    for (int i = 0; i < 32 && k + 2 < (int)sizeof(c->version); i++, k += 2)
        snprintf(c->version + k, sizeof(c->version) - (size_t)k, "%02x", info->weights_hash[i]);
    c->target_bpp = target_bpp;
    c->threads = threads;
    c->code = lvc_code;
    /* The default sweep; the caller replaces it with -q / --bpp. */
    static const double qs[] = { 10, 25, 40, 55, 70, 85, 95 };
    c->num_params = (int)(sizeof(qs) / sizeof(qs[0]));
    memcpy(c->params, qs, sizeof(qs));
    return 0;
}
