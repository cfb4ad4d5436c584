/*
 * Table-driven CRC-32, slice-by-8 (eight table lookups per 8 input bytes).
 * The tables are built once, thread-safely, on first use.
 */
#include <pthread.h>
#include <string.h>

#include "common/crc32.h"

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
        crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++) {
            uint32_t c = crc_table[t - 1][i];
            crc_table[t][i] = (c >> 8) ^ crc_table[0][c & 0xff];
        }
}

uint32_t lvc_crc32(uint32_t crc, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    pthread_once(&crc_once, crc_init_tables);
    const uint32_t (*T)[256] = (const uint32_t (*)[256])crc_table;
    crc = ~crc;
    while (n && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ T[0][(crc ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        /* Byte-wise loads keep this endian-independent; compilers fuse them. */
        uint32_t a = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                            (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t b = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
                     (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = T[7][a & 0xff] ^ T[6][(a >> 8) & 0xff] ^ T[5][(a >> 16) & 0xff] ^
              T[4][a >> 24] ^ T[3][b & 0xff] ^ T[2][(b >> 8) & 0xff] ^
              T[1][(b >> 16) & 0xff] ^ T[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ T[0][(crc ^ *p++) & 0xff];
    return ~crc;
}
