#include "experiment/run_metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace shardlab::experiment {

using sim::Duration;
using sim::Time;

Collector::Collector(const scenarios::Scenario& s, Duration warmup, Duration interval)
    : warmup_(warmup), series_(interval.ns()), histograms_(s.workload.queries.size()),
      errors_(s.workload.queries.size(), 0) {
  rows_column_ = series_.add_column("rows_inserted_per_s", results::Aggregation::kRate);
  for (const scenarios::QueryTemplate& q : s.workload.queries) {
    qps_columns_.push_back(series_.add_column(q.name + ".queries_per_s",
                                              results::Aggregation::kRate));
    p99_columns_.push_back(series_.add_column(q.name + ".p99_s", results::Aggregation::kQuantile,
                                              0.99));
    query_names_.push_back(q.name);
  }
  query_tracks_.assign(query_names_.size(), 0);
}

void Collector::set_tracer(sim::Tracer* tracer) {
  tracer_ = tracer;
  if (!tracer_) return;
  insert_track_ = tracer_->track("workload", "inserts");
  for (size_t q = 0; q < query_tracks_.size(); ++q) {
    query_tracks_[q] = tracer_->track("workload", "query " + query_names_[q]);
  }
}

void Collector::insert_done(Time at, uint64_t rows, Duration latency, bool ok) {
  if (tracer_) {
    tracer_->slice(insert_track_, ok ? fmt::format("insert {} rows", rows) : "insert failed",
                   at - latency, at);
  }
  if (ok) series_.add(at.ns(), rows_column_, static_cast<double>(rows));
}

void Collector::insert_delivered(Duration delay) { ingest_delay_.record(delay.ns()); }

void Collector::query_done(Time at, size_t query, Duration latency, bool ok) {
  if (tracer_) {
    tracer_->slice(query_tracks_[query], ok ? query_names_[query] : query_names_[query] + " failed",
                   at - latency, at);
  }
  if (at - latency < Time::zero() + warmup_) return;
  if (!ok) {
    ++errors_[query];
    return;
  }
  histograms_[query].record(latency.ns());
  series_.add(at.ns(), qps_columns_[query], 1.0);
  series_.record_latency(at.ns(), p99_columns_[query], latency.ns());
}

Gauges make_gauges(sim::cluster::Cluster& cluster, const sim::Network& network,
                   Duration interval) {
  Gauges gauges(interval);
  const size_t nodes = cluster.node_count();
  for (size_t n = 0; n < nodes; ++n) {
    std::vector<sim::LinkId> links;
    for (size_t l = 0; l < network.link_count(); ++l) {
      const auto link = static_cast<sim::LinkId>(l);
      if (network.link_a(link) == cluster.host(n) || network.link_b(link) == cluster.host(n)) {
        links.push_back(link);
      }
    }
    gauges.node_links.push_back(std::move(links));
  }
  gauges.network_sum.assign(nodes, 0.0);
  gauges.last_sent.assign(nodes, 0);
  gauges.last_received.assign(nodes, 0);
  gauges.network_peak.assign(nodes, 0.0);
  for (size_t n = 0; n < nodes; ++n) {
    for (const char* resource : {"cpu", "disk", "network"}) {
      gauges.utilisation.add_column(cluster.node(n).name() + "." + resource,
                                    results::Aggregation::kMean);
    }
  }
  for (size_t shard = 0; shard < cluster.total_shards(); ++shard) {
    gauges.shards.add_column(fmt::format("shard{}.rows", shard + 1), results::Aggregation::kLast);
  }
  gauges.shards.add_column("replica_lag_s", results::Aggregation::kMax);
  gauges.shards.add_column("async_queued_rows", results::Aggregation::kLast);
  gauges.shards.add_column("ingest_backlog_rows", results::Aggregation::kMax);
  return gauges;
}

sim::Process sample_gauges(sim::Simulation& sim, sim::cluster::Cluster& cluster,
                           sim::Network& network, Gauges& gauges, Duration interval) {
  for (;;) {
    co_await sim.sleep(interval);
    const int64_t t = sim.now().ns() - interval.ns();  // the interval just ended
    for (size_t n = 0; n < cluster.node_count(); ++n) {
      // The busier direction of the node's links over the interval: bytes moved over what the
      // links could carry (full duplex, so each direction has the full bandwidth).
      double capacity = 0;
      for (sim::LinkId link : gauges.node_links[n]) capacity += network.link_bandwidth(link);
      const uint64_t sent = cluster.bytes_sent(n);
      const uint64_t received = cluster.bytes_received(n);
      const double moved = static_cast<double>(
          std::max(sent - gauges.last_sent[n], received - gauges.last_received[n]));
      gauges.last_sent[n] = sent;
      gauges.last_received[n] = received;
      const double use = capacity > 0 ? std::min(1.0, moved / (capacity * interval.seconds())) : 0;
      gauges.network_sum[n] += use;
      gauges.network_peak[n] = std::max(gauges.network_peak[n], use);
      gauges.utilisation.add(t, cluster.node(n).name() + ".network", use);
    }
    ++gauges.samples;
    const auto states = cluster.shard_states();
    for (size_t s = 0; s < states.size(); ++s) {
      gauges.shards.add(t, fmt::format("shard{}.rows", s + 1), static_cast<double>(states[s].rows));
    }
    gauges.shards.add(t, "replica_lag_s", cluster.current_replica_lag().seconds());
    gauges.shards.add(t, "async_queued_rows", static_cast<double>(cluster.queued_rows()));
    const sim::cluster::ClusterCounters& c = cluster.counters();
    const double backlog = static_cast<double>(c.rows_sent - c.rows_acknowledged - c.rows_rejected +
                                               cluster.queued_rows());
    gauges.shards.add(t, "ingest_backlog_rows", backlog);
  }
}

}  // namespace shardlab::experiment
