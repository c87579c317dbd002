// The load a scenario puts on a cluster: generated rows arriving along the diurnal curve in
// batches, and named query templates sent by clients.
//
// Ingest. Simulated time 0 is the data set's start; row i is due when the clock reaches its
// event time minus the start, so the insert rate follows the generator's diurnal curve. The
// client collects due rows into a batch and sends it once it holds batch_rows rows, or
// batch_interval after its first row became due, whichever comes first. Batches go to the
// initiators in turn.
//
// Queries. Each template has `clients` clients, client c connected to initiator c (in turn).
// With rate_per_s > 0 arrivals are Poisson at that total rate, spread evenly over the clients;
// with rate_per_s = 0 each client is a closed loop, sending its next query when an answer
// arrives. A client keeps at most `concurrency` queries in flight; arrivals beyond that wait in
// the client and their latency includes the wait, so overload shows as latency, not lost load.
// The SQL may hold placeholders for the simulated clock and for parameters drawn from the
// generator's distributions ({now-7d}, {today}, {user}, {item}, {province}:
// workloads/query_template.h), so each query a client sends is the template with them filled in.
//
// A QueryFrontend (a cache tier) may stand between the clients and the cluster: it then serves
// every query and hears of every acknowledged INSERT.
//
// Everything observed goes to a WorkloadObserver; the layers above (results/) keep histograms
// and time series.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shardlab/engine/query.h"
#include "sim/cluster/cluster.h"
#include "workloads/engine_block.h"
#include "workloads/generator_config.h"
#include "workloads/query_template.h"

namespace shardlab::sim::cluster {

struct IngestLoad {
  workloads::GeneratorConfig generator;
  uint64_t rows = 0;  // rows to insert (<= the generator's total; those due before the end)
  uint64_t batch_rows = 100'000;
  Duration batch_interval = Duration::seconds(1);
  std::vector<size_t> initiators;  // node indices; empty: every node in turn
};

struct QueryLoad {
  std::string name;
  std::string sql;
  double rate_per_s = 0;  // total Poisson rate over the clients; 0: closed-loop clients
  uint32_t concurrency = 1;  // in flight per client
  uint32_t clients = 1;
  Duration think_time;  // closed loop: mean exponential pause after each answer
  std::vector<size_t> initiators;  // empty: every node in turn
};

class WorkloadObserver {
 public:
  virtual ~WorkloadObserver() = default;
  virtual void insert_done(Time at, uint64_t rows, Duration latency, bool acknowledged) = 0;
  virtual void query_done(Time at, size_t query, Duration latency, bool ok) = 0;
};

// One query as a client sends it: the template with its placeholders filled in, prepared.
struct QueryRequest {
  size_t template_index = 0;
  size_t initiator = 0;  // the cluster node the client is connected to
  // The template's name and its parameter values, and for a template that reads the clock the
  // start of its clock bucket (a minute unless set_clock_bucket said otherwise): requests with
  // equal keys ask the same question, and a cache may answer one with the other's answer.
  std::string key;
  // The parameter values drawn, and which the template uses: bit (1 << QueryParameter).
  workloads::ParameterValues values;
  uint8_t parameters = 0;
  std::string sql;
  std::shared_ptr<const engine::Query> query;
  std::shared_ptr<const std::vector<bool>> shards;  // the shards the query must visit
};

class QueryFrontend {
 public:
  virtual ~QueryFrontend() = default;
  // Serves the query to the end; throws SimFault when it fails.
  virtual Process serve(QueryRequest request) = 0;
  // An INSERT of `block` through `initiator` was acknowledged (now).
  virtual void insert_acknowledged(size_t initiator,
                                   std::shared_ptr<const engine::Block> block) = 0;
};

class WorkloadDriver {
 public:
  // Validates every template (placeholders and SQL, against the cluster's table) at the start
  // of the run. Throws InputError naming the template.
  WorkloadDriver(Simulation& sim, Cluster& cluster, IngestLoad ingest,
                 std::vector<QueryLoad> queries, WorkloadObserver& observer);

  // Spawns the ingest and query processes; nothing arrives at or after `end`.
  void start(Time end);

  // Sends no more queries of template `index` (those in flight finish).
  void stop_query(size_t index) { templates_[index]->stopped = true; }

  // Serves every query through `frontend` (not owned; null: straight to the cluster). Call
  // before start().
  void set_frontend(QueryFrontend* frontend) { frontend_ = frontend; }
  // The time bucket in the keys of templates that read the clock. REQUIRES: whole seconds, > 0.
  void set_clock_bucket(Duration bucket) { clock_bucket_s_ = bucket.ns() / 1'000'000'000; }
  size_t templates() const { return templates_.size(); }
  const std::string& template_name(size_t index) const { return templates_[index]->load.name; }

  uint64_t batches_sent() const { return batches_sent_; }
  // Queries sent (to the frontend, or straight to the cluster) in each second of simulated time.
  const std::vector<uint32_t>& queries_sent_per_s() const { return queries_sent_per_s_; }
  uint64_t rows_due(Time at) const;  // rows due by `at`
  Time due_at(int64_t event_time) const;  // when a row of that event second falls due

 private:
  struct Client {
    size_t initiator = 0;
    RandomStream parameters;      // draws the template's parameter values
    uint32_t busy = 0;            // queries in flight
    std::vector<Future> waiting;  // arrivals waiting for a slot, in order
  };
  struct Template {
    Template(QueryLoad l, workloads::QueryTemplateText t)
        : load(std::move(l)), text(std::move(t)) {}
    QueryLoad load;
    workloads::QueryTemplateText text;
    std::vector<Client> clients;
    std::shared_ptr<const engine::Query> cached;  // the last prepared text, kept by its users
    std::string cached_sql;
    std::shared_ptr<const std::vector<bool>> shards;  // the shards cached_sql must visit
    bool stopped = false;
  };

  Process run_ingest(Time end);
  Process run_insert(size_t initiator, uint64_t first_row, uint64_t rows);
  Process run_open_client(size_t index, size_t client, Time end);
  Process run_closed_client(size_t index, size_t client, Time end);
  Process run_query(size_t index, size_t client, bool* done);
  size_t initiator_for(const std::vector<size_t>& initiators, uint64_t counter) const;
  // Prepares `sql` (the last text of each template is kept) as a request of template `index`.
  QueryRequest make_request(size_t index, size_t initiator, std::string key, std::string sql);
  // The next query of template `index` from a client at `initiator`, parameters drawn by `rng`.
  QueryRequest next_request(size_t index, size_t initiator, RandomStream& rng);

  Simulation& sim_;
  Cluster& cluster_;
  IngestLoad ingest_;
  workloads::EngineBlockSource source_;
  WorkloadObserver& observer_;
  workloads::ParameterSampler parameters_;
  std::vector<std::unique_ptr<Template>> templates_;
  QueryFrontend* frontend_ = nullptr;
  int64_t clock_bucket_s_ = 60;
  std::vector<uint32_t> queries_sent_per_s_;
  uint64_t batches_sent_ = 0;
};

}  // namespace shardlab::sim::cluster
