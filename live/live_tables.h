// The scenario's table as a real cluster holds it: a local table on every server
// (ReplicatedMergeTree with replicas, MergeTree without) and a Distributed table over them,
// named as the scenario's table so that its queries run unchanged.
//
// The sharding scheme carries over as a Distributed sharding expression with the shards'
// weights in remote_servers (ClickHouse takes the expression modulo their sum):
//   hash    the key as it is, with the scenario's weights
//   jump    jumpConsistentHash(key, shards), weights 1
//   random  rand(), with the scenario's weights (ClickHouse's draws, not the simulator's)
//   range   multiIf(toInt64(key) < b1, 0, toInt64(key) < b2, 1, ..., last), weights 1
//           (toInt64 of a Date is its day number, of a DateTime its Unix second: the terms the
//           simulator compares bounds in)
//   list    multiIf(toString(key) IN (...), 0, ..., default), weights 1 (values compare as text)
// A list without a default shard cannot be expressed (ClickHouse has no "reject this row" in a
// sharding expression) and is refused, as is a table with TTL (which arrived in 19.6).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace shardlab::live {

struct LiveTables {
  std::string database;
  std::string distributed;  // database.table: the scenario's table name
  std::string local;        // database.table_local
  std::string local_ddl;    // CREATE TABLE for every server ({shard}, {replica} macros)
  std::string distributed_ddl;
  std::string sharding_expression;
  std::vector<uint32_t> shard_weights;  // what remote_servers must say, per shard
  std::string run_id;                   // unique to the run (ZooKeeper paths, query ids)
};

// `run_id` makes the ZooKeeper path unique to this run, so replicas of an earlier run never
// meet this one's. Throws InputError for what ClickHouse 18.16 cannot express, naming it.
LiveTables live_tables(const scenarios::Scenario& s, const std::string& database,
                       const std::string& cluster_name, const std::string& run_id);

// The sharding expression alone (see above). Throws InputError as live_tables does.
std::string sharding_expression(const scenarios::Scenario& s);

// `text` as a single-quoted SQL string literal.
std::string sql_quote(const std::string& text);

}  // namespace shardlab::live
