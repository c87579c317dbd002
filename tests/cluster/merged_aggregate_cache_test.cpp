#include "sim/cluster/merged_aggregate_cache.h"

#include <catch2/catch.hpp>

#include "shardlab/engine/query.h"
#include "shardlab/engine/tsv_format.h"
#include "shardlab/engine/table.h"
#include "tests/engine/test_util.h"

using namespace shardlab;
using namespace shardlab::engine;
using shardlab::sim::cluster::MergedAggregateCache;

namespace {

constexpr int64_t kStart = 1714521600;  // 2024-05-01 00:00:00

// `rows` rows an hour apart from `first_hour`, with k = hour.
Block hours(uint32_t first_hour, uint32_t rows) {
  Block b;
  b.names = {"t", "k"};
  Column t(TypeId::kDateTime), k(TypeId::kUInt32);
  for (uint32_t idx = 0; idx < rows; ++idx) {
    t.push(static_cast<uint32_t>(kStart + (first_hour + idx) * 3600));
    k.push(first_hour + idx);
  }
  b.columns = {t, k};
  return b;
}

std::string tsv(const QueryResult& result) {
  std::string out;
  append_tsv(result.columns, &out);
  return out;
}

struct Answer {
  std::string tsv;
  size_t parts_merged = 0;
};

// What a replica does for a subquery: bring the kept state up to date with the table's active
// parts, then finish it alone.
Answer through_cache(MergedAggregateCache& cache, const Table& table, const Query& query,
                     size_t replica = 0) {
  const std::vector<PartPtr> parts = table.active_parts();
  auto update =
      cache.begin(replica, query.fingerprint(), parts, std::move(*query.empty_result().aggregate));
  Answer answer;
  for (size_t idx = 0; idx < parts.size(); ++idx) {
    if (!update.needs(idx)) continue;
    update.add(*query.run_part(parts[idx]).aggregate);
    ++answer.parts_merged;
  }
  PartResult partial = query.empty_result();
  partial.aggregate.emplace(cache.finish(replica, query.fingerprint(), parts));
  std::vector<PartResult> one;
  one.push_back(std::move(partial));
  answer.tsv = tsv(query.finish(std::move(one)));
  return answer;
}

constexpr const char* kSql =
    "SELECT k % 5 AS b, count(), sum(k), uniqExact(k), min(t), max(k) FROM ev GROUP BY b ORDER BY "
    "b";

}  // namespace

TEST_CASE("the kept state takes in new parts only and stays exact across merges", "[merged]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t",
                             "CREATE TABLE ev (t DateTime, k UInt32) ENGINE = MergeTree() "
                             "PARTITION BY toYYYYMMDD(t) ORDER BY t");
  const auto query = Query::prepare(table->schema(), kSql);
  MergedAggregateCache cache(uint64_t{1} << 30);
  table->insert(hours(0, 10));
  table->insert(hours(10, 30));  // two days: two parts
  Answer first = through_cache(cache, *table, *query);
  CHECK(first.parts_merged == 3);
  CHECK(first.tsv == tsv(query->run(table->active_parts())));

  table->insert(hours(40, 5));
  Answer second = through_cache(cache, *table, *query);
  CHECK(second.parts_merged == 1);
  CHECK(second.tsv == tsv(query->run(table->active_parts())));

  // Merged parts hold exactly the rows of the parts they replace: nothing to merge in.
  table->optimize(true, kStart);
  REQUIRE(table->active_parts().size() == 2);
  Answer third = through_cache(cache, *table, *query);
  CHECK(third.parts_merged == 0);
  CHECK(third.tsv == second.tsv);

  // A merge that also takes a part the state has not seen yet rebuilds it.
  table->insert(hours(41, 2));
  table->optimize(true, kStart);
  Answer fourth = through_cache(cache, *table, *query);
  CHECK(fourth.parts_merged == table->active_parts().size());
  CHECK(fourth.tsv == tsv(query->run(table->active_parts())));
  CHECK(cache.rebuilds() == 1);

  // A part that disappears (here rolled back) rebuilds it too.
  table->insert(hours(50, 3));
  CHECK(through_cache(cache, *table, *query).parts_merged == 1);
  const std::string newest = table->active_parts().back()->name();
  REQUIRE(table->drop_part(newest));
  Answer fifth = through_cache(cache, *table, *query);
  CHECK(fifth.parts_merged == table->active_parts().size());
  CHECK(fifth.tsv == tsv(query->run(table->active_parts())));
  CHECK(cache.rebuilds() == 2);
}

TEST_CASE("a TTL merge that drops rows rebuilds the kept state", "[merged]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t",
                             "CREATE TABLE ev (t DateTime, k UInt32) ENGINE = MergeTree() "
                             "PARTITION BY toYYYYMM(t) ORDER BY t TTL t + INTERVAL 1 DAY");
  const auto query = Query::prepare(table->schema(), kSql);
  MergedAggregateCache cache(uint64_t{1} << 30);
  table->insert(hours(0, 30));
  table->insert(hours(30, 30));
  CHECK(through_cache(cache, *table, *query).parts_merged == 2);
  // At 2024-05-02 12:00 the first 13 hours have expired: the merged part has fewer rows.
  table->optimize(true, kStart + 36 * 3600);
  REQUIRE(table->active_parts().size() == 1);
  REQUIRE(table->active_parts()[0]->rows() == 47);
  Answer after = through_cache(cache, *table, *query);
  CHECK(after.parts_merged == 1);
  CHECK(after.tsv == tsv(query->run(table->active_parts())));
  CHECK(cache.rebuilds() == 1);
}

TEST_CASE("the kept states are bounded by their memory", "[merged]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t",
                             "CREATE TABLE ev (t DateTime, k UInt32) ENGINE = MergeTree() "
                             "PARTITION BY toYYYYMMDD(t) ORDER BY t");
  table->insert(hours(0, 100));
  const auto query = Query::prepare(table->schema(), kSql);
  MergedAggregateCache cache(1);  // room for the newest entry only
  const size_t parts = table->active_parts().size();
  for (size_t replica = 0; replica < 3; ++replica)
    CHECK(through_cache(cache, *table, *query, replica).parts_merged == parts);
  CHECK(cache.entries() == 1);
  // The newest is kept; an evicted one is built again from every part, which is no rebuild.
  CHECK(through_cache(cache, *table, *query, 2).parts_merged == 0);
  CHECK(through_cache(cache, *table, *query, 0).parts_merged == parts);
  CHECK(cache.entries() == 1);
  CHECK(cache.rebuilds() == 0);
  CHECK(cache.weight() > 0);
}
