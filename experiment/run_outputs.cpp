#include "experiment/run_outputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "base/atomic_file.h"
#include "plots/latency_cdf_plot.h"
#include "plots/replica_lag_plot.h"
#include "plots/series_table.h"
#include "plots/shard_load_plot.h"
#include "plots/throughput_plot.h"
#include "plots/utilisation_heatmap.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/tsv_format.h"
#include "workloads/query_template.h"

namespace shardlab::experiment {

namespace {

namespace cl = sim::cluster;

plots::RenderedPlot latency_cdf(const FinishedRun& run, const std::filesystem::path& dir) {
  std::vector<plots::QueryLatency> latencies;
  const auto& queries = run.scenario.workload.queries;
  for (size_t q = 0; q < queries.size(); ++q) {
    plots::QueryLatency entry{queries[q].name, run.collector.histogram(q), std::nullopt};
    if (queries[q].target_latency_s > 0) entry.target_s = queries[q].target_latency_s;
    latencies.push_back(std::move(entry));
  }
  return plots::render_latency_cdf(dir, "latency_cdf", latencies);
}

// Rates averaged over groups of `group` consecutive intervals (the last group may be shorter);
// `time_s` becomes the groups' starts.
void coarsen(size_t group, std::vector<double>* time_s, std::vector<plots::SeriesColumn>* columns) {
  if (group <= 1) return;
  std::vector<double> starts;
  for (size_t row = 0; row < time_s->size(); row += group) starts.push_back((*time_s)[row]);
  for (plots::SeriesColumn& column : *columns) {
    std::vector<double> means;
    for (size_t row = 0; row < column.values.size(); row += group) {
      double sum = 0;
      size_t n = 0;
      for (size_t r = row; r < std::min(row + group, column.values.size()); ++r) {
        if (!std::isfinite(column.values[r])) continue;
        sum += column.values[r];
        ++n;
      }
      means.push_back(n == 0 ? NAN : sum / static_cast<double>(n));
    }
    column.values = std::move(means);
  }
  *time_s = std::move(starts);
}

// Inserts are drawn in buckets no shorter than the batch interval, so that a batch's rows are
// not piled into one interval (5-minute batches in 60 s intervals showed five times the rate
// `shardlab check` reports). Queries are drawn in buckets long enough that the rarest query
// completes some 20 times in one on average, so that low rates read as rates, not as noise;
// at least 24 buckets remain.
plots::RenderedPlot throughput(const FinishedRun& run, const std::filesystem::path& dir) {
  const plots::SeriesTable traffic = plots::series_table(run.collector.series());
  plots::ThroughputData data;
  data.time_s = traffic.time_s;
  for (const plots::SeriesColumn& column : traffic.columns) {
    if (column.name == "rows_inserted_per_s") data.insert_rows_per_s.push_back(column);
    if (column.name.ends_with(".queries_per_s")) data.queries_per_s.push_back(column);
  }
  const double interval_s = static_cast<double>(run.collector.series().interval_ns()) * 1e-9;
  const size_t rows = data.time_s.size();
  const size_t most = std::max<size_t>(1, rows / 24);
  const auto insert_group = static_cast<size_t>(
      std::ceil(run.scenario.workload.batch_interval.seconds() / interval_s - 1e-9));
  data.query_time_s = data.time_s;
  coarsen(std::clamp<size_t>(insert_group, 1, most), &data.time_s, &data.insert_rows_per_s);
  double rarest = INFINITY;
  for (const scenarios::QueryTemplate& t : run.scenario.workload.queries) {
    if (t.rate_per_s > 0) rarest = std::min(rarest, t.rate_per_s);
  }
  if (std::isfinite(rarest)) {
    const auto query_group = static_cast<size_t>(std::ceil(20.0 / (rarest * interval_s)));
    coarsen(std::clamp<size_t>(query_group, 1, most), &data.query_time_s, &data.queries_per_s);
  }
  return plots::render_throughput(dir, "throughput", data);
}

plots::RenderedPlot shard_load(const FinishedRun& run, const std::filesystem::path& dir) {
  const auto states = run.cluster.shard_states();
  plots::ShardLoadData load;
  plots::ShardMetric rows{"rows", {}};
  plots::ShardMetric bytes{"bytes on disk", {}};
  for (size_t i = 0; i < states.size(); ++i) {
    load.shards.push_back(fmt::format("s{}", i + 1));
    rows.values.push_back(static_cast<double>(states[i].rows));
    bytes.values.push_back(static_cast<double>(states[i].bytes));
  }
  load.metrics = {rows, bytes};
  return plots::render_shard_load(dir, "shard_load", load);
}

void utilisation_heatmaps(const FinishedRun& run, const std::filesystem::path& dir,
                          std::vector<plots::RenderedPlot>* rendered) {
  const plots::SeriesTable use = plots::series_table(run.gauges.utilisation);
  plots::UtilisationData heat;
  heat.time_s = use.time_s;
  for (const scenarios::NodeConfig& node : run.scenario.cluster.nodes) {
    heat.nodes.push_back(node.name);
    for (auto [suffix, target] : {std::pair{".cpu", &heat.cpu}, std::pair{".disk", &heat.disk},
                                  std::pair{".network", &heat.network}}) {
      const plots::SeriesColumn* column = use.find(node.name + suffix);
      target->push_back(column ? column->values : std::vector<double>(use.time_s.size(), NAN));
    }
  }
  for (auto [name, resource] : {std::pair{"utilisation_cpu", plots::Resource::kCpu},
                                std::pair{"utilisation_disk", plots::Resource::kDisk},
                                std::pair{"utilisation_network", plots::Resource::kNetwork}}) {
    rendered->push_back(plots::render_utilisation_heatmap(dir, name, heat, resource));
  }
}

// Replica lag over time, with every outage of the fault log drawn as a window.
plots::RenderedPlot replica_lag(const FinishedRun& run, const std::filesystem::path& dir) {
  const plots::SeriesTable shard_series = plots::series_table(run.gauges.shards);
  plots::ReplicaLagData lag;
  lag.time_s = shard_series.time_s;
  if (run.scenario.cluster.replicas > 1) {
    if (const plots::SeriesColumn* column = shard_series.find("replica_lag_s")) {
      lag.replicas.push_back(plots::SeriesColumn{"largest replica lag", column->values});
    }
  }
  std::map<std::string, double> down_since;
  for (const auto& record : run.fault_log) {
    if (!record.up) {
      down_since[record.target] = record.at.seconds();
    } else if (down_since.count(record.target)) {
      lag.faults.push_back(
          {down_since[record.target], record.at.seconds(), record.target + " down"});
      down_since.erase(record.target);
    }
  }
  const double end_s = shard_series.time_s.empty() ? 0.0 : shard_series.time_s.back();
  for (const auto& [target, since] : down_since) {
    lag.faults.push_back({since, std::max(since, end_s), target + " down"});
  }
  lag.window_s = plots::fault_window(lag);
  return plots::render_replica_lag(dir, "replica_lag", lag);
}

// Joined with ", ", at most `limit` shown.
std::string join(const std::vector<std::string>& words, size_t limit = 12) {
  std::string out;
  for (size_t idx = 0; idx < words.size() && idx < limit; ++idx) {
    if (idx > 0) out += ", ";
    out += words[idx];
  }
  if (words.size() > limit) out += fmt::format(" and {} more", words.size() - limit);
  return out;
}

plots::ReportInput report_input(const FinishedRun& run, const results::Json& summary) {
  const scenarios::Scenario& s = run.scenario;
  plots::ReportInput input;
  input.scenario = s.variant.empty() ? s.name : s.name + " / " + s.variant;
  input.question = s.question;
  input.run_changes = run_changes(s);
  input.summary = summary;
  for (size_t q = 0; q < s.workload.queries.size(); ++q) {
    const auto& t = s.workload.queries[q];
    std::optional<plots::LatencyTarget> target;
    if (t.target_latency_s > 0) target = plots::LatencyTarget{t.target_latency_s, 0.99};
    input.latency.push_back(
        plots::latency_row(t.name, run.collector.histogram(q), run.collector.errors(q), target));
  }
  const results::Json& inserts = summary["inserts"];
  input.inserts = plots::InsertCounters{inserts["rows_sent"].get<uint64_t>(),
                                        inserts["rows_acknowledged"].get<uint64_t>(),
                                        inserts["rows_lost"].get<uint64_t>(),
                                        inserts["rows_rejected"].get<uint64_t>(),
                                        inserts["rows_queryable"].get<uint64_t>()};
  input.files = {
      {"summary.json", "every simulated result (deterministic for a scenario and seed)"},
      {"run_info.json", "wall time, peak memory and events of this run"},
      {"timeseries/throughput_latency.csv", "rows/s inserted, queries/s and p99 per query"},
      {"timeseries/utilisation.csv", "CPU, disk and network use per node"},
      {"timeseries/shards_lag.csv", "rows per shard, replica lag, queued async rows"},
      {"answers/", "every query template run on the final state, SQL and answer"}};
  if (s.cache) {
    input.files.push_back({"cache_series.csv",
                           "per time bin: requests, hits and hit ratio per cached template; "
                           "queries asked and queries that reached ClickHouse"});
  }
  if (wants_output(s, "trace")) {
    input.files.push_back({"trace.json", "the run's trace (open it in Perfetto)"});
  }
  return input;
}

std::string tsv(const engine::QueryResult& result) {
  std::string out;
  engine::append_tsv(result.columns, &out);
  return out;
}

}  // namespace

std::vector<std::string> run_changes(const scenarios::Scenario& s) {
  std::vector<std::string> out;
  if (!s.variant.empty()) {
    for (const scenarios::VariantConfig& v : s.variants) {
      if (v.name != s.variant) continue;
      out.push_back(fmt::format("Variant {}{}: sets {}.", v.name,
                                v.description.empty() ? "" : " (" + v.description + ")",
                                join(v.paths)));
    }
  }
  if (s.smoke) {
    out.push_back(fmt::format("A --smoke run: the file's smoke section sets {}.",
                              join(s.smoke_paths)));
    for (const scenarios::VariantConfig& v : s.variants) {
      if (v.name != s.variant || v.smoke_paths.empty()) continue;
      out.push_back(fmt::format("The variant's own smoke changes set {}.", join(v.smoke_paths)));
    }
  }
  if (!s.overrides.empty()) {
    out.push_back(fmt::format("--set {}.", join(s.overrides, s.overrides.size())));
  }
  return out;
}

bool wants_output(const scenarios::Scenario& s, std::string_view what) {
  return std::find(s.run.outputs.begin(), s.run.outputs.end(), what) != s.run.outputs.end();
}

void write_timeseries(const FinishedRun& run, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "timeseries");
  // The collector's series is extended to the end so that quiet final intervals show as zero.
  results::TimeSeries& series = run.collector.series();
  series.extend_to(run.finished.ns());
  series.write_csv(dir / "timeseries" / "throughput_latency.csv");
  run.gauges.utilisation.write_csv(dir / "timeseries" / "utilisation.csv");
  run.gauges.shards.write_csv(dir / "timeseries" / "shards_lag.csv");
}

void write_plots_and_report(const FinishedRun& run, const std::filesystem::path& dir,
                            const results::Json& summary,
                            std::vector<plots::ReportSection> sections,
                            std::vector<plots::RenderedPlot> more_plots, bool draw, bool report) {
  std::vector<plots::RenderedPlot> rendered;
  if (draw) {
    rendered.push_back(latency_cdf(run, dir));
    rendered.push_back(throughput(run, dir));
    rendered.push_back(shard_load(run, dir));
    utilisation_heatmaps(run, dir, &rendered);
    rendered.push_back(replica_lag(run, dir));
  }
  for (plots::RenderedPlot& plot : more_plots) rendered.push_back(std::move(plot));
  if (!report) return;
  plots::ReportInput input = report_input(run, summary);
  input.sections = std::move(sections);
  input.plots = std::move(rendered);
  plots::write_report(dir, input);
}

void write_replicated_report(const scenarios::Scenario& s, const std::filesystem::path& dir,
                             const results::Json& summary,
                             const results::ReplicatedMetrics& metrics,
                             const std::vector<TemplateLatency>& latency, bool draw, bool report) {
  std::vector<plots::RenderedPlot> rendered;
  if (draw) {
    std::vector<plots::QueryLatency> curves;
    for (const TemplateLatency& t : latency) {
      curves.push_back(plots::QueryLatency{
          t.name, t.histogram, t.target_s > 0 ? std::optional<double>(t.target_s) : std::nullopt});
    }
    rendered.push_back(plots::render_latency_cdf(dir, "latency_cdf", curves, {},
                                                 "Latency CDF per query, all replications"));
  }
  if (!report) return;
  plots::ReportInput input;
  input.scenario = s.variant.empty() ? s.name : s.name + " / " + s.variant;
  input.question = s.question;
  input.run_changes = run_changes(s);
  input.summary = summary;
  for (const TemplateLatency& t : latency) {
    std::optional<plots::LatencyTarget> target;
    if (t.target_s > 0) target = plots::LatencyTarget{t.target_s, 0.99};
    input.latency.push_back(plots::latency_row(t.name, t.histogram, t.errors, target));
  }
  input.inserts_note = "Per replication in the metrics below (mean and confidence interval), and "
                       "in each seed-N directory's report.";
  plots::ReportSection table;
  table.title = fmt::format("Metrics over {} replications", summary.value("replications", 0));
  table.text = fmt::format(
      "Each metric's mean over the replications (seeds {} on) and the half width of its {:.0f}% "
      "confidence interval (Student's t). Latency above pools every replication's queries.",
      summary.value("first_seed", uint64_t{0}), 100 * results::kDefaultConfidenceLevel);
  table.header = {"metric", "mean", "± half width", "replications"};
  table.numeric = {false, true, true, true};
  for (const std::string& name : metrics.names()) {
    const results::ConfidenceInterval ci = metrics.interval(name);
    table.rows.push_back({name, fmt::format("{:.6g}", ci.mean),
                          ci.half_width ? fmt::format("{:.3g}", *ci.half_width) : "-",
                          fmt::format("{}", metrics.values(name).size())});
  }
  input.sections.push_back(std::move(table));
  input.plots = std::move(rendered);
  input.files = {{"summary.json", "every metric's mean and confidence interval"}};
  for (const results::Json& run : summary.value("runs", results::Json::array())) {
    const std::string name = run.get<std::string>();
    input.files.push_back({name + "/", "one replication's own files and report"});
  }
  plots::write_report(dir, input);
}

void write_answers(const FinishedRun& run, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "answers");
  const scenarios::Scenario& s = run.scenario;
  const int64_t now_s = s.workload.generator.start + run.finished.ns() / 1'000'000'000;
  for (const scenarios::QueryTemplate& t : s.workload.queries) {
    // A template with parameters answers for the most popular values (user 1, item 1).
    const std::string sql =
        workloads::QueryTemplateText(t.sql).expand(now_s, workloads::ParameterValues{});
    const auto query = engine::Query::prepare(run.cluster.schema(), sql);
    const std::vector<bool> shards = run.cluster.shards_to_visit(sql);
    base::write_file_atomically(dir / "answers" / (t.name + ".sql"), sql + "\n");
    base::write_file_atomically(dir / "answers" / (t.name + ".tsv"),
                                tsv(run.cluster.query_now(*query, &shards)));
  }
}

}  // namespace shardlab::experiment
