/*
 * CRC-32 as in zlib, PNG and IEEE 802.3: reflected, polynomial 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF.
 */
#ifndef LVC_COMMON_CRC32_H
#define LVC_COMMON_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Incremental: start with crc = 0, feed the previous result back in.
 * lvc_crc32(0, "123456789", 9) == 0xCBF43926. Same contract as zlib's crc32(). */
uint32_t lvc_crc32(uint32_t crc, const void *buf, size_t n);

#endif /* LVC_COMMON_CRC32_H */
