// The planner's pieces that need no simulation: Erlang C against closed forms, the candidate
// space (cost order, placement rules) and the overrides that place and scale a candidate.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "planner/capacity_model.h"
#include "planner/plan_space.h"
#include "scenarios/scenario.h"

using namespace shardlab;

namespace {

const char* kScenario = R"(
name: plan-test
hardware:
  node_types:
    small: {cores: 4, cpu_speed: 1.0, memory: 8GiB, disk: {read_bandwidth: 400MB/s, write_bandwidth: 200MB/s}}
    big: {cores: 16}
topology:
  racks: {host_link: {bandwidth: 10Gbit/s}}
cluster:
  nodes:
    - {name: a, type: small, rack: r1}
    - {name: b, type: small, rack: r2}
  shards: 1
  replicas: 2
  sharding: {kind: hash, key: cityHash64(user_id)}
workload:
  rows: 10000
  days: 1
  peak_rows_per_s: 2
  queries:
    - {name: q, sql: "SELECT count() FROM user_behavior", rate_per_s: 0.1, target_latency: 1s}
plan:
  node_types:
    small: {price_per_hour: 1}
    big: {price_per_hour: 3}
  nodes: {min: 1, max: 4}
  shards: [1, 2]
  replicas: [1, 2]
)";

}  // namespace

TEST_CASE("Erlang C matches its closed forms") {
  // One server: the waiting probability is the utilisation.
  CHECK(planner::erlang_c(1, 0.3) == Approx(0.3));
  // Two servers with one Erlang offered: (a^2/2!)(2/(2-a)) / (1 + a + that) = 1/3.
  CHECK(planner::erlang_c(2, 1.0) == Approx(1.0 / 3.0));
  CHECK(planner::erlang_c(16, 0.0) == 0.0);
  // More servers at the same utilisation wait less often.
  CHECK(planner::erlang_c(16, 8.0) < planner::erlang_c(4, 2.0));
}

TEST_CASE("the candidate space is cheapest first, and every candidate can be placed") {
  const scenarios::Scenario s = scenarios::parse_scenario(kScenario, "plan-test.yaml", {}, false);
  const std::vector<planner::Candidate> candidates = planner::enumerate_candidates(s);
  REQUIRE(!candidates.empty());
  CHECK(std::is_sorted(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return a.cost_per_hour < b.cost_per_hour;
  }));
  for (const planner::Candidate& c : candidates) {
    CHECK(c.replicas <= c.nodes);           // a shard's replicas on distinct nodes
    CHECK(c.shards * c.replicas >= c.nodes);  // no idle node
  }
  // 1 small node, 1 shard x 1: the cheapest.
  CHECK(candidates.front().nodes == 1);
  CHECK(candidates.front().cost_per_hour == 1.0);
}

TEST_CASE("a candidate's overrides make a valid scenario with its cluster, at any scale") {
  const scenarios::Scenario s = scenarios::parse_scenario(kScenario, "plan-test.yaml", {}, false);
  for (const planner::Candidate& c : planner::enumerate_candidates(s)) {
    std::vector<std::string> sets = planner::candidate_overrides(s, c);
    for (std::string& o : planner::scale_overrides(s, 0.1)) sets.push_back(o);
    const scenarios::Scenario placed =
        scenarios::parse_scenario(kScenario, "plan-test.yaml", sets, false);
    CHECK(placed.cluster.nodes.size() == c.nodes);
    CHECK(placed.cluster.shards == c.shards);
    CHECK(placed.cluster.replicas == c.replicas);
    CHECK(placed.workload.rows == 1000);
    CHECK(placed.hardware.node_types.at("small").cpu_speed == Approx(0.1));
    CHECK(placed.hardware.node_types.at("small").disk.write_bytes_per_s == Approx(20e6));
    // Consecutive nodes alternate racks, so a shard's two replicas are in different racks.
    if (c.nodes >= 2) CHECK(placed.cluster.nodes[0].rack != placed.cluster.nodes[1].rack);
  }
}

TEST_CASE("the screen predicts more load and longer waits on a smaller cluster") {
  const scenarios::Scenario s = scenarios::parse_scenario(kScenario, "plan-test.yaml", {}, false);
  planner::WorkProfile profile;
  profile.rows = 10000;
  profile.data_bytes = 1e6;
  profile.copy_cpu_per_row = 1e-3;
  profile.split_cpu_per_row = 1e-5;
  profile.written_bytes_per_row = 300;
  profile.templates.push_back({"q", 0.1, 2.0, 1.0, 0.01, 0});
  planner::CandidateShape two{&s.hardware.node_types.at("small"), 2, 2, 1, 1.25e9, 0};
  planner::CandidateShape four{&s.hardware.node_types.at("small"), 4, 4, 1, 1.25e9, 0};
  const planner::Prediction p2 = planner::predict(profile, s, two, 1.0);
  const planner::Prediction p4 = planner::predict(profile, s, four, 1.0);
  CHECK(p2.cpu > p4.cpu);
  CHECK(p2.p99_s.front().second > p4.p99_s.front().second);
  // Growth adds load.
  CHECK(planner::predict(profile, s, two, 1.0, 2.0).cpu > p2.cpu);
}
