// A sharding scheme as a scenario states it, and its validation against the table. The values
// mean what sim/cluster/sharding.h says (the simulator's ShardingScheme routes rows by them);
// experiment/cluster_binding.h converts them. The checks here are the ones ShardingScheme makes
// on construction, with the same messages, so that a scenario that loads also binds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shardlab/engine/table_schema.h"

namespace shardlab::scenarios {

enum class ShardingKind : uint8_t { kHash, kRange, kList, kRandom, kJump };

// "hash", "range", "list", "random", "jump": the spellings of the files and of summary.json.
const char* sharding_kind_name(ShardingKind kind);

struct ShardingConfig {
  ShardingKind kind = ShardingKind::kHash;
  std::string key;                              // SQL expression over the table's columns
  std::vector<uint32_t> weights;                // hash, random: one per shard (empty: 1 each)
  size_t shards = 0;                            // number of shards
  std::vector<std::string> range_bounds;        // range: shards - 1 ascending boundaries
  std::vector<std::vector<std::string>> lists;  // list: values per shard
  std::optional<size_t> default_shard;          // list: where unlisted values go (0-based)
};

// Throws InputError saying what is wrong: unknown columns or functions in the key (with the
// position in the key's SQL), a key of the wrong type for the kind, weights, bounds or lists
// that do not fit the number of shards, bounds that do not ascend.
void validate_sharding(const engine::TableSchema& schema, const ShardingConfig& spec);

}  // namespace shardlab::scenarios
