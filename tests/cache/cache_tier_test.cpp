// The cache tier on the simulated network: what a node crash does to the client's key
// placement (ketama, modula, a gutter pool), and that a restarted node comes back empty.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sim/cache/cache_tier.h"
#include "sim/core/simulation.h"
#include "sim/hw/network.h"

using namespace shardlab::sim;
using namespace shardlab::sim::cache;

namespace {

constexpr int kKeys = 3000;

std::string key(int index) { return "k" + std::to_string(index); }

struct Tier {
  Simulation sim;
  Network net{sim};
  HostId client{};
  std::unique_ptr<CacheTier> tier;

  Tier(KeyDistribution distribution, std::vector<std::string> gutter = {}) {
    const NodeId spine = net.add_switch("spine");
    client = net.add_host("app");
    net.add_link(client, spine, 1.25e9, Duration::microseconds(10));
    std::vector<std::string> hosts = {"mc1", "mc2", "mc3"};
    for (const std::vector<std::string>* names : {&hosts, &gutter}) {
      for (const std::string& name : *names) {
        net.add_link(net.add_host(name), spine, 1.25e9, Duration::microseconds(10));
      }
    }
    net.seal();
    CacheTierSpec spec;
    spec.hosts = hosts;
    spec.gutter_hosts = std::move(gutter);
    spec.distribution = distribution;
    spec.server.memory_bytes = uint64_t{64} << 20;
    tier = std::make_unique<CacheTier>(sim, net, spec);
  }

  bool get(const std::string& k) {
    bool hit = false;
    sim.spawn(tier->get(client, k, 100, &hit));
    sim.run();
    return hit;
  }
  void set_all() {
    for (int i = 0; i < kKeys; ++i) sim.spawn(tier->set(client, key(i), 100, 0));
    sim.run();
  }
  // The share of keys still answered after mc2 crashed and the client found out.
  double hits_after_crash() {
    tier->crash(1);
    for (int i = 0; i < kKeys; ++i) get(key(i));  // the first request to mc2 ejects it
    int hits = 0;
    for (int i = 0; i < kKeys; ++i) hits += get(key(i)) ? 1 : 0;
    return static_cast<double>(hits) / kKeys;
  }
};

}  // namespace

TEST_CASE("cache tier: losing one of three nodes under ketama moves only its keys",
          "[cache][tier]") {
  Tier t(KeyDistribution::kKetama);
  t.set_all();
  const double hits = t.hits_after_crash();
  REQUIRE(t.tier->remaps().size() == 1);
  const Remap& remap = t.tier->remaps()[0];
  CHECK(remap.what == "eject mc2");
  // mc2 held about a third; ketama keeps every other key where it was, so they still hit.
  CHECK(remap.moved_share > 0.2);
  CHECK(remap.moved_share < 0.45);
  CHECK(hits == Approx(1.0 - remap.moved_share).margin(1e-9));
  CHECK(t.tier->counters().ejections == 1);
  CHECK(t.tier->counters().errors == 1);
}

TEST_CASE("cache tier: modula moves most keys when a node is lost", "[cache][tier]") {
  Tier t(KeyDistribution::kModula);
  t.set_all();
  const double hits = t.hits_after_crash();
  REQUIRE(t.tier->remaps().size() == 1);
  CHECK(t.tier->remaps()[0].moved_share > 0.55);
  CHECK(hits < 0.45);
}

TEST_CASE("cache tier: a gutter pool takes a failed node's keys and leaves the others",
          "[cache][tier]") {
  Tier t(KeyDistribution::kKetama, {"gutter1"});
  t.set_all();
  const double hits = t.hits_after_crash();
  REQUIRE(t.tier->remaps().size() == 1);
  CHECK(t.tier->remaps()[0].what == "to the gutter: mc2");
  CHECK(t.tier->remaps()[0].moved_share == 0);
  // mc2's keys miss in the gutter (it starts empty); everyone else's still hit.
  CHECK(hits > 0.55);
  CHECK(hits < 0.8);
  CHECK(t.tier->counters().gutter_gets > 0);
  CHECK(t.tier->counters().gutter_hits == 0);
  // A key stored now lands in the gutter and is found there.
  std::string moved;
  for (int i = 0; i < kKeys && moved.empty(); ++i) {
    if (!t.get(key(i))) moved = key(i);
  }
  REQUIRE_FALSE(moved.empty());
  t.sim.spawn(t.tier->set(t.client, moved, 100, 0));
  t.sim.run();
  CHECK(t.get(moved));
  CHECK(t.tier->counters().gutter_hits == 1);
  CHECK(t.tier->host_name(3) == "gutter1");
}

TEST_CASE("cache tier: a restarted node rejoins empty", "[cache][tier]") {
  Tier t(KeyDistribution::kKetama);
  t.set_all();
  t.hits_after_crash();
  t.tier->restart(1);
  REQUIRE(t.tier->remaps().size() == 2);
  CHECK(t.tier->remaps()[1].what == "rejoin mc2");
  int hits = 0;
  for (int i = 0; i < kKeys; ++i) hits += t.get(key(i)) ? 1 : 0;
  // mc2's keys come back to it, and it lost them in the crash.
  CHECK(static_cast<double>(hits) / kKeys ==
        Approx(1.0 - t.tier->remaps()[1].moved_share).margin(1e-9));
}
