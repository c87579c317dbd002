#include "plots/report.h"

#include <fmt/format.h>

#include <cmath>
#include <string_view>
#include <utility>
#include <variant>

#include "base/errors.h"
#include "plots/human_units.h"
#include "plots/markup.h"
#include "base/atomic_file.h"
#include "results/number_format.h"

namespace shardlab::plots {
namespace {

// The report as a list of blocks; each format renders the same list. Texts are plain (not yet
// escaped): each renderer escapes for its own format.
struct Heading {
  int level = 1;
  std::string text;
};
struct Paragraph {
  std::string text;
  bool note = false;  // secondary text: how to read a table, why something is absent
};
struct Cell {
  std::string text;
  std::string css_class;  // HTML only: "met", "missed"
};
struct Table {
  std::vector<std::string> header;
  std::vector<bool> numeric;  // right-aligned columns
  std::vector<std::vector<Cell>> rows;
  // Non-empty: HTML folds the table under this label (it is long and rarely read first).
  std::string folded_label;
};
struct Figure {
  RenderedPlot plot;
};
struct FileList {
  std::vector<ReportFile> files;
};
using Block = std::variant<Heading, Paragraph, Table, Figure, FileList>;

constexpr const char* kHistogramNote =
    "Quantiles come from log-linear histograms and are within 0.4% of the exact order "
    "statistic. A verdict compares the target with the quantile it names.";

std::string quantile_label(double quantile) {
  if (quantile == 0.5) return "p50";
  if (quantile == 0.9) return "p90";
  if (quantile == 0.99) return "p99";
  if (quantile == 0.999) return "p99.9";
  SHARDLAB_ASSERT(false, "latency target at quantile {}: only 0.5, 0.9, 0.99, 0.999 are reported",
                  quantile);
  return "";
}

const std::optional<double>& value_at(const QueryLatencyRow& row, double quantile) {
  quantile_label(quantile);  // checks the quantile
  if (quantile == 0.5) return row.p50_s;
  if (quantile == 0.9) return row.p90_s;
  if (quantile == 0.99) return row.p99_s;
  return row.p999_s;
}

std::string duration_cell(const std::optional<double>& seconds) {
  return seconds.has_value() ? format_duration(*seconds) : "n/a";
}

Cell verdict_cell(const QueryLatencyRow& row) {
  switch (target_verdict(row)) {
    case TargetVerdict::kNoTarget:
      return {"no target", ""};
    case TargetVerdict::kNoData:
      return {"no data", "missed"};
    case TargetVerdict::kMet:
    case TargetVerdict::kMissed:
      break;
  }
  const double ratio = *value_at(row, row.target->quantile) / row.target->seconds;
  if (target_verdict(row) == TargetVerdict::kMet) {
    return {fmt::format("met ({}% of target)", format_ratio(ratio * 100)), "met"};
  }
  return {fmt::format("missed ({}\u00d7 target)", format_ratio(ratio)), "missed"};
}

Table latency_table(const std::vector<QueryLatencyRow>& rows) {
  Table table;
  table.header = {"query", "count", "errors", "mean",   "p50",
                  "p90",   "p99",   "p99.9",  "target", "verdict"};
  table.numeric = {false, true, true, true, true, true, true, true, true, false};
  for (const QueryLatencyRow& row : rows) {
    const std::string target = row.target.has_value()
                                   ? fmt::format("{} at {}", format_duration(row.target->seconds),
                                                 quantile_label(row.target->quantile))
                                   : "";
    table.rows.push_back({{row.query, ""},
                          {format_count(row.count), ""},
                          {format_count(row.errors), ""},
                          {duration_cell(row.mean_s), ""},
                          {duration_cell(row.p50_s), ""},
                          {duration_cell(row.p90_s), ""},
                          {duration_cell(row.p99_s), ""},
                          {duration_cell(row.p999_s), ""},
                          {target, ""},
                          verdict_cell(row)});
  }
  return table;
}

Table insert_table(const InsertCounters& counters) {
  Table table;
  table.header = {"counter", "rows", "share of sent"};
  table.numeric = {false, true, true};
  auto add = [&](std::string label, uint64_t value) {
    const std::string share = counters.rows_sent == 0
                                  ? "n/a"
                                  : format_ratio(100.0 * static_cast<double>(value) /
                                                 static_cast<double>(counters.rows_sent)) +
                                        "%";
    table.rows.push_back({{std::move(label), ""}, {format_count(value), ""}, {share, ""}});
  };
  add("sent", counters.rows_sent);
  add("acknowledged", counters.rows_acknowledged);
  add("lost", counters.rows_lost);
  add("rejected", counters.rows_rejected);
  if (counters.rows_queryable.has_value()) {
    add("queryable after replication settled", *counters.rows_queryable);
  }
  return table;
}

std::string json_leaf(const results::Json& value) {
  switch (value.type()) {
    case results::Json::value_t::number_float: {
      const double number = value.get<double>();
      return std::isfinite(number) ? results::format_number(number) : "null";
    }
    case results::Json::value_t::string:
      return value.get<std::string>();
    case results::Json::value_t::object:
      return "{}";
    case results::Json::value_t::array:
      return "[]";
    default:
      return value.dump(-1, ' ', false, results::Json::error_handler_t::replace);
  }
}

void flatten(const results::Json& value, const std::string& path, Table& table) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, member] : value.items()) {
      flatten(member, path.empty() ? key : path + "." + key, table);
    }
  } else if (value.is_array() && !value.empty()) {
    for (size_t element_idx = 0; element_idx < value.size(); ++element_idx) {
      flatten(value[element_idx], fmt::format("{}[{}]", path, element_idx), table);
    }
  } else {
    table.rows.push_back({{path.empty() ? "(document)" : path, ""}, {json_leaf(value), ""}});
  }
}

// Paragraphs separated by blank lines; the lines of one paragraph joined by spaces.
std::vector<std::string> paragraphs(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
      if (!current.empty()) current += ' ';
      current += line;
    }
    begin = end + 1;
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::vector<Block> build_blocks(const ReportInput& input) {
  std::vector<Block> blocks;
  blocks.push_back(Heading{1, "shardlab report: " + input.scenario});

  blocks.push_back(Heading{2, "Question"});
  const std::vector<std::string> question = paragraphs(input.question);
  if (question.empty()) {
    blocks.push_back(Paragraph{"The scenario does not say which question it answers.", true});
  }
  for (const std::string& paragraph : question) blocks.push_back(Paragraph{paragraph, false});

  blocks.push_back(Heading{2, "This run"});
  if (input.run_changes.empty()) {
    blocks.push_back(Paragraph{"The scenario file as written, with no changes.", true});
  } else {
    blocks.push_back(Paragraph{"The file's values were changed for this run; the results below "
                               "are for the changed scenario, not the file as written.",
                               true});
    for (const std::string& change : input.run_changes) {
      blocks.push_back(Paragraph{change, false});
    }
  }

  blocks.push_back(Heading{2, "Latency per query"});
  if (input.latency.empty()) {
    blocks.push_back(Paragraph{"The scenario runs no queries.", true});
  } else {
    blocks.push_back(latency_table(input.latency));
    blocks.push_back(Paragraph{kHistogramNote, true});
  }

  blocks.push_back(Heading{2, "Inserts"});
  if (input.inserts.has_value()) {
    blocks.push_back(insert_table(*input.inserts));
  } else {
    blocks.push_back(Paragraph{input.inserts_note, true});
  }

  for (const ReportSection& section : input.sections) {
    blocks.push_back(Heading{2, section.title});
    if (!section.text.empty()) blocks.push_back(Paragraph{section.text, false});
    Table table;
    table.header = section.header;
    table.numeric = section.numeric;
    table.numeric.resize(table.header.size(), false);
    for (const auto& row : section.rows) {
      std::vector<Cell> cells;
      for (const std::string& text : row) cells.push_back(Cell{text, ""});
      table.rows.push_back(std::move(cells));
    }
    blocks.push_back(std::move(table));
  }

  blocks.push_back(Heading{2, "Figures"});
  if (input.plots.empty()) blocks.push_back(Paragraph{"No figures were drawn.", true});
  for (const RenderedPlot& plot : input.plots) {
    blocks.push_back(Heading{3, plot.title});
    blocks.push_back(Figure{plot});
  }

  if (!input.files.empty()) {
    blocks.push_back(Heading{2, "Files"});
    blocks.push_back(FileList{input.files});
  }

  blocks.push_back(Heading{2, "Summary values"});
  Table summary;
  summary.header = {"key", "value"};
  summary.numeric = {false, true};
  if (!input.summary.is_null()) flatten(input.summary, "", summary);
  if (summary.rows.empty()) {
    blocks.push_back(Paragraph{"The summary is empty.", true});
  } else {
    blocks.push_back(Paragraph{"Every value of summary.json by its path in the document.", true});
    summary.folded_label = fmt::format("{} values", format_count(summary.rows.size()));
    blocks.push_back(std::move(summary));
  }
  return blocks;
}

// ---- Markdown

std::string md_table_cell(std::string_view text) {
  // No block starts inside a table cell; '|' is among the characters escaped anywhere.
  return text.empty() ? " " : markdown_escape_inline(text);
}

void render_markdown(const Block& block, std::string& out) {
  if (const auto* heading = std::get_if<Heading>(&block)) {
    out += std::string(static_cast<size_t>(heading->level), '#') + " " +
           markdown_escape(heading->text) + "\n\n";
  } else if (const auto* paragraph = std::get_if<Paragraph>(&block)) {
    const std::string text = markdown_escape(paragraph->text);
    out += paragraph->note ? "*" + text + "*\n\n" : text + "\n\n";
  } else if (const auto* table = std::get_if<Table>(&block)) {
    std::string header = "|";
    std::string rule = "|";
    for (size_t column_idx = 0; column_idx < table->header.size(); ++column_idx) {
      header += " " + md_table_cell(table->header[column_idx]) + " |";
      rule += table->numeric[column_idx] ? " ---: |" : " --- |";
    }
    out += header + "\n" + rule + "\n";
    for (const auto& row : table->rows) {
      out += "|";
      for (const Cell& cell : row) out += " " + md_table_cell(cell.text) + " |";
      out += "\n";
    }
    out += "\n";
  } else if (const auto* figure = std::get_if<Figure>(&block)) {
    const RenderedPlot& plot = figure->plot;
    out += "![" + markdown_escape_inline(plot.title) + "](" + url_encode(plot.png) + ")\n\n";
    if (plot.placeholder) out += "*No data: " + markdown_escape(plot.note) + "*\n\n";
    out += "[" + markdown_escape_inline(plot.png) + "](" + url_encode(plot.png) + ") \u00b7 [" +
           markdown_escape_inline(plot.svg) + "](" + url_encode(plot.svg) + ")\n\n";
  } else if (const auto* list = std::get_if<FileList>(&block)) {
    for (const ReportFile& file : list->files) {
      out += "- [" + markdown_escape_inline(file.path) + "](" + url_encode(file.path) + ")";
      if (!file.description.empty()) out += ": " + markdown_escape_inline(file.description);
      out += "\n";
    }
    out += "\n";
  }
}

// ---- HTML

constexpr const char* kStyle = R"(body {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  max-width: 1040px; margin: 2em auto; padding: 0 1em; color: #1b1b1b; line-height: 1.5;
}
h1 { font-size: 1.6em; border-bottom: 2px solid #ddd; padding-bottom: 0.3em; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #eee; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d0d0; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.met { color: #1a7f37; font-weight: 600; }
td.missed { color: #c62828; font-weight: 600; }
p.note { color: #555; font-size: 0.9em; }
figure { margin: 0.5em 0 1.5em; }
figure img { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { color: #444; font-size: 0.9em; }
details > summary { cursor: pointer; color: #444; }
)";

std::string html_attribute_url(std::string_view path) { return html_escape(url_encode(path)); }

void render_html_table(const Table& table, std::string& out) {
  out += "<table>\n<thead><tr>";
  for (size_t column_idx = 0; column_idx < table.header.size(); ++column_idx) {
    out += table.numeric[column_idx] ? "<th class=\"num\">" : "<th>";
    out += html_escape(table.header[column_idx]) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (size_t column_idx = 0; column_idx < row.size(); ++column_idx) {
      std::string classes = table.numeric[column_idx] ? "num" : "";
      if (!row[column_idx].css_class.empty()) {
        classes += (classes.empty() ? "" : " ") + row[column_idx].css_class;
      }
      out += classes.empty() ? "<td>" : "<td class=\"" + classes + "\">";
      out += html_escape(row[column_idx].text) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
}

void render_html(const Block& block, std::string& out) {
  if (const auto* heading = std::get_if<Heading>(&block)) {
    out += fmt::format("<h{0}>{1}</h{0}>\n", heading->level, html_escape(heading->text));
  } else if (const auto* paragraph = std::get_if<Paragraph>(&block)) {
    out += paragraph->note ? "<p class=\"note\">" : "<p>";
    out += html_escape(paragraph->text) + "</p>\n";
  } else if (const auto* table = std::get_if<Table>(&block)) {
    if (table->folded_label.empty()) {
      render_html_table(*table, out);
    } else {
      out += "<details>\n<summary>" + html_escape(table->folded_label) + "</summary>\n";
      render_html_table(*table, out);
      out += "</details>\n";
    }
  } else if (const auto* figure = std::get_if<Figure>(&block)) {
    const RenderedPlot& plot = figure->plot;
    const std::string png = html_attribute_url(plot.png);
    const std::string svg = html_attribute_url(plot.svg);
    out += "<figure>\n<a href=\"" + svg + "\"><img src=\"" + png + "\" alt=\"" +
           html_escape(plot.title) + "\"></a>\n<figcaption>";
    if (plot.placeholder) out += "No data: " + html_escape(plot.note) + " \u00b7 ";
    out += "<a href=\"" + png + "\">" + html_escape(plot.png) + "</a> \u00b7 <a href=\"" + svg +
           "\">" + html_escape(plot.svg) + "</a></figcaption>\n</figure>\n";
  } else if (const auto* list = std::get_if<FileList>(&block)) {
    out += "<ul>\n";
    for (const ReportFile& file : list->files) {
      out += "<li><a href=\"" + html_attribute_url(file.path) + "\">" + html_escape(file.path) +
             "</a>";
      if (!file.description.empty()) out += ": " + html_escape(file.description);
      out += "</li>\n";
    }
    out += "</ul>\n";
  }
}

}  // namespace

QueryLatencyRow latency_row(std::string query, const results::LatencyHistogram& histogram,
                            uint64_t errors, std::optional<LatencyTarget> target) {
  QueryLatencyRow row;
  row.query = std::move(query);
  row.count = histogram.count();
  row.errors = errors;
  row.target = target;
  if (!histogram.empty()) {
    auto seconds = [&](double q) { return static_cast<double>(histogram.quantile(q)) / 1e9; };
    row.mean_s = histogram.mean() / 1e9;
    row.p50_s = seconds(0.5);
    row.p90_s = seconds(0.9);
    row.p99_s = seconds(0.99);
    row.p999_s = seconds(0.999);
  }
  return row;
}

TargetVerdict target_verdict(const QueryLatencyRow& row) {
  if (!row.target.has_value()) return TargetVerdict::kNoTarget;
  const std::optional<double>& value = value_at(row, row.target->quantile);
  if (!value.has_value()) return TargetVerdict::kNoData;
  return *value <= row.target->seconds ? TargetVerdict::kMet : TargetVerdict::kMissed;
}

std::string render_report_markdown(const ReportInput& input) {
  std::string out;
  for (const Block& block : build_blocks(input)) render_markdown(block, out);
  // One newline at the end, not the blank line every block leaves.
  while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') {
    out.pop_back();
  }
  return out;
}

std::string render_report_html(const ReportInput& input) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape("shardlab report: " + input.scenario) + "</title>\n";
  out += std::string("<style>\n") + kStyle + "</style>\n</head>\n<body>\n";
  for (const Block& block : build_blocks(input)) render_html(block, out);
  out += "</body>\n</html>\n";
  return out;
}

void write_report(const std::filesystem::path& dir, const ReportInput& input) {
  base::write_file_atomically(dir / "report.md", render_report_markdown(input));
  base::write_file_atomically(dir / "report.html", render_report_html(input));
}

}  // namespace shardlab::plots
