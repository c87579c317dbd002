// The query memory model (sim/cluster/query_memory.h) against ClickHouse 18.16's own accounting:
// system.query_log.memory_usage of the same queries over the same 400,000 rows, measured on the
// reference machine (one server, max_threads 2, log_queries = 1):
//
//   INSERT INTO t SELECT number % 100000, number % 10000, ['click','buy','cart'][number % 3 + 1]
//   FROM numbers(400000)
#include "sim/cluster/query_memory.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "shardlab/engine/query.h"
#include "shardlab/engine/table.h"
#include "sim/cluster/settings.h"
#include "tests/engine/test_util.h"

using namespace shardlab;
using shardlab::sim::cluster::initiator_memory_bytes;
using shardlab::sim::cluster::kMinGranulesPerThread;
using shardlab::sim::cluster::subquery_memory_bytes;

namespace {

constexpr const char* kDdl =
    "CREATE TABLE t (user_id UInt64, item_id UInt32, action String) ENGINE = MergeTree() "
    "ORDER BY user_id";

struct Measured {
  const char* sql;
  double clickhouse_bytes;  // system.query_log.memory_usage
};

// The subquery's threads as the cluster picks them (query.cpp), on a 2-core server.
uint64_t threads_for(const engine::WorkProfile& profile) {
  return std::clamp<uint64_t>(profile.granules_read / kMinGranulesPerThread, 1, 2);
}

}  // namespace

TEST_CASE("query memory: within a factor of 18.16's own accounting", "[cluster][memory]") {
  shardlab::testing::TempDir dir;
  auto table = engine::Table::create(dir.path() / "t", kDdl);
  engine::Block block;
  block.names = {"user_id", "item_id", "action"};
  engine::Column user(engine::TypeId::kUInt64);
  engine::Column item(engine::TypeId::kUInt32);
  engine::Column action(engine::TypeId::kString);
  const char* actions[] = {"click", "buy", "cart"};
  for (uint64_t n = 0; n < 400'000; ++n) {
    user.push(n % 100'000);
    item.push(static_cast<uint32_t>(n % 10'000));
    action.push_string(actions[n % 3]);
  }
  block.columns = {user, item, action};
  table->insert(block);
  REQUIRE(table->active_parts().size() == 1);
  const engine::PartPtr part = table->active_parts().front();

  const Measured cases[] = {
      {"SELECT action, count() FROM t WHERE user_id = 4242 GROUP BY action", 2'712'758},
      {"SELECT item_id, count() c FROM t WHERE action = 'click' GROUP BY item_id ORDER BY c DESC "
       "LIMIT 10",
       10'275'042},
      {"SELECT user_id, count() c FROM t GROUP BY user_id ORDER BY c DESC LIMIT 3", 12'569'966},
  };
  for (const Measured& m : cases) {
    INFO(m.sql);
    const auto query = engine::Query::prepare(table->schema(), m.sql);
    const engine::PartResult partial = query->run_part(part);
    const double modelled =
        static_cast<double>(subquery_memory_bytes(partial, threads_for(partial.profile)));
    INFO("modelled " << modelled << " bytes, ClickHouse " << m.clickhouse_bytes);
    CHECK(modelled / m.clickhouse_bytes > 0.5);
    CHECK(modelled / m.clickhouse_bytes < 1.25);
  }

  // A Distributed query's initiator with its one shard on another server: 5,243,560 bytes there
  // (the point query above; the shard's own subquery held 1,664,103).
  const auto point = engine::Query::prepare(table->schema(), cases[0].sql);
  std::vector<engine::PartResult> partials;
  partials.push_back(point->run_part(part));
  const double initiator = static_cast<double>(initiator_memory_bytes(partials, 1));
  INFO("modelled " << initiator << " bytes for the initiator");
  CHECK(initiator / 5'243'560 > 0.5);
  CHECK(initiator / 5'243'560 < 1.25);
}
