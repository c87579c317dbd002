// Strings of one GROUP BY key column, each given a dense 32-bit id on first sight, so that
// string keys hash and compare as 4 bytes. Ids are local to one pool: merging aggregators
// translates them through the strings (GroupTable::map_groups).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace shardlab::engine {

struct StringPool {
  StringPool() = default;
  // values point into ids' keys, so a copy re-points them at its own.
  StringPool(const StringPool& other) : ids(other.ids), values(other.values.size()) {
    for (const auto& [text, id] : ids) values[id] = &text;
  }
  StringPool& operator=(const StringPool&) = delete;
  StringPool(StringPool&&) noexcept = default;
  StringPool& operator=(StringPool&&) noexcept = default;

  std::unordered_map<std::string, uint32_t> ids;
  std::vector<const std::string*> values;
  uint32_t id(std::string_view s) {
    auto it = ids.find(std::string(s));
    if (it != ids.end()) return it->second;
    const auto id = static_cast<uint32_t>(values.size());
    auto [pos, inserted] = ids.emplace(std::string(s), id);
    values.push_back(&pos->first);
    return id;
  }
};

}  // namespace shardlab::engine
