#include "experiment/comparison.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/atomic_file.h"
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

}  // namespace

void write_comparison(const std::filesystem::path& dir, const std::string& scenario,
                      const std::vector<VariantResult>& variants) {
  // Every metric once, in the order the variants first report it.
  std::vector<std::string> names;
  for (const VariantResult& v : variants) {
    for (const std::string& name : v.metrics.names()) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  std::string csv = "variant,description";
  for (const std::string& name : names) csv += "," + csv_field(name);
  csv += '\n';
  for (const VariantResult& v : variants) {
    csv += csv_field(v.name) + "," + csv_field(v.description);
    for (const std::string& name : names) csv += "," + cell(v.metrics, name, false);
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
    for (const VariantResult& v : variants) md += " " + cell(v.metrics, name, true) + " |";
    md += '\n';
  }
  base::write_file_atomically(dir / "comparison.md", md);
}

}  // namespace shardlab::experiment
