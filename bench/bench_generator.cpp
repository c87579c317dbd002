// Throughput of the user_behavior row generator and of its TabSeparated writer, at full scale
// (the default config: 7e9 rows over 7 days). main() comes from benchmark_main.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "workloads/row_generator.h"
#include "workloads/tsv_writer.h"

namespace shardlab::workloads {
namespace {

const RowGenerator& default_generator() {
  static const RowGenerator generator{GeneratorConfig{}};
  return generator;
}

// Consecutive blocks, as `shardlab gen` produces them; the stride keeps every iteration on
// fresh rows across the whole data set (all days, all hours of the curve).
void BM_Generate(benchmark::State& state) {
  const RowGenerator& generator = default_generator();
  const auto block_rows = static_cast<size_t>(state.range(0));
  const uint64_t stride = generator.total_rows() / 997;
  UserBehaviorBlock block;
  uint64_t first_row = 0;
  for (auto _ : state) {
    generator.generate(first_row, block_rows, &block);
    benchmark::DoNotOptimize(block.user_id.data());
    benchmark::ClobberMemory();
    first_row += stride;
    if (first_row + block_rows > generator.total_rows()) first_row %= stride;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(block_rows));
}
BENCHMARK(BM_Generate)->Arg(8192)->Arg(65536);

// Formatting a generated block into memory: the writer's cost without the file system.
void BM_WriteTsv(benchmark::State& state) {
  UserBehaviorBlock block;
  default_generator().generate(123'456'789, 65536, &block);
  std::string text;
  for (auto _ : state) {
    text.clear();
    append_tsv(block, &text);
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(block.size()));
}
BENCHMARK(BM_WriteTsv);

// The same through TsvWriter into /dev/null: buffer management and fwrite included.
void BM_WriteTsvFile(benchmark::State& state) {
  UserBehaviorBlock block;
  default_generator().generate(123'456'789, 65536, &block);
  std::FILE* null_file = std::fopen("/dev/null", "wb");
  if (null_file == nullptr) {
    state.SkipWithError("cannot open /dev/null");
    return;
  }
  {
    TsvWriter writer(null_file);
    for (auto _ : state) writer.write(block);
    writer.flush();
    state.SetBytesProcessed(static_cast<int64_t>(writer.bytes_formatted()));
  }
  std::fclose(null_file);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(block.size()));
}
BENCHMARK(BM_WriteTsvFile);

}  // namespace
}  // namespace shardlab::workloads
