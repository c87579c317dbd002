// Microbenchmarks of the engine's hot paths: codecs, filter and aggregation kernels, and part
// writing. Run: build/bench/bench_engine
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <xxhash.h>

#include "shardlab/engine/codec.h"
#include "shardlab/engine/aggregator.h"
#include "shardlab/engine/expression.h"
#include "engine/exec/uniq_set.h"
#include "shardlab/engine/parser.h"
#include "shardlab/engine/table.h"

using namespace shardlab::engine;

namespace {

constexpr size_t kRows = 65536;

std::vector<char> ids_block(uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<char> raw(kRows * 8);
  for (size_t idx = 0; idx < kRows; ++idx) {
    const uint64_t v = 1 + rng() % 1000000;
    std::memcpy(raw.data() + idx * 8, &v, 8);
  }
  return raw;
}

void BM_Compress(benchmark::State& state) {
  const auto raw = ids_block(1);
  const CodecSpec spec{static_cast<CodecKind>(state.range(0)), 1};
  const size_t shuffle = static_cast<size_t>(state.range(1));
  PodVector<char> out;
  for (auto _ : state) {
    out.clear();
    compress_block(spec, raw.data(), raw.size(), shuffle, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
  state.counters["ratio"] = static_cast<double>(raw.size()) / static_cast<double>(out.size());
}
BENCHMARK(BM_Compress)
    ->ArgNames({"codec", "shuffle"})
    ->Args({1, 0})
    ->Args({1, 8})
    ->Args({2, 0})
    ->Args({2, 8});

void BM_Decompress(benchmark::State& state) {
  const auto raw = ids_block(2);
  const CodecSpec spec{static_cast<CodecKind>(state.range(0)), 1};
  PodVector<char> block, out;
  compress_block(spec, raw.data(), raw.size(), static_cast<size_t>(state.range(1)), &block);
  for (auto _ : state) {
    const BlockHeader h = read_block_header(block.data(), block.size(), "bench", 0);
    decompress_block(h, block.data(), &out, "bench", 0);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}
BENCHMARK(BM_Decompress)->ArgNames({"codec", "shuffle"})->Args({1, 0})->Args({1, 8})->Args({2, 8});

// A block of LowCardinality codes shaped like `action` (4 values, one of them 85% of rows),
// decoded as a byte per code under LZ4 (packed = 0, what blocks of format 3 hold) and as the
// 2-bit packed block that compress_block writes now (packed = 1).
void BM_DecodeCodes(benchmark::State& state) {
  std::mt19937 rng(5);
  std::vector<char> codes(kRows);
  for (char& c : codes) c = static_cast<char>(rng() % 100 < 85 ? 2 : rng() % 4);
  const bool packed = state.range(0) != 0;
  const CodecFunctions& lz4 = lz4_codec();
  PodVector<char> block, out;
  if (packed) {
    compress_block(CodecSpec{}, codes.data(), codes.size(), 0, &block);
  } else {
    block.resize(lz4.bound(codes.size()));
    block.resize(lz4.compress(codes.data(), codes.size(), block.data(), block.size(), 1));
  }
  out.resize(codes.size());
  for (auto _ : state) {
    if (packed) {
      const BlockHeader h = read_block_header(block.data(), block.size(), "bench", 0);
      decompress_block(h, block.data(), &out, "bench", 0);
    } else {  // what read_block_header and decompress_block did for such a block
      benchmark::DoNotOptimize(XXH3_64bits(block.data(), block.size()));
      lz4.decompress(block.data(), block.size(), out.data(), codes.size());
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * codes.size()));
  state.counters["bytes"] = static_cast<double>(block.size());
}
BENCHMARK(BM_DecodeCodes)->ArgName("packed")->Arg(0)->Arg(1);

Column low_cardinality_column(size_t dict_size, uint32_t seed) {
  std::vector<std::string> values;
  for (size_t idx = 0; idx < dict_size; ++idx) values.push_back("v" + std::to_string(1000 + idx));
  Column c(TypeId::kLowCardinality);
  c.dict = std::make_shared<Dictionary>(values);
  c.resize_fixed(kRows);
  std::mt19937 rng(seed);
  for (size_t idx = 0; idx < kRows; ++idx) c.values<uint32_t>()[idx] = rng() % dict_size;
  return c;
}

// Evaluates `sql` over kRows rows of one column named `name`.
void run_filter(benchmark::State& state, const Column& column, const std::string& name,
                const std::string& sql) {
  const std::vector<ColumnInfo> inputs{{name, column.type}};
  const ExprNodePtr pred = analyze_expression(*parse_expression(sql), inputs, sql);
  std::vector<const Column*> cols{&column};
  PodVector<uint8_t> mask(kRows);
  for (auto _ : state) {
    std::fill(mask.begin(), mask.end(), 1);
    evaluate_filter(*pred, cols, kRows, mask.data());
    benchmark::DoNotOptimize(mask.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

// WHERE province = '...' on dictionary codes.
void BM_FilterLowCardinalityEquals(benchmark::State& state) {
  run_filter(state, low_cardinality_column(34, 3), "p", "p = 'v1005'");
}
BENCHMARK(BM_FilterLowCardinalityEquals);

// WHERE t >= a AND t < b on a UInt32 DateTime column.
void BM_FilterDateTimeRange(benchmark::State& state) {
  Column t(TypeId::kDateTime);
  t.resize_fixed(kRows);
  for (size_t idx = 0; idx < kRows; ++idx)
    t.values<uint32_t>()[idx] = static_cast<uint32_t>(1714521600 + idx);
  run_filter(state, t, "t", "t >= '2024-05-01 01:00:00' AND t < '2024-05-01 10:00:00'");
}
BENCHMARK(BM_FilterDateTimeRange);

// GROUP BY a UInt64 key with count(): state.range(0) distinct keys.
void BM_AggregateCountByUInt64(benchmark::State& state) {
  Column key(TypeId::kUInt64);
  key.resize_fixed(kRows);
  std::mt19937_64 rng(4);
  for (size_t idx = 0; idx < kRows; ++idx)
    key.values<uint64_t>()[idx] = rng() % static_cast<uint64_t>(state.range(0));
  AggregateSpec count;
  count.kind = AggregateKind::kCount;
  count.result_type = TypeId::kUInt64;
  for (auto _ : state) {
    Aggregator agg({TypeId::kUInt64}, {count});
    for (int rep = 0; rep < 16; ++rep) agg.add({&key}, {nullptr}, kRows);
    benchmark::DoNotOptimize(agg.groups());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows * 16));
}
BENCHMARK(BM_AggregateCountByUInt64)->Arg(100)->Arg(100000);

// uniqExact's merge at a distributed query's initiator: eight shards' sets of about
// state.range(0) distinct values each merged into one. The values are dense ids (like user_id)
// spread over the shards at random, so the sets are disjoint as under a user_id sharding key.
void BM_UniqSetMergeShards(benchmark::State& state) {
  const auto per_shard = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(6);
  std::vector<UniqSet> shards(8);
  for (uint64_t id = 1; id <= per_shard * shards.size(); ++id) shards[rng() % 8].insert(id);
  std::vector<const UniqSet*> inputs;
  for (const UniqSet& shard : shards) inputs.push_back(&shard);
  // 0: merge() one shard after another; 1: merge_all(); 2: union_size(), which counts the
  // union without building it (what the initiator's final merge does).
  const int64_t how = state.range(1);
  for (auto _ : state) {
    if (how == 2) {
      benchmark::DoNotOptimize(UniqSet::union_size(inputs));
      continue;
    }
    UniqSet total;
    if (how == 1) {
      total.merge_all(inputs);
    } else {
      for (const UniqSet& shard : shards) total.merge(shard);
    }
    benchmark::DoNotOptimize(total.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * per_shard * 8));
}
BENCHMARK(BM_UniqSetMergeShards)
    ->ArgNames({"per_shard", "how"})
    ->ArgsProduct({{1000, 100000, 1250000}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond);

// uniqExact's per-row insert: state.range(0) distinct values drawn with repeats.
void BM_UniqSetInsert(benchmark::State& state) {
  const auto distinct = static_cast<uint64_t>(state.range(0));
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values(4 * distinct);
  for (uint64_t& v : values) v = 1 + rng() % distinct;
  for (auto _ : state) {
    UniqSet set;
    for (uint64_t v : values) set.insert(v);
    benchmark::DoNotOptimize(set.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * values.size()));
}
BENCHMARK(BM_UniqSetInsert)->Arg(1000)->Arg(1000000)->Unit(benchmark::kMillisecond);

// GROUP BY a LowCardinality key: codes map to groups through a per-dictionary table.
void BM_AggregateCountByLowCardinality(benchmark::State& state) {
  const Column c = low_cardinality_column(34, 5);
  AggregateSpec count;
  count.kind = AggregateKind::kCount;
  count.result_type = TypeId::kUInt64;
  Aggregator agg({TypeId::kLowCardinality}, {count});
  for (auto _ : state) agg.add({&c}, {nullptr}, kRows);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}
BENCHMARK(BM_AggregateCountByLowCardinality);

// Insert of a 1M-row block into a fresh table: sort, split by day, compress, fsync, rename.
void BM_WritePart(benchmark::State& state) {
  const size_t rows = 1 << 20;
  Block block;
  block.names = {"user_id", "item_id", "action", "event_time", "province", "gender"};
  Column user(TypeId::kUInt64), item(TypeId::kUInt64), t(TypeId::kDateTime);
  user.resize_fixed(rows);
  item.resize_fixed(rows);
  t.resize_fixed(rows);
  std::mt19937_64 rng(6);
  for (size_t idx = 0; idx < rows; ++idx) {
    user.values<uint64_t>()[idx] = 1 + rng() % 10000000;
    item.values<uint64_t>()[idx] = 1 + rng() % 1000000;
    t.values<uint32_t>()[idx] = static_cast<uint32_t>(1714521600 + idx * 86400 / rows);
  }
  Column action = low_cardinality_column(4, 7), province = low_cardinality_column(34, 8),
         gender = low_cardinality_column(2, 9);
  for (Column* c : {&action, &province, &gender}) {
    c->resize_fixed(rows);
    for (size_t idx = 0; idx < rows; ++idx)
      c->values<uint32_t>()[idx] = static_cast<uint32_t>(rng() % c->dict->size());
  }
  block.columns = {user, item, action, t, province, gender};
  const auto dir = std::filesystem::temp_directory_path() / "shardlab-bench-write";
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    auto table = Table::create(dir, kDefaultUserBehaviorDdl);
    state.ResumeTiming();
    table->insert(block);
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_WritePart)->Unit(benchmark::kMillisecond);

}  // namespace
