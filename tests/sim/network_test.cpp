#include "sim/hw/network.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/errors.h"
#include "sim/core/simulation.h"
#include "sim/core/trace.h"

using namespace shardlab::sim;
using namespace shardlab::sim::time_literals;

namespace {

// Links that never limit a flow in these tests.
constexpr double kFast = 1e12;
constexpr double kGB = 1e9;

struct Outcome {
  bool ended = false;
  std::optional<FaultKind> fault;
  int64_t at_ns = -1;
};

Process send(Simulation& sim, Network& net, HostId src, HostId dst, double bytes, Duration start,
             Outcome& out) {
  co_await sim.sleep(start);
  try {
    co_await net.transfer(src, dst, bytes);
  } catch (const SimFault& fault) {
    out.fault = fault.kind();
  }
  out.ended = true;
  out.at_ns = sim.now().ns();
}

Process send_with_timeout(Simulation& sim, Network& net, HostId src, HostId dst, double bytes,
                          Duration limit, Outcome& out) {
  try {
    co_await sim.with_timeout(net.transfer(src, dst, bytes), limit);
  } catch (const SimFault& fault) {
    out.fault = fault.kind();
  }
  out.ended = true;
  out.at_ns = sim.now().ns();
}

// The analytic finish instants below are real numbers; the simulator rounds each predicted
// finish up to a whole nanosecond, and rates such as 1e9 / 3 are not exact in binary. One
// nanosecond either way is that rounding, nothing more.
int64_t ns(double seconds) { return std::llround(seconds * 1e9); }

void check_finished(const Outcome& out, double seconds) {
  INFO("expected " << ns(seconds) << " ns, got " << out.at_ns << " ns");
  CHECK(out.ended);
  CHECK_FALSE(out.fault.has_value());
  CHECK(std::llabs(out.at_ns - ns(seconds)) <= 1);
}

void check_failed(const Outcome& out, FaultKind kind, double seconds) {
  INFO("expected a fault at " << ns(seconds) << " ns, got " << out.at_ns << " ns");
  CHECK(out.ended);
  REQUIRE(out.fault.has_value());
  CHECK(*out.fault == kind);
  CHECK(out.at_ns == ns(seconds));
}

std::vector<std::string> names(const Network& net, const std::vector<NodeId>& route) {
  std::vector<std::string> result;
  for (const NodeId node : route) result.push_back(net.name(node));
  return result;
}

// A k-ary fat-tree (k even): k pods of k/2 edge and k/2 aggregation switches, (k/2)^2 cores and
// k^3/4 hosts, every link `bandwidth` and `latency`.
std::vector<HostId> build_fat_tree(Network& net, int k, double bandwidth, Duration latency) {
  const int half = k / 2;
  std::vector<NodeId> cores;
  for (int core_idx = 0; core_idx < half * half; ++core_idx) {
    cores.push_back(net.add_switch("core" + std::to_string(core_idx)));
  }
  std::vector<HostId> hosts;
  for (int pod = 0; pod < k; ++pod) {
    std::vector<NodeId> aggs;
    for (int agg_idx = 0; agg_idx < half; ++agg_idx) {
      const NodeId agg = net.add_switch(fmt::format("agg{}_{}", pod, agg_idx));
      for (int core_idx = 0; core_idx < half; ++core_idx) {
        net.add_link(agg, cores[agg_idx * half + core_idx], bandwidth, latency);
      }
      aggs.push_back(agg);
    }
    for (int edge_idx = 0; edge_idx < half; ++edge_idx) {
      const NodeId edge = net.add_switch(fmt::format("edge{}_{}", pod, edge_idx));
      for (const NodeId agg : aggs) net.add_link(edge, agg, bandwidth, latency);
      for (int host_idx = 0; host_idx < half; ++host_idx) {
        const HostId host = net.add_host(fmt::format("h{}_{}_{}", pod, edge_idx, host_idx));
        net.add_link(host, edge, bandwidth, latency);
        hosts.push_back(host);
      }
    }
  }
  net.seal();
  return hosts;
}

}  // namespace

TEST_CASE("network: N flows on one bottleneck share it equally", "[sim][network]") {
  const Sharing mode = GENERATE(Sharing::kMaxMin, Sharing::kRtt);
  Simulation sim;
  Network net(sim, mode);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  net.add_link(a, b, 1 * kGB, 1_ms);
  net.seal();
  // 1, 2, 3 and 4 GB at 1 GB/s, all sending from 1 ms (one route, so equal weights in both
  // modes). Four at 1/4 GB/s until the 1 GB flow ends at 4 s (each sent 1 GB); three at 1/3
  // until the second's last 1 GB is sent at 4 + 3 = 7 s; two at 1/2 for the third's last 1 GB:
  // 9 s; the last GB alone: 10 s. Plus the 1 ms latency.
  std::vector<Outcome> out(4);
  for (int flow_idx = 0; flow_idx < 4; ++flow_idx) {
    sim.spawn(send(sim, net, a, b, (flow_idx + 1) * kGB, Duration(), out[flow_idx]));
  }
  sim.run_until(Time::zero() + 2_s);
  CHECK(net.sending_flows() == 4);
  for (const Network::FlowInfo& info : net.flows()) CHECK(info.rate == 0.25 * kGB);
  CHECK(net.link_utilization(*net.find_link(a, b), a) == Approx(1.0));
  CHECK(net.link_utilization(*net.find_link(a, b), b) == 0.0);
  sim.run();
  check_finished(out[0], 4.001);
  check_finished(out[1], 7.001);
  check_finished(out[2], 9.001);
  check_finished(out[3], 10.001);
  CHECK(net.active_flows() == 0);
  CHECK(sim.pending_events() == 0);

  // Equal flows from different senders through one switch end at the same nanosecond.
  Simulation sim2;
  Network star(sim2, mode);
  std::vector<HostId> senders;
  for (int sender_idx = 0; sender_idx < 3; ++sender_idx) {
    senders.push_back(star.add_host("x" + std::to_string(sender_idx)));
  }
  const HostId sink = star.add_host("sink");
  const NodeId hub = star.add_switch("hub");
  for (const HostId sender : senders) star.add_link(sender, hub, kFast, 10_us);
  star.add_link(hub, sink, 1.5 * kGB, 10_us);
  star.seal();
  std::vector<Outcome> equal(3);
  for (int sender_idx = 0; sender_idx < 3; ++sender_idx) {
    sim2.spawn(send(sim2, star, senders[sender_idx], sink, kGB, Duration(), equal[sender_idx]));
  }
  sim2.run();
  // 3 GB through 1.5 GB/s: 2 s, after 20 us of latency.
  check_finished(equal[0], 2.00002);
  CHECK(equal[1].at_ns == equal[0].at_ns);
  CHECK(equal[2].at_ns == equal[0].at_ns);
}

TEST_CASE("network: parking lot", "[sim][network]") {
  const Sharing mode = GENERATE(Sharing::kMaxMin, Sharing::kRtt);
  Simulation sim;
  Network net(sim, mode);
  // s0 -L1- s1 -L2- s2 -L3- s3, each trunk 1 GB/s and 1 ms; hosts hang off with fast,
  // zero-latency links. The long flow A -> B crosses L1..L3; short flow i crosses Li only.
  std::vector<NodeId> sw;
  for (int sw_idx = 0; sw_idx < 4; ++sw_idx)
    sw.push_back(net.add_switch("s" + std::to_string(sw_idx)));
  std::vector<LinkId> trunks;
  for (int link_idx = 0; link_idx < 3; ++link_idx) {
    trunks.push_back(net.add_link(sw[link_idx], sw[link_idx + 1], kGB, 1_ms));
  }
  const auto attach = [&](const std::string& name, int at) {
    const HostId host = net.add_host(name);
    net.add_link(host, sw[at], kFast, Duration());
    return host;
  };
  const HostId long_src = attach("A", 0);
  const HostId long_dst = attach("B", 3);
  std::vector<HostId> short_src;
  std::vector<HostId> short_dst;
  for (int link_idx = 0; link_idx < 3; ++link_idx) {
    short_src.push_back(attach("X" + std::to_string(link_idx + 1), link_idx));
    short_dst.push_back(attach("Y" + std::to_string(link_idx + 1), link_idx + 1));
  }
  net.seal();
  CHECK(net.route_latency(long_src, long_dst) == 3_ms);
  CHECK(net.route_latency(short_src[0], short_dst[0]) == 1_ms);

  // Everything starts sending at t0 = 3 ms: the short flows start 2 ms late to make up for their
  // shorter latency. Sizes: long 1.75 GB, short 0.75, 1.5 and 2.25 GB.
  std::vector<Outcome> shorts(3);
  Outcome long_flow;
  sim.spawn(send(sim, net, long_src, long_dst, 1.75 * kGB, Duration(), long_flow));
  const double short_sizes[] = {0.75 * kGB, 1.5 * kGB, 2.25 * kGB};
  for (int link_idx = 0; link_idx < 3; ++link_idx) {
    sim.spawn(send(sim, net, short_src[link_idx], short_dst[link_idx], short_sizes[link_idx], 2_ms,
                   shorts[link_idx]));
  }
  const double t0 = 0.003;
  if (mode == Sharing::kMaxMin) {
    // Every trunk has the long flow and one short flow: 0.5 GB/s each, the long flow included
    // (max-min gives it 1/2, not 1/(k+1)).
    // Short 1 (0.75 GB) ends at t0 + 1.5 s. The long flow stays at 0.5, held by L2 and L3.
    // Short 2 (1.5 GB) ends at t0 + 3; the long flow has sent 1.5 GB, short 3 1.5 GB.
    // L3: both at 0.5: the long flow's last 0.25 GB ends at t0 + 3.5; short 3 has 0.5 GB
    // left, alone at 1 GB/s: t0 + 4.
    sim.run_until(Time::from_seconds(t0 + 0.5));
    CHECK(net.link_utilization(trunks[0], sw[0]) == Approx(1.0));
    CHECK(net.link_utilization(trunks[0], sw[1]) == 0.0);
    for (const Network::FlowInfo& info : net.flows()) CHECK(info.rate == 0.5 * kGB);
    sim.run();
    check_finished(shorts[0], t0 + 1.5);
    check_finished(shorts[1], t0 + 3);
    check_finished(long_flow, t0 + 3.5);
    check_finished(shorts[2], t0 + 4);
  } else {
    // Weights 1/latency: 1/3ms for the long flow, 1/1ms for each short flow, so on every trunk
    // the long flow gets 1/4 and the short one 3/4: 0.25 and 0.75 GB/s.
    // Short 1 ends at t0 + 1, short 2 at t0 + 2, short 3 at t0 + 3 (0.75, 1.5, 2.25 GB at
    // 0.75 GB/s); the long flow, held at 0.25 by the trunks still shared, has sent 0.75 GB by
    // t0 + 3 and sends its last 1 GB alone: t0 + 4.
    sim.run_until(Time::from_seconds(t0 + 0.5));
    const std::vector<Network::FlowInfo> infos = net.flows();
    REQUIRE(infos.size() == 4);
    CHECK(infos[0].rate == Approx(0.25 * kGB).epsilon(1e-12));
    for (int flow_idx = 1; flow_idx < 4; ++flow_idx) {
      CHECK(infos[flow_idx].rate == Approx(0.75 * kGB).epsilon(1e-12));
    }
    sim.run();
    check_finished(shorts[0], t0 + 1);
    check_finished(shorts[1], t0 + 2);
    check_finished(shorts[2], t0 + 3);
    check_finished(long_flow, t0 + 4);
  }
}

TEST_CASE("network: flows arriving and leaving change the rates at once", "[sim][network]") {
  const Sharing mode = GENERATE(Sharing::kMaxMin, Sharing::kRtt);
  Simulation sim;
  Network net(sim, mode);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  net.add_link(a, b, kGB, 1_ms);
  net.seal();
  // A: 3 GB from 0, sending alone from 1 ms to 1.001 s (1 GB sent, 2 GB left).
  // B: 1 GB from 1 s; A and B at 0.5 GB/s until C arrives at 2.001 s (A 1.5, B 0.5 left).
  // C: 0.25 GB from 2 s; three at 1/3 GB/s: C ends at 2.001 + 0.75 = 2.751 (A 1.25, B 0.25).
  // A and B at 0.5: B ends at 3.251 (A 1 GB left); A alone: 4.251.
  Outcome first;
  Outcome second;
  Outcome third;
  sim.spawn(send(sim, net, a, b, 3 * kGB, Duration(), first));
  sim.spawn(send(sim, net, a, b, 1 * kGB, 1_s, second));
  sim.spawn(send(sim, net, a, b, 0.25 * kGB, 2_s, third));
  sim.run();
  check_finished(third, 2.751);
  check_finished(second, 3.251);
  check_finished(first, 4.251);
}

TEST_CASE("network: rtt sharing splits a bottleneck inversely to route latency", "[sim][network]") {
  const Sharing mode = GENERATE(Sharing::kMaxMin, Sharing::kRtt);
  Simulation sim;
  Network net(sim, mode);
  const HostId near = net.add_host("near");
  const HostId far = net.add_host("far");
  const HostId dst = net.add_host("dst");
  const NodeId hub = net.add_switch("hub");
  net.add_link(near, hub, kFast, 1_ms);
  net.add_link(far, hub, kFast, 3_ms);
  net.add_link(hub, dst, kGB, Duration());
  net.seal();
  // Both start sending at 3 ms (the near flow starts 2 ms later). near: 0.75 GB, far: 1 GB.
  Outcome near_flow;
  Outcome far_flow;
  sim.spawn(send(sim, net, far, dst, kGB, Duration(), far_flow));
  sim.spawn(send(sim, net, near, dst, 0.75 * kGB, 2_ms, near_flow));
  sim.run_until(Time::zero() + 500_ms);
  const std::vector<Network::FlowInfo> infos = net.flows();
  REQUIRE(infos.size() == 2);
  if (mode == Sharing::kRtt) {
    // Weights 1/3ms and 1/1ms: far gets 1/4 of 1 GB/s, near 3/4. Near ends at 3 ms + 1 s with
    // far at 0.25 GB sent; far's last 0.75 GB alone: 3 ms + 1.75 s.
    CHECK(infos[0].rate == Approx(0.25 * kGB).epsilon(1e-12));
    CHECK(infos[1].rate == Approx(0.75 * kGB).epsilon(1e-12));
    sim.run();
    check_finished(near_flow, 1.003);
  } else {
    // Equal shares: near ends at 3 ms + 1.5 s with far at 0.75 GB sent; far's last 0.25 GB
    // alone: 3 ms + 1.75 s.
    CHECK(infos[0].rate == 0.5 * kGB);
    CHECK(infos[1].rate == 0.5 * kGB);
    sim.run();
    check_finished(near_flow, 1.503);
  }
  check_finished(far_flow, 1.753);
}

TEST_CASE("network: latency phase, empty and local transfers", "[sim][network]") {
  Simulation sim;
  Network net(sim);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  const NodeId hub = net.add_switch("hub");
  net.add_link(a, hub, 1.25e9, 50_us);
  net.add_link(hub, b, 1.25e9, 25_us);
  net.seal();
  Outcome tiny;
  Outcome empty;
  Outcome local;
  sim.spawn(send(sim, net, a, b, 1000, Duration(), tiny));
  sim.spawn(send(sim, net, a, b, 0, Duration(), empty));
  sim.spawn(send(sim, net, a, a, 1e12, Duration(), local));
  sim.run_until(Time::zero() + 10_us);
  // In the latency phase a flow holds no bandwidth.
  CHECK(net.active_flows() == 2);
  CHECK(net.sending_flows() == 0);
  sim.run();
  // 75 us of latency, then 1000 B at 1.25 GB/s = 800 ns.
  check_finished(tiny, 75.8e-6);
  check_finished(empty, 75e-6);
  check_finished(local, 0);
}

TEST_CASE("network: the two directions of a link do not share", "[sim][network]") {
  Simulation sim;
  Network net(sim);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  net.add_link(a, b, kGB, Duration());
  net.seal();
  // a -> b carries two flows (0.5 GB/s each: 2 s); b -> a one flow at the full 1 GB/s: 1 s.
  Outcome forward1;
  Outcome forward2;
  Outcome backward;
  sim.spawn(send(sim, net, a, b, kGB, Duration(), forward1));
  sim.spawn(send(sim, net, a, b, kGB, Duration(), forward2));
  sim.spawn(send(sim, net, b, a, kGB, Duration(), backward));
  sim.run();
  check_finished(backward, 1);
  check_finished(forward1, 2);
  check_finished(forward2, 2);
}

TEST_CASE("network: routes take the lowest latency, then fewest hops, then lowest ids",
          "[sim][network]") {
  Simulation sim;
  SECTION("lowest latency beats fewer hops") {
    Network net(sim);
    const HostId h0 = net.add_host("h0");
    const HostId h1 = net.add_host("h1");
    const NodeId direct = net.add_switch("direct");
    const NodeId p = net.add_switch("p");
    const NodeId q = net.add_switch("q");
    net.add_link(h0, direct, kGB, 5_ms);
    net.add_link(direct, h1, kGB, 5_ms);
    net.add_link(h0, p, kGB, 1_ms);
    net.add_link(p, q, kGB, 1_ms);
    net.add_link(q, h1, kGB, 1_ms);
    net.seal();
    CHECK(names(net, net.route(h0, h1)) == std::vector<std::string>{"h0", "p", "q", "h1"});
    CHECK(net.route_latency(h0, h1) == 3_ms);
    CHECK(names(net, net.route(h1, h0)) == std::vector<std::string>{"h1", "q", "p", "h0"});
  }
  SECTION("equal latency: fewer hops, even against lower ids") {
    Network net(sim);
    const HostId h0 = net.add_host("h0");
    const HostId h1 = net.add_host("h1");
    const NodeId low1 = net.add_switch("low1");
    const NodeId low2 = net.add_switch("low2");
    const NodeId high = net.add_switch("high");
    net.add_link(h0, low1, kGB, 1_ms);
    net.add_link(low1, low2, kGB, 2_ms);
    net.add_link(low2, h1, kGB, 1_ms);
    net.add_link(h0, high, kGB, 2_ms);
    net.add_link(high, h1, kGB, 2_ms);
    net.seal();
    CHECK(names(net, net.route(h0, h1)) == std::vector<std::string>{"h0", "high", "h1"});
  }
  SECTION("equal latency and hops: the smallest sequence of node ids") {
    Network net(sim);
    const HostId h0 = net.add_host("h0");
    const HostId h1 = net.add_host("h1");
    // Ids in declaration order: s1 < s2 < s3 < s4. Links are added in an order that would
    // favour other paths if the first link found won.
    const NodeId s1 = net.add_switch("s1");
    const NodeId s2 = net.add_switch("s2");
    const NodeId s3 = net.add_switch("s3");
    const NodeId s4 = net.add_switch("s4");
    net.add_link(h0, s2, kGB, 1_ms);
    net.add_link(s2, s3, kGB, 1_ms);
    net.add_link(h0, s1, kGB, 1_ms);
    net.add_link(s1, s4, kGB, 1_ms);
    net.add_link(s4, h1, kGB, 1_ms);
    net.add_link(s1, s3, kGB, 1_ms);
    net.add_link(s3, h1, kGB, 1_ms);
    net.seal();
    // h0 s1 s3 h1 < h0 s1 s4 h1 < h0 s2 s3 h1.
    CHECK(names(net, net.route(h0, h1)) == std::vector<std::string>{"h0", "s1", "s3", "h1"});
    net.set_node_up(s3, false);
    CHECK(names(net, net.route(h0, h1)) == std::vector<std::string>{"h0", "s1", "s4", "h1"});
  }
  SECTION("hosts do not forward") {
    Network net(sim);
    const HostId h0 = net.add_host("h0");
    const HostId h1 = net.add_host("h1");
    const HostId relay = net.add_host("relay");
    const NodeId slow = net.add_switch("slow");
    net.add_link(h0, relay, kGB, 1_ms);
    net.add_link(relay, h1, kGB, 1_ms);
    const LinkId slow_in = net.add_link(h0, slow, kGB, 10_ms);
    net.add_link(slow, h1, kGB, 10_ms);
    net.seal();
    CHECK(names(net, net.route(h0, h1)) == std::vector<std::string>{"h0", "slow", "h1"});
    CHECK(names(net, net.route(h0, relay)) == std::vector<std::string>{"h0", "relay"});
    net.set_link_up(slow_in, false);
    CHECK(net.route(h0, h1).empty());
    CHECK_FALSE(net.route_latency(h0, h1).has_value());
  }
}

TEST_CASE("network: a link going down breaks the flows over it; later ones reroute",
          "[sim][network]") {
  const Sharing mode = GENERATE(Sharing::kMaxMin, Sharing::kRtt);
  Simulation sim;
  Network net(sim, mode);
  const HostId h0 = net.add_host("h0");
  const HostId h1 = net.add_host("h1");
  const HostId h2 = net.add_host("h2");
  const NodeId primary = net.add_switch("primary");
  const NodeId backup = net.add_switch("backup");
  net.add_link(h0, primary, kGB, 1_ms);
  const LinkId cut = net.add_link(primary, h1, kGB, 1_ms);
  net.add_link(primary, h2, kGB, 1_ms);
  net.add_link(h0, backup, kGB, 5_ms);
  net.add_link(backup, h1, kGB, 5_ms);
  net.seal();
  // h0 -> h1 and h0 -> h2 share h0-primary from 2 ms at 0.5 GB/s (equal latencies, so equal
  // weights in both modes). At 0.5 s primary-h1 fails: the first flow fails, and so does one
  // still in its latency phase; h0 -> h2 has 1 - 0.498 * 0.5 = 0.751 GB left, now alone:
  // it ends at 1.251 s.
  Outcome broken;
  Outcome waiting;
  Outcome bystander;
  sim.spawn(send(sim, net, h0, h1, kGB, Duration(), broken));
  sim.spawn(send(sim, net, h0, h1, kGB, 499_ms, waiting));
  sim.spawn(send(sim, net, h0, h2, kGB, Duration(), bystander));
  sim.schedule_at(Time::zero() + 500_ms, [&net, cut] { net.set_link_up(cut, false); });
  sim.run_until(Time::zero() + 600_ms);
  check_failed(broken, FaultKind::kLinkDown, 0.5);
  check_failed(waiting, FaultKind::kLinkDown, 0.5);
  CHECK(net.active_flows() == 1);
  // New transfers take the backup route: 10 ms of latency, then 1 GB alone.
  CHECK(names(net, net.route(h0, h1)) == std::vector<std::string>{"h0", "backup", "h1"});
  Outcome rerouted;
  sim.spawn(send(sim, net, h0, h1, kGB, 400_ms, rerouted));  // from 1 s
  sim.run();
  check_finished(bystander, 1.251);
  check_finished(rerouted, 2.010);
  net.set_link_up(cut, true);
  CHECK(names(net, net.route(h0, h1)) == std::vector<std::string>{"h0", "primary", "h1"});
}

TEST_CASE("network: a node going down breaks the flows through it", "[sim][network]") {
  Simulation sim;
  Network net(sim);
  const HostId h0 = net.add_host("h0");
  const HostId h1 = net.add_host("h1");
  const HostId h2 = net.add_host("h2");
  const NodeId sw = net.add_switch("sw");
  net.add_link(h0, sw, kGB, 1_ms);
  net.add_link(h1, sw, kGB, 1_ms);
  net.add_link(h2, sw, kGB, 1_ms);
  net.seal();
  Outcome to_h1;
  Outcome to_h2;
  Outcome h2_to_h0;
  sim.spawn(send(sim, net, h0, h1, kGB, Duration(), to_h1));
  sim.spawn(send(sim, net, h0, h2, kGB, Duration(), to_h2));
  sim.spawn(send(sim, net, h2, h0, kGB, Duration(), h2_to_h0));
  // Host h1 crashes at 0.2 s: only the flow to it breaks. Its transfers fail at once while it is
  // down, and work again once it is back.
  sim.schedule_at(Time::zero() + 200_ms, [&net, h1] { net.set_node_up(h1, false); });
  sim.run_until(Time::zero() + 300_ms);
  check_failed(to_h1, FaultKind::kNodeDown, 0.2);
  CHECK_FALSE(to_h2.ended);
  Outcome refused;
  sim.spawn(send(sim, net, h1, h0, kGB, Duration(), refused));
  sim.run_until(Time::zero() + 300_ms);
  check_failed(refused, FaultKind::kNodeDown, 0.3);
  CHECK(net.route(h0, h1).empty());
  net.set_node_up(h1, true);
  CHECK(net.route_latency(h0, h1) == 2_ms);

  // The switch crashes at 0.4 s: everything through it breaks, in both directions.
  sim.schedule_at(Time::zero() + 400_ms, [&net, sw] { net.set_node_up(sw, false); });
  sim.run();
  check_failed(to_h2, FaultKind::kNodeDown, 0.4);
  check_failed(h2_to_h0, FaultKind::kNodeDown, 0.4);
  CHECK(net.active_flows() == 0);
  Outcome cut_off;
  sim.spawn(send(sim, net, h0, h2, kGB, Duration(), cut_off));
  sim.run();
  check_failed(cut_off, FaultKind::kUnreachable, 0.4);
}

TEST_CASE("network: no route means unreachable", "[sim][network]") {
  Simulation sim;
  Network net(sim);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  const HostId c = net.add_host("c");
  const HostId d = net.add_host("d");
  net.add_link(a, b, kGB, 1_ms);
  net.add_link(c, d, kGB, 1_ms);
  net.seal();
  CHECK(net.route(a, c).empty());
  Outcome out;
  sim.spawn(send(sim, net, a, c, 100, 7_ms, out));
  sim.run();
  check_failed(out, FaultKind::kUnreachable, 0.007);
}

TEST_CASE("network: partition and heal", "[sim][network]") {
  Simulation sim;
  Network net(sim);
  std::vector<HostId> hosts;
  for (int host_idx = 0; host_idx < 4; ++host_idx) {
    hosts.push_back(net.add_host("h" + std::to_string(host_idx)));
  }
  const NodeId sw = net.add_switch("sw");
  for (const HostId host : hosts) net.add_link(host, sw, kGB, Duration());
  net.seal();
  // h0 -> h2 crosses the partition made at 0.5 s, h0 -> h1 does not, and a third flow on the
  // h0-sw link ends early. h0 -> h1: 0.5 GB/s until 0.5 s, then alone: 0.75 GB left: 1.25 s.
  Outcome across;
  Outcome within;
  sim.spawn(send(sim, net, hosts[0], hosts[2], kGB, Duration(), across));
  sim.spawn(send(sim, net, hosts[0], hosts[1], kGB, Duration(), within));
  PartitionId cut{};
  sim.schedule_at(Time::zero() + 500_ms, [&net, &hosts, &cut] {
    cut = net.partition({hosts[0], hosts[1]}, {hosts[2], hosts[3]});
  });
  sim.run_until(Time::zero() + 600_ms);
  check_failed(across, FaultKind::kUnreachable, 0.5);
  CHECK(net.route(hosts[1], hosts[3]).empty());
  CHECK(net.route(hosts[3], hosts[2]).size() == 3);
  Outcome refused;
  sim.spawn(send(sim, net, hosts[3], hosts[0], kGB, Duration(), refused));
  sim.run_until(Time::zero() + 700_ms);
  check_failed(refused, FaultKind::kUnreachable, 0.6);
  net.heal(cut);
  CHECK_THROWS_AS(net.heal(cut), std::invalid_argument);
  Outcome healed;
  sim.spawn(send(sim, net, hosts[3], hosts[0], kGB, Duration(), healed));
  sim.run();
  check_finished(within, 1.25);
  check_finished(healed, 1.7);
}

TEST_CASE("network: cancelling a transfer frees its bandwidth at once", "[sim][network]") {
  Simulation sim;
  Network net(sim);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  net.add_link(a, b, kGB, Duration());
  net.seal();
  // Two 1 GB flows at 0.5 GB/s; the second is cancelled by its 0.5 s timeout, when the first
  // has 0.75 GB left, which it then sends at 1 GB/s: done at 1.25 s.
  Outcome kept;
  Outcome cancelled;
  sim.spawn(send(sim, net, a, b, kGB, Duration(), kept));
  sim.spawn(send_with_timeout(sim, net, a, b, kGB, 500_ms, cancelled));
  sim.run();
  check_failed(cancelled, FaultKind::kTimeout, 0.5);
  check_finished(kept, 1.25);

  // Cancelled in its latency phase: nothing is left behind.
  Simulation sim2;
  Network slow(sim2);
  const HostId x = slow.add_host("x");
  const HostId y = slow.add_host("y");
  slow.add_link(x, y, kGB, 1_s);
  slow.seal();
  Outcome early;
  sim2.spawn(send_with_timeout(sim2, slow, x, y, kGB, 500_ms, early));
  sim2.run();
  check_failed(early, FaultKind::kTimeout, 0.5);
  CHECK(slow.active_flows() == 0);
  CHECK(sim2.pending_events() == 0);
}

TEST_CASE("network: rates are weighted max-min fair on a fat-tree", "[sim][network]") {
  const Sharing mode = GENERATE(Sharing::kMaxMin, Sharing::kRtt);
  Simulation sim(7);
  Network net(sim, mode);
  // Uneven latencies make the rtt weights differ between routes.
  const std::vector<HostId> hosts = build_fat_tree(net, 4, kGB, 10_us);
  RandomStream rng = sim.stream("flows");
  std::vector<Outcome> out(200);
  for (Outcome& outcome : out) {
    const HostId src = hosts[rng.below(hosts.size())];
    HostId dst = hosts[rng.below(hosts.size())];
    while (dst == src) dst = hosts[rng.below(hosts.size())];
    sim.spawn(send(sim, net, src, dst, 1e12, Duration(), outcome));
  }
  sim.run_until(Time::zero() + 1_s);
  const std::vector<Network::FlowInfo> infos = net.flows();
  REQUIRE(infos.size() == 200);
  // Per link direction: the flows over it.
  std::vector<std::vector<size_t>> on_arc(2 * net.link_count());
  std::vector<std::vector<size_t>> arcs_of(infos.size());
  std::vector<double> weight(infos.size(), 1.0);
  for (size_t flow_idx = 0; flow_idx < infos.size(); ++flow_idx) {
    const std::vector<NodeId> path = net.route(infos[flow_idx].src, infos[flow_idx].dst);
    for (size_t hop = 0; hop + 1 < path.size(); ++hop) {
      const LinkId link = *net.find_link(path[hop], path[hop + 1]);
      const size_t arc = 2 * static_cast<size_t>(link) + (net.link_a(link) == path[hop] ? 0 : 1);
      on_arc[arc].push_back(flow_idx);
      arcs_of[flow_idx].push_back(arc);
    }
    if (mode == Sharing::kRtt) {
      weight[flow_idx] =
          1.0 / net.route_latency(infos[flow_idx].src, infos[flow_idx].dst)->seconds();
    }
  }
  std::vector<double> load(on_arc.size(), 0.0);
  for (size_t arc = 0; arc < on_arc.size(); ++arc) {
    for (const size_t flow_idx : on_arc[arc]) load[arc] += infos[flow_idx].rate;
    CHECK(load[arc] <= kGB * (1 + 1e-9));  // feasible
  }
  // Max-min: every flow has a bottleneck, a saturated link direction on which no other flow
  // has a larger rate per unit of weight.
  for (size_t flow_idx = 0; flow_idx < infos.size(); ++flow_idx) {
    CHECK(infos[flow_idx].rate > 0);
    const double normalised = infos[flow_idx].rate / weight[flow_idx];
    bool has_bottleneck = false;
    for (const size_t arc : arcs_of[flow_idx]) {
      if (load[arc] < kGB * (1 - 1e-9)) continue;
      bool largest = true;
      for (const size_t other : on_arc[arc]) {
        largest = largest && infos[other].rate / weight[other] <= normalised * (1 + 1e-9);
      }
      has_bottleneck = has_bottleneck || largest;
    }
    CHECK(has_bottleneck);
  }
}

TEST_CASE("network: the same run twice gives the same finish instants", "[sim][network]") {
  const auto run = [] {
    Simulation sim(11);
    Network net(sim, Sharing::kRtt);
    const std::vector<HostId> hosts = build_fat_tree(net, 4, 1.25e9, 2_us);
    RandomStream rng = sim.stream("flows");
    std::vector<Outcome> out(300);
    for (Outcome& outcome : out) {
      const HostId src = hosts[rng.below(hosts.size())];
      const HostId dst = hosts[rng.below(hosts.size())];
      const double bytes = 1e3 + rng.below(100'000'000);
      const auto start = Duration::nanoseconds(static_cast<int64_t>(rng.below(50'000'000)));
      sim.spawn(send(sim, net, src, dst, bytes, start, outcome));
    }
    sim.run();
    std::vector<int64_t> finish;
    for (const Outcome& outcome : out) {
      CHECK(outcome.ended);
      CHECK_FALSE(outcome.fault.has_value());
      finish.push_back(outcome.at_ns);
    }
    CHECK(net.active_flows() == 0);
    return finish;
  };
  CHECK(run() == run());
}

TEST_CASE("network: one trace slice per finished transfer", "[sim][network]") {
  Simulation sim;
  Tracer tracer;
  sim.set_tracer(&tracer);
  Network net(sim);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  net.add_link(a, b, kGB, 1_ms);
  net.seal();
  Outcome one;
  Outcome two;
  sim.spawn(send(sim, net, a, b, kGB, Duration(), one));
  sim.spawn(send(sim, net, b, a, kGB, Duration(), two));
  sim.run();
  CHECK(tracer.slices() == 2);
}

TEST_CASE("network: building mistakes fail early", "[sim][network]") {
  Simulation sim;
  Network net(sim);
  const HostId a = net.add_host("a");
  const NodeId s = net.add_switch("s");
  CHECK_THROWS_AS(net.add_host("a"), shardlab::InputError);
  CHECK_THROWS_AS(net.add_switch("s"), shardlab::InputError);
  CHECK_THROWS_AS(net.add_host(""), shardlab::InputError);
  CHECK_THROWS_AS(net.add_link(a, a, kGB, 1_ms), shardlab::InputError);
  CHECK_THROWS_AS(net.add_link(a, s, 0, 1_ms), shardlab::InputError);
  CHECK_THROWS_AS(net.add_link(a, s, -1, 1_ms), shardlab::InputError);
  CHECK_THROWS_AS(net.add_link(a, s, INFINITY, 1_ms), shardlab::InputError);
  CHECK_THROWS_AS(net.add_link(a, s, kGB, Duration::nanoseconds(-1)), shardlab::InputError);
  net.add_link(a, s, kGB, 1_ms);
  CHECK_THROWS_AS(net.add_link(s, a, kGB, 1_ms), shardlab::InputError);
  CHECK_THROWS_AS(net.transfer(a, a, 1), std::logic_error);
  net.seal();
  CHECK_THROWS_AS(net.add_host("b"), std::logic_error);
  CHECK_THROWS_AS(net.set_sharing(Sharing::kRtt), std::logic_error);
  CHECK_THROWS_AS(net.transfer(a, s, 1), std::invalid_argument);
  CHECK_THROWS_AS(net.transfer(a, a, -1), std::invalid_argument);
  CHECK(net.find_host("a") == a);
  CHECK_FALSE(net.find_host("s").has_value());
  CHECK(net.find_node("s") == s);
}

namespace {
Process first_of_two(Simulation& sim, Network& net, HostId a, HostId b, uint64_t& winner,
                     int64_t& at_ns) {
  winner = co_await sim.any_of(net.transfer(a, b, kGB), net.transfer(a, b, kGB));
  at_ns = sim.now().ns();
}
}  // namespace

TEST_CASE("network: a transfer cancelled by a sibling finishing at the same instant",
          "[sim][network]") {
  // Both transfers end at 2 s; the first to complete resolves any_of, which cancels the other
  // while the network is still completing it.
  Simulation sim;
  Network net(sim);
  const HostId a = net.add_host("a");
  const HostId b = net.add_host("b");
  net.add_link(a, b, kGB, Duration());
  net.seal();
  uint64_t winner = 99;
  int64_t at_ns = -1;
  sim.spawn(first_of_two(sim, net, a, b, winner, at_ns));
  sim.run();
  CHECK(winner == 0);
  CHECK(at_ns == 2'000'000'000);
  CHECK(net.active_flows() == 0);
  // The network is still consistent: a new transfer gets the whole link.
  Outcome after;
  sim.spawn(send(sim, net, a, b, kGB, Duration(), after));
  sim.run();
  check_finished(after, 3);
}
