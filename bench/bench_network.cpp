// The network model at data-centre scale: flows on a k = 8 fat-tree (128 hosts, 80 switches,
// 384 links of 10 Gbit/s and 2 us each). Every flow picks a random source and a different random
// destination, a size log-uniform between 10 kB and 100 MB, and a start uniform in the first
// 10 ms, all from a fixed seed. The flows far outlast that window, so up to about 1,000 share the
// fabric at once and every start and end recomputes the max-min rates of all of them.
//
// Timed: the whole simulated run (routing on first use, latency phases, every rate
// recomputation); building the topology is not. items_per_second is flows per wall second.
// bench/make_fat_tree.py writes the same kind of platform and flows for `shardlab flows`.
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "sim/core/simulation.h"
#include "sim/hw/network.h"

namespace {

using shardlab::sim::Duration;
using shardlab::sim::Future;
using shardlab::sim::HostId;
using shardlab::sim::Network;
using shardlab::sim::NodeId;
using shardlab::sim::Process;
using shardlab::sim::RandomStream;
using shardlab::sim::Sharing;
using shardlab::sim::Simulation;

constexpr int kArity = 8;
constexpr double kLinkBandwidth = 1.25e9;  // 10 Gbit/s
constexpr Duration kLinkLatency = Duration::microseconds(2);

std::vector<HostId> build_fat_tree(Network& net, int k) {
  const int half = k / 2;
  std::vector<NodeId> cores;
  for (int core_idx = 0; core_idx < half * half; ++core_idx) {
    cores.push_back(net.add_switch("core" + std::to_string(core_idx)));
  }
  std::vector<HostId> hosts;
  for (int pod = 0; pod < k; ++pod) {
    std::vector<NodeId> aggs;
    for (int agg_idx = 0; agg_idx < half; ++agg_idx) {
      const NodeId agg =
          net.add_switch("agg" + std::to_string(pod) + "_" + std::to_string(agg_idx));
      for (int core_idx = 0; core_idx < half; ++core_idx) {
        net.add_link(agg, cores[agg_idx * half + core_idx], kLinkBandwidth, kLinkLatency);
      }
      aggs.push_back(agg);
    }
    for (int edge_idx = 0; edge_idx < half; ++edge_idx) {
      const NodeId edge =
          net.add_switch("edge" + std::to_string(pod) + "_" + std::to_string(edge_idx));
      for (const NodeId agg : aggs) net.add_link(edge, agg, kLinkBandwidth, kLinkLatency);
      for (int host_idx = 0; host_idx < half; ++host_idx) {
        const HostId host = net.add_host("h" + std::to_string(hosts.size()));
        net.add_link(host, edge, kLinkBandwidth, kLinkLatency);
        hosts.push_back(host);
      }
    }
  }
  net.seal();
  return hosts;
}

Process flow(Simulation& sim, Network& net, HostId src, HostId dst, double bytes, Duration start) {
  co_await sim.sleep(start);
  co_await net.transfer(src, dst, bytes);
}

void BM_FlowsFatTree(benchmark::State& state) {
  const auto flows = static_cast<size_t>(state.range(0));
  const Sharing sharing = state.range(1) == 0 ? Sharing::kMaxMin : Sharing::kRtt;
  double makespan = 0;
  uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Simulation sim(1);
    Network net(sim, sharing);
    const std::vector<HostId> hosts = build_fat_tree(net, kArity);
    RandomStream rng = sim.stream("bench_network");
    for (size_t flow_idx = 0; flow_idx < flows; ++flow_idx) {
      const HostId src = hosts[rng.below(hosts.size())];
      HostId dst = hosts[rng.below(hosts.size())];
      while (dst == src) dst = hosts[rng.below(hosts.size())];
      const double bytes = 1e4 * std::pow(1e4, rng.uniform01());  // 10 kB .. 100 MB
      const Duration start = Duration::nanoseconds(static_cast<int64_t>(rng.below(10'000'000)));
      sim.spawn(flow(sim, net, src, dst, bytes, start));
    }
    state.ResumeTiming();
    sim.run();
    makespan = sim.now().seconds();
    events = sim.stats().events_processed;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * flows));
  state.counters["sim_seconds"] = makespan;
  state.counters["events"] = static_cast<double>(events);
}
BENCHMARK(BM_FlowsFatTree)
    ->ArgNames({"flows", "rtt"})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Args({4000, 0})
    ->Unit(benchmark::kMillisecond);

}  // namespace
