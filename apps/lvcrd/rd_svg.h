/*
 * lvcrd: RD plot as a standalone SVG file.
 */
#ifndef LVC_APPS_LVCRD_RD_SVG_H
#define LVC_APPS_LVCRD_RD_SVG_H

#include "apps/lvcrd/rd_json.h"

/* Writes two panels side by side, PSNR-RGB (dB) against bpp and MS-SSIM RGB
 * in dB (-10 log10(1 - MS-SSIM)) against bpp, with ticks, axis labels, a
 * grid and a legend. One solid line with markers per measured curve, dashed
 * lines for anchors (is_anchor). The bpp axis runs from 0 to bpp_max, or,
 * when bpp_max <= 0, to the largest bpp of the measured curves (of all
 * curves if none is measured); lines are clipped to the panels.
 * Returns 0 or LVC_ERR_IO / LVC_ERR_INVALID_ARG. */
int lvcrd_svg_write(const char *path, const LvcRdCurve *const *curves, int n,
                    const char *title, double bpp_max);

/* Writes s to f with &, <, >, " escaped. */
void lvcrd_xml_escape(FILE *f, const char *s);

#endif /* LVC_APPS_LVCRD_RD_SVG_H */
