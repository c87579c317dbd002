// The shape of a scenario file: which keys each section takes. One table serves the validator
// (unknown keys and their suggestions) and --set (which dotted paths exist), so the two cannot
// disagree. What each key means, its unit and default are in scenarios/README.md and scenario.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardlab::scenarios {

struct SchemaNode {
  enum class Kind : uint8_t {
    kValue,     // a leaf: a scalar, or a structure the validator reads as a whole
    kMap,       // a mapping with the fixed keys in `fields`
    kNamedMap,  // a mapping with free keys (node type names), each value an `element`
    kList,      // a list of `element`s, addressed by index, or by an entry's name when `named`
  };

  Kind kind = Kind::kValue;
  std::vector<std::pair<std::string, const SchemaNode*>> fields;  // kMap, in documented order
  const SchemaNode* element = nullptr;                            // kNamedMap, kList
  bool named = false;  // kList: entries have a `name` that a path segment may use

  // The schema of `key` in a kMap, or null.
  const SchemaNode* field(std::string_view key) const;
  // "nodes, shards, replicas, ..." in documented order.
  std::string key_list() const;
};

// The whole file.
const SchemaNode& scenario_schema();

// The candidate closest to `word` by edit distance (transpositions count once), if it is close
// enough to be a likely typo; otherwise empty.
std::string closest_word(std::string_view word, const std::vector<std::string>& candidates);

// Advice for a key that is unknown under `path` but that a user plausibly meant, e.g. a ClickHouse
// setting spelled with its _ms suffix or one that lives elsewhere in the file; empty if none.
std::string unknown_key_advice(std::string_view path, std::string_view key);

// The message for an unknown key, shared by the validator and --set:
// "unknown key 'insert_mod' under 'cluster' (expected one of: ...); did you mean 'insert_mode'?"
// `path` is the dotted path of the mapping ("" for the top level).
std::string unknown_key_message(std::string_view path, std::string_view key,
                                const SchemaNode& schema);

}  // namespace shardlab::scenarios
