// The simulator against queueing theory. Each case runs independent replications (one seed
// each), takes the mean response time of every replication after a warm-up, and builds the 95%
// confidence interval of the mean across replications (Student's t). The analytic value must lie
// inside the interval, and the interval must be narrow (half-width under 2% of the mean), so the
// check has power: a model off by a few percent fails it.
//
// The server is the CPU model (processor sharing, at most one core per task). With exponential
// service the number of tasks in system is the same birth-death process under processor sharing
// as under FCFS (n tasks complete at total rate min(n, c) mu either way), so by Little's law the
// mean response time is the M/M/c value: E[T] = C(c, a) / (c mu - lambda) + 1 / mu, with Erlang's
// C formula C(c, a), a = lambda / mu.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "sim/core/simulation.h"
#include "sim/core/trace.h"
#include "sim/hw/cpu.h"

using namespace shardlab::sim;

namespace {

double erlang_c(int servers, double offered) {
  // P(wait) = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) (c / (c - a)))
  double term = 1.0;  // a^k / k!
  double sum = 0.0;
  for (int k = 0; k < servers; ++k) {
    sum += term;
    term *= offered / (k + 1);
  }
  const double tail = term * servers / (servers - offered);
  return tail / (sum + tail);
}

double mmc_response_time(int servers, double lambda, double mu) {
  return erlang_c(servers, lambda / mu) / (servers * mu - lambda) + 1.0 / mu;
}

struct Replication {
  double sum = 0;
  uint64_t count = 0;
  uint64_t arrived = 0;
};

Process customer(Simulation& sim, Cpu& cpu, double work, uint64_t index, uint64_t warmup,
                 Replication& out) {
  const Time arrival = sim.now();
  co_await cpu.compute(work);
  if (index >= warmup) {
    out.sum += (sim.now() - arrival).seconds();
    ++out.count;
  }
}

Process source(Simulation& sim, Cpu& cpu, double lambda, double mu, uint64_t customers,
               uint64_t warmup, Replication& out) {
  RandomStream arrivals = sim.stream("arrivals");
  RandomStream service = sim.stream("service");
  for (uint64_t i = 0; i < customers; ++i) {
    co_await sim.sleep(Duration::from_seconds(arrivals.exponential(1.0 / lambda)));
    sim.spawn(customer(sim, cpu, service.exponential(1.0 / mu), i, warmup, out));
    ++out.arrived;
  }
}

struct Interval {
  double mean;
  double half_width;
};

Interval run_mmc(int servers, double lambda, double mu, int replications, uint64_t customers,
                 Tracer* tracer = nullptr) {
  std::vector<double> means;
  for (int r = 0; r < replications; ++r) {
    Simulation sim(1000 + r);
    sim.set_tracer(tracer);
    Cpu cpu(sim, "server", servers, 1.0);
    Replication rep;
    sim.spawn(source(sim, cpu, lambda, mu, customers, customers / 10, rep));
    sim.run();
    REQUIRE(rep.count == customers - customers / 10);
    means.push_back(rep.sum / static_cast<double>(rep.count));
  }
  double mean = 0;
  for (double m : means) mean += m;
  mean /= replications;
  double variance = 0;
  for (double m : means) variance += (m - mean) * (m - mean);
  variance /= replications - 1;
  // t quantile 0.975 for 9 degrees of freedom.
  REQUIRE(replications == 10);
  const double t975 = 2.262;
  return Interval{mean, t975 * std::sqrt(variance / replications)};
}

}  // namespace

TEST_CASE("M/M/1 mean response time matches 1 / (mu - lambda)", "[sim][validation]") {
  const double lambda = 0.6, mu = 1.0;  // rho = 0.6
  const double expected = 1.0 / (mu - lambda);
  REQUIRE(mmc_response_time(1, lambda, mu) == Approx(expected));
  const Interval ci = run_mmc(1, lambda, mu, 10, 200'000);
  INFO("simulated " << ci.mean << " +- " << ci.half_width << ", analytic " << expected);
  CHECK(std::abs(ci.mean - expected) <= ci.half_width);
  CHECK(ci.half_width / ci.mean < 0.02);
}

TEST_CASE("M/M/c mean response time matches Erlang C", "[sim][validation]") {
  const int servers = 4;
  const double lambda = 3.0, mu = 1.0;  // rho = 0.75
  const double expected = mmc_response_time(servers, lambda, mu);  // 1.5094...
  const Interval ci = run_mmc(servers, lambda, mu, 10, 200'000);
  INFO("simulated " << ci.mean << " +- " << ci.half_width << ", analytic " << expected);
  CHECK(std::abs(ci.mean - expected) <= ci.half_width);
  CHECK(ci.half_width / ci.mean < 0.02);
}

TEST_CASE("the same seed gives the same trace, another seed another", "[sim][determinism]") {
  auto trace_hash = [](uint64_t seed) {
    Simulation sim(seed);
    Tracer tracer;
    sim.set_tracer(&tracer);
    Cpu cpu(sim, "server", 2, 1.0);
    Replication rep;
    sim.spawn(source(sim, cpu, 1.5, 1.0, 5'000, 0, rep));
    sim.run();
    return tracer.hash();
  };
  CHECK(trace_hash(7) == trace_hash(7));
  CHECK(trace_hash(7) != trace_hash(8));
}
