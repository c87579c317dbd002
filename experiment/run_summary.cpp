#include "experiment/run_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "shardlab/engine/query.h"

namespace shardlab::experiment {

results::Json cluster_json(const scenarios::Scenario& s) {
  const std::string& key = s.cluster.sharding.key;
  return {{"nodes", s.cluster.nodes.size()},
          {"shards", s.cluster.shards},
          {"replicas", s.cluster.replicas},
          {"sharding", std::string(scenarios::sharding_kind_name(s.cluster.sharding.kind)) +
                           (key.empty() ? std::string() : " " + key)},
          {"insert_mode", scenarios::insert_mode_name(s.cluster.insert_mode)},
          {"internal_replication", s.cluster.internal_replication},
          {"insert_quorum", s.cluster.insert_quorum},
          {"load_balancing", scenarios::load_balancing_name(s.cluster.load_balancing)},
          // Whose costs the run charged: a calibration file by name (not its path, which is
          // this machine's), or the shipped defaults, the embedded engine's own costs.
          {"calibration", s.hardware.calibration.empty()
                              ? std::string("engine (shipped defaults)")
                              : std::filesystem::path(s.hardware.calibration).stem().string()}};
}

namespace {

using sim::Duration;
namespace cl = sim::cluster;

results::Json inserts_json(const FinishedRun& run, Metrics* metrics) {
  const cl::ClusterCounters& c = run.cluster.counters();
  metrics->emplace_back("inserts.rows_acknowledged", static_cast<double>(c.rows_acknowledged));
  metrics->emplace_back("inserts.rows_lost", static_cast<double>(c.rows_lost));
  metrics->emplace_back("inserts.rows_queryable", static_cast<double>(run.rows_queryable));
  // Blocks still queued at the end (an initiator that never came back) are the most delayed of
  // all: their age counts too.
  results::LatencyHistogram delay = run.collector.ingest_delay();
  for (const Duration age : run.cluster.queued_block_ages()) delay.record(age.ns());
  const double delay_p99_s = delay.empty() ? 0.0 : delay.quantile(0.99) * 1e-9;
  const double delay_max_s = delay.empty() ? 0.0 : delay.max() * 1e-9;
  const bool kept_up = delay_p99_s <= kIngestDelayBound_s;
  metrics->emplace_back("inserts.delay_p99_s", delay_p99_s);
  metrics->emplace_back("inserts.kept_up", kept_up ? 1.0 : 0.0);
  results::Json out = {{"batches", c.inserts},
          {"rows_sent", c.rows_sent},
          {"rows_acknowledged", c.rows_acknowledged},
          {"rows_lost", c.rows_lost},
          {"rows_rejected", c.rows_rejected},
          {"rows_queryable", run.rows_queryable},
          {"delay_p99_s", results::json_number(delay_p99_s)},
          {"delay_max_s", results::json_number(delay_max_s)},
          {"kept_up", kept_up}};
  // Only runs with history carry it, so other summaries stay as they were.
  if (run.cluster.rows_preloaded() > 0) out["rows_preloaded"] = run.cluster.rows_preloaded();
  return out;
}

results::Json queries_json(const FinishedRun& run, Metrics* metrics) {
  const scenarios::Scenario& s = run.scenario;
  results::Json out = results::Json::object();
  for (size_t q = 0; q < s.workload.queries.size(); ++q) {
    const scenarios::QueryTemplate& t = s.workload.queries[q];
    const results::LatencyHistogram& h = run.collector.histogram(q);
    results::Json entry = results::latency_json(h, run.collector.errors(q));
    if (t.target_latency_s > 0) {
      entry["target_s"] = results::json_number(t.target_latency_s);
      entry["p99_meets_target"] = !h.empty() && h.quantile(0.99) * 1e-9 <= t.target_latency_s;
    }
    // What one execution costs on the final data: the exact work the planner's screen scales.
    // A template with placeholders ({user}, {now}) has no single SQL text to cost: no work.
    if (t.sql.find('{') == std::string::npos) {
      const std::unique_ptr<engine::Query> query =
          engine::Query::prepare(run.cluster.schema(), t.sql);
      const cl::QueryWork work = run.cluster.work_of(*query);
      entry["work"] = {{"cpu_s", results::json_number(work.cpu_s)},
                       {"max_shard_cpu_s", results::json_number(work.max_shard_cpu_s)},
                       {"initiator_cpu_s", results::json_number(work.initiator_cpu_s)},
                       {"disk_bytes", work.disk_bytes},
                       {"result_bytes", work.result_bytes},
                       {"shards", work.shards}};
    }
    out[t.name] = std::move(entry);
    if (!h.empty()) {
      metrics->emplace_back("queries." + t.name + ".mean_s", h.mean() * 1e-9);
      metrics->emplace_back("queries." + t.name + ".p50_s", h.quantile(0.5) * 1e-9);
      metrics->emplace_back("queries." + t.name + ".p99_s", h.quantile(0.99) * 1e-9);
      // 1 when the p99 meets the template's target: over replications, the share that did.
      if (t.target_latency_s > 0) {
        metrics->emplace_back("queries." + t.name + ".p99_meets_target",
                              h.quantile(0.99) * 1e-9 <= t.target_latency_s ? 1.0 : 0.0);
      }
    }
  }
  return out;
}

// "shards" and "skew": rows, bytes and parts per shard, and the largest shard over the mean.
void add_shards(const FinishedRun& run, results::Json* summary, Metrics* metrics) {
  results::Json shards = results::Json::array();
  const auto states = run.cluster.shard_states();
  uint64_t max_rows = 0;
  uint64_t total_rows = 0;
  for (size_t i = 0; i < states.size(); ++i) {
    shards.push_back({{"shard", i + 1}, {"rows", states[i].rows}, {"bytes", states[i].bytes},
                      {"parts", states[i].parts}});
    max_rows = std::max(max_rows, states[i].rows);
    total_rows += states[i].rows;
  }
  const double mean_rows = static_cast<double>(total_rows) / static_cast<double>(states.size());
  const double skew = mean_rows > 0 ? static_cast<double>(max_rows) / mean_rows : 0.0;
  (*summary)["shards"] = std::move(shards);
  (*summary)["skew"] = {{"rows_max_over_mean", results::json_number(skew)}};
  metrics->emplace_back("skew.rows_max_over_mean", skew);
}

// The busiest window of `window` consecutive per-second values, as their mean (over the whole
// series when it is shorter), so that a one-second burst does not count as a busy interval.
double peak_window_mean(const std::vector<double>& per_second, size_t window) {
  window = std::clamp<size_t>(window, 1, std::max<size_t>(1, per_second.size()));
  double sum = 0;
  double peak = 0;
  for (size_t i = 0; i < per_second.size(); ++i) {
    sum += per_second[i];
    if (i >= window) sum -= per_second[i - window];
    if (i + 1 >= window) peak = std::max(peak, sum / static_cast<double>(window));
  }
  return peak;
}

// The busiest node of each resource over the busiest sampling interval, and the resource
// nearest saturation: the bottleneck a larger load would hit first.
struct PeakUse {
  double value = 0;
  std::string node;
};

results::Json peaks_json(const std::vector<std::pair<const char*, PeakUse>>& peaks,
                         Metrics* metrics) {
  results::Json out = results::Json::object();
  const auto busiest = std::max_element(peaks.begin(), peaks.end(), [](const auto& a, const auto& b) {
    return a.second.value < b.second.value;
  });
  for (const auto& [resource, use] : peaks) {
    out[resource] = {{"peak", results::json_number(use.value)}, {"node", use.node}};
    metrics->emplace_back(fmt::format("utilisation.peak_{}", resource), use.value);
  }
  out["bottleneck"] = busiest->first;
  return out;
}

// Mean utilisation per node over the run; also fills the per-second CPU and disk gauges, and
// the peaks per resource.
results::Json nodes_json(const FinishedRun& run, std::vector<std::pair<const char*, PeakUse>>* peaks) {
  Gauges& gauges = run.gauges;
  results::Json nodes = results::Json::object();
  for (size_t n = 0; n < run.cluster.node_count(); ++n) {
    sim::Node& node = run.cluster.node(n);
    const double cpu = node.cpu().utilization().mean(run.finished) / node.cpu().cores();
    const double disk = node.disk().utilization().mean(run.finished);
    const double net =
        gauges.samples ? gauges.network_sum[n] / static_cast<double>(gauges.samples) : 0.0;
    nodes[node.name()] = {{"cpu", results::json_number(cpu)},
                          {"disk", results::json_number(disk)},
                          {"network", results::json_number(net)}};
    // Servers sharing a machine report its CPU and disk, the same figures for each of them.
    if (node.shares_machine()) nodes[node.name()]["machine"] = node.machine().name();
    std::vector<double> cpu_buckets = node.cpu().utilization().buckets(run.finished);
    const std::vector<double> disk_buckets = node.disk().utilization().buckets(run.finished);
    for (double& busy : cpu_buckets) busy /= node.cpu().cores();
    const double per_sample = static_cast<double>(gauges.utilisation.interval_ns()) * 1e-9;
    const size_t window = static_cast<size_t>(per_sample + 0.5);
    const double node_peaks[] = {peak_window_mean(cpu_buckets, window),
                                 peak_window_mean(disk_buckets, window),
                                 gauges.network_peak[n]};
    for (size_t r = 0; r < peaks->size(); ++r) {
      if (node_peaks[r] > (*peaks)[r].second.value) (*peaks)[r].second = {node_peaks[r], node.name()};
    }
    for (size_t b = 0; b < cpu_buckets.size(); ++b) {
      const int64_t t = static_cast<int64_t>(b) * Duration::seconds(1).ns();
      gauges.utilisation.add(t, node.name() + ".cpu", cpu_buckets[b]);
      gauges.utilisation.add(t, node.name() + ".disk", disk_buckets[b]);
    }
  }
  return nodes;
}

// Where the cluster's work went over the run: CPU by purpose, bytes through disks and network,
// and the data it ended with. With each template's "work", what the planner profiles.
results::Json work_json(const FinishedRun& run) {
  const cl::ClusterCounters& c = run.cluster.counters();
  uint64_t read = 0;
  uint64_t written = 0;
  uint64_t sent = 0;
  for (size_t n = 0; n < run.cluster.node_count(); ++n) {
    read += run.cluster.node(n).disk().bytes_read();
    written += run.cluster.node(n).disk().bytes_written();
    sent += run.cluster.bytes_sent(n);
  }
  uint64_t rows = 0;
  for (const cl::Cluster::ShardState& state : run.cluster.shard_states()) rows += state.rows;
  return {{"cpu_s",
           {{"split", results::json_number(c.split_cpu_s)},
            {"insert", results::json_number(c.insert_cpu_s)},
            {"merge", results::json_number(c.merge_cpu_s)},
            {"query", results::json_number(c.query_cpu_s)},
            {"initiator", results::json_number(c.initiator_cpu_s)},
            {"total", results::json_number(c.split_cpu_s + c.insert_cpu_s + c.merge_cpu_s +
                                           c.query_cpu_s + c.initiator_cpu_s)}}},
          {"disk_read_bytes", read},
          {"disk_written_bytes", written},
          {"network_bytes", sent},
          {"data_rows", rows},
          {"data_bytes", one_copy_bytes(run.cluster)}};
}

results::Json faults_json(const std::vector<sim::FaultInjector::Record>& log) {
  results::Json out = results::Json::array();
  for (const auto& record : log) {
    out.push_back({{"at_s", results::json_number(record.at.seconds())},
                   {"target", record.target},
                   {"event", record.up ? "repaired" : "failed"}});
  }
  return out;
}

}  // namespace

uint64_t one_copy_bytes(const cl::Cluster& cluster) {
  uint64_t bytes = 0;
  for (const cl::Cluster::ShardState& state : cluster.shard_states()) bytes += state.bytes;
  return bytes;
}

results::Json summarize(const FinishedRun& run, const ReshardOutcome* reshard, Metrics* metrics) {
  const scenarios::Scenario& s = run.scenario;
  const cl::ClusterCounters& c = run.cluster.counters();
  results::Json summary;
  summary["scenario"] = s.name;
  if (!s.variant.empty()) summary["variant"] = s.variant;
  summary["seed"] = run.seed;
  summary["simulated_s"] = results::json_number(run.finished.seconds());
  summary["cluster"] = cluster_json(s);
  summary["inserts"] = inserts_json(run, metrics);
  summary["queries"] = queries_json(run, metrics);
  add_shards(run, &summary, metrics);
  if (reshard) {
    summary["reshard"] = reshard_json(*reshard);
    for (auto& metric : reshard_metrics(*reshard)) metrics->push_back(std::move(metric));
  }
  std::vector<std::pair<const char*, PeakUse>> peaks = {{"cpu", {}}, {"disk", {}}, {"network", {}}};
  summary["nodes"] = nodes_json(run, &peaks);
  summary["utilisation"] = peaks_json(peaks, metrics);
  summary["replication"] = {
      {"max_lag_s", results::json_number(run.cluster.max_replica_lag().seconds())},
      {"parts_fetched", c.parts_fetched},
      {"bytes_fetched", c.bytes_fetched},
      {"merges", c.merges}};
  if (c.parts_broken > 0) {
    // Only runs with broken_part faults carry these, so other summaries stay as they were.
    summary["replication"]["parts_broken"] = c.parts_broken;
    summary["replication"]["parts_refetched"] = c.parts_refetched;
    summary["replication"]["max_part_repair_s"] =
        results::json_number(run.cluster.max_part_repair().seconds());
    summary["replication"]["rows_awaiting_repair"] = run.cluster.rows_awaiting_repair();
  }
  metrics->emplace_back("replication.max_lag_s", run.cluster.max_replica_lag().seconds());
  summary["work"] = work_json(run);
  summary["faults"] = faults_json(run.fault_log);
  summary["queries_run"] = {{"count", c.queries},          {"errors", c.query_errors},
                            {"failovers", c.failovers},    {"shard_failures", c.shard_failures},
                            {"shards_pruned", c.shards_pruned},
                            {"memory_errors", c.memory_refusals},
                            {"peak_memory_bytes", c.peak_query_memory_bytes},
                            {"memo_hits", c.memo_hits},    {"memo_misses", c.memo_misses}};
  return summary;
}

}  // namespace shardlab::experiment
