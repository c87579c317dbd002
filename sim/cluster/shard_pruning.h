// Which shards a query has to visit. A range or list scheme places rows by a key the WHERE
// clause may constrain; the initiator then skips the shards that cannot hold a matching row,
// as ClickHouse's optimize_skip_unused_shards does (a setting 18.16 lacks; shardlab applies it
// to range and list schemes, whose point is this pruning).
//
//  * range: the key must be the column itself or a chain of monotonic functions of it (toDate,
//    toDateTime, toYYYYMMDD, toYYYYMM, toStartOfHour, toStartOfDay). WHERE conjuncts
//    `column op constant` (=, <, <=, >, >=) bound the column; since the key is monotonic, every
//    matching row lies on the shards between the shard of the lower bound and that of the upper
//    bound, which are found by placing probe rows with the scheme itself.
//  * list: the key must be the column itself; `column = constant` or `column IN (...)` limit the
//    rows to the shards owning those values.
// Anything else (OR, other functions, hash schemes) visits every shard: pruning is only ever
// conservative.
#pragma once

#include <string_view>
#include <vector>

#include "shardlab/engine/table_schema.h"
#include "sim/cluster/sharding.h"

namespace shardlab::sim::cluster {

// One flag per shard: true if the shard must be visited. REQUIRES: `sql` is a valid SELECT on
// the table (it was prepared already).
std::vector<bool> shards_to_visit(const ShardingScheme& scheme, const engine::TableSchema& schema,
                                  std::string_view sql);

}  // namespace shardlab::sim::cluster
