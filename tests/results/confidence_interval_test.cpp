#include "results/confidence_interval.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

#include "results/replicated_metrics.h"
#include "results/student_t.h"
#include "results/summary_writer.h"

using namespace shardlab::results;

namespace {

// Reference values computed independently (regularized incomplete beta by continued fraction,
// solved by bisection), good to about 1e-13.
struct TReference {
  double p;
  int64_t df;
  double t;
};
constexpr TReference kReferences[] = {
    {0.975, 1, 12.706204736174659},      {0.975, 2, 4.302652729749456},
    {0.975, 3, 3.1824463052837046},      {0.975, 5, 2.570581835636313},
    {0.975, 9, 2.2621571627982027},      {0.975, 10, 2.228138851986274},
    {0.975, 29, 2.0452296421327016},     {0.975, 30, 2.042272456301233},
    {0.975, 100, 1.9839715185235387},    {0.975, 999, 1.9623414611335392},
    {0.975, 1000, 1.9623390808264358},   {0.975, 1001, 1.9623367052807974},
    {0.975, 100000, 1.9599877075261203}, {0.995, 4, 4.604094871349979},
    {0.95, 20, 1.724718242920786},       {0.9995, 3, 12.923978636687476},
    {0.6, 7, 0.2631668613520217},
};

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Box-Muller on mt19937_64, whose output the standard fixes: the same numbers everywhere,
// unlike std::normal_distribution.
double standard_normal(std::mt19937_64& rng) {
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform01(rng)));
  return radius * std::cos(2.0 * std::numbers::pi * uniform01(rng));
}

}  // namespace

TEST_CASE("Student's t quantiles match reference values", "[results][stats]") {
  for (const TReference& ref : kReferences) {
    INFO("p = " << ref.p << ", df = " << ref.df);
    CHECK(student_t_quantile(ref.p, ref.df) == Approx(ref.t).epsilon(1e-11));
    CHECK(student_t_quantile(1.0 - ref.p, ref.df) == Approx(-ref.t).epsilon(1e-11));
  }
  // The table values everyone knows.
  CHECK(student_t_quantile(0.975, 1) == Approx(12.706).margin(5e-4));
  CHECK(student_t_quantile(0.975, 9) == Approx(2.262).margin(5e-4));
  CHECK(student_t_quantile(0.975, 30) == Approx(2.042).margin(5e-4));
  CHECK(student_t_quantile(0.975, 1000000000) == Approx(1.960).margin(5e-4));
  CHECK(student_t_quantile(0.975, 1000000000) == Approx(normal_quantile(0.975)).epsilon(1e-8));
  CHECK(student_t_quantile(0.5, 17) == 0.0);
}

TEST_CASE("t quantile and t CDF are inverse to each other", "[results][stats]") {
  for (const int64_t df : {1, 2, 3, 4, 7, 8, 31, 64, 500, 1000}) {
    for (const double p : {0.001, 0.05, 0.3, 0.5, 0.8, 0.95, 0.975, 0.995, 0.9995}) {
      INFO("p = " << p << ", df = " << df);
      CHECK(student_t_cdf(student_t_quantile(p, df), df) == Approx(p).epsilon(1e-12));
    }
  }
  // Every df up to the asymptotic switch converges, and the switch itself is seamless.
  for (int64_t df = 1; df <= kAsymptoticDf; ++df) {
    const double t = student_t_quantile(0.975, df);
    if (std::abs(student_t_cdf(t, df) - 0.975) > 1e-13) FAIL("df = " << df << ": t = " << t);
  }
  CHECK(student_t_quantile(0.975, kAsymptoticDf + 1) ==
        Approx(student_t_quantile(0.975, kAsymptoticDf)).epsilon(3e-6));
  CHECK(student_t_cdf(0.0, 5) == 0.5);
  CHECK(student_t_cdf(1.0, 1) == Approx(0.75).epsilon(1e-15));  // Cauchy: 1/2 + atan(1)/pi
}

TEST_CASE("normal quantile", "[results][stats]") {
  CHECK(normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-14));
  CHECK(normal_quantile(0.5) == 0.0);
  for (const double p : {1e-12, 1e-6, 0.01, 0.02425, 0.3, 0.7, 0.99, 1.0 - 1e-6}) {
    INFO("p = " << p);
    const double x = normal_quantile(p);
    CHECK(0.5 * std::erfc(-x / std::sqrt(2.0)) == Approx(p).epsilon(1e-13));
  }
}

TEST_CASE("mean interval on a small exact case", "[results][stats]") {
  const std::vector<double> values = {1, 2, 3, 4, 5};
  const ConfidenceInterval interval = mean_interval(values);
  CHECK(interval.n == 5);
  CHECK(interval.mean == 3.0);
  CHECK(interval.stddev == Approx(std::sqrt(2.5)).epsilon(1e-15));
  REQUIRE(interval.has_interval());
  CHECK(*interval.half_width == Approx(1.9632431614775607).epsilon(1e-12));
  CHECK(interval.low() == Approx(1.0367568385224393).epsilon(1e-12));
  CHECK(interval.high() == Approx(4.9632431614775605).epsilon(1e-12));

  const std::vector<double> one = {7.5};
  const ConfidenceInterval single = mean_interval(one);
  CHECK(single.n == 1);
  CHECK(single.mean == 7.5);
  CHECK_FALSE(single.has_interval());

  const std::vector<double> same = {2, 2, 2};
  CHECK(*mean_interval(same).half_width == 0.0);
}

TEST_CASE("95% intervals cover the true mean about 95% of the time", "[results][stats]") {
  // Normal data makes the t interval exact, so coverage is Binomial(1000, 0.95): mean 950,
  // sd 6.9. The bounds are +-3.6 sd. Using 1.96 instead of t would cover ~70% at n = 2 and
  // ~88% at n = 5, far outside them.
  for (const int n : {2, 5, 30}) {
    std::mt19937_64 rng(1000 + n);
    int covered = 0;
    constexpr int kTrials = 1000;
    constexpr double kTrueMean = 10.0;
    for (int trial = 0; trial < kTrials; ++trial) {
      std::vector<double> sample;
      for (int draw = 0; draw < n; ++draw) sample.push_back(kTrueMean + 3.0 * standard_normal(rng));
      const ConfidenceInterval interval = mean_interval(sample);
      if (interval.low() <= kTrueMean && kTrueMean <= interval.high()) ++covered;
    }
    INFO("n = " << n << ": covered " << covered << " of " << kTrials);
    CHECK(covered >= 925);
    CHECK(covered <= 975);
  }
}

TEST_CASE("batch means", "[results][stats]") {
  SECTION("exact split, remainder dropped from the front") {
    const std::vector<double> values = {100, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const BatchMeansInterval result = batch_means_interval(values, 3);
    CHECK(result.batch_size == 3);
    CHECK(result.discarded == 1);
    CHECK(result.interval.n == 3);
    CHECK(result.interval.mean == 5.0);  // batch means 2, 5, 8
    CHECK(result.interval.stddev == 3.0);
    CHECK(*result.interval.half_width ==
          Approx(student_t_quantile(0.975, 2) * 3.0 / std::sqrt(3.0)).epsilon(1e-14));
    CHECK(result.lag1_autocorrelation == 0.0);
  }
  SECTION("long batches of a correlated series: covered, nearly independent") {
    // AR(1) with phi = 0.9 around 5: neighbouring observations are strongly correlated.
    std::mt19937_64 rng(5);
    std::vector<double> series;
    double level = 0;
    for (int step = 0; step < 200000; ++step) {
      level = 0.9 * level + standard_normal(rng);
      series.push_back(5.0 + level);
    }
    const BatchMeansInterval long_batches = batch_means_interval(series, 20);
    CHECK(long_batches.interval.low() <= 5.0);
    CHECK(long_batches.interval.high() >= 5.0);
    CHECK(std::abs(long_batches.lag1_autocorrelation) < 0.5);
    // Batches of 5 observations are far too short: the diagnostic says so.
    const std::vector<double> head(series.begin(), series.begin() + 1000);
    CHECK(batch_means_interval(head, 200).lag1_autocorrelation > 0.5);
  }
}

TEST_CASE("replicated metrics keep first-added order", "[results][stats]") {
  ReplicatedMetrics metrics;
  for (const double value : {1.0, 2.0, 3.0, 4.0, 5.0}) {
    metrics.add("throughput_qps", value * 100);
    metrics.add("p99_s", value / 1000);
  }
  metrics.add("only_once", 42);
  CHECK(metrics.names() == std::vector<std::string>{"throughput_qps", "p99_s", "only_once"});
  CHECK(metrics.values("p99_s").size() == 5);
  CHECK(metrics.values("missing").empty());
  CHECK(metrics.interval("throughput_qps").mean == 300.0);
  CHECK(render_json(metrics.to_json()) ==
        "{\n"
        "  \"throughput_qps\": {\n"
        "    \"mean\": 300.0,\n"
        "    \"ci95_low\": 103.675684,\n"
        "    \"ci95_high\": 496.324316,\n"
        "    \"n\": 5\n"
        "  },\n"
        "  \"p99_s\": {\n"
        "    \"mean\": 0.003,\n"
        "    \"ci95_low\": 0.00103675684,\n"
        "    \"ci95_high\": 0.00496324316,\n"
        "    \"n\": 5\n"
        "  },\n"
        "  \"only_once\": {\n"
        "    \"mean\": 42.0,\n"
        "    \"ci95_low\": null,\n"
        "    \"ci95_high\": null,\n"
        "    \"n\": 1\n"
        "  }\n"
        "}\n");
  ReplicatedMetrics at99(0.99);
  at99.add("x", 1);
  at99.add("x", 3);
  const Json rendered = at99.to_json();
  CHECK(rendered["x"].contains("ci99_low"));
  CHECK(rendered["x"].contains("ci99_high"));
}
