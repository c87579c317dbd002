// The cache tier on the simulated network: what a node crash does to the client's key
// placement (ketama, modula, a gutter pool), and that a restarted node comes back empty; the
// application's own placements (partition, round robin) and the multi-key get, add and touch.
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

uint64_t items(const MemcachedModel& model) {
  uint64_t n = 0;
  for (const SlabClassStats& cls : model.classes()) n += cls.items;
  return n;
}

struct Tier {
  Simulation sim;
  Network net{sim};
  HostId client{};
  std::unique_ptr<CacheTier> tier;

  explicit Tier(KeyDistribution distribution, std::vector<std::string> gutter = {},
                Placement placement = Placement::kHash) {
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
    spec.placement = placement;
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

TEST_CASE("cache tier: a partition map puts a key on the node it names", "[cache][tier]") {
  Tier t(KeyDistribution::kKetama, {}, Placement::kPartition);
  for (int i = 0; i < 300; ++i) t.sim.spawn(t.tier->set(t.client, CacheKey(key(i), 2), 100, 0));
  t.sim.run();
  CHECK(items(t.tier->model(2)) == 300);
  CHECK(items(t.tier->model(0)) == 0);
  // A key the map does not name is hashed.
  for (int i = 300; i < 600; ++i) t.sim.spawn(t.tier->set(t.client, key(i), 100, 0));
  t.sim.run();
  CHECK(items(t.tier->model(0)) > 50);
  // The named node down: its keys miss at once after the first timeout, the others still hit.
  t.tier->crash(2);
  CHECK_FALSE(t.get(key(0)));
  const Time before = t.sim.now();
  bool hit = true;
  t.sim.spawn(t.tier->get(t.client, CacheKey(key(1), 2), 100, &hit));
  t.sim.run();
  CHECK_FALSE(hit);
  CHECK(t.sim.now() - before < Duration::milliseconds(1));  // no second connect timeout
}

TEST_CASE("cache tier: round robin writes in turn and reads by fanning out", "[cache][tier]") {
  Tier t(KeyDistribution::kKetama, {}, Placement::kRoundRobin);
  for (int i = 0; i < 300; ++i) {
    t.sim.spawn(t.tier->set(t.client, key(i), 100, 0));
    t.sim.run();  // one at a time, so that the turn is deterministic
  }
  for (size_t server = 0; server < 3; ++server) {
    CHECK(items(t.tier->model(server)) == 100);
  }
  int hits = 0;
  for (int i = 0; i < 300; ++i) hits += t.get(key(i)) ? 1 : 0;
  CHECK(hits == 300);
  // Each get asked all three nodes: two extra requests per get.
  CHECK(t.tier->counters().fanout_requests == 600);
  t.sim.spawn(t.tier->remove(t.client, key(7)));
  t.sim.run();
  CHECK_FALSE(t.get(key(7)));
}

TEST_CASE("cache tier: multi-get, add and touch", "[cache][tier]") {
  Tier t(KeyDistribution::kKetama);
  for (int i = 0; i < 10; ++i) t.sim.spawn(t.tier->set(t.client, key(i), 100, 0));
  t.sim.run();
  std::vector<CacheKey> keys;
  for (int i = 5; i < 15; ++i) keys.emplace_back(key(i));
  std::vector<bool> hits;
  const Time start = t.sim.now();
  t.sim.spawn(t.tier->get_multi(t.client, keys, std::vector<uint32_t>(keys.size(), 100), &hits));
  t.sim.run();
  const Duration multi = t.sim.now() - start;
  for (size_t i = 0; i < keys.size(); ++i) CHECK(hits[i] == (i < 5));
  // One request per server in parallel: about one round trip, not ten.
  const Time one = t.sim.now();
  t.get(key(0));
  CHECK(multi < (t.sim.now() - one) * 3);

  bool stored = true;
  t.sim.spawn(t.tier->add(t.client, key(0), 100, 0, &stored));
  t.sim.run();
  CHECK_FALSE(stored);  // present: add refuses
  t.sim.spawn(t.tier->add(t.client, key(100), 100, 1, &stored));
  t.sim.run();
  CHECK(stored);
  t.sim.spawn(t.tier->touch(t.client, key(100), 0));  // never expires now
  t.sim.run();
  t.sim.spawn([](Simulation& sim) -> Process { co_await sim.sleep(Duration::seconds(5)); }(t.sim));
  t.sim.run();
  CHECK(t.get(key(100)));
}
