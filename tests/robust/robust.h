/*
 * The robust suite: hostile inputs and allocation failures through the
 * public API (and the container/PNG/model-file internals), one Check
 * executable. The shared fixture -- an open encoder and decoder and a few
 * small valid streams -- is built once in main() before the runner forks,
 * so model loading is paid once.
 */
#ifndef LVC_TESTS_ROBUST_ROBUST_H
#define LVC_TESTS_ROBUST_ROBUST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"

/* Streams of the fixture, all encoded at quality 75. */
enum {
    RS_RGB_40x24,        /* one tile */
    RS_RGB_70x70_T64,    /* 2 x 2 tiles of 64 */
    RS_GRAY_40x24,
    RS_RGBA_40x24,       /* alpha substream */
    RS_GRAYA_24x24,
    RS_RGB_16x16,        /* the smallest, for exhaustive bit flips */
    RS_COUNT
};

typedef struct RobustStream {
    const char *name;
    int w, h, channels, tile;
    LvcImage img;        /* the source image */
    uint8_t *data;       /* the stream (malloc) */
    size_t size;
    int dec_ret;         /* what a plain decode of it returns */
} RobustStream;

extern RobustStream lvc_rs[RS_COUNT];
extern LvcDecoder *lvc_rs_dec;   /* threads 1, default max_pixels */
extern LvcEncoder *lvc_rs_enc;   /* threads 1, quality 75 */
extern const char *lvc_rs_corpus; /* tests/fuzz/corpus in the source tree */

/* Deterministic test image (gradients, a disc, a little noise). */
int lvc_rs_make_image(LvcImage *img, int w, int h, int channels, int depth, uint32_t seed);
/* malloc'd exact-size copy (so ASan sees any over-read); aborts on OOM. */
uint8_t *lvc_rs_dup(const uint8_t *buf, size_t size);
/* Decode buf[0..size) from an exact-size copy with dec. On failure checks
 * that img is zeroed and no lvc memory is left in use; on success the
 * image is returned in *img_out (if not NULL, else freed). */
int lvc_rs_decode(LvcDecoder *dec, const uint8_t *buf, size_t size, LvcImage *img_out);
/* The same without the memory check: for a decoder's first decode, which
 * loads the model and keeps it even when the decode then fails. */
int lvc_rs_decode_first(LvcDecoder *dec, const uint8_t *buf, size_t size, LvcImage *img_out);
/* A decoder with threads on the cpu backend (ref in a build without it);
 * *backend (if not NULL) gets the one used. */
int lvc_rs_open_decoder(LvcDecoder **dec, int threads, LvcBackend *backend);
int lvc_rs_in(int code, const int *set, size_t n);

TCase *lvc_test_streams_tcase(void);
TCase *lvc_test_inputs_tcase(void);
TCase *lvc_test_alloc_tcase(void);

#endif /* LVC_TESTS_ROBUST_ROBUST_H */
