#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "sim/core/simulation.h"

using namespace shardlab::sim;
using namespace shardlab::sim::time_literals;

TEST_CASE("events run in time order, ties in scheduling order", "[sim][kernel]") {
  Simulation sim;
  std::vector<int> order;
  sim.schedule_at(Time::from_ns(30), [&order] { order.push_back(3); });
  sim.schedule_at(Time::from_ns(10), [&order] { order.push_back(1); });
  sim.schedule_at(Time::from_ns(20), [&order] { order.push_back(20); });
  sim.schedule_at(Time::from_ns(20), [&order] { order.push_back(21); });
  sim.schedule_at(Time::from_ns(20), [&order] { order.push_back(22); });
  sim.run();
  CHECK(order == std::vector<int>{1, 20, 21, 22, 3});
  CHECK(sim.now() == Time::from_ns(30));
  CHECK(sim.stats().events_processed == 5);
}

TEST_CASE("cancel removes exactly the named event", "[sim][kernel]") {
  Simulation sim;
  int fired = 0;
  const EventId a = sim.schedule_after(5_ms, [&fired] { fired += 1; });
  sim.schedule_after(6_ms, [&fired] { fired += 10; });
  CHECK(sim.cancel(a));
  CHECK_FALSE(sim.cancel(a));  // stale ids are recognised
  sim.run();
  CHECK(fired == 10);
}

TEST_CASE("the event queue survives many cancellations", "[sim][kernel]") {
  Simulation sim;
  std::vector<EventId> ids;
  struct Observed {
    Simulation* sim;
    int64_t last = -1;
    bool ordered = true;
    int fired = 0;
  } seen{&sim};
  for (int i = 0; i < 10000; ++i) {
    ids.push_back(sim.schedule_at(Time::from_ns((i * 7919) % 10007), [&seen] {
      seen.ordered = seen.ordered && seen.sim->now().ns() >= seen.last;
      seen.last = seen.sim->now().ns();
      ++seen.fired;
    }));
  }
  for (size_t i = 0; i < ids.size(); i += 3) sim.cancel(ids[i]);
  CHECK(sim.pending_events() == 10000 - 3334);
  sim.run();
  CHECK(seen.ordered);
  CHECK(seen.fired == 10000 - 3334);
}

TEST_CASE("run_until stops at the limit and advances the clock to it", "[sim][kernel]") {
  Simulation sim;
  int fired = 0;
  sim.schedule_at(Time::from_ns(100), [&fired] { ++fired; });
  sim.schedule_at(Time::from_ns(300), [&fired] { ++fired; });
  sim.run_until(Time::from_ns(200));
  CHECK(fired == 1);
  CHECK(sim.now() == Time::from_ns(200));
  sim.run();
  CHECK(fired == 2);
}

namespace {
Process sleeper(Simulation& sim, std::vector<std::string>& log, std::string name, Duration d) {
  log.push_back(name + " start " + std::to_string(sim.now().ns()));
  co_await sim.sleep(d);
  log.push_back(name + " end " + std::to_string(sim.now().ns()));
}

Process waiter(Simulation& sim, std::vector<std::string>& log) {
  Future a = sim.spawn(sleeper(sim, log, "a", 20_ns));
  Future b = sim.spawn(sleeper(sim, log, "b", 10_ns));
  co_await sim.all_of(a, b);
  log.push_back("all " + std::to_string(sim.now().ns()));
  const uint64_t first = co_await sim.any_of(sim.sleep(50_ns), sim.sleep(5_ns));
  log.push_back("any " + std::to_string(first) + " " + std::to_string(sim.now().ns()));
  try {
    co_await sim.with_timeout(sim.sleep(100_ns), 30_ns);
  } catch (const SimFault& fault) {
    CHECK(fault.kind() == FaultKind::kTimeout);
    log.push_back("timeout " + std::to_string(sim.now().ns()));
  }
  co_await sim.with_timeout(sim.sleep(10_ns), 30_ns);
  log.push_back("in time " + std::to_string(sim.now().ns()));
}
}  // namespace

TEST_CASE("processes sleep, join and combine futures", "[sim][kernel]") {
  Simulation sim;
  std::vector<std::string> log;
  Future done = sim.spawn(waiter(sim, log));
  sim.run();
  CHECK(done.done());
  CHECK(log == std::vector<std::string>{"a start 0", "b start 0", "b end 10", "a end 20", "all 20",
                                        "any 1 25", "timeout 55", "in time 65"});
  // Cancelled timers left nothing behind.
  CHECK(sim.pending_events() == 0);
}

namespace {
Process long_sleeper(Simulation& sim, bool& caught) {
  try {
    co_await sim.sleep(1_s);
  } catch (const SimFault& fault) {
    caught = fault.kind() == FaultKind::kNodeDown;
    throw;
  }
}
Process failing(Simulation& sim) {
  co_await sim.sleep(1_ns);
  throw std::logic_error("a bug in a model");
}
}  // namespace

TEST_CASE("interrupt wakes a waiting process with a fault", "[sim][kernel]") {
  Simulation sim;
  bool caught = false;
  Future done = sim.spawn(long_sleeper(sim, caught));
  sim.schedule_after(5_ms, [&sim, done_state = done.state()] {
    sim.interrupt(Future(done_state), FaultKind::kNodeDown);
  });
  sim.run();
  CHECK(caught);
  CHECK(done.failed());
  CHECK(done.fault() == FaultKind::kNodeDown);
  CHECK(sim.now() == Time::zero() + 5_ms);
  CHECK(sim.stats().processes_failed == 1);
}

TEST_CASE("a non-simulation exception stops the run and is rethrown", "[sim][kernel]") {
  Simulation sim;
  sim.spawn(failing(sim));
  CHECK_THROWS_WITH(sim.run(), "a bug in a model");
}

TEST_CASE("processes still waiting at the end are freed", "[sim][kernel]") {
  bool caught = false;
  {
    Simulation sim;
    sim.spawn(long_sleeper(sim, caught));
    sim.run_until(Time::zero() + 1_ms);
  }
  CHECK_FALSE(caught);  // destroyed, not resumed
}

TEST_CASE("named random streams are independent of each other", "[sim][random]") {
  RandomStream a(42, "disk"), b(42, "net"), a2(42, "disk"), c(43, "disk");
  const uint64_t first = a.next_u64();
  CHECK(first == a2.next_u64());
  CHECK(first != b.next_u64());
  CHECK(first != c.next_u64());
  RandomStream e(7, "arrivals");
  double sum = 0;
  constexpr int kDraws = 200000;
  for (int i = 0; i < kDraws; ++i) sum += e.exponential(2.0);
  CHECK(sum / kDraws == Approx(2.0).epsilon(0.01));
}

TEST_CASE("distributions have their textbook moments", "[sim][random]") {
  RandomStream rng(11, "moments");
  constexpr int kDraws = 400000;
  // Lognormal(mu, sigma): mean exp(mu + sigma^2 / 2). Standard error of the sample mean is
  // sqrt((e^{s^2} - 1) e^{2 mu + s^2} / n), about 0.1% here; allow 5 of them.
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) sum += rng.lognormal(0.5, 0.5);
  CHECK(sum / kDraws == Approx(std::exp(0.5 + 0.125)).epsilon(0.005));
  // Uniform(2, 4): mean 3.
  sum = 0;
  for (int i = 0; i < kDraws; ++i) sum += rng.uniform(2.0, 4.0);
  CHECK(sum / kDraws == Approx(3.0).epsilon(0.002));
  // Zipf(1000, 1): P(rank 1) = 1 / H(1000) = 0.13360.
  ZipfDistribution zipf(1000, 1.0);
  int ones = 0;
  for (int i = 0; i < kDraws; ++i) ones += zipf(rng) == 1;
  CHECK(static_cast<double>(ones) / kDraws == Approx(0.13360).epsilon(0.01));
  // Discrete empirical: values 10, 20, 30 with weights 1, 2, 1 -> mean 20, P(30) = 1/4.
  const std::vector<double> weights{1, 2, 1};
  EmpiricalDistribution discrete({10, 20, 30}, weights);
  int thirties = 0;
  sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double v = discrete(rng);
    sum += v;
    thirties += v == 30;
  }
  CHECK(sum / kDraws == Approx(20.0).epsilon(0.003));
  CHECK(static_cast<double>(thirties) / kDraws == Approx(0.25).epsilon(0.01));
  // Interpolated through 0, 1, 3: the CDF is linear on [0, 1] and [1, 3], each with mass 1/2,
  // so the mean is 0.5 * 0.5 + 0.5 * 2 = 1.25 and P(X <= 1) = 0.5.
  const auto interpolated = EmpiricalDistribution::interpolated({3.0, 0.0, 1.0});
  int below_one = 0;
  sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double v = interpolated(rng);
    sum += v;
    below_one += v <= 1.0;
  }
  CHECK(sum / kDraws == Approx(1.25).epsilon(0.005));
  CHECK(static_cast<double>(below_one) / kDraws == Approx(0.5).epsilon(0.01));
}

TEST_CASE("heavy cancellation with interleaved scheduling keeps order and count", "[sim][kernel]") {
  // Cancels about 90% of events while scheduling more from callbacks, so dead entries pile up,
  // surface at the minimum and trigger compaction; run_until stops short of dead minima.
  Simulation sim;
  RandomStream rng(5, "cancel");
  struct State {
    Simulation* sim;
    RandomStream* rng;
    std::vector<EventId> ids;
    int64_t last = -1;
    bool ordered = true;
    int fired = 0;
  } st{&sim, &rng, {}};
  auto schedule_some = [](State* s, int n) {
    for (int i = 0; i < n; ++i) {
      const auto delay = Duration::nanoseconds(static_cast<int64_t>(s->rng->below(100000)));
      s->ids.push_back(s->sim->schedule_after(delay, [s] {
        s->ordered = s->ordered && s->sim->now().ns() >= s->last;
        s->last = s->sim->now().ns();
        ++s->fired;
      }));
    }
  };
  int cancelled = 0;
  for (int round = 0; round < 50; ++round) {
    schedule_some(&st, 1000);
    for (size_t i = 0; i < st.ids.size(); ++i) {
      if (st.rng->below(10) != 0 && sim.cancel(st.ids[i])) ++cancelled;
    }
    st.ids.clear();
    sim.run_until(sim.now() + Duration::nanoseconds(3000));
    // An event scheduled at exactly now() after run_until must still be accepted and run.
    sim.schedule_after(Duration(), [&st] { ++st.fired; });
  }
  sim.run();
  CHECK(st.ordered);
  CHECK(st.fired == 50 * 1000 - cancelled + 50);
  CHECK(sim.pending_events() == 0);
}
