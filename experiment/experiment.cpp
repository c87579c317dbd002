#include "experiment/experiment.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "base/errors.h"
#include "experiment/cache_run.h"
#include "experiment/cluster_binding.h"
#include "experiment/reshard_experiment.h"
#include "experiment/run_metrics.h"
#include "experiment/run_outputs.h"
#include "experiment/scratch_space.h"
#include "workloads/engine_block.h"
#include "results/replicated_metrics.h"
#include "scenarios/platform.h"
#include "shardlab/engine/io_settings.h"
#include "shardlab/engine/query.h"
#include "sim/cluster/cost_model.h"
#include "sim/core/trace.h"

namespace shardlab::experiment {

namespace {

using sim::Duration;
using sim::Time;
namespace cl = sim::cluster;

uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The simulated world of one run, built from the scenario, and its progress through time.
// Members are built in declaration order, each from the ones before it.
class SimulatedRun {
 public:
  SimulatedRun(const scenarios::Scenario& s, uint64_t seed, const std::filesystem::path& data_dir)
      : s_(s),
        seed_(seed),
        data_dir_(data_dir),
        sim_(seed),
        network_(build_network(sim_, s.topology)),
        cluster_(sim_, *network_, cluster_spec(s, seed, data_dir), cost_model(s)),
        end_(Time::zero() + s.run.duration),
        interval_(std::max(Duration::seconds(1),
                           Duration::nanoseconds(s.run.duration.ns() / 1440))),
        collector_(s, s.run.warmup, interval_),
        gauges_(make_gauges(cluster_, *network_, interval_)),
        ingest_(ingest_load(s, cluster_)),
        driver_(sim_, cluster_, ingest_, query_loads(s, ingest_.initiators), collector_),
        faults_(sim_) {
    if (wants_output(s, "trace")) {
      tracer_ = std::make_unique<sim::Tracer>(s.run.trace_max_slices);
      sim_.set_tracer(tracer_.get());
      collector_.set_tracer(tracer_.get());
    }
    cluster_.set_delivery_listener(
        [this](Duration delay, uint64_t) { collector_.insert_delivered(delay); });
    schedule_faults(s, cluster_, *network_, faults_, end_);
    if (s.cache) cache_ = std::make_unique<CacheRun>(s, sim_, *network_, cluster_, driver_);
  }

  // Processes hold references into the cluster, the network and the gauges: free them first.
  // The tracer goes before the cluster, so nothing may report to it after this.
  ~SimulatedRun() {
    sim_.shutdown();
    sim_.set_tracer(nullptr);
  }

  // Runs to the scenario's end, then lets async queues drain and replicas catch up (bounded).
  void run(bool progress, std::chrono::steady_clock::time_point wall_start);

  // The final state, through the real engine: count() over every shard.
  uint64_t rows_queryable();

  FinishedRun finished(uint64_t rows_queryable) {
    return FinishedRun{s_,       seed_,   cluster_,      sim_.now(),
                       collector_, gauges_, faults_.log(), rows_queryable};
  }
  ReshardOutcome& reshard() { return reshard_; }
  const sim::Simulation& simulation() const { return sim_; }
  uint64_t data_peak_bytes() const { return data_peak_bytes_; }
  const sim::Tracer* tracer() const { return tracer_.get(); }
  const CacheRun* cache() const { return cache_.get(); }
  const cl::WorkloadDriver& driver() const { return driver_; }

 private:
  static cl::CostModel cost_model(const scenarios::Scenario& s) {
    return s.hardware.calibration.empty() ? cl::CostModel()
                                          : cl::CostModel::load(s.hardware.calibration);
  }
  void print_progress(std::chrono::steady_clock::time_point wall_start) const;
  // Every fault and repair of the run as an instant of the trace.
  void trace_faults();

  const scenarios::Scenario& s_;
  uint64_t seed_;
  std::filesystem::path data_dir_;
  sim::Simulation sim_;
  std::unique_ptr<sim::Network> network_;
  cl::Cluster cluster_;
  Time end_;
  Duration interval_;
  Collector collector_;
  Gauges gauges_;
  cl::IngestLoad ingest_;  // queries go to the same initiators as inserts
  cl::WorkloadDriver driver_;
  sim::FaultInjector faults_;
  std::unique_ptr<sim::Tracer> tracer_;
  std::unique_ptr<CacheRun> cache_;  // the memcached tier, when the scenario has one
  ReshardOutcome reshard_;
  uint64_t data_peak_bytes_ = 0;
};

// The scenario's history days, generated at the workload's daily volume from a seed of their
// own (so they are not the simulated day's rows again), loaded in bounded blocks.
void preload_history(const scenarios::Scenario& s, cl::Cluster& cluster) {
  if (s.workload.history_days == 0) return;
  constexpr uint64_t kRowsPerBlock = 1 << 20;
  workloads::GeneratorConfig history = s.workload.generator;
  history.days = s.workload.history_days;
  history.start -= int64_t{history.days} * 86400;
  history.total_rows = static_cast<uint64_t>(
      std::llround(static_cast<double>(s.workload.rows) / s.workload.generator.days * history.days));
  history.seed = s.workload.generator.seed ^ 0x686973746f7279ULL;  // "history"
  workloads::EngineBlockSource source(history, cluster.schema());
  engine::Block block;
  for (uint64_t first = 0; first < history.total_rows; first += kRowsPerBlock) {
    source.fill(first, static_cast<size_t>(std::min(kRowsPerBlock, history.total_rows - first)),
                &block);
    cluster.preload(block);
  }
  cluster.finish_preload();
}

void SimulatedRun::run(bool progress, std::chrono::steady_clock::time_point wall_start) {
  preload_history(s_, cluster_);
  cluster_.start();
  if (cache_) cache_->start(end_);
  driver_.start(end_);
  sim_.spawn(sample_gauges(sim_, cluster_, *network_, gauges_, interval_));
  if (s_.reshard) sim_.spawn(run_reshard(sim_, cluster_, s_, seed_, &reshard_));
  // Progress in slices of simulated time; the tables' size is sampled at each.
  const Duration slice =
      std::max(Duration::seconds(1), Duration::nanoseconds(s_.run.duration.ns() / 100));
  while (sim_.now() < end_) {
    sim_.run_until(std::min(end_, sim_.now() + slice));
    data_peak_bytes_ = std::max(data_peak_bytes_, disk_usage_bytes(data_dir_));
    if (progress) print_progress(wall_start);
  }
  const Time settle_limit = end_ + Duration::seconds(3600);
  // INSERTs still in flight at the end (a run shorter than the data set sends one up to its last
  // instant) are waited for too, so that every row sent is acknowledged or rejected.
  const auto inserts_open = [this] {
    const cl::ClusterCounters& c = cluster_.counters();
    return c.rows_sent > c.rows_acknowledged + c.rows_rejected;
  };
  while (sim_.now() < settle_limit && (cluster_.queued_rows() > 0 || inserts_open() ||
                                       cluster_.current_replica_lag() > Duration())) {
    sim_.run_until(sim_.now() + Duration::seconds(10));
  }
  if (progress) std::fprintf(stderr, "\n");
  data_peak_bytes_ = std::max(data_peak_bytes_, disk_usage_bytes(data_dir_));
  if (tracer_) trace_faults();
}

void SimulatedRun::trace_faults() {
  const uint32_t track = tracer_->track("workload", "faults");
  for (const sim::FaultInjector::Record& record : faults_.log()) {
    tracer_->instant(track, record.target + (record.up ? " repaired" : " failed"), record.at);
  }
}

void SimulatedRun::print_progress(std::chrono::steady_clock::time_point wall_start) const {
  std::fprintf(stderr,
               "\r%s: simulated %.0f/%.0f s, wall %.1f s, %.2fM events/s, %llu rows acked   ",
               s_.name.c_str(), sim_.now().seconds(), end_.seconds(), seconds_since(wall_start),
               sim_.stats().events_per_second() / 1e6,
               static_cast<unsigned long long>(cluster_.counters().rows_acknowledged));
}

uint64_t SimulatedRun::rows_queryable() {
  const std::string sql = "SELECT count() FROM " + cluster_.schema().name;
  const auto count_query = engine::Query::prepare(cluster_.schema(), sql);
  const engine::QueryResult counted = cluster_.query_now(*count_query);
  return counted.rows() == 1 ? counted.columns[0].values<uint64_t>()[0] : 0;
}

results::Json run_info(const SimulatedRun& world, const FinishedRun& run, double wall_s,
                       const std::filesystem::path& data_dir, bool data_in_memory) {
  const sim::Simulation& sim = world.simulation();
  results::Json info = {
      {"wall_s", wall_s},
      {"peak_rss_bytes", peak_rss_bytes()},
      {"events", sim.stats().events_processed},
      {"events_per_s", sim.stats().events_per_second()},
      {"simulated_s_per_wall_s", sim.stats().speedup()},
      {"data_dir", data_dir.string()},
      {"data_dir_in_memory", data_in_memory},
      // Sampled a hundred times over the run and once at its end.
      {"data_peak_bytes", world.data_peak_bytes()},
      {"data_one_copy_bytes", one_copy_bytes(run.cluster)},
      // How much of the replicas' aggregation work the kept merged states saved.
      {"kept_parts_reused", run.cluster.counters().kept_parts_reused},
      {"kept_state_rebuilds", run.cluster.kept_state_rebuilds()}};
  if (const sim::Tracer* tracer = world.tracer()) {
    info["trace_slices"] = tracer->slices();
    info["trace_dropped_slices"] = tracer->dropped_slices();
  }
  return info;
}

void write_trace(const sim::Tracer& tracer, const std::filesystem::path& path) {
  std::ofstream out(path);
  tracer.write_json(out);
  out.flush();
  if (!out) throw RuntimeError(fmt::format("cannot write the trace '{}'", path.string()));
}

void write_run_files(const SimulatedRun& world, const FinishedRun& run,
                     const ExperimentOutput& out, std::vector<plots::ReportSection> sections,
                     const std::filesystem::path& dir) {
  const scenarios::Scenario& s = run.scenario;
  std::filesystem::create_directories(dir);
  results::write_json(dir / "summary.json", out.summary);
  results::write_json(dir / "run_info.json", out.run_info);
  if (wants_output(s, "timeseries")) {
    write_timeseries(run, dir);
    if (const CacheRun* cache = world.cache()) cache->write_series(dir / "cache_series.csv");
  }
  if (wants_output(s, "plots") || wants_output(s, "report")) {
    std::vector<plots::RenderedPlot> cache_plots;
    const CacheRun* cache = world.cache();
    if (cache && wants_output(s, "plots")) cache_plots = cache->render_plots(dir);
    write_plots_and_report(run, dir, out.summary, std::move(sections), std::move(cache_plots),
                           wants_output(s, "plots"), wants_output(s, "report"));
  }
  if (wants_output(s, "answers")) write_answers(run, dir);
  if (const sim::Tracer* tracer = world.tracer()) write_trace(*tracer, dir / "trace.json");
}

ExperimentOutput simulate(const scenarios::Scenario& s, uint64_t seed,
                          const ExperimentOptions& options, const std::filesystem::path& data_dir,
                          bool data_in_memory) {
  const auto wall_start = std::chrono::steady_clock::now();
  SimulatedRun world(s, seed, data_dir);
  world.run(options.progress, wall_start);
  FinishedRun run = world.finished(world.rows_queryable());

  ExperimentOutput out;
  std::vector<plots::ReportSection> sections;
  ReshardOutcome& reshard = world.reshard();
  if (reshard.done) {
    time_reshard_transfers(s, &reshard);
    sections.push_back(reshard_section(reshard));
  }
  out.summary = summarize(run, reshard.done ? &reshard : nullptr, &out.metrics);
  for (size_t q = 0; q < s.workload.queries.size(); ++q) {
    out.latency.push_back(TemplateLatency{s.workload.queries[q].name, run.collector.histogram(q),
                                          s.workload.queries[q].target_latency_s,
                                          run.collector.errors(q)});
  }
  if (const CacheRun* cache = world.cache()) {
    out.summary["cache"] = cache->summary(&out.metrics);
    sections.push_back(cache->report_section());
  } else {
    append_clickhouse_load(world.driver().queries_sent_per_s(), s.run.warmup, &out.metrics);
  }
  out.run_info = run_info(world, run, seconds_since(wall_start), data_dir, data_in_memory);
  if (options.write_files) write_run_files(world, run, out, std::move(sections), options.out_dir);
  return out;
}

// A directory of the run's own, whose surroundings are never touched: a fresh subdirectory of the
// data directory given, or of the scratch root chosen for the data's size.
std::filesystem::path make_data_dir(const scenarios::Scenario& s, uint64_t seed,
                                    const ExperimentOptions& options) {
  std::filesystem::path root = options.data_dir;
  if (root.empty()) {
    // Uncompressed, generously: 16 bytes a value, one copy per replica unless replication
    // hard-links its parts.
    const uint64_t copies = s.cluster.internal_replication ? 1 : s.cluster.replicas;
    const uint64_t days = static_cast<uint64_t>(s.workload.generator.days + s.workload.history_days);
    const uint64_t rows = s.workload.rows / static_cast<uint64_t>(s.workload.generator.days) * days;
    const uint64_t estimate = rows * s.table.schema.columns.size() * 16 * copies;
    root = choose_scratch_root(estimate, options.out_dir);
  }
  remove_abandoned_scratch_dirs(root);
  const std::filesystem::path data_dir =
      root / fmt::format("shardlab-data-{}-seed{}", ::getpid(), seed);
  std::filesystem::remove_all(data_dir);
  create_scratch_dir(data_dir);
  return data_dir;
}

}  // namespace

ExperimentOutput run_experiment(const scenarios::Scenario& s, uint64_t seed,
                                const ExperimentOptions& options) {
  const std::filesystem::path data_dir = make_data_dir(s, seed, options);
  const bool in_memory = in_memory_filesystem(data_dir);
  // The replicas' tables are scratch state (io::set_durable); output files are written
  // atomically regardless.
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

namespace {

void pool(const ExperimentOutput& out, ReplicatedRun* into) {
  for (const auto& [name, value] : out.metrics) into->metrics.add(name, value);
  if (into->latency.empty()) {
    into->latency = out.latency;
    return;
  }
  for (size_t q = 0; q < into->latency.size(); ++q) {
    into->latency[q].histogram.merge(out.latency[q].histogram);
    into->latency[q].errors += out.latency[q].errors;
  }
}

}  // namespace

ReplicatedRun run_replicated(const scenarios::Scenario& s, uint64_t first_seed, int replications,
                             ExperimentOptions options, const std::filesystem::path& dir,
                             const std::function<void(const std::string&)>& log) {
  ReplicatedRun pooled;
  if (replications == 1) {
    options.out_dir = dir;
    const ExperimentOutput out = run_experiment(s, first_seed, options);
    log(fmt::format("{}: wrote {} ({:.1f} s wall)", s.name, (dir / "summary.json").string(),
                    out.run_info["wall_s"].get<double>()));
    pool(out, &pooled);
    return pooled;
  }
  results::Json runs = results::Json::array();
  for (int r = 0; r < replications; ++r) {
    const uint64_t seed = first_seed + static_cast<uint64_t>(r);
    options.out_dir = dir / fmt::format("seed-{}", seed);
    const ExperimentOutput out = run_experiment(s, seed, options);
    pool(out, &pooled);
    runs.push_back(fmt::format("seed-{}", seed));
    log(fmt::format("{}: seed {} done ({:.1f} s wall)", s.name, seed,
                    out.run_info["wall_s"].get<double>()));
  }
  results::Json summary;
  summary["scenario"] = s.name;
  if (!s.variant.empty()) summary["variant"] = s.variant;
  summary["replications"] = replications;
  summary["first_seed"] = first_seed;
  summary["runs"] = std::move(runs);
  summary["metrics"] = pooled.metrics.to_json();
  results::write_json(dir / "summary.json", summary);
  log(fmt::format("{}: wrote {}", s.name, (dir / "summary.json").string()));
  if (wants_output(s, "plots") || wants_output(s, "report")) {
    write_replicated_report(s, dir, summary, pooled.metrics, pooled.latency,
                            wants_output(s, "plots"), wants_output(s, "report"));
  }
  return pooled;
}

}  // namespace shardlab::experiment
