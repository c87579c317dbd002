#include "live/live_probes.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "base/errors.h"
#include "live/clickhouse_client.h"
#include "live/inventory.h"
#include "live/live_run.h"
#include "live/live_tables.h"
#include "live/live_workload.h"
#include "live/loopback_cluster.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/table.h"
#include "shardlab/engine/tsv_format.h"
#include "workloads/engine_block.h"
#include "workloads/query_template.h"

namespace shardlab::live {

namespace {

constexpr const char* kProbeDatabase = "shardlab_probe";
constexpr uint64_t kLoadBlockRows = 50'000;
constexpr uint64_t kInsertSizes[] = {100, 1'000, 10'000};

template <typename F>
double median_seconds(int repeat, F&& once) {
  once();  // warm-up: caches, connections, the page cache
  std::vector<double> times;
  for (int i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    once();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// `sql` with whole-word occurrences of `table` renamed to `renamed`.
std::string rename_table(const std::string& sql, const std::string& table,
                         const std::string& renamed) {
  std::string out;
  size_t at = 0;
  const auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  for (size_t found; (found = sql.find(table, at)) != std::string::npos;
       at = found + table.size()) {
    const bool whole = (found == 0 || !is_word(sql[found - 1])) &&
                       (found + table.size() == sql.size() || !is_word(sql[found + table.size()]));
    out += sql.substr(at, found - at) + (whole ? renamed : table);
  }
  return out + sql.substr(at);
}

uint64_t count_on(ClickHouseClient& client, const std::string& table) {
  return std::strtoull(client.query("SELECT count() FROM " + table).c_str(), nullptr, 10);
}

}  // namespace

LiveProbes measure_live_probes(const scenarios::Scenario& s, const ProbeOptions& options) {
  const auto log = options.log ? options.log : [](const std::string&) {};
  check_playable(s, /*own_servers=*/options.hosts.empty());
  LiveProbes probes;
  probes.rows = options.rows;
  probes.repeat = options.repeat;
  // A fresh cluster every time: what an interrupted run left is no part of this one.
  const std::string run_id =
      fmt::format("probe{}", std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
  // The scenario's cluster on loopback, or the inventory's servers (inside its database).
  std::optional<Inventory> inventory;
  if (!options.hosts.empty()) {
    inventory = load_inventory(options.hosts, s);
    check_reachable(*inventory);
  }
  const std::string database = inventory ? inventory->database : kProbeDatabase;
  // Tables of the probe's own (TABLE_probe, TABLE_probe_local): a live run's tables in the same
  // database are left alone.
  scenarios::Scenario renamed = s;
  const std::string probe_table = s.table.schema.name + "_probe";
  renamed.table.schema.name = probe_table;
  const LiveTables tables =
      live_tables(renamed, database, inventory ? inventory->cluster : "shardlab", run_id);
  std::unique_ptr<LoopbackCluster> loopback;
  std::map<std::string, Endpoint> servers;
  if (inventory) {
    for (const scenarios::NodeConfig& node : s.cluster.nodes) {
      servers[node.name] = inventory->find(node.name)->endpoint;
    }
  } else {
    std::filesystem::remove_all(options.work_dir / "servers");
    std::filesystem::create_directories(options.work_dir);
    loopback = std::make_unique<LoopbackCluster>(
        loopback_options(s, tables, options.work_dir / "servers"));
    for (const scenarios::NodeConfig& node : s.cluster.nodes) {
      servers[node.name] = loopback->clickhouse_http(node.name);
    }
  }
  const std::string first = s.cluster.placement[0][0];
  ClickHouseClient client(servers.at(first), std::chrono::milliseconds(120'000), database);
  for (const scenarios::NodeConfig& node : s.cluster.nodes) {
    ClickHouseClient each(servers.at(node.name), std::chrono::milliseconds(60'000));
    each.query("CREATE DATABASE IF NOT EXISTS " + tables.database);
    // Only the probe's own tables, inside live mode's database, are ever dropped.
    each.query("DROP TABLE IF EXISTS " + tables.distributed);
    each.query("DROP TABLE IF EXISTS " + tables.local);
    each.query(tables.local_ddl, {{"allow_experimental_low_cardinality_type", "1"}});
    each.query(tables.distributed_ddl, {{"allow_experimental_low_cardinality_type", "1"}});
  }
  probes.server_version = client.query("SELECT version()");
  probes.server_version.erase(probes.server_version.find_last_not_of("\n") + 1);

  // The rows: on the first server's local table, and in an engine table beside it, in two
  // stages (a quarter, then all), so that the probes see two amounts of work per template and
  // the fit can tell a query's fixed cost from its cost per unit of work.
  const std::filesystem::path engine_dir = options.work_dir / "engine_table";
  std::filesystem::remove_all(engine_dir);
  auto table = engine::Table::create(engine_dir, s.table.ddl);
  workloads::EngineBlockSource source(s.workload.generator, s.table.schema);
  engine::Block block;
  std::string tsv;
  const std::map<std::string, std::string> low_cardinality{
      {"allow_experimental_low_cardinality_type", "1"}};
  const uint64_t available = source.generator().total_rows();
  const uint64_t rows = std::min(options.rows, available / 2);
  const int64_t data_end = s.workload.generator.start + int64_t{s.workload.generator.days} * 86400;
  uint64_t loaded = 0;
  for (const uint64_t stage : {rows / 4, rows}) {
    log(fmt::format("loading {} rows into {} and the embedded engine", stage, first));
    for (; loaded < stage; loaded += std::min(kLoadBlockRows, stage - loaded)) {
      source.fill(loaded, static_cast<size_t>(std::min(kLoadBlockRows, stage - loaded)), &block);
      tsv.clear();
      engine::append_tsv(block.columns, &tsv);
      client.insert(tables.local, tsv, low_cardinality);
      table->insert(block);
    }
    // Both sides fully merged: a settled replica, and no merge running while queries are timed.
    // 18.16's replicated OPTIMIZE can refuse while a merge it assigned is still in its log
    // ("Unknown log entry type: 0"); it succeeds once that merge is done.
    for (int attempt = 1;; ++attempt) {
      try {
        client.query("OPTIMIZE TABLE " + tables.local + " FINAL");
        break;
      } catch (const ClickHouseError& e) {
        if (attempt == 10) throw;
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
    table->optimize(true, data_end);
    // The other replicas of the first shard catch up before anything is timed.
    for (const std::string& node : s.cluster.placement[0]) {
      ClickHouseClient replica(servers.at(node), std::chrono::milliseconds(10'000));
      for (int wait = 0; wait < 120 && count_on(replica, tables.local) < stage; ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    }
    if (probes.select_one_s == 0) {
      log("timing SELECT 1");
      probes.select_one_s = median_seconds(options.repeat, [&] { client.query("SELECT 1"); });
    }
    for (const scenarios::QueryTemplate& q : s.workload.queries) {
      QueryProbe probe;
      probe.name = fmt::format("{} @{} rows", q.name, stage);
      probe.sql = workloads::QueryTemplateText(q.sql).expand(data_end, {});
      const std::string local_sql =
          rename_table(probe.sql, s.table.schema.name, probe_table + "_local");
      const std::string distributed_sql = rename_table(probe.sql, s.table.schema.name, probe_table);
      log(fmt::format("timing {}", probe.name));
      probe.local_s = median_seconds(options.repeat, [&] { client.query(local_sql); });
      probe.distributed_s = median_seconds(options.repeat, [&] { client.query(distributed_sql); });
      const engine::QueryResult result =
          engine::Query::prepare(table->schema(), probe.sql)->run(table->active_parts());
      probe.profile = result.profile;
      probe.groups = result.rows();
      probes.queries.push_back(std::move(probe));
    }
  }
  probes.rows = rows;

  if (s.cluster.replicas > 1) {
    // system.zookeeper lists a path's children and reads each: on a leaf (the replica's host
    // node), exactly one getChildren, one round trip.
    const std::string local_table = tables.local.substr(tables.local.find('.') + 1);
    std::string replica_path = client.query(
        fmt::format("SELECT replica_path FROM system.replicas WHERE database = {} AND table = {}",
                    sql_quote(tables.database), sql_quote(local_table)));
    replica_path.erase(replica_path.find_last_not_of("\n") + 1);
    log("timing a ZooKeeper round trip");
    const double with_zookeeper = median_seconds(options.repeat, [&] {
      client.query(fmt::format("SELECT count() FROM system.zookeeper WHERE path = {}",
                               sql_quote(replica_path + "/host")));
    });
    const double without = median_seconds(
        options.repeat, [&] { client.query("SELECT count() FROM system.one WHERE dummy = 0"); });
    probes.zookeeper_round_trip_s = std::max(0.0, with_zookeeper - without);
  }

  log("timing sync INSERTs");
  const std::map<std::string, std::string> insert = insert_settings(s);
  std::map<std::string, std::string> sync = insert;
  sync["insert_distributed_sync"] = "1";
  uint64_t next_row = rows;
  const std::filesystem::path scratch_dir = options.work_dir / "engine_insert";
  for (const uint64_t size : kInsertSizes) {
    if (next_row + size * (options.repeat + 1) > available) break;
    InsertProbe probe;
    probe.rows = size;
    std::filesystem::remove_all(scratch_dir);
    auto scratch = engine::Table::create(scratch_dir, s.table.ddl);
    source.fill(next_row, static_cast<size_t>(size), &block);
    const engine::InsertResult written = scratch->insert(block);
    probe.bytes = written.uncompressed_bytes;
    probe.parts = written.parts.size();
    probe.seconds = median_seconds(options.repeat, [&] {
      source.fill(next_row, static_cast<size_t>(size), &block);
      next_row += size;
      tsv.clear();
      engine::append_tsv(block.columns, &tsv);
      client.insert(tables.distributed, tsv, sync);
    });
    probes.inserts.push_back(probe);
  }
  table.reset();
  std::filesystem::remove_all(engine_dir);
  std::filesystem::remove_all(scratch_dir);
  return probes;
}

}  // namespace shardlab::live
