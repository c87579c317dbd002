#include "shardlab/engine/column.h"

#include <algorithm>
#include <map>

#include "base/errors.h"

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace shardlab::engine {

Dictionary::Dictionary(std::vector<std::string> sorted_values)
    : values_(std::move(sorted_values)) {}

std::optional<uint32_t> Dictionary::find(std::string_view value) const {
  const uint32_t code = lower_bound(value);
  if (code < values_.size() && values_[code] == value) return code;
  return std::nullopt;
}

uint32_t Dictionary::lower_bound(std::string_view value) const {
  auto it = std::lower_bound(values_.begin(), values_.end(), value,
                             [](const std::string& a, std::string_view b) { return a < b; });
  return static_cast<uint32_t>(it - values_.begin());
}

size_t count_selected(const uint8_t* mask, size_t rows) {
  size_t n = 0;
  size_t row = 0;
#if defined(__SSE2__) && defined(__x86_64__)
  // Sixteen bytes at a time: clamp each to 0 or 1, then psadbw adds them into two 64-bit lanes.
  const __m128i ones = _mm_set1_epi8(1);
  const __m128i zero = _mm_setzero_si128();
  __m128i sums = zero;
  for (; row + 16 <= rows; row += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(mask + row));
    sums = _mm_add_epi64(sums, _mm_sad_epu8(_mm_min_epu8(bytes, ones), zero));
  }
  n = static_cast<size_t>(_mm_cvtsi128_si64(sums)) +
      static_cast<size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
#else
  // Byte-wide partial sums vectorize; flush them before they can overflow.
  for (; row + 255 <= rows; row += 255) {
    uint8_t partial = 0;
    for (size_t at = row; at < row + 255; ++at)
      partial = static_cast<uint8_t>(partial + (mask[at] != 0));
    n += partial;
  }
#endif
  for (; row < rows; ++row) n += mask[row] != 0;
  return n;
}

namespace {

template <typename Selector>
Column select_rows(const Column& column, size_t count, Selector&& row_at) {
  Column out(column.type);
  out.dict = column.dict;
  out.rows = count;
  if (column.type.is_fixed()) {
    visit_fixed(column.type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      out.data.resize(count * sizeof(T));
      const T* src = column.values<T>();
      T* dst = out.values<T>();
      for (size_t idx = 0; idx < count; ++idx) dst[idx] = src[row_at(idx)];
    });
    return out;
  }
  out.offsets.resize(count);
  size_t total = 0;
  for (size_t idx = 0; idx < count; ++idx) total += column.string_at(row_at(idx)).size();
  out.chars.resize(total);
  size_t pos = 0;
  for (size_t idx = 0; idx < count; ++idx) {
    const std::string_view s = column.string_at(row_at(idx));
    if (!s.empty()) std::memcpy(out.chars.data() + pos, s.data(), s.size());
    pos += s.size();
    out.offsets[idx] = static_cast<uint32_t>(pos);
  }
  return out;
}

}  // namespace

Column filter_column(const Column& column, const uint8_t* mask, size_t selected) {
  if (selected == column.rows) return column;
  if (column.type.is_fixed()) {
    // Branch-free compaction: always write, advance only when selected.
    Column out(column.type);
    out.dict = column.dict;
    out.rows = selected;
    visit_fixed(column.type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      out.data.resize((selected + 1) * sizeof(T));
      const T* __restrict src = column.values<T>();
      T* __restrict dst = out.values<T>();
      const size_t rows = column.rows;
      size_t pos = 0;
      if (selected * 16 < rows) {
        // Sparse: a predictable branch beats touching every destination slot.
        for (size_t row = 0; row < rows; ++row)
          if (mask[row]) dst[pos++] = src[row];
      } else {
        for (size_t row = 0; row < rows; ++row) {
          dst[pos] = src[row];
          pos += mask[row] != 0;
        }
      }
      out.data.resize(selected * sizeof(T));
    });
    return out;
  }
  std::vector<uint32_t> rows;
  rows.reserve(selected);
  for (size_t row = 0; row < column.rows; ++row)
    if (mask[row]) rows.push_back(static_cast<uint32_t>(row));
  return select_rows(column, rows.size(), [&](size_t idx) { return rows[idx]; });
}

Column gather_column(const Column& column, const uint32_t* indices, size_t count) {
  return select_rows(column, count, [&](size_t idx) { return indices[idx]; });
}

Column string_to_low_cardinality(const Column& strings) {
  std::map<std::string_view, uint32_t> distinct;
  for (size_t row = 0; row < strings.rows; ++row) distinct.emplace(strings.string_at(row), 0);
  std::vector<std::string> values;
  values.reserve(distinct.size());
  for (auto& [value, code] : distinct) {
    code = static_cast<uint32_t>(values.size());
    values.emplace_back(value);
  }
  Column out(TypeId::kLowCardinality);
  out.dict = std::make_shared<Dictionary>(std::move(values));
  out.resize_fixed(strings.rows);
  for (size_t row = 0; row < strings.rows; ++row)
    out.values<uint32_t>()[row] = distinct.at(strings.string_at(row));
  return out;
}

Column low_cardinality_to_string(const Column& column) {
  Column out(TypeId::kString);
  out.offsets.reserve(column.rows);
  for (size_t row = 0; row < column.rows; ++row) out.push_string(column.string_at(row));
  return out;
}

void append_column(Column* dst, const Column& src) {
  if (src.rows == 0) return;
  if (dst->rows == 0) {
    *dst = src;
    return;
  }
  SHARDLAB_ASSERT(dst->type == src.type, "append of {} to {}", src.type.name(), dst->type.name());
  if (src.type.id == TypeId::kLowCardinality && dst->dict != src.dict) {
    std::map<std::string, uint32_t> merged;
    for (const auto& v : dst->dict->values()) merged.emplace(v, 0);
    for (const auto& v : src.dict->values()) merged.emplace(v, 0);
    std::vector<std::string> values;
    values.reserve(merged.size());
    for (auto& [v, code] : merged) {
      code = static_cast<uint32_t>(values.size());
      values.push_back(v);
    }
    auto dict = std::make_shared<Dictionary>(std::move(values));
    auto recode = [&](const Column& c, uint32_t* out) {
      std::vector<uint32_t> remap(c.dict->size());
      for (uint32_t code = 0; code < remap.size(); ++code)
        remap[code] = merged.at(std::string(c.dict->value(code)));
      const uint32_t* codes = c.values<uint32_t>();
      for (size_t row = 0; row < c.rows; ++row) out[row] = remap[codes[row]];
    };
    Column out(src.type);
    out.dict = dict;
    out.resize_fixed(dst->rows + src.rows);
    recode(*dst, out.values<uint32_t>());
    recode(src, out.values<uint32_t>() + dst->rows);
    *dst = std::move(out);
    return;
  }
  if (src.type.is_fixed()) {
    dst->data.insert(dst->data.end(), src.data.begin(), src.data.end());
  } else {
    const uint32_t base = dst->chars.size();
    dst->chars.insert(dst->chars.end(), src.chars.begin(), src.chars.end());
    for (uint32_t off : src.offsets) dst->offsets.push_back(base + off);
  }
  dst->rows += src.rows;
}

void append_range(Column* dst, const Column& src, size_t begin, size_t end) {
  if (src.type.is_fixed()) {
    const size_t w = src.type.width();
    dst->data.insert(dst->data.end(), src.data.begin() + begin * w, src.data.begin() + end * w);
  } else {
    const uint32_t first = begin == 0 ? 0 : src.offsets[begin - 1];
    const uint32_t last = end == 0 ? 0 : src.offsets[end - 1];
    const auto base = static_cast<int64_t>(dst->chars.size()) - first;
    dst->chars.insert(dst->chars.end(), src.chars.begin() + first, src.chars.begin() + last);
    for (size_t row = begin; row < end; ++row)
      dst->offsets.push_back(static_cast<uint32_t>(src.offsets[row] + base));
  }
  dst->rows += end - begin;
}

int Block::index_of(std::string_view name) const {
  for (size_t idx = 0; idx < names.size(); ++idx)
    if (names[idx] == name) return static_cast<int>(idx);
  return -1;
}

}  // namespace shardlab::engine
