#include <catch2/catch.hpp>

#include "sim/core/simulation.h"
#include "sim/hw/faults.h"
#include "sim/hw/node.h"

using namespace shardlab::sim;
using namespace shardlab::sim::time_literals;

namespace {
Process timed(Simulation& sim, Future f, int64_t& finish_ns, FaultKind* fault = nullptr) {
  try {
    co_await f;
    finish_ns = sim.now().ns();
  } catch (const SimFault& e) {
    finish_ns = sim.now().ns();
    if (fault) *fault = e.kind();
  }
}
DiskSpec test_disk() {
  DiskSpec spec;
  spec.read_bytes_per_s = 100e6;
  spec.write_bytes_per_s = 50e6;
  spec.latency = 1_ms;
  spec.iops = 1000;  // one admission per ms
  return spec;
}
}  // namespace

TEST_CASE("disk: latency, fair time sharing, IOPS admission", "[sim][disk]") {
  Simulation sim;
  Disk disk(sim, "n0", test_disk());
  int64_t a = 0, b = 0, c = 0;
  // A: read 10 MB, admitted at 0, transfers from 1 ms. B: write 5 MB, admitted at 1 ms (IOPS),
  // transfers from 2 ms. Both need 0.1 s of the device; from 2 ms they share it: A has 0.099 s
  // left, B 0.1 s; each progresses at 1/2: A ends at 2 ms + 0.198 s = 200 ms, then B alone with
  // 0.001 s left ends at 201 ms.
  sim.spawn(timed(sim, disk.read(10'000'000), a));
  sim.spawn(timed(sim, disk.write(5'000'000), b));
  sim.run();
  CHECK(a == 200'000'000);
  CHECK(b == 201'000'000);
  // C alone, after the others: latency then 1 MB at 100 MB/s.
  const Time start = sim.now();
  sim.spawn(timed(sim, disk.read(1'000'000), c));
  sim.run();
  CHECK(c - start.ns() == 11'000'000);
  CHECK(disk.bytes_read() == 11'000'000);
  CHECK(disk.bytes_written() == 5'000'000);
}

TEST_CASE("disk: a slow-disk factor stretches transfers", "[sim][disk]") {
  Simulation sim;
  Disk disk(sim, "n0", test_disk());
  int64_t done = 0;
  sim.spawn(timed(sim, disk.read(10'000'000), done));  // 1 ms + 100 ms at full speed
  sim.schedule_at(Time::zero() + 51_ms, [&disk] { disk.set_bandwidth_factor(0.25); });
  sim.run();
  // 50 ms of transfer done (half), the other half at a quarter speed: 200 ms more.
  CHECK(done == 251'000'000);
}

TEST_CASE("page cache: LRU over blocks, sized by free memory", "[sim][cache]") {
  PageCache cache(4 * 65536);
  auto r = cache.read(1, 0, 3 * 65536);
  CHECK(r.miss_bytes == 3 * 65536);
  r = cache.read(1, 65536, 100);  // inside a cached block
  CHECK(r.hit_bytes == 100);
  CHECK(r.miss_bytes == 0);
  r = cache.read(9, 100, 8192);  // part of a cold block: the disk reads all of it
  CHECK(r.miss_bytes == 65536);
  CHECK(r.hit_bytes == 0);
  r = cache.read(9, 8292, 8192);  // the rest of that block is now cached
  CHECK(r.hit_bytes == 8192);
  cache.read(2, 0, 2 * 65536);  // 6 blocks > 4: the two least recently used (file 1's 0 and 2) go
  r = cache.read(1, 0, 65536);
  CHECK(r.miss_bytes == 65536);
  CHECK(cache.evicted_blocks() >= 1);
  cache.set_capacity(65536);
  CHECK(cache.used_bytes() == 65536);
  cache.drop_file(1);
  CHECK(cache.used_bytes() == 0);

  Memory memory(10 * 65536);
  PageCache linked(memory.capacity());
  memory.on_available_changed([&linked](uint64_t free) { linked.set_capacity(free); });
  linked.read(7, 0, 8 * 65536);
  MemoryClaim claim = memory.try_claim(6 * 65536);
  REQUIRE(claim);
  CHECK(linked.used_bytes() == 4 * 65536);  // the cache yielded
  CHECK_FALSE(memory.try_claim(5 * 65536));  // refused: does not fit next to the claim
  CHECK(memory.refusals() == 1);
  claim.release();
  CHECK(memory.available() == 10 * 65536);
}

TEST_CASE("node: cached reads cost memory bandwidth, misses cost disk", "[sim][node]") {
  Simulation sim;
  NodeSpec spec;
  spec.name = "n0";
  spec.disk = test_disk();
  spec.memory_bytes_per_s = 1e9;
  Node node(sim, spec);
  int64_t cold = 0, warm = 0;
  sim.spawn(timed(sim, node.read_file(3, 0, 1'000'000), cold));
  sim.run();
  // 1 ms latency + 16 whole 64 KiB blocks (1,048,576 bytes) at 100 MB/s = 10.48576 ms.
  CHECK(cold == 11'485'760);
  const Time start = sim.now();
  sim.spawn(timed(sim, node.read_file(3, 0, 1'000'000), warm));
  sim.run();
  CHECK(warm - start.ns() == 1'000'000);  // 1 MB at 1 GB/s
}

namespace {
Process worker(Node& node, FaultKind& fault) {
  try {
    co_await node.compute(100.0);
  } catch (const SimFault& e) {
    fault = e.kind();
  }
}
}  // namespace

TEST_CASE("node crash: work fails, volatile state is lost, restart recovers", "[sim][node][faults]") {
  Simulation sim(3);
  NodeSpec spec;
  spec.name = "n0";
  Node node(sim, spec);
  node.page_cache().read(1, 0, 1 << 20);
  MemoryClaim claim = node.memory().try_claim(1 << 30);
  FaultKind fault = FaultKind::kCancelled;
  node.spawn(worker(node, fault));
  int64_t disk_done = 0;
  FaultKind disk_fault = FaultKind::kCancelled;
  sim.spawn(timed(sim, node.disk().read(1'000'000'000), disk_done, &disk_fault));

  FaultInjector faults(sim);
  bool network_up = true;
  faults.outage(node_crash(node, [&network_up](bool up) { network_up = up; }),
                Time::zero() + 2_s, 3_s);
  struct Probe {
    Node* node;
    bool* network_up;
    bool down_during = false;
    FaultKind refused = FaultKind::kCancelled;
  } probe{&node, &network_up};
  sim.schedule_at(Time::zero() + 3_s, [&probe] {
    probe.down_during = !probe.node->up() && !*probe.network_up;
    probe.refused = probe.node->compute(1.0).fault();
  });
  sim.run();
  const bool down_during = probe.down_during;
  const FaultKind refused = probe.refused;
  CHECK(fault == FaultKind::kNodeDown);
  CHECK(disk_fault == FaultKind::kNodeDown);
  CHECK(disk_done == 2'000'000'000);
  CHECK(down_during);
  CHECK(refused == FaultKind::kNodeDown);
  CHECK(node.up());
  CHECK(network_up);
  CHECK(node.page_cache().used_bytes() == 0);
  CHECK(node.memory().claimed() == 0);
  claim.release();  // claimed before the crash: releases nothing
  CHECK(node.memory().claimed() == 0);
  REQUIRE(faults.log().size() == 2);
  CHECK(faults.log()[0].at == Time::zero() + 2_s);
  CHECK(faults.log()[1].at == Time::zero() + 5_s);
}

TEST_CASE("servers sharing a machine share its cores, disk and page cache; a crash is one "
          "server's", "[sim][node][faults]") {
  Simulation sim;
  NodeSpec spec;
  spec.name = "n0";
  spec.machine = "box";
  spec.cores = 1;
  spec.disk = test_disk();
  auto machine = std::make_shared<Machine>(sim, "box", spec);
  Node a(sim, spec, machine);
  spec.name = "n1";
  Node b(sim, spec, machine);
  Node alone(sim, spec);  // the same hardware, a machine of its own
  REQUIRE(a.shares_machine());
  REQUIRE_FALSE(alone.shares_machine());
  CHECK(&a.cpu() == &b.cpu());

  // One core between two servers: each second of work takes two.
  int64_t a_done = 0, b_done = 0, alone_done = 0;
  sim.spawn(timed(sim, a.compute(1.0), a_done));
  sim.spawn(timed(sim, b.compute(1.0), b_done));
  sim.spawn(timed(sim, alone.compute(1.0), alone_done));
  sim.run();
  CHECK(a_done == 2'000'000'000);
  CHECK(b_done == 2'000'000'000);
  CHECK(alone_done == 1'000'000'000);

  // Each server's files are its own in the shared page cache: b reading the id a cached misses.
  const Time start = sim.now();
  int64_t a_cold = 0, b_cold = 0, a_warm = 0;
  sim.spawn(timed(sim, a.read_file(7, 0, 1'000'000), a_cold));
  sim.run();
  sim.spawn(timed(sim, b.read_file(7, 0, 1'000'000), b_cold));
  sim.run();
  const Time warm_start = sim.now();
  sim.spawn(timed(sim, a.read_file(7, 0, 1'000'000), a_warm));
  sim.run();
  CHECK(a_cold - start.ns() == 11'485'760);  // as on a machine of its own (test above)
  CHECK(b_cold > a_cold);                     // a miss too, not a hit on a's blocks
  CHECK(a_warm - warm_start.ns() == 100'000);  // 1 MB at the default 10 GB/s memory bandwidth

  // a crashes: its task and disk read fail; b's carry on, and so do the machine's disk and cache.
  FaultKind a_fault = FaultKind::kCancelled, a_disk_fault = FaultKind::kCancelled;
  FaultKind b_fault = FaultKind::kCancelled;
  int64_t a_end = 0, a_disk_end = 0, b_end = 0;
  const Time crash_start = sim.now();
  sim.spawn(timed(sim, a.compute(10.0), a_end, &a_fault));
  sim.spawn(timed(sim, a.read_file(8, 0, 1'000'000'000), a_disk_end, &a_disk_fault));
  sim.spawn(timed(sim, b.compute(10.0), b_end, &b_fault));
  sim.schedule_at(crash_start + 1_s, [&a] { a.crash(); });
  sim.run();
  CHECK(a_fault == FaultKind::kNodeDown);
  CHECK(a_end - crash_start.ns() == 1'000'000'000);
  CHECK(a_disk_fault == FaultKind::kNodeDown);
  CHECK(a_disk_end - crash_start.ns() == 1'000'000'000);
  CHECK(b_fault == FaultKind::kCancelled);  // untouched: it finished
  // Half a core for 1 s, then the whole core for the 9.5 s of work left.
  CHECK(b_end - crash_start.ns() == 10'500'000'000);
  CHECK_FALSE(a.up());
  CHECK(b.up());
  CHECK(a.page_cache().used_bytes() > 0);  // the machine's cache survives a server's death
  CHECK(a.compute(1.0).fault() == FaultKind::kNodeDown);
  a.restart();
  int64_t again = 0;
  const Time restart_start = sim.now();
  sim.spawn(timed(sim, a.compute(1.0), again));
  sim.run();
  CHECK(again - restart_start.ns() == 1'000'000'000);
}

TEST_CASE("random outages are reproducible per component and seed", "[sim][faults]") {
  auto outages = [](uint64_t seed, bool extra_component) {
    Simulation sim(seed);
    Cpu cpu(sim, "n0", 1);
    Cpu other(sim, "n1", 1);
    FaultInjector faults(sim);
    if (extra_component) {
      faults.random_outages(slow_node(other, "n1", 0.5), 10_s, 1_s, Time::zero() + 1000_s);
    }
    faults.random_outages(slow_node(cpu, "n0", 0.5), 10_s, 1_s, Time::zero() + 1000_s);
    sim.run();
    std::vector<int64_t> times;
    for (const auto& r : faults.log()) {
      if (r.target == "n0 cpu") times.push_back(r.at.ns());
    }
    return times;
  };
  const auto base = outages(5, false);
  CHECK(base.size() > 100);  // about 1000 s / 11 s * 2 transitions
  CHECK(base == outages(5, false));
  CHECK(base == outages(5, true));  // another component does not perturb this one
  CHECK(base != outages(6, false));
}

TEST_CASE("network faults: a link outage breaks flows and reroutes, a partition heals",
          "[sim][faults][network]") {
  Simulation sim;
  Network net(sim);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  const NodeId s1 = net.add_switch("s1");
  const NodeId s2 = net.add_switch("s2");
  const LinkId a1 = net.add_link(a, s1, 1e9, 1_us);
  net.add_link(s1, b, 1e9, 1_us);
  net.add_link(a, s2, 1e9, 5_us);
  net.add_link(s2, b, 1e9, 5_us);
  net.seal();
  FaultInjector faults(sim);
  faults.outage(link_failure(net, a1), Time::zero() + 1_ms, 10_ms);
  faults.outage(network_partition(net, {a}, {b}, "a|b"), Time::zero() + 20_ms, 5_ms);
  int64_t first = 0, second = 0, third = 0, fourth = 0;
  FaultKind first_fault = FaultKind::kCancelled, third_fault = FaultKind::kCancelled;
  sim.spawn(timed(sim, net.transfer(a, b, 10e6), first, &first_fault));  // 10 ms on the short path
  // Rerouted over s2 while the link is down: 10 us + 1 ms.
  sim.run_until(Time::zero() + 2_ms);
  sim.spawn(timed(sim, net.transfer(a, b, 1e6), second));
  sim.run_until(Time::zero() + 21_ms);
  sim.spawn(timed(sim, net.transfer(a, b, 1e6), third, &third_fault));  // partitioned
  sim.run_until(Time::zero() + 30_ms);
  sim.spawn(timed(sim, net.transfer(a, b, 1e6), fourth));  // healed, link back: 2 us + 1 ms
  sim.run();
  CHECK(first_fault == FaultKind::kLinkDown);
  CHECK(first == 1'000'000);
  CHECK(second == 2'000'000 + 10'000 + 1'000'000);
  CHECK(third_fault == FaultKind::kUnreachable);
  CHECK(fourth == 30'000'000 + 2'000 + 1'000'000);
  CHECK(faults.log().size() == 4);
}

namespace {
struct Gate {
  Future open;
};
Process wait_gate(Gate& gate, FaultKind& seen, bool& resumed) {
  try {
    co_await gate.open;
  } catch (const SimFault& f) {
    seen = f.kind();
  }
  resumed = true;
}
Process hold_claim(Node& node) {
  MemoryClaim claim = node.memory().try_claim(1 << 20);
  co_await node.compute(100.0);
}
Process compute_first(Cpu& cpu) { co_await cpu.compute(10.0); }
Process remote_subquery(Cpu& cpu, FaultKind& seen) {
  try {
    co_await cpu.compute(10.0);
  } catch (const SimFault& f) {
    seen = f.kind();
    throw;
  }
}
Process coordinator(Simulation& sim, Cpu& remote, FaultKind& remote_saw) {
  co_await sim.spawn(remote_subquery(remote, remote_saw));
}
}  // namespace

TEST_CASE("a waiter keeps its future even when the owner reassigns it", "[sim][kernel]") {
  Simulation sim;
  Gate gate{sim.make_future()};
  FaultKind seen = FaultKind::kCancelled;
  bool resumed = false;
  sim.spawn(wait_gate(gate, seen, resumed));
  sim.run();
  gate.open.fail(FaultKind::kRefused);
  gate.open = sim.make_future();  // the old state must not be recycled under the waiter
  Future unrelated = sim.sleep(Duration::seconds(1));
  sim.run();
  CHECK(resumed);
  CHECK(seen == FaultKind::kRefused);
}

TEST_CASE("teardown with processes left touches no destroyed model", "[sim][node]") {
  // Run under AddressSanitizer in CI: the claim and the disk request outlive their models.
  Simulation sim;
  {
    NodeSpec spec;
    spec.name = "n0";
    Node node(sim, spec);
    node.spawn(hold_claim(node));
    sim.run_until(Time::zero() + Duration::seconds(1));
    node.disk().read(1'000'000);  // spawned, not yet started when the node goes
  }
  sim.run();  // the orphaned request starts after its disk is gone, and fails cleanly
  CHECK(sim.stats().processes_failed >= 1);
}

TEST_CASE("interrupting a runnable process withdraws what it was about to wait on",
          "[sim][kernel]") {
  Simulation sim;
  Cpu cpu(sim, "n0", 1);
  Future done = sim.spawn(compute_first(cpu));
  sim.interrupt(done, FaultKind::kNodeDown);  // before it has run at all
  sim.run();
  CHECK(done.fault() == FaultKind::kNodeDown);
  CHECK(cpu.running() == 0);
  CHECK(sim.now() == Time::zero());
}

TEST_CASE("an interrupt's fault stays with the interrupted process", "[sim][kernel]") {
  Simulation sim;
  Cpu remote(sim, "remote", 1);
  FaultKind remote_saw = FaultKind::kFailed;
  Future coord = sim.spawn(coordinator(sim, remote, remote_saw));
  sim.schedule_after(Duration::seconds(1), [&sim, state = coord.state()] {
    sim.interrupt(Future(state), FaultKind::kNodeDown, "coordinator's node crashed");
  });
  sim.run();
  CHECK(coord.fault() == FaultKind::kNodeDown);
  CHECK(remote_saw == FaultKind::kCancelled);  // withdrawn, not crashed itself
  CHECK(remote.running() == 0);
}

TEST_CASE("step() rethrows a model's bug", "[sim][kernel]") {
  Simulation sim;
  sim.schedule_after(Duration::seconds(1), [] { throw std::logic_error("model bug"); });
  CHECK_THROWS_WITH(sim.step(), "model bug");
}

TEST_CASE("a crash clears the disk's admission queue", "[sim][disk][faults]") {
  Simulation sim;
  DiskSpec spec = test_disk();  // 1000 IOPS
  Disk disk(sim, "n0", spec);
  for (int i = 0; i < 5000; ++i) disk.read(4096);  // admissions reach 5 s
  sim.run_until(Time::zero() + Duration::milliseconds(100));
  disk.fail_all(FaultKind::kNodeDown, "crash");
  sim.run();
  int64_t done = 0;
  const Time start = sim.now();
  sim.spawn(timed(sim, disk.read(100'000), done));
  sim.run();
  CHECK(done - start.ns() == 2'000'000);  // 1 ms latency + 1 ms transfer, no backlog
}

TEST_CASE("overlapping outages of one target fail once and repair once", "[sim][faults]") {
  Simulation sim;
  Network net(sim);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  net.add_link(a, b, 1e9, Duration::microseconds(1));
  net.seal();
  FaultInjector faults(sim);
  const FaultTarget cut = network_partition(net, {a}, {b}, "a|b");
  faults.outage(cut, Time::zero() + Duration::seconds(1), Duration::seconds(10));
  faults.outage(cut, Time::zero() + Duration::seconds(5), Duration::seconds(10));
  sim.run();
  REQUIRE(faults.log().size() == 2);
  CHECK(faults.log()[0].at == Time::zero() + Duration::seconds(1));
  CHECK(faults.log()[1].at == Time::zero() + Duration::seconds(15));
  int64_t done = 0;
  FaultKind fault = FaultKind::kCancelled;
  sim.spawn(timed(sim, net.transfer(a, b, 1000), done, &fault));
  sim.run();
  CHECK(fault == FaultKind::kCancelled);  // healed: the transfer succeeded
  CHECK(done > 0);
}
