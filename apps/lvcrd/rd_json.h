/*
 * lvcrd: RD curves and their JSON form (CompressAI's results format), with a
 * small JSON reader for the anchor files.
 */
#ifndef LVC_APPS_LVCRD_RD_JSON_H
#define LVC_APPS_LVCRD_RD_JSON_H

#include <stddef.h>
#include <stdio.h>

#define LVC_RD_MAX_POINTS 128

/* One RD curve, points sorted by bpp. Arrays not present in a file are
 * NAN-filled and flagged by has_*. */
typedef struct LvcRdCurve {
    char name[128];
    char description[512];
    int n;
    double bpp[LVC_RD_MAX_POINTS];
    double psnr[LVC_RD_MAX_POINTS];      /* PSNR-RGB, dB */
    double psnr_y[LVC_RD_MAX_POINTS];    /* PSNR-Y (BT.601 full range), dB */
    double msssim[LVC_RD_MAX_POINTS];    /* MS-SSIM RGB, 0..1 */
    double enc_time[LVC_RD_MAX_POINTS];  /* seconds per image */
    double dec_time[LVC_RD_MAX_POINTS];
    double param[LVC_RD_MAX_POINTS];     /* codec parameter of each point */
    int has_psnr, has_psnr_y, has_msssim, has_times;
    int is_anchor;        /* drawn dashed, not measured by this run */
    /* Measured curves only. */
    char param_name[16];
    int threads;
    int images;
    double macs_per_pixel; /* 0 when not applicable */
} LvcRdCurve;

/* Reads a CompressAI-style results file: {"name", "description",
 * "results": {"bpp": [...], "psnr-rgb": [...], "ms-ssim-rgb": [...], ...}}.
 * A missing "name" falls back to the file name. On failure returns a
 * negative LvcError and writes a one-line reason to err. */
int lvcrd_curve_load_json(const char *path, LvcRdCurve *c, char *err, size_t err_size);

/* Writes c in the same format (plus "psnr-y" in results and an "lvcrd"
 * object with the parameters, thread count, image count and MAC/pixel). */
int lvcrd_curve_write_json(const char *path, const LvcRdCurve *c);

/* Sorts the points of c by bpp. */
void lvcrd_curve_sort(LvcRdCurve *c);

/* Writes s as a JSON string literal (with quotes) to f. */
void lvcrd_json_write_string(FILE *f, const char *s);

/* Minimal JSON document. */
typedef enum LvcJsonType {
    LVC_JSON_NULL, LVC_JSON_BOOL, LVC_JSON_NUMBER, LVC_JSON_STRING,
    LVC_JSON_ARRAY, LVC_JSON_OBJECT,
} LvcJsonType;

typedef struct LvcJson {
    LvcJsonType type;
    double number;            /* NUMBER; BOOL as 0/1 */
    char *string;             /* STRING */
    int count;                /* ARRAY / OBJECT */
    char **keys;              /* OBJECT */
    struct LvcJson *items;    /* ARRAY / OBJECT values */
} LvcJson;

/* Parses text[0..len). On success *out is owned by the caller (release with
 * lvcrd_json_free); on failure *out is NULL and err names the position. */
int lvcrd_json_parse(const char *text, size_t len, LvcJson **out, char *err,
                     size_t err_size);
void lvcrd_json_free(LvcJson *j);
/* Value of key in an object, or NULL. */
const LvcJson *lvcrd_json_get(const LvcJson *obj, const char *key);

#endif /* LVC_APPS_LVCRD_RD_JSON_H */
