#include "cluster_config/sharding.h"

#include <fmt/format.h>

#include <charconv>
#include <set>

#include "base/errors.h"
#include "shardlab/engine/date_time.h"
#include "shardlab/engine/parser.h"

namespace shardlab::cluster_config {

namespace {

using engine::DataType;
using engine::TypeId;

engine::ExprNodePtr analyse_key(const engine::TableSchema& schema, const std::string& key) {
  std::vector<engine::ColumnInfo> inputs;
  for (const auto& column : schema.columns) inputs.push_back({column.name, column.type});
  const engine::ExprPtr parsed = engine::parse_expression(key);
  return engine::analyze_expression(*parsed, inputs, key);
}

// A range boundary in the key's own terms: dates and datetimes as text, numbers as integers.
int64_t parse_bound(DataType type, const std::string& text, const std::string& key) {
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

void check_weights(const ShardingSpec& spec) {
  if (spec.shards == 0) throw InputError("a sharding scheme needs at least one shard");
  if (spec.weights.empty()) return;
  if (spec.weights.size() != spec.shards) {
    throw InputError(
        fmt::format("{} shard weights given for {} shards", spec.weights.size(), spec.shards));
  }
  for (size_t shard = 0; shard < spec.shards; ++shard) {
    if (spec.weights[shard] == 0) throw InputError(fmt::format("shard {} has weight 0", shard + 1));
  }
}

std::vector<int64_t> check_range(const ShardingSpec& spec, DataType type) {
  if (!(type.is_unsigned_like() || type.is_signed())) {
    throw InputError(fmt::format(
        "range sharding needs an integer, Date or DateTime key, but {} is {}", spec.key,
        type.name()));
  }
  if (spec.range_bounds.size() + 1 != spec.shards) {
    throw InputError(fmt::format("range sharding over {} shards needs {} boundaries, got {}",
                                 spec.shards, spec.shards - 1, spec.range_bounds.size()));
  }
  std::vector<int64_t> bounds;
  for (const std::string& bound : spec.range_bounds) {
    bounds.push_back(parse_bound(type, bound, spec.key));
    if (bounds.size() > 1 && !(bounds.end()[-2] < bounds.back())) {
      throw InputError(fmt::format(
          "range boundaries must ascend: '{}' follows a value not below it", bound));
    }
  }
  return bounds;
}

void check_lists(const ShardingSpec& spec) {
  if (spec.lists.size() != spec.shards) {
    throw InputError(fmt::format("list sharding over {} shards needs {} value lists, got {}",
                                 spec.shards, spec.shards, spec.lists.size()));
  }
  std::set<std::string> seen;
  for (const auto& list : spec.lists) {
    for (const std::string& value : list) {
      if (!seen.insert(value).second) {
        throw InputError(fmt::format("list value '{}' is given to more than one shard", value));
      }
    }
  }
  if (spec.default_shard && *spec.default_shard >= spec.shards) {
    throw InputError(fmt::format("default shard {} does not exist (there are {})",
                                 *spec.default_shard + 1, spec.shards));
  }
}

}  // namespace

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

CheckedSharding check_sharding(const engine::TableSchema& schema, const ShardingSpec& spec) {
  check_weights(spec);
  CheckedSharding checked;
  if (spec.kind != ShardingKind::kRandom) {
    if (spec.key.empty()) {
      throw InputError(
          fmt::format("{} sharding needs a key expression", sharding_kind_name(spec.kind)));
    }
    checked.key = analyse_key(schema, spec.key);
  }
  const DataType type = checked.key ? checked.key->type : DataType(TypeId::kUInt64);
  switch (spec.kind) {
    case ShardingKind::kHash:
    case ShardingKind::kJump:
      if (!type.is_unsigned_like()) {
        throw InputError(fmt::format(
            "{} sharding needs an unsigned integer key, but {} is {}: wrap it in cityHash64() or "
            "intHash64()",
            sharding_kind_name(spec.kind), spec.key, type.name()));
      }
      break;
    case ShardingKind::kRange: checked.range_bounds = check_range(spec, type); break;
    case ShardingKind::kList: check_lists(spec); break;
    case ShardingKind::kRandom: break;
  }
  return checked;
}

}  // namespace shardlab::cluster_config
