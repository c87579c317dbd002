#include "plots/series_table.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include "base/errors.h"

namespace shardlab::plots {
namespace {

struct Field {
  std::string text;
  size_t line = 0;
  size_t column = 0;
};

// RFC 4180 records with positions for error messages. Lines and columns count from 1; a
// column counts bytes.
class CsvReader {
 public:
  CsvReader(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  bool at_end() const { return pos_ >= text_.size(); }

  std::vector<Field> record() {
    std::vector<Field> fields;
    while (true) {
      fields.push_back(field());
      if (at_end()) return fields;
      const char ch = text_[pos_];
      if (ch == ',') {
        advance();
        continue;
      }
      if (ch == '\n' || (ch == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n')) {
        if (ch == '\r') advance();
        advance();
        return fields;
      }
      fail(line_, column_, "expected ',' or a line end after a field");
    }
  }

  [[noreturn]] void fail(size_t line, size_t column, std::string_view message) const {
    throw InputError(fmt::format("{}:{}:{}: {}", source_, line, column, message));
  }

 private:
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++pos_;
  }

  Field field() {
    Field out{"", line_, column_};
    if (at_end() || text_[pos_] != '"') {
      while (!at_end() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        if (text_[pos_] == '"') fail(line_, column_, "a quote inside an unquoted field");
        out.text += text_[pos_];
        advance();
      }
      return out;
    }
    advance();
    while (true) {
      if (at_end()) fail(out.line, out.column, "a quoted field is not closed");
      const char ch = text_[pos_];
      advance();
      if (ch != '"') {
        out.text += ch;
      } else if (!at_end() && text_[pos_] == '"') {
        out.text += '"';
        advance();
      } else {
        return out;
      }
    }
  }

  std::string_view text_;
  std::string_view source_;
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t column_ = 1;
};

double parse_cell(const CsvReader& reader, const Field& field, bool required) {
  if (field.text.empty()) {
    if (required) reader.fail(field.line, field.column, "expected a time in seconds, got ''");
    return std::numeric_limits<double>::quiet_NaN();
  }
  double value = 0;
  const char* begin = field.text.data();
  const char* end = begin + field.text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    reader.fail(field.line, field.column,
                fmt::format("expected a finite number or an empty cell, got '{}'", field.text));
  }
  return value;
}

}  // namespace

const SeriesColumn* SeriesTable::find(std::string_view name) const {
  for (const SeriesColumn& column : columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

std::vector<SeriesColumn> SeriesTable::with_prefix(std::string_view prefix) const {
  std::vector<SeriesColumn> out;
  for (const SeriesColumn& column : columns) {
    if (column.name.starts_with(prefix)) out.push_back(column);
  }
  return out;
}

SeriesTable parse_series_csv(std::string_view text, std::string_view source) {
  CsvReader reader(text, source);
  if (reader.at_end()) reader.fail(1, 1, "empty file; expected a header starting with 'time_s'");
  const std::vector<Field> header = reader.record();
  if (header.front().text != "time_s") {
    reader.fail(
        header.front().line, header.front().column,
        fmt::format("expected the header to start with 'time_s', got '{}'", header.front().text));
  }
  SeriesTable table;
  for (size_t field_idx = 1; field_idx < header.size(); ++field_idx) {
    const Field& field = header[field_idx];
    if (field.text.empty()) reader.fail(field.line, field.column, "empty column name");
    if (table.find(field.text) != nullptr) {
      reader.fail(field.line, field.column, fmt::format("column '{}' repeats", field.text));
    }
    table.columns.push_back(SeriesColumn{field.text, {}});
  }
  while (!reader.at_end()) {
    const std::vector<Field> row = reader.record();
    if (row.size() != header.size()) {
      reader.fail(
          row.front().line, row.front().column,
          fmt::format("expected {} fields as in the header, got {}", header.size(), row.size()));
    }
    const double time = parse_cell(reader, row.front(), /*required=*/true);
    if (!table.time_s.empty() && !(time > table.time_s.back())) {
      reader.fail(row.front().line, row.front().column,
                  fmt::format("time_s {} does not come after the previous row's {}",
                              row.front().text, table.time_s.back()));
    }
    table.time_s.push_back(time);
    for (size_t column_idx = 0; column_idx < table.columns.size(); ++column_idx) {
      table.columns[column_idx].values.push_back(
          parse_cell(reader, row[column_idx + 1], /*required=*/false));
    }
  }
  return table;
}

SeriesTable read_series_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw RuntimeError(fmt::format("cannot read '{}': {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw RuntimeError(fmt::format("cannot read '{}': read error", path.string()));
  return parse_series_csv(text.str(), path.string());
}

SeriesTable series_table(const results::TimeSeries& series) {
  return parse_series_csv(series.to_csv(), "time series");
}

double row_interval_s(const std::vector<double>& time_s) {
  return time_s.size() < 2 ? 0.0 : time_s[1] - time_s[0];
}

}  // namespace shardlab::plots
