#include "experiment/comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "base/atomic_file.h"
#include "plots/cache_plots.h"
#include "plots/latency_cdf_plot.h"
#include "results/confidence_interval.h"

namespace shardlab::experiment {

namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string cell(const results::ReplicatedMetrics& metrics, const std::string& name, bool markdown) {
  const std::vector<double>& values = metrics.values(name);
  if (values.empty()) return markdown ? "–" : "";
  const results::ConfidenceInterval ci = metrics.interval(name);
  if (!ci.half_width) return fmt::format("{:.6g}", ci.mean);
  return markdown ? fmt::format("{:.4g} ± {:.2g}", ci.mean, *ci.half_width)
                  : fmt::format("{:.6g}", ci.mean);
}

// The metrics the comparison figure draws: a cache tier's effect when the variants have one,
// else each template's p99 (the first four), rows lost and replica lag.
std::vector<std::string> figure_metrics(const std::vector<std::string>& names) {
  const auto has = [&](const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  std::vector<std::string> chosen;
  if (has("cache.hit_ratio")) {
    for (const char* name : {"cache.hit_ratio", "cache.stale_share", "clickhouse.queries",
                             "clickhouse.peak_queries_per_s"}) {
      if (has(name)) chosen.emplace_back(name);
    }
    return chosen;
  }
  for (const std::string& name : names) {
    if (name.starts_with("queries.") && name.ends_with(".p99_s") && chosen.size() < 4) {
      chosen.push_back(name);
    }
  }
  for (const char* name : {"inserts.rows_lost", "replication.max_lag_s"}) {
    if (has(name)) chosen.emplace_back(name);
  }
  return chosen;
}

void draw_comparison(const std::filesystem::path& dir, const std::vector<std::string>& names,
                     const std::vector<VariantResult>& variants) {
  std::vector<std::string> labels;
  for (const VariantResult& v : variants) labels.push_back(v.name);
  std::vector<plots::ComparisonPanel> panels;
  for (const std::string& name : figure_metrics(names)) {
    plots::ComparisonPanel panel{name, {}, {}};
    bool intervals = false;
    for (const VariantResult& v : variants) {
      if (v.run.metrics.values(name).empty()) {
        panel.means.push_back(NAN);
        panel.half_widths.push_back(NAN);
        continue;
      }
      const results::ConfidenceInterval ci = v.run.metrics.interval(name);
      panel.means.push_back(ci.mean);
      panel.half_widths.push_back(ci.half_width ? *ci.half_width : NAN);
      intervals = intervals || ci.half_width.has_value();
    }
    if (!intervals) panel.half_widths.clear();
    panels.push_back(std::move(panel));
  }
  plots::render_comparison(dir, "comparison", labels, panels);
}

// Per template, its latency CDF in each variant. Returns the figures' file stems.
std::vector<std::string> draw_latency(const std::filesystem::path& dir,
                                      const std::vector<VariantResult>& variants) {
  std::vector<std::string> stems;
  const size_t templates = variants.front().run.latency.size();
  for (size_t q = 0; q < templates; ++q) {
    std::vector<plots::QueryLatency> curves;
    std::optional<double> target;
    for (const VariantResult& v : variants) {
      if (q >= v.run.latency.size()) continue;
      const TemplateLatency& latency = v.run.latency[q];
      curves.push_back(plots::QueryLatency{v.name, latency.histogram, std::nullopt});
      if (latency.target_s > 0) target = latency.target_s;
    }
    // The target once, on the first curve: it is the template's, the same in every variant.
    if (!curves.empty()) curves.front().target_s = target;
    const std::string stem = 
        "comparison_latency_" + variants.front().run.latency[q].name;  // names are plain words
    plots::render_latency_cdf(
        dir, stem, curves, {},
        fmt::format("Latency CDF of {} per variant", variants.front().run.latency[q].name));
    stems.push_back(stem);
  }
  return stems;
}

}  // namespace

void write_comparison(const std::filesystem::path& dir, const std::string& scenario,
                      const std::vector<VariantResult>& variants, bool draw) {
  // Every metric once, in the order the variants first report it.
  std::vector<std::string> names;
  for (const VariantResult& v : variants) {
    for (const std::string& name : v.run.metrics.names()) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  std::string csv = "variant,description";
  for (const std::string& name : names) csv += "," + csv_field(name);
  csv += '\n';
  for (const VariantResult& v : variants) {
    csv += csv_field(v.name) + "," + csv_field(v.description);
    for (const std::string& name : names) csv += "," + cell(v.run.metrics, name, false);
    csv += '\n';
  }
  base::write_file_atomically(dir / "comparison.csv", csv);

  // Markdown: metrics down, variants across, which stays readable with many metrics.
  std::string md = fmt::format("# {}: the variants side by side\n\n", scenario);
  for (const VariantResult& v : variants) md += fmt::format("- **{}**: {}\n", v.name, v.description);
  md += "\n| metric |";
  for (const VariantResult& v : variants) md += " " + v.name + " |";
  md += "\n|---|";
  for (size_t idx = 0; idx < variants.size(); ++idx) md += "---|";
  md += '\n';
  for (const std::string& name : names) {
    md += "| " + name + " |";
    for (const VariantResult& v : variants) md += " " + cell(v.run.metrics, name, true) + " |";
    md += '\n';
  }
  if (draw) {
    draw_comparison(dir, names, variants);
    md += "\n![the variants side by side](comparison.png)\n";
    for (const std::string& stem : draw_latency(dir, variants)) {
      md += fmt::format("\n![latency per variant]({}.png)\n", stem);
    }
  }
  base::write_file_atomically(dir / "comparison.md", md);
}

}  // namespace shardlab::experiment
