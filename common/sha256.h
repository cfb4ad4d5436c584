/*
 * SHA-256 (FIPS 180-4), incremental and one-shot, plus hex helpers.
 */
#ifndef LVC_COMMON_SHA256_H
#define LVC_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define LVC_SHA256_SIZE 32

typedef struct LvcSha256 {
    uint32_t h[8];
    uint64_t nbytes;   /* total bytes hashed so far */
    uint8_t buf[64];   /* partial block */
    size_t nbuf;
} LvcSha256;

void lvc_sha256_init(LvcSha256 *s);
void lvc_sha256_update(LvcSha256 *s, const void *data, size_t n);
/* Writes the digest; s must be re-initialised before further use. */
void lvc_sha256_final(LvcSha256 *s, uint8_t out[LVC_SHA256_SIZE]);
void lvc_sha256(const void *data, size_t n, uint8_t out[LVC_SHA256_SIZE]);

/* Lower-case hex of n bytes into out (2n+1 chars, NUL-terminated). */
void lvc_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parse exactly 2n hex digits (either case) into out; 0 or LVC_ERR_INVALID_ARG
 * on a bad digit or a string of the wrong length. */
int lvc_hex_decode(const char *hex, uint8_t *out, size_t n);

#endif /* LVC_COMMON_SHA256_H */
