/*
 * See detmath.h. Every function here is a fixed sequence of IEEE basic
 * operations: no libm transcendental is called.
 */
#include <float.h>
#include <math.h>

#include "entropy/detmath.h"

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "deterministic table construction needs FLT_EVAL_METHOD == 0 (x86: -msse2 -mfpmath=sse)"
#endif

/* FMA contraction would change results: the build passes -ffp-contract=off
 * (GCC ignores "#pragma STDC FP_CONTRACT"). */

/* ln 2 split so that k * LN2_HI is exact for |k| < 2^11 (fdlibm's values). */
static const double LN2_HI = 6.93147180369123816490e-01; /* 0x3fe62e42fee00000 */
static const double LN2_LO = 1.90821492927058770002e-10; /* 0x3dea39ef35793c76 */
static const double INV_LN2 = 1.44269504088896338700e+00;

double lvc_det_exp(double x)
{
    if (x != x)
        return x;
    if (x > 709.782712893384)
        return HUGE_VAL;
    if (x < -745.2)
        return 0.0;
    /* x = k ln2 + r, |r| <= ln2/2 (+ rounding), then e^r by Taylor series
     * to degree 14: the truncation error is below 2^-60 on that range. */
    double k = floor(x * INV_LN2 + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double p = 1.0;
    for (int n = 14; n >= 1; n--)
        p = 1.0 + p * r / (double)n;
    return ldexp(p, (int)k);
}

/* e^(-z*z) without the rounding error of z*z: with z = zh + zl and zh of
 * 24 significant bits, zh*zh is exact and (z-zh)*(z+zh) is small. */
static double exp_neg_sq(double z)
{
    double zh = (double)(float)z;
    return lvc_det_exp(-zh * zh) * lvc_det_exp(-(z - zh) * (z + zh));
}

static const double TWO_OVER_SQRTPI = 1.12837916709551257390; /* 2/sqrt(pi) */
static const double INV_SQRTPI = 0.56418958354775628695;      /* 1/sqrt(pi) */

/* erf(z) for 0 <= z <= 3 by the series
 *   erf z = 2/sqrt(pi) e^(-z^2) sum_n (2z^2)^n z / (1*3*...*(2n+1)),
 * whose terms are all positive (no cancellation). */
static double erf_series(double z)
{
    double z2 = 2.0 * z * z;
    double term = z, sum = z;
    for (int n = 1; n < 200; n++) {
        term = term * z2 / (double)(2 * n + 1);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return TWO_OVER_SQRTPI * exp_neg_sq(z) * sum;
}

/* erfc(z) for z >= 2 by the continued fraction
 *   erfc z = e^(-z^2)/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...))))
 * evaluated bottom-up from a fixed depth. */
static double erfc_cf(double z)
{
    double f = z;
    for (int k = 120; k >= 1; k--)
        f = z + (0.5 * k) / f;
    return INV_SQRTPI * exp_neg_sq(z) / f;
}

double lvc_det_erfc(double x)
{
    if (x != x)
        return x;
    if (x < 0)
        return 2.0 - lvc_det_erfc(-x);
    if (x > 27.3)
        return 0.0; /* below the smallest subnormal */
    if (x < 2.0)
        return 1.0 - erf_series(x);
    return erfc_cf(x);
}

double lvc_det_normal_q(double x)
{
    static const double INV_SQRT2 = 0.70710678118654752440;
    return 0.5 * lvc_det_erfc(x * INV_SQRT2);
}

double lvc_det_laplace_q(double x)
{
    if (x < 0)
        return 1.0 - 0.5 * lvc_det_exp(x);
    return 0.5 * lvc_det_exp(-x);
}
