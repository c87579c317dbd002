#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "base/errors.h"
#include "engine/functions/city_hash.h"
#include "shardlab/engine/table_schema.h"
#include "sim/cluster/shard_pruning.h"
#include "sim/cluster/sharding.h"
#include "workloads/engine_block.h"

using namespace shardlab;
using namespace shardlab::sim::cluster;

namespace {
engine::Block generated_rows(size_t rows) {
  const auto schema = engine::TableSchema::from_ddl(engine::kDefaultUserBehaviorDdl);
  workloads::GeneratorConfig config;
  config.total_rows = 1'000'000;
  workloads::EngineBlockSource source(config, schema);
  engine::Block block;
  source.fill(0, rows, &block);
  return block;
}
const engine::TableSchema& schema() {
  static const auto s = engine::TableSchema::from_ddl(engine::kDefaultUserBehaviorDdl);
  return s;
}
}  // namespace

TEST_CASE("hash sharding follows ClickHouse's weighted slots", "[cluster][sharding]") {
  const engine::Block block = generated_rows(20000);
  ShardingSpec spec;
  spec.kind = ShardingKind::kHash;
  spec.key = "intHash64(user_id)";
  spec.shards = 3;
  spec.weights = {1, 2, 1};  // slots: 0 -> shard 0, 1 and 2 -> shard 1, 3 -> shard 2
  const ShardingScheme scheme(schema(), spec);
  const auto shard_of = scheme.assign(block, 1, 0);
  const int user_col = block.index_of("user_id");
  const uint32_t slot_owner[4] = {0, 1, 1, 2};
  std::vector<size_t> counts(3, 0);
  for (size_t row = 0; row < block.rows(); ++row) {
    const uint64_t user = block.columns[user_col].values<uint64_t>()[row];
    REQUIRE(shard_of[row] == slot_owner[engine::int_hash64(user) % 4]);
    ++counts[shard_of[row]];
  }
  // The middle shard, with half the weight, gets about half the rows.
  CHECK(static_cast<double>(counts[1]) / block.rows() == Approx(0.5).margin(0.03));

  const auto parts = scheme.split(block, 1, 0);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].rows() + parts[1].rows() + parts[2].rows() == block.rows());
  CHECK(parts[1].rows() == counts[1]);
}

TEST_CASE("range, list, random and jump sharding", "[cluster][sharding]") {
  const engine::Block block = generated_rows(20000);
  const int time_col = block.index_of("event_time");
  const int province_col = block.index_of("province");

  ShardingSpec range;
  range.kind = ShardingKind::kRange;
  range.key = "toDate(event_time)";
  range.shards = 3;
  range.range_bounds = {"2024-05-03", "2024-05-05"};
  const auto by_day = ShardingScheme(schema(), range).assign(block, 1, 0);
  for (size_t row = 0; row < block.rows(); ++row) {
    const uint32_t t = block.columns[time_col].values<uint32_t>()[row];
    const int64_t day = t / 86400 - dt::days_from_civil(2024, 5, 1);
    const uint32_t expected = day < 2 ? 0 : day < 4 ? 1 : 2;
    REQUIRE(by_day[row] == expected);
  }

  ShardingSpec list;
  list.kind = ShardingKind::kList;
  list.key = "province";
  list.shards = 2;
  list.lists = {{"北京", "上海"}, {}};
  list.default_shard = 1;
  const auto by_province = ShardingScheme(schema(), list).assign(block, 1, 0);
  for (size_t row = 0; row < block.rows(); ++row) {
    const auto p = block.columns[province_col].string_at(row);
    REQUIRE(by_province[row] == ((p == "北京" || p == "上海") ? 0u : 1u));
  }
  list.default_shard.reset();
  CHECK_THROWS_WITH(ShardingScheme(schema(), list).assign(block, 1, 0),
                    Catch::Contains("is in no shard's list"));

  ShardingSpec random;
  random.kind = ShardingKind::kRandom;
  random.shards = 4;
  const ShardingScheme rand_scheme(schema(), random);
  CHECK(rand_scheme.assign(block, 7, 3) == rand_scheme.assign(block, 7, 3));
  CHECK(rand_scheme.assign(block, 7, 3) != rand_scheme.assign(block, 7, 4));

  // Jump hash: going from 4 to 5 shards moves about 1/5 of the rows, and only to the new shard.
  ShardingSpec jump;
  jump.kind = ShardingKind::kJump;
  jump.key = "cityHash64(user_id)";
  jump.shards = 4;
  const auto before = ShardingScheme(schema(), jump).assign(block, 1, 0);
  jump.shards = 5;
  const auto after = ShardingScheme(schema(), jump).assign(block, 1, 0);
  size_t moved = 0;
  for (size_t row = 0; row < block.rows(); ++row) {
    if (before[row] != after[row]) {
      ++moved;
      REQUIRE(after[row] == 4);
    }
  }
  CHECK(static_cast<double>(moved) / block.rows() == Approx(0.2).margin(0.03));
}

TEST_CASE("bad sharding specs are input errors that say what is wrong", "[cluster][sharding]") {
  ShardingSpec spec;
  spec.shards = 2;
  spec.key = "user_id + 1";  // UInt64: allowed
  CHECK_NOTHROW(ShardingScheme(schema(), spec));
  spec.key = "province";
  CHECK_THROWS_WITH(ShardingScheme(schema(), spec), Catch::Contains("unsigned integer key"));
  spec.key = "nope";
  CHECK_THROWS_WITH(ShardingScheme(schema(), spec), Catch::Contains("unknown column 'nope'"));
  spec.key = "user_id";
  spec.weights = {1, 0};
  CHECK_THROWS_WITH(ShardingScheme(schema(), spec), Catch::Contains("weight 0"));
  ShardingSpec range;
  range.kind = ShardingKind::kRange;
  range.key = "event_time";
  range.shards = 3;
  range.range_bounds = {"2024-05-03 00:00:00", "2024-05-02 00:00:00"};
  CHECK_THROWS_WITH(ShardingScheme(schema(), range), Catch::Contains("must ascend"));
  range.range_bounds = {"2024-05-03", "x"};
  CHECK_THROWS_WITH(ShardingScheme(schema(), range), Catch::Contains("is not a DateTime value"));
}

TEST_CASE("a block without the key's column is an input error", "[cluster][sharding]") {
  engine::Block block = generated_rows(10);
  const int user_col = block.index_of("user_id");
  block.names.erase(block.names.begin() + user_col);
  block.columns.erase(block.columns.begin() + user_col);
  ShardingSpec spec;
  spec.key = "intHash64(user_id)";
  spec.shards = 2;
  CHECK_THROWS_WITH(ShardingScheme(schema(), spec).assign(block, 1, 0),
                    Catch::Contains("no column 'user_id'"));
}

TEST_CASE("range and list schemes prune the shards a query cannot touch", "[cluster][sharding]") {
  ShardingSpec range;
  range.kind = ShardingKind::kRange;
  range.key = "toDate(event_time)";
  range.shards = 4;
  range.range_bounds = {"2024-05-02", "2024-05-03", "2024-05-04"};
  const ShardingScheme by_day(schema(), range);
  using V = std::vector<bool>;
  CHECK(shards_to_visit(by_day, schema(), "SELECT count() FROM user_behavior") == V{1, 1, 1, 1});
  CHECK(shards_to_visit(by_day, schema(),
                        "SELECT count() FROM user_behavior WHERE event_time >= '2024-05-02 00:00:00' "
                        "AND event_time < '2024-05-03 00:00:00'") == V{0, 1, 1, 0});
  CHECK(shards_to_visit(by_day, schema(),
                        "SELECT count() FROM user_behavior WHERE action = 'buy' AND event_time > "
                        "'2024-05-03 12:00:00'") == V{0, 0, 1, 1});
  CHECK(shards_to_visit(by_day, schema(),
                        "SELECT count() FROM user_behavior WHERE event_time > '2024-05-03 12:00:00' "
                        "OR user_id = 1") == V{1, 1, 1, 1});  // OR: no pruning

  ShardingSpec list;
  list.kind = ShardingKind::kList;
  list.key = "province";
  list.shards = 3;
  list.lists = {{"北京"}, {"上海", "广东"}, {}};
  list.default_shard = 2;
  const ShardingScheme by_province(schema(), list);
  CHECK(shards_to_visit(by_province, schema(),
                        "SELECT count() FROM user_behavior WHERE province = '北京'") == V{1, 0, 0});
  CHECK(shards_to_visit(by_province, schema(),
                        "SELECT count() FROM user_behavior WHERE province IN ('上海', '四川')") ==
        V{0, 1, 1});

  ShardingSpec hash;
  hash.key = "cityHash64(user_id)";
  hash.shards = 2;
  CHECK(shards_to_visit(ShardingScheme(schema(), hash), schema(),
                        "SELECT count() FROM user_behavior WHERE user_id = 5") == V{1, 1});
}
