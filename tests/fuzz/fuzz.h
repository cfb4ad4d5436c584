/*
 * Fuzz targets of lvc. Each fuzz_*.c defines the two libFuzzer entry
 * points; built with -fsanitize=fuzzer they are libFuzzer binaries, linked
 * with replay_main.c they replay (and lightly mutate) a corpus under any
 * compiler, which is how CI runs them (suite 'fuzz').
 *
 * A target calls abort() only when the library breaks a promise it makes
 * on every input (a round trip that does not round-trip, an output that
 * contradicts the header, memory still held after a failure); crashes and
 * sanitizer reports are findings by themselves.
 */
#ifndef LVC_TESTS_FUZZ_FUZZ_H
#define LVC_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rewrite the CRC of every box that can be walked (type, flags, varint
 * length, payload, CRC) so that mutated streams reach the checks behind
 * the CRCs. buf is the caller's writable copy. Returns the number of CRCs
 * changed. */
size_t lvc_fuzz_fix_crcs(uint8_t *buf, size_t size);

/* When buf starts with a file header and an ihdr box, write the default
 * model's weights id into it, and its id where the varint there has the
 * same length (the CRC is left stale). */
void lvc_fuzz_set_model(uint8_t *buf, size_t size);

/* Abort with a message naming the broken promise. */
void lvc_fuzz_fail(const char *what);

/* An image returned on success: a valid layout, at most max_pixels pixels
 * (0: no limit), and every sample read (so that a short buffer shows under
 * ASan). Aborts otherwise. */
void lvc_fuzz_check_image(const LvcImage *img, uint64_t max_pixels);

/* After a failed read into img (filled with non-zero bytes before): img
 * must be zeroed, and lvc_mem_in_use() back at mem0. Aborts otherwise. */
void lvc_fuzz_check_failed_read(const LvcImage *img, size_t mem0);

/* 1 when a and b have the same size, layout and samples. */
int lvc_fuzz_same_image(const LvcImage *a, const LvcImage *b);

#endif /* LVC_TESTS_FUZZ_FUZZ_H */
