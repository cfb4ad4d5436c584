/*
 * Deterministic transcendental functions for building probability tables.
 *
 * The integers of a CDF table decide every bit of a stream, so they must be
 * identical on every machine. libm's exp/erfc differ in their last bits
 * between implementations, so these are built only from IEEE-754 binary64
 * +, -, *, / (correctly rounded, hence reproducible) and the exact
 * operations floor/ldexp/frexp, evaluated in a fixed order. Requires
 * FLT_EVAL_METHOD == 0 (no x87 excess precision) and no FMA contraction
 * (the project builds with -ffp-contract=off).
 *
 * Accuracy is about 1e-15 relative for exp and 1e-13 for erfc: enough that
 * the tables are as good as libm's; what matters is that they never vary.
 */
#ifndef LVC_ENTROPY_DETMATH_H
#define LVC_ENTROPY_DETMATH_H

/* e^x. Overflows to +inf above ~709.78, underflows to 0 below ~-745. */
double lvc_det_exp(double x);
/* Complementary error function for any x (erfc(-x) = 2 - erfc(x)). */
double lvc_det_erfc(double x);
/* Upper tail of the standard normal, Q(x) = P(N(0,1) > x) = erfc(x/sqrt2)/2. */
double lvc_det_normal_q(double x);
/* Upper tail of the standard Laplace (b = 1): exp(-x)/2 for x >= 0. */
double lvc_det_laplace_q(double x);

#endif /* LVC_ENTROPY_DETMATH_H */
