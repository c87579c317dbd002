// A sharding scheme as a scenario states it: the spec and checks of cluster_config/sharding.h,
// which the simulator's ShardingScheme runs too, so a scenario that loads also binds.
#pragma once

#include "cluster_config/sharding.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::scenarios {

using cluster_config::sharding_kind_name;
using cluster_config::ShardingKind;
using ShardingConfig = cluster_config::ShardingSpec;

// Throws InputError saying what is wrong (cluster_config::check_sharding).
inline void validate_sharding(const engine::TableSchema& schema, const ShardingConfig& spec) {
  cluster_config::check_sharding(schema, spec);
}

}  // namespace shardlab::scenarios
