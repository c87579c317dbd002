#include "scenarios/scenario_reader.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "base/errors.h"
#include "scenarios/scenario.h"
#include "scenarios/units.h"

namespace shardlab::scenarios::detail {

namespace {

bool contains(const YAML::Node& root, const YAML::Node& node) {
  if (!root.IsDefined()) return false;
  if (root.is(node)) return true;
  if (root.IsMap()) {
    for (const auto& entry : root) {
      if (contains(entry.first, node) || contains(entry.second, node)) return true;
    }
  } else if (root.IsSequence()) {
    for (const YAML::Node& item : root) {
      if (contains(item, node)) return true;
    }
  }
  return false;
}

std::string describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return fmt::format("'{}'", node.Scalar());
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

std::string whole_number_range(uint64_t min, uint64_t max) {
  if (max == std::numeric_limits<uint64_t>::max()) {
    return fmt::format("a whole number >= {}", min);
  }
  return fmt::format("a whole number from {} to {}", min, max);
}

// Digits with single underscores between them ("1_000_000") lose the underscores; anything
// else is returned unchanged.
std::string without_digit_separators(const std::string& text) {
  std::string out;
  for (size_t idx = 0; idx < text.size(); ++idx) {
    const char c = text[idx];
    if (c == '_' && idx > 0 && idx + 1 < text.size() &&
        std::isdigit(static_cast<unsigned char>(text[idx - 1])) &&
        std::isdigit(static_cast<unsigned char>(text[idx + 1]))) {
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Context::Context(std::string source, std::string text)
    : source_(std::move(source)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t idx = 0; idx < text_.size(); ++idx) {
    if (text_[idx] == '\n') line_starts_.push_back(idx + 1);
  }
}

void Context::add_origin(const YAML::Node& node, std::string origin) {
  origins_.emplace_back(node, std::move(origin));
}

const std::string* Context::origin_of(const YAML::Node& node) const {
  if (!node.IsDefined()) return nullptr;
  for (auto it = origins_.rbegin(); it != origins_.rend(); ++it) {
    if (contains(it->first, node)) return &it->second;
  }
  return nullptr;
}

bool Context::from_file(const YAML::Node& node) const { return origin_of(node) == nullptr; }

std::string_view Context::line_text(size_t line) const {
  if (line >= line_starts_.size()) return {};
  const size_t begin = line_starts_[line];
  size_t end = line + 1 < line_starts_.size() ? line_starts_[line + 1] - 1 : text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return std::string_view(text_).substr(begin, end - begin);
}

size_t Context::char_column(size_t line, size_t byte_column) const {
  const std::string_view text = line_text(line);
  size_t column = 1;
  for (size_t idx = 0; idx < byte_column && idx < text.size(); ++idx) {
    if ((static_cast<unsigned char>(text[idx]) & 0xC0) != 0x80) ++column;
  }
  return column + (byte_column > text.size() ? byte_column - text.size() : 0);
}

std::string Context::where(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return source_;
  const auto line = static_cast<size_t>(mark.line);
  return fmt::format("{}:{}:{}", source_, line + 1,
                     char_column(line, static_cast<size_t>(mark.column)));
}

std::string Context::where(const YAML::Node& node) const {
  if (const std::string* origin = origin_of(node)) return *origin;
  if (!node.IsDefined()) return source_;
  return where(node.Mark());
}

void Context::fail(const YAML::Node& node, std::string_view message) const {
  fail_at(where(node), message);
}

void Context::fail_at(const std::string& where, std::string_view message) const {
  throw InputError(fmt::format("{}: {}", where, message));
}

std::string Field::where() const {
  if (node_.IsDefined() && !ctx_->from_file(node_)) return ctx_->where(node_);
  if (is_null() && key_.IsDefined()) return ctx_->where(key_);
  if (node_.IsDefined()) return ctx_->where(node_);
  return ctx_->source();
}

void Field::fail(std::string_view message) const {
  ctx_->fail_at(where(), fmt::format("{}: {}", path_, message));
}

std::string Field::scalar(std::string_view expected) const {
  if (is_null()) fail(fmt::format("no value; expected {}", expected));
  if (!node_.IsScalar()) fail(fmt::format("expected {}, got {}", expected, describe(node_)));
  return node_.Scalar();
}

uint64_t Field::count(uint64_t min, uint64_t max) const {
  const std::string expected = whole_number_range(min, max);
  const std::string text = trim(scalar(expected));
  const std::string digits = without_digit_separators(text);
  uint64_t value = 0;
  bool parsed = false;
  const char* const begin = digits.data();
  const char* const end = begin + digits.size();
  if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos) {
    const auto [ptr, error] = std::from_chars(begin, end, value);
    if (error == std::errc::result_out_of_range) {
      fail(fmt::format("expected {}, got {} (too large)", expected, text));
    }
    parsed = error == std::errc() && ptr == end;
  } else if (!digits.empty() && digits.front() != '-') {
    // 1e9 and 2.5e6: exact integers below 2^53 written in float notation.
    double number = 0;
    const auto [ptr, error] = std::from_chars(begin, end, number);
    if (error == std::errc() && ptr == end && std::isfinite(number) && number >= 0 &&
        number <= 0x1.0p53 && std::floor(number) == number) {
      value = static_cast<uint64_t>(number);
      parsed = true;
    }
  }
  if (!parsed) fail(fmt::format("expected {}, got '{}'", expected, text));
  if (value < min || value > max) fail(fmt::format("expected {}, got {}", expected, text));
  return value;
}

double Field::number(double min, double max, bool min_exclusive) const {
  std::string expected;
  if (max == std::numeric_limits<double>::max()) {
    expected = fmt::format("a number {} {}", min_exclusive ? ">" : ">=", min);
  } else {
    expected = fmt::format("a number {} {} and <= {}", min_exclusive ? ">" : ">=", min, max);
  }
  const std::string text = trim(scalar(expected));
  double value = 0;
  const char* const begin = text.data() + (text.starts_with('+') ? 1 : 0);
  const char* const end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(begin, end, value);
  if (error != std::errc() || ptr != end || !std::isfinite(value)) {
    fail(fmt::format("expected {}, got '{}'", expected, text));
  }
  if (value < min || (min_exclusive && value == min) || value > max) {
    fail(fmt::format("expected {}, got {}", expected, text));
  }
  return value;
}

bool Field::boolean() const {
  const std::string text = trim(scalar("true or false"));
  if (text == "true" || text == "True" || text == "TRUE" || text == "1") return true;
  if (text == "false" || text == "False" || text == "FALSE" || text == "0") return false;
  fail(fmt::format("expected true or false, got '{}'", text));
}

Duration Field::duration(Duration min, Duration max) const {
  const std::string text = scalar("a duration such as 250ms, 10s, 5min or 2h");
  Duration value;
  try {
    value = parse_duration(text);
  } catch (const InputError& e) {
    fail(e.what());
  }
  if (value < min) {
    fail(min == Duration::nanoseconds(1)
             ? fmt::format("expected a duration > 0, got {}", trim(text))
             : fmt::format("expected a duration of at least {}, got {}", format_duration(min),
                           trim(text)));
  }
  if (value > max) {
    fail(
        fmt::format("expected a duration of at most {}, got {}", format_duration(max), trim(text)));
  }
  return value;
}

double Field::bandwidth() const {
  const std::string text = scalar("a bandwidth such as 10Gbit/s or 500MB/s");
  double value = 0;
  try {
    value = parse_bandwidth(text);
  } catch (const InputError& e) {
    fail(e.what());
  }
  if (!(value > 0)) fail(fmt::format("expected a bandwidth > 0, got {}", trim(text)));
  return value;
}

uint64_t Field::bytes(uint64_t min) const {
  const std::string text = scalar("a size such as 64GiB or 512KiB");
  double value = 0;
  try {
    value = parse_bytes(text);
  } catch (const InputError& e) {
    fail(e.what());
  }
  if (value >= 0x1.0p63) fail(fmt::format("the size {} is too large", trim(text)));
  const auto rounded = static_cast<uint64_t>(std::llround(value));
  if (rounded < min) {
    fail(fmt::format("expected a size of at least {}, got {}", format_bytes(min), trim(text)));
  }
  return rounded;
}

std::string Field::name(std::string_view what, bool colon_ok) const {
  const std::string text = scalar(fmt::format("a {}", what));
  bool ok = !text.empty() && text.front() != '.';
  for (const char c : text) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-' || (colon_ok && c == ':'));
  }
  if (!ok) {
    fail(fmt::format("bad {} '{}': expected letters, digits and _ . -{} (not starting with a dot)",
                     what, text, colon_ok ? " :" : ""));
  }
  return text;
}

std::string Field::choice(std::string_view what, const std::vector<std::string>& choices) const {
  const std::string expected = fmt::format("one of: {}", join_words(choices, choices.size()));
  const std::string text = trim(scalar(fmt::format("a {} ({})", what, expected)));
  for (const std::string& choice : choices) {
    if (text == choice) return choice;
  }
  std::string message = fmt::format("unknown {} '{}' (expected {})", what, text, expected);
  if (const std::string suggestion = closest_word(text, choices); !suggestion.empty()) {
    message += fmt::format("; did you mean '{}'?", suggestion);
  }
  fail(message);
}

std::vector<Field> Field::list(std::string_view expected) const {
  std::vector<Field> out;
  if (is_null()) return out;
  if (!node_.IsSequence()) fail(fmt::format("expected {}, got {}", expected, describe(node_)));
  size_t idx = 0;
  for (const YAML::Node& item : node_) {
    out.emplace_back(*ctx_, item, YAML::Node(YAML::NodeType::Undefined),
                     join_path(path_, std::to_string(idx++)));
  }
  return out;
}

std::vector<Field> Field::list_or_scalar(std::string_view expected) const {
  if (!is_null() && node_.IsScalar()) return {*this};
  return list(expected);
}

MapReader Field::map(const SchemaNode& schema) const { return MapReader(*this, schema); }

MapReader::MapReader(const Field& field, const SchemaNode& schema) : self_(field) {
  if (field.is_null()) return;
  const YAML::Node& node = field.node();
  const std::string path = field.path();
  if (!node.IsMap()) {
    field.fail(fmt::format("expected a mapping with the keys: {}; got {}", schema.key_list(),
                           describe(node)));
  }
  std::map<std::string, YAML::Node> seen;
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) field.ctx().fail(key, "expected a key (a plain word)");
    const std::string text = key.Scalar();
    if (schema.field(text) == nullptr) {
      field.ctx().fail(key, unknown_key_message(path, text, schema));
    }
    const auto [it, inserted] = seen.emplace(text, key);
    if (!inserted) {
      field.ctx().fail(key, fmt::format("duplicate key '{}'{} (first at {})", text,
                                        path.empty() ? "" : fmt::format(" under '{}'", path),
                                        field.ctx().where(it->second)));
    }
    entries_.emplace_back(key, entry.second);
  }
}

bool MapReader::has(std::string_view key) const { return find(key).has_value(); }

std::optional<Field> MapReader::find(std::string_view key) const {
  for (const auto& [key_node, value] : entries_) {
    if (key_node.Scalar() == key) return Field(self_.ctx(), value, key_node, path(key));
  }
  return std::nullopt;
}

Field MapReader::get(std::string_view key) const { return *find(key); }

Field MapReader::require(std::string_view key, std::string_view expected) const {
  const std::optional<Field> field = find(key);
  if (!field) {
    const std::string& path = self_.path();
    self_.ctx().fail_at(
        self_.where(),
        path.empty()
            ? fmt::format("missing top-level key '{}': expected {}", key, expected)
            : fmt::format("missing key '{}' under '{}': expected {}", key, path, expected));
  }
  if (field->is_null()) field->fail(fmt::format("no value; expected {}", expected));
  return *field;
}

std::string MapReader::path(std::string_view key) const { return join_path(self_.path(), key); }

std::vector<std::pair<YAML::Node, Field>> named_entries(const Field& field,
                                                        std::string_view key_kind) {
  std::vector<std::pair<YAML::Node, Field>> out;
  if (field.is_null()) return out;
  if (!field.node().IsMap()) {
    field.fail(fmt::format("expected a mapping from {} names to their settings", key_kind));
  }
  std::map<std::string, YAML::Node> seen;
  for (const auto& entry : field.node()) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) field.ctx().fail(key, fmt::format("expected a {} name", key_kind));
    const auto [it, inserted] = seen.emplace(key.Scalar(), key);
    if (!inserted) {
      field.ctx().fail(key, fmt::format("duplicate {} '{}' (first at {})", key_kind, key.Scalar(),
                                        field.ctx().where(it->second)));
    }
    out.emplace_back(key,
                     Field(field.ctx(), entry.second, key, join_path(field.path(), key.Scalar())));
  }
  return out;
}

std::string join_path(std::string_view path, std::string_view child) {
  if (path.empty()) return std::string(child);
  return fmt::format("{}.{}", path, child);
}

std::string join_words(const std::vector<std::string>& words, size_t limit) {
  std::string out;
  for (size_t idx = 0; idx < words.size() && idx < limit; ++idx) {
    if (idx > 0) out += ", ";
    out += words[idx];
  }
  if (words.size() > limit) out += ", ...";
  return out;
}

}  // namespace shardlab::scenarios::detail
