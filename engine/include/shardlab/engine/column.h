// In-memory columns and blocks: the unit of vectorized execution.
//
// A Column holds one of three physical layouts, chosen by its DataType:
//   fixed width  values packed in `data` (sizeof(T) bytes each, see visit_fixed)
//   String       end offsets in `offsets` and the bytes in `chars`
//   LowCard      uint32 codes in `data` into `dict`, a sorted list of distinct strings, so code
//                order is string order and predicates run on codes
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shardlab/engine/allocators.h"
#include "shardlab/engine/data_type.h"

namespace shardlab::engine {

template <typename T>
using PodVector = std::vector<T, DefaultInitAllocator<T>>;

// The sorted distinct values of a LowCardinality column.
class Dictionary {
 public:
  explicit Dictionary(std::vector<std::string> sorted_values);
  size_t size() const { return values_.size(); }
  std::string_view value(uint32_t code) const { return values_[code]; }
  const std::vector<std::string>& values() const { return values_; }
  std::optional<uint32_t> find(std::string_view value) const;
  // The first code whose value is >= `value` (size() if none): turns string ranges into
  // code ranges.
  uint32_t lower_bound(std::string_view value) const;

 private:
  std::vector<std::string> values_;
};

struct Column {
  DataType type;
  size_t rows = 0;
  PodVector<uint8_t> data;
  PodVector<uint32_t> offsets;  // String: end offset of each value
  PodVector<char> chars;        // String: the bytes
  std::shared_ptr<const Dictionary> dict;

  Column() = default;
  explicit Column(DataType t) : type(t) {}

  template <typename T>
  T* values() {
    return reinterpret_cast<T*>(data.data());
  }
  template <typename T>
  const T* values() const {
    return reinterpret_cast<const T*>(data.data());
  }
  // REQUIRES: a fixed-width column. Leaves the new values uninitialised.
  void resize_fixed(size_t n) {
    rows = n;
    data.resize(n * type.width());
  }
  template <typename T>
  void push(T value) {
    const size_t at = data.size();
    data.resize(at + sizeof(T));
    std::memcpy(data.data() + at, &value, sizeof(T));
    ++rows;
  }
  void push_string(std::string_view s) {
    chars.insert(chars.end(), s.begin(), s.end());
    offsets.push_back(static_cast<uint32_t>(chars.size()));
    ++rows;
  }
  // String or LowCardinality value of row `row`.
  std::string_view string_at(size_t row) const {
    if (type.id == TypeId::kLowCardinality) return dict->value(values<uint32_t>()[row]);
    const uint32_t begin = row == 0 ? 0 : offsets[row - 1];
    return {chars.data() + begin, offsets[row] - begin};
  }
  size_t byte_size() const { return data.size() + offsets.size() * 4 + chars.size(); }
};

// Keeps the rows whose mask byte is non-zero.
Column filter_column(const Column& column, const uint8_t* mask, size_t selected);
// Takes rows in the order of `indices`.
Column gather_column(const Column& column, const uint32_t* indices, size_t count);
// Appends every row of `src` (same type). LowCardinality columns with different dictionaries
// are re-coded against the union; use sparingly.
void append_column(Column* dst, const Column& src);
// Appends rows [begin, end) of `src`. REQUIRES: same type; LowCardinality columns share a
// dictionary.
void append_range(Column* dst, const Column& src, size_t begin, size_t end);
// Builds a LowCardinality column (sorted dictionary of the distinct values) from strings.
Column string_to_low_cardinality(const Column& strings);
// Converts a LowCardinality column to a plain String column.
Column low_cardinality_to_string(const Column& column);
size_t count_selected(const uint8_t* mask, size_t rows);

struct Block {
  std::vector<std::string> names;
  std::vector<Column> columns;
  size_t rows() const { return columns.empty() ? 0 : columns[0].rows; }
  int index_of(std::string_view name) const;
};

}  // namespace shardlab::engine
