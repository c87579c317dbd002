#include "experiment/comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "base/atomic_file.h"
#include "base/errors.h"
#include "plots/comparison_plot.h"
#include "plots/latency_cdf_plot.h"
#include "plots/markup.h"
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

// The resource with the highest mean peak utilisation (utilisation.peak_*): the one a larger
// load saturates first. Empty when the run reported none.
std::string bottleneck(const results::ReplicatedMetrics& metrics) {
  std::string chosen;
  double highest = -1;
  for (const char* resource : {"cpu", "disk", "network"}) {
    const std::string name = std::string("utilisation.peak_") + resource;
    if (metrics.values(name).empty()) continue;
    const double mean = metrics.interval(name).mean;
    if (mean > highest) {
      highest = mean;
      chosen = resource;
    }
  }
  return chosen;
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

// Template q's latency in the first variant that ran. REQUIRES: one has it.
const TemplateLatency& first_with(const std::vector<VariantResult>& variants, size_t q) {
  for (const VariantResult& v : variants) {
    if (q < v.run.latency.size()) return v.run.latency[q];
  }
  SHARDLAB_ASSERT(false, "no variant has template {}", q);
  return variants.front().run.latency.front();
}

// Per template, its latency CDF in each variant. Returns the figures' file stems.
std::vector<std::string> draw_latency(const std::filesystem::path& dir,
                                      const std::vector<VariantResult>& variants) {
  std::vector<std::string> stems;
  size_t templates = 0;
  for (const VariantResult& v : variants) templates = std::max(templates, v.run.latency.size());
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
    const std::string& name = first_with(variants, q).name;
    const std::string stem = "comparison_latency_" + name;  // template names are plain words
    plots::render_latency_cdf(
        dir, stem, curves, {},
        fmt::format("Latency CDF of {} per variant", name));
    stems.push_back(stem);
  }
  return stems;
}

// A file name made of a swept key: its dots kept, anything else outside [A-Za-z0-9_-] a '_'.
std::string key_stem(const std::string& key) {
  std::string out;
  for (const char c : key) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    out += plain ? c : '_';
  }
  return out;
}

// "replicas=2,seed=3": a point's settings other than key k, each by its key's last word.
std::string other_settings(const VariantResult& point, size_t k) {
  std::string out;
  for (size_t o = 0; o < point.parameters.size(); ++o) {
    if (o == k) continue;
    const std::string& key = point.parameters[o].first;
    if (!out.empty()) out += ',';
    out += key.substr(key.rfind('.') + 1) + "=" + point.parameters[o].second;
  }
  return out;
}

// Per swept key, each key metric against the key's values, one line per combination of the
// other keys. Returns the figures' file stems.
std::vector<std::string> draw_sweep(const std::filesystem::path& dir,
                                    const std::vector<std::string>& names,
                                    const std::vector<VariantResult>& points) {
  std::vector<std::string> stems;
  const std::vector<std::string> metrics = figure_metrics(names);
  for (size_t k = 0; k < points.front().parameters.size(); ++k) {
    const std::string& key = points.front().parameters[k].first;
    std::vector<std::string> x_values;
    std::vector<std::string> lines;
    for (const VariantResult& point : points) {
      for (auto [list, value] : {std::pair{&x_values, point.parameters[k].second},
                                 std::pair{&lines, other_settings(point, k)}}) {
        if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
      }
    }
    std::vector<plots::SweepPanel> panels;
    for (const std::string& metric : metrics) {
      plots::SweepPanel panel{metric, {}};
      bool intervals = false;
      for (const std::string& line : lines) {
        plots::SweepSeries series{line, std::vector<double>(x_values.size(), NAN),
                                  std::vector<double>(x_values.size(), NAN)};
        for (const VariantResult& point : points) {
          if (other_settings(point, k) != line || point.run.metrics.values(metric).empty()) {
            continue;
          }
          const auto x = static_cast<size_t>(
              std::find(x_values.begin(), x_values.end(), point.parameters[k].second) -
              x_values.begin());
          const results::ConfidenceInterval ci = point.run.metrics.interval(metric);
          series.means[x] = ci.mean;
          if (ci.half_width) {
            series.half_widths[x] = *ci.half_width;
            intervals = true;
          }
        }
        panel.series.push_back(std::move(series));
      }
      if (!intervals) {
        for (plots::SweepSeries& series : panel.series) series.half_widths.clear();
      }
      panels.push_back(std::move(panel));
    }
    const std::string stem = "sweep_" + key_stem(key);
    plots::render_sweep(dir, stem, key, x_values, panels);
    stems.push_back(stem);
  }
  return stems;
}

// The same table and figures as comparison.md, as a self-contained page.
std::string comparison_html(const std::string& scenario, const std::vector<VariantResult>& variants,
                            const std::vector<std::string>& names,
                            const std::vector<std::string>& figures) {
  using plots::html_escape;
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>{0}: side by side</title>\n<style>\n"
      "body {{ font-family: sans-serif; margin: 2em; }}\n"
      "table {{ border-collapse: collapse; }}\n"
      "th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; }}\n"
      "td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}\n"
      "img {{ max-width: 100%; }}\n</style>\n</head>\n<body>\n"
      "<h1>{0}: side by side</h1>\n<ul>\n",
      html_escape(scenario));
  for (const VariantResult& v : variants) {
    html += "<li><b>" + html_escape(v.name) + "</b>";
    if (!v.description.empty()) html += ": " + html_escape(v.description);
    if (!v.failure.empty()) html += " (<b>failed</b>: " + html_escape(v.failure) + ")";
    html += "</li>\n";
  }
  html += "</ul>\n<table>\n<tr><th>metric</th>";
  for (const VariantResult& v : variants) html += "<th>" + html_escape(v.name) + "</th>";
  html += "</tr>\n";
  for (const std::string& name : names) {
    html += "<tr><td>" + html_escape(name) + "</td>";
    for (const VariantResult& v : variants) {
      html += "<td class=\"num\">" + html_escape(cell(v.run.metrics, name, true)) + "</td>";
    }
    html += "</tr>\n";
  }
  html += "<tr><td>bottleneck</td>";
  for (const VariantResult& v : variants) {
    html += "<td>" + html_escape(bottleneck(v.run.metrics)) + "</td>";
  }
  html += "</tr>\n</table>\n";
  for (const std::string& stem : figures) {
    html += fmt::format("<p><a href=\"{0}.svg\"><img src=\"{0}.png\" alt=\"{1}\"></a></p>\n",
                        plots::url_encode(stem), html_escape(stem));
  }
  return html + "</body>\n</html>\n";
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
  // A sweep's points carry their settings: a column per swept key, and whether each ran.
  const std::vector<std::pair<std::string, std::string>>& keys = variants.front().parameters;
  const bool sweep = !keys.empty();
  std::string csv = sweep ? "point" : "variant,description";
  for (const auto& [key, value] : keys) csv += "," + csv_field(key);
  if (sweep) csv += ",status";
  csv += ",bottleneck";
  for (const std::string& name : names) csv += "," + csv_field(name);
  csv += '\n';
  for (const VariantResult& v : variants) {
    csv += sweep ? csv_field(v.dir.empty() ? v.name : v.dir)
                 : csv_field(v.name) + "," + csv_field(v.description);
    for (const auto& [key, value] : v.parameters) csv += "," + csv_field(value);
    if (sweep) csv += "," + csv_field(v.failure.empty() ? "ok" : "failed: " + v.failure);
    csv += "," + bottleneck(v.run.metrics);
    for (const std::string& name : names) csv += "," + cell(v.run.metrics, name, false);
    csv += '\n';
  }
  base::write_file_atomically(dir / "comparison.csv", csv);

  // Markdown: metrics down, variants across, which stays readable with many metrics.
  std::string md = fmt::format("# {}: the variants side by side\n\n", scenario);
  for (const VariantResult& v : variants) {
    md += fmt::format("- **{}**", v.name);
    if (!v.description.empty()) md += ": " + v.description;
    if (!v.failure.empty()) md += fmt::format(" (**failed**: {}; see {}/)", v.failure, v.dir);
    md += '\n';
  }
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
  md += "| bottleneck |";
  for (const VariantResult& v : variants) md += " " + bottleneck(v.run.metrics) + " |";
  md += '\n';
  std::vector<std::string> figures;  // file stems, in the order they are shown
  if (draw) {
    draw_comparison(dir, names, variants);
    figures.push_back("comparison");
    for (std::string& stem : draw_latency(dir, variants)) figures.push_back(std::move(stem));
    if (sweep) {
      for (std::string& stem : draw_sweep(dir, names, variants)) figures.push_back(std::move(stem));
    }
    for (const std::string& stem : figures) md += fmt::format("\n![{0}]({0}.png)\n", stem);
  }
  base::write_file_atomically(dir / "comparison.md", md);
  base::write_file_atomically(dir / "comparison.html",
                              comparison_html(scenario, variants, names, figures));
}

}  // namespace shardlab::experiment
