#include <catch2/catch.hpp>

#include <map>

#include "base/errors.h"
#include "engine/functions/city_hash.h"
#include "shardlab/engine/table_schema.h"
#include "sim/cluster/reshard.h"
#include "workloads/engine_block.h"

using namespace shardlab;
using namespace shardlab::sim::cluster;

namespace {

const engine::TableSchema& schema() {
  static const auto s = engine::TableSchema::from_ddl(engine::kDefaultUserBehaviorDdl);
  return s;
}

engine::Block generated_rows(size_t rows) {
  workloads::GeneratorConfig config;
  config.total_rows = 1'000'000;
  workloads::EngineBlockSource source(config, schema());
  engine::Block block;
  source.fill(0, rows, &block);
  return block;
}

ShardingSpec spec(ShardingKind kind, std::string key, size_t shards) {
  ShardingSpec s;
  s.kind = kind;
  s.key = std::move(key);
  s.shards = shards;
  return s;
}

}  // namespace

TEST_CASE("reshard: hash moves most rows, jump only those the new shards take",
          "[cluster][reshard]") {
  const engine::Block block = generated_rows(40000);
  ReshardAnalysis analysis(
      schema(),
      {{"hash", spec(ShardingKind::kHash, "intHash64(user_id)", 4),
        spec(ShardingKind::kHash, "intHash64(user_id)", 6)},
       {"jump", spec(ShardingKind::kJump, "intHash64(user_id)", 4),
        spec(ShardingKind::kJump, "intHash64(user_id)", 6)}},
      1);
  CHECK(analysis.key_columns() == std::vector<std::string>{"user_id"});
  analysis.add_rows(block, 10.0, 0);
  const std::vector<ReshardMoves> moves = analysis.result();
  REQUIRE(moves.size() == 2);

  // Modulo 4 and modulo 6 agree on a remainder only when h mod 12 is in {0..3}: 1/3 of rows.
  const ReshardMoves& hash = moves[0];
  uint64_t expected_moves = 0;
  const auto users = block.columns[block.index_of("user_id")].values<uint64_t>();
  for (size_t row = 0; row < block.rows(); ++row) {
    const uint64_t h = engine::int_hash64(users[row]);
    if (h % 4 != h % 6) ++expected_moves;
  }
  CHECK(hash.rows == 40000);
  CHECK(hash.rows_to_move == expected_moves);
  CHECK(static_cast<double>(hash.rows_to_move) / 40000 == Approx(2.0 / 3).margin(0.03));
  CHECK(hash.bytes_to_move == hash.rows_to_move * 10);

  // Jump: about 2/6 move, and every moved row goes to one of the two new shards.
  const ReshardMoves& jump = moves[1];
  CHECK(static_cast<double>(jump.rows_to_move) / 40000 == Approx(1.0 / 3).margin(0.03));
  uint64_t moved_bytes = 0;
  for (size_t from = 0; from < 6; ++from) {
    for (size_t to = 0; to < 6; ++to) {
      if (to < 4) CHECK(jump.bytes_between[from][to] == 0);
      moved_bytes += jump.bytes_between[from][to];
    }
  }
  CHECK(moved_bytes == jump.bytes_to_move);
  uint64_t after = 0;
  for (uint64_t rows : jump.rows_after) after += rows;
  CHECK(after == 40000);
  CHECK(jump.rows_max_over_mean_after < 1.3);
}

TEST_CASE("reshard: range and list move only what the new layout reassigns; random moves nothing",
          "[cluster][reshard]") {
  const engine::Block block = generated_rows(20000);
  // Range: the new shards take days after the data: nothing moves, but they stay empty.
  ShardingSpec range_before = spec(ShardingKind::kRange, "toYYYYMMDD(event_time)", 2);
  range_before.range_bounds = {"20240503"};
  ShardingSpec range_after = spec(ShardingKind::kRange, "toYYYYMMDD(event_time)", 4);
  range_after.range_bounds = {"20240503", "20240601", "20240701"};
  // List: Beijing leaves shard 1 for the new shard 3.
  ShardingSpec list_before = spec(ShardingKind::kList, "province", 2);
  list_before.lists = {{"北京", "上海"}, {}};
  list_before.default_shard = 1;
  ShardingSpec list_after = spec(ShardingKind::kList, "province", 3);
  list_after.lists = {{"上海"}, {}, {"北京"}};
  list_after.default_shard = 1;
  ShardingSpec random_before = spec(ShardingKind::kRandom, "", 2);
  random_before.weights = {1, 1};
  ShardingSpec random_after = spec(ShardingKind::kRandom, "", 3);
  random_after.weights = {1, 1, 2};

  ReshardAnalysis analysis(schema(),
                           {{"range", range_before, range_after},
                            {"list", list_before, list_after},
                            {"random", random_before, random_after}},
                           1);
  // Half the rows in each of two calls, as two parts of different sizes per row.
  engine::Block first;
  engine::Block second;
  for (size_t c = 0; c < block.columns.size(); ++c) {
    first.names.push_back(block.names[c]);
    second.names.push_back(block.names[c]);
    first.columns.emplace_back(block.columns[c].type);
    second.columns.emplace_back(block.columns[c].type);
    first.columns.back().dict = block.columns[c].dict;
    second.columns.back().dict = block.columns[c].dict;
    engine::append_range(&first.columns.back(), block.columns[c], 0, 10000);
    engine::append_range(&second.columns.back(), block.columns[c], 10000, 20000);
  }
  analysis.add_rows(first, 4.0, 0);
  analysis.add_rows(second, 8.0, 1);
  const std::vector<ReshardMoves> moves = analysis.result();

  const ReshardMoves& range = moves[0];
  CHECK(range.rows_to_move == 0);
  CHECK(range.rows_after[2] == 0);
  CHECK(range.rows_after[3] == 0);
  CHECK(range.rows_max_over_mean_after >= 2.0);  // 4 shards, data on at most 2

  const ReshardMoves& list = moves[1];
  const int province = block.index_of("province");
  uint64_t beijing_first = 0;
  uint64_t beijing_second = 0;
  for (size_t row = 0; row < 20000; ++row) {
    if (block.columns[province].string_at(row) == "北京") {
      ++(row < 10000 ? beijing_first : beijing_second);
    }
  }
  REQUIRE(beijing_first + beijing_second > 0);
  CHECK(list.rows_to_move == beijing_first + beijing_second);
  CHECK(list.bytes_between[0][2] == beijing_first * 4 + beijing_second * 8);
  CHECK(list.rows_after[2] == beijing_first + beijing_second);

  const ReshardMoves& random = moves[2];
  CHECK(random.rows_to_move == 0);
  CHECK(random.bytes_to_move == 0);
  CHECK(random.rows_after[2] == 0);
  // The new shard should hold half the rows by weight: that half is what balancing copies.
  CHECK(static_cast<double>(random.rows_to_balance) == Approx(10000).margin(300));
}

TEST_CASE("reshard: a layout that adds no shard is an input error", "[cluster][reshard]") {
  CHECK_THROWS_AS(ReshardAnalysis(schema(),
                                  {{"hash", spec(ShardingKind::kHash, "intHash64(user_id)", 4),
                                    spec(ShardingKind::kHash, "intHash64(user_id)", 4)}},
                                  1),
                  InputError);
}
