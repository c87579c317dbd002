#include <catch2/catch.hpp>

#include <vector>

#include "sim/core/simulation.h"
#include "sim/core/trace.h"
#include "sim/hw/cpu.h"

using namespace shardlab::sim;
using namespace shardlab::sim::time_literals;

namespace {
// Finish instants of CPU tasks, in ns, filled in by a watcher process per task.
Process run_task(Simulation& sim, Cpu& cpu, double work, Duration start, int64_t& finish_ns) {
  co_await sim.sleep(start);
  co_await cpu.compute(work);
  finish_ns = sim.now().ns();
}
}  // namespace

TEST_CASE("processor sharing: at most one core per task, equal shares beyond", "[sim][cpu]") {
  Simulation sim;
  Cpu cpu(sim, "n0", 2, 1.0);
  // Three tasks of 1, 2 and 3 core-seconds at t = 0 on 2 cores: each runs at 2/3 until the first
  // ends at 1.5 s (1 / (2/3)); the others (0.5 s and 1.5 s of work done... 2 - 1 = 1 left and
  // 3 - 1 = 2 left) then run at full speed: 2.5 s and 3.5 s.
  std::vector<int64_t> finish(3);
  sim.spawn(run_task(sim, cpu, 1.0, Duration(), finish[0]));
  sim.spawn(run_task(sim, cpu, 2.0, Duration(), finish[1]));
  sim.spawn(run_task(sim, cpu, 3.0, Duration(), finish[2]));
  sim.run();
  CHECK(finish[0] == 1'500'000'000);
  CHECK(finish[1] == 2'500'000'000);
  CHECK(finish[2] == 3'500'000'000);
  // Busy core-seconds: 2 cores for 2.5 s, then 1 for 1 s = 6 = the total work.
  CHECK(cpu.utilization().mean(sim.now()) * 2 * 3.5 == Approx(6.0));
}

TEST_CASE("speed factor and a late arrival change rates at the right instants", "[sim][cpu]") {
  Simulation sim;
  Cpu cpu(sim, "n0", 1, 2.0);  // 2 reference-core seconds per second
  std::vector<int64_t> finish(2);
  // A: 4 units alone at rate 2 for 1 s (2 left); B arrives at 1 s with 1 unit: both at rate 1.
  // B ends at 2 s; A has 1 left at rate 2: ends at 2.5 s.
  sim.spawn(run_task(sim, cpu, 4.0, Duration(), finish[0]));
  sim.spawn(run_task(sim, cpu, 1.0, 1_s, finish[1]));
  sim.run();
  CHECK(finish[1] == 2'000'000'000);
  CHECK(finish[0] == 2'500'000'000);

  // Halve the speed half-way through a 2-unit task on 1 core at speed 2: 1 unit in 0.5 s, the
  // other at rate 1 takes 1 s: done at 1.5 s after its start.
  Simulation sim2;
  Cpu slow(sim2, "n1", 1, 2.0);
  int64_t end = 0;
  sim2.spawn(run_task(sim2, slow, 2.0, Duration(), end));
  sim2.schedule_at(Time::zero() + 500_ms, [&slow] { slow.set_speed_factor(0.5); });
  sim2.run();
  CHECK(end == 1'500'000'000);
}

namespace {
Process timed_task(Simulation& sim, Cpu& cpu, bool& timed_out) {
  try {
    co_await sim.with_timeout(cpu.compute(10.0), 1_s);
  } catch (const SimFault& fault) {
    timed_out = fault.kind() == FaultKind::kTimeout;
  }
}
Process nested(Cpu& cpu) {
  co_await cpu.compute(5.0);
  co_await cpu.compute(5.0);
}
}  // namespace

TEST_CASE("a timeout withdraws the task and frees the core", "[sim][cpu]") {
  Simulation sim;
  Cpu cpu(sim, "n0", 1);
  bool timed_out = false;
  int64_t other = 0;
  sim.spawn(timed_task(sim, cpu, timed_out));
  sim.spawn(run_task(sim, cpu, 1.0, Duration(), other));
  sim.run();
  CHECK(timed_out);
  // Shared until 1 s (0.5 done), then alone: 0.5 more, done at 1.5 s.
  CHECK(other == 1'500'000'000);
  CHECK(cpu.running() == 0);

  // Cancelling a process interrupts what it waits on, here a nested compute.
  Simulation sim2;
  Cpu cpu2(sim2, "n1", 1);
  Future job = sim2.spawn(nested(cpu2));
  Future limited = sim2.with_timeout(job, 7_s);
  sim2.run();
  CHECK(limited.fault() == FaultKind::kTimeout);
  CHECK(job.failed());
  CHECK(sim2.now() == Time::zero() + 7_s);
  CHECK(cpu2.running() == 0);
}

TEST_CASE("a crash fails running tasks with the node-down fault", "[sim][cpu]") {
  Simulation sim;
  Cpu cpu(sim, "n0", 4);
  Future a = cpu.compute(3.0);
  Future b = cpu.compute(1.0);
  sim.schedule_at(Time::zero() + 2_s, [&cpu] { cpu.fail_all(FaultKind::kNodeDown, "n0 crashed"); });
  sim.run();
  CHECK(b.done());
  CHECK(a.failed());
  CHECK(a.fault() == FaultKind::kNodeDown);
  CHECK(a.message() == "n0 crashed");
}

TEST_CASE("the trace packs overlapping CPU tasks into lanes", "[sim][trace]") {
  Simulation sim;
  Tracer tracer;
  sim.set_tracer(&tracer);
  Cpu cpu(sim, "n0", 2);
  cpu.compute(1.0, "scan");
  cpu.compute(2.0, "merge");
  cpu.compute(1.0, "scan");
  sim.run();
  CHECK(tracer.slices() == 3);
  std::ostringstream json;
  tracer.write_json(json);
  CHECK(json.str().find("\"cpu #3\"") != std::string::npos);
  CHECK(json.str().find("\"merge\"") != std::string::npos);
}
