// What a run observes while it runs: the workload's outcomes (Collector, fed by the workload
// driver) and the gauges sampled at a fixed interval (network use, rows per shard, replica lag,
// queued async rows). Both count only simulated time.
#pragma once

#include <cstdint>
#include <vector>

#include "results/latency_histogram.h"
#include "results/time_series.h"
#include "scenarios/scenario.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/workload.h"
#include "sim/core/simulation.h"
#include "sim/core/trace.h"
#include "sim/hw/network.h"

namespace shardlab::experiment {

// Every insert and query outcome. Queries that started before the warm-up ended are left out.
class Collector : public sim::cluster::WorkloadObserver {
 public:
  Collector(const scenarios::Scenario& s, sim::Duration warmup, sim::Duration interval);

  // Also records every insert and query as a slice of the workload's tracks in `tracer` (not
  // owned; null: none).
  void set_tracer(sim::Tracer* tracer);

  void insert_done(sim::Time at, uint64_t rows, sim::Duration latency, bool ok) override;
  void query_done(sim::Time at, size_t query, sim::Duration latency, bool ok) override;
  // Rows of an INSERT reached their shard `delay` after the INSERT arrived (Cluster's
  // DeliveryListener): one sample per block, warm-up included, since a backlog built up early
  // still delays what follows.
  void insert_delivered(sim::Duration delay);

  const results::LatencyHistogram& ingest_delay() const { return ingest_delay_; }

  results::TimeSeries& series() { return series_; }
  const results::TimeSeries& series() const { return series_; }
  const results::LatencyHistogram& histogram(size_t q) const { return histograms_[q]; }
  uint64_t errors(size_t q) const { return errors_[q]; }

 private:
  sim::Duration warmup_;
  results::TimeSeries series_;
  results::TimeSeries::ColumnId rows_column_ = 0;
  std::vector<results::TimeSeries::ColumnId> qps_columns_;
  std::vector<results::TimeSeries::ColumnId> p99_columns_;
  std::vector<results::LatencyHistogram> histograms_;
  std::vector<uint64_t> errors_;
  results::LatencyHistogram ingest_delay_;
  sim::Tracer* tracer_ = nullptr;
  uint32_t insert_track_ = 0;
  std::vector<uint32_t> query_tracks_;
  std::vector<std::string> query_names_;
};

// Gauges sampled every interval: network use of each node's links, replica lag, rows per shard,
// the ingest backlog.
struct Gauges {
  results::TimeSeries utilisation;
  results::TimeSeries shards;
  std::vector<std::vector<sim::LinkId>> node_links;  // links touching each node's host
  std::vector<double> network_sum;                   // per node, sum of samples
  std::vector<uint64_t> last_sent;                   // per node, at the last sample
  std::vector<uint64_t> last_received;
  std::vector<double> network_peak;  // per node, the busiest sample
  uint64_t samples = 0;
  explicit Gauges(sim::Duration interval) : utilisation(interval.ns()), shards(interval.ns()) {}
};

// Gauges with a column for every node resource and shard of `cluster`.
Gauges make_gauges(sim::cluster::Cluster& cluster, const sim::Network& network,
                   sim::Duration interval);

// The sampling process. REQUIRES: everything referenced outlives the simulation's run.
sim::Process sample_gauges(sim::Simulation& sim, sim::cluster::Cluster& cluster,
                           sim::Network& network, Gauges& gauges, sim::Duration interval);

}  // namespace shardlab::experiment
