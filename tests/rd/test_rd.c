/*
 * Tests of lvcrd (apps/lvcrd): metrics, BD-rate, JSON, SVG, the per-point
 * store and resumption, an end-to-end run on generated images, and
 * lvcrd --video on a generated clip.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_bdrate.h"
#include "apps/lvcrd/rd_codec.h"
#include "apps/lvcrd/rd_json.h"
#include "apps/lvcrd/rd_metrics.h"
#include "apps/lvcrd/rd_results.h"
#include "apps/lvcrd/rd_run.h"
#include "apps/lvcrd/rd_svg.h"

#include "msssim_fixtures.h"

/* ------------------------------------------------------------- fixtures */

/* Same generator and pattern as make_pair() in tools/msssim_ref.py. */
static unsigned lcg_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 24;
}

static void fixture_pair(int w, int h, unsigned seed, int noise, uint8_t *a, uint8_t *b)
{
    uint32_t s = seed;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++) {
                const int v = (x * x / 7 + y * 5 + c * 77 + (int)(lcg_next(&s) & 31)) % 256;
                const int d = noise > 0 ? (int)(lcg_next(&s) % (unsigned)(2 * noise + 1)) - noise
                                        : 0;
                const int bv = v + d;
                a[((size_t)y * w + x) * 3 + c] = (uint8_t)v;
                b[((size_t)y * w + x) * 3 + c] = (uint8_t)(bv < 0 ? 0 : bv > 255 ? 255 : bv);
            }
        }
    }
}

/* --------------------------------------------------------------- metrics */

START_TEST(test_psnr_hand)
{
    uint8_t a[4 * 4 * 3], b[4 * 4 * 3];
    memset(a, 100, sizeof(a));
    /* Every sample off by one: MSE 1, PSNR 20 log10(255). */
    memset(b, 101, sizeof(b));
    ck_assert_double_eq_tol(lvcrd_mse_rgb(a, 12, b, 12, 4, 4), 1.0, 1e-12);
    ck_assert_double_eq_tol(lvcrd_psnr_from_mse(lvcrd_mse_rgb(a, 12, b, 12, 4, 4)),
                            48.1308036086791, 1e-9);
    /* Red off by 5 everywhere: MSE-RGB 25/3, PSNR 10 log10(255^2 * 3 / 25);
     * luma off by 0.299 * 5: PSNR-Y 10 log10(255^2 / 1.495^2). */
    memcpy(b, a, sizeof(b));
    for (int i = 0; i < 16; i++)
        b[3 * i] = 105;
    ck_assert_double_eq_tol(lvcrd_psnr_from_mse(lvcrd_mse_rgb(a, 12, b, 12, 4, 4)),
                            38.92261606915535, 1e-9);
    ck_assert_double_eq_tol(lvcrd_psnr_from_mse(lvcrd_mse_y(a, 12, b, 12, 4, 4)),
                            44.637979755470134, 1e-9);
    /* Identical images: the finite cap. */
    ck_assert_double_eq(lvcrd_psnr_from_mse(lvcrd_mse_rgb(a, 12, a, 12, 4, 4)),
                        LVC_RD_PSNR_MAX);
    /* Stride: padding bytes between rows are ignored. */
    uint8_t pa[2 * 16], pb[2 * 16];
    memset(pa, 0, sizeof(pa));
    memset(pb, 0, sizeof(pb));
    pb[12] = 99;  /* padding of row 0 (bytes 12..15 of a 4-pixel row) */
    pb[16] = 6;   /* first sample of row 1 */
    ck_assert_double_eq_tol(lvcrd_mse_rgb(pa, 16, pb, 16, 4, 2), 36.0 / 24.0, 1e-12);
}
END_TEST

START_TEST(test_msssim_reference)
{
    for (size_t k = 0; k < sizeof(msssim_fixtures) / sizeof(msssim_fixtures[0]); k++) {
        const int w = msssim_fixtures[k].w, h = msssim_fixtures[k].h;
        uint8_t *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
        ck_assert(a && b);
        fixture_pair(w, h, msssim_fixtures[k].seed, msssim_fixtures[k].noise, a, b);
        double m = -1;
        ck_assert_int_eq(lvcrd_msssim_rgb(a, 3 * (size_t)w, b, 3 * (size_t)w, w, h, &m), 0);
        /* Both sides compute in double; only summation order differs. */
        ck_assert_msg(fabs(m - msssim_fixtures[k].msssim) < 1e-9,
                      "case %zu (%dx%d): MS-SSIM %.15f, reference %.15f", k, w, h, m,
                      msssim_fixtures[k].msssim);
        const double p = lvcrd_psnr_from_mse(lvcrd_mse_rgb(a, 3 * (size_t)w, b,
                                                           3 * (size_t)w, w, h));
        const double py = lvcrd_psnr_from_mse(lvcrd_mse_y(a, 3 * (size_t)w, b,
                                                          3 * (size_t)w, w, h));
        ck_assert_double_eq_tol(p, msssim_fixtures[k].psnr_rgb, 1e-9);
        ck_assert_double_eq_tol(py, msssim_fixtures[k].psnr_y, 1e-9);
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(test_msssim_properties)
{
    const int w = 180, h = 170;
    uint8_t *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
    uint8_t *c = malloc((size_t)w * h * 3);
    ck_assert(a && b && c);
    double m1, m2, m3;
    fixture_pair(w, h, 7, 8, a, b);
    fixture_pair(w, h, 7, 40, a, c);
    ck_assert_int_eq(lvcrd_msssim_rgb(a, 3 * (size_t)w, a, 3 * (size_t)w, w, h, &m1), 0);
    ck_assert_double_eq_tol(m1, 1.0, 1e-12);
    ck_assert_int_eq(lvcrd_msssim_rgb(a, 3 * (size_t)w, b, 3 * (size_t)w, w, h, &m2), 0);
    ck_assert_int_eq(lvcrd_msssim_rgb(a, 3 * (size_t)w, c, 3 * (size_t)w, w, h, &m3), 0);
    /* More noise, lower score; and the metric is symmetric. */
    ck_assert(m2 < 1.0 && m3 < m2 && m3 > 0.0);
    ck_assert_int_eq(lvcrd_msssim_rgb(b, 3 * (size_t)w, a, 3 * (size_t)w, w, h, &m1), 0);
    ck_assert_double_eq_tol(m1, m2, 1e-12);
    ck_assert_int_eq(lvcrd_msssim_rgb(a, 3, b, 3, 0, h, &m1), LVC_ERR_INVALID_ARG);
    ck_assert_double_eq_tol(lvcrd_msssim_db(0.99), 20.0, 1e-9);
    free(a);
    free(b);
    free(c);
}
END_TEST

/* --------------------------------------------------------------- BD-rate */

/* CompressAI's results/image/kodak/vtm.json and bpg_444_x265_ycbcr.json
 * (bpp, psnr-rgb), copied here so that the test needs no external files.
 * CompressAI lists BPG 4:4:4 at +22.0% BD-rate (PSNR) against VTM. */
static const double vtm_bpp[] = { 0.04824490017361111, 0.11249542236328125,
    0.24581654866536465, 0.4905454847547744, 0.8748101128472224, 1.43084971110026,
    2.3246070014105906, 3.6326090494791665 };
static const double vtm_psnr[] = { 26.14484539430146, 28.493021754424603,
    31.199873720014093, 34.26153257289846, 37.419793158067485, 40.42444421698711,
    43.505766973634486, 46.59176008512777 };
static const double bpg_bpp[] = { 0.06776767306857638, 0.1610234578450521,
    0.35155402289496523, 0.6846966213650174, 1.1996654934353295, 1.9297120836046002,
    3.0578757392035594, 4.703142801920573 };
static const double bpg_psnr[] = { 26.19512806390954, 28.68154930675666,
    31.5946565907943, 34.857473813062924, 38.259886899666974, 41.47887283561703,
    44.70311031066196, 47.63251604714922 };

START_TEST(test_bdrate_scaled)
{
    /* Rates scaled by a constant factor at equal quality: BD-rate is exactly
     * factor - 1 whatever the interpolation. */
    double r2[8];
    const double factors[] = { 0.5, 0.8, 1.0, 1.37, 2.0 };
    for (size_t f = 0; f < sizeof(factors) / sizeof(factors[0]); f++) {
        for (int i = 0; i < 8; i++)
            r2[i] = vtm_bpp[i] * factors[f];
        double bd = 0;
        ck_assert_int_eq(lvcrd_bd_rate(vtm_bpp, vtm_psnr, 8, r2, vtm_psnr, 8, &bd), 0);
        ck_assert_double_eq_tol(bd, (factors[f] - 1.0) * 100.0, 1e-9);
    }
    /* Point order does not matter. */
    double rr[8], qr[8], bd1, bd2;
    for (int i = 0; i < 8; i++) {
        rr[i] = bpg_bpp[7 - i];
        qr[i] = bpg_psnr[7 - i];
    }
    ck_assert_int_eq(lvcrd_bd_rate(vtm_bpp, vtm_psnr, 8, bpg_bpp, bpg_psnr, 8, &bd1), 0);
    ck_assert_int_eq(lvcrd_bd_rate(vtm_bpp, vtm_psnr, 8, rr, qr, 8, &bd2), 0);
    ck_assert_double_eq_tol(bd1, bd2, 1e-12);
}
END_TEST

START_TEST(test_bdrate_published)
{
    double bd = 0;
    ck_assert_int_eq(lvcrd_bd_rate(vtm_bpp, vtm_psnr, 8, bpg_bpp, bpg_psnr, 8, &bd), 0);
    ck_assert_msg(fabs(bd - 22.0) < 0.1, "BPG vs VTM: %.3f%%, published +22.0%%", bd);
    /* And the other way round: the anchor is better, so negative. */
    ck_assert_int_eq(lvcrd_bd_rate(bpg_bpp, bpg_psnr, 8, vtm_bpp, vtm_psnr, 8, &bd), 0);
    ck_assert(bd < -15.0 && bd > -20.0);
}
END_TEST

START_TEST(test_bdrate_errors)
{
    double bd;
    const double r[] = { 0.1, 0.2, 0.4 }, q1[] = { 20, 22, 24 }, q2[] = { 30, 32, 34 };
    ck_assert_int_eq(lvcrd_bd_rate(r, q1, 3, r, q2, 3, &bd), LVC_ERR_UNSUPPORTED);
    ck_assert_int_eq(lvcrd_bd_rate(r, q1, 1, r, q1, 3, &bd), LVC_ERR_INVALID_ARG);
    const double dup[] = { 20, 20, 20 };
    ck_assert_int_eq(lvcrd_bd_rate(r, dup, 3, r, q1, 3, &bd), LVC_ERR_INVALID_ARG);
    const double bad[] = { 0.1, 0.0, 0.4 };
    ck_assert_int_eq(lvcrd_bd_rate(bad, q1, 3, r, q1, 3, &bd), LVC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_pchip)
{
    /* Linear data: slopes equal the line's, the integral is exact. */
    const double x[] = { 0, 1, 3, 4 }, y[] = { 1, 3, 7, 9 };
    double d[4];
    lvcrd_pchip_slopes(x, y, 4, d);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(d[i], 2.0, 1e-12);
    /* integral of 2x + 1 over [0.5, 3.5] = [x^2 + x] = 15.75 - 0.75 */
    ck_assert_double_eq_tol(lvcrd_hermite_integral(x, y, d, 4, 0.5, 3.5), 15.0, 1e-12);
    /* A local extremum gets a zero slope (monotonicity preserved). */
    const double y2[] = { 0, 2, 2, 5 };
    lvcrd_pchip_slopes(x, y2, 4, d);
    ck_assert_double_eq(d[1], 0.0);
    ck_assert_double_eq(d[2], 0.0);
    /* scipy PchipInterpolator([0,1,3,4],[1,0,2,2]).derivative()(x):
     * interior slopes 0 (sign change) and 0 (flat secant); end slopes from
     * the three-point formula: -1.6666..., clipped to 0 at the flat end. */
    const double y3[] = { 1, 0, 2, 2 };
    lvcrd_pchip_slopes(x, y3, 4, d);
    ck_assert_double_eq_tol(d[0], -5.0 / 3.0, 1e-12);
    ck_assert_double_eq(d[1], 0.0);
    ck_assert_double_eq(d[3], 0.0);
}
END_TEST

/* ------------------------------------------------------------------ JSON */

static char tmp_root[256];

static void make_tmp_root(void)
{
    if (tmp_root[0])
        return;
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/lvc_test_rd_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

START_TEST(test_json)
{
    make_tmp_root();
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s/anchor.json", tmp_root);
    write_text(path, "{\n \"name\": \"A \\\"q\\\" \\u00e9\", \"description\": \"d\",\n"
                     " \"results\": {\"psnr-rgb\": [30.5, 25, 35e0],\n"
                     "  \"ms-ssim-rgb\": [0.95, 0.9, 0.98], \"bpp\": [0.5, 0.25, 1.0],\n"
                     "  \"encoding_time\": [1, 2, 3], \"decoding_time\": [4, 5, 6],\n"
                     "  \"extra\": {\"nested\": [true, false, null]}}}\n");
    LvcRdCurve c;
    ck_assert_int_eq(lvcrd_curve_load_json(path, &c, err, sizeof(err)), 0);
    ck_assert_str_eq(c.name, "A \"q\" \xc3\xa9");
    ck_assert_int_eq(c.n, 3);
    ck_assert(c.is_anchor && c.has_psnr && c.has_msssim && !c.has_psnr_y);
    /* Sorted by bpp, all arrays together. */
    ck_assert_double_eq(c.bpp[0], 0.25);
    ck_assert_double_eq(c.psnr[0], 25.0);
    ck_assert_double_eq(c.msssim[2], 0.98);
    ck_assert_double_eq(c.dec_time[1], 4.0);

    /* Round trip through the writer. */
    snprintf(path, sizeof(path), "%s/out.json", tmp_root);
    c.psnr_y[0] = 1.0 / 3.0;
    ck_assert_int_eq(lvcrd_curve_write_json(path, &c), 0);
    LvcRdCurve d;
    ck_assert_int_eq(lvcrd_curve_load_json(path, &d, err, sizeof(err)), 0);
    ck_assert_str_eq(d.name, c.name);
    ck_assert_int_eq(d.n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq(d.bpp[i], c.bpp[i]);
        ck_assert_double_eq(d.psnr[i], c.psnr[i]);
    }
    ck_assert_double_eq(d.psnr_y[0], 1.0 / 3.0);
    ck_assert(isnan(d.psnr_y[1]));  /* NaN written as null */

    /* Malformed input: clean errors, no crash. */
    const char *bad[] = { "", "{", "{\"results\": [1,2]}", "{\"a\":1}", "[1,2,",
                          "{\"results\": {\"bpp\": [1], \"psnr-rgb\": [1, 2]}}",
                          "{\"results\": {\"bpp\": [1e999999x]}}", "\"\\u12\"" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_text(path, bad[i]);
        ck_assert_int_lt(lvcrd_curve_load_json(path, &d, err, sizeof(err)), 0);
        ck_assert(strlen(err) > 0);
    }
    ck_assert_int_lt(lvcrd_curve_load_json("/nonexistent/x.json", &d, err, sizeof(err)), 0);
    /* Deep nesting is refused, not a stack overflow. */
    char deep[4096];
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = 0;
    LvcJson *j = NULL;
    ck_assert_int_lt(lvcrd_json_parse(deep, strlen(deep), &j, err, sizeof(err)), 0);
    ck_assert_ptr_null(j);
}
END_TEST

/* ------------------------------------------------------------------- SVG */

/* A small XML well-formedness check: balanced, properly nested tags; quoted
 * attributes; no raw '<' or stray '&' in text or attribute values. */
static int entity_ok(const char *p)
{
    static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
    for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
        if (!strncmp(p, ents[i], strlen(ents[i])))
            return 1;
    return 0;
}

static int xml_well_formed(const char *s, char *why, size_t why_size)
{
    char stack[64][32];
    int depth = 0, roots = 0;
    const char *p = s;
    if (!strncmp(p, "<?xml", 5)) {
        p = strstr(p, "?>");
        if (!p)
            return snprintf(why, why_size, "unterminated prolog"), 0;
        p += 2;
    }
    while (*p) {
        if (*p == '&') {
            if (!entity_ok(p))
                return snprintf(why, why_size, "bad entity near %.20s", p), 0;
            p++;
            continue;
        }
        if (*p != '<') {
            if (depth == 0 && *p != '\n' && *p != ' ')
                return snprintf(why, why_size, "text outside the root"), 0;
            p++;
            continue;
        }
        p++;
        const int closing = *p == '/';
        if (closing)
            p++;
        char name[32];
        int n = 0;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-' ||
               (*p >= '0' && *p <= '9') || *p == ':')
            if (n < 31) name[n++] = *p++;
            else return snprintf(why, why_size, "long name"), 0;
        name[n] = 0;
        if (!n)
            return snprintf(why, why_size, "empty tag name"), 0;
        if (closing) {
            if (depth == 0 || strcmp(stack[depth - 1], name))
                return snprintf(why, why_size, "mismatched </%s>", name), 0;
            depth--;
            if (*p != '>')
                return snprintf(why, why_size, "bad closing tag"), 0;
            p++;
            continue;
        }
        /* attributes */
        for (;;) {
            while (*p == ' ' || *p == '\n')
                p++;
            if (*p == '>' || (*p == '/' && p[1] == '>'))
                break;
            int an = 0;
            while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-' ||
                   *p == ':' || (an > 0 && *p >= '0' && *p <= '9'))
                p++, an++;
            if (!an || *p != '=' || p[1] != '"')
                return snprintf(why, why_size, "bad attribute in <%s>", name), 0;
            p += 2;
            while (*p && *p != '"') {
                if (*p == '<' || (*p == '&' && !entity_ok(p)))
                    return snprintf(why, why_size, "bad attribute value in <%s>", name), 0;
                p++;
            }
            if (!*p)
                return snprintf(why, why_size, "unterminated attribute"), 0;
            p++;
        }
        if (*p == '/') {
            p += 2;
            if (depth == 0)
                roots++;
            continue;
        }
        p++;
        if (depth == 0)
            roots++;
        if (depth == 64)
            return snprintf(why, why_size, "too deep"), 0;
        strcpy(stack[depth++], name);
    }
    if (depth)
        return snprintf(why, why_size, "unclosed <%s>", stack[depth - 1]), 0;
    if (roots != 1)
        return snprintf(why, why_size, "%d root elements", roots), 0;
    return 1;
}

START_TEST(test_svg)
{
    make_tmp_root();
    char path[512], why[128];
    LvcRdCurve a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    snprintf(a.name, sizeof(a.name), "codec <a> & \"b\"");
    a.n = 8;
    a.has_psnr = a.has_msssim = 1;
    for (int i = 0; i < 8; i++) {
        a.bpp[i] = vtm_bpp[i];
        a.psnr[i] = vtm_psnr[i];
        a.msssim[i] = 0.9 + 0.01 * i;
    }
    b = a;
    snprintf(b.name, sizeof(b.name), "anchor");
    b.is_anchor = 1;
    b.has_msssim = 0;
    const LvcRdCurve *curves[] = { &a, &b };
    snprintf(path, sizeof(path), "%s/rd.svg", tmp_root);
    ck_assert_int_eq(lvcrd_svg_write(path, curves, 2, "T & <title>", 0), 0);
    char *svg = read_text(path);
    ck_assert_ptr_nonnull(svg);
    ck_assert_msg(xml_well_formed(svg, why, sizeof(why)), "SVG not well-formed: %s", why);
    ck_assert_ptr_nonnull(strstr(svg, "<svg"));
    ck_assert_ptr_nonnull(strstr(svg, "Bit rate (bpp)"));
    ck_assert_ptr_nonnull(strstr(svg, "PSNR-RGB (dB)"));
    ck_assert_ptr_nonnull(strstr(svg, "stroke-dasharray"));  /* the anchor */
    ck_assert_ptr_nonnull(strstr(svg, "codec &lt;a&gt; &amp; &quot;b&quot;"));
    free(svg);
    /* No curves at all still gives a valid (empty) plot. */
    ck_assert_int_eq(lvcrd_svg_write(path, NULL, 0, "", 0), 0);
    svg = read_text(path);
    ck_assert_msg(xml_well_formed(svg, why, sizeof(why)), "empty SVG: %s", why);
    free(svg);
    /* The checker itself rejects broken XML. */
    ck_assert(!xml_well_formed("<svg><g></svg>", why, sizeof(why)));
    ck_assert(!xml_well_formed("<svg a=\"<\"/>", why, sizeof(why)));
    ck_assert(!xml_well_formed("<svg>&</svg>", why, sizeof(why)));
}
END_TEST

/* ----------------------------------------------------------------- store */

static LvcRdPoint make_point(const char *codec, double param, const char *image, double bpp)
{
    LvcRdPoint p;
    memset(&p, 0, sizeof(p));
    snprintf(p.codec, sizeof(p.codec), "%s", codec);
    lvcrd_param_key(param, p.param, sizeof(p.param));
    snprintf(p.image, sizeof(p.image), "%s", image);
    p.width = 64;
    p.height = 48;
    p.bytes = (uint64_t)(bpp * 64 * 48 / 8);
    p.bpp = bpp;
    p.psnr = 30 + bpp;
    p.psnr_y = 31 + bpp;
    p.msssim = 0.9;
    p.enc_s = 0.1;
    p.dec_s = 0.05;
    p.threads = 1;
    return p;
}

START_TEST(test_store_resume)
{
    make_tmp_root();
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s/store.csv", tmp_root);
    LvcRdStore s;
    ck_assert_int_eq(lvcrd_store_open(&s, path, 0, err, sizeof(err)), 0);
    LvcRdPoint p1 = make_point("jpeg", 10, "a.png", 0.5);
    LvcRdPoint p2 = make_point("jpeg", 10, "b,\"odd\".png", 0.7);
    LvcRdPoint p3 = make_point("jpeg", 1.0 / 3.0, "a.png", 1.5);
    ck_assert_int_eq(lvcrd_store_add(&s, &p1), 0);
    ck_assert_int_eq(lvcrd_store_add(&s, &p2), 0);
    ck_assert_int_eq(lvcrd_store_add(&s, &p3), 0);
    lvcrd_store_close(&s);

    /* A crash mid-line leaves a partial last line: it must be ignored. */
    FILE *f = fopen(path, "a");
    fputs("jpeg,20,a.png,64,48,10", f);
    fclose(f);

    ck_assert_int_eq(lvcrd_store_open(&s, path, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(s.n, 3);
    char key[32];
    lvcrd_param_key(10, key, sizeof(key));
    ck_assert_int_ge(lvcrd_store_find(&s, "jpeg", key, "a.png"), 0);
    const int i2 = lvcrd_store_find(&s, "jpeg", key, "b,\"odd\".png");
    ck_assert_int_ge(i2, 0);
    ck_assert_double_eq(s.pts[i2].bpp, 0.7);  /* exact round trip */
    lvcrd_param_key(1.0 / 3.0, key, sizeof(key));
    ck_assert_int_ge(lvcrd_store_find(&s, "jpeg", key, "a.png"), 0);
    lvcrd_param_key(20, key, sizeof(key));
    ck_assert_int_lt(lvcrd_store_find(&s, "jpeg", key, "a.png"), 0);
    ck_assert_int_lt(lvcrd_store_find(&s, "webp", "10", "a.png"), 0);

    /* Averages: only rates that every image has. */
    const char *images[] = { "a.png", "b,\"odd\".png" };
    const double params[] = { 10, 1.0 / 3.0 };
    LvcRdCurve c;
    int incomplete = -1;
    ck_assert_int_eq(lvcrd_store_curve(&s, "jpeg", params, 2, images, 2, &c, &incomplete), 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(incomplete, 1);
    ck_assert_double_eq_tol(c.bpp[0], 0.6, 1e-12);
    ck_assert_double_eq_tol(c.psnr[0], 30.6, 1e-12);
    lvcrd_store_close(&s);

    /* The file was rewritten without the partial line; without resume it
     * starts empty. */
    char *text = read_text(path);
    ck_assert_ptr_null(strstr(text, "64,48,10\n"));
    ck_assert_ptr_nonnull(strstr(text, "\"b,\"\"odd\"\".png\""));
    free(text);
    ck_assert_int_eq(lvcrd_store_open(&s, path, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(s.n, 0);
    lvcrd_store_close(&s);
}
END_TEST

/* ------------------------------------------------------------ end to end */

static void write_png(const char *path, int w, int h, unsigned seed)
{
    LvcImage img;
    ck_assert_int_eq(lvc_image_alloc(&img, w, h, 3, 8), 0);
    uint32_t s = seed;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                img.data[(size_t)y * img.stride + 3 * x + c] =
                    (uint8_t)((x * 4 + y * 3 + c * 60 + (int)(lcg_next(&s) & 15)) & 255);
    ck_assert_int_eq(lvc_png_write_file(path, &img), 0);
    lvc_image_free(&img);
}

static int run(const char **args)
{
    char *argv[32];
    int argc = 0;
    for (; args[argc]; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    return lvcrd_main(argc, argv);
}

#if LVC_RD_HAVE_FFMPEG
static int count_lines(const char *path)
{
    char *t = read_text(path);
    if (!t)
        return -1;
    int n = 0;
    for (char *p = t; *p; p++)
        n += *p == '\n';
    free(t);
    return n;
}
#endif

START_TEST(test_end_to_end)
{
    make_tmp_root();
    char data[512], out[512], path[600], anchor[600];
    snprintf(data, sizeof(data), "%s/data", tmp_root);
    snprintf(out, sizeof(out), "%s/out", tmp_root);
    ck_assert_int_eq(mkdir(data, 0777), 0);
    snprintf(path, sizeof(path), "%s/img0.png", data);
    write_png(path, 64, 48, 1);
    snprintf(path, sizeof(path), "%s/img1.png", data);
    write_png(path, 64, 48, 2);
    snprintf(anchor, sizeof(anchor), "%s/anchor.json", tmp_root);
    write_text(anchor, "{\"name\": \"Anchor\", \"results\": {\"bpp\": [0.5, 1, 2, 4, 8],"
                       " \"psnr-rgb\": [22, 26, 30, 36, 44],"
                       " \"ms-ssim-rgb\": [0.8, 0.9, 0.95, 0.98, 0.995]}}");

#if LVC_RD_HAVE_FFMPEG
    const char *a1[] = { "lvcrd", data, "--codec", "jpeg", "--sweep", "jpeg=20,5,2",
                         "--anchor", anchor, "-o", out, "--quiet", NULL };
    ck_assert_int_eq(run(a1), LVCRD_EXIT_OK);
    snprintf(path, sizeof(path), "%s/per_image.csv", out);
    ck_assert_int_eq(count_lines(path), 1 + 2 * 3);
    char *csv1 = read_text(path);
    snprintf(path, sizeof(path), "%s/jpeg.json", out);
    char err[256];
    LvcRdCurve c;
    ck_assert_int_eq(lvcrd_curve_load_json(path, &c, err, sizeof(err)), 0);
    ck_assert_int_eq(c.n, 3);
    /* Finer quantiser: more bits and better quality, all plausible. */
    ck_assert(c.bpp[0] < c.bpp[1] && c.bpp[1] < c.bpp[2]);
    ck_assert(c.psnr[0] < c.psnr[1] && c.psnr[1] < c.psnr[2]);
    ck_assert(c.psnr[0] > 15 && c.psnr[2] < 60 && c.msssim[2] > c.msssim[0]);
    ck_assert(c.bpp[0] > 0.1 && c.bpp[2] < 24);
    for (const char *const *f = (const char *const[]){ "rd.svg", "summary.md", "bdrate.csv",
                                                      NULL }; *f; f++) {
        snprintf(path, sizeof(path), "%s/%s", out, *f);
        ck_assert_msg(access(path, R_OK) == 0, "%s missing", *f);
    }
    snprintf(path, sizeof(path), "%s/summary.md", out);
    char *summary = read_text(path);
    ck_assert_ptr_nonnull(strstr(summary, "rd.svg"));
    ck_assert_ptr_nonnull(strstr(summary, "BD-rate PSNR vs Anchor"));
    free(summary);

    /* Resume with the same sweep: nothing is recomputed (the timings in the
     * CSV would differ otherwise). */
    const char *a2[] = { "lvcrd", data, "--codec", "jpeg", "--sweep", "jpeg=20,5,2",
                         "-o", out, "--quiet", "--resume", NULL };
    ck_assert_int_eq(run(a2), LVCRD_EXIT_OK);
    snprintf(path, sizeof(path), "%s/per_image.csv", out);
    char *csv2 = read_text(path);
    ck_assert_str_eq(csv1, csv2);
    free(csv2);
    /* One more rate: only its two points are added. */
    const char *a3[] = { "lvcrd", data, "--codec", "jpeg", "--sweep", "jpeg=20,5,2,10",
                         "-o", out, "--quiet", "--resume", NULL };
    ck_assert_int_eq(run(a3), LVCRD_EXIT_OK);
    csv2 = read_text(path);
    ck_assert_int_eq(strncmp(csv1, csv2, strlen(csv1)), 0);
    ck_assert_int_eq(count_lines(path), 1 + 2 * 4);
    free(csv1);
    free(csv2);

    /* An unreadable image is a note, the other image is still measured
     * (the curve then needs every image, so it is empty: exit 3). */
    snprintf(path, sizeof(path), "%s/broken.png", data);
    write_text(path, "not a png");
    const char *a4[] = { "lvcrd", data, "--codec", "jpeg", "--sweep", "jpeg=10",
                         "-o", out, "--quiet", NULL };
    ck_assert_int_eq(run(a4), LVCRD_EXIT_NOPOINT);
    snprintf(path, sizeof(path), "%s/per_image.csv", out);
    ck_assert_int_eq(count_lines(path), 1 + 2);
    snprintf(path, sizeof(path), "%s/broken.png", data);
    unlink(path);
#endif

    /* Fatal errors: one line, non-zero status. */
    const char *b1[] = { "lvcrd", "/nonexistent/folder", "-o", out, "--quiet", NULL };
    ck_assert_int_eq(run(b1), LVCRD_EXIT_IO);
    const char *b2[] = { "lvcrd", data, "--codec", "nosuchcodec", "-o", out, NULL };
    ck_assert_int_eq(run(b2), LVCRD_EXIT_USAGE);
    snprintf(path, sizeof(path), "%s/empty", tmp_root);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    const char *b3[] = { "lvcrd", path, "-o", out, "--quiet", NULL };
    ck_assert_int_eq(run(b3), LVCRD_EXIT_IO);
    const char *b4[] = { "lvcrd", data, NULL };
    ck_assert_int_eq(run(b4), LVCRD_EXIT_USAGE);
    const char *b5[] = { "lvcrd", data, "-o", out, "--threads", "0", NULL };
    ck_assert_int_eq(run(b5), LVCRD_EXIT_USAGE);
    const char *b6[] = { "lvcrd", data, "-o", out, "--anchor", "/nonexistent.json", NULL };
    ck_assert_int_eq(run(b6), LVCRD_EXIT_USAGE);
}
END_TEST

/* --resume keeps an lvc model's points only while its weights are those
 * recorded in versions.txt; store_drop removes a codec's points in memory
 * and in the file. */
START_TEST(test_versions)
{
    make_tmp_root();
    char path[700], err[256];
    snprintf(path, sizeof(path), "%s/drop.csv", tmp_root);
    LvcRdStore s;
    ck_assert_int_eq(lvcrd_store_open(&s, path, 0, err, sizeof(err)), 0);
    LvcRdPoint a = make_point("lvc-x", 50, "a.png", 0.5);
    LvcRdPoint b = make_point("jpeg", 10, "a.png", 0.7);
    LvcRdPoint c = make_point("lvc-x", 60, "a.png", 0.9);
    ck_assert_int_eq(lvcrd_store_add(&s, &a), 0);
    ck_assert_int_eq(lvcrd_store_add(&s, &b), 0);
    ck_assert_int_eq(lvcrd_store_add(&s, &c), 0);
    ck_assert_int_eq(lvcrd_store_drop(&s, "lvc-x"), 2);
    ck_assert_int_eq(lvcrd_store_drop(&s, "lvc-x"), 0);
    ck_assert_int_eq(s.n, 1);
    LvcRdPoint d = make_point("webp", 80, "a.png", 1.1);
    ck_assert_int_eq(lvcrd_store_add(&s, &d), 0);
    lvcrd_store_close(&s);
    ck_assert_int_eq(lvcrd_store_open(&s, path, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.pts[0].codec, "jpeg");
    ck_assert_str_eq(s.pts[1].codec, "webp");
    lvcrd_store_close(&s);

    LvcRdVersions v;
    snprintf(path, sizeof(path), "%s/versions.txt", tmp_root);
    lvcrd_versions_load(&v, path);  /* missing: empty */
    ck_assert_int_eq(v.n, 0);
    ck_assert_int_eq(lvcrd_versions_set(&v, "lvc-x", "w:01"), 0);
    ck_assert_int_eq(lvcrd_versions_set(&v, "lvc-y", "w:02"), 0);
    ck_assert_int_eq(lvcrd_versions_set(&v, "lvc-x", "w:03"), 0);
    ck_assert_int_eq(lvcrd_versions_set(&v, "bad name", "w"), LVC_ERR_INVALID_ARG);
    ck_assert_int_eq(lvcrd_versions_save(&v, path), 0);
    lvcrd_versions_load(&v, path);
    ck_assert_int_eq(v.n, 2);
    ck_assert_str_eq(lvcrd_versions_get(&v, "lvc-x"), "w:03");
    ck_assert_str_eq(lvcrd_versions_get(&v, "lvc-y"), "w:02");
    ck_assert_ptr_null(lvcrd_versions_get(&v, "jpeg"));

    /* End to end with the default model. */
    char data[512], out[512];
    snprintf(data, sizeof(data), "%s/vdata", tmp_root);
    snprintf(out, sizeof(out), "%s/vout", tmp_root);
    ck_assert_int_eq(mkdir(data, 0777), 0);
    snprintf(path, sizeof(path), "%s/img0.png", data);
    write_png(path, 64, 48, 3);
    const char *r1[] = { "lvcrd", data, "-q", "50", "-o", out, "--quiet", NULL };
    ck_assert_int_eq(run(r1), LVCRD_EXIT_OK);
    snprintf(path, sizeof(path), "%s/versions.txt", out);
    char *vt = read_text(path);
    ck_assert_ptr_nonnull(strstr(vt, " bitstream-"));
    ck_assert_ptr_nonnull(strstr(vt, ",weights-sha256:"));
    free(vt);
    snprintf(path, sizeof(path), "%s/per_image.csv", out);
    char *csv1 = read_text(path);
    /* same weights: resumed as is */
    const char *r2[] = { "lvcrd", data, "-q", "50", "-o", out, "--quiet", "--resume", NULL };
    ck_assert_int_eq(run(r2), LVCRD_EXIT_OK);
    char *csv2 = read_text(path);
    ck_assert_str_eq(csv1, csv2);
    free(csv2);
    /* other weights recorded: the point is made again (new timings) */
    lvcrd_versions_load(&v, (snprintf(path, sizeof(path), "%s/versions.txt", out), path));
    ck_assert_int_eq(v.n, 1);
    char name[64];
    snprintf(name, sizeof(name), "%s", v.codec[0]);
    ck_assert_int_eq(lvcrd_versions_set(&v, name, "weights-sha256:00"), 0);
    ck_assert_int_eq(lvcrd_versions_save(&v, path), 0);
    ck_assert_int_eq(run(r2), LVCRD_EXIT_OK);
    snprintf(path, sizeof(path), "%s/notes.txt", out);
    char *notes = read_text(path);
    ck_assert_msg(strstr(notes, "made with other weights") != NULL, "notes: %s", notes);
    free(notes);
    snprintf(path, sizeof(path), "%s/versions.txt", out);
    vt = read_text(path);
    ck_assert_ptr_null(strstr(vt, "weights-sha256:00\n"));
    free(vt);
    free(csv1);
}
END_TEST

/* lvcrd --video: option errors are one line and a non-zero status; a tiny
 * raw clip (its size and rate in the name) is measured, a broken clip
 * beside it is skipped with a note. */
START_TEST(test_video)
{
    make_tmp_root();
    char data[512], out[512], path[700];
    snprintf(data, sizeof(data), "%s/clips", tmp_root);
    snprintf(out, sizeof(out), "%s/vidout", tmp_root);
    ck_assert_int_eq(mkdir(data, 0777), 0);

    const char *b1[] = { "lvcrd", "--video", "/nonexistent/folder", "-o", out, NULL };
    ck_assert_int_eq(run(b1), LVCRD_EXIT_IO);
    const char *b2[] = { "lvcrd", "--video", data, NULL };
    ck_assert_int_eq(run(b2), LVCRD_EXIT_USAGE);
    const char *b3[] = { "lvcrd", "--video", data, "-o", out, "--frames", "-1", NULL };
    ck_assert_int_eq(run(b3), LVCRD_EXIT_USAGE);
    const char *b4[] = { "lvcrd", "--video", data, "-o", out, "--codec", "vp9", NULL };
    ck_assert_int_eq(run(b4), LVCRD_EXIT_USAGE);
    const char *b5[] = { "lvcrd", "--video", data, "-o", out, "-q", "50,", NULL };
    ck_assert_int_eq(run(b5), LVCRD_EXIT_USAGE);
    const char *b6[] = { "lvcrd", "--video", data, "-o", out, "--crf", "60", NULL };
    ck_assert_int_eq(run(b6), LVCRD_EXIT_USAGE);
    const char *b7[] = { "lvcrd", "--video", data, "-o", out, "--model", "nosuchmodel", NULL };
    ck_assert_int_eq(run(b7), LVCRD_EXIT_USAGE);
    /* no clip in the folder */
    const char *b8[] = { "lvcrd", "--video", data, "-o", out, "--quiet", NULL };
    ck_assert_int_eq(run(b8), LVCRD_EXIT_IO);
    /* only a broken clip: nothing measured */
    snprintf(path, sizeof(path), "%s/bad.y4m", data);
    write_text(path, "not a y4m\n");
    ck_assert_int_eq(run(b8), LVCRD_EXIT_NOPOINT);

    /* 3 frames of 32x32 4:2:0 at 10 fps */
    enum { W = 32, H = 32, FRAME = W * H + 2 * (W / 2) * (H / 2) };
    snprintf(path, sizeof(path), "%s/tiny_32x32p10.yuv", data);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint32_t seed = 7;
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < FRAME; i++)
            fputc(i < W * H ? 40 + (i % W) * 4 + t * 2 + (int)(lcg_next(&seed) & 7)
                            : 110 + (i % 16) * 2, f);
    ck_assert_int_eq(fclose(f), 0);
#if LVC_RD_HAVE_FFMPEG
    const char *codecs = "lvc,lvc-intra,x264";
    const int rows = 3;
#else
    const char *codecs = "lvc,lvc-intra";
    const int rows = 2;
#endif
    const char *a1[] = { "lvcrd", "--video", data, "-o", out, "--frames", "2", "-q", "50",
                         "--crf", "30", "--codec", codecs, "--threads", "1", "--quiet", NULL };
    ck_assert_int_eq(run(a1), LVCRD_EXIT_OK);
    snprintf(path, sizeof(path), "%s/src/tiny_32x32p10.yuv.y4m", out);
    ck_assert_int_eq(access(path, R_OK), 0);
    snprintf(path, sizeof(path), "%s/video.csv", out);
    char *csv = read_text(path);
    ck_assert_ptr_nonnull(csv);
    int lines = 0;
    for (char *p = csv; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 1 + rows);
    char *row = strstr(csv, "\ntiny_32x32p10.yuv,lvc-intra,50,2,32,32,");
    ck_assert_ptr_nonnull(row);
    size_t bytes = 0;
    double bpp, kbps, py, pcb, pcr, pyuv;
    ck_assert_int_eq(sscanf(row + strlen("\ntiny_32x32p10.yuv,lvc-intra,50,2,32,32,"),
                            "%zu,%lf,%lf,%lf,%lf,%lf,%lf", &bytes, &bpp, &kbps, &py, &pcb, &pcr,
                            &pyuv), 7);
    /* the rate of the name (10 fps) and the size of two frames */
    ck_assert_double_eq_tol(bpp, bytes * 8.0 / (W * H * 2), 1e-5);
    ck_assert_double_eq_tol(kbps, bytes * 8.0 / 1000 * 10 / 2, 1e-3);
    ck_assert(py > 20 && py < 100 && pcb > 20 && pcr > 20);
    ck_assert_double_eq_tol(pyuv, (6 * py + pcb + pcr) / 8, 1e-3);
    free(csv);
    snprintf(path, sizeof(path), "%s/video.md", out);
    char *md = read_text(path);
    ck_assert_ptr_nonnull(md);
    ck_assert_ptr_nonnull(strstr(md, "## tiny_32x32p10.yuv"));
    ck_assert_ptr_nonnull(strstr(md, "## BD-rate"));
    ck_assert_ptr_nonnull(strstr(md, "bad.y4m"));   /* the skipped clip's note */
    free(md);
}
END_TEST

static Suite *rd_suite(void)
{
    Suite *s = suite_create("rd");
    TCase *tc = tcase_create("rd");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_psnr_hand);
    tcase_add_test(tc, test_msssim_reference);
    tcase_add_test(tc, test_msssim_properties);
    tcase_add_test(tc, test_bdrate_scaled);
    tcase_add_test(tc, test_bdrate_published);
    tcase_add_test(tc, test_bdrate_errors);
    tcase_add_test(tc, test_pchip);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_svg);
    tcase_add_test(tc, test_store_resume);
    tcase_add_test(tc, test_end_to_end);
    tcase_add_test(tc, test_versions);
    tcase_add_test(tc, test_video);
    suite_add_tcase(s, tc);
    return s;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int main(void)
{
    SRunner *sr = srunner_create(rd_suite());
    /* One process: the tests share the temporary folder, removed at the end. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (tmp_root[0])
        remove_tree(tmp_root);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
