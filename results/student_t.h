// Quantiles of the standard normal and Student's t distributions, for confidence intervals.
//
// The t distribution is evaluated exactly for integer degrees of freedom: with
// theta = atan(t / sqrt(df)), P(|T| <= t) is a finite trigonometric sum of df / 2 terms
// (Abramowitz & Stegun 26.7.3 and 26.7.4), and its derivative in theta is a single term. The
// quantile solves that equation for theta with Newton steps kept inside a shrinking bracket,
// to full double precision. df = 1 and df = 2 have closed forms. Above kAsymptoticDf the
// Cornish-Fisher expansion in 1/df (A&S 26.7.5, four terms) is used instead; its error there is
// below 1e-13, and it keeps the cost O(1) for huge df.
//
// The normal quantile is Acklam's rational approximation (relative error 1.15e-9) polished by
// one Halley step on std::erfc, which brings it to about 1e-15.
#pragma once

#include <cstdint>

namespace shardlab::results {

// Above this many degrees of freedom the t quantile uses the asymptotic expansion.
inline constexpr int64_t kAsymptoticDf = 1000;

// The p-quantile of N(0, 1). REQUIRES: 0 < p < 1.
double normal_quantile(double p);

// P(T <= t) for T ~ Student's t with df degrees of freedom. REQUIRES: df >= 1. O(df) time.
double student_t_cdf(double t, int64_t df);

// The p-quantile of Student's t with df degrees of freedom: student_t_quantile(0.975, 9) is
// 2.2621571628. REQUIRES: 0 < p < 1, df >= 1. Accurate to about 1e-12 relative for
// 1e-4 <= p <= 1 - 1e-4 (every confidence level in use); further out the error grows with the
// rounding of 1 - p. O(min(df, kAsymptoticDf)) time.
double student_t_quantile(double p, int64_t df);

}  // namespace shardlab::results
