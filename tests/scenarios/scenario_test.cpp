#include "scenarios/scenario.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/errors.h"
#include "experiment/cluster_binding.h"
#include "scenarios/platform.h"
#include "sim/core/simulation.h"
#include "sim/cluster/settings.h"
#include "sim/cluster/sharding.h"
#include "sim/hw/network.h"
#include "sim/hw/node.h"
#include "tests/engine/test_util.h"

using shardlab::InputError;
using namespace shardlab::scenarios;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using shardlab::sim::Duration;

namespace {

const std::filesystem::path kShipped =
    std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "scenarios";

// The smallest valid scenario; tests append to it or replace parts of it.
const std::string kMinimal =
    "cluster:\n"                                            // 1
    "  nodes: [n0, n1, n2]\n"                               // 2
    "  shards: 3\n"                                         // 3
    "  sharding: {kind: hash, key: cityHash64(user_id)}\n"  // 4
    "workload:\n"                                           // 5
    "  rows: 1000\n";                                       // 6

Scenario parse(const std::string& yaml, const std::vector<std::string>& sets = {},
               bool smoke = false, const std::string& variant = "") {
  return parse_scenario(yaml, "s.yaml", sets, smoke, variant);
}

// The message of an InputError that parsing must throw.
std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {},
                     bool smoke = false, const std::string& variant = "") {
  try {
    parse(yaml, sets, smoke, variant);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("accepted:\n" << yaml);
  return {};
}

}  // namespace

TEST_CASE("scenario: every shipped scenario loads, with and without smoke",
          "[scenarios][scenario]") {
  for (const char* file : {"quickstart.yaml", "ecommerce-case-study.yaml",
                           "sharding-strategies.yaml", "replica-failover.yaml"}) {
    const std::string path = (kShipped / file).string();
    for (const bool smoke : {false, true}) {
      INFO(file << (smoke ? " --smoke" : ""));
      const std::vector<Scenario> variants = load_scenario_variants(path, {}, smoke);
      REQUIRE(!variants.empty());
      for (const Scenario& s : variants) {
        CHECK(!s.question.empty());
        CHECK(s.smoke == smoke);
        CHECK(!s.workload.queries.empty());
        // The expanded topology builds into a network holding every node and the coordinator.
        shardlab::sim::Simulation sim;
        const auto network = shardlab::experiment::build_network(sim, s.topology);
        for (const NodeConfig& node : s.cluster.nodes) CHECK(network->find_node(node.name));
        if (!s.cluster.coordinator_node.empty()) {
          CHECK(network->find_node(s.cluster.coordinator_node));
        }
        CHECK(s.cluster.placement.size() == s.cluster.shards);
      }
    }
  }
}

TEST_CASE("scenario: the case study at full scale and smoke", "[scenarios][scenario]") {
  const std::string path = (kShipped / "ecommerce-case-study.yaml").string();
  const Scenario full = load_scenario(path, {}, false);
  CHECK(full.name == "ecommerce-case-study");
  CHECK_THAT(full.question, StartsWith("The e-commerce case study"));
  CHECK(full.cluster.nodes.size() == 10);
  CHECK(full.hardware.node_types.at("ch16").cores == 16);
  CHECK(full.cluster.shards == 8);
  CHECK(full.cluster.replicas == 2);
  CHECK(full.cluster.sharding.key == "cityHash64(user_id)");
  CHECK(full.cluster.internal_replication);
  CHECK(full.cluster.coordinator_node == "zk");
  CHECK(full.table.schema.ttl != nullptr);
  CHECK(full.workload.rows == 1'000'000'000);
  CHECK(full.workload.peak_rows_per_s == Approx(1e5));
  CHECK(full.workload.generator.total_rows == 1'000'000'000);
  CHECK(full.workload.queries.front().name == "top_items_beijing_women");
  CHECK(full.workload.queries.front().target_latency_s == 10);
  CHECK(full.run.duration == Duration::seconds(86400));
  // The spine and a switch per rack; the coordinator hangs off the spine.
  CHECK(full.topology.switches == std::vector<std::string>{"tor-r1", "tor-r2", "spine"});
  CHECK(full.topology.hosts.back() == "zk");

  const Scenario smoke = load_scenario(path, {}, true);
  CHECK(smoke.smoke);
  CHECK(smoke.workload.rows == 200'000);
  CHECK(smoke.workload.peak_rows_per_s == Approx(20));
  CHECK(smoke.workload.queries.front().rate_per_s == Approx(0.005));
  CHECK(smoke.cluster.shards == 8);
}

TEST_CASE("scenario: defaults", "[scenarios][scenario]") {
  const Scenario s = parse(kMinimal);
  CHECK(s.name == "s");
  CHECK(s.question.empty());
  CHECK(s.hardware.node_types.size() == 1);
  CHECK(s.cluster.nodes[1].type == std::string(kDefaultNodeType));
  CHECK(s.cluster.nodes[1].rack == "r0");
  CHECK(s.cluster.replicas == 1);
  CHECK(s.cluster.placement == std::vector<std::vector<std::string>>{{"n0"}, {"n1"}, {"n2"}});
  CHECK(s.cluster.insert_mode == InsertMode::kAsync);
  CHECK_FALSE(s.cluster.internal_replication);
  CHECK(s.cluster.load_balancing == LoadBalancing::kRandom);
  CHECK(s.cluster.coordinator_node.empty());  // no replicas, no coordinator
  const DistributedSettings& d = s.cluster.settings;
  CHECK(d.directory_monitor_sleep_time == Duration::milliseconds(100));
  CHECK(d.connect_timeout_with_failover == Duration::milliseconds(50));
  CHECK(d.connections_with_failover_max_tries == 3);
  CHECK(d.replica_error_half_life == Duration::seconds(300));
  CHECK_FALSE(d.skip_unavailable_shards);
  CHECK(d.max_replica_delay_for_distributed_queries == Duration::seconds(300));
  CHECK(d.fallback_to_stale_replicas);
  CHECK(d.prefer_localhost_replica);
  CHECK_FALSE(d.distributed_group_by_no_merge);
  CHECK(d.insert_quorum_timeout == Duration::seconds(600));
  CHECK(d.parts_to_delay_insert == 150);
  CHECK(d.parts_to_throw_insert == 300);
  CHECK(s.table.ddl == shardlab::engine::kDefaultUserBehaviorDdl);
  CHECK(s.workload.generator.days == 1);
  CHECK(s.workload.batch_rows == 100'000);
  CHECK(s.workload.batch_interval == Duration::seconds(1));
  CHECK(s.workload.initiators == std::vector<std::string>{"n0", "n1", "n2"});
  CHECK(s.workload.peak_rows_per_s == Approx(1000.0 / 86400 * 8.64));
  CHECK(s.run.duration == Duration::seconds(86400));
  CHECK(s.run.warmup == Duration());
  CHECK(s.run.out_dir == "out/s");
  CHECK(s.run.outputs == std::vector<std::string>{"timeseries", "answers", "plots", "report"});
  // One rack: a ToR and no spine.
  CHECK(s.topology.from_racks);
  CHECK(s.topology.switches == std::vector<std::string>{"tor-r0"});
  CHECK(s.topology.links.size() == 3);

  // Replicas bring the coordinator host; round robin places replicas on distinct nodes.
  const Scenario replicated = parse(kMinimal, {"cluster.replicas=2"});
  CHECK(replicated.cluster.coordinator_node == "zk");
  CHECK(replicated.cluster.placement ==
        std::vector<std::vector<std::string>>{{"n0", "n1"}, {"n2", "n0"}, {"n1", "n2"}});
  CHECK(replicated.topology.hosts == std::vector<std::string>{"n0", "n1", "n2", "zk"});
  CHECK(shardlab::experiment::node_spec(replicated, replicated.cluster.nodes[2]).name == "n2");
}

TEST_CASE("scenario: --set overrides", "[scenarios][scenario][overrides]") {
  const std::string yaml = kMinimal +
                           "  queries:\n"
                           "    - {name: q1, sql: SELECT count() FROM user_behavior, "
                           "rate_per_s: 1}\n"
                           "    - {name: q2, sql: SELECT count() FROM user_behavior, "
                           "rate_per_s: 1}\n"
                           "smoke:\n"
                           "  workload.rows: 500\n"
                           "  run.seed: 3\n";
  const Scenario s =
      parse(yaml, {"cluster.insert_mode=sync", "workload.rows=1e6", "run.seed=7",
                   "workload.queries.0.rate_per_s=2", "workload.queries.q2.clients=3",
                   "cluster.coordinator.latency=2ms",
                   "cluster.sharding={kind: jump, key: intHash64(user_id)}"});
  CHECK(s.cluster.insert_mode == InsertMode::kSync);
  CHECK(s.workload.rows == 1'000'000);
  CHECK(s.run.seed == 7);
  CHECK(s.workload.queries[0].rate_per_s == 2);
  CHECK(s.workload.queries[1].clients == 3);
  CHECK(s.cluster.coordinator_latency == Duration::milliseconds(2));
  CHECK(s.cluster.sharding.kind == ShardingKind::kJump);
  CHECK(s.overrides.size() == 7);

  // Smoke first, then --set: the command line has the last word.
  const Scenario smoke = parse(yaml, {"run.seed=9"}, true);
  CHECK(smoke.workload.rows == 500);
  CHECK(smoke.run.seed == 9);
  CHECK(smoke.smoke_paths == std::vector<std::string>{"workload.rows", "run.seed"});
  // Without --smoke the section changes nothing.
  CHECK(parse(yaml).workload.rows == 1000);
}

TEST_CASE("scenario: --set mistakes", "[scenarios][scenario][overrides]") {
  CHECK(error_of(kMinimal, {"cluster.insert_mod=sync"}) ==
        "--set cluster.insert_mod=sync: unknown key 'insert_mod' under 'cluster' (expected one "
        "of: nodes, shards, replicas, placement, sharding, insert_mode, internal_replication, "
        "insert_quorum, load_balancing, coordinator, settings); did you mean 'insert_mode'?");
  CHECK(error_of(kMinimal, {"clustr.shards=2"}) ==
        "--set clustr.shards=2: unknown top-level key 'clustr' (expected one of: name, "
        "hardware, topology, cluster, table, workload, faults, random_faults, run, reshard, "
        "cache, plan, smoke, variants); did you mean 'cluster'?");
  CHECK(error_of(kMinimal, {"cluster.nodes.3.type=x"}) ==
        "--set cluster.nodes.3.type=x: index 3 is out of range: 'cluster.nodes' has 3 entries "
        "(indices 0 to 2)");
  CHECK_THAT(error_of(kMinimal, {"cluster.nodes.n9.rack=r1"}),
             StartsWith("--set cluster.nodes.n9.rack=r1: 'cluster.nodes' has no entry named "
                        "'n9' (names: n0, n1, n2"));
  CHECK(error_of(kMinimal, {"cluster.shards.x=1"}) ==
        "--set cluster.shards.x=1: 'cluster.shards' is a single value; it has no key 'x'");
  CHECK(error_of(kMinimal, {"cluster.shards"}) ==
        "--set cluster.shards: expected PATH=VALUE, such as cluster.insert_mode=sync");
  CHECK(error_of(kMinimal, {"cluster.shards="}) ==
        "--set cluster.shards=: the value is empty; expected PATH=VALUE, such as "
        "cluster.insert_mode=sync");
  CHECK_THAT(error_of(kMinimal, {"cluster.nodes=[a, b"}),
             StartsWith("--set cluster.nodes=[a, b: the value is not valid YAML: "));
  CHECK(error_of(kMinimal, {"smoke.run.seed=1"}) ==
        "--set smoke.run.seed=1: the smoke and variants sections cannot be overridden; edit the "
        "file instead");
  CHECK(error_of(kMinimal, {"faults.0.at=1h"}) ==
        "--set faults.0.at=1h: 'faults' has no entries to change; set the whole list instead, "
        "e.g. --set 'faults=[...]'");
  // A value that came from the command line is blamed on the command line.
  CHECK(error_of(kMinimal, {"cluster.shards=0"}) ==
        "--set cluster.shards=0: cluster.shards: expected a whole number from 1 to 1024, got 0");
  CHECK_THAT(error_of(kMinimal, {"cluster.sharding={kind: hash, kye: x}"}),
             StartsWith("--set cluster.sharding={kind: hash, kye: x}: unknown key 'kye' under "
                        "'cluster.sharding'"));
  CHECK(error_of(kMinimal, {"run.duration=5m"}) ==
        "--set run.duration=5m: run.duration: bad duration '5m': 'm' is ambiguous; write min for "
        "minutes or ms for milliseconds");
}

TEST_CASE("scenario: YAML syntax and structure", "[scenarios][scenario][errors]") {
  CHECK(error_of("cluster:\n  nodes: [n0, n1\n  shards: 3\n") ==
        "s.yaml:3:9: invalid YAML: end of sequence flow not found");
  CHECK(error_of("cluster:\n\tnodes: [n0]\n") ==
        "s.yaml:2:7: invalid YAML: illegal map value (the line holds a tab; YAML indents with "
        "spaces only)");
  CHECK_THAT(error_of(""), StartsWith("s.yaml: the scenario is empty; expected a mapping"));
  CHECK_THAT(error_of("- a\n- b\n"), StartsWith("s.yaml:1:1: expected a mapping with the keys"));
  CHECK(error_of(kMinimal + "clustre: {}\n") ==
        "s.yaml:7:1: unknown top-level key 'clustre' (expected one of: name, hardware, "
        "topology, cluster, table, workload, faults, random_faults, run, reshard, cache, plan, smoke, "
        "variants); did you mean 'cluster'?");
  CHECK_THAT(error_of(kMinimal + "  batch_row: 10\n"),
             StartsWith("s.yaml:7:3: unknown key 'batch_row' under 'workload' (expected one of: "
                        "rows, days, "));
  CHECK_THAT(error_of(kMinimal + "  batch_row: 10\n"), Contains("did you mean 'batch_rows'?"));
  CHECK(error_of(kMinimal + "  rows: 5\n") ==
        "s.yaml:7:3: duplicate key 'rows' under 'workload' (first at s.yaml:6:3)");
  CHECK(error_of(kMinimal + "cluster: {}\n") ==
        "s.yaml:7:1: duplicate key 'cluster' (first at s.yaml:1:1)");
  CHECK_THAT(error_of("workload: {rows: 10}\n"),
             StartsWith("s.yaml:1:1: missing top-level key 'cluster': expected the cluster"));
  CHECK(error_of(kMinimal + "cluster.settings: {}\n") ==
        "s.yaml:7:1: unknown top-level key 'cluster.settings' (expected one of: name, "
        "hardware, topology, cluster, table, workload, faults, random_faults, run, reshard, "
        "cache, plan, smoke, variants)");
  CHECK(error_of("cluster:\n  nodes: [n0]\n  shards:\nworkload: {rows: 1}\n") ==
        "s.yaml:3:3: cluster.shards: no value; expected the number of shards");
}

TEST_CASE("scenario: types, ranges and units", "[scenarios][scenario][errors]") {
  const auto with_cluster = [](const std::string& extra) {
    return "cluster:\n  nodes: [n0, n1, n2]\n  shards: 3\n  sharding: {kind: hash, key: "
           "cityHash64(user_id)}\n" +
           extra + "workload:\n  rows: 1000\n";
  };
  CHECK(error_of(with_cluster("  replicas: 0\n")) ==
        "s.yaml:5:13: cluster.replicas: expected a whole number from 1 to 16, got 0");
  CHECK(error_of(with_cluster("  replicas: two\n")) ==
        "s.yaml:5:13: cluster.replicas: expected a whole number from 1 to 16, got 'two'");
  CHECK(error_of(with_cluster("  replicas: 4\n")) ==
        "s.yaml:5:13: cluster.replicas: 4 replicas per shard need at least 4 nodes (the replicas "
        "of a shard are on distinct nodes), but cluster.nodes has 3");
  CHECK(error_of("cluster:\n  nodes: [n0]\n  shards: 0\nworkload: {rows: 1}\n") ==
        "s.yaml:3:11: cluster.shards: expected a whole number from 1 to 1024, got 0");
  CHECK(error_of(with_cluster("  internal_replication: maybe\n")) ==
        "s.yaml:5:25: cluster.internal_replication: expected true or false, got 'maybe'");
  CHECK(error_of(with_cluster("  insert_mode: asnyc\n")) ==
        "s.yaml:5:16: cluster.insert_mode: unknown insert mode 'asnyc' (expected one of: async, "
        "sync); did you mean 'async'?");
  CHECK(error_of(with_cluster("  nodes: n0\n")) ==
        "s.yaml:5:3: duplicate key 'nodes' under 'cluster' (first at s.yaml:2:3)");
  CHECK(error_of(with_cluster("  settings: {connect_timeout_with_failover_ms: 50}\n")) ==
        "s.yaml:5:14: unknown key 'connect_timeout_with_failover_ms' under 'cluster.settings' "
        "(expected one of: distributed_directory_monitor_sleep_time, "
        "connect_timeout_with_failover, connections_with_failover_max_tries, "
        "distributed_replica_error_half_life, skip_unavailable_shards, "
        "max_replica_delay_for_distributed_queries, "
        "fallback_to_stale_replicas_for_distributed_queries, prefer_localhost_replica, "
        "distributed_group_by_no_merge, insert_quorum_timeout, max_threads, max_memory_usage); write "
        "'connect_timeout_with_failover' with a unit in the value, e.g. "
        "connect_timeout_with_failover: 50ms");
  CHECK(error_of(with_cluster("  settings: {insert_quorum_timeout: 10G}\n")) ==
        "s.yaml:5:37: cluster.settings.insert_quorum_timeout: bad duration '10G': unknown unit "
        "'G'; expected a duration such as 50us, 5ms, 2s, 1.5min or 0.25 (a plain number is "
        "seconds; units: ns, us, ms, s, min, h)");
  CHECK(error_of(kMinimal + "run: {duration: 5m}\n") ==
        "s.yaml:7:17: run.duration: bad duration '5m': 'm' is ambiguous; write min for minutes "
        "or ms for milliseconds");
  CHECK(error_of(kMinimal + "run: {duration: 1h, warmup: 2h}\n") ==
        "s.yaml:7:29: run.warmup: the warm-up (2h) must end before the run does (run.duration "
        "is 1h)");
  CHECK(error_of(kMinimal + "hardware: {node_types: {big: {memory: 64Gb}}}\n") ==
        "s.yaml:7:39: hardware.node_types.big.memory: bad size '64Gb': sizes are in bytes: "
        "write 64GB");
  CHECK(error_of(kMinimal + "hardware: {node_types: {big: {disk: {read_bandwidth: 0}}}}\n") ==
        "s.yaml:7:54: hardware.node_types.big.disk.read_bandwidth: expected a bandwidth > 0, got "
        "0");
  CHECK(error_of(kMinimal + "topology: {racks: {host_link: {bandwidth: 10Gb/s}}}\n") ==
        "s.yaml:7:43: topology.racks.host_link.bandwidth: bad bandwidth '10Gb/s': 'Gb/s' is "
        "ambiguous (bits or bytes?); write 10Gbit/s for bits or 10GB/s for bytes per second");
  CHECK(error_of(kMinimal +
                 "  queries: [{name: q, sql: SELECT count() FROM user_behavior, rate_per_s: "
                 "-1}]\n") ==
        "s.yaml:7:75: workload.queries.0.rate_per_s: expected a number >= 0 and <= 1000000, "
        "got -1");
  CHECK(error_of("cluster:\n  nodes: [n0]\n  shards: 1\nworkload: {rows: 1000, "
                 "peak_rows_per_s: 100000}\n") ==
        "s.yaml:4:41: workload.peak_rows_per_s: a peak of 100000 rows/s is 8.64e+06 times the "
        "mean rate of 1000 rows over 1 day(s) (0.0115741 rows/s); expected a peak from the mean "
        "to 1000 times it");
  CHECK(error_of(kMinimal + "  start: 2024-13-01\n") ==
        "s.yaml:7:10: workload.start: expected a UTC time 'YYYY-MM-DD hh:mm:ss' or a date "
        "'YYYY-MM-DD', got '2024-13-01'");
  CHECK(error_of(kMinimal + "  rows: 1.5\n") ==
        "s.yaml:7:3: duplicate key 'rows' under 'workload' (first at s.yaml:6:3)");
  CHECK(error_of(kMinimal, {"workload.rows=1.5"}) ==
        "--set workload.rows=1.5: workload.rows: expected a whole number from 1 to "
        "1099511627776, got '1.5'");
}

TEST_CASE("scenario: names of nodes, types and hosts", "[scenarios][scenario][errors]") {
  CHECK(error_of("cluster:\n  nodes: [n0, n1, n0]\n  shards: 1\nworkload: {rows: 1}\n") ==
        "s.yaml:2:19: cluster.nodes.2: duplicate node 'n0' (first declared at s.yaml:2:11)");
  CHECK(error_of("hardware: {node_types: {big: {}, small: {}}}\n"
                 "cluster:\n  nodes: [{name: n0, type: bgi}]\n  shards: 1\n"
                 "workload: {rows: 1}\n") ==
        "s.yaml:3:28: cluster.nodes.0.type: unknown node type 'bgi' (expected one of: big, "
        "small); did you mean 'big'?");
  CHECK(error_of("hardware: {node_types: {big: {}, small: {}}}\n"
                 "cluster:\n  nodes: [{name: n0, type: big, machine: m}, "
                 "{name: n1, type: small, machine: m}]\n  shards: 1\nworkload: {rows: 1}\n") ==
        "s.yaml:3:79: cluster.nodes.1.machine: node 'n1' shares machine 'm' with 'n0', so it "
        "needs the same type and rack (type big, rack r0), got type small, rack r0");
  CHECK(error_of("hardware: {node_types: {big: {}, small: {}}}\n"
                 "cluster:\n  nodes: [n0]\n  shards: 1\nworkload: {rows: 1}\n") ==
        "s.yaml:3:11: cluster.nodes.0: node 'n0' has no type; with several node types each "
        "node needs one (types: big, small)");
  CHECK(error_of(kMinimal + "  placement: [[n0], [n1], [n7]]\n", {}) ==
        "s.yaml:7:3: unknown key 'placement' under 'workload' (expected one of: rows, days, "
        "history_days, start, peak_rows_per_s, peak_to_mean, batch_rows, batch_interval, initiators, seed, "
        "users, items, user_zipf_exponent, item_zipf_exponent, action_mix, female_ratio, "
        "utc_offset_hours, queries)");
  const std::string placed =
      "cluster:\n  nodes: [n0, n1, n2]\n  shards: 2\n  replicas: 2\n"
      "  sharding: {kind: hash, key: intHash64(user_id)}\n"
      "  placement: [[n0, n1], [n2, n0]]\n"
      "workload:\n"
      "  rows: 1\n";
  CHECK(error_of(placed, {"cluster.placement.1.1=n7"}) ==
        "--set cluster.placement.1.1=n7: cluster.placement.1.1: unknown node 'n7' (expected one "
        "of: n0, n1, n2)");
  CHECK(error_of(placed + "  initiators: [n0, n1, n3]\n") ==
        "s.yaml:9:24: workload.initiators.2: unknown cluster node 'n3' (expected one of: n0, n1, "
        "n2)");
  CHECK(error_of(placed, {"cluster.placement=[[n0, n0], [n1, n2]]"}) ==
        "--set cluster.placement=[[n0, n0], [n1, n2]]: cluster.placement.0.1: node 'n0' "
        "already holds a replica of this shard; the replicas of a shard must be on distinct "
        "nodes");
  CHECK(error_of(placed, {"cluster.placement=[[n0, n1]]"}) ==
        "--set cluster.placement=[[n0, n1]]: cluster.placement: expected 2 entries (one per "
        "shard: cluster.shards is 2), got 1");
  // An explicit topology must hold every node, and the coordinator when there are replicas.
  CHECK(error_of(placed + "topology: {hosts: [n0, n1], links: []}\n") ==
        "s.yaml:9:19: topology.hosts: cluster node 'n2' is not a host of the topology (hosts: "
        "n0, n1)");
  CHECK_THAT(error_of(placed + "topology: {hosts: [n0, n1, n2]}\n"),
             StartsWith("s.yaml:2:3: cluster: with replicas and an explicit topology, name the "
                        "host of the simulated ZooKeeper"));
  CHECK(error_of(placed + "topology: {hosts: [n0, n1, n2, zk]}\n",
                 {"cluster.coordinator.node=zoo"}) ==
        "--set cluster.coordinator.node=zoo: cluster.coordinator.node: unknown coordinator host "
        "'zoo' (expected one of: n0, n1, n2, zk)");
  CHECK(error_of(placed + "topology: {hosts: [n0, n1, n2], links: [{a: n0, b: n9, bandwidth: "
                          "1GB/s, latency: 1us}]}\n") ==
        "s.yaml:9:52: topology.links.0.b: unknown node 'n9' (expected one of: n0, n1, n2)");
  CHECK(error_of(placed + "topology: {hosts: [n0, n1, n2], racks: {}}\n") ==
        "s.yaml:9:40: topology.racks: give either the racks shorthand or hosts, switches and "
        "links, not both");
  // The racks shorthand reserves its switch names.
  CHECK(error_of("cluster:\n  nodes: [tor-r0]\n  shards: 1\nworkload: {rows: 1}\n") ==
        "s.yaml:2:11: cluster.nodes.0: the racks shorthand names a switch 'tor-r0' (switches: "
        "tor-r0); rename the node");
  CHECK(error_of("cluster:\n  nodes: [n0, n1]\n  shards: 1\n  coordinator: {node: z k}\n"
                 "workload: {rows: 1}\n") ==
        "s.yaml:4:23: cluster.coordinator.node: bad host name 'z k': expected letters, digits "
        "and _ . - : (not starting with a dot)");
}

TEST_CASE("scenario: sharding", "[scenarios][scenario][errors]") {
  const auto with_sharding = [](const std::string& sharding) {
    return "cluster:\n  nodes: [n0, n1, n2]\n  shards: 3\n  sharding: " + sharding +
           "\nworkload: {rows: 1000}\n";
  };
  CHECK_THAT(error_of(with_sharding("{kind: hash, key: cityHash64(user_idd)}")),
             StartsWith("s.yaml:4:42: cluster.sharding.key: SQL error at position 12 "));
  CHECK_THAT(error_of(with_sharding("{kind: hash, key: cityHash64(user_idd)}")),
             Contains("user_idd"));
  CHECK_THAT(error_of(with_sharding("{kind: hash, key: gender}")),
             StartsWith("s.yaml:4:31: cluster.sharding.key: hash sharding needs an unsigned "
                        "integer key"));
  CHECK(error_of(with_sharding("{kind: hash, key: intHash64(user_id), weights: [1, 2]}")) ==
        "s.yaml:4:60: cluster.sharding.weights: expected 3 weights (one per shard), got 2");
  CHECK(error_of(with_sharding("{kind: range, key: toYYYYMMDD(event_time), bounds: [20240502, "
                               "20240501]}")) ==
        "s.yaml:4:75: cluster.sharding.bounds.1: range boundaries must ascend: '20240501' "
        "follows a value not below it");
  CHECK(error_of(with_sharding("{kind: range, key: toYYYYMMDD(event_time), bounds: [1]}")) ==
        "s.yaml:4:64: cluster.sharding.bounds: range sharding over 3 shards needs 2 boundaries "
        "(shard i holds keys from boundary i-1 up to boundary i), got 1");
  CHECK(error_of(with_sharding("{kind: list, key: province, lists: [[北京], [上海], [北京]]}")) ==
        "s.yaml:4:62: cluster.sharding.lists.2.0: '北京' is already listed for shard 1 (at "
        "s.yaml:4:50)");
  CHECK(error_of(with_sharding("{kind: random, key: x}")) ==
        "s.yaml:4:33: cluster.sharding.key: random sharding takes no key: each row picks a "
        "shard by rand()");
  CHECK(error_of(with_sharding("{kind: range, key: toYYYYMMDD(event_time), weights: [1, 1, "
                               "1]}")) ==
        "s.yaml:4:65: cluster.sharding.weights: 'weights' applies to hash and random sharding, "
        "not to range");
  CHECK(error_of("cluster:\n  nodes: [n0, n1]\n  shards: 2\nworkload: {rows: 1}\n") ==
        "s.yaml:2:3: cluster: missing key 'sharding': with more than one shard, say how rows "
        "are spread, e.g. sharding: {kind: hash, key: cityHash64(user_id)}");
  CHECK(error_of(with_sharding("{kind: list, key: gender, lists: [[F], [], []]}")) ==
        "s.yaml:4:46: cluster.sharding.lists: the workload generates 1 value of gender in no "
        "list: M; list it or set default_shard");
  CHECK(parse(with_sharding("{kind: list, key: gender, lists: [[F], [M], []]}")).cluster.sharding
            .lists.size() == 3);
  const Scenario list = parse(with_sharding(
      "{kind: list, key: province, lists: [[北京], [上海], 天津], default_shard: 2}"));
  CHECK(list.cluster.sharding.lists[2] == std::vector<std::string>{"天津"});
  CHECK(list.cluster.sharding.default_shard == 1u);
}

TEST_CASE("scenario: list values the workload never generates are warnings",
          "[scenarios][scenario][warnings]") {
  const auto with_lists = [](const std::string& lists, const std::string& workload = "") {
    return "cluster:\n  nodes: [n0, n1, n2]\n  shards: 3\n  sharding: {kind: list, key: " +
           lists + "}\nworkload: {rows: 1000" + workload + "}\n";
  };
  // Every listed value is generated: no warning.
  CHECK(parse(with_lists("gender, lists: [[F], [M], []]")).warnings.empty());
  // A value the column never takes, with its place, path, shard and the generated values.
  const Scenario typo = parse(with_lists("gender, lists: [[F], [M], [X, f]]"));
  REQUIRE(typo.warnings.size() == 2);
  CHECK(typo.warnings[0] ==
        "s.yaml:4:58: cluster.sharding.lists.2.0: list value 'X' of shard 3 is never generated "
        "by the workload's column 'gender' (it generates: F, M)");
  CHECK_THAT(typo.warnings[1], StartsWith("s.yaml:4:61: cluster.sharding.lists.2.1: list value "
                                          "'f' of shard 3"));
  // A name of the column that this workload's distribution never draws, and why.
  const Scenario no_buy = parse(with_lists("action, lists: [[click], [fav, cart], [buy]]",
                                           ", action_mix: {click: 1, fav: 1, cart: 1, buy: 0}"));
  REQUIRE(no_buy.warnings.size() == 1);
  CHECK(no_buy.warnings[0] ==
        "s.yaml:4:70: cluster.sharding.lists.2.0: list value 'buy' of shard 3 is never "
        "generated by the workload's column 'action' (it generates: click, fav, cart); its "
        "weight in workload.action_mix is 0");
  // ... and such a value need not be listed without a default shard.
  CHECK(parse(with_lists("action, lists: [[click], [fav], [cart]]",
                         ", action_mix: {click: 1, fav: 1, cart: 1, buy: 0}"))
            .warnings.empty());
  const Scenario women = parse(with_lists("gender, lists: [[F], [M], []]", ", female_ratio: 1"));
  REQUIRE(women.warnings.size() == 1);
  CHECK_THAT(women.warnings[0], Contains("list value 'M' of shard 2") &&
                                    Contains("(it generates: F); workload.female_ratio is 1"));
  CHECK(parse(with_lists("province, lists: [[北京], [上海], [火星]], default_shard: 1"))
            .warnings.size() == 1);
  // A key whose values are not an enumerated set is not checked.
  CHECK(parse(with_lists("user_id, lists: [['1'], ['2'], [x]], default_shard: 1")).warnings.empty());
  CHECK(parse(with_lists("toYYYYMMDD(event_time), lists: [[1], [2], [x]], default_shard: 1"))
            .warnings.empty());
  // The reshard's lists are checked too.
  const Scenario reshard = parse(
      with_lists("gender, lists: [[F], [M], []]") +
      "reshard: {at: 1h, add: [[n0]], sharding: {kind: list, key: gender, lists: [[F], [M], "
      "[], [Q]]}}\n");
  REQUIRE(reshard.warnings.size() == 1);
  CHECK_THAT(reshard.warnings[0], Contains("reshard.sharding.lists.3.0: list value 'Q' of shard 4"));
}

TEST_CASE("scenario: the plain values bind to the simulator's", "[scenarios][scenario][binding]") {
  namespace sim = shardlab::sim;
  namespace experiment = shardlab::experiment;
  // A node type without keys has the simulator's defaults.
  const Scenario plain = parse(kMinimal);
  const sim::NodeSpec bound = experiment::node_spec(plain, plain.cluster.nodes[1]);
  const sim::NodeSpec defaults;
  CHECK(bound.name == "n1");
  CHECK(bound.cores == defaults.cores);
  CHECK(bound.cpu_speed == defaults.cpu_speed);
  CHECK(bound.memory_bytes == defaults.memory_bytes);
  CHECK(bound.memory_bytes_per_s == defaults.memory_bytes_per_s);
  CHECK(bound.page_cache_block_bytes == defaults.page_cache_block_bytes);
  CHECK(bound.disk.read_bytes_per_s == defaults.disk.read_bytes_per_s);
  CHECK(bound.disk.write_bytes_per_s == defaults.disk.write_bytes_per_s);
  CHECK(bound.disk.latency == defaults.disk.latency);
  CHECK(bound.disk.iops == defaults.disk.iops);

  // Given values carry over.
  const Scenario s = parse(
      "hardware: {node_types: {big: {cores: 32, disk: {latency: 1ms, iops: 0}}}}\n"
      "cluster:\n  nodes: [n0, n1]\n  shards: 2\n"
      "  sharding: {kind: list, key: gender, lists: [[F], [M]], default_shard: 2}\n"
      "  insert_mode: sync\n  load_balancing: first_or_random\n"
      "topology: {sharing: rtt}\nworkload: {rows: 10}\n");
  const sim::NodeSpec big = experiment::node_spec(s, s.cluster.nodes[0]);
  CHECK(big.cores == 32);
  CHECK(big.disk.latency == Duration::milliseconds(1));
  CHECK(big.disk.iops == 0);
  // The sharding spec and the Distributed engine's choices are the simulator's own types.
  const sim::cluster::ClusterSpec cluster = experiment::cluster_spec(s, 1, "/nonexistent");
  CHECK(cluster.sharding.kind == sim::cluster::ShardingKind::kList);
  CHECK(cluster.sharding.lists == s.cluster.sharding.lists);
  CHECK(cluster.sharding.default_shard == 1u);
  CHECK(cluster.settings.insert_mode == sim::cluster::InsertMode::kSync);
  CHECK(cluster.settings.load_balancing == sim::cluster::LoadBalancing::kFirstOrRandom);
  sim::Simulation simulation;
  CHECK(experiment::build_network(simulation, s.topology)->sharing() == sim::Sharing::kRtt);
}

TEST_CASE("scenario: SQL in templates and the DDL", "[scenarios][scenario][errors]") {
  // A literal block: the error points at the exact character in the file.
  const std::string bad_column = kMinimal +
                                 "  queries:\n"                    // 7
                                 "    - name: q\n"                 // 8
                                 "      rate_per_s: 1\n"           // 9
                                 "      sql: |\n"                  // 10
                                 "        SELECT count()\n"        // 11
                                 "        FROM user_behavior\n"    // 12
                                 "        WHERE provnce = 'x'\n";  // 13
  const std::string message = error_of(bad_column);
  CHECK_THAT(message, StartsWith("s.yaml:13:15: workload.queries.0.sql: SQL error at position "
                                 "41 (line 3, column 7): "));
  CHECK_THAT(message, Contains("provnce"));
  // A line indented deeper than the block keeps its extra indentation.
  CHECK_THAT(error_of(kMinimal + "  queries:\n"                                 // 7
                                 "    - name: q\n"                              // 8
                                 "      rate_per_s: 1\n"                        // 9
                                 "      sql: |\n"                               // 10
                                 "        SELECT count() FROM user_behavior\n"  // 11
                                 "        WHERE action = 'click'\n"             // 12
                                 "          AND gendr = 'F'\n"),                // 13
             StartsWith("s.yaml:13:15: workload.queries.0.sql: SQL error at position 64 (line 3, "
                        "column 7)"));
  // A one-line plain scalar: the column is counted from the scalar's start.
  CHECK_THAT(error_of(kMinimal + "  queries: [{name: q, rate_per_s: 1, sql: SELECT sum(item) "
                                 "FROM user_behavior}]\n"),
             StartsWith("s.yaml:7:54: workload.queries.0.sql: SQL error at position 12"));
  CHECK_THAT(error_of(kMinimal + "  queries: [{name: q, rate_per_s: 1, sql: \"SELEC 1\"}]\n"),
             StartsWith("s.yaml:7:44: workload.queries.0.sql: SQL error at position 1"));
  CHECK(error_of(kMinimal + "  queries: [{name: q, sql: SELECT 1 FROM user_behavior}]\n") ==
        "s.yaml:7:13: missing key 'rate_per_s' under 'workload.queries.0': expected queries per "
        "second (0: closed-loop clients)");
  CHECK(error_of(kMinimal +
                 "  queries:\n"
                 "    - {name: q, sql: SELECT count() FROM user_behavior, rate_per_s: 1}\n"
                 "    - {name: q, sql: SELECT count() FROM user_behavior, rate_per_s: 1}\n") ==
        "s.yaml:9:14: workload.queries.1.name: duplicate query name 'q' (first at s.yaml:8:14)");
  CHECK(error_of(kMinimal + "  queries: [{name: a/b, sql: SELECT 1, rate_per_s: 1}]\n") ==
        "s.yaml:7:20: workload.queries.0.name: bad query name 'a/b': expected letters, digits "
        "and _ . - (not starting with a dot)");
  // The DDL: syntax errors point into the block; columns the generator cannot fill are refused.
  const std::string ddl = kMinimal +
                          "table:\n"                                              // 7
                          "  ddl: |\n"                                            // 8
                          "    CREATE TABLE t (user_id UInt64, price Float64)\n"  // 9
                          "    ENGINE = MergeTree() ORDER BY user_id\n";          // 10
  CHECK_THAT(error_of(ddl),
             StartsWith("s.yaml:8:8: table.ddl: column 'price' of table t is not a generated "
                        "column"));
  const std::string bad_ddl =
      kMinimal +
      "table:\n"                                                    // 7
      "  ddl: |\n"                                                  // 8
      "    CREATE TABLE t (user_id UInt64, event_time DateTime)\n"  // 9
      "    ENGINE = MergeTree() PARTITION BY toYYYYMMDD(evnt_time) ORDER BY "
      "user_id\n";  // 10
  CHECK_THAT(error_of(bad_ddl), StartsWith("s.yaml:10:50: table.ddl: SQL error at position 99 "
                                           "(line 2, column 46): "));
}

TEST_CASE("scenario: faults", "[scenarios][scenario][errors]") {
  const Scenario s = parse(kMinimal +
                           "faults:\n"
                           "  - {at: 1h, kind: node_crash, targets: [n1], duration: 10min}\n"
                           "  - {at: 2h, kind: slow_disk, targets: n2, factor: 0.25}\n"
                           "  - {at: 3h, kind: link_down, targets: [n0, tor-r0], duration: "
                           "forever}\n"
                           "  - {at: 4h, kind: partition, targets: [n0]}\n"
                           "random_faults:\n"
                           "  - {kind: process_restart, targets: all, mtbf: 12h, mttr: 1min}\n");
  REQUIRE(s.faults.size() == 4);
  CHECK(s.faults[0].duration == Duration::seconds(600));
  CHECK(s.faults[1].targets == std::vector<std::string>{"n2"});
  CHECK(s.faults[1].factor == 0.25);
  CHECK(s.faults[1].duration == Duration::max());
  CHECK(s.faults[2].duration == Duration::max());
  REQUIRE(s.random_faults.size() == 1);
  CHECK(s.random_faults[0].targets == std::vector<std::string>{"n0", "n1", "n2"});
  CHECK(s.random_faults[0].mtbf == Duration::seconds(12 * 3600));

  CHECK(error_of(kMinimal + "faults: [{at: 1h, kind: node_crash, targets: [n4]}]\n") ==
        "s.yaml:7:47: faults.0.targets.0: unknown cluster node 'n4' (expected one of: n0, n1, "
        "n2)");
  CHECK(error_of(kMinimal + "faults: [{at: 25h, kind: node_crash, targets: [n1]}]\n") ==
        "s.yaml:7:15: faults.0.at: the fault at 25h is not before the end of the run "
        "(run.duration is 24h)");
  CHECK(error_of(kMinimal + "faults: [{at: 1h, kind: node_crsh, targets: [n1]}]\n") ==
        "s.yaml:7:25: faults.0.kind: unknown fault kind 'node_crsh' (expected one of: "
        "node_crash, process_restart, link_down, partition, slow_disk, slow_node, broken_part); did "
        "you mean "
        "'node_crash'?");
  CHECK(error_of(kMinimal + "faults: [{at: 1h, kind: slow_node, targets: [n1]}]\n") ==
        "s.yaml:7:10: missing key 'factor' under 'faults.0': expected the CPU speed's multiplier "
        "in (0, 1]");
  CHECK(error_of(kMinimal + "faults: [{at: 1h, kind: node_crash, targets: [n1], factor: 2}]\n") ==
        "s.yaml:7:60: faults.0.factor: 'factor' applies to slow_disk and slow_node faults, not "
        "to node_crash");
  CHECK(error_of(kMinimal + "faults: [{at: 1h, kind: link_down, targets: [n0, n1]}]\n") ==
        "s.yaml:7:45: faults.0.targets: no link joins 'n0' and 'n1'");
  CHECK(error_of(kMinimal + "faults: [{at: 1h, kind: partition, targets: [n0, n1, n2]}]\n") ==
        "s.yaml:7:45: faults.0.targets: a partition cuts the listed hosts off from the others, "
        "but every host is listed");
  CHECK(error_of(kMinimal + "random_faults: [{kind: partition, targets: all, mtbf: 1h, mttr: "
                            "1min}]\n") ==
        "s.yaml:7:24: random_faults.0.kind: unknown random fault kind 'partition' (expected one "
        "of: node_crash, process_restart, slow_disk, slow_node)");
  CHECK(error_of(kMinimal + "random_faults: [{kind: node_crash, targets: all, mtbf: 0, mttr: "
                            "1min}]\n") ==
        "s.yaml:7:56: random_faults.0.mtbf: expected a duration > 0, got 0");
}

TEST_CASE("scenario: smoke and variants", "[scenarios][scenario]") {
  const std::string yaml = kMinimal +
                           "variants:\n"                              // 7
                           "  - name: sync\n"                         // 8
                           "    set: {cluster.insert_mode: sync}\n"   // 9
                           "  - name: jump\n"                         // 10
                           "    description: jump consistent hash\n"  // 11
                           "    set:\n"                               // 12
                           "      cluster.sharding: {kind: jump, key: intHash64(user_id)}\n"
                           "smoke:\n"                // 14
                           "  workload.rows: 10\n";  // 15
  const std::vector<Scenario> all = parse_scenario_variants(yaml, "s.yaml", {}, false);
  REQUIRE(all.size() == 2);
  CHECK(all[0].variant == "sync");
  CHECK(all[0].cluster.insert_mode == InsertMode::kSync);
  CHECK(all[1].variant == "jump");
  CHECK(all[1].cluster.sharding.kind == ShardingKind::kJump);
  CHECK(all[1].variants[1].description == "jump consistent hash");
  CHECK(all[1].variants[1].paths == std::vector<std::string>{"cluster.sharding"});
  // Order: variant, smoke, --set.
  const Scenario s = parse(yaml, {"cluster.insert_mode=async"}, true, "sync");
  CHECK(s.cluster.insert_mode == InsertMode::kAsync);
  CHECK(s.workload.rows == 10);
  CHECK(parse(yaml).variant.empty());

  CHECK(error_of(yaml, {}, false, "snyc") ==
        "s.yaml: there is no variant 'snyc' (variants: sync, jump); did you mean 'sync'?");
  CHECK(error_of(kMinimal, {}, true) == "s.yaml: --smoke: the scenario has no smoke section");
  CHECK(error_of(kMinimal + "smoke:\n  workload.rowz: 10\n", {}, true) ==
        "s.yaml:8:3: smoke: unknown key 'rowz' under 'workload' (expected one of: rows, days, "
        "history_days, start, peak_rows_per_s, peak_to_mean, batch_rows, batch_interval, initiators, seed, "
        "users, items, user_zipf_exponent, item_zipf_exponent, action_mix, female_ratio, "
        "utc_offset_hours, queries); did you mean 'rows'?");
  // A smoke value is checked where it is written.
  CHECK(error_of(kMinimal + "smoke:\n  workload.rows: -5\n", {}, true) ==
        "s.yaml:8:18: workload.rows: expected a whole number from 1 to 1099511627776, got '-5'");
  CHECK(error_of(kMinimal + "smoke:\n  workload.rows:\n", {}, false) ==
        "s.yaml:8:3: smoke: 'workload.rows' has no value");
  CHECK(error_of(kMinimal + "variants:\n  - {name: a, set: {cluster.replica: 2}}\n", {}, false,
                 "a") ==
        "s.yaml:8:21: variant 'a': unknown key 'replica' under 'cluster' (expected one of: "
        "nodes, shards, replicas, placement, sharding, insert_mode, internal_replication, "
        "insert_quorum, load_balancing, coordinator, settings); did you mean 'replicas'?");
  CHECK(error_of(kMinimal + "variants:\n  - {name: a, set: {run.seed: 1}}\n"
                            "  - {name: a, set: {run.seed: 2}}\n") ==
        "s.yaml:9:12: variants.1.name: duplicate variant 'a' (first at s.yaml:8:12)");
  CHECK(error_of(kMinimal + "variants:\n  - {name: a, set: {smoke.x: 1}}\n") ==
        "s.yaml:8:21: variant 'a': the smoke and variants sections cannot be overridden; edit "
        "the file instead");
}

TEST_CASE("scenario: the question is the leading comment block", "[scenarios][scenario]") {
  const Scenario s = parse("\n# First line.\n#\n#  Indented.\n\n# Not part of it.\n" + kMinimal);
  CHECK(s.question == "First line.\n\n Indented.");
}

TEST_CASE("scenario: format helpers read back", "[scenarios][scenario]") {
  CHECK(format_duration(Duration::milliseconds(250)) == "250ms");
  CHECK(format_duration(Duration::seconds(90)) == "90s");
  CHECK(format_duration(Duration::seconds(5400)) == "90min");
  CHECK(format_duration(Duration::seconds(86400)) == "24h");
  CHECK(format_duration(Duration::nanoseconds(1500)) == "1.5us");
  CHECK(format_duration(Duration::max()) == "forever");
  CHECK(format_bytes(64.0 * (1 << 30)) == "64GiB");
  CHECK(format_bytes(1.5e6) == "1.5MB");
  CHECK(format_bandwidth(1.25e9) == "10Gbit/s");
}

TEST_CASE("scenario: an unreadable file", "[scenarios][scenario][errors]") {
  CHECK_THROWS_WITH(load_scenario("/nonexistent/x.yaml", {}, false),
                    "cannot read the scenario file '/nonexistent/x.yaml'");
}

TEST_CASE("scenario: think time", "[scenarios][scenario][errors]") {
  const std::string q = "  queries: [{name: q, sql: 'SELECT count() FROM user_behavior', ";
  const Scenario closed = parse(kMinimal + q + "rate_per_s: 0, think_time: 5s}]\n");
  CHECK(closed.workload.queries.at(0).think_time == Duration::seconds(5));
  CHECK_THAT(error_of(kMinimal + q + "rate_per_s: 1, think_time: 5s}]\n"),
             StartsWith("s.yaml:7:92: workload.queries.0.think_time: think_time applies to "
                        "closed-loop clients (rate_per_s: 0)"));
}

TEST_CASE("scenario: reshard", "[scenarios][scenario][errors]") {
  const auto with_reshard = [](const std::string& sharding, const std::string& reshard) {
    return "cluster:\n  nodes: [n0, n1, n2, n3]\n  shards: 2\n  placement: [[n0], [n1]]\n"
           "  sharding: " +
           sharding + "\nworkload: {rows: 1000}\nrun: {duration: 2h}\nreshard: " + reshard + "\n";
  };
  const std::string hash = "{kind: hash, key: cityHash64(user_id)}";
  const Scenario ok = parse(with_reshard(hash, "{at: 1h, add: [[n2], [n3]]}"));
  REQUIRE(ok.reshard.has_value());
  CHECK(ok.reshard->at == Duration::seconds(3600));
  CHECK(ok.reshard->add == std::vector<std::vector<std::string>>{{"n2"}, {"n3"}});
  CHECK(ok.reshard->sharding.shards == 4);
  CHECK(ok.reshard->sharding.key == "cityHash64(user_id)");
  CHECK(ok.reshard->compare_key == "cityHash64(user_id)");
  CHECK_FALSE(parse(kMinimal).reshard.has_value());

  CHECK(error_of(with_reshard(hash, "{at: 3h, add: [[n2]]}")) ==
        "s.yaml:8:15: reshard.at: expected a time before the run ends (run.duration is 2h), got 3h");
  CHECK_THAT(error_of(with_reshard(hash, "{add: [[n2]]}")),
             StartsWith("s.yaml:8:10: missing key 'at' under 'reshard'"));
  CHECK_THAT(error_of(with_reshard(hash, "{at: 1h, add: [[n9]]}")),
             StartsWith("s.yaml:8:26: reshard.add.0.0: unknown node 'n9'"));
  CHECK(error_of(with_reshard(hash, "{at: 1h, add: [[n2, n3]]}")) ==
        "s.yaml:8:25: reshard.add.0: expected 1 node names (one per replica: cluster.replicas "
        "is 1), got 2");
  CHECK(error_of(with_reshard(hash, "{at: 1h, add: []}")) ==
        "s.yaml:8:24: reshard.add: expected at least one new shard");
  CHECK_THAT(error_of(with_reshard("{kind: range, key: toYYYYMMDD(event_time), bounds: [20240502]}",
                                   "{at: 1h, add: [[n2]]}")),
             StartsWith("s.yaml:8:10: reshard: missing key 'sharding': with range sharding, say "
                        "which ranges the 3 shards hold"));
  CHECK(error_of(with_reshard(hash, "{at: 1h, add: [[n2]], sharding: {kind: range, key: "
                                    "toYYYYMMDD(event_time), bounds: [1]}}")) ==
        "s.yaml:8:93: reshard.sharding.bounds: range sharding over 3 shards needs 2 boundaries "
        "(shard i holds keys from boundary i-1 up to boundary i), got 1");
  CHECK_THAT(error_of(with_reshard(hash, "{at: 1h, add: [[n2]], compare_key: province}")),
             StartsWith("s.yaml:8:45: reshard.compare_key: hash sharding needs an unsigned integer "
                        "key"));
  CHECK_THAT(error_of(with_reshard(hash, "{at: 1h, add: [[n2]], sharding: {kind: hash}}")),
             StartsWith("s.yaml:8:42: missing key 'key' under 'reshard.sharding'"));
}

TEST_CASE("scenario: the cache tier", "[scenarios][scenario][errors][cache]") {
  const std::string base = kMinimal +
                           "  queries:\n"                                                  // 7
                           "    - {name: hist, rate_per_s: 1, sql: 'SELECT count() FROM "  // 8
                           "user_behavior WHERE user_id = {user}'}\n"
                           "cache:\n"                                                      // 9
                           "  nodes: [mc1, mc2]\n"                                         // 10
                           "  templates: [hist]\n";                                        // 11
  const Scenario s = parse(base + "  strategy: change\n  ttl: 0s\n"
                                  "  change: {delivery: middleware, lag: 2s}\n"
                                  "  crashes: [{at: 1h, node: mc2, duration: 10min}]\n");
  REQUIRE(s.cache);
  CHECK(s.cache->nodes == std::vector<std::string>{"mc1", "mc2"});
  CHECK(s.cache->change_delivery == "middleware");
  CHECK(s.cache->log_host == "mc1");
  CHECK(s.cache->log_lag == Duration::seconds(2));
  CHECK(s.cache->ttl == Duration());
  REQUIRE(s.cache->crashes.size() == 1);
  // The racks shorthand puts the cache nodes on the network as hosts of their own.
  CHECK(std::count(s.topology.hosts.begin(), s.topology.hosts.end(), "mc2") == 1);
  CHECK_FALSE(parse(base + "  enabled: false\n").cache);

  CHECK(error_of(base + "  memory: 8MiB\n") ==
        "s.yaml:12:11: cache.memory: the memory limit is below one 1 MiB page per slab class "
        "(39 classes with these settings): expected at least 39MiB");
  CHECK_THAT(error_of(base + "  growth_factor: 1\n"),
             StartsWith("s.yaml:12:18: cache.growth_factor: expected a number > 1 and <= 100, got 1"));
  CHECK_THAT(error_of(base + "  ttl: -5s\n"),
             StartsWith("s.yaml:12:8: cache.ttl: bad duration '-5s'"));
  const std::string head = base.substr(0, base.find("  nodes: [mc1, mc2]"));
  CHECK_THAT(error_of(head + "  nodes: [mc1]\n  templates: [hist, histo]\n"),
             StartsWith("s.yaml:11:21: cache.templates.1: unknown query template 'histo'"));
  CHECK_THAT(error_of(head + "  nodes: [n0]\n  templates: [hist]\n"),
             Contains("'n0' is a cluster node"));
  CHECK_THAT(error_of(base + "  strategy: access\n"),
             Contains("the access strategy warms the top keys every refresh_interval"));
  CHECK_THAT(error_of(base + "  change: {delivery: client}\n"),
             Contains("cache.change: applies to strategy: change"));
  CHECK_THAT(error_of(base + "  crashes: [{at: 1h, node: mc9}]\n"),
             Contains("unknown cache node 'mc9'"));
  // Placement by the data behind a key: ranges of user ids, or lists of provinces that must
  // cover every province the generator draws.
  const Scenario by_user = parse(base + "  distribution: partition\n"
                                        "  partition: {by: user, bounds: [1000]}\n");
  CHECK(by_user.cache->partition_by == "user");
  CHECK(by_user.cache->partition_bounds == std::vector<uint64_t>{1000});
  CHECK(parse(base + "  distribution: round_robin\n").cache->distribution == "round_robin");
  CHECK_THAT(error_of(base + "  distribution: partition\n"
                             "  partition: {by: province, lists: [[北京, 上海], [广东]]}\n"),
             StartsWith("s.yaml:13:36: cache.partition.lists: the lists miss 31 province(s): 天津, "));
  CHECK_THAT(error_of(base + "  distribution: partition\n"
                             "  partition: {by: user, bounds: [5, 1000]}\n"),
             Contains("2 cache nodes need 1 bounds"));
  CHECK_THAT(error_of(base + "  partition: {by: user, bounds: [5]}\n"),
             Contains("cache.partition: applies to distribution: partition"));
  CHECK_THAT(error_of(base + "  distribution: partition\n"
                             "  partition: {by: province, lists: [[北京], [火星]]}\n"),
             Contains("'火星' is not a province of the generated data"));
  // A template parameter whose column the table lacks.
  const std::string no_user_column =
      "table:\n  ddl: |\n    CREATE TABLE t (item_id UInt64, event_time DateTime) "
      "ENGINE = MergeTree() ORDER BY event_time\n"
      "cluster:\n  nodes: [n0]\n  shards: 1\n  sharding: {kind: hash, key: item_id}\n"
      "workload:\n  rows: 10\n  queries:\n"
      "    - {name: q, rate_per_s: 1, sql: 'SELECT count() FROM t WHERE item_id = {user}'}\n";
  CHECK_THAT(error_of(no_user_column),
             Contains("{user} draws values of the column user_id, which the table does not have"));
}

TEST_CASE("scenario: a calibration's measured coordinator latency, unless the scenario sets one",
          "[scenarios][scenario]") {
  shardlab::testing::TempDir dir;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() / name) << text;
    return (dir.path() / name).string();
  };
  const std::string measured =
      write("measured.json", R"({"coefficients": {}, "cluster": {"coordinator_latency_s": 0.0007}})");
  const std::string plain = write("plain.json", R"({"coefficients": {}})");
  const auto with = [&](const std::string& file, const std::string& cluster_extra = "") {
    std::string yaml = "hardware: {calibration: " + file + "}\n" + kMinimal;
    yaml.insert(yaml.find("workload:"), cluster_extra);
    return yaml;
  };
  CHECK(parse(with(measured)).cluster.coordinator_latency == Duration::microseconds(700));
  CHECK(parse(with(plain)).cluster.coordinator_latency == Duration::microseconds(300));
  CHECK(parse(with(measured, "  coordinator: {latency: 1ms}\n")).cluster.coordinator_latency ==
        Duration::milliseconds(1));
  CHECK(parse(with(measured), {"cluster.coordinator.latency=2ms"}).cluster.coordinator_latency ==
        Duration::milliseconds(2));
  const std::string broken = write("broken.json", R"({"coefficients": )");
  CHECK_THAT(error_of(with(broken)),
             StartsWith("s.yaml:1:25: hardware.calibration: '" + broken +
                        "' is not a calibration file: expected a JSON object"));
  const std::string negative =
      write("negative.json", R"({"cluster": {"coordinator_latency_s": -1}})");
  CHECK_THAT(error_of(with(negative)),
             Contains("cluster.coordinator_latency_s: expected seconds >= 0"));
}
