/*
 * Helpers shared by the fuzz targets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"

#include "common/crc32.h"
#include "tests/fuzz/fuzz.h"

size_t lvc_fuzz_fix_crcs(uint8_t *buf, size_t size)
{
    size_t pos = 6, changed = 0;   /* after magic, version, kind */
    while (pos + 6 <= size) {
        /* LEB128 length after type(4) and flags(1); any length that fits. */
        uint64_t len = 0;
        size_t i = 0, p = pos + 5;
        for (;; i++) {
            if (i == 5 || p + i >= size)
                return changed;
            len |= (uint64_t)(buf[p + i] & 0x7f) << (7 * i);
            if (!(buf[p + i] & 0x80))
                break;
        }
        const size_t hdr = 5 + i + 1;
        if (len > size || pos + hdr + len + 4 > size)
            return changed;
        const size_t at = pos + hdr + (size_t)len;
        const uint32_t crc = lvc_crc32(0, buf + pos, hdr + (size_t)len);
        const uint8_t want[4] = { (uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
                                  (uint8_t)(crc >> 24) };
        int diff = 0;
        for (int k = 0; k < 4; k++) {
            diff |= buf[at + k] != want[k];
            buf[at + k] = want[k];
        }
        changed += (size_t)diff;
        pos = at + 4;
    }
    return changed;
}

void lvc_fuzz_set_model(uint8_t *buf, size_t size)
{
    /* file header (6), "ihdr", flags, length 64, payload: model id at 24,
     * weights hash at 28. */
    const LvcModelInfo *mi = lvc_model_find(lvc_model_default());
    if (!mi || size < 6 + 6 + 64 || memcmp(buf + 6, "ihdr", 4) || buf[11] != 64)
        return;
    uint8_t *p = buf + 12;
    for (int i = 0; i < 4; i++)
        p[24 + i] = (uint8_t)(mi->id >> (8 * i));
    memcpy(p + 28, mi->weights_hash, 32);
}

void lvc_fuzz_fail(const char *what)
{
    fprintf(stderr, "lvc fuzz: broken promise: %s\n", what);
    fflush(stderr);
    abort();
}
