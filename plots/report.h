// The report of a run: report.md and report.html in the result directory, saying what question
// the scenario answers and tying its answers together: latency per query against its target,
// the insert counters, the figures, the other files of the run, and every value of
// summary.json.
//
// Both files are rendered from one list of blocks (headings, paragraphs, tables, figures), so
// they always say the same thing. The HTML page is self-contained: inline CSS, no scripts, no
// external fonts; figures are linked by relative file name (the PNG shown, the SVG linked), so
// the directory can be moved or served as it is. Every text that comes from the scenario is
// escaped for the format it lands in (markup.h). Nothing in either file depends on the wall
// clock: the same inputs give the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plots/plot_options.h"
#include "results/latency_histogram.h"
#include "results/summary_writer.h"

namespace shardlab::plots {

// "Under `seconds` at quantile `quantile`": the quantile is one of the table's columns,
// 0.5, 0.9, 0.99 or 0.999.
struct LatencyTarget {
  double seconds = 0;
  double quantile = 0.99;
};

struct QueryLatencyRow {
  std::string query;
  uint64_t count = 0;   // completed executions
  uint64_t errors = 0;  // failed executions
  // Seconds; empty when no execution completed.
  std::optional<double> mean_s;
  std::optional<double> p50_s;
  std::optional<double> p90_s;
  std::optional<double> p99_s;
  std::optional<double> p999_s;
  std::optional<LatencyTarget> target;
};

// The row for a query from its histogram (values in ns), with the quantiles summary.json has.
QueryLatencyRow latency_row(std::string query, const results::LatencyHistogram& histogram,
                            uint64_t errors, std::optional<LatencyTarget> target = std::nullopt);

enum class TargetVerdict { kNoTarget, kNoData, kMet, kMissed };

// kMet when the value at the target's quantile is at most the target (the histogram's
// quantiles are within 0.4% of exact, so a value within that of the target is a close call,
// not a verdict to lean on). REQUIRES: a target's quantile is one of the four above.
TargetVerdict target_verdict(const QueryLatencyRow& row);

struct InsertCounters {
  uint64_t rows_sent = 0;
  uint64_t rows_acknowledged = 0;
  uint64_t rows_lost = 0;
  uint64_t rows_rejected = 0;
  // A count() over the cluster after replication settled; empty when it was not measured.
  std::optional<uint64_t> rows_queryable;
};

// Another file of the run to list, by path relative to the report's directory.
struct ReportFile {
  std::string path;         // "summary.json", "series/throughput.csv"
  std::string description;  // "every simulated result (deterministic)"
};

// A section of its own, for what only some scenarios report (a reshard experiment): a heading,
// what it shows, and a table of already formatted cells.
struct ReportSection {
  std::string title;
  std::string text;
  std::vector<std::string> header;
  std::vector<bool> numeric;  // right-aligned columns, one flag per header entry
  std::vector<std::vector<std::string>> rows;
};

struct ReportInput {
  std::string scenario;  // its name, e.g. "replica-failover"
  // What question the scenario answers: its comment block. Paragraphs are separated by blank
  // lines; lines within a paragraph are joined.
  std::string question;
  // How this run differs from the file as written, one sentence each ("A --smoke run: the
  // file's smoke section sets workload.rows, ..."); empty: the file's own values.
  std::vector<std::string> run_changes;
  results::Json summary;                  // summary.json's document
  std::vector<QueryLatencyRow> latency;   // empty: the scenario runs no queries
  std::optional<InsertCounters> inserts;  // empty: see inserts_note
  // What the Inserts section says without counters.
  std::string inserts_note = "The scenario inserts no rows.";
  std::vector<ReportSection> sections;    // after the inserts, in order
  std::vector<RenderedPlot> plots;        // rendered into the report's directory
  std::vector<ReportFile> files;
};

std::string render_report_markdown(const ReportInput& input);
std::string render_report_html(const ReportInput& input);

// Writes dir/report.md and dir/report.html, each atomically (base/atomic_file.h). Throws
// RuntimeError naming the file that could not be written.
void write_report(const std::filesystem::path& dir, const ReportInput& input);

}  // namespace shardlab::plots
