#include "sim/cluster/sharding.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <numeric>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "shardlab/engine/parser.h"
#include "base/counter_rng.h"

namespace shardlab::sim::cluster {

using engine::Block;
using engine::Column;
using engine::DataType;
using engine::TypeId;

const char* sharding_kind_name(ShardingKind kind) {
  switch (kind) {
    case ShardingKind::kHash: return "hash";
    case ShardingKind::kRange: return "range";
    case ShardingKind::kList: return "list";
    case ShardingKind::kRandom: return "random";
    case ShardingKind::kJump: return "jump";
  }
  return "?";
}

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

bool is_unsigned_key(DataType type) { return type.is_unsigned_like(); }

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
bool is_integer_key(DataType type) { return type.is_unsigned_like() || type.is_signed(); }

// A range boundary in the key's own terms: dates and datetimes as text, numbers as integers.
Int128 parse_bound(DataType type, const std::string& text, const std::string& key) {
  std::optional<int64_t> value;
  if (type.id == TypeId::kDate) {
    value = dt::parse_date(text);
  } else if (type.id == TypeId::kDateTime) {
    value = dt::parse_date_time(text);
  } else {
    int64_t parsed = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec == std::errc() && end == text.data() + text.size()) value = parsed;
  }
  if (!value) {
    throw InputError(fmt::format("range boundary '{}' is not a {} value (the type of key {})",
                                 text, type.name(), key));
  }
  return *value;
}

}  // namespace

ShardingScheme::ShardingScheme(const engine::TableSchema& schema, ShardingSpec spec)
    : spec_(std::move(spec)) {
  if (spec_.shards == 0) throw InputError("a sharding scheme needs at least one shard");
  if (spec_.weights.empty()) spec_.weights.assign(spec_.shards, 1);
  if (spec_.weights.size() != spec_.shards) {
    throw InputError(fmt::format("{} shard weights given for {} shards", spec_.weights.size(),
                                 spec_.shards));
  }
  for (size_t shard = 0; shard < spec_.shards; ++shard) {
    if (spec_.weights[shard] == 0) throw InputError(fmt::format("shard {} has weight 0", shard + 1));
    slot_to_shard_.insert(slot_to_shard_.end(), spec_.weights[shard], static_cast<uint32_t>(shard));
  }

  if (spec_.kind != ShardingKind::kRandom) {
    if (spec_.key.empty()) {
      throw InputError(fmt::format("{} sharding needs a key expression", sharding_kind_name(spec_.kind)));
    }
    std::vector<engine::ColumnInfo> inputs;
    for (const auto& column : schema.columns) inputs.push_back({column.name, column.type});
    const engine::ExprPtr parsed = engine::parse_expression(spec_.key);
    key_ = engine::analyze_expression(*parsed, inputs, spec_.key);
    for (const auto& column : schema.columns) input_names_.push_back(column.name);
    key_reads_.assign(input_names_.size(), false);
    mark_inputs(*key_, &key_reads_);
  }
  const DataType key_type = key_ ? key_->type : DataType(TypeId::kUInt64);
  switch (spec_.kind) {
    case ShardingKind::kHash:
    case ShardingKind::kJump:
      if (!is_unsigned_key(key_type)) {
        throw InputError(fmt::format(
            "{} sharding needs an unsigned integer key, but {} is {}: wrap it in cityHash64() or "
            "intHash64()",
            sharding_kind_name(spec_.kind), spec_.key, key_type.name()));
      }
      break;
    case ShardingKind::kRange:
      if (!is_integer_key(key_type)) {
        throw InputError(fmt::format("range sharding needs an integer, Date or DateTime key, but {} is {}",
                                     spec_.key, key_type.name()));
      }
      if (spec_.range_bounds.size() + 1 != spec_.shards) {
        throw InputError(fmt::format("range sharding over {} shards needs {} boundaries, got {}",
                                     spec_.shards, spec_.shards - 1, spec_.range_bounds.size()));
      }
      for (const std::string& bound : spec_.range_bounds) {
        range_bounds_.push_back(parse_bound(key_type, bound, spec_.key));
        if (range_bounds_.size() > 1 && !(range_bounds_.end()[-2] < range_bounds_.back())) {
          throw InputError(fmt::format("range boundaries must ascend: '{}' follows a value not below it",
                                       bound));
        }
      }
      break;
    case ShardingKind::kList: {
      if (spec_.lists.size() != spec_.shards) {
        throw InputError(fmt::format("list sharding over {} shards needs {} value lists, got {}",
                                     spec_.shards, spec_.shards, spec_.lists.size()));
      }
      for (size_t shard = 0; shard < spec_.lists.size(); ++shard) {
        for (const std::string& value : spec_.lists[shard]) {
          if (!list_index_.emplace(value, static_cast<uint32_t>(shard)).second) {
            throw InputError(fmt::format("list value '{}' is given to more than one shard", value));
          }
        }
      }
      if (spec_.default_shard && *spec_.default_shard >= spec_.shards) {
        throw InputError(fmt::format("default shard {} does not exist (there are {})",
                                     *spec_.default_shard + 1, spec_.shards));
      }
      break;
    }
    case ShardingKind::kRandom:
      break;
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
