#include "apps/run_experiment.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <cmath>
#include <map>

#include "apps/reshard_experiment.h"
#include "apps/scratch_space.h"
#include "engine/common/errors.h"
#include "engine/common/file_io.h"
#include "engine/exec/query.h"
#include "engine/exec/tsv_format.h"
#include "results/atomic_file.h"
#include "results/latency_histogram.h"
#include "plots/latency_cdf_plot.h"
#include "plots/replica_lag_plot.h"
#include "plots/report.h"
#include "plots/series_table.h"
#include "plots/shard_load_plot.h"
#include "plots/throughput_plot.h"
#include "plots/utilisation_heatmap.h"
#include "results/time_series.h"
#include "scenarios/platform.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/workload.h"
#include "sim/hw/faults.h"

namespace shardlab::apps {

namespace {

using sim::Duration;
using sim::Time;
namespace cl = sim::cluster;

cl::InsertMode to_sim(scenarios::InsertMode mode) {
  return mode == scenarios::InsertMode::kSync ? cl::InsertMode::kSync : cl::InsertMode::kAsync;
}

cl::LoadBalancing to_sim(scenarios::LoadBalancing policy) {
  switch (policy) {
    case scenarios::LoadBalancing::kRandom: return cl::LoadBalancing::kRandom;
    case scenarios::LoadBalancing::kNearestHostname: return cl::LoadBalancing::kNearestHostname;
    case scenarios::LoadBalancing::kInOrder: return cl::LoadBalancing::kInOrder;
    case scenarios::LoadBalancing::kFirstOrRandom: return cl::LoadBalancing::kFirstOrRandom;
    case scenarios::LoadBalancing::kRoundRobin: return cl::LoadBalancing::kRoundRobin;
  }
  return cl::LoadBalancing::kRandom;
}

cl::ClusterSpec cluster_spec(const scenarios::Scenario& s, uint64_t seed,
                             const std::filesystem::path& data_dir) {
  cl::ClusterSpec spec;
  std::map<std::string, size_t> index;
  for (const scenarios::NodeConfig& node : s.cluster.nodes) {
    index[node.name] = spec.nodes.size();
    spec.nodes.push_back(scenarios::node_spec(s, node));
  }
  spec.shards = s.cluster.shards;
  spec.replicas = s.cluster.replicas;
  for (const auto& replicas : s.cluster.placement) {
    std::vector<size_t> nodes;
    for (const std::string& name : replicas) nodes.push_back(index.at(name));
    spec.placement.push_back(std::move(nodes));
  }
  if (s.reshard) {
    for (const auto& replicas : s.reshard->add) {
      std::vector<size_t> nodes;
      for (const std::string& name : replicas) nodes.push_back(index.at(name));
      spec.joining_placement.push_back(std::move(nodes));
    }
  }
  spec.sharding = s.cluster.sharding;
  spec.ddl = s.table.ddl;
  const scenarios::DistributedSettings& d = s.cluster.settings;
  cl::DistributedSettings& out = spec.settings;
  out.insert_mode = to_sim(s.cluster.insert_mode);
  out.internal_replication = s.cluster.internal_replication;
  out.insert_quorum = s.cluster.insert_quorum;
  out.insert_quorum_timeout = d.insert_quorum_timeout;
  out.load_balancing = to_sim(s.cluster.load_balancing);
  out.async_send_interval = d.directory_monitor_sleep_time;
  out.connect_timeout = d.connect_timeout_with_failover;
  out.connect_tries = static_cast<uint32_t>(d.connections_with_failover_max_tries);
  out.error_half_life = d.replica_error_half_life;
  out.skip_unavailable_shards = d.skip_unavailable_shards;
  out.max_replica_delay = d.max_replica_delay_for_distributed_queries;
  out.fallback_to_stale_replicas = d.fallback_to_stale_replicas;
  out.prefer_localhost_replica = d.prefer_localhost_replica;
  out.group_by_no_merge = d.distributed_group_by_no_merge;
  spec.coordinator_host =
      s.cluster.coordinator_node.empty() ? s.cluster.nodes.front().name : s.cluster.coordinator_node;
  spec.coordinator_op_latency = s.cluster.coordinator_latency;
  spec.data_dir = data_dir;
  spec.seed = seed;
  spec.epoch_s = s.workload.generator.start;
  return spec;
}

// Everything observed during the run, after the warm-up.
class Collector : public cl::WorkloadObserver {
 public:
  Collector(const scenarios::Scenario& s, Duration warmup, Duration interval)
      : warmup_(warmup), series_(interval.ns()), histograms_(s.workload.queries.size()),
        errors_(s.workload.queries.size(), 0) {
    rows_column_ = series_.add_column("rows_inserted_per_s", results::Aggregation::kRate);
    for (const scenarios::QueryTemplate& q : s.workload.queries) {
      qps_columns_.push_back(series_.add_column(q.name + ".queries_per_s",
                                                results::Aggregation::kRate));
      p99_columns_.push_back(series_.add_column(q.name + ".p99_s", results::Aggregation::kQuantile,
                                                0.99));
    }
  }

  void insert_done(Time at, uint64_t rows, bool ok) override {
    if (ok) series_.add(at.ns(), rows_column_, static_cast<double>(rows));
  }
  void query_done(Time at, size_t query, Duration latency, bool ok) override {
    if (at - latency < Time::zero() + warmup_) return;
    if (!ok) {
      ++errors_[query];
      return;
    }
    histograms_[query].record(latency.ns());
    series_.add(at.ns(), qps_columns_[query], 1.0);
    series_.record_latency(at.ns(), p99_columns_[query], latency.ns());
  }

  results::TimeSeries& series() { return series_; }
  const results::TimeSeries& series() const { return series_; }
  const results::LatencyHistogram& histogram(size_t q) const { return histograms_[q]; }
  uint64_t errors(size_t q) const { return errors_[q]; }

 private:
  Duration warmup_;
  results::TimeSeries series_;
  results::TimeSeries::ColumnId rows_column_ = 0;
  std::vector<results::TimeSeries::ColumnId> qps_columns_;
  std::vector<results::TimeSeries::ColumnId> p99_columns_;
  std::vector<results::LatencyHistogram> histograms_;
  std::vector<uint64_t> errors_;
};

// Samples gauges every interval: network use of each node's links, replica lag, rows per shard.
struct Gauges {
  results::TimeSeries utilisation;
  results::TimeSeries shards;
  std::vector<std::vector<sim::LinkId>> node_links;  // links touching each node's host
  std::vector<double> network_sum;                   // per node, sum of samples
  std::vector<uint64_t> last_sent;                   // per node, at the last sample
  std::vector<uint64_t> last_received;
  uint64_t samples = 0;
  explicit Gauges(Duration interval) : utilisation(interval.ns()), shards(interval.ns()) {}
};

sim::Process sample_gauges(sim::Simulation& sim, cl::Cluster& cluster, sim::Network& network,
                           Gauges& gauges, Duration interval) {
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
      gauges.utilisation.add(t, cluster.node(n).name() + ".network", use);
    }
    ++gauges.samples;
    const auto states = cluster.shard_states();
    for (size_t s = 0; s < states.size(); ++s) {
      gauges.shards.add(t, fmt::format("shard{}.rows", s + 1), static_cast<double>(states[s].rows));
    }
    gauges.shards.add(t, "replica_lag_s", cluster.current_replica_lag().seconds());
    gauges.shards.add(t, "async_queued_rows", static_cast<double>(cluster.queued_rows()));
  }
}

std::vector<sim::FaultTarget> fault_targets(const scenarios::Scenario& s, const std::string& kind,
                                            const std::vector<std::string>& targets,
                                            double factor, cl::Cluster& cluster,
                                            sim::Network& network) {
  std::vector<sim::FaultTarget> out;
  if (kind == "link_down") {
    const auto a = network.find_node(targets.at(0));
    const auto b = network.find_node(targets.at(1));
    const auto link = a && b ? network.find_link(*a, *b) : std::nullopt;
    if (!link) {
      throw InputError(fmt::format("{}: no link between '{}' and '{}'", s.source, targets[0],
                                   targets[1]));
    }
    out.push_back(sim::link_failure(network, *link));
    return out;
  }
  if (kind == "partition") {
    std::vector<sim::HostId> inside;
    std::vector<sim::HostId> outside;
    for (const std::string& host : s.topology.hosts) {
      const auto id = network.find_host(host);
      if (!id) continue;
      const bool in = std::find(targets.begin(), targets.end(), host) != targets.end();
      (in ? inside : outside).push_back(*id);
    }
    std::string name;
    for (const std::string& t : targets) name += (name.empty() ? "" : ",") + t;
    out.push_back(sim::network_partition(network, inside, outside, name));
    return out;
  }
  for (const std::string& target : targets) {
    const size_t node = cluster.node_index(target);
    if (kind == "node_crash" || kind == "process_restart") {
      const auto crash = kind == "node_crash" ? cl::Cluster::CrashKind::kNodeLoss
                                              : cl::Cluster::CrashKind::kProcessRestart;
      out.push_back(sim::FaultTarget{target + (kind == "node_crash" ? "" : " process"),
                                     [&cluster, node, crash] { cluster.crash_node(node, crash); },
                                     [&cluster, node] { cluster.restart_node(node); }});
    } else if (kind == "slow_disk") {
      out.push_back(sim::slow_disk(cluster.node(node).disk(), target, factor));
    } else if (kind == "slow_node") {
      out.push_back(sim::slow_node(cluster.node(node).cpu(), target, factor));
    } else {
      throw InputError(fmt::format("{}: fault kind '{}' is not supported", s.source, kind));
    }
  }
  return out;
}

// The figures and the report, from what the run collected (plots/ reads only results).
void write_plots_and_report(const scenarios::Scenario& s, const std::filesystem::path& dir,
                            const Collector& collector, const Gauges& gauges,
                            const std::vector<sim::FaultInjector::Record>& fault_log,
                            const std::vector<cl::Cluster::ShardState>& states,
                            const results::Json& summary,
                            std::vector<plots::ReportSection> sections, bool draw, bool report) {
  std::vector<plots::RenderedPlot> rendered;
  if (draw) {
    std::vector<plots::QueryLatency> latencies;
    for (size_t q = 0; q < s.workload.queries.size(); ++q) {
      const auto& t = s.workload.queries[q];
      plots::QueryLatency entry{t.name, collector.histogram(q), std::nullopt};
      if (t.target_latency_s > 0) entry.target_s = t.target_latency_s;
      latencies.push_back(std::move(entry));
    }
    rendered.push_back(plots::render_latency_cdf(dir, "latency_cdf", latencies));

    const plots::SeriesTable traffic = plots::series_table(collector.series());
    plots::ThroughputData throughput;
    throughput.time_s = traffic.time_s;
    for (const plots::SeriesColumn& column : traffic.columns) {
      if (column.name == "rows_inserted_per_s") throughput.insert_rows_per_s.push_back(column);
      if (column.name.ends_with(".queries_per_s")) throughput.queries_per_s.push_back(column);
    }
    rendered.push_back(plots::render_throughput(dir, "throughput", throughput));

    plots::ShardLoadData load;
    plots::ShardMetric rows{"rows", {}};
    plots::ShardMetric bytes{"bytes on disk", {}};
    for (size_t i = 0; i < states.size(); ++i) {
      load.shards.push_back(fmt::format("s{}", i + 1));
      rows.values.push_back(static_cast<double>(states[i].rows));
      bytes.values.push_back(static_cast<double>(states[i].bytes));
    }
    load.metrics = {rows, bytes};
    rendered.push_back(plots::render_shard_load(dir, "shard_load", load));

    const plots::SeriesTable use = plots::series_table(gauges.utilisation);
    plots::UtilisationData heat;
    heat.time_s = use.time_s;
    for (const scenarios::NodeConfig& node : s.cluster.nodes) {
      heat.nodes.push_back(node.name);
      for (auto [suffix, target] : {std::pair{".cpu", &heat.cpu}, std::pair{".disk", &heat.disk},
                                    std::pair{".network", &heat.network}}) {
        const plots::SeriesColumn* column = use.find(node.name + suffix);
        target->push_back(column ? column->values : std::vector<double>(use.time_s.size(), NAN));
      }
    }
    rendered.push_back(plots::render_utilisation_heatmap(dir, "utilisation_cpu", heat,
                                                         plots::Resource::kCpu));
    rendered.push_back(plots::render_utilisation_heatmap(dir, "utilisation_disk", heat,
                                                         plots::Resource::kDisk));
    rendered.push_back(plots::render_utilisation_heatmap(dir, "utilisation_network", heat,
                                                         plots::Resource::kNetwork));

    const plots::SeriesTable shard_series = plots::series_table(gauges.shards);
    plots::ReplicaLagData lag;
    lag.time_s = shard_series.time_s;
    if (s.cluster.replicas > 1) {
      if (const plots::SeriesColumn* column = shard_series.find("replica_lag_s")) {
        lag.replicas.push_back(plots::SeriesColumn{"largest replica lag", column->values});
      }
    }
    std::map<std::string, double> down_since;
    for (const auto& record : fault_log) {
      if (!record.up) {
        down_since[record.target] = record.at.seconds();
      } else if (down_since.count(record.target)) {
        lag.faults.push_back({down_since[record.target], record.at.seconds(), record.target + " down"});
        down_since.erase(record.target);
      }
    }
    const double end_s = shard_series.time_s.empty() ? 0.0 : shard_series.time_s.back();
    for (const auto& [target, since] : down_since) {
      lag.faults.push_back({since, std::max(since, end_s), target + " down"});
    }
    rendered.push_back(plots::render_replica_lag(dir, "replica_lag", lag));
  }
  if (!report) return;
  plots::ReportInput input;
  input.scenario = s.variant.empty() ? s.name : s.name + " / " + s.variant;
  input.question = s.question;
  input.summary = summary;
  for (size_t q = 0; q < s.workload.queries.size(); ++q) {
    const auto& t = s.workload.queries[q];
    std::optional<plots::LatencyTarget> target;
    if (t.target_latency_s > 0) target = plots::LatencyTarget{t.target_latency_s, 0.99};
    input.latency.push_back(
        plots::latency_row(t.name, collector.histogram(q), collector.errors(q), target));
  }
  const results::Json& inserts = summary["inserts"];
  input.inserts = plots::InsertCounters{inserts["rows_sent"].get<uint64_t>(),
                                        inserts["rows_acknowledged"].get<uint64_t>(),
                                        inserts["rows_lost"].get<uint64_t>(),
                                        inserts["rows_rejected"].get<uint64_t>(),
                                        inserts["rows_queryable"].get<uint64_t>()};
  input.sections = std::move(sections);
  input.plots = std::move(rendered);
  input.files = {{"summary.json", "every simulated result (deterministic for a scenario and seed)"},
                 {"run_info.json", "wall time, peak memory and events of this run"},
                 {"timeseries/throughput_latency.csv", "rows/s inserted, queries/s and p99 per query"},
                 {"timeseries/utilisation.csv", "CPU, disk and network use per node"},
                 {"timeseries/shards_lag.csv", "rows per shard, replica lag, queued async rows"},
                 {"answers/", "every query template run on the final state, SQL and answer"}};
  plots::write_report(dir, input);
}

uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

std::string tsv(const engine::QueryResult& result) {
  std::string out;
  engine::append_tsv(result.columns, &out);
  return out;
}

}  // namespace

namespace {

ExperimentOutput simulate(const scenarios::Scenario& s, uint64_t seed,
                          const ExperimentOptions& options,
                          const std::filesystem::path& data_dir, bool data_in_memory) {
  const auto wall_start = std::chrono::steady_clock::now();

  sim::Simulation sim(seed);
  std::unique_ptr<sim::Network> network = scenarios::build_platform(sim, s.platform, s.source);
  const cl::CostModel cost = s.hardware.calibration.empty()
                                 ? cl::CostModel()
                                 : cl::CostModel::load(s.hardware.calibration);
  cl::Cluster cluster(sim, *network, cluster_spec(s, seed, data_dir), cost);

  const Duration duration = s.run.duration;
  const Duration interval = std::max(Duration::seconds(1), Duration::nanoseconds(duration.ns() / 1440));
  Collector collector(s, s.run.warmup, interval);
  Gauges gauges(interval);
  for (size_t n = 0; n < cluster.node_count(); ++n) {
    std::vector<sim::LinkId> links;
    for (size_t l = 0; l < network->link_count(); ++l) {
      const auto link = static_cast<sim::LinkId>(l);
      if (network->link_a(link) == cluster.host(n) || network->link_b(link) == cluster.host(n)) {
        links.push_back(link);
      }
    }
    gauges.node_links.push_back(std::move(links));
  }
  gauges.network_sum.assign(cluster.node_count(), 0.0);
  gauges.last_sent.assign(cluster.node_count(), 0);
  gauges.last_received.assign(cluster.node_count(), 0);
  for (size_t n = 0; n < cluster.node_count(); ++n) {
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

  cl::IngestLoad ingest;
  ingest.generator = s.workload.generator;
  ingest.rows = s.workload.rows;
  ingest.batch_rows = s.workload.batch_rows;
  ingest.batch_interval = s.workload.batch_interval;
  for (const std::string& name : s.workload.initiators) ingest.initiators.push_back(cluster.node_index(name));
  std::vector<cl::QueryLoad> queries;
  for (const scenarios::QueryTemplate& q : s.workload.queries) {
    cl::QueryLoad load;
    load.name = q.name;
    load.sql = q.sql;
    load.rate_per_s = q.rate_per_s;
    load.concurrency = static_cast<uint32_t>(q.concurrency);
    load.clients = static_cast<uint32_t>(q.clients);
    load.think_time = q.think_time;
    load.initiators = ingest.initiators;
    queries.push_back(std::move(load));
  }
  cl::WorkloadDriver driver(sim, cluster, ingest, queries, collector);

  sim::FaultInjector faults(sim);
  for (const scenarios::ScheduledFault& f : s.faults) {
    for (sim::FaultTarget& target :
         fault_targets(s, f.kind, f.targets, f.factor, cluster, *network)) {
      faults.outage(std::move(target), Time::zero() + f.at, f.duration);
    }
  }
  for (const scenarios::RandomFault& f : s.random_faults) {
    for (sim::FaultTarget& target :
         fault_targets(s, f.kind, f.targets, f.factor, cluster, *network)) {
      faults.random_outages(std::move(target), f.mtbf, f.mttr, Time::zero() + duration);
    }
  }

  const Time end = Time::zero() + duration;
  cluster.start();
  driver.start(end);
  sim.spawn(sample_gauges(sim, cluster, *network, gauges, interval));
  ReshardOutcome reshard;
  if (s.reshard) sim.spawn(run_reshard(sim, cluster, s, seed, &reshard));
  // Progress in slices of simulated time.
  const Duration slice = std::max(Duration::seconds(1), Duration::nanoseconds(duration.ns() / 100));
  uint64_t data_peak_bytes = 0;
  while (sim.now() < end) {
    sim.run_until(std::min(end, sim.now() + slice));
    data_peak_bytes = std::max(data_peak_bytes, disk_usage_bytes(data_dir));
    if (options.progress) {
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      std::fprintf(stderr, "\r%s: simulated %.0f/%.0f s, wall %.1f s, %.2fM events/s, %llu rows acked   ",
                   s.name.c_str(), sim.now().seconds(), end.seconds(), wall,
                   sim.stats().events_per_second() / 1e6,
                   static_cast<unsigned long long>(cluster.counters().rows_acknowledged));
    }
  }
  // Let async queues drain and replicas catch up, within a bound.
  const Time settle_limit = end + Duration::seconds(3600);
  while (sim.now() < settle_limit &&
         (cluster.queued_rows() > 0 || cluster.current_replica_lag() > Duration())) {
    sim.run_until(sim.now() + Duration::seconds(10));
  }
  if (options.progress) std::fprintf(stderr, "\n");
  const Time finished = sim.now();
  data_peak_bytes = std::max(data_peak_bytes, disk_usage_bytes(data_dir));

  // The final state, through the real engine.
  const std::string table = cluster.schema().name;
  const auto count_query = engine::Query::prepare(cluster.schema(), "SELECT count() FROM " + table);
  const engine::QueryResult counted = cluster.query_now(*count_query);
  const uint64_t rows_queryable =
      counted.rows() == 1 ? counted.columns[0].values<uint64_t>()[0] : 0;

  const cl::ClusterCounters& c = cluster.counters();
  ExperimentOutput out;
  results::Json& summary = out.summary;
  summary["scenario"] = s.name;
  if (!s.variant.empty()) summary["variant"] = s.variant;
  summary["seed"] = seed;
  summary["simulated_s"] = results::json_number(finished.seconds());
  summary["cluster"] = {{"nodes", s.cluster.nodes.size()},
                        {"shards", s.cluster.shards},
                        {"replicas", s.cluster.replicas},
                        {"sharding", std::string(cl::sharding_kind_name(s.cluster.sharding.kind)) +
                                         (s.cluster.sharding.key.empty()
                                              ? std::string()
                                              : " " + s.cluster.sharding.key)},
                        {"insert_mode", scenarios::insert_mode_name(s.cluster.insert_mode)},
                        {"internal_replication", s.cluster.internal_replication},
                        {"insert_quorum", s.cluster.insert_quorum},
                        {"load_balancing", scenarios::load_balancing_name(s.cluster.load_balancing)}};
  summary["inserts"] = {{"batches", c.inserts},
                        {"rows_sent", c.rows_sent},
                        {"rows_acknowledged", c.rows_acknowledged},
                        {"rows_lost", c.rows_lost},
                        {"rows_rejected", c.rows_rejected},
                        {"rows_queryable", rows_queryable}};
  out.metrics.emplace_back("inserts.rows_acknowledged", static_cast<double>(c.rows_acknowledged));
  out.metrics.emplace_back("inserts.rows_lost", static_cast<double>(c.rows_lost));
  out.metrics.emplace_back("inserts.rows_queryable", static_cast<double>(rows_queryable));

  results::Json query_json = results::Json::object();
  for (size_t q = 0; q < s.workload.queries.size(); ++q) {
    const scenarios::QueryTemplate& t = s.workload.queries[q];
    const results::LatencyHistogram& h = collector.histogram(q);
    results::Json entry = results::latency_json(h, collector.errors(q));
    if (t.target_latency_s > 0) {
      entry["target_s"] = results::json_number(t.target_latency_s);
      entry["p99_meets_target"] = !h.empty() && h.quantile(0.99) * 1e-9 <= t.target_latency_s;
    }
    query_json[t.name] = std::move(entry);
    if (!h.empty()) {
      out.metrics.emplace_back("queries." + t.name + ".mean_s", h.mean() * 1e-9);
      out.metrics.emplace_back("queries." + t.name + ".p99_s", h.quantile(0.99) * 1e-9);
    }
  }
  summary["queries"] = std::move(query_json);

  results::Json shards = results::Json::array();
  const auto states = cluster.shard_states();
  uint64_t max_rows = 0;
  uint64_t total_rows = 0;
  uint64_t one_copy_bytes = 0;  // every shard once, compressed, as on its most current replica
  for (size_t i = 0; i < states.size(); ++i) {
    one_copy_bytes += states[i].bytes;
    shards.push_back({{"shard", i + 1}, {"rows", states[i].rows}, {"bytes", states[i].bytes},
                      {"parts", states[i].parts}});
    max_rows = std::max(max_rows, states[i].rows);
    total_rows += states[i].rows;
  }
  const double mean_rows = static_cast<double>(total_rows) / static_cast<double>(states.size());
  const double skew = mean_rows > 0 ? static_cast<double>(max_rows) / mean_rows : 0.0;
  summary["shards"] = std::move(shards);
  summary["skew"] = {{"rows_max_over_mean", results::json_number(skew)}};
  out.metrics.emplace_back("skew.rows_max_over_mean", skew);
  std::vector<plots::ReportSection> sections;
  if (reshard.done) {
    time_reshard_transfers(s, &reshard);
    summary["reshard"] = reshard_json(reshard);
    for (auto& metric : reshard_metrics(reshard)) out.metrics.push_back(std::move(metric));
    sections.push_back(reshard_section(reshard));
  }

  results::Json nodes = results::Json::object();
  for (size_t n = 0; n < cluster.node_count(); ++n) {
    sim::Node& node = cluster.node(n);
    const double cpu = node.cpu().utilization().mean(finished) / node.cpu().cores();
    const double disk = node.disk().utilization().mean(finished);
    const double net = gauges.samples ? gauges.network_sum[n] / static_cast<double>(gauges.samples) : 0.0;
    nodes[node.name()] = {{"cpu", results::json_number(cpu)},
                          {"disk", results::json_number(disk)},
                          {"network", results::json_number(net)}};
    const std::vector<double> cpu_buckets = node.cpu().utilization().buckets(finished);
    const std::vector<double> disk_buckets = node.disk().utilization().buckets(finished);
    for (size_t b = 0; b < cpu_buckets.size(); ++b) {
      const int64_t t = static_cast<int64_t>(b) * Duration::seconds(1).ns();
      gauges.utilisation.add(t, node.name() + ".cpu", cpu_buckets[b] / node.cpu().cores());
      gauges.utilisation.add(t, node.name() + ".disk", disk_buckets[b]);
    }
  }
  summary["nodes"] = std::move(nodes);
  summary["replication"] = {{"max_lag_s", results::json_number(cluster.max_replica_lag().seconds())},
                            {"parts_fetched", c.parts_fetched},
                            {"bytes_fetched", c.bytes_fetched},
                            {"merges", c.merges}};
  out.metrics.emplace_back("replication.max_lag_s", cluster.max_replica_lag().seconds());
  results::Json fault_log = results::Json::array();
  for (const auto& record : faults.log()) {
    fault_log.push_back({{"at_s", results::json_number(record.at.seconds())},
                         {"target", record.target},
                         {"event", record.up ? "repaired" : "failed"}});
  }
  summary["faults"] = std::move(fault_log);
  summary["queries_run"] = {{"count", c.queries}, {"errors", c.query_errors},
                            {"failovers", c.failovers}, {"shards_pruned", c.shards_pruned},
                            {"memo_hits", c.memo_hits},
                            {"memo_misses", c.memo_misses}};

  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  out.run_info = {{"wall_s", wall},
                  {"peak_rss_bytes", peak_rss_bytes()},
                  {"events", sim.stats().events_processed},
                  {"events_per_s", sim.stats().events_per_second()},
                  {"simulated_s_per_wall_s", sim.stats().speedup()},
                  {"data_dir", data_dir.string()},
                  {"data_dir_in_memory", data_in_memory},
                  // Sampled a hundred times over the run and once at its end.
                  {"data_peak_bytes", data_peak_bytes},
                  {"data_one_copy_bytes", one_copy_bytes},
                  // How much of the replicas' aggregation work the kept merged states saved.
                  {"kept_parts_reused", c.kept_parts_reused},
                  {"kept_state_rebuilds", cluster.kept_state_rebuilds()}};

  if (options.write_files) {
    std::filesystem::create_directories(options.out_dir);
    results::write_json(options.out_dir / "summary.json", out.summary);
    results::write_json(options.out_dir / "run_info.json", out.run_info);
    const auto wants = [&](std::string_view what) {
      return std::find(s.run.outputs.begin(), s.run.outputs.end(), what) != s.run.outputs.end();
    };
    if (wants("timeseries")) {
      std::filesystem::create_directories(options.out_dir / "timeseries");
      collector.series().extend_to(finished.ns());
      collector.series().write_csv(options.out_dir / "timeseries" / "throughput_latency.csv");
      gauges.utilisation.write_csv(options.out_dir / "timeseries" / "utilisation.csv");
      gauges.shards.write_csv(options.out_dir / "timeseries" / "shards_lag.csv");
    }
    if (wants("plots") || wants("report")) {
      write_plots_and_report(s, options.out_dir, collector, gauges, faults.log(), states,
                             out.summary, std::move(sections), wants("plots"), wants("report"));
    }
    if (wants("answers")) {
      std::filesystem::create_directories(options.out_dir / "answers");
      const int64_t now_s = s.workload.generator.start + finished.ns() / 1'000'000'000;
      for (const scenarios::QueryTemplate& t : s.workload.queries) {
        const std::string sql = cl::expand_time_placeholders(t.sql, now_s);
        const auto query = engine::Query::prepare(cluster.schema(), sql);
        // Through the distributed path, shard pruning included.
        const std::vector<bool> shards = cluster.shards_to_visit(sql);
        results::write_file_atomically(options.out_dir / "answers" / (t.name + ".sql"), sql + "\n");
        results::write_file_atomically(options.out_dir / "answers" / (t.name + ".tsv"),
                                       tsv(cluster.query_now(*query, &shards)));
      }
    }
  }
  // Processes hold references into the cluster and the network: free them first.
  sim.shutdown();
  return out;
}

}  // namespace

ExperimentOutput run_experiment(const scenarios::Scenario& s, uint64_t seed,
                                const ExperimentOptions& options) {
  // A directory of our own, whose surroundings are never touched: a fresh subdirectory of the
  // --data-dir given, or of the scratch root chosen for the data's size.
  std::filesystem::path root = options.data_dir;
  if (root.empty()) {
    // Uncompressed, generously: 16 bytes a value, one copy per replica unless replication
    // hard-links its parts.
    const uint64_t copies = s.cluster.internal_replication ? 1 : s.cluster.replicas;
    const uint64_t estimate = s.workload.rows * s.table.schema.columns.size() * 16 * copies;
    root = choose_scratch_root(estimate, options.out_dir);
  }
  remove_abandoned_scratch_dirs(root);
  const std::filesystem::path data_dir =
      root / fmt::format("shardlab-data-{}-seed{}", ::getpid(), seed);
  std::filesystem::remove_all(data_dir);
  create_scratch_dir(data_dir);
  const bool in_memory = in_memory_filesystem(data_dir);
  // The replicas' tables are scratch state (see io::set_durable); output files are written
  // atomically by results/ regardless.
  struct Scratch {
    ~Scratch() { io::set_durable(true); }
  } restore_durability;
  io::set_durable(false);
  ExperimentOutput out = simulate(s, seed, options, data_dir, in_memory);
  if (options.keep_data) {
    keep_scratch_dir(data_dir);
  } else {
    std::filesystem::remove_all(data_dir);
  }
  return out;
}

}  // namespace shardlab::apps
