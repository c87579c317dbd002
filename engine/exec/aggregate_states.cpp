#define XXH_INLINE_ALL
#include "engine/exec/aggregate_states.h"

#include <xxhash.h>

#include <cstring>
#include <type_traits>

#include "engine/types/order_bits.h"

namespace shardlab::engine {
namespace {

// A number's 64 bits for uniqExact: integers by value (sign-extended), floats by their bits.
uint64_t value_bits(const Column& c, size_t row) {
  uint64_t out = 0;
  visit_fixed(c.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = c.values<T>()[row];
    if constexpr (std::is_floating_point_v<T>) {
      std::memcpy(&out, &v, 8);
    } else {
      out = static_cast<uint64_t>(
          static_cast<std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>(v));
    }
  });
  return out;
}

}  // namespace

DataType aggregate_result_type(AggregateKind kind, DataType arg) {
  switch (kind) {
    case AggregateKind::kCount:
    case AggregateKind::kUniqExact:
      return TypeId::kUInt64;
    case AggregateKind::kAvg:
      return TypeId::kFloat64;
    case AggregateKind::kSum:
      return arg.is_float() ? TypeId::kFloat64 : arg.is_signed() ? TypeId::kInt64 : TypeId::kUInt64;
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      return arg.id == TypeId::kLowCardinality ? DataType(TypeId::kString) : arg;
  }
  return TypeId::kUInt64;
}

void AggregateStates::grow_to(size_t groups) {
  for (; groups_ < groups; ++groups_) add_group();
}

void AggregateStates::add_group() {
  for (size_t a = 0; a < specs_.size(); ++a) {
    State& s = states_[a];
    switch (specs_[a].kind) {
      case AggregateKind::kCount:
        s.count.push_back(0);
        break;
      case AggregateKind::kSum:
      case AggregateKind::kAvg:
        s.count.push_back(0);
        s.bits.push_back(0);
        s.sum_f.push_back(0);
        break;
      case AggregateKind::kMin:
      case AggregateKind::kMax:
        s.has.push_back(0);
        if (specs_[a].arg->type.is_string_like()) {
          s.strings.emplace_back();
        } else {
          s.bits.push_back(0);
        }
        break;
      case AggregateKind::kUniqExact:
        s.sets.emplace_back();
        break;
    }
  }
}

void AggregateStates::update(size_t a, const Column* arg, size_t rows, const uint32_t* gid,
                             bool one_group) {
  State& s = states_[a];
  switch (specs_[a].kind) {
    case AggregateKind::kCount:
      if (one_group) {
        s.count[0] += rows;
        return;
      }
      for (size_t row = 0; row < rows; ++row) ++s.count[gid[row]];
      return;
    case AggregateKind::kSum:
    case AggregateKind::kAvg:
      update_sum(s, arg, rows, gid, one_group);
      return;
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      update_min_max(s, specs_[a].kind == AggregateKind::kMin, arg, rows, gid);
      return;
    case AggregateKind::kUniqExact:
      update_uniq(s, arg, rows, gid);
      return;
  }
}

void AggregateStates::update_sum(State& s, const Column* arg, size_t rows, const uint32_t* gid,
                                 bool one_group) {
  if (one_group) {
    s.count[0] += rows;
  } else {
    for (size_t row = 0; row < rows; ++row) ++s.count[gid[row]];
  }
  visit_fixed(arg->type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* v = arg->values<T>();
    using W = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
    if (one_group) {
      if constexpr (std::is_floating_point_v<T>) {
        double total = 0;
        for (size_t row = 0; row < rows; ++row) total += v[row];
        s.sum_f[0] += total;
      } else {
        uint64_t total = 0;
        for (size_t row = 0; row < rows; ++row)
          total += static_cast<uint64_t>(static_cast<W>(v[row]));
        s.bits[0] += total;
      }
    } else if constexpr (std::is_floating_point_v<T>) {
      for (size_t row = 0; row < rows; ++row) s.sum_f[gid[row]] += v[row];
    } else {
      for (size_t row = 0; row < rows; ++row)
        s.bits[gid[row]] += static_cast<uint64_t>(static_cast<W>(v[row]));
    }
  });
}

void AggregateStates::update_min_max(State& s, bool is_min, const Column* arg, size_t rows,
                                     const uint32_t* gid) {
  if (arg->type.is_string_like()) {
    for (size_t row = 0; row < rows; ++row) {
      const uint32_t g = gid[row];
      const std::string_view v = arg->string_at(row);
      if (!s.has[g] || (is_min ? v < s.strings[g] : v > s.strings[g])) {
        s.strings[g].assign(v);
        s.has[g] = 1;
      }
    }
    return;
  }
  visit_fixed(arg->type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* v = arg->values<T>();
    for (size_t row = 0; row < rows; ++row) {
      const uint32_t g = gid[row];
      const uint64_t b = order_bits(v[row]);
      if (!s.has[g] || (is_min ? b < s.bits[g] : b > s.bits[g])) {
        s.bits[g] = b;
        s.has[g] = 1;
      }
    }
  });
}

// Strings by XXH3-64 of their bytes (LowCardinality: once per dictionary entry), numbers by
// their bits.
void AggregateStates::update_uniq(State& s, const Column* arg, size_t rows, const uint32_t* gid) {
  if (arg->type.id == TypeId::kLowCardinality) {
    std::vector<uint64_t> table(arg->dict->size());
    for (uint32_t code = 0; code < table.size(); ++code) {
      const auto v = arg->dict->value(code);
      table[code] = XXH3_64bits(v.data(), v.size());
    }
    const uint32_t* codes = arg->values<uint32_t>();
    for (size_t row = 0; row < rows; ++row) s.sets[gid[row]].insert(table[codes[row]]);
  } else if (arg->type.id == TypeId::kString) {
    for (size_t row = 0; row < rows; ++row) {
      const auto v = arg->string_at(row);
      s.sets[gid[row]].insert(XXH3_64bits(v.data(), v.size()));
    }
  } else {
    for (size_t row = 0; row < rows; ++row) s.sets[gid[row]].insert(value_bits(*arg, row));
  }
}

void AggregateStates::set_counts(uint32_t g, uint64_t count) {
  for (State& s : states_) s.count[g] = count;
}

// count() and sum() states are plain arrays, so their loops carry no dispatch per group.
void AggregateStates::merge(const AggregateStates& other, const uint32_t* target, size_t a) {
  State& s = states_[a];
  const State& o = other.states_[a];
  const size_t other_groups = other.groups_;
  switch (specs_[a].kind) {
    case AggregateKind::kCount:
      for (size_t og = 0; og < other_groups; ++og) s.count[target[og]] += o.count[og];
      return;
    case AggregateKind::kSum:
    case AggregateKind::kAvg:
      for (size_t og = 0; og < other_groups; ++og) {
        s.count[target[og]] += o.count[og];
        s.bits[target[og]] += o.bits[og];
        s.sum_f[target[og]] += o.sum_f[og];
      }
      return;
    default:
      for (size_t og = 0; og < other_groups; ++og) merge_group(a, target[og], other, og);
  }
}

void AggregateStates::merge_group(size_t a, uint32_t g, const AggregateStates& other, size_t og) {
  State& s = states_[a];
  const State& o = other.states_[a];
  switch (specs_[a].kind) {
    case AggregateKind::kCount:
      s.count[g] += o.count[og];
      return;
    case AggregateKind::kSum:
    case AggregateKind::kAvg:
      s.count[g] += o.count[og];
      s.bits[g] += o.bits[og];
      s.sum_f[g] += o.sum_f[og];
      return;
    case AggregateKind::kMin:
    case AggregateKind::kMax: {
      if (!o.has[og]) return;
      const bool is_min = specs_[a].kind == AggregateKind::kMin;
      if (specs_[a].arg->type.is_string_like()) {
        if (!s.has[g] || (is_min ? o.strings[og] < s.strings[g] : o.strings[og] > s.strings[g]))
          s.strings[g] = o.strings[og];
      } else if (!s.has[g] || (is_min ? o.bits[og] < s.bits[g] : o.bits[og] > s.bits[g])) {
        s.bits[g] = o.bits[og];
      }
      s.has[g] = 1;
      return;
    }
    case AggregateKind::kUniqExact:
      s.sets[g].merge(o.sets[og]);
      return;
  }
}

Column AggregateStates::result_column(size_t a) const {
  const AggregateSpec& spec = specs_[a];
  const State& s = states_[a];
  Column c(spec.result_type);
  const size_t n = groups_;
  switch (spec.kind) {
    case AggregateKind::kCount:
      c.resize_fixed(n);
      if (n > 0) std::memcpy(c.data.data(), s.count.data(), n * 8);
      break;
    case AggregateKind::kUniqExact:
      c.resize_fixed(n);
      for (size_t g = 0; g < n; ++g) c.values<uint64_t>()[g] = s.sets[g].size();
      break;
    case AggregateKind::kSum:
      c.resize_fixed(n);
      if (n > 0)
        std::memcpy(c.data.data(),
                    spec.result_type.is_float() ? static_cast<const void*>(s.sum_f.data())
                                                : static_cast<const void*>(s.bits.data()),
                    n * 8);
      break;
    case AggregateKind::kAvg: {
      c.resize_fixed(n);
      const DataType at = spec.arg->type;
      for (size_t g = 0; g < n; ++g) {
        double sum = at.is_float()    ? s.sum_f[g]
                     : at.is_signed() ? static_cast<double>(static_cast<int64_t>(s.bits[g]))
                                      : static_cast<double>(s.bits[g]);
        c.values<double>()[g] = sum / static_cast<double>(s.count[g]);
      }
      break;
    }
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      if (spec.result_type.id == TypeId::kString) {
        for (size_t g = 0; g < n; ++g) c.push_string(s.strings[g]);
      } else {
        c.resize_fixed(n);
        visit_fixed(spec.result_type, [&](auto tag) {
          using T = typename decltype(tag)::type;
          for (size_t g = 0; g < n; ++g)
            c.values<T>()[g] = s.has[g] ? from_order_bits<T>(s.bits[g]) : T{};
        });
      }
      break;
  }
  return c;
}

void AggregateStates::append_columns(std::vector<Column>* out) const {
  for (size_t a = 0; a < specs_.size(); ++a) out->push_back(result_column(a));
}

size_t AggregateStates::memory_bytes() const {
  size_t bytes = 0;
  for (const State& a : states_) {
    bytes +=
        a.count.capacity() * 8 + a.bits.capacity() * 8 + a.sum_f.capacity() * 8 + a.has.capacity();
    for (const std::string& text : a.strings) bytes += sizeof(std::string) + text.capacity();
    for (const UniqSet& set : a.sets) bytes += sizeof(UniqSet) + set.memory_bytes();
  }
  return bytes;
}

}  // namespace shardlab::engine
