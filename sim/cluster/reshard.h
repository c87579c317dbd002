// What adding shards costs under each sharding strategy: the rows and bytes whose shard changes
// when a cluster of N shards becomes one of N + k, counted row by row over the rows actually
// stored, and how unevenly the shards are filled once those rows have moved.
//
// ClickHouse never moves rows by itself when shards are added: the new shards receive only new
// inserts. These figures are what an operator would have to copy (INSERT SELECT, clickhouse-copier)
// to keep each strategy's invariant, and what balance they would get:
//
//  * hash   nearly every row whose remainder modulo the new weight sum differs: most of them.
//  * jump   only the rows the new shards take: about k / (N + k).
//  * range  rows in ranges the new bounds hand to another shard (none when the new shards take
//           future ranges only, at the price of empty new shards).
//  * list   rows of values the new lists hand to another shard.
//  * random no row has to move (queries visit every shard anyway), but the new shards start
//           empty; rows_to_balance says what evening out would copy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shardlab/engine/table_schema.h"
#include "shardlab/engine/column.h"
#include "sim/cluster/sharding.h"

namespace shardlab::sim::cluster {

struct ReshardStrategy {
  std::string name;     // what reports call it: "hash", "jump", "range", "list", "random"
  ShardingSpec before;  // over the serving shards
  ShardingSpec after;   // over the serving and the joining shards
};

struct ReshardMoves {
  std::string name;
  std::string key;  // the strategy's key expression (empty for random)
  uint64_t rows = 0;           // rows considered
  uint64_t rows_to_move = 0;   // rows whose shard differs between before and after
  uint64_t bytes_to_move = 0;  // their share of their parts' compressed bytes
  std::vector<std::vector<uint64_t>> bytes_between;  // [from shard][to shard]
  std::vector<uint64_t> rows_after;  // per shard (after's count), once the rows have moved
  // Rows above their shard's fair share (by weight) after the move: what evening the shards out
  // would still copy.
  uint64_t rows_to_balance = 0;
  double rows_max_over_mean_after = 0;

  double fraction_to_move() const {
    return rows > 0 ? static_cast<double>(rows_to_move) / static_cast<double>(rows) : 0.0;
  }
};

class ReshardAnalysis {
 public:
  // Throws InputError if a strategy's specs do not fit the table (ShardingScheme's checks) or
  // `after` does not have more shards than `before`.
  ReshardAnalysis(const engine::TableSchema& schema, std::vector<ReshardStrategy> strategies,
                  uint64_t seed);

  // The table columns the strategies' keys read: what add_rows() needs in its blocks.
  const std::vector<std::string>& key_columns() const { return key_columns_; }

  // Stored rows, with at least key_columns(), each row worth `bytes_per_row` compressed bytes
  // (its part's size over its rows). `part` numbers the call so that random draws differ.
  void add_rows(const engine::Block& block, double bytes_per_row, uint64_t part);

  std::vector<ReshardMoves> result() const;

 private:
  struct Tally {
    ShardingScheme before;
    ShardingScheme after;
    uint64_t rows = 0;
    uint64_t rows_to_move = 0;
    std::vector<std::vector<double>> bytes_between;
    std::vector<uint64_t> rows_after;
  };
  std::vector<ReshardStrategy> strategies_;
  std::vector<Tally> tallies_;
  std::vector<std::string> key_columns_;
  uint64_t seed_;
};

}  // namespace shardlab::sim::cluster
