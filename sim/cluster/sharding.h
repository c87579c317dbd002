// Which shard a row belongs to. The Distributed table evaluates a sharding expression over each
// inserted block with the engine's own expression evaluator, then maps values to shards:
//
//  * hash   ClickHouse's rule: the key (an unsigned integer expression such as
//           cityHash64(user_id) or intHash64(user_id)) modulo the sum of shard weights; shard i
//           owns the remainders [weights before it, that plus its weight). Adding a shard moves
//           the rows whose remainder changes — nearly all of them.
//  * range  The key (a number, date or datetime expression such as toYYYYMMDD(event_time)) is
//           compared with ascending boundaries: shard i owns [bound[i-1], bound[i]); the first
//           shard everything below bound[0], the last everything from the last bound.
//  * list   The key's value (string or number, compared as text) is looked up in per-shard
//           value lists; values in no list go to the default shard, or are an input error if
//           there is none.
//  * random rand() over the weights: each row picks a slot from its own counter-based draw
//           (seed, batch, row), so a run is reproducible.
//  * jump   Lamping and Veach's jump consistent hash of the unsigned key over the shard count
//           (weights ignored): adding a shard moves only about 1/(n+1) of the rows, the point of
//           comparison for resharding.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster_config/sharding.h"
#include "shardlab/engine/column.h"
#include "shardlab/engine/expression.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::sim::cluster {

// The spec and its checks are shared with scenarios/ (cluster_config/sharding.h).
using cluster_config::sharding_kind_name;
using cluster_config::ShardingKind;
using cluster_config::ShardingSpec;

class ShardingScheme {
 public:
  // Checks the spec against the table (cluster_config::check_sharding); throws InputError saying
  // what is wrong.
  ShardingScheme(const engine::TableSchema& schema, ShardingSpec spec);

  size_t shards() const { return spec_.shards; }
  const ShardingSpec& spec() const { return spec_; }
  // The table columns the key reads (none for random).
  std::vector<std::string> key_columns() const;

  // The shard of each row of `block` (which holds the table's columns by name). `batch` makes
  // rand() draws differ between batches. Throws InputError for a list value with no shard or a
  // block without a column the key reads.
  std::vector<uint32_t> assign(const engine::Block& block, uint64_t seed, uint64_t batch) const;

  // Splits `block` into one block per shard (empty blocks for shards that get no rows).
  std::vector<engine::Block> split(const engine::Block& block, uint64_t seed,
                                   uint64_t batch) const;

 private:
  uint32_t shard_of_hash(uint64_t key) const { return slot_to_shard_[key % slot_to_shard_.size()]; }

  ShardingSpec spec_;
  std::vector<std::string> input_names_;  // the table's columns, the key's inputs
  std::vector<bool> key_reads_;           // which of them the key reads
  engine::ExprNodePtr key_;               // null for random
  std::vector<uint32_t> slot_to_shard_;   // hash, random
  __extension__ std::vector<__int128> range_bounds_;  // range, in the key's integer terms
  std::map<std::string, uint32_t> list_index_;        // list: value text -> shard
};

// Jump consistent hash (Lamping and Veach, 2014): a bucket in [0, buckets) for `key`.
uint32_t jump_consistent_hash(uint64_t key, uint32_t buckets);

}  // namespace shardlab::sim::cluster
