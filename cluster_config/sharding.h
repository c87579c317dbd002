// A sharding scheme as a user states it, and its checks against the table. What the kinds mean
// is in sim/cluster/sharding.h, whose ShardingScheme routes rows by a checked spec; scenarios/
// checks the same spec when it reads a file, so a scenario that loads also binds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shardlab/engine/expression.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::cluster_config {

enum class ShardingKind : uint8_t { kHash, kRange, kList, kRandom, kJump };

// "hash", "range", "list", "random", "jump": the spellings of the files and of summary.json.
const char* sharding_kind_name(ShardingKind kind);

struct ShardingSpec {
  ShardingKind kind = ShardingKind::kHash;
  std::string key;                              // SQL expression over the table's columns
  std::vector<uint32_t> weights;                // hash, random: one per shard (empty: 1 each)
  size_t shards = 0;                            // number of shards
  std::vector<std::string> range_bounds;        // range: shards - 1 ascending boundaries
  std::vector<std::vector<std::string>> lists;  // list: values per shard
  std::optional<size_t> default_shard;          // list: where unlisted values go (0-based)
};

// What checking a spec works out on the way.
struct CheckedSharding {
  engine::ExprNodePtr key;            // the analysed key; null for random
  std::vector<int64_t> range_bounds;  // range: the bounds in the key's integer terms, ascending
};

// Throws InputError saying what is wrong: unknown columns or functions in the key (with the
// position in the key's SQL), a key of the wrong type for the kind, weights, bounds or lists
// that do not fit the number of shards, bounds that do not ascend, a value listed twice.
CheckedSharding check_sharding(const engine::TableSchema& schema, const ShardingSpec& spec);

}  // namespace shardlab::cluster_config
