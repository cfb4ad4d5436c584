/*
 * lvcrd: SVG RD plot. Hand-written SVG 1.1: no plotting library needed, and
 * the file renders in any browser.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_metrics.h"
#include "apps/lvcrd/rd_svg.h"

#define PANEL_W 520.0
#define PANEL_H 380.0
#define MARGIN_L 70.0
#define MARGIN_T 50.0
#define GAP 100.0
#define LEGEND_ROW 18.0

static const char *const palette[] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
#define NCOLORS (int)(sizeof(palette) / sizeof(palette[0]))

void lvcrd_xml_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            /* Control characters are not allowed in XML 1.0. */
            if ((unsigned char)*s >= 0x20)
                fputc(*s, f);
        }
    }
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about n ticks. */
static double nice_step(double range, int n)
{
    const double raw = range / n;
    const double p = pow(10.0, floor(log10(raw)));
    const double f = raw / p;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * p;
}

static double metric(const LvcRdCurve *c, int panel, int i)
{
    return panel == 0 ? c->psnr[i] : lvcrd_msssim_db(c->msssim[i]);
}

static int has_metric(const LvcRdCurve *c, int panel)
{
    return panel == 0 ? c->has_psnr : c->has_msssim;
}

static void panel(FILE *f, const LvcRdCurve *const *curves, int n, int pi,
                  double x0, double xmax)
{
    const double y0 = MARGIN_T;
    double ymin = INFINITY, ymax = -INFINITY;
    for (int k = 0; k < n; k++) {
        if (!has_metric(curves[k], pi))
            continue;
        for (int i = 0; i < curves[k]->n; i++) {
            const double v = metric(curves[k], pi, i);
            if (curves[k]->bpp[i] <= xmax * 1.0001 && isfinite(v)) {
                ymin = v < ymin ? v : ymin;
                ymax = v > ymax ? v : ymax;
            }
        }
    }
    if (!(ymax >= ymin)) {
        ymin = 20.0;
        ymax = 40.0;
    }
    if (ymax - ymin < 1.0) {
        ymin -= 0.5;
        ymax += 0.5;
    }
    const double ystep = nice_step(ymax - ymin, 6);
    ymin = floor(ymin / ystep) * ystep;
    ymax = ceil(ymax / ystep) * ystep;
    const double xstep = nice_step(xmax, 6);

#define SX(v) (x0 + (v) / xmax * PANEL_W)
#define SY(v) (y0 + PANEL_H - ((v) - ymin) / (ymax - ymin) * PANEL_H)
    fprintf(f, "<clipPath id=\"clip%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
               "height=\"%.1f\"/></clipPath>\n", pi, x0, y0, PANEL_W, PANEL_H);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"white\" stroke=\"black\"/>\n", x0, y0, PANEL_W, PANEL_H);
    for (double t = 0.0; t <= xmax * 1.0001; t += xstep) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#dddddd\"/>\n", SX(t), y0, SX(t), y0 + PANEL_H);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                SX(t), y0 + PANEL_H + 16, t);
    }
    for (double t = ymin; t <= ymax + ystep * 1e-6; t += ystep) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#dddddd\"/>\n", x0, SY(t), x0 + PANEL_W, SY(t));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                x0 - 6, SY(t) + 4, fabs(t) < 1e-9 ? 0.0 : t);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
               "Bit rate (bpp)</text>\n", x0 + PANEL_W / 2, y0 + PANEL_H + 38);
    fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" "
               "text-anchor=\"middle\">%s</text>\n", x0 - 48, y0 + PANEL_H / 2,
            pi == 0 ? "PSNR-RGB (dB)" : "MS-SSIM RGB (dB)");

    fprintf(f, "<g clip-path=\"url(#clip%d)\" fill=\"none\" stroke-width=\"1.8\">\n", pi);
    for (int k = 0; k < n; k++) {
        const LvcRdCurve *c = curves[k];
        if (!has_metric(c, pi) || c->n == 0)
            continue;
        const char *col = palette[k % NCOLORS];
        fprintf(f, "<polyline stroke=\"%s\"%s points=\"", col,
                c->is_anchor ? " stroke-dasharray=\"6,4\"" : "");
        for (int i = 0; i < c->n; i++) {
            const double v = metric(c, pi, i);
            if (isfinite(v) && isfinite(c->bpp[i]))
                fprintf(f, "%.2f,%.2f ", SX(c->bpp[i]), SY(v));
        }
        fputs("\"/>\n", f);
        if (!c->is_anchor) {
            for (int i = 0; i < c->n; i++) {
                const double v = metric(c, pi, i);
                if (isfinite(v) && isfinite(c->bpp[i]))
                    fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\"/>\n",
                            SX(c->bpp[i]), SY(v), col);
            }
        }
    }
    fputs("</g>\n", f);
#undef SX
#undef SY
}

int lvcrd_svg_write(const char *path, const LvcRdCurve *const *curves, int n,
                    const char *title, double bpp_max)
{
    if (!path || (n > 0 && !curves) || n < 0)
        return LVC_ERR_INVALID_ARG;
    double xmax = bpp_max;
    if (!(xmax > 0.0)) {
        for (int pass = 0; pass < 2 && !(xmax > 0.0); pass++)
            for (int k = 0; k < n; k++)
                if (pass == 1 || !curves[k]->is_anchor)
                    for (int i = 0; i < curves[k]->n; i++)
                        if (isfinite(curves[k]->bpp[i]) && curves[k]->bpp[i] > xmax)
                            xmax = curves[k]->bpp[i];
        if (!(xmax > 0.0))
            xmax = 1.0;
        const double step = nice_step(xmax, 6);
        xmax = ceil(xmax / step - 1e-9) * step;
    }
    const int cols = 3;
    const int rows = (n + cols - 1) / cols;
    const double width = MARGIN_L + 2 * PANEL_W + GAP + 30;
    const double legend_y = MARGIN_T + PANEL_H + 60;
    const double height = legend_y + rows * LEGEND_ROW + 20;

    FILE *f = fopen(path, "w");
    if (!f)
        return LVC_ERR_IO;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
               "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.1f\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">",
            width / 2);
    lvcrd_xml_escape(f, title ? title : "");
    fputs("</text>\n", f);
    panel(f, curves, n, 0, MARGIN_L, xmax);
    panel(f, curves, n, 1, MARGIN_L + PANEL_W + GAP, xmax);

    const double colw = (2 * PANEL_W + GAP) / cols;
    for (int k = 0; k < n; k++) {
        const double lx = MARGIN_L + (k % cols) * colw;
        const double ly = legend_y + (k / cols) * LEGEND_ROW;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\"%s/>\n", lx, ly, lx + 30, ly, palette[k % NCOLORS],
                curves[k]->is_anchor ? " stroke-dasharray=\"6,4\"" : "");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 36, ly + 4);
        lvcrd_xml_escape(f, curves[k]->name);
        if (curves[k]->is_anchor)
            fputs(" (anchor)", f);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
    const int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return LVC_ERR_IO;
    return 0;
}
