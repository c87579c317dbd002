#include "live/live_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <fstream>
#include <optional>
#include <thread>

#include "base/atomic_file.h"
#include "base/errors.h"
#include "experiment/experiment.h"
#include "experiment/run_summary.h"
#include "live/clickhouse_client.h"
#include "live/fidelity.h"
#include "live/inventory.h"
#include "live/live_tables.h"
#include "live/live_workload.h"
#include "live/loopback_cluster.h"
#include "live/text_protocol.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/table.h"
#include "shardlab/engine/tsv_format.h"
#include "workloads/engine_block.h"
#include "workloads/query_template.h"

namespace shardlab::live {

namespace {

constexpr const char* kLoopbackDatabase = "shardlab_live";
constexpr const char* kLoopbackCluster = "shardlab";
// After the run: how long the cluster gets to deliver async blocks and let replicas catch up,
// and how many equal consecutive counts (a second apart) mean it has settled.
constexpr double kSettleLimit_s = 180;
constexpr int kSettledPolls = 5;

std::string run_id() {
  return fmt::format("{}", std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
}

// max_threads when the scenario leaves it to the node: the servers' default, the cores of the
// machine they run on.
const uint32_t kServerCores = std::max(1u, std::thread::hardware_concurrency());

// Distributed settings of the scenario, as the clickhouse-servers' default profile.
std::map<std::string, std::string> profile_settings(const scenarios::Scenario& s) {
  const scenarios::DistributedSettings& d = s.cluster.settings;
  const auto ms = [](scenarios::Duration span) { return std::to_string(span.ns() / 1'000'000); };
  return {
      {"load_balancing", scenarios::load_balancing_name(s.cluster.load_balancing)},
      {"connect_timeout_with_failover_ms", ms(d.connect_timeout_with_failover)},
      {"connections_with_failover_max_tries",
       std::to_string(d.connections_with_failover_max_tries)},
      {"skip_unavailable_shards", d.skip_unavailable_shards ? "1" : "0"},
      {"max_replica_delay_for_distributed_queries",
       std::to_string(d.max_replica_delay_for_distributed_queries.ns() / 1'000'000'000)},
      {"fallback_to_stale_replicas_for_distributed_queries",
       d.fallback_to_stale_replicas ? "1" : "0"},
      {"distributed_directory_monitor_sleep_time_ms", ms(d.directory_monitor_sleep_time)},
      {"distributed_group_by_no_merge", d.distributed_group_by_no_merge ? "1" : "0"},
      {"max_threads", std::to_string(d.max_threads > 0 ? d.max_threads : kServerCores)},
      {"max_memory_usage", std::to_string(d.max_memory_usage)},
  };
}

}  // namespace

LoopbackOptions loopback_options(const scenarios::Scenario& s, const LiveTables& tables,
                                 const std::filesystem::path& root) {
  LoopbackOptions options;
  options.root = root;
  options.layout.name = kLoopbackCluster;
  options.layout.internal_replication = s.cluster.internal_replication;
  for (size_t shard = 0; shard < s.cluster.shards; ++shard) {
    options.layout.shards.push_back({tables.shard_weights[shard], s.cluster.placement[shard]});
  }
  options.zookeeper = s.cluster.replicas > 1;
  if (s.cache) {
    for (const std::string& node : s.cache->nodes) {
      options.memcached.push_back({node, s.cache->memory_bytes, s.cache->threads});
    }
  }
  options.profile_settings = profile_settings(s);
  return options;
}

namespace {

// Runs `sql` on every server; a server that does not answer is an error naming it.
void on_every_server(const LiveTarget& target, const std::string& sql) {
  for (const auto& [node, endpoint] : target.clickhouse) {
    ClickHouseClient client(endpoint, std::chrono::milliseconds(60'000));
    client.query(sql, {{"allow_experimental_low_cardinality_type", "1"}});
  }
}

void create_tables(const LiveTarget& target) {
  const LiveTables& t = target.tables;
  on_every_server(target, "CREATE DATABASE IF NOT EXISTS " + t.database);
  // Only live mode's own tables, inside its own database, are ever dropped.
  on_every_server(target, "DROP TABLE IF EXISTS " + t.distributed);
  on_every_server(target, "DROP TABLE IF EXISTS " + t.local);
  on_every_server(target, t.local_ddl);
  on_every_server(target, t.distributed_ddl);
}

// One row of each server's view of its local table.
struct ReplicaState {
  bool answered = false;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t parts = 0;
  uint64_t merged_parts = 0;  // active parts of level > 0
  uint64_t replication_queue = 0;
};

ReplicaState replica_state(const Endpoint& endpoint, const LiveTables& t) {
  ReplicaState state;
  try {
    ClickHouseClient client(endpoint, std::chrono::milliseconds(5000));
    const std::string table = t.local.substr(t.local.find('.') + 1);
    const std::string parts = client.query(
        fmt::format("SELECT count(), sum(rows), sum(bytes), countIf(level > 0) FROM system.parts "
                    "WHERE database = {} AND table = {} AND active",
                    sql_quote(t.database), sql_quote(table)));
    std::sscanf(parts.c_str(), "%" SCNu64 "\t%" SCNu64 "\t%" SCNu64 "\t%" SCNu64, &state.parts,
                &state.rows, &state.bytes, &state.merged_parts);
    const std::string queue = client.query(fmt::format(
        "SELECT sum(queue_size) FROM system.replicas WHERE database = {}", sql_quote(t.database)));
    state.replication_queue = std::strtoull(queue.c_str(), nullptr, 10);
    state.answered = true;
  } catch (const ClickHouseError&) {
  }
  return state;
}

uint64_t count_rows(const LiveTarget& target, const std::string& via) {
  ClickHouseClient client(target.clickhouse.at(via), std::chrono::milliseconds(30'000));
  return std::strtoull(client.query("SELECT count() FROM " + target.tables.distributed).c_str(),
                       nullptr, 10);
}

// The first node, by name, whose server answers.
std::optional<std::string> answering_node(const LiveTarget& target) {
  for (const auto& [node, endpoint] : target.clickhouse) {
    if (ClickHouseClient(endpoint, std::chrono::milliseconds(2000)).ping()) return node;
  }
  return std::nullopt;
}

// Waits until async blocks are delivered and replicas caught up: the Distributed count and every
// replication queue unchanged and empty for kSettledPolls polls. Returns the seconds it took.
double settle(const scenarios::Scenario& s, const LiveTarget& target,
              const std::function<void(const std::string&)>& log) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  uint64_t last = UINT64_MAX;
  int stable = 0;
  while (elapsed() < kSettleLimit_s && !interrupted()) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const std::optional<std::string> via = answering_node(target);
    if (!via) continue;
    uint64_t count = 0;
    uint64_t queued = 0;
    try {
      count = count_rows(target, *via);
    } catch (const ClickHouseError&) {
      stable = 0;
      continue;
    }
    if (s.cluster.replicas > 1) {
      for (const auto& [node, endpoint] : target.clickhouse) {
        queued += replica_state(endpoint, target.tables).replication_queue;
      }
    }
    stable = (count == last && queued == 0) ? stable + 1 : 0;
    last = count;
    if (stable >= kSettledPolls) break;
  }
  log(fmt::format("settled after {:.1f} s", elapsed()));
  return elapsed();
}

std::string sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    lines.push_back(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// Every template once on the settled cluster (at the run's last data second, with each
// parameter's most popular value), and, when the cluster holds exactly the acknowledged rows,
// the same SQL on the embedded engine over those rows. Lines are compared as sorted sets: a
// template's ORDER BY may leave ties in either order.
results::Json check_answers(const scenarios::Scenario& s, const LiveTarget& target,
                            const WorkloadMeasurement& m, uint64_t rows_queryable,
                            const std::filesystem::path& dir, bool* all_match) {
  std::filesystem::create_directories(dir / "answers");
  const std::optional<std::string> via = answering_node(target);
  results::Json out = results::Json::object();
  if (!via) return out;
  std::unique_ptr<engine::Table> table;
  const bool comparable = rows_queryable == m.rows_acknowledged;
  if (comparable) {
    const std::filesystem::path engine_dir = dir / "answers" / "engine_table";
    std::filesystem::remove_all(engine_dir);
    table = engine::Table::create(engine_dir, s.table.ddl);
    workloads::EngineBlockSource source(s.workload.generator, s.table.schema);
    engine::Block block;
    // Contiguous runs of acknowledged rows, loaded in large blocks: one part per batch would
    // pass the table's parts limit on a long run.
    std::vector<std::pair<uint64_t, uint64_t>> ranges = m.acknowledged_batches;
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<uint64_t, uint64_t>> runs;
    for (const auto& [first, rows] : ranges) {
      if (!runs.empty() && runs.back().first + runs.back().second == first) {
        runs.back().second += rows;
      } else {
        runs.emplace_back(first, rows);
      }
    }
    constexpr uint64_t kBlockRows = 1 << 20;
    for (const auto& [first, rows] : runs) {
      for (uint64_t row = first; row < first + rows; row += kBlockRows) {
        source.fill(row, static_cast<size_t>(std::min(kBlockRows, first + rows - row)), &block);
        table->insert(block);
      }
      table->optimize(false, s.workload.generator.start);
    }
  }
  const int64_t now_s = s.workload.generator.start + scenarios::data_seconds(s.run, s.run.duration);
  ClickHouseClient client(target.clickhouse.at(*via), std::chrono::milliseconds(60'000),
                          target.tables.database);
  for (const scenarios::QueryTemplate& q : s.workload.queries) {
    const std::string sql = workloads::QueryTemplateText(q.sql).expand(now_s, {});
    const std::string answer = client.query(sql);
    base::write_file_atomically(dir / "answers" / (q.name + ".sql"), sql + "\n");
    base::write_file_atomically(dir / "answers" / (q.name + ".tsv"), answer);
    results::Json entry = {{"rows", std::count(answer.begin(), answer.end(), '\n')}};
    if (table) {
      const auto query = engine::Query::prepare(table->schema(), sql);
      const engine::QueryResult result = query->run(table->active_parts());
      std::string expected;
      engine::append_tsv(result.columns, &expected);
      const bool equal = sorted_lines(expected) == sorted_lines(answer);
      if (!equal) {
        base::write_file_atomically(dir / "answers" / (q.name + ".engine.tsv"), expected);
        *all_match = false;
      }
      entry["equal_to_engine"] = equal;
    } else {
      entry["equal_to_engine"] = nullptr;
    }
    out[q.name] = std::move(entry);
  }
  if (table && s.cluster.sharding.kind == scenarios::ShardingKind::kHash) {
    // The rows each shard should hold: ClickHouse's rule (the key modulo the weights' sum, shard
    // i owning the remainders after the weights before it) over the acknowledged rows, on the
    // embedded engine.
    const LiveTables& t = target.tables;
    uint64_t total_weight = 0;
    for (const uint32_t w : t.shard_weights) total_weight += w;
    results::Json expected = results::Json::array();
    uint64_t low = 0;
    for (const uint32_t w : t.shard_weights) {
      const std::string sql = fmt::format(
          "SELECT count() FROM {} WHERE ({}) % {} >= {} AND ({}) % {} < {}", s.table.schema.name,
          t.sharding_expression, total_weight, low, t.sharding_expression, total_weight, low + w);
      const engine::QueryResult counted =
          engine::Query::prepare(table->schema(), sql)->run(table->active_parts());
      expected.push_back(counted.columns[0].values<uint64_t>()[0]);
      low += w;
    }
    out["shard_rows_by_engine"] = std::move(expected);
  }
  if (table) {
    const std::filesystem::path engine_dir = table->dir();
    table.reset();
    std::filesystem::remove_all(engine_dir);
  }
  return out;
}

// The most memory one of the run's logged template queries (one in eight) held on one server,
// the initiator's query or a shard's subquery, by each server's own accounting
// (system.query_log.memory_usage); empty when a server cannot say (no query log, not answering).
std::optional<uint64_t> peak_query_memory(const LiveTarget& target) {
  // LIKE needs its own escapes for the prefix's underscores.
  std::string pattern;
  for (const char c : query_id_prefix(target.tables)) {
    if (c == '_' || c == '%' || c == '\\') pattern += '\\';
    pattern += c;
  }
  uint64_t peak = 0;
  for (const auto& [node, endpoint] : target.clickhouse) {
    try {
      ClickHouseClient client(endpoint, std::chrono::milliseconds(10'000));
      client.query("SYSTEM FLUSH LOGS");
      const std::string answer = client.query(
          fmt::format("SELECT max(memory_usage) FROM system.query_log WHERE type = 2 AND "
                      "initial_query_id LIKE {}",
                      sql_quote(pattern + "%")));
      peak = std::max<uint64_t>(peak, std::stoull(answer));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return peak;
}

void write_lag_csv(const LagSeries& series, const std::filesystem::path& path) {
  std::string text = "time_s";
  for (const auto& [node, values] : series.lag) text += "," + node + ".lag_s";
  text += "\n";
  for (size_t i = 0; i < series.time_s.size(); ++i) {
    text += fmt::format("{:g}", series.time_s[i]);
    for (const auto& [node, values] : series.lag) {
      text += std::isnan(values[i]) ? std::string(",") : fmt::format(",{:g}", values[i]);
    }
    text += "\n";
  }
  base::write_file_atomically(path, text);
}

results::Json summary_json(const scenarios::Scenario& s, const LiveTarget& target,
                           const WorkloadMeasurement& m, uint64_t rows_queryable, double settle_s) {
  results::Json summary = results::Json::object();
  summary["scenario"] = s.name;
  summary["variant"] = s.variant;
  summary["seed"] = s.run.seed;
  summary["mode"] = "live";
  summary["simulated_s"] = results::json_number(m.run_s);  // the run's length, as played
  summary["speed"] = results::json_number(s.run.speed);
  summary["cluster"] = experiment::cluster_json(s);
  const uint64_t lost =
      m.rows_acknowledged > rows_queryable ? m.rows_acknowledged - rows_queryable : 0;
  results::Json inserts = {{"batches", m.batches},
                           {"rows_sent", m.rows_sent},
                           {"rows_acknowledged", m.rows_acknowledged},
                           {"rows_lost", lost},
                           {"rows_rejected", m.rows_rejected},
                           {"rows_queryable", rows_queryable}};
  // Under sync inserts an acknowledgement is the delivery; async deliveries are not observable
  // one block at a time from outside the server.
  if (s.cluster.insert_mode == scenarios::InsertMode::kSync && !m.insert_latency.empty()) {
    const double p99 = m.insert_latency.quantile(0.99) * 1e-9;
    inserts["delay_p99_s"] = results::json_number(p99);
    inserts["delay_max_s"] = results::json_number(m.insert_latency.max() * 1e-9);
    inserts["kept_up"] = p99 <= experiment::kIngestDelayBound_s;
  }
  inserts["settle_s"] = results::json_number(settle_s);
  summary["inserts"] = std::move(inserts);
  results::Json queries = results::Json::object();
  uint64_t count = 0;
  uint64_t errors = 0;
  for (const TemplateMeasurement& t : m.templates) {
    results::Json entry = results::latency_json(t.latency, t.errors);
    if (t.target_s > 0) {
      entry["target_s"] = results::json_number(t.target_s);
      entry["p99_meets_target"] =
          !t.latency.empty() && t.latency.quantile(0.99) * 1e-9 <= t.target_s;
    }
    queries[t.name] = std::move(entry);
    count += t.latency.count();
    errors += t.errors;
  }
  summary["queries"] = std::move(queries);
  results::Json shards = results::Json::array();
  double max_rows = 0;
  double total_rows = 0;
  for (size_t shard = 0; shard < s.cluster.shards; ++shard) {
    ReplicaState best;
    results::Json replicas = results::Json::array();
    for (const std::string& node : s.cluster.placement[shard]) {
      const ReplicaState state = replica_state(target.clickhouse.at(node), target.tables);
      replicas.push_back(
          {{"node", node},
           {"rows", state.answered ? results::Json(state.rows) : results::Json(nullptr)}});
      if (state.answered && state.rows >= best.rows) best = state;
    }
    shards.push_back({{"shard", shard + 1},
                      {"rows", best.rows},
                      {"bytes", best.bytes},
                      {"parts", best.parts},
                      {"merged_parts", best.merged_parts},
                      {"replicas", std::move(replicas)}});
    max_rows = std::max(max_rows, static_cast<double>(best.rows));
    total_rows += static_cast<double>(best.rows);
  }
  summary["shards"] = std::move(shards);
  summary["skew"] = {
      {"rows_max_over_mean",
       results::json_number(total_rows > 0 ? max_rows * s.cluster.shards / total_rows : 0.0)}};
  if (s.cluster.replicas > 1) {
    const std::vector<double> lag = largest_lag(m.lag);
    double max_lag = 0;
    for (const double value : lag) {
      if (!std::isnan(value)) max_lag = std::max(max_lag, value);
    }
    results::Json replication = {{"max_lag_s", results::json_number(max_lag)}};
    if (const std::optional<double> catch_up =
            catch_up_by_rows_s(m.lag, s.cluster.placement, m.faults)) {
      replication["catch_up_s"] = results::json_number(*catch_up);
    }
    summary["replication"] = std::move(replication);
  }
  if (s.cache) {
    results::Json templates = results::Json::object();
    for (const TemplateMeasurement& t : m.templates) {
      if (!t.cached) continue;
      templates[t.name] = {
          {"requests", t.cache_requests},
          {"hits", t.cache_hits},
          {"hit_ratio",
           results::json_number(t.cache_requests > 0 ? static_cast<double>(t.cache_hits) /
                                                           static_cast<double>(t.cache_requests)
                                                     : 0.0)}};
    }
    uint64_t hits = 0;
    uint64_t misses = 0;
    for (const Endpoint& endpoint : target.memcached) {
      const auto [h, miss] = memcached_gets(endpoint);
      hits += h;
      misses += miss;
    }
    summary["cache"] = {
        {"templates", std::move(templates)},
        {"requests", {{"gets", hits + misses}, {"hits", hits}}},
        {"server_hit_ratio",
         results::json_number(hits + misses > 0
                                  ? static_cast<double>(hits) / static_cast<double>(hits + misses)
                                  : 0.0)}};
  }
  results::Json faults = results::Json::array();
  for (const FaultEvent& f : m.faults) {
    faults.push_back(
        {{"at_s", results::json_number(f.at_s)}, {"target", f.target}, {"event", f.event}});
  }
  summary["faults"] = std::move(faults);
  if (m.server_cpu_s)
    summary["work"] = {{"cpu_s", {{"total", results::json_number(*m.server_cpu_s)}}}};
  // As in a simulated run: the queries that reached the cluster (cache hits answer without it).
  uint64_t cache_hits = 0;
  for (const TemplateMeasurement& t : m.templates) cache_hits += t.cache_hits;
  summary["queries_run"] = {{"count", count + errors - cache_hits}, {"errors", errors}};
  if (const std::optional<uint64_t> peak = peak_query_memory(target)) {
    summary["queries_run"]["peak_memory_bytes"] = *peak;
  }
  return summary;
}

}  // namespace

void check_playable(const scenarios::Scenario& s, bool own_servers) {
  for (size_t i = 0; i < s.faults.size(); ++i) {
    const scenarios::ScheduledFault& fault = s.faults[i];
    if (fault.kind != "node_crash" && fault.kind != "process_restart") {
      throw InputError(
          fmt::format("{}: faults[{}]: a {} fault cannot be played live (only node_crash and "
                      "process_restart, as kill -9 / SIGTERM of a server and its restart)",
                      s.source, i, fault.kind));
    }
    if (!own_servers) {
      throw InputError(
          fmt::format("{}: faults[{}]: faults are played only on servers live mode "
                      "started itself, not on an inventory's (--hosts)",
                      s.source, i));
    }
  }
  if (!s.random_faults.empty()) {
    throw InputError(
        fmt::format("{}: random_faults cannot be played live; give the outages as "
                    "faults at fixed times",
                    s.source));
  }
  if (s.reshard) throw InputError(fmt::format("{}: reshard cannot be played live", s.source));
  if (s.workload.history_days > 0) {
    // The twin would start with days of merged history the real cluster does not have.
    throw InputError(
        fmt::format("{}: workload.history_days is not played live yet; set it to 0", s.source));
  }
  if (s.cache) {
    const scenarios::CacheConfig& c = *s.cache;
    if (c.strategy != "ttl") {
      throw InputError(fmt::format("{}: cache.strategy {} is not played live yet (only ttl)",
                                   s.source, c.strategy));
    }
    if (c.distribution != "ketama" && c.distribution != "modula") {
      throw InputError(fmt::format(
          "{}: cache.distribution {} cannot be played live (libmemcached: ketama or modula)",
          s.source, c.distribution));
    }
    if (c.leases || !c.gutter.empty() || !c.crashes.empty()) {
      throw InputError(
          fmt::format("{}: cache leases, gutter pools and cache crashes are not "
                      "played live",
                      s.source));
    }
  }
  if (own_servers) {
    std::map<std::string, size_t> shard_of;
    for (size_t shard = 0; shard < s.cluster.placement.size(); ++shard) {
      for (const std::string& node : s.cluster.placement[shard]) {
        if (const auto [it, fresh] = shard_of.emplace(node, shard); !fresh && it->second != shard) {
          throw InputError(fmt::format(
              "{}: cluster.placement: node {} holds replicas of shards {} and {}; a "
              "clickhouse-server has one {{shard}} macro, so live mode needs one shard per node",
              s.source, node, it->second + 1, shard + 1));
        }
      }
    }
  }
}

LiveOutcome run_live(const scenarios::Scenario& s, const LiveOptions& options) {
  const auto log = options.log ? options.log : [](const std::string&) {};
  const bool own_servers = options.hosts.empty();
  check_playable(s, own_servers);
  std::optional<Inventory> inventory;
  if (!own_servers) {
    inventory = load_inventory(options.hosts, s);
    check_reachable(*inventory);
  }
  const std::string database = inventory ? inventory->database : kLoopbackDatabase;
  const std::string cluster = inventory ? inventory->cluster : kLoopbackCluster;
  LiveTarget target;
  target.tables = live_tables(s, database, cluster, run_id());
  std::filesystem::create_directories(options.out_dir);

  std::unique_ptr<LoopbackCluster> servers;
  if (own_servers) {
    log("starting the loopback cluster");
    // Fresh servers: what an earlier run left under --out is no part of this one.
    std::filesystem::remove_all(options.out_dir / "servers");
    servers = std::make_unique<LoopbackCluster>(
        loopback_options(s, target.tables, options.out_dir / "servers"));
    for (const scenarios::NodeConfig& node : s.cluster.nodes) {
      target.clickhouse[node.name] = servers->clickhouse_http(node.name);
    }
    if (s.cache) {
      for (const std::string& node : s.cache->nodes)
        target.memcached.push_back(servers->memcached(node));
    }
    target.servers = servers.get();
  } else {
    for (const scenarios::NodeConfig& node : s.cluster.nodes) {
      target.clickhouse[node.name] = inventory->find(node.name)->endpoint;
    }
    if (s.cache) {
      for (const std::string& node : s.cache->nodes) {
        target.memcached.push_back(inventory->find(node)->endpoint);
      }
    }
  }
  create_tables(target);
  log(fmt::format("playing {} of the run in real time ({:g}x the day's clock)",
                  scenarios::format_duration(s.run.duration), s.run.speed));
  const WorkloadMeasurement m = play_workload(s, target, log);
  for (const std::string& error : m.insert_errors) log("INSERT failed: " + error);
  if (interrupted()) throw RuntimeError("interrupted");
  const double settle_s = settle(s, target, log);
  const std::optional<std::string> via = answering_node(target);
  const uint64_t rows_queryable = via ? count_rows(target, *via) : 0;
  LiveOutcome outcome;
  outcome.summary = summary_json(s, target, m, rows_queryable, settle_s);
  try {
    outcome.summary["answers"] =
        check_answers(s, target, m, rows_queryable, options.out_dir, &outcome.answers_match);
  } catch (const std::exception& e) {
    // The measurement stands without the check; the failure is reported, not hidden.
    outcome.summary["answers"] = {{"error", e.what()}};
    outcome.answers_match = false;
    log(fmt::format("checking the answers failed: {}", e.what()));
  }
  std::filesystem::create_directories(options.out_dir / "timeseries");
  write_lag_csv(m.lag, options.out_dir / "timeseries" / "replica_lag.csv");
  results::write_json(options.out_dir / "summary.json", outcome.summary);
  if (servers) {
    log("stopping the loopback cluster");
    servers.reset();
  }
  if (options.simulate) {
    // The scenario as written, and, when it names a calibration, also with the engine's own
    // costs: what the calibration changed is then in the table too.
    std::vector<SimulatedTwin> twins;
    twins.push_back({s.hardware.calibration.empty()
                         ? std::string("engine")
                         : std::filesystem::path(s.hardware.calibration).stem().string(),
                     s.hardware.calibration,
                     {},
                     options.out_dir / "simulated"});
    if (!s.hardware.calibration.empty()) {
      twins.push_back({"engine", "", {}, options.out_dir / "simulated" / "engine"});
    }
    for (SimulatedTwin& twin : twins) {
      log(fmt::format("simulating the same scenario (calibration: {})", twin.label));
      scenarios::Scenario simulated = s;
      simulated.hardware.calibration = twin.calibration;
      experiment::ExperimentOptions sim_options;
      sim_options.out_dir = twin.dir;
      twin.output = experiment::run_experiment(simulated, s.run.seed, sim_options);
    }
    outcome.fidelity = write_fidelity(s, outcome.summary, twins, m, options.out_dir);
  }
  return outcome;
}

}  // namespace shardlab::live
