/*
 * lvcrd: BD-rate (see rd_bdrate.h for the method).
 */
#include <math.h>
#include <stdlib.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_bdrate.h"

typedef struct Point {
    double q, lr;   /* quality, log(rate) */
} Point;

static int cmp_point(const void *pa, const void *pb)
{
    const Point *a = pa, *b = pb;
    if (a->q != b->q)
        return a->q < b->q ? -1 : 1;
    if (a->lr != b->lr)
        return a->lr < b->lr ? -1 : 1;
    return 0;
}

static double sign(double v)
{
    return (v > 0) - (v < 0);
}

/* scipy's PchipInterpolator._edge_case: a one-sided three-point estimate,
 * kept shape-preserving. */
static double edge_slope(double h0, double h1, double m0, double m1)
{
    double d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if (sign(d) != sign(m0))
        d = 0.0;
    else if (sign(m0) != sign(m1) && fabs(d) > 3.0 * fabs(m0))
        d = 3.0 * m0;
    return d;
}

void lvcrd_pchip_slopes(const double *x, const double *y, int n, double *d)
{
    if (n < 2)
        return;
    if (n == 2) {
        d[0] = d[1] = (y[1] - y[0]) / (x[1] - x[0]);
        return;
    }
    for (int k = 1; k < n - 1; k++) {
        const double h0 = x[k] - x[k - 1], h1 = x[k + 1] - x[k];
        const double m0 = (y[k] - y[k - 1]) / h0, m1 = (y[k + 1] - y[k]) / h1;
        if (m0 * m1 <= 0.0) {
            d[k] = 0.0;
        } else {
            /* Weighted harmonic mean of the secant slopes. */
            const double w1 = 2.0 * h1 + h0, w2 = h1 + 2.0 * h0;
            d[k] = (w1 + w2) / (w1 / m0 + w2 / m1);
        }
    }
    {
        const double h0 = x[1] - x[0], h1 = x[2] - x[1];
        d[0] = edge_slope(h0, h1, (y[1] - y[0]) / h0, (y[2] - y[1]) / h1);
    }
    {
        const double h0 = x[n - 1] - x[n - 2], h1 = x[n - 2] - x[n - 3];
        d[n - 1] = edge_slope(h0, h1, (y[n - 1] - y[n - 2]) / h0,
                              (y[n - 2] - y[n - 3]) / h1);
    }
}

/* Antiderivative at t of the Hermite cubic on one interval, in units of t
 * (multiply by the interval length for x units). */
static double hermite_prim(double t, double y0, double y1, double m0, double m1)
{
    const double t2 = t * t, t3 = t2 * t, t4 = t3 * t;
    return y0 * (t4 / 2.0 - t3 + t) + m0 * (t4 / 4.0 - 2.0 * t3 / 3.0 + t2 / 2.0) +
           y1 * (-t4 / 2.0 + t3) + m1 * (t4 / 4.0 - t3 / 3.0);
}

double lvcrd_hermite_integral(const double *x, const double *y, const double *d,
                              int n, double a, double b)
{
    double sum = 0.0;
    for (int k = 0; k < n - 1; k++) {
        const double lo = a > x[k] ? a : x[k];
        const double hi = b < x[k + 1] ? b : x[k + 1];
        if (!(hi > lo))
            continue;
        const double h = x[k + 1] - x[k];
        const double m0 = d[k] * h, m1 = d[k + 1] * h;
        const double t0 = (lo - x[k]) / h, t1 = (hi - x[k]) / h;
        sum += h * (hermite_prim(t1, y[k], y[k + 1], m0, m1) -
                    hermite_prim(t0, y[k], y[k + 1], m0, m1));
    }
    return sum;
}

/* Sorted, deduplicated curve as arrays x (quality), y (log rate), slopes d.
 * mem holds 3*n doubles. Returns the number of distinct points. */
static int prepare(const double *rate, const double *q, int n, Point *tmp,
                   double *mem)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!(rate[i] > 0.0) || !isfinite(rate[i]) || !isfinite(q[i]))
            return -1;
        tmp[i].q = q[i];
        tmp[i].lr = log(rate[i]);
    }
    qsort(tmp, (size_t)n, sizeof(*tmp), cmp_point);
    double *x = mem, *y = mem + n, *d = mem + 2 * n;
    for (int i = 0; i < n; i++) {
        if (m > 0 && tmp[i].q == x[m - 1])
            continue; /* sorted by rate within equal q: keep the lowest */
        x[m] = tmp[i].q;
        y[m] = tmp[i].lr;
        m++;
    }
    if (m >= 2)
        lvcrd_pchip_slopes(x, y, m, d);
    return m;
}

int lvcrd_bd_rate(const double *rate_anchor, const double *q_anchor, int n_anchor,
                  const double *rate_test, const double *q_test, int n_test,
                  double *out_percent)
{
    if (!rate_anchor || !q_anchor || !rate_test || !q_test || !out_percent ||
        n_anchor < 2 || n_test < 2 || n_anchor > 100000 || n_test > 100000)
        return LVC_ERR_INVALID_ARG;
    int ret = LVC_ERR_NOMEM;
    const int nmax = n_anchor > n_test ? n_anchor : n_test;
    Point *tmp = malloc((size_t)nmax * sizeof(*tmp));
    double *ma = malloc(3 * (size_t)n_anchor * sizeof(double));
    double *mt = malloc(3 * (size_t)n_test * sizeof(double));
    if (!tmp || !ma || !mt)
        goto error;

    ret = LVC_ERR_INVALID_ARG;
    const int na = prepare(rate_anchor, q_anchor, n_anchor, tmp, ma);
    const int nt = prepare(rate_test, q_test, n_test, tmp, mt);
    if (na < 2 || nt < 2)
        goto error;
    const double *xa = ma, *ya = ma + n_anchor, *da = ma + 2 * n_anchor;
    const double *xt = mt, *yt = mt + n_test, *dt = mt + 2 * n_test;
    const double lo = xa[0] > xt[0] ? xa[0] : xt[0];
    const double hi = xa[na - 1] < xt[nt - 1] ? xa[na - 1] : xt[nt - 1];
    ret = LVC_ERR_UNSUPPORTED;
    if (!(hi > lo))
        goto error;
    const double ia = lvcrd_hermite_integral(xa, ya, da, na, lo, hi);
    const double it = lvcrd_hermite_integral(xt, yt, dt, nt, lo, hi);
    *out_percent = (exp((it - ia) / (hi - lo)) - 1.0) * 100.0;
    ret = 0;
error:
    free(tmp);
    free(ma);
    free(mt);
    return ret;
}
