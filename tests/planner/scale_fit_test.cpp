#include "planner/scale_fit.h"

#include <catch2/catch.hpp>

using shardlab::planner::fit_scaling;
using shardlab::planner::ScaleFit;

TEST_CASE("scale fit: a + b / scale recovered exactly from three scales", "[planner][fit]") {
  // 2 s of work at full scale that grows with the data, 0.01 s of fixed cost.
  const auto value = [](double f) { return 2.0 + 0.01 / f; };
  const ScaleFit fit =
      fit_scaling("p99", {{0.0025, value(0.0025)}, {0.005, value(0.005)}, {0.01, value(0.01)}});
  CHECK(fit.a == Approx(2.0));
  CHECK(fit.b == Approx(0.01));
  CHECK(fit.full_scale == Approx(2.01));
  CHECK(fit.bound.empty());
  CHECK(fit.reliable);
}

TEST_CASE("scale fit: a falling curve never extrapolates below zero", "[planner][fit]") {
  // Values that fall as the scale grows faster than b / scale allows: the free fit has a < 0
  // (a full-scale prediction of about -0.6 here); the bounded one puts it all in b.
  const ScaleFit fit = fit_scaling("p99", {{0.0025, 4.0}, {0.005, 1.0}, {0.01, 0.9}});
  CHECK(fit.bound == "a = 0");
  CHECK(fit.a == 0);
  CHECK(fit.b > 0);
  CHECK(fit.full_scale > 0);
  CHECK_FALSE(fit.reliable);  // the curve misses the points by far more than 10%
}

TEST_CASE("scale fit: a rising metric is held at its mean, not extrapolated", "[planner][fit]") {
  // Rising with the scale needs b < 0: bounded, b = 0 and a is the values' mean.
  const ScaleFit fit = fit_scaling("lag", {{0.0025, 1.0}, {0.005, 1.1}, {0.01, 1.2}});
  CHECK(fit.bound == "b = 0");
  CHECK(fit.b == 0);
  CHECK(fit.a == Approx(1.1));
  CHECK(fit.full_scale == Approx(1.1));
  CHECK(fit.reliable);  // within 10%: the metric barely depends on the scale
}

TEST_CASE("scale fit: too few points or non-finite values give no trusted fit", "[planner][fit]") {
  const ScaleFit one = fit_scaling("p99", {{0.01, 1.0}, {0.005, std::nan("")}});
  CHECK(one.points.size() == 1);
  CHECK(one.full_scale == 0);
  CHECK_FALSE(one.reliable);
  const ScaleFit two = fit_scaling("p99", {{0.005, 2.0}, {0.01, 1.5}});
  CHECK(two.full_scale == Approx(1.005));  // exact through two points: a = 1, b = 0.005
  CHECK_FALSE(two.reliable);               // but two points cannot show it is the right curve
}
