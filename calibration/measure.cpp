#include "calibration/measure.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/vfs.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>

#include "base/errors.h"
#include "calibration/features.h"
#include "calibration/queries.h"
#include "shardlab/engine/codec.h"
#include "shardlab/engine/merge_selector.h"
#include "shardlab/engine/query.h"
#include "sim/cluster/part_result_cache.h"
#include "sim/cluster/sharding.h"
#include "workloads/engine_block.h"

namespace shardlab::calibration {

using sim::cluster::CostCoefficients;
using sim::cluster::coefficient_by_name;

namespace fs = std::filesystem;
using namespace sim::cluster;  // the cost model, sharding and partial results it measures

namespace {

using Clock = std::chrono::steady_clock;

double wall_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread: excludes time blocked in fsync.
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  SHARDLAB_ASSERT(!v.empty(), "median of nothing");
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// A fresh directory removed with everything in it on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const fs::path& parent) {
    std::string pattern = (parent / "shardlab-calibrate-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw RuntimeError(fmt::format("cannot create a work directory in '{}': {}", parent.string(),
                                     std::strerror(errno)));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// In-memory and LZ4-framed sizes of columns, as the native protocol ships blocks: each column
// compressed in chunks of at most max_compress_block_size (1 MiB).
struct WireBytes {
  uint64_t raw = 0;
  uint64_t wire = 0;

  void add_buffer(const char* data, size_t bytes) {
    constexpr size_t kChunk = 1 << 20;
    engine::PodVector<char> out;
    for (size_t at = 0; at < bytes; at += kChunk) {
      const size_t len = std::min(kChunk, bytes - at);
      out.clear();
      wire += engine::compress_block(engine::CodecSpec{}, data + at, len, 1, &out,
                                     /*allow_bit_packing=*/false);
      raw += len;
    }
  }
  void add(const std::vector<engine::Column>& columns) {
    for (const auto& c : columns) {
      add_buffer(reinterpret_cast<const char*>(c.data.data()), c.data.size());
      add_buffer(reinterpret_cast<const char*>(c.offsets.data()), c.offsets.size() * 4);
      add_buffer(c.chars.data(), c.chars.size());
    }
  }
  double ratio() const {
    return raw > 0 ? static_cast<double>(wire) / static_cast<double>(raw) : 0;
  }
};

// The three insert layouts: the case study's table, a narrow one, and one with plain strings.

class Measurer {
 public:
  Measurer(const CalibrationOptions& options, const fs::path& dir)
      : options_(options), dir_(dir), config_(make_config(options)) {}

  Measurements run() {
    Measurements out;
    out.rows = options_.rows;
    out.repeat = options_.repeat;
    out.seed = options_.seed;
    FitSystem query{"query", kQueryCoefficients, {}, {}};
    FitSystem initiator{"initiator", kInitiatorCoefficients, {"result_byte_s"}, {}};
    FitSystem insert{"insert", kInsertCoefficients, {}, {}};
    FitSystem merge{"merge", kMergeCoefficients, {}, {}};
    FitSystem split{"split", kSplitCoefficients, {}, {}};

    {
      progress(fmt::format("loading the query table ({} rows)", options_.rows));
      auto table = engine::Table::create(dir_ / "query_table", engine::kDefaultUserBehaviorDdl);
      load_query_table(table.get(), &merge);
      const auto parts = table->active_parts();
      out.query_parts = parts.size();
      progress(fmt::format("timing {} queries on {} parts", std::size(kQueries), parts.size()));
      const double cpu0 = thread_cpu_seconds();
      const auto wall0 = Clock::now();
      for (const QuerySpec& spec : kQueries)
        measure_query(table->schema(), parts, spec, &query, &initiator);
      out.query_cpu_over_wall = (thread_cpu_seconds() - cpu0) / wall_since(wall0);
    }
    out.wire_ratio_results = result_wire_.ratio();
    for (const Layout& layout : {Layout{"user_behavior", engine::kDefaultUserBehaviorDdl},
                                 Layout{"narrow", kNarrowDdl}, Layout{"strings", kStringsDdl}}) {
      progress(fmt::format("timing inserts and merges into the {} layout", layout.name));
      measure_writes(layout, &insert, &merge);
    }
    out.wire_ratio_inserts = insert_wire_.ratio();
    progress("timing shard splits");
    measure_splits(&split);
    out.systems = {std::move(query), std::move(initiator), std::move(insert), std::move(merge),
                   std::move(split)};
    return out;
  }

 private:
  static workloads::GeneratorConfig make_config(const CalibrationOptions& options) {
    workloads::GeneratorConfig config;
    config.seed = options.seed;
    config.total_rows = options.rows;
    workloads::validate(config);
    return config;
  }

  void progress(const std::string& message) const {
    if (options_.progress) options_.progress(message);
  }

  // Batches from rows/16 down to rows/1024 in turn, with the merge selector run after each
  // insert as ClickHouse's background pool would: the parts end up of many sizes, as on a
  // replica that is ingesting. The selector's merges are timed too.
  void load_query_table(engine::Table* table, FitSystem* merge) {
    workloads::EngineBlockSource source(config_, table->schema());
    const uint64_t n = options_.rows;
    const uint64_t batches[] = {n / 16, n / 64, n / 256, n / 1024};
    engine::Block block;
    uint64_t done = 0;
    for (size_t idx = 0; done < n; ++idx) {
      const uint64_t count = std::min(std::max<uint64_t>(batches[idx % 4], 256), n - done);
      source.fill(done, count, &block);
      table->insert(block);
      done += count;
      while (auto plan = table->select_merge()) {
        merge->rows.push_back(time_merge(table->schema(), *plan, "selector", "query table"));
        table->merge(*plan, 0);
      }
    }
  }

  // Runs `plan` warm-up + repeat times into a scratch directory (the table is not changed).
  Measurement time_merge(const engine::TableSchema& schema, const engine::MergePlan& plan,
                         const std::string& shape, const std::string& where) {
    const fs::path out = dir_ / "merge_out";
    std::vector<double> times;
    engine::MergeProfile profile;
    for (unsigned run = 0; run <= options_.repeat; ++run) {
      fs::remove_all(out);
      bool empty = false;
      const double start = thread_cpu_seconds();
      profile = engine::merge_parts(schema, plan, out, nullptr, 0, &empty);
      const double seconds = thread_cpu_seconds() - start;
      if (run > 0) times.push_back(seconds);
    }
    fs::remove_all(out);
    return {fmt::format("{}: merge of {} parts, {} rows", where, profile.parts, profile.rows_read),
            shape,
            merge_features(profile),
            {},
            median(std::move(times))};
  }

  // The initiator's finish() over the partials of `set`, each as one shard's partial result.
  engine::QueryResult time_finish(const engine::Query& query,
                                  const std::vector<engine::PartResult>& partials,
                                  const std::vector<size_t>& set, double* seconds) const {
    std::vector<double> times;
    engine::QueryResult result;
    for (unsigned run = 0; run <= options_.repeat; ++run) {
      // finish() consumes its inputs: copies, made outside the timed region.
      std::vector<engine::PartResult> inputs;
      for (size_t part_idx : set) {
        inputs.push_back(query.empty_result());
        PartResultCache::accumulate(partials[part_idx], &inputs.back());
      }
      const auto start = Clock::now();
      engine::QueryResult finished = query.finish(std::move(inputs));
      if (run > 0) times.push_back(wall_since(start));
      result = std::move(finished);
    }
    *seconds = median(std::move(times));
    return result;
  }

  // The sets of parts a replica might hold: each part, each partition, all of them.
  struct PartSet {
    std::string label;
    std::vector<size_t> parts;
  };
  static std::vector<PartSet> part_sets(const std::vector<engine::PartPtr>& parts) {
    std::vector<PartSet> sets;
    std::map<std::string, std::vector<size_t>> by_partition;
    for (size_t part_idx = 0; part_idx < parts.size(); ++part_idx) {
      sets.push_back({parts[part_idx]->name(), {part_idx}});
      by_partition[parts[part_idx]->info().partition_id].push_back(part_idx);
    }
    for (const auto& [partition, members] : by_partition)
      if (members.size() > 1) sets.push_back({"partition " + partition, members});
    if (by_partition.size() > 1) {
      PartSet all{"all parts", {}};
      for (size_t part_idx = 0; part_idx < parts.size(); ++part_idx) all.parts.push_back(part_idx);
      sets.push_back(std::move(all));
    }
    return sets;
  }

  void measure_query(const engine::TableSchema& schema, const std::vector<engine::PartPtr>& parts,
                     const QuerySpec& spec, FitSystem* query_system, FitSystem* initiator) {
    const unsigned repeat = options_.repeat;
    std::vector<double> times;
    std::unique_ptr<engine::Query> query = engine::Query::prepare(schema, spec.sql);
    for (unsigned run = 0; run < repeat; ++run) {
      const auto start = Clock::now();
      auto prepared = engine::Query::prepare(schema, spec.sql);
      times.push_back(wall_since(start));
    }
    const double prepare_s = median(times);

    // A replica runs a subquery in one pass over its parts, as the engine's run() does on one
    // thread. Sets in turn, so a run finds its parts in the page cache but not in the CPU caches
    // from its own previous run.
    const std::vector<PartSet> sets = part_sets(parts);
    std::vector<std::vector<engine::PartPtr>> set_parts;
    for (const PartSet& set : sets) {
      set_parts.emplace_back();
      for (size_t part_idx : set.parts) set_parts.back().push_back(parts[part_idx]);
    }
    std::vector<engine::WorkProfile> profiles(sets.size());
    std::vector<std::vector<double>> run_times(sets.size());
    for (unsigned run = 0; run <= repeat; ++run) {
      for (size_t set_idx = 0; set_idx < sets.size(); ++set_idx) {
        const auto start = Clock::now();
        engine::QueryResult result = query->run(set_parts[set_idx], 1);
        if (run > 0) run_times[set_idx].push_back(wall_since(start));
        if (run == 0) profiles[set_idx] = result.profile;
      }
    }

    // What the cluster sees of a replica's answer: the per-part partials accumulated.
    std::vector<engine::PartResult> partials;
    for (const auto& part : parts) partials.push_back(query->run_part(part));
    for (size_t set_idx = 0; set_idx < sets.size(); ++set_idx) {
      const PartSet& set = sets[set_idx];
      const std::string label = fmt::format("{} on {}", spec.name, set.label);
      engine::PartResult replica = query->empty_result();
      for (size_t part_idx : set.parts) PartResultCache::accumulate(partials[part_idx], &replica);
      engine::WorkProfile profile = profiles[set_idx];
      profile.groups = replica.aggregate ? replica.aggregate->groups() : 0;
      profile.result_bytes = partial_result_bytes(replica);
      query_system->rows.push_back({label,
                                    spec.shape,
                                    query_features(profile),
                                    {},
                                    prepare_s + median(std::move(run_times[set_idx]))});

      double finish_s = 0;
      const engine::QueryResult result = time_finish(*query, partials, set.parts, &finish_s);
      uint64_t groups_merged = 0, rows_merged = 0;
      for (size_t part_idx : set.parts) {
        const engine::PartResult& partial = partials[part_idx];
        if (partial.aggregate) groups_merged += partial.aggregate->groups();
        if (!partial.rows.empty()) rows_merged += partial.rows.front().rows;
      }
      // The initiator analyses the query too, then merges and answers.
      initiator->rows.push_back({label,
                                 spec.shape,
                                 initiator_features(groups_merged, rows_merged),
                                 {static_cast<double>(result.profile.result_bytes)},
                                 prepare_s + finish_s});
      if (set.label == "all parts") result_wire_.add(result.columns);
    }
  }

  // Rows [first, first + count), or `count` rows spread over the seven days (one slice from
  // the middle of each), so an insert writes one part or one per day.
  engine::Block make_block(workloads::EngineBlockSource* source, uint64_t count, bool spread) {
    const auto& gen = source->generator();
    engine::Block block;
    if (!spread) {
      const uint64_t first =
          std::min(gen.first_row_at(gen.start() + 86400 * 3 / 2), gen.total_rows() - count);
      source->fill(first, count, &block);
      return block;
    }
    const int days = static_cast<int>((gen.end() - gen.start()) / 86400);
    engine::Block slice;
    for (int day = 0; day < days; ++day) {
      const uint64_t share = count / days + (day < static_cast<int>(count % days) ? 1 : 0);
      const uint64_t first =
          std::min(gen.first_row_at(gen.start() + 86400 * day + 43200), gen.total_rows() - share);
      source->fill(first, share, day == 0 ? &block : &slice);
      if (day == 0) continue;
      for (size_t col = 0; col < block.columns.size(); ++col)
        engine::append_column(&block.columns[col], slice.columns[col]);
    }
    return block;
  }

  std::vector<uint64_t> batch_sizes() const {
    std::vector<uint64_t> sizes;
    for (uint64_t size = 100; size <= 1'000'000 && size <= options_.rows; size *= 10)
      sizes.push_back(size);
    return sizes;
  }

  void measure_writes(const Layout& layout, FitSystem* insert, FitSystem* merge) {
    auto table = engine::Table::create(dir_ / fmt::format("writes_{}", layout.name), layout.ddl);
    workloads::EngineBlockSource source(config_, table->schema());
    const bool count_wire = std::string_view(layout.name) == "user_behavior";
    for (uint64_t size : batch_sizes()) {
      for (bool spread : {false, true}) {
        const engine::Block block = make_block(&source, size, spread);
        if (count_wire) insert_wire_.add(block.columns);
        std::vector<double> times;
        engine::InsertResult result;
        for (unsigned run = 0; run <= options_.repeat; ++run) {
          const double start = thread_cpu_seconds();
          result = table->insert(block);
          if (run > 0) times.push_back(thread_cpu_seconds() - start);
        }
        insert->rows.push_back({fmt::format("{}: insert of {} rows ({} parts)", layout.name, size,
                                            result.parts.size()),
                                fmt::format("{} rows", size),
                                insert_features(result),
                                {},
                                median(std::move(times))});
      }
    }
    // Merges of runs of 2 and 5 parts at four places, and of every part, in three partitions.
    // Parts lie in insertion order, so the places give merges from tiny to large parts.
    std::map<std::string, std::vector<engine::PartPtr>> by_partition;
    for (const auto& part : table->active_parts())
      by_partition[part->info().partition_id].push_back(part);
    std::vector<const std::vector<engine::PartPtr>*> chosen;
    for (const auto& [id, parts] : by_partition) chosen.push_back(&parts);
    if (chosen.size() > 3) chosen = {chosen.front(), chosen[chosen.size() / 2], chosen.back()};
    for (const auto* parts : chosen) {
      std::vector<std::pair<std::string, std::vector<engine::PartPtr>>> runs;
      for (size_t width : {size_t{2}, size_t{5}}) {
        if (parts->size() < width) continue;
        for (size_t q = 0; q < 4; ++q) {
          const size_t first = q * (parts->size() - width) / 3;
          runs.push_back({fmt::format("{} parts", width),
                          {parts->begin() + static_cast<std::ptrdiff_t>(first),
                           parts->begin() + static_cast<std::ptrdiff_t>(first + width)}});
        }
      }
      if (parts->size() > 5) runs.push_back({"all parts", *parts});
      for (auto& [shape, run] : runs)
        merge->rows.push_back(time_merge(table->schema(), engine::plan_for_parts(std::move(run)),
                                         shape, layout.name));
    }
  }

  // The strategies ClickHouse users shard by (jump hash, shardlab's resharding comparison point,
  // is left out), over the batch sizes of the inserts.
  void measure_splits(FitSystem* split) {
    const auto schema = engine::TableSchema::from_ddl(engine::kDefaultUserBehaviorDdl);
    workloads::EngineBlockSource source(config_, schema);
    std::vector<ShardingSpec> specs(5);
    specs[0].kind = ShardingKind::kHash;
    specs[0].key = "cityHash64(user_id)";
    specs[0].shards = 8;
    specs[1].kind = ShardingKind::kHash;
    specs[1].key = "intHash64(user_id)";
    specs[1].shards = 4;
    specs[1].weights = {1, 2, 1, 1};
    specs[2].kind = ShardingKind::kRange;
    specs[2].key = "toDate(event_time)";
    specs[2].shards = 3;
    specs[2].range_bounds = {"2024-05-03", "2024-05-05"};
    specs[3].kind = ShardingKind::kList;
    specs[3].key = "province";
    specs[3].shards = 3;
    specs[3].lists = {{"北京", "上海"}, {"广东", "浙江", "江苏"}, {}};
    specs[3].default_shard = 2;
    specs[4].kind = ShardingKind::kRandom;
    specs[4].shards = 6;
    for (const ShardingSpec& spec : specs) {
      const ShardingScheme scheme(schema, spec);
      const std::string shape = spec.key.empty()
                                    ? std::string(sharding_kind_name(spec.kind))
                                    : fmt::format("{} {}", sharding_kind_name(spec.kind), spec.key);
      for (uint64_t size : batch_sizes()) {
        const engine::Block block = make_block(&source, size, false);
        std::vector<double> times;
        for (unsigned run = 0; run <= options_.repeat; ++run) {
          const auto start = Clock::now();
          const auto shards = scheme.split(block, options_.seed, run);
          if (run > 0) times.push_back(wall_since(start));
        }
        split->rows.push_back(
            {fmt::format("split of {} rows, {} over {} shards", size, shape, spec.shards),
             shape,
             split_features(size),
             {},
             median(std::move(times))});
      }
    }
  }

  const CalibrationOptions& options_;
  fs::path dir_;
  workloads::GeneratorConfig config_;
  WireBytes insert_wire_;
  WireBytes result_wire_;
};

}  // namespace

namespace {

bool is_tmpfs(const fs::path& dir) {
  constexpr decltype(statfs::f_type) kTmpfsMagic = 0x01021994;
  struct statfs info {};
  return ::statfs(dir.c_str(), &info) == 0 && info.f_type == kTmpfsMagic;
}

// /dev/shm when it is a tmpfs with room for the tables (about 16 bytes a row on disk at most,
// twice over), else the system's temporary directory.
fs::path default_work_dir(const CalibrationOptions& options) {
  const fs::path shm = "/dev/shm";
  std::error_code ec;
  if (!fs::is_directory(shm, ec) || !is_tmpfs(shm)) return fs::temp_directory_path();
  const uint64_t insert_rows = uint64_t{3} * 2 * (options.repeat + 1) * 1'111'100;
  const uint64_t needed = 2 * 16 * (options.rows + insert_rows);
  const auto space = fs::space(shm, ec);
  return !ec && space.available >= needed ? shm : fs::temp_directory_path();
}

}  // namespace

Measurements measure(const CalibrationOptions& options) {
  if (options.rows < 10'000)
    throw InputError(fmt::format("calibration: rows must be at least 10000, got {}", options.rows));
  if (options.repeat < 1 || options.repeat > kMaxRepeat)
    throw InputError(
        fmt::format("calibration: repeat must be in 1..{}, got {}", kMaxRepeat, options.repeat));
  const fs::path parent = options.work_dir.empty() ? default_work_dir(options) : options.work_dir;
  const bool tmpfs = is_tmpfs(parent);
  if (!tmpfs && options.progress)
    options.progress(fmt::format(
        "warning: '{}' is not a tmpfs: insert and merge CPU times include the kernel's fsync work",
        parent.string()));
  ScratchDir dir(parent);
  Measurements out = Measurer(options, dir.path()).run();
  out.work_dir = parent.string();
  out.work_dir_tmpfs = tmpfs;
  return out;
}

}  // namespace shardlab::calibration
