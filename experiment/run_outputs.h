// The files of one run beyond summary.json and run_info.json, each chosen by `run.outputs`:
// time series (CSV), plots and the report, the answers of every template on the final state, and
// the trace. They read only what the run observed and the cluster's final state.
#pragma once

#include <filesystem>
#include <vector>

#include "experiment/run_summary.h"
#include "plots/report.h"
#include "results/replicated_metrics.h"

namespace shardlab::experiment {

// How the run's scenario differs from its file, for reports: the variant's `set` paths, the
// smoke section's paths, the --set arguments; one sentence each.
std::vector<std::string> run_changes(const scenarios::Scenario& s);

// True if the scenario's run.outputs names `what`.
bool wants_output(const scenarios::Scenario& s, std::string_view what);

// timeseries/*.csv. REQUIRES: summarize() ran (it completes the utilisation gauges).
void write_timeseries(const FinishedRun& run, const std::filesystem::path& dir);

// The figures (when `draw`) and report.md/report.html (when `report`), with `sections` and the
// figures already drawn by the run's other parts (`more_plots`) appended.
void write_plots_and_report(const FinishedRun& run, const std::filesystem::path& dir,
                            const results::Json& summary,
                            std::vector<plots::ReportSection> sections,
                            std::vector<plots::RenderedPlot> more_plots, bool draw, bool report);

// The report of a run's replications, in the directory above their seed-N directories: every
// metric's mean and confidence interval, and the latency CDF pooled over the replications
// (latency_cdf.png when `draw`).
void write_replicated_report(const scenarios::Scenario& s, const std::filesystem::path& dir,
                             const results::Json& summary,
                             const results::ReplicatedMetrics& metrics,
                             const std::vector<TemplateLatency>& latency, bool draw, bool report);

// answers/NAME.sql and answers/NAME.tsv: every template run once more on the final state through
// the distributed path, shard pruning included.
void write_answers(const FinishedRun& run, const std::filesystem::path& dir);

}  // namespace shardlab::experiment
