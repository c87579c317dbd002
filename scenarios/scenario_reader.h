// Reading a parsed scenario tree with exact messages. Internal to scenarios/.
//
// A Context knows where every node came from: the file (yaml-cpp marks, reported as
// file:line:col with the column counted in characters, as editors count it) or an override
// given on the command line ("--set PATH=VALUE"). A Field is one value with its dotted path;
// its typed reads check the type, range and units and throw InputError with the place, the
// path and what was expected. A MapReader checks a mapping's keys against the schema (unknown,
// repeated) and hands out its fields.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/scenario_schema.h"
#include "scenarios/units.h"

namespace shardlab::scenarios::detail {

class Context {
 public:
  Context(std::string source, std::string text);

  const std::string& source() const { return source_; }
  const std::string& text() const { return text_; }

  // Marks `node` and everything under it as coming from `origin` (e.g. "--set run.seed=x"):
  // messages about them start with it. Later calls take precedence over earlier ones.
  void add_origin(const YAML::Node& node, std::string origin);

  // "file:line:col" for a node of the file, the origin for an overridden one, or the file name
  // alone when the node has no position.
  std::string where(const YAML::Node& node) const;
  std::string where(const YAML::Mark& mark) const;
  // The 1-based character column of a 0-based byte position on a 0-based line of the file.
  size_t char_column(size_t line, size_t byte_column) const;
  // The 0-based line's text, without its newline; empty beyond the end.
  std::string_view line_text(size_t line) const;
  bool from_file(const YAML::Node& node) const;

  [[noreturn]] void fail(const YAML::Node& node, std::string_view message) const;
  [[noreturn]] void fail_at(const std::string& where, std::string_view message) const;

 private:
  const std::string* origin_of(const YAML::Node& node) const;

  std::string source_;
  std::string text_;
  std::vector<size_t> line_starts_;
  std::vector<std::pair<YAML::Node, std::string>> origins_;
};

class MapReader;

// One value of the tree and its dotted path ("cluster.shards", "workload.queries.0.sql").
class Field {
 public:
  // `key` is the mapping key that holds the value (undefined for list entries): an empty value
  // has no position of its own, so messages about it point at its key.
  Field(const Context& ctx, YAML::Node node, YAML::Node key, std::string path)
      : ctx_(&ctx), node_(std::move(node)), key_(std::move(key)), path_(std::move(path)) {}

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const Context& ctx() const { return *ctx_; }
  bool is_null() const { return !node_.IsDefined() || node_.IsNull(); }
  std::string where() const;

  // "PATH: message" at this value's place.
  [[noreturn]] void fail(std::string_view message) const;

  // The scalar's text. `expected` describes the value for messages ("a node name").
  std::string scalar(std::string_view expected) const;
  // A whole number in [min, max]: decimal digits (underscores allowed between them), or a
  // decimal or exponent form that is exactly an integer (1e9, 2.5e6).
  uint64_t count(uint64_t min, uint64_t max) const;
  int64_t integer(int64_t min, int64_t max) const;
  // A finite number in [min, max] (or (min, max] when min_exclusive).
  double number(double min, double max, bool min_exclusive = false) const;
  bool boolean() const;
  // Human units (scenarios/units.h). A duration in [min, max].
  Duration duration(Duration min, Duration max = Duration::max()) const;
  double bandwidth() const;  // bytes per second, > 0
  uint64_t bytes(uint64_t min) const;
  // A name: letters, digits and `_ . -` (and `:` when colon_ok), not starting with a dot.
  std::string name(std::string_view what, bool colon_ok = false) const;
  // One of `choices`, with a suggestion when the text is close to one.
  std::string choice(std::string_view what, const std::vector<std::string>& choices) const;

  // A list's entries (a null value is an empty list).
  std::vector<Field> list(std::string_view expected) const;
  // A list, or a single scalar read as a one-entry list.
  std::vector<Field> list_or_scalar(std::string_view expected) const;
  MapReader map(const SchemaNode& schema) const;

 private:
  const Context* ctx_;
  YAML::Node node_;
  YAML::Node key_;
  std::string path_;
};

class MapReader {
 public:
  // Checks that `field` is a mapping (null reads as empty) whose keys are unique and known to
  // `schema` (a kMap).
  MapReader(const Field& field, const SchemaNode& schema);

  const Field& self() const { return self_; }
  bool has(std::string_view key) const;
  // The value of `key`. REQUIRES: has(key).
  Field get(std::string_view key) const;
  std::optional<Field> find(std::string_view key) const;
  // The value of a key that must be there (and not be empty).
  Field require(std::string_view key, std::string_view expected) const;
  std::string path(std::string_view key) const;
  // Keys in file order, for sections with free keys.
  const std::vector<std::pair<YAML::Node, YAML::Node>>& entries() const { return entries_; }

 private:
  Field self_;
  std::vector<std::pair<YAML::Node, YAML::Node>> entries_;  // (key, value)
};

// Reads a mapping with free keys (node type names): checks it is a mapping with unique scalar
// keys and returns (key node, value field) pairs in file order.
std::vector<std::pair<YAML::Node, Field>> named_entries(const Field& field,
                                                        std::string_view key_kind);

// "child" appended to a dotted path.
std::string join_path(std::string_view path, std::string_view child);

// Renders a list of words as "a, b, c" (at most `limit`, then ", ...").
std::string join_words(const std::vector<std::string>& words, size_t limit = 12);

}  // namespace shardlab::scenarios::detail
