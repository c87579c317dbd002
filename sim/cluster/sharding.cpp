#include "sim/cluster/sharding.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/counter_rng.h"
#include "base/errors.h"
#include "shardlab/engine/date_time.h"

namespace shardlab::sim::cluster {

using engine::Block;
using engine::Column;
using engine::TypeId;

uint32_t jump_consistent_hash(uint64_t key, uint32_t buckets) {
  // The published algorithm: a linear congruential walk that jumps forward to the next bucket
  // count at which the key would move, so that it moves only when its bucket is the new one.
  int64_t bucket = -1;
  int64_t next = 0;
  while (next < static_cast<int64_t>(buckets)) {
    bucket = next;
    key = key * 2862933555777941757ULL + 1;
    next = static_cast<int64_t>(static_cast<double>(bucket + 1) *
                                (static_cast<double>(1LL << 31) /
                                 static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<uint32_t>(bucket);
}

namespace {

__extension__ using Int128 = __int128;

// Integer-like values of a column as 128-bit integers: every unsigned and signed width, Date
// and DateTime compare exactly.
Int128 integer_at(const Column& column, size_t row) {
  return engine::visit_fixed(column.type, [&](auto tag) -> Int128 {
    using T = typename decltype(tag)::type;
    return static_cast<Int128>(column.values<T>()[row]);
  });
}

std::string text_at(const Column& column, size_t row) {
  if (column.type.is_string_like()) return std::string(column.string_at(row));
  switch (column.type.id) {
    case TypeId::kDate: return dt::date_to_string(static_cast<int64_t>(integer_at(column, row)));
    case TypeId::kDateTime:
      return dt::date_time_to_string(static_cast<int64_t>(integer_at(column, row)));
    case TypeId::kFloat64: return fmt::format("{}", column.values<double>()[row]);
    default: {
      const Int128 v = integer_at(column, row);
      return v < 0 ? std::to_string(static_cast<int64_t>(v)) : std::to_string(static_cast<uint64_t>(v));
    }
  }
}

// An explicit stack, not recursion: a chain such as a + b + c + ... is as deep as it is long.
void mark_inputs(const engine::ExprNode& root, std::vector<bool>* reads) {
  std::vector<const engine::ExprNode*> stack{&root};
  while (!stack.empty()) {
    const engine::ExprNode& node = *stack.back();
    stack.pop_back();
    if (node.kind == engine::ExprNode::Kind::kInput) (*reads)[node.input] = true;
    for (const auto& arg : node.args) stack.push_back(arg.get());
  }
}

}  // namespace

ShardingScheme::ShardingScheme(const engine::TableSchema& schema, ShardingSpec spec)
    : spec_(std::move(spec)) {
  cluster_config::CheckedSharding checked = cluster_config::check_sharding(schema, spec_);
  if (spec_.weights.empty()) spec_.weights.assign(spec_.shards, 1);
  for (size_t shard = 0; shard < spec_.shards; ++shard) {
    slot_to_shard_.insert(slot_to_shard_.end(), spec_.weights[shard], static_cast<uint32_t>(shard));
  }
  key_ = std::move(checked.key);
  if (key_) {
    for (const auto& column : schema.columns) input_names_.push_back(column.name);
    key_reads_.assign(input_names_.size(), false);
    mark_inputs(*key_, &key_reads_);
  }
  range_bounds_.assign(checked.range_bounds.begin(), checked.range_bounds.end());
  for (size_t shard = 0; shard < spec_.lists.size(); ++shard) {
    for (const std::string& value : spec_.lists[shard]) {
      list_index_.emplace(value, static_cast<uint32_t>(shard));
    }
  }
}

std::vector<std::string> ShardingScheme::key_columns() const {
  std::vector<std::string> columns;
  for (size_t i = 0; i < key_reads_.size(); ++i) {
    if (key_reads_[i]) columns.push_back(input_names_[i]);
  }
  return columns;
}

std::vector<uint32_t> ShardingScheme::assign(const Block& block, uint64_t seed,
                                             uint64_t batch) const {
  const size_t rows = block.rows();
  std::vector<uint32_t> shard_of(rows, 0);
  if (spec_.kind == ShardingKind::kRandom) {
    const uint64_t key = base::stream_key(seed, batch);
    for (size_t row = 0; row < rows; ++row) {
      shard_of[row] = shard_of_hash(base::draw(key, row));
    }
    return shard_of;
  }
  std::vector<const Column*> inputs(input_names_.size(), nullptr);
  for (size_t i = 0; i < input_names_.size(); ++i) {
    const int at = block.index_of(input_names_[i]);
    if (at >= 0) {
      inputs[i] = &block.columns[static_cast<size_t>(at)];
    } else if (key_reads_[i]) {
      throw InputError(fmt::format("the inserted block has no column '{}', which the sharding key {} reads",
                                   input_names_[i], spec_.key));
    }
  }
  const Column key = engine::evaluate_column(*key_, inputs, rows);
  switch (spec_.kind) {
    case ShardingKind::kHash:
      for (size_t row = 0; row < rows; ++row) {
        shard_of[row] = shard_of_hash(static_cast<uint64_t>(integer_at(key, row)));
      }
      break;
    case ShardingKind::kJump:
      for (size_t row = 0; row < rows; ++row) {
        shard_of[row] = jump_consistent_hash(static_cast<uint64_t>(integer_at(key, row)),
                                             static_cast<uint32_t>(spec_.shards));
      }
      break;
    case ShardingKind::kRange:
      for (size_t row = 0; row < rows; ++row) {
        const Int128 v = integer_at(key, row);
        shard_of[row] = static_cast<uint32_t>(
            std::upper_bound(range_bounds_.begin(), range_bounds_.end(), v) - range_bounds_.begin());
      }
      break;
    case ShardingKind::kList:
      for (size_t row = 0; row < rows; ++row) {
        const std::string value = text_at(key, row);
        const auto it = list_index_.find(value);
        if (it != list_index_.end()) {
          shard_of[row] = it->second;
        } else if (spec_.default_shard) {
          shard_of[row] = static_cast<uint32_t>(*spec_.default_shard);
        } else {
          throw InputError(fmt::format(
              "list sharding: value '{}' of {} is in no shard's list and there is no default shard",
              value, spec_.key));
        }
      }
      break;
    case ShardingKind::kRandom:
      break;
  }
  return shard_of;
}

std::vector<Block> ShardingScheme::split(const Block& block, uint64_t seed, uint64_t batch) const {
  const std::vector<uint32_t> shard_of = assign(block, seed, batch);
  std::vector<std::vector<uint32_t>> rows_of(spec_.shards);
  for (uint32_t row = 0; row < shard_of.size(); ++row) rows_of[shard_of[row]].push_back(row);
  std::vector<Block> out(spec_.shards);
  for (size_t shard = 0; shard < spec_.shards; ++shard) {
    out[shard].names = block.names;
    for (const Column& column : block.columns) {
      out[shard].columns.push_back(
          engine::gather_column(column, rows_of[shard].data(), rows_of[shard].size()));
    }
  }
  return out;
}

}  // namespace shardlab::sim::cluster
