/*
 * lvcrd: Bjontegaard delta rate with piecewise cubic interpolation.
 */
#ifndef LVC_APPS_LVCRD_RD_BDRATE_H
#define LVC_APPS_LVCRD_RD_BDRATE_H

/* BD-rate of a test curve against an anchor curve, in percent (negative:
 * the test needs fewer bits for the same quality).
 *
 * Method (as in the piecewise-cubic variant of the common Bjontegaard tools,
 * e.g. the JVET CTC spreadsheet and bjontegaard_metric.py): for each curve,
 * log(rate) is interpolated as a function of quality with a monotone
 * piecewise cubic Hermite interpolant (PCHIP, Fritsch-Carlson; end slopes
 * as in scipy.interpolate.PchipInterpolator); both interpolants are
 * integrated exactly over the overlapping quality range
 * [max(min q_a, min q_t), min(max q_a, max q_t)]; the mean difference d of
 * log(rate) gives BD-rate = (exp(d) - 1) * 100.
 * Points are sorted by quality; of points with equal quality the one with
 * the lowest rate is kept. Rates must be > 0 and finite.
 *
 * Returns 0 and sets *out_percent; LVC_ERR_INVALID_ARG for fewer than two
 * distinct points or a bad rate; LVC_ERR_UNSUPPORTED when the quality
 * ranges do not overlap; LVC_ERR_NOMEM. */
int lvcrd_bd_rate(const double *rate_anchor, const double *q_anchor, int n_anchor,
                  const double *rate_test, const double *q_test, int n_test,
                  double *out_percent);

/* Fills d[0..n-1] with the PCHIP slopes of the points (x[i], y[i]),
 * x strictly increasing, n >= 2. Exposed for the tests. */
void lvcrd_pchip_slopes(const double *x, const double *y, int n, double *d);

/* Exact integral over [a, b] (within [x[0], x[n-1]]) of the cubic Hermite
 * interpolant with slopes d. Exposed for the tests. */
double lvcrd_hermite_integral(const double *x, const double *y, const double *d,
                              int n, double a, double b);

#endif /* LVC_APPS_LVCRD_RD_BDRATE_H */
