// The scenario's workload played in real time against real servers: the same insert schedule,
// query arrivals, parameter draws and fault times as the simulator's WorkloadDriver, on the run's
// clock (run.speed already compressed the day's axis when the scenario was loaded), measured
// with the wall clock.
//
//  * Inserts: rows fall due as in the simulator; a batch closes at batch_rows rows or
//    batch_interval after its first row, whichever comes first, and goes to the next initiator
//    in turn as one TabSeparated INSERT into the Distributed table (insert_distributed_sync and
//    insert_quorum as the scenario says). A small pool sends them, so a slow INSERT delays the
//    next ones only when the pool is busy, as concurrent clients would.
//  * Queries: per template, `clients` clients (initiators in turn, in the simulator's order),
//    each with `concurrency` connections. Open clients draw Poisson arrivals and a query waiting
//    for a free connection counts its wait in its latency; closed clients send the next query
//    after the answer and an exponential think time.
//  * The cache tier (strategy ttl): a cached template asks memcached first (libmemcached, the
//    scenario's distribution), and on a miss asks the cluster and stores the answer with the TTL.
//  * Faults: node_crash is kill -9 of the server, process_restart SIGTERM; each is started again
//    after its duration.
//  * Replica lag: every second, the largest system.replicas.absolute_delay of each server, and
//    for a server that does not answer the time since it last did.
//  * Servers' CPU (servers this run started): every second, each clickhouse-server process's
//    user + system time from /proc; a killed process counts up to its last sample, a restarted
//    one from its start.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "live/live_tables.h"
#include "live/loopback_cluster.h"
#include "results/latency_histogram.h"
#include "scenarios/scenario.h"

namespace shardlab::live {

struct LiveTarget {
  std::map<std::string, Endpoint> clickhouse;  // by scenario node name
  std::vector<Endpoint> memcached;             // the cache nodes, in the scenario's order
  LiveTables tables;
  LoopbackCluster* servers = nullptr;  // plays the faults; null when the servers are not ours
};

struct TemplateMeasurement {
  std::string name;
  results::LatencyHistogram latency;  // ns, answered executions
  uint64_t errors = 0;
  double target_s = 0;
  // The cache tier, for cached templates.
  bool cached = false;
  uint64_t cache_requests = 0;
  uint64_t cache_hits = 0;
};

struct FaultEvent {
  double at_s = 0;
  std::string target;
  std::string event;  // "failed" | "repaired"
};

struct LagSeries {
  std::vector<double> time_s;  // sample instants of the run
  // Per node: system.replicas' largest absolute_delay; while the server does not answer, the
  // time since it last did.
  std::map<std::string, std::vector<double>> lag;
  // Per node: rows in its active parts of live mode's database; NaN while it does not answer.
  std::map<std::string, std::vector<double>> rows;
};

struct WorkloadMeasurement {
  double run_s = 0;  // the run's length as played
  uint64_t batches = 0;
  uint64_t rows_sent = 0;
  uint64_t rows_acknowledged = 0;
  uint64_t rows_rejected = 0;
  results::LatencyHistogram insert_latency;  // ns: batch closed -> INSERT acknowledged
  // (first row, rows) of every acknowledged INSERT, in the order the acknowledgements came.
  std::vector<std::pair<uint64_t, uint64_t>> acknowledged_batches;
  std::vector<TemplateMeasurement> templates;
  std::vector<FaultEvent> faults;
  LagSeries lag;
  // CPU seconds the clickhouse-servers used over the run (user + system, from /proc), across
  // restarts; only for servers this run started (a LiveTarget with servers).
  std::optional<double> server_cpu_s;
  std::vector<std::string> insert_errors;  // the first few, for the log
};

// Plays the run and returns what it measured. `log` gets progress lines. Stops early, with
// what it has, when interrupted() turns true. REQUIRES: the tables exist on every server.
WorkloadMeasurement play_workload(const scenarios::Scenario& s, const LiveTarget& target,
                                  const std::function<void(const std::string&)>& log);

// The prefix of the query_id the run's logged template queries (one in eight, with log_queries)
// are sent with: system.query_log's initial_query_id finds them and their shards' subqueries.
std::string query_id_prefix(const LiveTables& tables);

// Insert settings of the scenario: insert_distributed_sync, insert_quorum, and what 18.16
// needs for LowCardinality columns.
std::map<std::string, std::string> insert_settings(const scenarios::Scenario& s);

}  // namespace shardlab::live
