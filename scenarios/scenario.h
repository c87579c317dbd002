// A scenario: everything one simulated experiment needs, read from a YAML file, validated as a
// whole, and resolved into plain values in the simulator's units (integer nanoseconds, bytes,
// bytes per second). Nothing here is a simulator type: experiment/cluster_binding.h turns these
// values into the simulator's. scenarios/README.md documents every key with its unit, default
// and range; this header says what the values mean to whoever runs them.
//
// Time and inserts. Simulated time 0 is workload.start, a UTC instant. The data set covers
// workload.days days from there, and row i is due when the simulated clock reaches its
// event_time - start (workloads::RowGenerator::first_row_at gives the rows due by any time). So
// inserts follow the generator's diurnal curve, scaled so that its mean is
// rows / (days * 86400 s) and its peak workload.peak_rows_per_s. The client collects due rows
// into a batch and sends it once it holds batch_rows rows, or batch_interval after the batch's
// first row became due, whichever comes first; batches go to the initiators in turn. run.duration
// defaults to the data set's length; a shorter run inserts only the rows due before it ends, a
// longer one goes on querying the final data.
//
// Queries. Each template has `clients` clients, each connected to an initiator (in turn). With
// rate_per_s > 0 arrivals are Poisson at that total rate, spread evenly over the clients; with
// rate_per_s = 0 each client is a closed loop, sending its next query when an answer arrives.
// A client keeps at most `concurrency` queries in flight; arrivals beyond that wait in the
// client and their latency includes the wait, so overload shows as latency, not as lost load.
//
// Loading. The file is parsed, then overrides are applied to the YAML tree in this order: the
// chosen variant's `set`, the `smoke` section (when smoke is requested), the --set arguments
// (overrides.h). Then the tree is validated as a whole; every mistake throws InputError whose
// message starts with file:line:col (or "--set PATH=VALUE" for a value from the command line),
// names the key by its dotted path and says what was expected. Nothing is returned half-read.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/platform.h"
#include "cluster_config/distributed.h"
#include "scenarios/sharding.h"
#include "scenarios/units.h"
#include "shardlab/engine/table_schema.h"
#include "workloads/generator_config.h"

namespace shardlab::scenarios {

// A node type's hardware. The defaults are the simulator's (sim::NodeSpec, sim::DiskSpec); a
// test checks that they agree.
struct DiskConfig {
  double read_bytes_per_s = 500e6;
  double write_bytes_per_s = 400e6;
  Duration latency = Duration::microseconds(100);
  double iops = 50'000;  // 0: no bound
};

struct NodeType {
  int cores = 8;
  double cpu_speed = 1.0;
  uint64_t memory_bytes = uint64_t{32} << 30;
  double memory_bytes_per_s = 10e9;  // copy bandwidth for page-cache hits
  DiskConfig disk;
  uint64_t page_cache_block_bytes = 64 * 1024;
};

struct HardwareConfig {
  // By type name. A file without node types gets one type, kDefaultNodeType, with the defaults.
  std::map<std::string, NodeType> node_types;
  // A cost-model calibration file (from `shardlab calibrate`), checked to be readable; empty:
  // the shipped defaults. The scenario names it relative to its own directory; this path is
  // resolved, so it is absolute or relative to the current directory.
  std::string calibration;
  // The coordinator's latency per operation the calibration measured (`calibrate --live`:
  // cluster.coordinator_latency_s in the file); cluster.coordinator.latency, when the scenario
  // sets it, wins.
  std::optional<Duration> calibrated_coordinator_latency;
};

inline constexpr std::string_view kDefaultNodeType = "default";

// The network after the racks shorthand is expanded (with racks, the cluster nodes are the
// first hosts, in declaration order). Passes validate_platform().
struct TopologyConfig : Platform {
  bool from_racks = false;
};

// Names the racks shorthand gives its switches: "tor-<rack>" per rack and one spine.
inline constexpr std::string_view kTorPrefix = "tor-";
inline constexpr std::string_view kSpineSwitch = "spine";
// The host the racks shorthand adds for the coordinator when none is named.
inline constexpr std::string_view kDefaultCoordinator = "zk";

struct NodeConfig {
  std::string name;
  std::string type;
  std::string rack;  // "r0" unless given
  // Nodes naming the same machine are servers sharing one host's cores, memory, disk and page
  // cache; empty: a machine of its own.
  std::string machine;
};

// The Distributed engine's choices, shared with the simulator (cluster_config/distributed.h).
using cluster_config::insert_mode_name;
using cluster_config::InsertMode;
using cluster_config::load_balancing_name;
using cluster_config::LoadBalancing;
using cluster_config::parse_load_balancing;

// The Distributed engine's settings, with ClickHouse 18.16's defaults (REFERENCE.md).
struct DistributedSettings {
  // distributed_directory_monitor_sleep_time_ms: how often async senders look for queued blocks.
  Duration directory_monitor_sleep_time = Duration::milliseconds(100);
  // connect_timeout_with_failover_ms: 50 ms in 18.16 (1000 ms in current releases).
  Duration connect_timeout_with_failover = Duration::milliseconds(50);
  int connections_with_failover_max_tries = 3;
  // distributed_replica_error_half_life: replica error counters halve this often. 18.16 has no
  // such setting and halves every 5 minutes (current releases: 60 s); every other default here
  // follows 18.16, the server the differential tests compare against, so this does too.
  Duration replica_error_half_life = Duration::seconds(300);
  bool skip_unavailable_shards = false;
  Duration max_replica_delay_for_distributed_queries = Duration::seconds(300);
  bool fallback_to_stale_replicas = true;
  bool prefer_localhost_replica = true;
  bool distributed_group_by_no_merge = false;
  // max_threads: the cores one shard's subquery may use; 0: the node's cores (ClickHouse's
  // default, the physical cores).
  uint32_t max_threads = 0;
  // max_memory_usage: the memory one query may hold on one server; 0: no limit.
  uint64_t max_memory_usage = 10'000'000'000;
  Duration insert_quorum_timeout = Duration::seconds(600);
  // Per partition, from the table's MergeTree SETTINGS (150 / 300 in 18.16): inserts are
  // delayed above the first and refused above the second.
  uint64_t parts_to_delay_insert = 150;
  uint64_t parts_to_throw_insert = 300;
};

struct ClusterConfig {
  std::vector<NodeConfig> nodes;
  size_t shards = 1;
  size_t replicas = 1;
  // placement[shard][replica] = node name; the replicas of a shard are on distinct nodes.
  // Default: round robin over the nodes, replica r of shard s on node (s * replicas + r) mod n.
  std::vector<std::vector<std::string>> placement;
  // Passes validate_sharding() against the table; shards is ClusterConfig::shards.
  // default_shard is 0-based here (1-based in the file, like shard_num).
  ShardingConfig sharding;
  InsertMode insert_mode = InsertMode::kAsync;
  bool internal_replication = false;  // ClickHouse's default
  uint32_t insert_quorum = 0;         // 0: no quorum; else 1..replicas
  LoadBalancing load_balancing = LoadBalancing::kRandom;
  // The simulated ZooKeeper: a host of the topology, and the time it takes to serve one
  // operation on top of the network round trip. Empty when no coordinator is needed (one replica
  // per shard and none named).
  std::string coordinator_node;
  // 300 us: about 10 coordination operations per inserted block, served one at a time, give
  // ~330 inserted blocks per second, the "few hundred INSERTs per second" a ZooKeeper ensemble
  // sustains (REFERENCE.md).
  Duration coordinator_latency = Duration::microseconds(300);
  DistributedSettings settings;
};

struct TableConfig {
  std::string ddl;  // engine::kDefaultUserBehaviorDdl unless given
  engine::TableSchema schema;
};

struct QueryTemplate {
  std::string name;       // unique; answers/NAME.sql and answers/NAME.tsv
  std::string sql;        // validated with engine::Query::prepare against the table
  double rate_per_s = 0;  // total Poisson arrival rate; 0: closed-loop clients
  int concurrency = 1;    // queries in flight per client
  int clients = 1;
  double target_latency_s = 0;  // 0: no target
  // Closed loop only: the mean of the exponential pause a client takes after each answer before
  // it sends the next query (a user reading the dashboard). 0: at once.
  Duration think_time;
};

struct WorkloadConfig {
  // seed, start, days, total_rows (= rows), distributions; rows_per_day and peak_rows_per_s are
  // set so that the generated data set's mean and peak rates are those of the run (see the top
  // of this file). Passes workloads::validate().
  workloads::GeneratorConfig generator;
  uint64_t rows = 0;              // total rows of the data set, inserted over `days` days
  // Whole days of rows before `start`, at the same daily volume, in the table before the run
  // begins: loaded (and merged) without simulated time, on every replica. 0: the table starts
  // empty.
  int history_days = 0;
  uint64_t batch_rows = 100'000;  // the most rows in one INSERT
  // A batch is sent at the latest this long after its first row was due. 1 s with 100k rows
  // follows REFERENCE.md's advice: batches of at least 1000 rows, about one INSERT per second.
  Duration batch_interval = Duration::seconds(1);
  double peak_rows_per_s = 0;  // the insert-rate curve's peak
  bool peak_as_ratio = false;  // the file gave peak_to_mean (the peak follows the rows)
  // Nodes that receive INSERTs and queries, in turn; default: every cluster node.
  std::vector<std::string> initiators;
  std::vector<QueryTemplate> queries;
};

inline constexpr std::string_view kFaultKinds[] = {"node_crash", "process_restart", "link_down",
                                                   "partition",  "slow_disk",       "slow_node",
                                                   "broken_part"};
inline constexpr std::string_view kRandomFaultKinds[] = {"node_crash", "process_restart",
                                                         "slow_disk", "slow_node"};

// One fault at a given time. What `targets` hold depends on the kind:
//  * node_crash       cluster nodes that lose power (or are lost): the page cache, unsynced
//                     writes (such as async insert queues, which 18.16 never fsyncs) and running
//                     work are gone; the node comes back after `duration` with what its disk
//                     had synced, or never.
//  * process_restart  cluster nodes whose server process is killed and restarted: in-flight
//                     work fails, but the disk and the OS page cache survive, so queued async
//                     blocks are sent after the restart (REFERENCE.md's kill -9 experiment).
//  * link_down        exactly two names, the ends of a link of the topology.
//  * partition        hosts cut off from every other host (both directions).
//  * slow_disk, slow_node  cluster nodes whose disk bandwidth / CPU speed is multiplied by
//                     `factor` in (0, 1].
//  * broken_part      cluster nodes on which each replica finds its `parts` largest parts
//                     damaged (a latent disk error): they are detached and, with replication,
//                     fetched again from a peer. An instant: it has no duration.
struct ScheduledFault {
  Duration at;
  std::string kind;
  std::vector<std::string> targets;
  Duration duration = Duration::max();  // max(): until the end of the run
  double factor = 1.0;
  uint64_t parts = 1;  // broken_part: parts damaged on each replica of each target
};

// Each target fails independently: up for Exp(mtbf), down for Exp(mttr), repeatedly
// (sim::FaultInjector::random_outages). Kinds: node_crash, process_restart, slow_disk,
// slow_node; targets are cluster nodes.
struct RandomFault {
  std::string kind;
  std::vector<std::string> targets;
  Duration mtbf;
  Duration mttr;
  double factor = 1.0;  // slow_disk, slow_node
};

inline constexpr std::string_view kOutputs[] = {"timeseries", "answers", "plots", "report",
                                                "trace"};

struct RunConfig {
  Duration duration;  // default: workload.days * 24 h
  Duration warmup;    // metrics start after it; < duration
  uint64_t seed = 1;       // the simulation's random streams (not the data: workload.seed)
  int replications = 1;    // runs with seeds seed, seed + 1, ...
  std::string out_dir;     // default "out/<name>"; with variants, one subdirectory per variant
  // What to write besides summary.json and run_info.json (always written). Default: every
  // kOutputs entry except "trace".
  std::vector<std::string> outputs;
  // The trace keeps at most this many slices (and, separately, counter samples); later ones are
  // counted but dropped, so a full-scale run's trace stays a few hundred MB at most.
  uint64_t trace_max_slices = 1'000'000;
  // Seconds of the data's day played per second of the run (live mode's --speed): 60 plays an
  // hour of the day in a minute. Rows shrink by the same factor, so rows per second of the run
  // stay those of the day. Once loaded, every instant and span on the day's axis (run.duration
  // and warmup, faults' at/duration, random faults' mtbf/mttr, cache crashes, reshard.at) is
  // already divided by it; protocol times (batch_interval, timeouts, TTLs, think times) are not.
  double speed = 1.0;
};

// Shards joining mid-run (the `reshard` section). At `at` the cluster grows by the shards of
// `add` and routes every later insert by `sharding` over all of them; stored rows stay where they
// are, as in ClickHouse. The run reports, for the rows stored at `at`, what the cluster's strategy
// and the comparison strategies would have to move, and how long moving it takes on the network.
struct ReshardConfig {
  Duration at;
  std::vector<std::vector<std::string>> add;  // [new shard][replica] = node name
  // The scheme over every shard (shards = cluster.shards + add.size()). Default for hash, jump
  // and random: the cluster's, each new shard weighted 1; range and list must say.
  ShardingConfig sharding;
  // The key the hash and jump comparisons hash (an unsigned integer expression). Default: the
  // cluster's key when it shards by hash or jump; empty: no hash or jump comparison.
  std::string compare_key;
};

// The memcached tier in front of the cluster (the `cache` section; sim/cache/look_aside.h has
// the read path and the sync strategies). Absent: no tier.
struct CacheCrash {
  Duration at;
  std::string node;                      // a cache node
  Duration duration = Duration::max();   // max(): until the end of the run
};

struct CacheConfig {
  std::vector<std::string> nodes;  // hosts of the topology (the racks shorthand adds them)
  uint64_t memory_bytes = uint64_t{64} << 20;  // -m, per node
  double growth_factor = 1.25;
  uint32_t min_chunk = 48;
  uint32_t item_max = 1 << 20;
  bool slab_automove = true;
  int threads = 4;
  std::string distribution = "ketama";  // ketama | modula | partition | round_robin
  // partition: the template parameter that places a key (province | user | item), and per node
  // (in nodes' order) its provinces (lists) or the bounds between the nodes' id ranges (bounds:
  // node i holds ids below bounds[i], the last node the rest).
  std::string partition_by;
  std::vector<std::vector<std::string>> partition_lists;
  std::vector<uint64_t> partition_bounds;
  Duration op_cpu = Duration::microseconds(3);
  Duration connect_timeout = Duration::milliseconds(100);
  std::vector<std::string> gutter;  // gutter pool hosts; empty: failed nodes are ejected
  Duration gutter_ttl = Duration::seconds(10);
  std::vector<std::string> templates;  // cached query templates, by name
  std::string strategy = "ttl";        // ttl | access | change
  Duration ttl = Duration::seconds(300);  // 0: no expiry
  Duration refresh_interval;              // ttl: hot-set refresh (0: none); access: warm-up
  uint64_t refresh_keys = 100;
  Duration access_window = Duration::seconds(600);
  std::string change_mode = "delete";       // delete | update
  std::string change_delivery = "client";   // client | server | middleware
  std::string log_host;                     // middleware: the change log's host
  uint32_t log_partitions = 8;
  Duration log_batch_interval = Duration::milliseconds(100);
  Duration log_lag = Duration::seconds(1);
  bool leases = false;
  bool lease_stale = false;
  Duration clock_bucket = Duration::seconds(60);  // in the keys of templates that read the clock
  Duration lease_retry = Duration::milliseconds(10);
  std::vector<CacheCrash> crashes;
};

// The capacity planner's search (the `plan` section; planner/plan.h runs it). The space is every
// combination of a node type, a node count, shards, replicas and a sharding; each candidate is
// the scenario with its cluster replaced by that one (replicas placed round-robin over the nodes
// and their racks).
struct PlanNodeType {
  std::string name;            // a hardware.node_types entry
  double price_per_hour = 0;   // per node
  uint64_t disk_capacity = 0;  // bytes; 0: unbounded (no disk-fill constraint possible)
};

struct PlanConstraints {
  // (template, p99 target in seconds) at the daily peak; default: every template with a
  // target_latency, at that target.
  std::vector<std::pair<std::string, double>> latency;
  bool ingest_keeps_up = true;    // p99 of INSERT delivery delay within the ingest bound
  bool survive_node_loss = true;  // the worst single node crash at the peak: no acknowledged
                                  // row lost, queries keep answering
  double disk_fill = 0;           // the largest share of a node's disk used at the retention
                                  // horizon; 0: not constrained
  Duration retention;             // the horizon for disk_fill (the table's TTL)
  Duration replica_lag;           // max replica lag bound; zero: not constrained
  double confidence = 0.95;       // one-sided confidence of each constraint's bound
};

struct PlanConfig {
  std::vector<PlanNodeType> node_types;
  std::vector<uint64_t> nodes;
  std::vector<uint64_t> shards;
  std::vector<uint64_t> replicas;
  // Sharding choices as YAML flow mappings (what --set cluster.sharding takes); empty: the
  // cluster's own.
  std::vector<std::string> sharding;
  std::vector<std::string> insert_modes;  // "async", "sync"; empty: the cluster's own
  PlanConstraints constraints;
  // The data scale the candidates are simulated at: rows, the insert rate and every hardware
  // rate (CPU speed, disk and network bandwidth, memory) times it, so each resource sees the
  // same utilisation as at full scale while the engine handles `scale` of the rows.
  double scale = 0.1;
  // Smaller scales the winner is also run at, to fit how each metric scales to full size.
  std::vector<double> fit_scales;
  int replications = 2;     // simulated runs per candidate (each plus one crash run)
  int max_simulated = 12;   // candidates simulated at most
  // A candidate is screened out when its predicted p99 (corrected by what the simulations so far
  // taught the screen) exceeds target times this: a candidate the screen wrongly drops is never
  // simulated.
  double screen_slack = 1.5;
  Duration crash_duration = Duration::seconds(600);
  // The stretch of the day the candidates simulate, centred on the daily peak; what comes before
  // it is loaded as history without simulated time. Zero: the whole run as the scenario says.
  Duration window = Duration::seconds(7200);
};

struct VariantConfig {
  std::string name;
  std::string description;
  std::vector<std::string> paths;  // the dotted paths its `set` changes, in file order
  std::vector<std::string> smoke_paths;  // and its own `smoke` section, under --smoke
};

struct Scenario {
  std::string name;      // `name:`, or the file name without its extension
  std::string question;  // the file's leading comment block: the question it answers
  HardwareConfig hardware;
  TopologyConfig topology;
  ClusterConfig cluster;
  TableConfig table;
  WorkloadConfig workload;
  std::vector<ScheduledFault> faults;
  std::vector<RandomFault> random_faults;
  RunConfig run;
  std::optional<ReshardConfig> reshard;
  std::optional<CacheConfig> cache;
  std::optional<PlanConfig> plan;
  std::string source;  // the file path
  std::vector<VariantConfig> variants;   // every variant the file declares
  std::string variant;                   // the variant applied; empty for the file as written
  std::vector<std::string> smoke_paths;  // the dotted paths the file's smoke section sets
  bool smoke = false;                    // the smoke section was applied
  std::vector<std::string> overrides;    // the --set arguments applied, as given
  // Things that are valid but probably not meant, each "FILE:LINE:COL: what" (without a
  // "warning: " prefix): list-sharding values the workload never generates. load_scenario and
  // load_scenario_variants print them on stderr, each once per process; parse_* do not.
  std::vector<std::string> warnings;
};

// Reads, overrides and validates the scenario at `path`. `overrides` are --set arguments
// ("PATH=VALUE"); `smoke` applies the file's smoke section (an error if it has none); `variant`
// names a variant to apply (an error if there is none of that name), or is empty for the file
// as written. Throws InputError, also when the file cannot be read.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides,
                       bool smoke, const std::string& variant = "");

// The same for YAML text; `source` names it in messages.
Scenario parse_scenario(std::string_view yaml, const std::string& source,
                        const std::vector<std::string>& overrides, bool smoke,
                        const std::string& variant = "");

// One validated scenario per variant, in file order; the file as written alone when it has no
// variants. What `shardlab check` validates and a runner of every variant runs.
std::vector<Scenario> load_scenario_variants(const std::string& path,
                                             const std::vector<std::string>& overrides, bool smoke);
std::vector<Scenario> parse_scenario_variants(std::string_view yaml, const std::string& source,
                                              const std::vector<std::string>& overrides,
                                              bool smoke);

// The data's seconds that `span` of the run covers: span times run.speed, in whole seconds.
int64_t data_seconds(const RunConfig& run, Duration span);

// Compact human forms for summaries and messages, in spellings the scenario files accept:
// "250ms", "1.5s", "90min", "24h"; "64GiB", "1.5MB"; "10Gbit/s".
std::string format_duration(Duration duration);
std::string format_bytes(double bytes);
std::string format_bandwidth(double bytes_per_s);

}  // namespace shardlab::scenarios
