/*
 * lvcrd: the per-point store. Every finished (codec, rate, image) point is
 * appended to a CSV file and flushed at once, so an interrupted run loses at
 * most the point in progress and --resume skips everything already there.
 */
#ifndef LVC_APPS_LVCRD_RD_RESULTS_H
#define LVC_APPS_LVCRD_RD_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "apps/lvcrd/rd_json.h"

typedef struct LvcRdPoint {
    char codec[64];
    char param[32];     /* the rate parameter as text (%.10g): the key */
    char image[256];    /* file name within the dataset folder */
    int width, height;
    uint64_t bytes;
    double bpp, psnr, psnr_y, msssim, enc_s, dec_s;
    int threads;
} LvcRdPoint;

typedef struct LvcRdStore {
    LvcRdPoint *pts;
    int n, cap;
    FILE *f;
} LvcRdStore;

/* The CSV header line (without newline). */
extern const char lvcrd_csv_header[];

/* Opens path for appending points. With resume, the points already in the
 * file are loaded (lines that do not parse, such as a line cut short by a
 * crash, are ignored and rewritten away); without, the file is truncated.
 * On failure returns a negative LvcError with a reason in err. */
int lvcrd_store_open(LvcRdStore *s, const char *path, int resume, char *err,
                     size_t err_size);
/* Index of the point, or -1. */
int lvcrd_store_find(const LvcRdStore *s, const char *codec, const char *param,
                     const char *image);
/* Adds p in memory and appends it to the file (flushed). */
int lvcrd_store_add(LvcRdStore *s, const LvcRdPoint *p);
void lvcrd_store_close(LvcRdStore *s);
/* Removes every point of codec, in memory and in the file (rewritten).
 * Returns the number removed or a negative LvcError. */
int lvcrd_store_drop(LvcRdStore *s, const char *codec);

/* RESULTS_DIR/versions.txt: one "codec version" line per codec whose
 * points depend on more than its name (lvc: the weights). */
typedef struct LvcRdVersions {
    int n;
    char codec[64][64];
    char version[64][96];
} LvcRdVersions;

/* Loads path (a missing file is an empty set; malformed lines are skipped). */
void lvcrd_versions_load(LvcRdVersions *v, const char *path);
/* The recorded version of codec, or NULL. */
const char *lvcrd_versions_get(const LvcRdVersions *v, const char *codec);
/* Records codec's version (replacing an older one). */
int lvcrd_versions_set(LvcRdVersions *v, const char *codec, const char *version);
/* Writes the set (to a temporary file renamed over path). */
int lvcrd_versions_save(const LvcRdVersions *v, const char *path);

/* Formats a rate parameter as the store's key. */
void lvcrd_param_key(double param, char *buf, size_t size);

/* Averages the points of one codec over the given images into one curve
 * point per parameter (CompressAI's convention: the mean over images of
 * the per-image bpp, PSNR, MS-SSIM and times). A parameter is used only if
 * every image has a point; *incomplete counts the others. c gets name,
 * points sorted by bpp, and threads (of the last point seen). */
int lvcrd_store_curve(const LvcRdStore *s, const char *codec, const double *params,
                      int num_params, const char *const *images, int num_images,
                      LvcRdCurve *c, int *incomplete);

#endif /* LVC_APPS_LVCRD_RD_RESULTS_H */
