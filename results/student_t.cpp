#include "results/student_t.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "base/errors.h"

namespace shardlab::results {
namespace {

// P(|T| <= sqrt(df) tan(theta)) and its derivative in theta, for theta in [0, pi/2).
struct TwoSided {
  double mass = 0;
  double slope = 0;
};

// A&S 26.7.3 (odd df) and 26.7.4 (even df). Each series term is the previous one times
// cos^2(theta) times a ratio of consecutive odd and even numbers; the same ratios build the
// density's normalising constant, which gives the slope 2 f(t) dt/dtheta = K cos^(df-1)(theta).
TwoSided two_sided(double theta, int64_t df) {
  const double c = std::cos(theta);
  const double s = std::sin(theta);
  const double c2 = c * c;
  TwoSided out;
  if (df % 2 == 1) {
    // mass = (2/pi) (theta + s c (1 + (2/3) c^2 + (2*4)/(3*5) c^4 + ... )), last power df - 3.
    double term = 1.0;
    double series = df > 1 ? 1.0 : 0.0;
    double constant = 2.0 / std::numbers::pi;  // K for df = 1; K(df + 2) = K(df) (df + 1) / df
    double power = 1.0;                        // cos^(df - 1)
    for (int64_t j = 1; 2 * j + 1 < df; ++j) {
      term *= c2 * static_cast<double>(2 * j) / static_cast<double>(2 * j + 1);
      series += term;
    }
    for (int64_t nu = 1; nu < df; nu += 2) {
      constant *= static_cast<double>(nu + 1) / static_cast<double>(nu);
      power *= c2;
    }
    out.mass = 2.0 / std::numbers::pi * (theta + s * c * series);
    out.slope = constant * power;
  } else {
    // mass = s (1 + (1/2) c^2 + (1*3)/(2*4) c^4 + ... ), last power df - 2.
    double term = 1.0;
    double series = 1.0;
    double constant = 1.0;  // K for df = 2
    double power = c;       // cos^(df - 1)
    for (int64_t j = 1; 2 * j < df; ++j) {
      term *= c2 * static_cast<double>(2 * j - 1) / static_cast<double>(2 * j);
      series += term;
    }
    for (int64_t nu = 2; nu < df; nu += 2) {
      constant *= static_cast<double>(nu + 1) / static_cast<double>(nu);
      power *= c2;
    }
    out.mass = s * series;
    out.slope = constant * power;
  }
  return out;
}

// A&S 26.7.5: t = z + g1/df + g2/df^2 + g3/df^3 + g4/df^4.
double cornish_fisher(double z, double df) {
  const double z2 = z * z;
  const double g1 = z * (z2 + 1.0) / 4.0;
  const double g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
  const double g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
  const double g4 =
      z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
  return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}

// Solves two_sided(theta).mass = mass for theta in (0, pi/2). The mass is increasing in theta,
// so a bracket always holds the root; a Newton step that leaves it is replaced by bisection.
double solve_theta(double mass, int64_t df, double guess) {
  double low = 0.0;
  double high = std::numbers::pi / 2;
  double theta = (guess > low && guess < high) ? guess : high / 2;
  constexpr int kMaxIterations = 200;
  for (int iteration = 0; iteration < kMaxIterations; ++iteration) {
    const TwoSided at = two_sided(theta, df);
    const double error = at.mass - mass;
    if (error == 0.0) return theta;
    if (error > 0.0) {
      high = theta;
    } else {
      low = theta;
    }
    double next = at.slope > 0.0 ? theta - error / at.slope : low + (high - low) / 2;
    if (!(next > low && next < high)) next = low + (high - low) / 2;
    if (std::abs(next - theta) <= 4 * std::numeric_limits<double>::epsilon() * theta ||
        high - low <= 4 * std::numeric_limits<double>::epsilon() * high) {
      return next;
    }
    theta = next;
  }
  return theta;
}

}  // namespace

double normal_quantile(double p) {
  SHARDLAB_ASSERT(p > 0.0 && p < 1.0, "normal quantile of p = {} (needs 0 < p < 1)", p);
  // Acklam's coefficients.
  constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                          1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                          6.680131188771972e+01, -1.328068155288572e+01};
  constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                          -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                          3.754408661907416e+00};
  constexpr double kLowRegion = 0.02425;
  double x = 0.0;
  if (p < kLowRegion || p > 1.0 - kLowRegion) {
    const double tail = p < kLowRegion ? p : 1.0 - p;
    const double q = std::sqrt(-2.0 * std::log(tail));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    if (p > 1.0 - kLowRegion) x = -x;
  } else {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  }
  // One Halley step on Phi(x) - p, with Phi from erfc (accurate in both tails).
  const double error = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = error * std::sqrt(2.0 * std::numbers::pi) * std::exp(x * x / 2.0);
  return x - u / (1.0 + x * u / 2.0);
}

double student_t_cdf(double t, int64_t df) {
  SHARDLAB_ASSERT(df >= 1, "Student's t needs df >= 1, got {}", df);
  if (std::isnan(t)) return t;
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double theta = std::atan(std::abs(t) / std::sqrt(static_cast<double>(df)));
  const double mass = two_sided(theta, df).mass;
  return t >= 0 ? 0.5 + 0.5 * mass : 0.5 - 0.5 * mass;
}

double student_t_quantile(double p, int64_t df) {
  SHARDLAB_ASSERT(p > 0.0 && p < 1.0, "t quantile of p = {} (needs 0 < p < 1)", p);
  SHARDLAB_ASSERT(df >= 1, "Student's t needs df >= 1, got {}", df);
  if (p == 0.5) return 0.0;
  // Solve for the upper tail and mirror, so that both tails are computed the same way.
  if (p < 0.5) return -student_t_quantile(1.0 - p, df);
  if (df == 1) return std::tan(std::numbers::pi * (p - 0.5));
  if (df == 2) return (2.0 * p - 1.0) / std::sqrt(2.0 * p * (1.0 - p));
  const double dfd = static_cast<double>(df);
  const double asymptotic = cornish_fisher(normal_quantile(p), dfd);
  if (df > kAsymptoticDf) return asymptotic;
  const double theta = solve_theta(2.0 * p - 1.0, df, std::atan(asymptotic / std::sqrt(dfd)));
  return std::sqrt(dfd) * std::tan(theta);
}

}  // namespace shardlab::results
