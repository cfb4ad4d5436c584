/*
 * The Gaussian-splat side of the apps: lvcenc takes a PLY or .splat scene,
 * lvcdec a kind-3 stream, lvcinfo describes one. Same conventions as
 * cli_common.h (functions returning an exit status have printed the one
 * error line).
 */
#ifndef LVC_APPS_SPLAT_CLI_H
#define LVC_APPS_SPLAT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lvc/splat.h"
#include "cli_common.h"

/* A PLY file (by its signature) or a name ending in ".splat". */
int lvc_cli_is_splat_input(const uint8_t *data, size_t size, const char *path);
/* An lvc stream of kind 3. */
int lvc_cli_is_splat_stream(const uint8_t *data, size_t size);

typedef struct LvcCliSplatEnc {
    const char *input, *output;
    double quality;
    int bits[6];            /* position, rotation, scale, opacity, colour and
                             * SH precision; 0 = from quality */
    int sh_degree;          /* -1 = keep */
    int sh_codebook;        /* as LvcSplatSettings */
    uint64_t target_bytes;  /* > 0: search the quality for this size */
    int threads;
    int force, quiet, json;
} LvcCliSplatEnc;

typedef struct LvcCliSplatDec {
    const char *input, *output;
    const char *ref;        /* compare renders with this scene, or NULL */
    int ref_views, ref_side, threads;
    int force, quiet, json;
} LvcCliSplatDec;

/* Encode the scene in data; out is open when o->output is set. */
int lvc_cli_encode_splats(const LvcCliSplatEnc *o, const uint8_t *data, size_t size,
                          LvcCliOutput *out, FILE *report);
/* Decode the stream in data to a PLY (or .splat by the output name). */
int lvc_cli_decode_splats(const LvcCliSplatDec *o, const uint8_t *data, size_t size,
                          LvcCliOutput *out, FILE *report);
/* lvcinfo's description of a kind-3 stream. */
int lvc_cli_info_splats(const char *input, const uint8_t *data, size_t size, int json);
/* PSNR of 8-bit renders of a against ref over `views` orbit cameras of
 * side x side pixels (placed from ref), or -1 on failure. */
double lvc_cli_splat_psnr(const LvcSplats *a, const LvcSplats *ref, int views, int side,
                          int threads);

#endif /* LVC_APPS_SPLAT_CLI_H */
